"""Check every argument of a public call and normalise it into one `Request` for the kernel."""

import math
import numbers
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
    is_numpy_namespace,
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
    "check_grad_output",
    "check_operands",
    "check_threshold",
    "dtype_category",
    "normalise_axis",
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
        msg = f"`axis` must be None, an int or a tuple of ints; got {axis!r}."
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
    # float() also takes 0-d arrays (torch takes 0-d tensors too), but strings and complex: no.
    is_complex = isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real)
    if not (is_complex or isinstance(value, str | bytes)):
        try:
            return float(value)
        except (TypeError, ValueError, RuntimeError):
            pass
    msg = f"`{name}` must be a real number; got {value!r}."
    raise TypeError(msg)


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


def _namespace(arguments: dict[str, Any], *, xp: Namespace | None) -> Namespace:
    """The one namespace of the array arguments; TypeError naming any argument that is not one."""
    arrays = {}
    for name, x in arguments.items():
        if type(x) is np.ndarray or is_array_api_obj(x):
            arrays[name] = x
        elif not (name in ("input", "target", "grad_output") and _is_python_scalar(x)):
            expected = "an array" if name == "weight" else "an array or a Python int or float"
            msg = f"`{name}` must be {expected}; got {type(x).__name__}."
            raise TypeError(msg)
    if not {"input", "target"} & arrays.keys():
        msg = "At least one of `input` and `target` must be an array; got two Python scalars."
        raise TypeError(msg)
    if xp is not None:
        return xp
    if _NUMPY is not None and all(type(x) is np.ndarray for x in arrays.values()):
        return _NUMPY
    try:
        namespace = array_namespace(*arrays.values())
    except TypeError:
        libraries = ", ".join(
            f"`{name}` from {type(x).__module__.split('.')[0]}" for name, x in arrays.items()
        )
        msg = f"All array arguments must come from the same array library; got {libraries}."
        raise TypeError(msg) from None
    return _NUMPY if _NUMPY is not None and is_numpy_namespace(namespace) else namespace


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
    arguments = {"input": input, "target": target}
    if weight is not None:
        arguments["weight"] = weight
    if grad_output is not None:
        arguments["grad_output"] = grad_output
    namespace = _namespace(arguments, xp=xp)
    arrays = {name: x for name, x in arguments.items() if not _is_python_scalar(x)}
    if namespace is not _NUMPY:  # NumPy has one device
        _check_devices(arrays)
    dtypes = {name: _float_dtype(x, name, xp=namespace) for name, x in arrays.items()}

    operands = [dtypes[name] for name in ("input", "target") if name in dtypes]
    same = len(operands) == 1 or operands[0] == operands[1]
    result_dtype = operands[0] if same else namespace.result_type(*operands)

    input_shape, target_shape = _shape(input), _shape(target)
    operands_are_arrays = "input" in arrays and "target" in arrays
    if operands_are_arrays and input_shape != target_shape and grad_output is None:
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
    shape = broadcast_shapes(operands.input_shape, operands.target_shape)
    if shape is None:
        msg = (
            f"`input` of shape {operands.input_shape} and `target` of shape "
            f"{operands.target_shape} cannot be broadcast together."
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
        if _is_python_scalar(x) or x.dtype == compute_dtype:
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
        beta=_effective_beta(threshold, compute_dtype, xp=xp),
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

    Operands of one shape and the computation dtype, no `weight`, no `axis`, `grad_output` None
    or a Python scalar: nothing to cast, nothing that can fail to fit, nothing to reshape.
    """
    input, target, grad_output = operands.input, operands.target, operands.grad_output
    if not (
        axis is None
        and operands.weight is None
        and type(input) is np.ndarray
        and type(target) is np.ndarray
        and (grad_output is None or type(grad_output) is float or type(grad_output) is int)
    ):
        return None
    dtype = input.dtype
    if not (
        dtype == operands.compute_dtype
        and target.dtype == dtype
        and input.shape == shape
        and target.shape == shape
    ):
        return None
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
        _effective_beta(threshold, dtype, xp=operands.xp),
        1.0 if loss == "smooth_l1" else threshold,
        None,
        keepdims,
    )
    return result
