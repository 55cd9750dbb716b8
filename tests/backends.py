"""The backends the test suite runs on, as an enum (after array-api-extra's ``tests/conftest.py``).

Each member knows its module, the device its test arrays go on, why it is unavailable on this
machine, and which capabilities it lacks. Tests never compare backend names: they take the
`backend` fixture and use its properties, or mark what they need:

- ``@pytest.mark.float16``: the test makes float16 arrays (skipped where the backend has none);
- ``@pytest.mark.skip_backend(Backend.X, ..., reason=...)``: skipped on those backends;
- ``@pytest.mark.xfail_backend(Backend.X, ..., reason=...)``: a strict xfail on those backends.
"""

import enum
from types import ModuleType
from typing import Any

import array_api_compat
import pytest

from huberish._interop import optional_import

__all__ = ["Backend"]


class Backend(enum.Enum):
    """A backend under test: its pytest id, module and device."""

    NUMPY = ("numpy", "numpy", None)
    ARRAY_API_STRICT = ("array_api_strict", "array_api_strict", None)
    ARRAY_API_STRICT_DEVICE1 = ("array_api_strict:device1", "array_api_strict", "device1")
    TORCH = ("torch", "torch", None)
    TORCH_CUDA = ("torch:cuda", "torch", "cuda")
    JAX = ("jax.numpy", "jax.numpy", None)
    DASK = ("dask.array", "dask.array", None)
    CUPY = ("cupy", "cupy", None)

    def __init__(self, id_: str, modname: str, device_name: str | None) -> None:
        self.id = id_
        """The test id, as in ``test_x[torch:cuda]`` (and ``pytest -k``)."""
        self.modname = modname
        """The module to import."""
        self.device_name = device_name
        """The non-default device the test arrays go on, or None for the default device."""

    def __str__(self) -> str:
        return self.id

    @property
    def is_strict(self) -> bool:
        """array-api-strict, on any of its devices."""
        return self.modname == "array_api_strict"

    @property
    def wraps_calls(self) -> bool:
        """Whether `patch_lazy_xp_functions` wraps tagged calls (``jax.jit``, Dask's scheduler).

        Under the wrappers, a warning's caller frame is the wrapper's, not the test's.
        """
        return self in (Backend.JAX, Backend.DASK)

    @property
    def lacks(self) -> dict[str, str]:
        """Capability (a marker name) -> why this backend lacks it (the reason of the skip)."""
        if self.is_strict:
            return {"float16": "array-api-strict has no float16"}
        return {}

    def unavailable(self) -> str | None:
        """Why this backend cannot run here (the reason of the skip), or None."""
        module = optional_import(self.modname)
        if module is None:
            return f"{self.modname} is not installed"
        if self is Backend.CUPY and not module.is_available():
            return "CuPy is installed but no CUDA device is usable"
        if self is Backend.TORCH_CUDA and not module.cuda.is_available():
            return "torch has no usable CUDA device"
        return None

    def namespace(self) -> ModuleType:
        """The backend's array namespace (set up: JAX with float64, array-api-strict at 2024.12)."""
        module = optional_import(self.modname)
        assert module is not None, self.unavailable()
        if self is Backend.JAX:
            import jax

            jax.config.update("jax_enable_x64", True)
        if self.is_strict:
            module.set_array_api_strict_flags(api_version="2024.12")
        namespace: ModuleType = array_api_compat.array_namespace(module.empty(0))
        return namespace

    def device(self, xp: ModuleType) -> Any:
        """The device to create test arrays on (None: the backend's default device)."""
        if self is Backend.ARRAY_API_STRICT_DEVICE1:
            return xp.Device(self.device_name)
        return self.device_name

    def pytest_param(self) -> Any:
        """This backend as a `pytest.param`, with its id."""
        return pytest.param(self, id=self.id)
