"""The single import point for array-api-compat helpers (and huberish's type aliases)."""

import math
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from typing import Any, TypeAlias, TypeVar

import numpy as np
from array_api_compat import (
    array_namespace,
    device,
    is_array_api_obj,
    is_array_api_strict_namespace,
    is_cupy_namespace,
    is_dask_namespace,
    is_numpy_namespace,
    is_torch_array,
)

__all__ = [
    "Array",
    "ArrayT",
    "Namespace",
    "array_namespace",
    "clip",
    "device",
    "is_array_api_obj",
    "is_array_api_strict_namespace",
    "is_dask_namespace",
    "is_numpy_namespace",
    "is_torch_array",
    "overflow_unwarned",
    "rounds_to_infinity",
    "updates_in_place",
]

Array: TypeAlias = Any
"""Any array-API array (NumPy, CuPy, torch, JAX, Dask, array-api-strict)."""
ArrayT = TypeVar("ArrayT")
"""The array type of a call's operands, which its results have (NumPy in, NumPy out)."""
Namespace: TypeAlias = Any
"""An array-API namespace, as returned by `array_api_compat.array_namespace`."""


@cache
def updates_in_place(xp: Namespace) -> bool:
    """Whether the kernel may update its own temporaries in place in namespace `xp`.

    NumPy and CuPy only: JAX and Dask arrays are immutable (in-place operators rebind), and torch
    autograd forbids modifying tensors it saved for the backward pass.
    """
    return bool(is_numpy_namespace(xp) or is_cupy_namespace(xp))


@cache
def _warns_on_overflow(xp: Namespace) -> bool:
    """Whether `xp` computes with NumPy's loops here and now (NumPy, array-api-strict), which
    warn where a result is beyond the range or inf - inf; Dask's chunks compute later."""
    return bool(is_numpy_namespace(xp) or is_array_api_strict_namespace(xp))


def overflow_unwarned(xp: Namespace) -> AbstractContextManager[Any]:
    """A context in which NumPy's arithmetic does not warn about overflow, division by zero (by
    a threshold entry that rounds to 0) or invalid values.

    The kernel's arithmetic gives inf beyond the range and NaN for inf - inf or inf * 0, as
    torch does, silently; avoiding NumPy's warnings instead would take extra passes over the
    operands (``input - target`` overflows for finite operands). Only the kernel's arithmetic
    runs in it; casts avoid their warnings by clipping first (`huberish._kernel`). NumPy's error
    state is per thread: each thread of `huberish._blocks` enters its own.
    """
    if _warns_on_overflow(xp):
        return np.errstate(over="ignore", invalid="ignore", divide="ignore")
    return nullcontext()


def clip(x: Array, low: float, high: float, *, xp: Namespace) -> Array:
    """``xp.clip(x, min=low, max=high)`` with Python-scalar bounds.

    On Dask, ``maximum`` then ``minimum``: array-api-compat's Dask ``clip`` broadcasts scalar
    bounds to full-size Dask arrays, which stops the graph from streaming (its peak memory
    grows with the operands instead of staying a few blocks).

    On a NumPy array, the array's ``clip`` method: ``numpy.clip`` is a Python wrapper around it
    (same result; benchmarks/NOTES.md, section 3).
    """
    if type(x) is np.ndarray:
        return x.clip(low, high)
    if is_dask_namespace(xp):
        return xp.minimum(xp.maximum(x, low), high)
    return xp.clip(x, min=low, max=high)


def rounds_to_infinity(x: Any, dtype: Any, *, xp: Namespace) -> Any:
    """Whether `x` (a Python float, or an array of a dtype at least as wide as `dtype`) rounds
    to +-inf when cast to the floating `dtype`: from its largest number plus half an ulp on.

    A narrowing cast of such a value warns in NumPy; the callers make it inf themselves. The
    comparison is of ``|x| - max``, in `x`'s own precision (a long double beyond float64's
    range, NaN: False).
    """
    info = xp.finfo(dtype)
    if info.bits >= 64:  # float64 or wider: nothing a caller holds rounds to inf
        return False if isinstance(x, float) else xp.isinf(x)
    top = float(info.max)
    half_ulp = math.ldexp(float(info.eps), math.frexp(top)[1] - 2)
    return abs(x) - top >= half_ulp if isinstance(x, float) else xp.abs(x) - top >= half_ulp
