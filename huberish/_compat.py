"""The single import point for array-api-compat helpers (and huberish's type aliases)."""

from typing import Any, TypeAlias

from array_api_compat import (
    array_namespace,
    device,
    is_array_api_obj,
    is_array_api_strict_namespace,
    is_dask_namespace,
    is_jax_namespace,
    is_numpy_namespace,
    is_torch_namespace,
    is_writeable_array,
)

__all__ = [
    "Array",
    "Namespace",
    "array_namespace",
    "device",
    "is_array_api_obj",
    "is_array_api_strict_namespace",
    "is_dask_namespace",
    "is_jax_namespace",
    "is_numpy_namespace",
    "is_torch_namespace",
    "is_writeable_array",
]

Array: TypeAlias = Any
"""Any array-API array (NumPy, CuPy, torch, JAX, Dask, array-api-strict)."""
Namespace: TypeAlias = Any
"""An array-API namespace, as returned by `array_api_compat.array_namespace`."""
