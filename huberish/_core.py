"""The generic kernel: smooth-L1 loss and gradient from standard array operations only."""

import math
from typing import Any, Literal

from . import _blocks as blocks
from ._compat import Array, Namespace, clip, is_numpy_namespace, updates_in_place
from ._validate import Request

__all__ = ["Gradient", "element_terms", "evaluate", "weighted_terms"]

Gradient = Literal["input", "target"]


def element_terms(
    d: Array,
    beta: float,
    scale: float,
    xp: Namespace,
    *,
    count: int = 1,
    loss: bool = True,
    grad: bool = True,
) -> tuple[Array | None, Array | None]:
    """Per-element terms of ``scale * smooth_l1(d, beta) / count``, ``d = input - target``.

    Smooth L1 is ``scale = 1``; Huber with `delta` is ``beta = scale = delta``; `count` is the
    number of elements for 'mean' (the terms then sum to the mean) and 1 otherwise. With
    ``r = clip(d, -beta, beta)``::

        grad = r * scale / (beta * count)
        loss = grad * (d - r / 2)      # 0.5 * d**2 / beta inside, |d| - beta / 2 outside

    ``|r| <= beta``, so nothing overflows before the result does (torch's ``0.5 * d * d / beta``
    overflows for ``|d| > 1.8e19`` in float32). Huber's loss is torch's formula to the bit, and
    the gradient is exactly +-scale / count outside whenever ``beta / scale * count`` is exact.
    `d` is a temporary the caller owns: on NumPy and CuPy it is overwritten in place, which
    saves memory and passes. ``beta == 0`` is exact L1, ``beta == inf`` the limit (0 for finite
    residuals). NaN gives NaN for every beta; an infinite residual gives loss inf and gradient
    +-scale / count.
    """
    if beta == 0.0 or math.isinf(beta):
        element_loss, element_grad = _limit_terms(d, beta, scale, xp, loss=loss, grad=grad)
        if count != 1:
            factor = 1.0 / count if count else math.nan
            element_loss = None if element_loss is None else element_loss * factor
            element_grad = None if element_grad is None else element_grad * factor
        return element_loss, element_grad
    r = clip(xp, d, -beta, beta)
    # The gradient as (r / 2) / divisor: the halving is exact, and r / 2 serves the loss too.
    divisor = 0.5 * (beta / scale) * count
    if not loss:
        return None, r / (2.0 * divisor)
    if updates_in_place(xp):  # (0-d NumPy results are scalars: the operators then rebind)
        r *= 0.5
        d -= r
        r /= divisor
        d *= r
        return d, (r if grad else None)
    half = r * 0.5
    slope = half / divisor
    return slope * (d - half), (slope if grad else None)


def _limit_terms(
    d: Array, beta: float, scale: float, xp: Namespace, *, loss: bool, grad: bool
) -> tuple[Array | None, Array | None]:
    """`element_terms` for ``beta == 0`` (exact L1) and ``beta == inf``."""
    if beta == 0.0:
        return (xp.abs(d) if loss else None), (xp.sign(d) if grad else None)
    a = xp.abs(d)
    if scale == beta:  # Huber with delta = inf is 0.5 * d**2 everywhere.
        return (0.5 * a * a if loss else None), (d if grad else None)
    inside, zero = a < beta, xp.zeros_like(a)
    return (
        xp.where(inside, zero, a) if loss else None,
        xp.where(inside, zero, xp.sign(d)) if grad else None,
    )


def evaluate(
    request: Request,
    grad_output: Array | float | None = None,
    *,
    loss: bool = True,
    gradients: tuple[Gradient, ...] = (),
) -> tuple[Array | None, list[Array]]:
    """Reduced loss (if `loss`) and the gradients with respect to each operand in `gradients`.

    The gradients are those of ``grad_output * loss`` (``grad_output`` defaults to 1), summed
    back to each operand's shape and cast to its dtype.
    """
    xp = request.xp
    if _in_blocks(request, grad_output):
        element_loss, grad = blocks.evaluate(
            request, grad_output, loss, bool(gradients), weighted_terms
        )
    else:
        d = request.input - request.target
        element_loss, grad = weighted_terms(
            d, request, request.weight, grad_output, loss, bool(gradients)
        )
    reduced = None
    if element_loss is not None:
        reduced = _cast(xp, _reduce(element_loss, request), request.result_dtype)
    grads = []
    for operand in gradients:
        shape, dtype = (
            (request.input_shape, request.input_grad_dtype)
            if operand == "input"
            else (request.target_shape, request.target_grad_dtype)
        )
        g = _sum_to_shape(xp, grad, shape)
        grads.append(_cast(xp, g if operand == "input" else -g, dtype))
    return reduced, grads


def weighted_terms(
    d: Array,
    request: Request,
    weight: Array | None,
    grad_output: Array | float | None,
    loss: bool,
    grad: bool,
) -> tuple[Array | None, Array | None]:
    """`element_terms` of `d` for `request`, times `weight`; the gradient also times
    `grad_output`."""
    xp = request.xp
    count = request.size if request.reduction == "mean" else 1
    element_loss, element_grad = element_terms(
        d, request.beta, request.scale, xp, count=count, loss=loss, grad=grad
    )
    in_place = updates_in_place(xp)
    if element_loss is not None and weight is not None:
        element_loss = _multiply(element_loss, weight, in_place)
    if element_grad is not None:
        for factor in (grad_output, weight):
            if factor is not None:
                element_grad = _multiply(element_grad, factor, in_place)
    return element_loss, element_grad


def _multiply(x: Array, factor: Array | float, in_place: bool) -> Array:
    """``x * factor``, reusing `x` (a temporary of ours) where the backend allows it."""
    if in_place:
        x *= factor
        return x
    return x * factor


def _in_blocks(request: Request, grad_output: Array | float | None) -> bool:
    """Whether `blocks.evaluate` can take this request: large, unbroadcast NumPy operands."""
    return (
        request.size >= blocks.MIN_SIZE
        and is_numpy_namespace(request.xp)
        and request.input_shape == request.target_shape == request.shape
        and request.input.dtype == request.target.dtype
        and (request.weight is None or tuple(request.weight.shape) == request.shape)
        and (grad_output is None or isinstance(grad_output, int | float) or grad_output.ndim == 0)
    )


def _cast(xp: Namespace, x: Array, dtype: Any) -> Array:
    return x if x.dtype == dtype else xp.astype(x, dtype, copy=False)


def _reduce(terms: Array, request: Request) -> Array:
    """Reduce the loss terms (already divided by the count for 'mean'); `blocks` hands in its
    partial sums instead."""
    if request.reduction == "none":
        return terms
    total = request.xp.sum(terms)
    # An empty 'mean' is NaN, as in torch (0 * nan: no NumPy warning).
    return total * math.nan if request.reduction == "mean" and not request.size else total


def _sum_to_shape(xp: Namespace, grad: Array, shape: tuple[int, ...]) -> Array:
    """Sum `grad` over the axes along which an operand of `shape` was broadcast."""
    if tuple(grad.shape) == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    return xp.reshape(xp.sum(grad, axis=axes, keepdims=True), shape)
