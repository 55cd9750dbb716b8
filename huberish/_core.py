"""The generic kernel: smooth-L1 loss and gradient from standard array operations only."""

import math
from typing import Any, Literal

from ._compat import Array, Namespace, updates_in_place
from ._validate import Request

__all__ = ["Gradient", "element_terms", "evaluate"]

Gradient = Literal["input", "target"]


def element_terms(
    d: Array, beta: float, scale: float, xp: Namespace, *, loss: bool = True, grad: bool = True
) -> tuple[Array | None, Array | None]:
    """Per-element loss and gradient of ``scale * smooth_l1(d, beta)``, ``d = input - target``.

    Smooth L1 is ``scale = 1``; Huber with `delta` is ``beta = scale = delta``. With
    ``r = clip(d, -beta, beta)``::

        grad = r / beta * scale
        loss = grad * (d - r / 2)      # 0.5 * d**2 / beta inside, |d| - beta / 2 outside

    ``|r / beta| <= 1``, so nothing overflows or underflows before the result does (torch's
    ``0.5 * d * d / beta`` overflows for ``|d| > 1.8e19`` in float32). Huber's loss is torch's
    formula to the bit, and smooth L1's gradient is exactly +-1 outside. `d` is a temporary the
    caller owns: on NumPy and CuPy it is overwritten, to save memory and passes.
    ``beta == 0`` is exact L1, ``beta == inf`` the limit (0 for finite residuals). NaN gives NaN
    for every beta; an infinite residual gives loss inf and gradient +-scale.
    """
    if beta == 0.0:
        return (xp.abs(d) if loss else None), (xp.sign(d) if grad else None)
    if math.isinf(beta):
        a = xp.abs(d)
        if scale == beta:  # Huber with delta = inf is 0.5 * d**2 everywhere.
            return (0.5 * a * a if loss else None), (d if grad else None)
        inside, zero = a < beta, xp.zeros_like(a)
        return (
            xp.where(inside, zero, a) if loss else None,
            xp.where(inside, zero, xp.sign(d)) if grad else None,
        )
    r = xp.clip(d, min=-beta, max=beta)
    # r / beta as (r / 2) / (beta / 2): exact, and r / 2 is needed for the loss anyway.
    divisor = 0.5 if scale == beta else 0.5 * beta / scale
    if not loss:
        return None, r if scale == beta else r / (beta / scale)
    if updates_in_place(xp):  # (0-d NumPy results are scalars: the operators then rebind)
        r *= 0.5
        d -= r
        r /= divisor
        d *= r
        return d, r
    half = r * 0.5
    slope = half / divisor
    return slope * (d - half), slope


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
    element_loss, grad = element_terms(
        request.input - request.target,
        request.beta,
        request.scale,
        xp,
        loss=loss,
        grad=bool(gradients),
    )
    weight = request.weight
    reduced = None
    if element_loss is not None:
        if weight is not None:
            element_loss = element_loss * weight
        reduced = _cast(xp, _reduce(element_loss, request), request.result_dtype)
    if grad is None:
        return reduced, []

    norm = 1.0 if request.reduction != "mean" else 1.0 / n if n else math.nan
    coefficient = norm if grad_output is None else grad_output * norm
    if not (isinstance(coefficient, float) and coefficient == 1.0):
        grad = grad * coefficient
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
        grads.append(_cast(xp, g if operand == "input" else -g, dtype))
    return reduced, grads


def _cast(xp: Namespace, x: Array, dtype: Any) -> Array:
    return x if x.dtype == dtype else xp.astype(x, dtype, copy=False)


def _reduce(element_loss: Array, request: Request) -> Array:
    if request.reduction == "none":
        return element_loss
    total = request.xp.sum(element_loss)
    if request.reduction == "sum":
        return total
    # 0 * nan, not 0 / 0: an empty 'mean' is NaN (as in torch) without a NumPy warning.
    return total / request.size if request.size else total * math.nan


def _sum_to_shape(xp: Namespace, grad: Array, shape: tuple[int, ...]) -> Array:
    """Sum `grad` over the axes along which an operand of `shape` was broadcast."""
    if tuple(grad.shape) == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    return xp.reshape(xp.sum(grad, axis=axes, keepdims=True), shape)
