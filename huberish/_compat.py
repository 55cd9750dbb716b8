"""The single import point for array-api-compat helpers (and huberish's type aliases)."""

from functools import cache
from typing import Any, TypeAlias, TypeVar

import numpy as np
from array_api_compat import (
    array_namespace,
    device,
    is_array_api_obj,
    is_cupy_namespace,
    is_dask_namespace,
    is_numpy_namespace,
)

__all__ = [
    "Array",
    "ArrayT",
    "Namespace",
    "array_namespace",
    "clip",
    "device",
    "is_array_api_obj",
    "is_dask_namespace",
    "is_numpy_namespace",
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


def clip(x: Array, low: float, high: float, *, xp: Namespace) -> Array:
    """``xp.clip(x, min=low, max=high)`` with Python-scalar bounds.

    On Dask, ``maximum`` then ``minimum``: array-api-compat's Dask ``clip`` broadcasts scalar
    bounds to full-size Dask arrays, which stops the graph from streaming (measured: 6.8 GB peak
    instead of 0.35 GB for two 1.6 GB float32 operands).

    On a NumPy array, the array's ``clip`` method: ``numpy.clip`` is a Python wrapper around it
    that costs about as much as the whole clip of a 1,000-element array (same result).
    """
    if type(x) is np.ndarray:
        return x.clip(low, high)
    if is_dask_namespace(xp):
        return xp.minimum(xp.maximum(x, low), high)
    return xp.clip(x, min=low, max=high)
