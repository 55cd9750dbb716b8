"""Check every argument of a public call and normalise it into one `Request` for the kernel."""

import math
import numbers
import sys
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from . import _kernel as kernel
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
    overflow_unwarned,
    rounds_to_infinity,
)
from ._kernel import LossAndGrad, LossGradHess, Request, Shape, dtype_category
from ._losses import LOSSES, LossName, coefficients
from ._reduction import Reduction, ReductionArgument, resolve_reduction
from ._warn import warn

__all__ = [
    "Operands",
    "Options",
    "broadcast_shapes",
    "check_axis",
    "check_broadcast",
    "check_grad_output",
    "check_keepdims",
    "check_operands",
    "check_threshold",
    "normalise_axis",
    "operand",
    "per_element",
    "request",
    "validate",
]


class Operands(NamedTuple):
    """The array arguments of a call, checked (types, namespace, devices, dtypes), not yet cast."""

    xp: Namespace
    input: Array  # or a Python scalar
    target: Array  # or a Python scalar
    weight: Array | None
    grad_output: Array | float | None
    input_shape: Shape
    target_shape: Shape
    input_grad_dtype: Any
    target_grad_dtype: Any
    result_dtype: Any
    compute_dtype: Any


def check_threshold(loss: LossName, threshold: Any, *, held: bool = False) -> Any:
    """`loss`'s threshold as a float: smooth L1's ``beta >= 0``, or a ``delta > 0``; a threshold
    per element (`per_element`) as it is, its dtype checked, and its entries if it is `held`
    for later calls (a class's, a module's). Each call checks the entries again, and the
    library and shape, with the operands (`request`): read once per call (on a GPU, reading
    them is a synchronisation)."""
    name, allows_zero = LOSSES[loss]
    if per_element(threshold):
        _check_plain(threshold, name=name)
        _valid_entries(threshold, loss, xp=array_namespace(threshold), read=held)
        return threshold
    value = _as_float(threshold, name=name)
    if not (value >= 0 if allows_zero else value > 0):  # (False for NaN)
        kind = "non-negative" if allows_zero else "positive"
        msg = f"`{name}` must be a {kind} number; got {value!r}."
        raise ValueError(msg)
    return value


def per_element(threshold: Any) -> bool:
    """Whether `threshold` is an array of thresholds per element: any array but a NumPy 0-d
    one or NumPy scalar (numbers, as Python's). A 0-d torch tensor or JAX array is one, so
    that it gets its derivative and may be traced."""
    if type(threshold) is float or not is_array_api_obj(threshold):
        return False
    numpy = (np.ndarray, np.generic)  # (not `|`: torch.compile cannot trace a union of types)
    return not (isinstance(threshold, numpy) and threshold.ndim == 0)


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
    # float() also takes NumPy 0-d arrays (other arrays are thresholds per element), but not
    # strings, bytes, complex, or arrays of any other dtype (a 0-d string array, a bool array)
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
    msg = f"`{name}` must be a real number; got {value!r}."
    raise TypeError(msg)


