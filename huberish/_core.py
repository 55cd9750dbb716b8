"""The generic kernel: smooth-L1 loss and gradient from standard array operations only."""

import math
from typing import Any, Literal, NamedTuple

import numpy as np

from . import _blocks as blocks
from ._compat import (
    Array,
    Namespace,
    clip,
    is_array_api_strict_namespace,
    is_numpy_namespace,
    updates_in_place,
)
from ._validate import Request, dtype_kind

__all__ = ["Gradient", "Terms", "element_terms", "evaluate", "weighted_terms"]

Gradient = Literal["input", "target"]


class Terms(NamedTuple):
    """Per-element terms; each is None unless asked for."""

    loss: Array | None
    grad: Array | None
    hess: Array | None


def element_terms(
    d: Array, request: Request, *, loss: bool = True, grad: bool = True, hess: bool = False
) -> Terms:
    """Per-element loss, gradient and Hessian diagonal of `request`'s loss, ``d = input - target``.

    For 'mean' every term is divided by the number of elements it is averaged over, so that the
    loss terms sum to the mean. `d` is a temporary the caller owns: on NumPy and CuPy it is
    overwritten in place, which saves memory and passes.
    """
    xp, beta = request.xp, request.beta
    # (an empty 'mean' has no terms to divide; `_reduce` makes it NaN)
    count = max(request.count, 1) if request.reduction == "mean" else 1
    if request.kind == "pseudo_huber":
        terms = _pseudo_huber(d, beta, xp, loss=loss, grad=grad, hess=hess)
    elif beta == 0.0 or math.isinf(beta):
        # Huber's delta beyond the dtype's range is the delta = inf limit (0.5 * d**2)
        scale = beta if request.kind == "huber" and math.isinf(beta) else request.scale
        terms = _limits(d, beta, scale, xp, loss=loss, grad=grad, hess=hess)
    else:
        return _smooth_l1(d, beta, request.scale, count, xp, loss=loss, grad=grad, hess=hess)
    if count == 1:
        return terms
    # (by the count itself: 1 / count as a Python float is rounded to float64, which is
    # coarser than long double)
    return Terms(*(None if t is None else t / count for t in terms))


def _smooth_l1(
    d: Array,
    beta: float,
    scale: float,
    count: int,
    xp: Namespace,
    *,
    loss: bool,
    grad: bool,
    hess: bool,
) -> Terms:
    """``scale * smooth_l1(d, beta) / count``, for finite ``beta > 0``.

    Smooth L1 is ``scale = 1``; Huber with `delta` is ``beta = scale = delta``. With
    ``r = clip(d, -beta, beta)``::

        grad = r * scale / (beta * count)
        loss = grad * (d - r / 2)      # 0.5 * d**2 / beta inside, |d| - beta / 2 outside
        hess = scale / (beta * count) where |d| < beta, else 0 (torch's double backward)

    ``|r| <= beta``, so nothing overflows before the result does (torch's ``0.5 * d * d / beta``
    overflows for ``|d| > 1.8e19`` in float32). Huber's loss is torch's formula to the bit, and
    the gradient is exactly +-scale / count outside whenever ``beta / scale * count`` is exact.
    NaN gives NaN; an infinite residual gives loss inf and gradient +-scale / count.
    """
    curvature = None
    if hess:  # before `d` is overwritten
        curvature = _divide(xp, xp.astype(xp.abs(d) < beta, d.dtype), beta / scale)
        curvature = curvature if count == 1 else curvature / count
        curvature = xp.where(xp.isnan(d), d, curvature)
    r = clip(xp, d, -beta, beta)
    # The gradient as (r / 2) / divisor: the halving is exact, and r / 2 serves the loss too.
    divisor = 0.5 * (beta / scale) * count
    # Beyond these bounds, in steps (and without r / 2 first, which XLA flushes for a beta
    # near the smallest normal number), and for long double (whose precision a Python-float
    # divisor, rounded to float64, would lose)
    extended = getattr(d.dtype, "itemsize", 8) > 8
    if extended or not (_NORMAL_RECIPROCAL[0] < divisor < _NORMAL_RECIPROCAL[1] and beta > 1e-30):
        # ratio = r * scale / beta (smooth L1: in [-1, 1]; Huber: r), divided by the count
        # last: the slope may be subnormal (which XLA flushes) where the loss is not.
        ratio = _divide(xp, r, beta / scale)
        slope = (ratio if count == 1 else ratio / count) if grad else None
        element_loss = None
        if loss:
            element_loss = ratio * (d - r * 0.5)
            element_loss = element_loss if count == 1 else element_loss / count
        return Terms(element_loss, slope, curvature)
    if not loss:
        return Terms(None, r / (2.0 * divisor) if grad else None, curvature)
    if updates_in_place(xp):  # (0-d NumPy results are scalars: the operators then rebind)
        r *= 0.5
        d -= r
        r /= divisor
        d *= r
        return Terms(d, r if grad else None, curvature)
    half = r * 0.5
    slope = r / (2.0 * divisor)  # (not half / divisor: XLA flushes a subnormal half)
    return Terms(slope * (d - half), slope if grad else None, curvature)


