"""Assertions and conversions shared by the test modules, and the lazy-backend tags.

Every public function (and class method) is tagged for `array_api_extra.testing`: a test module
that sets ``lazy_xp_modules = [huberish]`` runs them under ``jax.jit`` on JAX and fails on any
Dask graph computation.
"""

import importlib
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np
from array_api_extra.testing import lazy_xp_function

import huberish as hb

for _name in hb.__all__:
    _function = getattr(hb, _name)
    if callable(_function) and not isinstance(_function, type) and _name != "resolve_reduction":
        lazy_xp_function(_function)
for _method in ("forward", "loss_and_grad", "loss_grad_hess", "backward"):
    for _class in (hb.SmoothL1Loss, hb.HuberLoss, hb.PseudoHuberLoss):
        lazy_xp_function((_class, _method))


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy copy of any backend's array (computing Dask graphs)."""
    if hasattr(x, "compute"):
        x = x.compute()
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    if array_api_compat.is_cupy_array(x):
        return x.get()
    if array_api_compat.is_array_api_strict_namespace(array_api_compat.array_namespace(x)):
        x = x.to_device(x.__array_namespace__().Device("CPU_DEVICE"))
    return np.asarray(x)


def dtype_name(x: Any) -> str:
    """The dtype of a backend array as a NumPy dtype name ('float32', ...)."""
    return str(x.dtype).rsplit(".", 1)[-1].replace("'>", "")


TOLERANCE = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-12}


def assert_close(
    actual: Any,
    expected: Any,
    *,
    dtype: str,
    rtol: float | None = None,
    magnitude: float | None = None,
    xp: Any = None,
) -> None:
    """`actual` (any backend) matches the NumPy `expected` in value, shape and dtype.

    The absolute tolerance is ``rtol * magnitude``: by default the largest expected magnitude,
    so that entries that cancel to about 0 are judged against the size of the rest; pass the
    size of the terms that were summed where the whole result may cancel.
    """
    if xp is not None:
        assert array_api_compat.array_namespace(actual) is xp, type(actual)
    assert dtype_name(actual) == dtype, (dtype_name(actual), dtype)
    got, want = to_numpy(actual), np.asarray(expected, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    rtol = TOLERANCE[dtype] if rtol is None else rtol
    if magnitude is None:
        magnitude = float(np.max(np.abs(want[np.isfinite(want)]), initial=1.0))
    atol = rtol * magnitude
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=rtol, atol=atol)


def import_or_none(name: str) -> ModuleType | None:
    """`name` imported, or None when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
