"""The kernel: difference, per-element terms, reduction, sum back to each operand's shape, cast.

It takes one validated `Request` (built by `huberish._validate`) and runs the terms of
`huberish._losses` over the whole arrays, or over cache-sized blocks on all cores for large NumPy
operands (`huberish._blocks`, the one speed plug-in).
"""

import math
from dataclasses import dataclass
from typing import Any, Generic, Literal, NamedTuple

import numpy as np

from . import _blocks as blocks
from ._compat import Array, ArrayT, Namespace, overflow_unwarned, rounds_to_infinity
from ._losses import Coefficients, weighted_terms
from ._reduction import Reduction

__all__ = [
    "LossAndGrad",
    "LossGradHess",
    "Request",
    "Shape",
    "backward",
    "derivative",
    "dtype_category",
    "evaluate",
    "loss",
    "loss_and_grad",
    "loss_grad_hess",
]

Operand = Literal["input", "target"]
Shape = tuple[int | None, ...]
"""An array's shape; None is a size that Dask knows only when it computes."""


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs microseconds
class Request(Generic[ArrayT]):
    """A validated call: operands cast to the computation dtype, and everything the kernel needs.

    `axis` is None (all axes) or a sorted tuple of axes of `shape` that 'mean' and 'sum'
    reduce. `grad_output`, for a backward pass, is reshaped to broadcast against the elements.
    `ArrayT` is the caller's array type, which the results have.
    """

    xp: Namespace
    coefficients: Coefficients
    """The loss and what its terms depend on besides the residual."""
    input: Array  # or a Python scalar
    target: Array  # or a Python scalar
    weight: Array | None
    grad_output: Array | float | None
    shape: Shape
    """The broadcast shape of `input` and `target`: the elements."""
    input_shape: Shape
    target_shape: Shape
    input_grad_dtype: Any
    target_grad_dtype: Any
    result_dtype: Any
    compute_dtype: Any
    reduction: Reduction
    axis: tuple[int, ...] | None
    keepdims: bool
    size: float
    """Number of elements (NaN where Dask does not know it)."""
    count: float
    """Number of elements each reduced loss sums over (the 'mean' divisor; NaN where Dask does
    not know it: the kernel counts them lazily)."""
    where: Array | None = None
    """The elements included (True), broadcastable to `shape`; None for all."""
    avg_factor: Array | float | None = None
    """'mean''s divisor instead of the count, broadcastable against the elements."""

    def with_operands(
        self, input: Any, target: Any, weight: Any, grad_output: Any
    ) -> "Request[Any]":
        """This request for other operands of the same dtypes and shapes, cast already."""
        return Request(
            self.xp,
            self.coefficients,
            input,
            target,
            weight,
            grad_output,
            self.shape,
            self.input_shape,
            self.target_shape,
            self.input_grad_dtype,
            self.target_grad_dtype,
            self.result_dtype,
            self.compute_dtype,
            self.reduction,
            self.axis,
            self.keepdims,
            self.size,
            self.count,
        )

    @property
    def kept_shape(self) -> Shape:
        """The broadcast shape with the reduced axes kept, of size 1."""
        axes = range(len(self.shape)) if self.axis is None else self.axis
        return tuple(1 if i in axes else n for i, n in enumerate(self.shape))

    @property
    def loss_shape(self) -> Shape:
        """Shape of the loss: the broadcast shape, reduced over `axis` unless 'none'."""
        if self.reduction == "none":
            return self.shape
        if self.keepdims:
            return self.kept_shape
        axes = range(len(self.shape)) if self.axis is None else self.axis
        return tuple(n for i, n in enumerate(self.shape) if i not in axes)


class LossAndGrad(NamedTuple, Generic[ArrayT]):
    """The loss and its gradient with respect to `input`."""

    loss: ArrayT
    """The reduced loss (0-d for 'mean' and 'sum' over all axes), or the per-element losses."""
    grad: ArrayT
    """d sum(loss) / d input, with the shape and dtype of `input`."""


class LossGradHess(NamedTuple, Generic[ArrayT]):
    """The loss, its gradient and the diagonal of its Hessian with respect to `input`."""

    loss: ArrayT
    """The reduced loss, as `LossAndGrad.loss`."""
    grad: ArrayT
    """d sum(loss) / d input, with the shape and dtype of `input`."""
    hess: ArrayT
    """d^2 sum(loss) / d input_i^2, with the shape and dtype of `input`."""


def loss(request: Request[ArrayT]) -> ArrayT:
    """The reduced loss of a validated request."""
    reduced: ArrayT = evaluate(request)[0]
    return reduced


def loss_and_grad(request: Request[ArrayT]) -> LossAndGrad[ArrayT]:
    """The loss and its gradient with respect to `input`."""
    reduced, (grad,) = evaluate(request, gradients=("input",))
    return LossAndGrad(reduced, grad)


