"""The `backend`, `xp`, `device` and `asarray` fixtures over every backend (see backends.py)."""

import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import patch_lazy_xp_functions
from backends import Backend
from helpers import expect_backend
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


def _apply_markers(request: pytest.FixtureRequest, backend: Backend) -> None:
    """Skip or xfail the test on `backend` as its markers say."""
    for capability, reason in backend.lacks.items():
        if request.node.get_closest_marker(capability) is not None:
            pytest.skip(reason)
    for name in ("skip_backend", "xfail_backend"):
        for marker in request.node.iter_markers(name):
            if not marker.args or not all(isinstance(b, Backend) for b in marker.args):
                msg = f"`{name}` takes Backend members; got {marker.args!r}"
                raise TypeError(msg)
            if set(marker.kwargs) != {"reason"}:
                msg = f"`{name}` takes one keyword, `reason`; got {sorted(marker.kwargs)}"
                raise TypeError(msg)
            if backend in marker.args:
                reason = f"{backend}: {marker.kwargs['reason']}"
                if name == "skip_backend":
                    pytest.skip(reason)
                request.applymarker(pytest.mark.xfail(reason=reason, strict=True))


@pytest.fixture(params=[b.pytest_param() for b in Backend])
def backend(request: pytest.FixtureRequest) -> Backend:
    """The backend under test; skips where it is unavailable or the test's markers say so."""
    member: Backend = request.param
    reason = member.unavailable()
    if reason is not None:
        pytest.skip(reason)
    _apply_markers(request, member)
    return member


@pytest.fixture
def xp(backend: Backend, request: pytest.FixtureRequest) -> Iterator[ModuleType]:
    """The array namespace under test; tagged functions run jitted on JAX, lazily on Dask.

    While the test runs, `helpers.assert_close` expects results in this namespace, on this
    backend's device.
    """
    namespace = backend.namespace()
    with (
        patch_lazy_xp_functions(request, xp=namespace),
        expect_backend(namespace, backend.device(namespace)),
    ):
        yield namespace


@pytest.fixture
def device(backend: Backend, xp: ModuleType) -> Any:
    """The device to create test arrays on: a non-default one where the backend has it."""
    return backend.device(xp)


@pytest.fixture
def asarray(xp: ModuleType, device: Any) -> Any:
    """Convert a NumPy array (or scalar) to the backend under test, keeping its dtype."""

    def convert(value: Any, dtype: Any = None) -> Any:
        value = np.asarray(value, dtype=dtype)
        # Dask's namespace lacks float16 (an array-API optional dtype) but takes NumPy's.
        dtype = getattr(xp, value.dtype.name, value.dtype)
        return xp.asarray(value, dtype=dtype, device=device)

    return convert