_NORMAL_RECIPROCAL = (1e-30, 1e30)
"""Python-float factors whose reciprocals are normal numbers in every computation dtype
(float32's normal range is 1.2e-38 to 3.4e38): XLA turns a division by a constant into a
multiplication by its reciprocal, and flushes a subnormal one to 0."""


def _divide(xp: Namespace, x: Array, *factors: float) -> Array:
    """`x` divided by the product of positive finite Python floats, without that product or its
    reciprocal over- or underflowing: by a mantissa in [1, 2), then by powers of two that are
    normal in every dtype (exact, but for a subnormal result)."""
    mantissa, exponent = 1.0, 0
    for factor in factors:
        m, e = math.frexp(factor)
        mantissa, exponent = mantissa * m, exponent + e
    m, e = math.frexp(mantissa)  # (a product of mantissas in [1/2, 1): no underflow)
    exponent += e
    if _NORMAL_RECIPROCAL[0] < math.ldexp(m, max(-1000, min(1000, exponent))) < 1e30:
        return x / math.ldexp(m, exponent)
    return _times_power_of_two(xp, x / (2.0 * m), 1 - exponent)


def _scale(xp: Namespace, x: Array, factor: float) -> Array:
    """``x * factor`` for a positive Python float `factor` that may be subnormal or huge."""
    if _NORMAL_RECIPROCAL[0] < factor < _NORMAL_RECIPROCAL[1]:
        return x * factor
    m, e = math.frexp(factor)
    return _times_power_of_two(xp, x * m, e)


def _times_power_of_two(xp: Namespace, x: Array, exponent: int) -> Array:
    """``x * 2**exponent`` in steps by normal powers of two (monotone: no spurious overflow)."""
    while exponent:
        step = max(-100, min(100, exponent))
        x = x * 2.0**step
        exponent -= step
    return x


def _limits(
    d: Array, beta: float, scale: float, xp: Namespace, *, loss: bool, grad: bool, hess: bool
) -> Terms:
    """``scale * smooth_l1(d, beta)`` for ``beta == 0`` (exact L1) and ``beta == inf``."""
    if beta == 0.0:  # (Huber's scale is a delta below the dtype's normal range)
        return Terms(
            (xp.abs(d) if scale == 1.0 else _scale(xp, xp.abs(d), scale)) if loss else None,
            (xp.sign(d) if scale == 1.0 else _scale(xp, xp.sign(d), scale)) if grad else None,
            _constant_like(xp, d, 0.0) if hess else None,
        )
    a = xp.abs(d)
    if scale == beta:  # Huber with delta = inf is 0.5 * d**2 everywhere.
        return Terms(
            0.5 * a * a if loss else None,
            d if grad else None,
            _constant_like(xp, d, 1.0) if hess else None,
        )
    inside, zero = a < beta, xp.zeros_like(a)
    return Terms(
        xp.where(inside, zero, a) if loss else None,
        xp.where(inside, zero, xp.sign(d)) if grad else None,
        _constant_like(xp, d, 0.0) if hess else None,
    )


