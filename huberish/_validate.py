"""Check every argument of a public call and normalise it into one `Request` for the kernel."""

import math
import numbers
import sys
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple

import numpy as np

from ._compat import (
    Array,
    ArrayT,
    Namespace,
    array_namespace,
    device,
    is_array_api_obj,
    is_dask_namespace,
    is_numpy_namespace,
    is_torch_array,
)
from ._reduction import Reduction
from ._terms import LossName
from ._warn import warn

__all__ = [
    "Operands",
    "Request",
    "broadcast_shape",
    "broadcast_shapes",
    "check_axis",
    "check_broadcast",
    "check_grad_output",
    "check_keepdims",
    "check_operands",
    "check_threshold",
    "dtype_category",
    "normalise_axis",
    "operand",
    "request",
]


class Operands(NamedTuple):
    """The array arguments of a call, checked (types, namespace, devices, dtypes), not yet cast."""

    xp: Namespace
    input: Array  # or a Python scalar
    target: Array  # or a Python scalar
    weight: Array | None
    grad_output: Array | float | None
    input_shape: tuple[int, ...]
    target_shape: tuple[int, ...]
    input_grad_dtype: Any
    target_grad_dtype: Any
    result_dtype: Any
    compute_dtype: Any


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs microseconds
class Request(Generic[ArrayT]):
    """A validated call: operands cast to the computation dtype, and everything the kernel needs.

    `beta` and `scale` are the kernel's (see `huberish._terms.Coefficients`): `beta` is the
    threshold as the computation dtype sees it, `scale` is 1 for smooth L1 and ``delta`` for
    Huber. `axis` is None (all axes) or a sorted tuple of axes of `shape` that 'mean' and 'sum'
    reduce. `grad_output`, for a backward pass, is reshaped to broadcast against the elements.
    `ArrayT` is the caller's array type, which the results have.
    """

    xp: Namespace
    loss: LossName
    input: Array  # or a Python scalar
    target: Array  # or a Python scalar
    weight: Array | None
    grad_output: Array | float | None
    shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    target_shape: tuple[int, ...]
    input_grad_dtype: Any
    target_grad_dtype: Any
    result_dtype: Any
    compute_dtype: Any
    reduction: Reduction
    beta: float
    scale: float
    axis: tuple[int, ...] | None
    keepdims: bool
    size: int = field(init=False)
    """Number of elements of the broadcast shape."""
    count: int = field(init=False)
    """Number of elements each reduced loss sums over (the 'mean' divisor)."""
    plain: bool = False
    """Whether this is the common call that `huberish._core` may take straight to the kernel:
    NumPy operands of one shape (at least 1-d) and dtype, the computation and result dtype, no
    `weight`, no `grad_output` or a scalar one, the loss summed over all of its (at least one)
    elements."""

    def __post_init__(self) -> None:
        self.size = math.prod(self.shape)
        self.count = self.size if self.axis is None else math.prod(self.shape[a] for a in self.axis)

    @property
    def kept_shape(self) -> tuple[int, ...]:
        """The broadcast shape with the reduced axes kept, of size 1."""
        axes = range(len(self.shape)) if self.axis is None else self.axis
        return tuple(1 if i in axes else n for i, n in enumerate(self.shape))

    @property
    def loss_shape(self) -> tuple[int, ...]:
        """Shape of the loss: the broadcast shape, reduced over `axis` unless 'none'."""
        if self.reduction == "none":
            return self.shape
        if self.keepdims:
            return self.kept_shape
        axes = range(len(self.shape)) if self.axis is None else self.axis
        return tuple(n for i, n in enumerate(self.shape) if i not in axes)


def check_threshold(loss: LossName, threshold: Any) -> float:
    """`loss`'s threshold as a float: smooth L1's ``beta >= 0``, or a ``delta > 0``."""
    return _check_beta(threshold) if loss == "smooth_l1" else _check_delta(threshold)


def _check_beta(beta: Any) -> float:
    """Return `beta` as a float; raise unless it is a non-negative real number."""
    value = _as_float(beta, name="beta")
    if not value >= 0:  # also catches NaN
        msg = f"`beta` must be a non-negative number; got {value!r}."
        raise ValueError(msg)
    return value