def loss_grad_hess(request: Request[ArrayT]) -> LossGradHess[ArrayT]:
    """The loss, its gradient and its Hessian diagonal with respect to `input`."""
    reduced, (grad, hess) = evaluate(request, gradients=("input",), hessian=True)
    return LossGradHess(reduced, grad, hess)


def backward(request: Request[ArrayT]) -> tuple[ArrayT, ArrayT]:
    """The gradients of ``sum(grad_output * loss)`` for `input` and `target`."""
    _, (grad_input, grad_target) = evaluate(request, loss=False, gradients=("input", "target"))
    return grad_input, grad_target


def evaluate(
    request: Request[Any],
    *,
    loss: bool = True,
    gradients: tuple[Operand, ...] = (),
    hessian: bool = False,
) -> tuple[Array, list[Array]]:
    """The reduced loss (None unless `loss`), then the gradients with respect to each operand in
    `gradients`, then (if `hessian`) the Hessian diagonal with respect to `input`.

    The gradients are those of ``sum(grad_output * loss)`` (``request.grad_output`` defaults to
    1), summed back to each operand's shape and cast to its dtype; so is the Hessian diagonal.
    """
    xp, terms_of = request.xp, request.coefficients
    # (inf beyond the range, NaN for inf - inf: silently, as in torch; see the helper)
    with overflow_unwarned(xp):
        if not hessian and blocks.takes(request):
            reduced_loss, element_grad = blocks.evaluate(
                request.input,
                request.target,
                request.weight,
                request.grad_output,
                coefficients=terms_of,
                loss=loss,
                grad=bool(gradients),
                keep_elements=request.reduction == "none",
            )
            element_hess = None
            if reduced_loss is not None and request.reduction != "none":
                reduced_loss = _kept(reduced_loss, request)
        else:
            d, weight, _, divisor, count, terms_of = _residual(request)
            terms = weighted_terms(
                d,
                weight,
                request.grad_output,
                coefficients=terms_of,
                loss=loss,
                grad=bool(gradients),
                hess=hessian,
                divisor=divisor,
                xp=xp,
            )
            reduced_loss = None if terms.loss is None else _reduce(terms.loss, request, count)
            element_grad, element_hess = terms.grad, terms.hess
    reduced = None
    if reduced_loss is not None:
        reduced = _cast(reduced_loss, request.result_dtype, xp=xp)
        if type(reduced) is np.ndarray and reduced.ndim == 0:  # as NumPy reduces: a scalar
            reduced = reduced[()]
    results = []
    for operand in gradients:
        shape, dtype = (
            (request.input_shape, request.input_grad_dtype)
            if operand == "input"
            else (request.target_shape, request.target_grad_dtype)
        )
        g = _sum_to_shape(element_grad, shape, xp=xp)
        results.append(_cast(g if operand == "input" else -g, dtype, xp=xp))
    if hessian:
        h = _sum_to_shape(element_hess, request.input_shape, xp=xp)
        results.append(_cast(h, request.input_grad_dtype, xp=xp))
    return reduced, results


def derivative(request: Request[Any], operand: str) -> Array:
    """Per element of the broadcast shape, the derivative of the loss value it belongs to for
    `operand`: ``'weight'``, the weight there, or ``'threshold'``, a threshold per element
    there (for the adapters). The weight's:
    the element's unweighted loss over its divisor, as the loss is linear in the weight; for
    'weighted_mean', a quotient, ``(l - loss) / total``. The threshold's: its weighted term
    over its divisor. 0 at excluded elements. In the computation dtype."""
    xp, by_weight = request.xp, operand == "weight"
    with overflow_unwarned(xp):
        d, weight, included, divisor, _, terms_of = _residual(request)
        terms = weighted_terms(
            d,
            None if by_weight else weight,
            None,
            coefficients=terms_of,
            loss=by_weight,
            grad=False,
            threshold=not by_weight,
            divisor=divisor,
            xp=xp,
        )
        if not by_weight:  # (excluded elements: the weight is 0 there)
            return terms.threshold
        derivative = terms.loss
        if request.reduction == "weighted_mean" and weight is not None:  # (over the total)
            axis = tuple(range(d.ndim)) if request.axis is None else request.axis
            loss = blocks.total(weight * derivative, axis=axis, keepdims=True, xp=xp)
            derivative = derivative - loss / divisor
    return derivative if included is None else derivative * included


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


def _cast(x: Array, dtype: Any, *, xp: Namespace) -> Array:
    """`x` as `dtype`; a narrowing cast (results computed in float32 for a 16-bit dtype, a
    float64 gradient for a float32 operand) makes values beyond the range +-inf here, so that
    NumPy's cast does not warn about overflow."""
    if x.dtype == dtype:
        return x
    if xp.finfo(dtype).bits < xp.finfo(x.dtype).bits:
        x = xp.where(rounds_to_infinity(x, dtype, xp=xp), xp.copysign(math.inf, x), x)
    return xp.astype(x, dtype, copy=False)


