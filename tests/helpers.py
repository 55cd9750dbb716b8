"""Assertions and conversions shared by the test modules, and the lazy-backend tags.

`to_numpy` and `optional_import` are huberish's own (`huberish._interop`), shared with the
backend report.

Every public function (and class method) is tagged for `array_api_extra.testing`: a test module
that sets ``lazy_xp_modules = [huberish]`` runs them under ``jax.jit`` on JAX and fails on any
Dask graph computation.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np
import pytest
from array_api_extra.testing import assert_close as xpx_assert_close
from array_api_extra.testing import lazy_xp_function

import huberish as hb
from huberish._interop import optional_import, to_numpy

__all__ = [
    "TOLERANCE",
    "assert_close",
    "dtype_name",
    "expect_backend",
    "ignore_torch_deprecation",
    "ignore_torch_deprecation_marks",
    "optional_import",
    "to_numpy",
]

for _name in hb.__all__:
    _function = getattr(hb, _name)
    if callable(_function) and not isinstance(_function, type) and _name != "resolve_reduction":
        lazy_xp_function(_function)
for _method in ("forward", "loss_and_grad", "loss_grad_hess", "backward"):
    for _class in (hb.SmoothL1Loss, hb.HuberLoss, hb.PseudoHuberLoss):
        lazy_xp_function((_class, _method))


# torch deprecates its TorchScript APIs with the warning "`torch.jit.script` is deprecated" (and
# the same for `torch.jit.script_method`): a DeprecationWarning up to torch 2.13, a FutureWarning
# from torch 2.14. The filters name the warning by its text and accept either category.
TORCH_DEPRECATION_CATEGORIES = ("DeprecationWarning", "FutureWarning")


def ignore_torch_deprecation_marks(api: str) -> list[pytest.MarkDecorator]:
    """Filters for torch's own "`{api}` is deprecated" warning, in either category."""
    return [
        pytest.mark.filterwarnings(f"ignore:`{api}` is deprecated:{category}")
        for category in TORCH_DEPRECATION_CATEGORIES
    ]


def ignore_torch_deprecation(api: str) -> Callable[[Any], Any]:
    """A test decorator: `ignore_torch_deprecation_marks(api)` applied to the test."""

    def decorate(test: Any) -> Any:
        for mark in ignore_torch_deprecation_marks(api):
            test = mark(test)
        return test

    return decorate


def dtype_name(x: Any) -> str:
    """The dtype of a backend array as a NumPy dtype name ('float32', ...)."""
    return str(x.dtype).rsplit(".", 1)[-1].replace("'>", "")


TOLERANCE = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-12}


_EXPECTED: list[tuple[ModuleType, Any]] = []
_NUMPY = array_api_compat.array_namespace(np.empty(0))


@contextmanager
def expect_backend(xp: ModuleType, device: Any) -> Iterator[None]:
    """Within the block, `assert_close` expects results in namespace `xp` on `device`.

    The `xp` fixture sets this for its test; None is the backend's default device.
    """
    _EXPECTED.append((xp, device))
    try:
        yield
    finally:
        _EXPECTED.pop()


def _expected_backend(xp: ModuleType | None, device: Any) -> tuple[ModuleType, Any]:
    """The namespace and device a result must have: given, else the test's, else NumPy's."""
    test_xp, test_device = _EXPECTED[-1] if _EXPECTED else (_NUMPY, None)
    xp = test_xp if xp is None else xp
    if device is None and xp is test_xp:
        device = test_device
    if device is None:
        device = array_api_compat.device(xp.empty(0))
    return xp, device


def assert_close(
    actual: Any,
    expected: Any,
    *,
    dtype: str,
    rtol: float | None = None,
    magnitude: float | None = None,
    xp: ModuleType | None = None,
    device: Any = None,
) -> None:
    """`actual` (any backend) matches NumPy `expected`: namespace, device, shape, dtype, value.

    `actual` must be in namespace `xp` on `device`: by default those of the `xp` fixture's test
    (`expect_backend`), NumPy's outside one; `device` defaults to the test's device where `xp` is
    the test's namespace, else to `xp`'s default device. Values are compared in float64 by
    `array_api_extra.testing.assert_close`, which also checks namespace, shape and device.

    The absolute tolerance is ``rtol * magnitude``: by default the largest expected magnitude,
    so that entries that cancel to about 0 are judged against the size of the rest; pass the
    size of the terms that were summed where the whole result may cancel.
    """
    __tracebackhide__ = True
    xp, device = _expected_backend(xp, device)
    # before the cast below, which some namespaces (JAX's) would apply to a foreign array too
    assert array_api_compat.array_namespace(actual) is xp, (type(actual), xp)
    assert dtype_name(actual) == dtype, (dtype_name(actual), dtype)
    want = np.asarray(expected, dtype=np.float64)
    rtol = TOLERANCE[dtype] if rtol is None else rtol
    if magnitude is None:
        magnitude = float(np.max(np.abs(want[np.isfinite(want)]), initial=1.0))
    xpx_assert_close(
        xp.astype(actual, xp.float64),  # exact: the comparison is in float64, as `expected` is
        xp.asarray(want, dtype=xp.float64, device=device),
        rtol=rtol,
        atol=rtol * magnitude,
        check_device=True,
        xp=xp,
    )
