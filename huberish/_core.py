"""The kernel's orchestration: choose the path, reduce, sum gradients to shape, cast.

The per-element terms come from `huberish._terms`, over the whole arrays here or over
cache-sized blocks in `huberish._blocks` (large NumPy operands).
"""

import math
from typing import Any, Literal

import numpy as np

from . import _blocks as blocks
from ._compat import Array, Namespace, is_numpy_namespace, overflow_unwarned
from ._terms import Coefficients, summed_terms, weighted_terms
from ._validate import Request, dtype_category

__all__ = ["Operand", "evaluate"]

Operand = Literal["input", "target"]


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
    if request.plain and not hessian and request.size < blocks.MIN_SIZE:
        if loss and request.grad_output is None and gradients in ((), ("input",)):
            return _plain(request, grad=bool(gradients))
        if not loss:
            return _plain_backward(request, gradients)
    xp, grad_output = request.xp, request.grad_output
    coefficients = _coefficients(request)
    grad = bool(gradients)
    # (inf beyond the range, NaN for inf - inf: silently, as in torch; see the helper)
    with overflow_unwarned(xp):
        if not hessian and _in_blocks(request):
            blocked = blocks.evaluate(
                request.input,
                request.target,
                request.weight,
                grad_output,
                coefficients=coefficients,
                loss=loss,
                grad=grad,
                keep_elements=request.reduction == "none",
                xp=xp,
            )
            reduced_loss, element_grad, element_hess = blocked.loss, blocked.grad, None
            if reduced_loss is not None and request.reduction != "none":
                reduced_loss = _kept(reduced_loss, request)
        elif loss and not hessian and _summable(request):
            d = request.input - request.target
            flat = len(request.shape) == 1
            reduced_loss, element_grad = summed_terms(
                d if flat else xp.reshape(d, (-1,)), coefficients=coefficients, grad=grad, xp=xp
            )
            reduced_loss = _kept(reduced_loss, request)
            del d
            if element_grad is not None and not flat:
                element_grad = xp.reshape(element_grad, request.shape)
            element_hess = None
        else:
            terms = weighted_terms(
                request.input - request.target,
                request.weight,
                grad_output,
                coefficients=coefficients,
                loss=loss,
                grad=grad,
                hess=hessian,
                xp=xp,
            )
            reduced_loss = None if terms.loss is None else _reduce(terms.loss, request)
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


def _coefficients(request: Request[Any]) -> Coefficients:
    """The per-element terms' coefficients of `request` (its 'mean' divisor included)."""
    return Coefficients(
        request.loss,
        request.beta,
        request.scale,
        # (an empty 'mean' has no terms to divide; `_reduce` makes it NaN)
        max(request.count, 1) if request.reduction == "mean" else 1,
    )


def _plain(request: Request[Any], *, grad: bool) -> tuple[Array, list[Array]]:
    """`evaluate` of a small plain request (`Request.plain`; the gradient for `input` or none):
    what the general path does for it, without its checks (nothing to broadcast, cast, keep or
    sum to shape), since per-call overhead is most of a small call."""
    xp, shape = request.xp, request.shape
    coefficients = _coefficients(request)
    with overflow_unwarned(xp):
        d = request.input - request.target
        flat = len(shape) == 1
        total, g = summed_terms(
            d if flat else xp.reshape(d, (-1,)), coefficients=coefficients, grad=grad, xp=xp
        )
    if g is None:  # (`total` is a NumPy scalar, as NumPy reduces a 1-d array)
        return total, []
    return total, [g if flat else xp.reshape(g, shape)]


def _plain_backward(
    request: Request[Any], gradients: tuple[Operand, ...]
) -> tuple[None, list[Array]]:
    """`evaluate`'s gradients (no loss) of a small plain request, as `_plain` for the loss."""
    xp = request.xp
    coefficients = _coefficients(request)
    with overflow_unwarned(xp):
        g: Array = weighted_terms(
            request.input - request.target,
            None,
            request.grad_output,
            coefficients=coefficients,
            loss=False,
            grad=True,
            xp=xp,
        ).grad
    return None, [g if operand == "input" else -g for operand in gradients]


def _in_blocks(request: Request[Any]) -> bool:
    """Whether `blocks.evaluate` can take this request: large, unbroadcast NumPy operands."""
    grad_output = request.grad_output
    return (
        request.size >= blocks.MIN_SIZE
        and is_numpy_namespace(request.xp)
        and request.axis is None
        and request.input_shape == request.target_shape == request.shape
        and request.input.dtype == request.target.dtype
        and (
            request.weight is None
            or isinstance(request.weight, float)
            or tuple(request.weight.shape) == request.shape
        )
        and (grad_output is None or isinstance(grad_output, int | float) or grad_output.ndim == 0)
    )


def _summable(request: Request[Any]) -> bool:
    """Whether the whole-array path may reduce with `summed_terms`: a NumPy loss summed over all
    of its (at least one) elements, without weight or `grad_output`.

    NumPy only: on torch ``vecdot`` is slower than the sum and far less accurate in float32
    (see `huberish._terms.MAX_DOT`); the other backends were not measured.
    """
    return (
        request.reduction != "none"
        and request.axis is None
        and request.weight is None
        and request.grad_output is None
        and request.size > 0
        and len(request.shape) > 0
        and is_numpy_namespace(request.xp)
    )


def _cast(x: Array, dtype: Any, *, xp: Namespace) -> Array:
    """`x` as `dtype`; a narrowing cast (results computed in float32 for a 16-bit dtype, a
    float64 gradient for a float32 operand) makes values beyond the range +-inf here, so that
    NumPy's cast does not warn about overflow."""
    if x.dtype == dtype:
        return x
    if dtype_category(dtype, xp=xp) == "half" or float(xp.finfo(dtype).max) < float(
        xp.finfo(x.dtype).max
    ):
        info = xp.finfo(dtype)
        top = float(info.max)  # values from here to max + ulp / 2 round to max, beyond to inf
        limit = top + 0.5 * float(info.eps) * 2.0 ** math.floor(math.log2(top))
        x = xp.where(xp.abs(x) >= limit, xp.copysign(math.inf, x), x)  # (NaN stays NaN)
    return xp.astype(x, dtype, copy=False)


def _reduce(element_loss: Array, request: Request[Any]) -> Array:
    """Reduce the element losses (already divided by the count for 'mean') over
    `request.axis`."""
    if request.reduction == "none":
        return element_loss
    if request.axis is None:
        total = _kept(request.xp.sum(element_loss), request)
    else:
        total = request.xp.sum(element_loss, axis=request.axis, keepdims=request.keepdims)
    # An empty 'mean' is NaN, as in torch (0 * nan: no NumPy warning).
    return total * math.nan if request.reduction == "mean" and not request.count else total


def _kept(total: Array, request: Request[Any]) -> Array:
    """The 0-d total of a loss reduced over every axis, with the axes kept if `keepdims`."""
    return request.xp.reshape(total, request.kept_shape) if request.keepdims else total


def _sum_to_shape(grad: Array, shape: tuple[int, ...], *, xp: Namespace) -> Array:
    """Sum `grad` over the axes along which an operand of `shape` was broadcast."""
    if tuple(grad.shape) == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    with overflow_unwarned(xp):  # (a sum beyond the range is inf, silently, as in torch)
        total = xp.sum(grad, axis=axes, keepdims=True)
    return xp.reshape(total, shape)