def _reduce(element_loss: Array, request: Request[Any], count: Array | None = None) -> Array:
    """Reduce the element losses (already divided for 'mean' and 'weighted_mean') over
    `request.axis`; `count` is `_divisor`'s."""
    xp = request.xp
    if request.reduction == "none":
        return element_loss
    total = blocks.total(element_loss, axis=request.axis, keepdims=request.keepdims, xp=xp)
    # An empty 'mean' is NaN, as in torch (0 * nan: no NumPy warning).
    if count is not None:
        if not request.keepdims:
            axis = tuple(range(count.ndim)) if request.axis is None else request.axis
            count = xp.squeeze(count, axis=axis)
        return xp.where(count > 0, total, total * math.nan)
    empty = request.reduction == "mean" and not request.count and request.avg_factor is None
    return total * math.nan if empty else total


def _residual(
    request: Request[Any],
) -> tuple[Array, Any, Array | None, Any, Array | None, Coefficients]:
    """The residual and the weight, both 0 at excluded elements (an excluded inf or NaN among
    them); the included elements as 1.0 (None: all); `_divisor`'s divisor and count; the
    coefficients, with a threshold per element 1 at excluded elements (an invalid entry that
    could not be checked, NaN, among them)."""
    xp, terms_of = request.xp, request.coefficients
    d, weight, included = request.input - request.target, request.weight, None
    if request.where is not None:
        d, weight, included = _masked(d, weight, request.where, xp=xp)
        if not isinstance(terms_of.beta, float):
            beta, scale = (
                v if isinstance(v, float) else xp.where(request.where, v, xp.ones_like(v))
                for v in (terms_of.beta, terms_of.scale)
            )
            terms_of = terms_of._replace(beta=beta, scale=scale)
    return d, weight, included, *_divisor(d, weight, included, request), terms_of


def _masked(d: Array, weight: Any, where: Array, *, xp: Namespace) -> tuple[Array, Any, Array]:
    """The residual and the weight 0 at the excluded elements, whose terms are then exactly 0
    (whatever their operands); and the included elements as 1.0."""
    included = xp.where(where, xp.ones_like(d), xp.zeros_like(d))  # (Dask: unknown sizes)
    d = xp.where(where, d, xp.zeros_like(d))
    if weight is None or isinstance(weight, int | float):
        return d, included if weight is None else included * weight, included
    return d, xp.where(where, weight, xp.zeros_like(weight)), included


def _divisor(
    d: Array, weight: Any, included: Array | None, request: Request[Any]
) -> tuple[Any, Array | None]:
    """What the terms are divided by where the coefficients do not hold it (else None): for
    'mean', the number of included elements (or of elements Dask does not count before it
    computes) or `avg_factor`; for 'weighted_mean', the total weight; per reduced loss, the
    reduced axes kept. A factor or total weight of 0 gives 0 (terms / inf). Second, the count
    when 'mean' counted (a mean over no element is NaN, as in torch)."""
    xp, reduction, factor = request.xp, request.reduction, request.avg_factor
    if reduction in ("none", "sum"):
        return None, None
    if isinstance(factor, float):
        return factor or math.inf, None
    axis = tuple(range(d.ndim)) if request.axis is None else request.axis
    if reduction == "mean" and factor is None:
        if included is None and request.count == request.count:  # (NaN != NaN: unknown)
            return None, None
        count = blocks.total(
            xp.ones_like(d) if included is None else included, axis=axis, keepdims=True, xp=xp
        )
        return xp.where(count > 0, count, xp.ones_like(count)), count
    if factor is None:  # 'weighted_mean'
        factor = blocks.total(weight * xp.ones_like(d), axis=axis, keepdims=True, xp=xp)
    return xp.where(factor == 0, xp.full_like(factor, math.inf), factor), None


def _kept(total: Array, request: Request[Any]) -> Array:
    """The 0-d total of a loss reduced over every axis, with the axes kept if `keepdims`."""
    return request.xp.reshape(total, request.kept_shape) if request.keepdims else total


def _sum_to_shape(grad: Array, shape: Shape, *, xp: Namespace) -> Array:
    """Sum `grad` over the axes along which an operand of `shape` was broadcast."""
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    if not axes:
        return grad
    with overflow_unwarned(xp):  # (a sum beyond the range is inf, silently, as in torch)
        total = blocks.total(grad, axis=axes, keepdims=True, xp=xp)
    return total[(0,) * lead + (...,)]  # (not `reshape`: Dask's sizes may be unknown)
