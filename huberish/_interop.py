"""Conversions to NumPy and optional imports, shared by the backend report and the test suite."""

import importlib
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
from array_api_compat import (
    is_array_api_strict_namespace,
    is_cupy_array,
    is_dask_array,
    is_torch_array,
)

__all__ = ["optional_import", "to_numpy"]


def optional_import(name: str) -> ModuleType | None:
    """The module `name`, or None when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def to_numpy(x: Any) -> npt.NDArray[Any]:
    """A NumPy copy of any backend's array, keeping its dtype (Dask graphs are computed)."""
    if is_dask_array(x):
        x = x.compute()  # type: ignore[no-untyped-call]  # dask is untyped
    if is_torch_array(x):
        return np.asarray(x.detach().cpu().numpy())
    if is_cupy_array(x):
        return np.asarray(x.get())
    namespace = getattr(x, "__array_namespace__", None)
    if namespace is not None and is_array_api_strict_namespace(namespace()):
        x = x.to_device(namespace().Device("CPU_DEVICE"))
    return np.asarray(x)