def _check_delta(delta: Any) -> float:
    """Return `delta` as a float; raise unless it is a positive real number."""
    value = _as_float(delta, name="delta")
    if not value > 0:  # also catches NaN
        msg = f"`delta` must be a positive number; got {value!r}."
        raise ValueError(msg)
    return value


def check_axis(axis: Any, *, reduction: Reduction) -> None:
    """Check the types of `axis`, and that `reduction` reduces (their range: `normalise_axis`)."""
    if axis is None:
        return
    if reduction == "none":
        msg = f"`axis` applies to 'mean' and 'sum' only; got reduction='none', axis={axis!r}."
        raise ValueError(msg)
    axes = axis if isinstance(axis, tuple) else (axis,)
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
        msg = f"`axis` must be None, an int or a tuple of ints; got {axis!r}.{_traced(axis)}"
        raise TypeError(msg)


def normalise_axis(axis: int | tuple[int, ...] | None, *, ndim: int) -> tuple[int, ...] | None:
    """`axis` (checked by `check_axis`) as a sorted tuple of non-negative axes of an `ndim`-d
    loss, or None for all; ValueError for axes out of range or repeated."""
    if axis is None:
        return None
    axes = axis if isinstance(axis, tuple) else (axis,)
    normalised = tuple(sorted(a % ndim if -ndim <= a < ndim else ndim for a in axes))
    if ndim in normalised or len(set(normalised)) != len(normalised):
        msg = f"`axis` must be distinct axes of the {ndim}-d broadcast shape; got {axis!r}."
        raise ValueError(msg)
    return normalised


def _as_float(value: Any, *, name: str) -> float:
    if type(value) is float:  # the common case, without the `numbers` ABC checks
        return value
    # float() also takes 0-d arrays (torch takes 0-d tensors too), but strings, bytes, complex
    # and arrays of any other dtype (a 0-d string array, a bool array): no.
    is_complex = isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real)
    if not (is_complex or isinstance(value, str | bytes | bytearray | memoryview)):
        if isinstance(value, int) and not isinstance(value, bool):
            return _int_as_float(value)
        if hasattr(value, "dtype") and not _is_real_dtype(value):
            msg = f"`{name}` must be a real number; got an array of dtype {value.dtype}."
            raise TypeError(msg)
        try:
            return float(value)
        except (TypeError, ValueError, RuntimeError):
            pass
    msg = f"`{name}` must be a real number; got {value!r}.{_traced(value, name=name)}"
    raise TypeError(msg)


def _traced(value: Any, *, name: str = "axis") -> str:
    """A hint for a setting that JAX traced (``jax.jit`` and the transforms trace arguments):
    settings shape the computation and must be static. By module name: no framework import."""
    if not type(value).__module__.startswith("jax"):
        return ""
    return (
        f" Under jax.jit or a JAX transform, pass `{name}` as a static argument "
        f"(jax.jit(f, static_argnames=({name!r},))) or bind it with "
        f"functools.partial(f, {name}=...)."
    )


