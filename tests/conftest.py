"""The `xp` fixture over every backend, and the helpers every test module shares."""

import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np
import pytest
from array_api_extra.testing import patch_lazy_xp_functions
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.register_profile(
    "ci",  # 2,000 examples per property (capped at 200 per backend where the backend is fixed)
    deadline=None,
    max_examples=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",  # the long fuzz campaign (tests/test_fuzz.py scales its examples by the profile)
    deadline=None,
    max_examples=20000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

BACKENDS = [
    "numpy",
    "array_api_strict",
    "array_api_strict:device1",
    "torch",
    "torch:cuda",
    "jax.numpy",
    "dask.array",
    "cupy",
]


def _import(library: str) -> ModuleType:
    module = pytest.importorskip(library.split(":")[0])
    if library == "cupy" and not module.is_available():
        pytest.skip("CuPy is installed but no CUDA device is usable")
    if library == "torch:cuda" and not module.cuda.is_available():
        pytest.skip("torch has no usable CUDA device")
    if library == "jax.numpy":
        import jax

        jax.config.update("jax_enable_x64", True)
    if library.startswith("array_api_strict"):
        module.set_array_api_strict_flags(api_version="2024.12")
    return module


@pytest.fixture(params=BACKENDS)
def library(request: pytest.FixtureRequest) -> str:
    """The name of the backend under test (with a ``:device`` suffix for device variants)."""
    return str(request.param)


@pytest.fixture
def xp(library: str, request: pytest.FixtureRequest) -> Iterator[ModuleType]:
    """The array namespace under test; tagged functions run jitted on JAX, lazily on Dask."""
    module = _import(library)
    namespace = array_api_compat.array_namespace(module.empty(0))
    with patch_lazy_xp_functions(request, xp=namespace):
        yield namespace


@pytest.fixture
def device(library: str, xp: ModuleType) -> Any:
    """The device to create test arrays on: a non-default one where the backend has it."""
    if library == "array_api_strict:device1":
        return xp.Device("device1")
    if library == "torch:cuda":
        return "cuda"
    return None


@pytest.fixture
def asarray(xp: ModuleType, device: Any) -> Any:
    """Convert a NumPy array (or scalar) to the backend under test, keeping its dtype."""

    def convert(value: Any, dtype: Any = None) -> Any:
        value = np.asarray(value, dtype=dtype)
        # Dask's namespace lacks float16 (an array-API optional dtype) but takes NumPy's.
        dtype = getattr(xp, value.dtype.name, value.dtype)
        return xp.asarray(value, dtype=dtype, device=device)

    return convert