def _pseudo_huber(
    d: Array, delta: float, xp: Namespace, *, loss: bool, grad: bool, hess: bool
) -> Terms:
    """``delta**2 * (sqrt(1 + (d / delta)**2) - 1)``, its gradient and second derivative.

    With ``u = d / delta`` and ``h = sqrt(1 + u**2)``: loss ``delta**2 (h - 1)``, gradient
    ``delta u / h``, second derivative ``1 / h**3``. Two forms keep every step finite and
    accurate: for ``|u| < 1``, ``h - 1 = u**2 / (h + 1)`` (no cancellation); for ``|u| >= 1``,
    with ``v = 1 / |u|``, ``h = |u| sqrt(1 + v**2)`` (no overflow of ``u**2``; an infinite
    residual gives loss inf, gradient +-delta and second derivative 0). NaN gives NaN.
    """
    if math.isinf(delta):  # 0.5 * d**2, as for Huber
        return _limits(d, delta, delta, xp, loss=loss, grad=grad, hess=hess)
    if delta == 0.0:  # below the dtype's normal range: the limit is 0
        zero = _constant_like(xp, d, 0.0)
        return Terms(zero if loss else None, zero if grad else None, zero if hess else None)
    u = _divide(xp, d, delta)
    small = xp.abs(u) < 1.0
    us = clip(xp, u, -1.0, 1.0)  # the |u| < 1 form sees |u| <= 1
    big = xp.maximum(xp.abs(u), 1.0)  # the |u| >= 1 form sees |u| >= 1
    v = 1.0 / big
    hs, hl = xp.sqrt(us * us + 1.0), xp.sqrt(v * v + 1.0)
    # delta * u and delta**2 are never formed (they under- or overflow for a tiny or huge
    # delta, and u may be subnormal): the |u| < 1 form uses d, the |u| >= 1 form
    # delta * (|d| h_l - delta) and delta * sign(d) / h_l.
    # (|d| >= delta beyond the dtype's range only for |d| = inf: a bound that stays finite)
    shift = delta if delta < 3.4e38 else min(delta, float(xp.finfo(d.dtype).max))
    ds = clip(xp, d, -shift, shift) if loss or grad else None  # d itself where |u| < 1
    return Terms(
        xp.where(small, ds * (ds / (hs + 1.0)), _scale(xp, xp.abs(d) * hl - shift, delta))
        if loss
        else None,
        xp.where(small, ds / hs, _scale(xp, xp.sign(d) / hl, delta)) if grad else None,
        xp.where(small, (1.0 / hs) ** 3, (v / hl) ** 3) if hess else None,
    )


def _constant_like(xp: Namespace, d: Array, value: float) -> Array:
    """`value` where `d` is a number, NaN where it is NaN."""
    return xp.where(xp.isnan(d), d, xp.full_like(d, value))


def evaluate(
    request: Request,
    grad_output: Array | float | None = None,
    *,
    loss: bool = True,
    gradients: tuple[Gradient, ...] = (),
    hessian: bool = False,
) -> tuple[Array | None, list[Array]]:
    """Reduced loss (if `loss`), then the gradients with respect to each operand in `gradients`,
    then (if `hessian`) the Hessian diagonal with respect to `input`.

    The gradients are those of ``sum(grad_output * loss)`` (``grad_output`` defaults to 1),
    summed back to each operand's shape and cast to its dtype; so is the Hessian diagonal.
    """
    xp = request.xp
    if is_numpy_namespace(xp) or is_array_api_strict_namespace(xp):  # (NumPy underneath)
        # results beyond the range are inf, NaN in gives NaN: as in torch, silently
        with np.errstate(all="ignore"):  # (NumPy would warn about each)
            return _evaluate(request, grad_output, loss, gradients, hessian)
    return _evaluate(request, grad_output, loss, gradients, hessian)


