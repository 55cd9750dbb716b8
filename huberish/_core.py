"""The generic kernel: smooth-L1 loss and gradient from standard array operations only."""

import math

from ._compat import Array, Namespace
from ._validate import Request

__all__ = ["Gradient", "evaluate", "smooth_l1_terms"]

Gradient = str  # "input" or "target"


def smooth_l1_terms(
    d: Array, beta: float, xp: Namespace, *, loss: bool = True, grad: bool = True
) -> tuple[Array | None, Array | None, float]:
    """Smooth-L1 terms of the residual ``d = input - target``: ``(loss, slope, slope_factor)``.

    With ``a = |d|`` and ``q = min(a, beta)``::

        loss     = 0.5 * q * (q / beta)   where a < beta
                   a - 0.5 * beta         elsewhere
        gradient = slope * slope_factor,  slope = clip(d, -beta, beta),  slope_factor = 1 / beta

    ``q / beta <= 1`` and ``|slope| <= beta``, so nothing overflows or underflows before the
    result does (torch's ``0.5 * a * a / beta`` overflows for ``a > 1.8e19`` in float32).
    The linear side is torch's formula to the bit. ``beta == 0`` is exact L1 and ``beta == inf``
    the limit (0 for finite residuals); NaN residuals give NaN loss and slope for every beta.
    """
    if beta == 0.0:
        return (xp.abs(d) if loss else None), (xp.sign(d) if grad else None), 1.0
    a = xp.abs(d)
    if math.isinf(beta):
        # An infinite residual stays on the linear side: loss inf and gradient +-1, as for
        # finite beta (torch gives a NaN loss there).
        inside, zero = a < beta, xp.zeros_like(a)
        return (
            xp.where(inside, zero, a) if loss else None,
            xp.where(inside, zero, xp.sign(d)) if grad else None,
            1.0,
        )
    element_loss = None
    if loss:
        q = xp.clip(a, max=beta)
        element_loss = xp.where(a < beta, 0.5 * q * (q / beta), a - 0.5 * beta)
    slope = xp.clip(d, min=-beta, max=beta) if grad else None
    return element_loss, slope, 1.0 / beta


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
    xp, n = request.xp, request.size
    element_loss, slope, slope_factor = smooth_l1_terms(
        request.input - request.target, request.beta, xp, loss=loss, grad=bool(gradients)
    )
    weight = request.weight
    reduced = None
    if element_loss is not None:
        if weight is not None:
            element_loss = element_loss * weight
        reduced = xp.astype(_reduce(element_loss, request), request.result_dtype, copy=False)
    if slope is None:
        return reduced, []

    norm = request.scale * slope_factor
    if request.reduction == "mean":
        norm = norm / n if n else math.nan
    coefficient = norm if grad_output is None else grad_output * norm
    grad = slope * coefficient
    if weight is not None:
        grad = grad * weight
    grads = []
    for operand in gradients:
        shape, dtype = (
            (request.input_shape, request.input_grad_dtype)
            if operand == "input"
            else (request.target_shape, request.target_grad_dtype)
        )
        g = _sum_to_shape(xp, grad, shape)
        grads.append(xp.astype(g if operand == "input" else -g, dtype, copy=False))
    return reduced, grads


def _reduce(element_loss: Array, request: Request) -> Array:
    xp, scale = request.xp, request.scale
    if request.reduction == "none":
        return element_loss if scale == 1.0 else element_loss * scale
    total = xp.sum(element_loss)
    if request.reduction == "mean":
        # 0 * nan, not 0 / 0: an empty 'mean' is NaN (as in torch) without a NumPy warning.
        total = total / request.size if request.size else total * math.nan
    return total if scale == 1.0 else total * scale


def _sum_to_shape(xp: Namespace, grad: Array, shape: tuple[int, ...]) -> Array:
    """Sum `grad` over the axes along which an operand of `shape` was broadcast."""
    if tuple(grad.shape) == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    return xp.reshape(xp.sum(grad, axis=axes, keepdims=True), shape)