def _int_as_float(value: Any) -> float:
    """A Python (or NumPy) integer as the nearest float: beyond float64's range, +-inf."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _is_real_dtype(value: Any) -> bool:
    """Whether an object with a `dtype` (an array, a NumPy scalar) has an integer or real
    floating dtype."""
    dtype = value.dtype
    if isinstance(dtype, np.dtype):
        return dtype.kind in "iuf"
    try:
        xp = array_namespace(value)
        return bool(xp.isdtype(dtype, ("integral", "real floating")))
    except TypeError:
        return True  # not an array-API object: float() decides


def broadcast_shapes(*shapes: tuple[int, ...]) -> tuple[int, ...] | None:
    """The broadcast shape of `shapes`, or None if they do not broadcast together."""
    if len(set(shapes)) == 1:
        return shapes[0]
    ndim = max(map(len, shapes))
    result = []
    for sizes in zip(*[(1,) * (ndim - len(s)) + tuple(s) for s in shapes], strict=True):
        distinct = {n for n in sizes if n != 1}
        if len(distinct) > 1:
            return None
        result.append(distinct.pop() if distinct else 1)
    return tuple(result)


# NumPy >= 2.1's own namespace implements every function the kernel uses (isdtype, astype,
# clip with keywords, __array_namespace_info__), without the compat layer's Python wrappers
# (its clip costs more than the whole kernel on small arrays).
_NUMPY: Namespace | None = np if tuple(map(int, np.__version__.split(".")[:2])) >= (2, 1) else None


def _is_python_scalar(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _weak_scalar(x: Any) -> bool:
    """Whether `x` is a weakly typed 0-d array: JAX's form of a Python scalar once ``jax.jit``
    or a transform traces it. Like a Python scalar, it broadcasts without the shape warning."""
    return bool(getattr(x, "weak_type", False)) and len(_shape(x)) == 0


def operand(x: Any, *, name: str) -> Any:
    """`x` as huberish takes it, by the array API's rules (one rule for every argument).

    A NumPy scalar (`np.float64(2.5)`, huberish's own 'mean') is a 0-d NumPy array of its dtype
    (tested before the Python-scalar check: `np.float64` subclasses `float`); a Python int is
    the nearest float (+-inf beyond float64's range); a list, a tuple or an object with
    ``__array__`` (a pandas Series) becomes a NumPy array, as in SciPy. NumPy masked arrays and
    sparse torch tensors raise `TypeError` naming the argument, as do lists and ``__array__``
    objects of strings or objects.
    """
    if type(x) is float or (type(x) is np.ndarray and x.dtype.kind != "O"):
        return x  # the common cases, first
    if isinstance(x, np.generic):
        return np.asarray(x)
    if isinstance(x, int) and not isinstance(x, bool):
        return _int_as_float(x)
    if isinstance(x, np.ma.MaskedArray):
        msg = (
            f"`{name}` must not be a NumPy masked array: huberish would not honour its mask; "
            "fill or drop the masked elements first (`x.filled(value)`, `x.compressed()`)."
        )
        raise TypeError(msg)
    if isinstance(x, np.matrix):
        return x  # rejected by `_namespace`, as not an array
    # (COO and CSR by their flags: Dynamo's compiled backward bans reading `layout`)
    if is_torch_array(x) and (x.is_sparse or x.is_sparse_csr):
        msg = (
            f"`{name}` must be a dense (strided) tensor; got layout {x.layout}: call `.to_dense()`."
        )
        raise TypeError(msg)
    if isinstance(x, list | tuple) or (
        hasattr(x, "__array__") and not is_array_api_obj(x) and not isinstance(x, str | bytes)
    ):
        try:
            converted = np.asarray(x)
        except (TypeError, ValueError) as error:
            msg = f"`{name}` could not be converted to a NumPy array: {error}"
            raise TypeError(msg) from None
        if converted.dtype.kind not in "biufc":  # (bool and complex: the dtype check says so)
            msg = (
                f"`{name}` must be an array or a Python int or float; got a "
                f"{type(x).__name__} of dtype {converted.dtype}."
            )
            raise TypeError(msg)
        return converted
    return x


def _namespace(arguments: dict[str, Any], *, xp: Namespace | None) -> Namespace:
    """The one namespace of the array arguments; TypeError naming any argument that is not one.

    NumPy scalars (0-d NumPy arrays, made by `operand`) beside another library's arrays, and
    NumPy arrays beside Dask arrays, become arrays of that library (as Dask itself mixes them);
    `arguments` is updated in place.
    """
    arrays = {}
    for name, x in arguments.items():
        if type(x) is np.ndarray or (is_array_api_obj(x) and not isinstance(x, np.matrix)):
            arrays[name] = x
        elif not _is_python_scalar(x):
            msg = f"`{name}` must be an array or a Python int or float; got {type(x).__name__}."
            raise TypeError(msg)
    if not {"input", "target"} & arrays.keys():
        msg = "At least one of `input` and `target` must be an array; got two Python scalars."
        raise TypeError(msg)
    if xp is None and _NUMPY is not None and all(type(x) is np.ndarray for x in arrays.values()):
        return _NUMPY
    if xp is not None and all(_CHECKED_XP.get(type(x)) is xp for x in arrays.values()):
        return xp  # (checked before for arrays of these types: the torch adapter's calls)
    others = [x for x in arrays.values() if not isinstance(x, np.ndarray)]
    if others and len(others) < len(arrays):
        _adopt_numpy(arguments, arrays, others[0])
    try:
        namespace = array_namespace(*arrays.values())
    except TypeError:
        libraries = ", ".join(
            f"`{name}` from {type(x).__module__.split('.')[0]}" for name, x in arrays.items()
        )
        msg = f"All array arguments must come from the same array library; got {libraries}."
        raise TypeError(msg) from None
    if xp is not None:
        _check_xp(xp, namespace)
        if len({type(x) for x in arrays.values()}) == 1:
            _CHECKED_XP[type(next(iter(arrays.values())))] = xp
        return xp
    return _NUMPY if _NUMPY is not None and is_numpy_namespace(namespace) else namespace


_CHECKED_XP: dict[type, Namespace] = {}
"""Array type -> the last `xp=` given for arrays of only that type and found to be theirs."""


def _adopt_numpy(arguments: dict[str, Any], arrays: dict[str, Array], other: Array) -> None:
    """Convert NumPy 0-d arrays beside `other`'s library (and every NumPy array beside Dask)."""
    try:
        xp = array_namespace(other)
    except TypeError:
        return  # `array_namespace` below names the libraries
    for name, x in arrays.items():
        if isinstance(x, np.ndarray) and (x.ndim == 0 or is_dask_namespace(xp)):
            dtype = getattr(xp, x.dtype.name, None) if not is_dask_namespace(xp) else x.dtype
            if dtype is None:  # (a dtype the library lacks: the error names the libraries)
                continue
            arrays[name] = arguments[name] = xp.asarray(x, dtype=dtype, device=device(other))


def _check_xp(xp: Any, found: Namespace) -> None:
    """`xp` must be an array-API namespace of the arrays' library."""

    def library(namespace: Any) -> str:
        name = str(getattr(namespace, "__name__", ""))
        return name.removeprefix("array_api_compat.").split(".")[0]

    if not (hasattr(xp, "__array_api_version__") and library(xp) == library(found)):
        msg = f"`xp` must be the array-API namespace of the arrays ({found.__name__}); got {xp!r}."
        raise TypeError(msg)


def _check_devices(arrays: dict[str, Array]) -> None:
    named = [(name, device(x)) for name, x in arrays.items()]
    first_name, first = named[0]
    for name, dev in named[1:]:
        if first is not None and dev is not None and dev != first:
            msg = f"`{name}` is on device {dev}, but `{first_name}` is on device {first}."
            raise ValueError(msg)


_CATEGORIES: dict[tuple[str, Any], str] = {}


def dtype_category(dtype: Any, *, xp: Namespace) -> str:
    """'real floating', 'half' (16-bit floating), 'integral' or 'other', memoised per dtype."""
    key = (xp.__name__, dtype)  # by name: torch.compile cannot hash modules
    category = _CATEGORIES.get(key)
    if category is None:
        try:
            xp.isdtype(dtype, "real floating")
        except (TypeError, ValueError):  # a dtype outside the array API (a record array's)
            return "other"
        if xp.isdtype(dtype, "real floating"):
            category = "half" if xp.finfo(dtype).bits < 32 else "real floating"
        else:
            category = "integral" if xp.isdtype(dtype, "integral") else "other"
        _CATEGORIES[key] = category
    return category


def _float_dtype(x: Array, name: str, *, xp: Namespace) -> Any:
    """The floating dtype that `x` (the argument `name`) takes part in the computation with."""
    category = dtype_category(x.dtype, xp=xp)
    if category in ("real floating", "half"):
        return x.dtype
    if category == "integral":
        return xp.__array_namespace_info__().default_dtypes(device=device(x))["real floating"]
    msg = f"`{name}` must have an integer or real floating dtype; got {x.dtype}."
    raise TypeError(msg)


def _compute_dtype(dtype: Any, *, xp: Namespace) -> Any:
    # Half precision is computed (and reduced) in float32: in float16 the 'mean' divisor
    # 0.5 * beta * n overflows for n > 131008 (beta = 1), and sums lose their low bits.
    return xp.float32 if dtype_category(dtype, xp=xp) == "half" else dtype


def _effective_beta(beta: float, dtype: Any, *, xp: Namespace) -> float:
    """`beta` as the computation dtype sees it: below its smallest normal 0, beyond its max inf."""
    # float32 and float64 both represent every beta in this range; skip the finfo lookup.
    if beta == 0.0 or math.isinf(beta) or 1.2e-38 <= beta <= 3.4e38:
        return beta
    info = xp.finfo(dtype)  # float(): comparing with a NumPy float32 would cast beta to it
    if beta < float(info.smallest_normal):
        return 0.0
    return math.inf if beta > float(info.max) else beta


def _shape(x: Array) -> tuple[int, ...]:
    return () if _is_python_scalar(x) else tuple(x.shape)


def _python_scalar_in(x: float, dtype: Any, *, xp: Namespace) -> float:
    """Python float `x` as `dtype` will see it: beyond its range +-inf (NumPy's cast would warn)."""
    if -3.4e38 <= x <= 3.4e38:  # (in every floating dtype's range but 16-bit ones: never here)
        return x
    info = xp.finfo(dtype)  # from max to max + ulp / 2 a value rounds to max, beyond to inf
    top = float(info.max)
    if top >= sys.float_info.max:  # float64 or wider: every Python float is in range
        return x
    limit = top + 0.5 * float(info.eps) * 2.0 ** math.floor(math.log2(top))
    return math.copysign(math.inf, x) if abs(x) >= limit else x


def _check_known_shape(x: Array, *, name: str) -> None:
    """Reject arrays of unknown size (Dask's after boolean indexing) before they compute NaN."""
    if any(n is None or n != n for n in x.shape):  # (NaN != NaN)
        msg = (
            f"`{name}` has unknown dimensions (shape {tuple(x.shape)}), as Dask gives after "
            "boolean indexing; call `x.compute_chunk_sizes()` on it first."
        )
        raise ValueError(msg)


def check_keepdims(keepdims: Any) -> None:
    """`keepdims` must be a Python bool (or a NumPy bool)."""
    if not isinstance(keepdims, bool | np.bool_):
        msg = f"`keepdims` must be a bool; got {type(keepdims).__name__}."
        raise TypeError(msg)


def _check_fits(x: Array, shape: tuple[int, ...], *, name: str, what: str) -> None:
    if broadcast_shapes(_shape(x), shape) != shape:
        msg = f"`{name}` of shape {_shape(x)} does not broadcast to {what} shape {shape}."
        raise ValueError(msg)


def check_grad_output(grad_output: Any) -> Any:
    """`grad_output`, unless it is None (which elsewhere means "no grad_output": a forward)."""
    if grad_output is None:
        msg = "`grad_output` must be an array or a Python int or float; got NoneType."
        raise TypeError(msg)
    return grad_output


_SHORT_DTYPES = (np.dtype("float32"), np.dtype("float64"))
_SHORT_GRAD_OUTPUTS = (np.ndarray, np.float32, np.float64)


def _short_operands(
    input: Any, target: Any, weight: Any, grad_output: Any, *, xp: Namespace | None
) -> Operands | None:
    """`check_operands`' result for the common call, or None: go the full path.

    The common call: `input` and `target` exact `numpy.ndarray`s (no subclass, no NumPy scalar)
    of one shape and one native float32 or float64 dtype, no `weight`, no `xp`, and
    `grad_output` None, a Python float or int, or an exact `numpy.ndarray` or NumPy scalar of
    that dtype (passed on as it is, as the full checks do).
    Every check the full path makes is then true (one namespace, one device, floating dtypes,
    no shape warning), so this is a shortcut with the same result, not a second set of rules.
    """
    if not (
        _NUMPY is not None
        and type(input) is np.ndarray
        and type(target) is np.ndarray
        and weight is None
        and xp is None
    ):
        return None
    dtype = input.dtype
    if not (dtype in _SHORT_DTYPES and target.dtype == dtype and input.shape == target.shape):
        return None
    if not (
        grad_output is None
        or (type(grad_output) is float or type(grad_output) is int)
        or (type(grad_output) in _SHORT_GRAD_OUTPUTS and grad_output.dtype == dtype)
    ):
        return None
    if type(grad_output) is int:  # (the operand rule: the nearest float, inf beyond float64's)
        grad_output = _int_as_float(grad_output)
    shape = input.shape
    return Operands(
        _NUMPY, input, target, None, grad_output, shape, shape, dtype, dtype, dtype, dtype
    )


def check_operands(
    input: Any, target: Any, weight: Any, grad_output: Any, *, xp: Namespace | None
) -> Operands:
    """The first checks of every call, in torch's order: argument types, the one namespace,
    devices and dtypes; then the shape-mismatch warning.

    A backward pass (given a `grad_output`) does not warn about shapes, as torch's backward ops
    do not: its forward did.
    """
    short = _short_operands(input, target, weight, grad_output, xp=xp)
    if short is not None:
        return short
    arguments = {"input": operand(input, name="input"), "target": operand(target, name="target")}
    if weight is not None:
        arguments["weight"] = operand(weight, name="weight")
    if grad_output is not None:
        arguments["grad_output"] = operand(grad_output, name="grad_output")
    namespace = _namespace(arguments, xp=xp)
    input, target = arguments["input"], arguments["target"]
    weight, grad_output = arguments.get("weight"), arguments.get("grad_output")
    arrays = {name: x for name, x in arguments.items() if not _is_python_scalar(x)}
    if namespace is not _NUMPY:  # NumPy has one device
        _check_devices(arrays)
    dtypes = {name: _float_dtype(x, name, xp=namespace) for name, x in arrays.items()}

    operands = [dtypes[name] for name in ("input", "target") if name in dtypes]
    same = len(operands) == 1 or operands[0] == operands[1]
    result_dtype = operands[0] if same else namespace.result_type(*operands)

    for name, x in arrays.items():
        _check_known_shape(x, name=name)
    input_shape, target_shape = _shape(input), _shape(target)
    operands_are_arrays = "input" in arrays and "target" in arrays
    if (
        operands_are_arrays
        and input_shape != target_shape
        and grad_output is None
        and not (_weak_scalar(input) or _weak_scalar(target))
    ):
        warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size."
        )
    return Operands(
        xp=namespace,
        input=input,
        target=target,
        weight=weight,
        grad_output=grad_output,
        input_shape=input_shape,
        target_shape=target_shape,
        input_grad_dtype=dtypes.get("input", result_dtype),
        target_grad_dtype=dtypes.get("target", result_dtype),
        result_dtype=result_dtype,
        compute_dtype=_compute_dtype(result_dtype, xp=namespace),
    )


def broadcast_shape(operands: Operands) -> tuple[int, ...]:
    """The broadcast shape of `input` and `target`; ValueError if they do not broadcast."""
    return check_broadcast(operands.input_shape, operands.target_shape)


def check_broadcast(input_shape: tuple[int, ...], target_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The broadcast shape of `input` and `target` of these shapes; ValueError if they do not
    broadcast (the adapters call it before they build their `Options`, in torch's order)."""
    shape = broadcast_shapes(input_shape, target_shape)
    if shape is None:
        msg = (
            f"`input` of shape {input_shape} and `target` of shape {target_shape} "
            "cannot be broadcast together."
        )
        raise ValueError(msg)
    return shape


def request(
    operands: Operands,
    *,
    shape: tuple[int, ...],
    loss: LossName,
    threshold: float,
    reduction: Reduction,
    axis: tuple[int, ...] | None,
    keepdims: bool,
) -> Request[Any]:
    """The request for `operands` of broadcast `shape` and validated options (`axis`
    normalised by `normalise_axis`): the last checks (`weight`, then `grad_output`, against the
    shapes), and the operands cast to the computation dtype.

    A `grad_output` for a loss reduced over some axes without `keepdims` is reshaped to keep
    them, so that it broadcasts against the elements.
    """
    short = _short_request(
        operands,
        shape=shape,
        loss=loss,
        threshold=threshold,
        reduction=reduction,
        axis=axis,
        keepdims=keepdims,
    )
    if short is not None:
        return short
    xp, compute_dtype = operands.xp, operands.compute_dtype

    def cast(x: Array) -> Array:  # (or a Python scalar)
        if _is_python_scalar(x):  # beyond the dtype's range: its inf, as a cast gives, unwarned
            return _python_scalar_in(x, compute_dtype, xp=xp)
        if x.dtype == compute_dtype:
            return x
        return xp.astype(x, compute_dtype, copy=False)

    weight = operands.weight
    if weight is not None:
        _check_fits(weight, shape, name="weight", what="the loss")
        weight = cast(weight)
    result: Request[Any] = Request(
        xp=xp,
        loss=loss,
        input=cast(operands.input),
        target=cast(operands.target),
        weight=weight,
        grad_output=None,
        shape=shape,
        input_shape=operands.input_shape,
        target_shape=operands.target_shape,
        input_grad_dtype=operands.input_grad_dtype,
        target_grad_dtype=operands.target_grad_dtype,
        result_dtype=operands.result_dtype,
        compute_dtype=compute_dtype,
        reduction=reduction,
        # (pseudo-Huber computes with any delta; smooth L1 and Huber with the dtype's)
        beta=threshold
        if loss == "pseudo_huber"
        else _effective_beta(threshold, compute_dtype, xp=xp),
        scale=1.0 if loss == "smooth_l1" else threshold,
        axis=axis,
        keepdims=keepdims,
    )
    grad_output = operands.grad_output
    if grad_output is not None:
        loss_shape = result.loss_shape
        _check_fits(grad_output, loss_shape, name="grad_output", what="the loss")
        grad_output = cast(grad_output)
        if axis is not None and not keepdims and not _is_python_scalar(grad_output):
            grad_output = xp.broadcast_to(grad_output, loss_shape)
            grad_output = xp.reshape(grad_output, result.kept_shape)
        result.grad_output = grad_output
    return result


def _zero_d_of(x: Any, dtype: Any) -> bool:
    """Whether `x` (a NumPy array or scalar) is 0-d of `dtype`."""
    return bool(x.ndim == 0 and x.dtype == dtype)


def _short_request(
    operands: Operands,
    *,
    shape: tuple[int, ...],
    loss: LossName,
    threshold: float,
    reduction: Reduction,
    axis: tuple[int, ...] | None,
    keepdims: bool,
) -> Request[Any] | None:
    """`request`'s result for the common call (see `_short_operands`), or None.

    Operands of one shape and the computation dtype, no `weight`, no `axis`, `grad_output` None,
    a Python scalar, or (for a reduced loss) a 0-d array or NumPy scalar of that dtype: nothing
    to cast, nothing that can fail to fit, nothing to reshape.
    """
    input, target, grad_output = operands.input, operands.target, operands.grad_output
    python_grad = grad_output is None or type(grad_output) is float or type(grad_output) is int
    if not (
        axis is None
        and operands.weight is None
        and type(input) is np.ndarray
        and type(target) is np.ndarray
        and (python_grad or (reduction != "none" and type(grad_output) in _SHORT_GRAD_OUTPUTS))
    ):
        return None
    dtype = input.dtype
    if not (
        dtype == operands.compute_dtype
        and target.dtype == dtype
        and input.shape == shape
        and target.shape == shape
        and (python_grad or _zero_d_of(grad_output, dtype))
    ):
        return None
    if grad_output is not None and python_grad:  # beyond the dtype's range: its inf, as the
        grad_output = _python_scalar_in(grad_output, dtype, xp=operands.xp)  # full path gives
    result: Request[Any] = Request(
        operands.xp,
        loss,
        input,
        target,
        None,
        grad_output,
        shape,
        operands.input_shape,
        operands.target_shape,
        operands.input_grad_dtype,
        operands.target_grad_dtype,
        operands.result_dtype,
        dtype,
        reduction,
        # (pseudo-Huber computes with any delta; smooth L1 and Huber with the dtype's)
        threshold if loss == "pseudo_huber" else _effective_beta(threshold, dtype, xp=operands.xp),
        1.0 if loss == "smooth_l1" else threshold,
        None,
        keepdims,
    )
    result.plain = (
        not keepdims
        and reduction != "none"
        and len(shape) > 0
        and result.size > 0
        and dtype in _SHORT_DTYPES  # (native byte order: the kernel's results are)
        and dtype == operands.result_dtype == operands.input_grad_dtype
    )
    return result