def _traced(value: Any) -> str:
    """A hint for an `axis` that JAX traced (``jax.jit`` and the transforms trace arguments):
    it shapes the computation and must be static. By module name: no framework import."""
    if not type(value).__module__.startswith("jax"):
        return ""
    return (
        " Under jax.jit or a JAX transform, pass `axis` as a static argument "
        "(jax.jit(f, static_argnames=('axis',))) or bind it with functools.partial(f, axis=...)."
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


def broadcast_shapes(*shapes: Shape) -> Shape | None:
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
    ``__array__`` (a pandas Series) becomes a NumPy array, as in SciPy, and a Dask DataFrame or
    Series a Dask array (lazily, its sizes unknown: `_shape`). NumPy masked arrays and
    sparse torch tensors raise `TypeError` naming the argument, as do lists and ``__array__``
    objects of strings or objects.
    """
    if type(x) is float or (type(x) is np.ndarray and x.dtype.kind != "O"):
        return x  # the common cases, first
    if isinstance(x, np.generic):
        return np.asarray(x)
    if isinstance(x, int) and not isinstance(x, bool):
        return _int_as_float(x)
    _check_plain(x, name=name)
    if isinstance(x, np.matrix):
        return x  # rejected by `_namespace`, as not an array
    if hasattr(x, "to_dask_array"):  # a Dask DataFrame or Series: lazily, by position
        return x.to_dask_array()
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


def _check_plain(x: Any, *, name: str) -> None:
    """NumPy masked arrays and sparse torch tensors raise `TypeError` naming the argument."""
    if isinstance(x, np.ma.MaskedArray):
        msg = (
            f"`{name}` must not be a NumPy masked array: huberish would not honour its mask; "
            "fill or drop the masked elements first (`x.filled(value)`, `x.compressed()`)."
        )
        raise TypeError(msg)
    # (COO and CSR by their flags: Dynamo's compiled backward bans reading `layout`)
    if is_torch_array(x) and (x.is_sparse or x.is_sparse_csr):
        msg = (
            f"`{name}` must be a dense (strided) tensor; got layout {x.layout}: call `.to_dense()`."
        )
        raise TypeError(msg)


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
    # (NumPy's own namespace, not the compat layer's wrappers: NumPy >= 2.1 is array-API
    # compliant, and its wrappers cost more than the whole kernel on small arrays)
    if xp is None and all(type(x) is np.ndarray for x in arrays.values()):
        return np
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
    return np if is_numpy_namespace(namespace) else namespace


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


def _shape(x: Array) -> Shape:
    """`x`'s shape, with None for a size Dask does not know (NaN, after boolean indexing): two
    unknown sizes compare equal (`_check_blocks_lazily` checks them as Dask computes)."""
    if type(x) is np.ndarray:
        return x.shape  # type: ignore[no-any-return]  # (NumPy: ints)
    if _is_python_scalar(x):
        return ()
    return tuple(None if n != n else n for n in x.shape)  # (NaN != NaN)


def _size(x: Array) -> str:
    """`x`'s shape in torch's warning: ``(torch.Size([3]))`` as torch writes it, else ``(3,)``."""
    shape = x.shape
    return str(shape) if type(shape) is tuple else f"({shape})"


def _python_scalar_in(x: float, dtype: Any, *, xp: Namespace) -> float:
    """Python float `x` as `dtype` will see it: beyond its range +-inf (NumPy's cast would warn)."""
    return math.copysign(math.inf, x) if rounds_to_infinity(x, dtype, xp=xp) else x


def _to_compute(x: Array, dtype: Any, *, xp: Namespace) -> Array:
    """An operand (or a Python scalar) as the computation `dtype` will see it."""
    if _is_python_scalar(x):  # beyond the dtype's range: its inf, as a cast gives, unwarned
        return _python_scalar_in(x, dtype, xp=xp)
    if x.dtype == dtype:
        return x
    return xp.astype(x, dtype, copy=False)


def check_keepdims(keepdims: Any) -> None:
    """`keepdims` must be a Python bool (or a NumPy bool)."""
    if not isinstance(keepdims, bool | np.bool_):
        msg = f"`keepdims` must be a bool; got {type(keepdims).__name__}."
        raise TypeError(msg)


def _check_fits(x: Array, shape: Shape, *, name: str, what: str) -> None:
    if broadcast_shapes(_shape(x), shape) != shape:
        msg = f"`{name}` of shape {_shape(x)} does not broadcast to {what} shape {shape}."
        raise ValueError(msg + _unknown_note(_shape(x), shape))


def check_grad_output(grad_output: Any) -> Any:
    """`grad_output`, unless it is None (which elsewhere means "no grad_output": a forward)."""
    if grad_output is None:
        msg = "`grad_output` must be an array or a Python int or float; got NoneType."
        raise TypeError(msg)
    return grad_output


def _check_indexes(**operands: Any) -> None:
    """pandas operands of one kind (two Series, two DataFrames) must have equal labels (index
    and columns): huberish pairs elements by position, where pandas would align them by label."""
    labelled = [
        (name, x)
        for name, x in operands.items()
        if type(x).__module__.split(".")[0] == "pandas" and hasattr(x, "axes")
    ]
    for name, x in labelled[1:]:
        first_name, first = labelled[0]
        if x.ndim == first.ndim and not all(
            a.equals(b) for a, b in zip(x.axes, first.axes, strict=True)
        ):
            msg = (
                f"`{first_name}` and `{name}` are pandas objects with different labels: "
                "huberish pairs their elements by position, pandas by label. Align them first "
                f"(`{first_name}, {name} = {first_name}.align({name}, join='inner')`), or pass "
                "`.to_numpy()` to pair them by position."
            )
            raise ValueError(msg)


def check_operands(
    input: Any, target: Any, weight: Any, grad_output: Any, *, xp: Namespace | None
) -> Operands:
    """The first checks of every call, in torch's order: argument types, the one namespace,
    devices and dtypes; then the shape-mismatch warning.

    A backward pass (given a `grad_output`) does not warn about shapes, as torch's backward ops
    do not: its forward did.
    """
    _check_indexes(input=input, target=target, weight=weight)
    arguments = {"input": operand(input, name="input"), "target": operand(target, name="target")}
    if weight is not None:
        arguments["weight"] = operand(weight, name="weight")
    if grad_output is not None:
        arguments["grad_output"] = operand(grad_output, name="grad_output")
    namespace = _namespace(arguments, xp=xp)
    input, target = arguments["input"], arguments["target"]
    weight, grad_output = arguments.get("weight"), arguments.get("grad_output")
    arrays = {name: x for name, x in arguments.items() if not _is_python_scalar(x)}
    if namespace is not np:  # NumPy has one device
        _check_devices(arrays)
    dtypes = {name: _float_dtype(x, name, xp=namespace) for name, x in arrays.items()}

    operands = [dtypes[name] for name in ("input", "target") if name in dtypes]
    same = len(operands) == 1 or operands[0] == operands[1]
    result_dtype = operands[0] if same else namespace.result_type(*operands)

    input_shape, target_shape = _shape(input), _shape(target)
    operands_are_arrays = "input" in arrays and "target" in arrays
    if (
        operands_are_arrays
        and input_shape != target_shape
        and grad_output is None
        and not (_weak_scalar(input) or _weak_scalar(target))
    ):
        warn(
            f"Using a target size {_size(target)} that is different to the input size "
            f"{_size(input)}. This will likely lead to incorrect results due to broadcasting. "
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


def check_broadcast(input_shape: Shape, target_shape: Shape) -> Shape:
    """The broadcast shape of `input` and `target` of these shapes; ValueError if they do not
    broadcast (the adapters call it before they build their `Options`, in torch's order)."""
    shape = broadcast_shapes(input_shape, target_shape)
    if shape is None:
        msg = (
            f"`input` of shape {input_shape} and `target` of shape {target_shape} "
            "cannot be broadcast together."
        )
        raise ValueError(msg + _unknown_note(input_shape, target_shape))
    return shape


def _unknown_note(*shapes: Shape) -> str:
    """Why shapes with unknown sizes (None) do not broadcast, and what to do about it."""
    if not any(None in shape for shape in shapes):
        return ""
    return (
        " A size Dask does not know (None: after boolean indexing) broadcasts only against 1 or "
        "another unknown size, which Dask checks when it computes: index every operand with the "
        "same mask, or call `x.compute_chunk_sizes()` first."
    )


class Options(NamedTuple):
    """A loss and its validated options: build with `Options.build`, then call the methods.

    Hashable and immutable, so that it can be a static argument of ``jax.custom_jvp`` and a
    constant for ``torch.compile``. The methods validate the operands (and `axis` against their
    shape) and run the kernel; the options themselves are not checked again.
    """

    loss: LossName
    """``'smooth_l1'``, ``'huber'`` or ``'pseudo_huber'``."""
    threshold: Any
    """Smooth L1's `beta`, or the `delta` of Huber and pseudo-Huber: a float, an array per
    element (not hashable: the adapters pass it with each call, `threshold=` of `prepare`), or
    None where it comes with each call."""
    reduction: Reduction
    """``'none'``, ``'mean'`` or ``'sum'``."""
    axis: int | tuple[int, ...] | None = None
    """The axes that 'mean' and 'sum' reduce, as given (their range depends on the operands)."""
    keepdims: bool = False
    """Whether the reduced axes are kept, with size 1."""

    @classmethod
    def build(
        cls,
        loss: LossName,
        threshold: Any,
        *,
        reduction: ReductionArgument = "mean",
        size_average: Any = None,
        reduce: Any = None,
        axis: Any = None,
        keepdims: Any = False,
        held: bool = False,
    ) -> "Options":
        """Validate the options, in torch's order: the reduction (torch's legacy arguments
        included, with their warnings), the types of `axis`, `keepdims`, then the threshold
        (`held`: kept for later calls, see `check_threshold`)."""
        resolved = resolve_reduction(size_average, reduce, reduction)
        check_axis(axis, reduction=resolved)  # (the range: at each call, `normalise_axis`)
        check_keepdims(keepdims)
        threshold = check_threshold(loss, threshold, held=held)
        return cls(loss, threshold, resolved, axis, bool(keepdims))

    def split(self) -> tuple["Options", Any]:
        """These options without a threshold per element (None in its place: hashable), and
        that threshold (None if it is a number), for the adapters to pass with each call."""
        if not per_element(self.threshold):
            return self, None
        return self._replace(threshold=None), self.threshold

    def changed(self, **settings: Any) -> "Options":
        """These options with `settings` (by their argument names: ``beta`` or ``delta``,
        ``reduction``, ``axis``, ``keepdims``) given anew, validated as `build` does."""
        current = {
            self.threshold_name: self.threshold,
            "reduction": self.reduction,
            "axis": self.axis,
            "keepdims": self.keepdims,
            **settings,
        }
        threshold = current.pop(self.threshold_name)
        return Options.build(self.loss, threshold, **current, held=True)

    @property
    def threshold_name(self) -> str:
        """The name of the threshold argument: ``'beta'`` for smooth L1, else ``'delta'``."""
        return LOSSES[self.loss].threshold

    def prepare(
        self,
        input: ArrayT | float,
        target: ArrayT | float,
        weight: Any = None,
        grad_output: Any = None,
        **extra: Any,
    ) -> Request[ArrayT]:
        """The validated request for these operands (`grad_output` for a backward pass);
        `extra`: `where`, `avg_factor` and `xp`, as the public functions take them, and a
        `threshold` per element given with this call."""
        threshold = extra.pop("threshold", None)
        return validate(
            self.loss,
            self.threshold if threshold is None else threshold,
            input,
            target,
            weight,
            grad_output,
            reduction=self.reduction,
            axis=self.axis,
            keepdims=self.keepdims,
            **extra,
        )

    def forward(
        self, input: ArrayT | float, target: ArrayT | float, weight: Any = None, **extra: Any
    ) -> ArrayT:
        """The loss."""
        return kernel.loss(self.prepare(input, target, weight, **extra))

    def loss_and_grad(
        self, input: ArrayT | float, target: ArrayT | float, weight: Any = None, **extra: Any
    ) -> LossAndGrad[ArrayT]:
        """The loss and its gradient with respect to `input`."""
        return kernel.loss_and_grad(self.prepare(input, target, weight, **extra))

    def loss_grad_hess(
        self, input: ArrayT | float, target: ArrayT | float, weight: Any = None, **extra: Any
    ) -> LossGradHess[ArrayT]:
        """The loss, its gradient and its Hessian diagonal with respect to `input`."""
        return kernel.loss_grad_hess(self.prepare(input, target, weight, **extra))

    def backward(
        self,
        grad_output: Any,
        input: ArrayT | float,
        target: ArrayT | float,
        weight: Any = None,
        **extra: Any,
    ) -> tuple[ArrayT, ArrayT]:
        """The gradients of ``sum(grad_output * loss)`` for `input` and `target`."""
        check_grad_output(grad_output)
        return kernel.backward(self.prepare(input, target, weight, grad_output, **extra))


def validate(
    loss: LossName,
    threshold: Any,
    input: ArrayT | float,
    target: ArrayT | float,
    weight: Any = None,
    grad_output: Any = None,
    *,
    size_average: Any = None,
    reduce: Any = None,
    reduction: ReductionArgument,
    axis: Any,
    keepdims: Any,
    xp: Namespace | None = None,
    where: Any = None,
    avg_factor: Any = None,
) -> Request[ArrayT]:
    """Validate a public function's call, options included, in torch's order of checks.

    Order: argument types and dtypes; the shape-mismatch warning; legacy arguments;
    broadcasting; the reduction string; `axis`; `keepdims`; the threshold; the range of `axis`;
    `weight` and `grad_output` against the shapes; then `where` and `avg_factor`.

    The outcome for NumPy arrays of one shape is remembered (`_key`): the checks depend only on
    the arrays' dtypes and shapes and on the options, so a call like one seen before reuses its
    request with the new arrays.
    """
    key = None
    if size_average is None and reduce is None and xp is None and where is avg_factor is None:
        key = _key(loss, threshold, input, target, weight, grad_output, reduction, axis, keepdims)
    if key is not None and (known := _VALIDATED.get(key)) is not None:
        if grad_output is not None:  # (a scalar, see `_key`)
            grad_output = operand(grad_output, name="grad_output")
            grad_output = _to_compute(grad_output, known.compute_dtype, xp=known.xp)
        return known.with_operands(input, target, weight, grad_output)
    operands = check_operands(input, target, weight, grad_output, xp=xp)
    if size_average is not None or reduce is not None:  # torch: legacy, then broadcasting
        reduction = resolve_reduction(size_average, reduce, reduction)
    shape = check_broadcast(operands.input_shape, operands.target_shape)
    options = Options.build(loss, threshold, reduction=reduction, axis=axis, keepdims=keepdims)
    result = request(operands, shape, options, where=where, avg_factor=avg_factor)
    if (
        key is not None
        and result.input is input
        and result.target is target
        and result.weight is weight  # (nothing cast)
    ):
        if len(_VALIDATED) >= 256:
            _VALIDATED.clear()
        _VALIDATED[key] = result.with_operands(None, None, None, None)  # (no array kept alive)
    return result


_VALIDATED: dict[tuple[Any, ...], Request[Any]] = {}
"""`_key` of a call -> its request, without its arrays."""


def _key(
    loss: LossName,
    threshold: Any,
    input: Any,
    target: Any,
    weight: Any,
    grad_output: Any,
    reduction: Any,
    axis: Any,
    keepdims: Any,
) -> tuple[Any, ...] | None:
    """What a call's checks depend on, for NumPy arrays of one shape, a scalar `grad_output` if
    any (a Python number, a NumPy scalar or 0-d array) and plain options (which warn about
    nothing); None for any other call."""
    if not (
        type(input) is np.ndarray
        and type(target) is np.ndarray
        and input.shape == target.shape
        and (weight is None or type(weight) is np.ndarray)
        and (
            grad_output is None
            or _is_python_scalar(grad_output)
            or (isinstance(grad_output, np.generic | np.ndarray) and grad_output.ndim == 0)
        )
        and type(threshold) in (float, int)
        and reduction in ("none", "mean", "sum")
        and axis is None
        and type(keepdims) is bool
    ):
        return None
    return (
        loss,
        threshold,
        reduction,
        keepdims,
        input.dtype,
        input.shape,
        target.dtype,
        None if weight is None else (weight.dtype, weight.shape),
        None if grad_output is None else getattr(grad_output, "dtype", float),
    )


def _kept_axes(axis: tuple[int, ...], ndim: int, loss_ndim: int) -> tuple[slice | None, ...]:
    """The index that gives a `grad_output` of `loss_ndim` axes, for a loss reduced over `axis`
    without `keepdims`, an axis of size 1 at each reduced axis and each leading axis it lacks."""
    kept = [i for i in range(ndim) if i not in axis]
    new = set(axis) | set(kept[: len(kept) - loss_ndim])
    return tuple(None if i in new else slice(None) for i in range(ndim))


def _count(sizes: Iterable[int | None]) -> float:
    """The number of elements of these sizes: NaN if Dask does not know one of them."""
    sizes = tuple(sizes)
    return math.nan if None in sizes else math.prod(sizes)  # type: ignore[arg-type]


def request(
    operands: Operands,
    shape: Shape,
    options: Options,
    *,
    where: Any = None,
    avg_factor: Any = None,
) -> Request[Any]:
    """The request for `operands` of broadcast `shape` with validated `options`: the last
    checks (the range of `axis`, a threshold per element, `weight`, `grad_output`, `where`,
    `avg_factor`, against the shapes), and the operands cast to the computation dtype.

    A `grad_output` (or an `avg_factor`) for a loss reduced over some axes without `keepdims`
    is reshaped to keep them, so that it broadcasts against the elements. 'weighted_mean'
    without a weight is 'mean'.
    """
    xp, compute_dtype = operands.xp, operands.compute_dtype
    axis = normalise_axis(options.axis, ndim=len(shape))
    keepdims = options.keepdims
    reduction = options.reduction
    if reduction == "weighted_mean" and operands.weight is None:
        reduction = "mean"

    threshold = options.threshold
    if per_element(threshold):  # (in torch's order: the threshold, then the weight)
        threshold = _thresholds(threshold, options.loss, shape, operands)
    weight = operands.weight
    if weight is not None:
        _check_fits(weight, shape, name="weight", what="the loss")
        weight = _to_compute(weight, compute_dtype, xp=xp)
    size = _count(shape)
    count = size if axis is None else _count(shape[a] for a in axis)
    terms_of = coefficients(
        options.loss,
        threshold,
        compute_dtype,
        # (an empty 'mean' has no terms to divide: the kernel makes it NaN; an unknown count,
        # included elements or an `avg_factor`, the kernel divides by)
        divisor=(
            max(int(count), 1)
            if reduction == "mean" and count == count and where is avg_factor is None
            else 1
        ),
        xp=xp,
    )
    result: Request[Any] = Request(
        xp,
        terms_of,
        _to_compute(operands.input, compute_dtype, xp=xp),
        _to_compute(operands.target, compute_dtype, xp=xp),
        weight,
        None,
        shape,
        operands.input_shape,
        operands.target_shape,
        operands.input_grad_dtype,
        operands.target_grad_dtype,
        operands.result_dtype,
        compute_dtype,
        reduction,
        axis,
        keepdims,
        size,
        count,
    )
    grad_output = operands.grad_output
    if grad_output is not None:
        loss_shape = result.loss_shape
        _check_fits(grad_output, loss_shape, name="grad_output", what="the loss")
        grad_output = _to_compute(grad_output, compute_dtype, xp=xp)
        if axis is not None and not keepdims and not _is_python_scalar(grad_output):
            grad_output = grad_output[_kept_axes(axis, len(shape), grad_output.ndim)]
        result.grad_output = grad_output
    if where is not None:
        result.where = _mask(where, shape, operands)
    if avg_factor is not None:
        if options.reduction != "mean":
            msg = f"`avg_factor` applies to reduction='mean' only; got {options.reduction!r}."
            raise ValueError(msg)
        result.avg_factor = _factor(avg_factor, result, operands)
    if None in shape:
        _check_blocks_lazily(result)
    return result


def _mask(where: Any, shape: Shape, operands: Operands) -> Array:
    """`where`: a boolean array of the operands' library, broadcastable to the elements."""
    where = _beside_dask(operand(where, name="where"), operands.xp)
    reference = _first_array(operands)
    if _is_python_scalar(where) or not _same_library(where, reference):
        msg = (
            f"`where` must be a boolean array of the operands' library; got {type(where).__name__}."
        )
        raise TypeError(msg)
    if not operands.xp.isdtype(where.dtype, "bool"):
        msg = f"`where` must have a boolean dtype; got {where.dtype}."
        raise TypeError(msg)
    _check_fits(where, shape, name="where", what="the elements'")
    if operands.xp is not np:
        _check_devices({"input": reference, "where": where})
    return where


def _thresholds(threshold: Any, loss: LossName, shape: Shape, operands: Operands) -> Array:
    """A threshold per element: an array of the operands' library broadcastable to the
    elements, its entries checked (`_valid_entries`), cast to the computation dtype; where they
    could not be checked, invalid entries NaN."""
    name = LOSSES[loss].threshold
    xp, reference = operands.xp, _first_array(operands)
    if type(threshold) is np.ndarray and is_dask_namespace(xp):  # (its values are at hand)
        _valid_entries(threshold, loss, xp=np, read=True)
        threshold = _beside_dask(threshold, xp)
    if not _same_library(threshold, reference):
        msg = (
            f"`{name}` must be a number or an array of the operands' library; "
            f"got {type(threshold).__name__}."
        )
        raise TypeError(msg)
    _check_fits(threshold, shape, name=name, what="the elements'")
    if xp is not np:
        _check_devices({"input": reference, name: threshold})
    if None in _shape(threshold):  # (Dask: its blocks against the operands', as Dask computes)
        first_name, first = next(
            (n, x)
            for n, x in (("input", operands.input), ("target", operands.target))
            if None in _shape(x)
        )
        threshold = _checked_lazily(threshold, first, names=(name, first_name))
    valid = _valid_entries(threshold, loss, xp=xp, read=True)
    with overflow_unwarned(xp):  # (beyond the dtype's range: inf, as for a number)
        threshold = _to_compute(threshold, operands.compute_dtype, xp=xp)
    return xp.where(valid, threshold, xp.full_like(threshold, math.nan))


def _valid_entries(threshold: Array, loss: LossName, *, xp: Namespace, read: bool) -> Array:
    """Where `threshold`'s entries are valid (smooth L1's >= 0, the others' > 0), as given: an
    entry that the computation dtype rounds to 0 is valid, as a number is. A `TypeError` for a
    dtype that is not integer or real floating; if `read`, a `ValueError` for an invalid entry
    where the values are at hand (not on Dask, which would compute them, nor traced by JAX,
    batched by ``torch.func.vmap`` or compiled by ``torch.compile``)."""
    name, allows_zero = LOSSES[loss]
    if dtype_category(threshold.dtype, xp=xp) not in ("real floating", "half", "integral"):
        msg = f"`{name}` must be a number or a real array; got an array of dtype {threshold.dtype}."
        raise TypeError(msg)
    valid = threshold >= 0 if allows_zero else threshold > 0  # (False for NaN)
    if read and _values_at_hand(threshold, xp=xp):
        try:
            checked = bool(xp.all(valid))
        except RuntimeError:  # a value batched by torch.func.vmap: data-dependent
            checked = True
        if not checked:
            kind = "non-negative" if allows_zero else "positive"
            count = int(xp.sum(xp.astype(~valid, xp.float32)))
            verb = "is" if count == 1 else "are"
            msg = (
                f"`{name}` must be {kind} everywhere; {count} of its entries {verb} not "
                f"(as its dtype, {threshold.dtype}, holds them)."
            )
            raise ValueError(msg)
    return valid


def _values_at_hand(x: Array, *, xp: Namespace) -> bool:
    """Whether reading `x`'s values neither computes a graph (Dask) nor meets a tracer (JAX's
    transforms, ``torch.compile``)."""
    if is_dask_namespace(xp):
        return False
    jax = sys.modules.get("jax")
    if jax is not None and isinstance(x, jax.core.Tracer):
        return False
    torch = sys.modules.get("torch")
    return torch is None or not torch.compiler.is_compiling()


def _first_array(operands: Operands) -> Any:
    """The first of `input` and `target` that is an array (`_namespace`: one of them is)."""
    return next(x for x in (operands.input, operands.target) if not _is_python_scalar(x))


def _factor(avg_factor: Any, request: Request[Any], operands: Operands) -> Array | float:
    """`avg_factor`: a number >= 0, or an array of the operands' library
    broadcastable to the loss shape (its values checked where they are NumPy's), cast to the
    computation dtype and given the reduced axes, so that it broadcasts against the elements."""
    xp = operands.xp
    values = operand(avg_factor, name="avg_factor")
    avg_factor, reference = _beside_dask(values, xp), _first_array(operands)
    if not _is_python_scalar(avg_factor):
        if not (_same_library(avg_factor, reference) and _is_real_dtype(avg_factor)):
            msg = (
                "`avg_factor` must be a number or a real array of the operands' library; "
                f"got {type(avg_factor).__name__}."
            )
            raise TypeError(msg)
        _check_fits(avg_factor, request.loss_shape, name="avg_factor", what="the loss")
        if type(values) is not np.ndarray:
            values = 0.0  # (values of another library: unchecked, no host synchronisation)
    if not np.all(np.asarray(values) >= 0):  # (False for NaN)
        msg = f"`avg_factor` must be non-negative; got {values!r}."
        raise ValueError(msg)
    if _is_python_scalar(avg_factor):
        return float(avg_factor)
    avg_factor = _to_compute(avg_factor, request.compute_dtype, xp=xp)
    if request.axis is not None and not request.keepdims:
        index = _kept_axes(request.axis, len(request.shape), avg_factor.ndim)
        avg_factor = avg_factor[index]
    return avg_factor


def _beside_dask(x: Any, xp: Namespace) -> Any:
    """A NumPy array beside Dask operands as a Dask array (as Dask mixes them, and as
    `_namespace` takes NumPy operands); anything else as it is."""
    return xp.asarray(x) if type(x) is np.ndarray and is_dask_namespace(xp) else x


def _same_library(x: Any, other: Any) -> bool:
    """Whether array `x` comes from the library of array `other`."""
    if not is_array_api_obj(x):
        return False
    try:
        array_namespace(x, other)
    except TypeError:
        return False
    return True


def _check_blocks_lazily(request: Request[Any]) -> None:
    """Where Dask does not know sizes (after boolean indexing), check in the graph that the
    operands' blocks have equal sizes along those axes: Dask works block by block, where NumPy
    would broadcast a block of 1 (or 0) rows against any other, silently."""
    names = ("input", "target", "weight", "grad_output", "where")
    arrays = {
        name: x for name in names if (x := getattr(request, name)) is not None and None in _shape(x)
    }
    (first_name, first), *others = arrays.items()
    for name, x in others:
        setattr(request, name, _checked_lazily(x, first, names=(name, first_name)))


def _checked_lazily(x: Any, first: Any, *, names: tuple[str, str]) -> Any:
    """Dask array `x`, checked as Dask computes it to have the block sizes of `first` along
    the axes where both have sizes Dask does not know (`_check_blocks_lazily`)."""
    import dask.array as da  # (only Dask arrays have unknown sizes)

    axes = [
        -k
        for k in range(1, min(x.ndim, first.ndim) + 1)
        if _shape(x)[-k] is None and _shape(first)[-k] is None
    ]
    if any(x.numblocks[a] != first.numblocks[a] for a in axes):  # (Dask would broadcast one)
        msg = (
            f"`{names[0]}` and `{names[1]}` have sizes Dask does not know, in different "
            f"numbers of blocks ({x.numblocks} and {first.numblocks}), which cannot be "
            "checked against each other: give them the same chunks (index arrays of the "
            "same chunks with the same mask, or the same number of partitions), or call "
            "`x.compute_chunk_sizes()` first."
        )
        raise ValueError(msg)
    return da.map_blocks(  # type: ignore[no-untyped-call]  # (Dask is untyped)
        _same_sizes, x, first, axes=axes, names=names, dtype=x.dtype
    )


def _same_sizes(block: Any, first: Any, *, axes: list[int], names: tuple[str, str]) -> Any:
    if any(block.shape[a] != first.shape[a] for a in axes):
        msg = (
            f"`{names[0]}` and `{names[1]}` have sizes that differ, which Dask finds out only "
            f"as it computes (blocks of shapes {block.shape} and {first.shape}): index them with "
            "the same mask."
        )
        raise ValueError(msg)
    return block