def _evaluate(
    request: Request,
    grad_output: Array | float | None,
    loss: bool,
    gradients: tuple[Gradient, ...],
    hessian: bool,
) -> tuple[Array | None, list[Array]]:
    xp = request.xp
    if not hessian and _in_blocks(request, grad_output):
        terms = Terms(*blocks.evaluate(request, grad_output, loss, bool(gradients), weighted_terms))
    else:
        d = request.input - request.target
        terms = weighted_terms(
            d, request, request.weight, grad_output, loss, bool(gradients), hessian
        )
    reduced = None
    if terms.loss is not None:
        reduced = _cast(xp, _reduce(terms.loss, request), request.result_dtype)
        if type(reduced) is np.ndarray and reduced.ndim == 0:  # as NumPy reduces: a scalar
            reduced = reduced[()]
    results = []
    for operand in gradients:
        shape, dtype = (
            (request.input_shape, request.input_grad_dtype)
            if operand == "input"
            else (request.target_shape, request.target_grad_dtype)
        )
        g = _sum_to_shape(xp, terms.grad, shape)
        results.append(_cast(xp, g if operand == "input" else -g, dtype))
    if hessian:
        h = _sum_to_shape(xp, terms.hess, request.input_shape)
        results.append(_cast(xp, h, request.input_grad_dtype))
    return reduced, results


def weighted_terms(
    d: Array,
    request: Request,
    weight: Array | None,
    grad_output: Array | float | None,
    loss: bool,
    grad: bool,
    hess: bool = False,
) -> Terms:
    """`element_terms` of `d` for `request`, times `weight`; the gradient also times
    `grad_output`."""
    terms = element_terms(d, request, loss=loss, grad=grad, hess=hess)
    if weight is None and grad_output is None:
        return terms
    in_place = updates_in_place(request.xp)
    element_loss, element_grad, element_hess = terms
    if element_grad is not None and grad_output is not None:
        element_grad = _multiply(element_grad, grad_output, in_place)
    if weight is not None:
        element_loss, element_grad, element_hess = (
            None if t is None else _multiply(t, weight, in_place)
            for t in (element_loss, element_grad, element_hess)
        )
    return Terms(element_loss, element_grad, element_hess)


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


def _cast(xp: Namespace, x: Array, dtype: Any) -> Array:
    """`x` as `dtype`; results computed in float32 for a 16-bit dtype become +-inf beyond its
    range here, so that NumPy's cast does not warn about overflow."""
    if x.dtype == dtype:
        return x
    if dtype_kind(xp, dtype) == "half" or float(xp.finfo(dtype).max) < float(xp.finfo(x.dtype).max):
        info = xp.finfo(dtype)
        top = float(info.max)  # values from here to max + ulp / 2 round to max, beyond to inf
        limit = top + 0.5 * float(info.eps) * 2.0 ** math.floor(math.log2(top))
        x = xp.where(xp.abs(x) >= limit, xp.copysign(math.inf, x), x)  # (NaN stays NaN)
    return xp.astype(x, dtype, copy=False)


def _reduce(terms: Array, request: Request) -> Array:
    """Reduce the loss terms (already divided by the count for 'mean') over `request.axis`;
    `blocks` hands in its partial sums instead."""
    if request.reduction == "none":
        return terms
    if request.axis is None:
        total = request.xp.sum(terms)
        if request.keepdims:  # every axis reduced, and kept
            total = request.xp.reshape(total, request.kept_shape)
    else:
        total = request.xp.sum(terms, axis=request.axis, keepdims=request.keepdims)
    # An empty 'mean' is NaN, as in torch (0 * nan: no NumPy warning).
    return total * math.nan if request.reduction == "mean" and not request.count else total


def _sum_to_shape(xp: Namespace, grad: Array, shape: tuple[int, ...]) -> Array:
    """Sum `grad` over the axes along which an operand of `shape` was broadcast."""
    if tuple(grad.shape) == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    return xp.reshape(xp.sum(grad, axis=axes, keepdims=True), shape)
