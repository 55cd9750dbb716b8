"""The losses: each one's threshold and per-element terms (loss, gradient, second derivative).

The bottom of the kernel: the whole-array path (`huberish._kernel`) and the blocked NumPy path
(`huberish._blocks`) call `weighted_terms` on ``d = input - target``. Nothing here reduces, casts
or validates; the arguments arrive checked and in the computation dtype. Adding a loss is an
entry in `LOSSES`, its terms in `element_terms`, and its public functions.
"""

import math
from typing import Any, Literal, NamedTuple

from ._compat import Array, Namespace, clip, updates_in_place

__all__ = [
    "LOSSES",
    "Coefficients",
    "Loss",
    "LossName",
    "Terms",
    "coefficients",
    "element_terms",
    "weighted_terms",
]

LossName = Literal["smooth_l1", "huber", "pseudo_huber"]


class Loss(NamedTuple):
    """What validation needs to know of a loss."""

    threshold: str
    """The name of its threshold argument."""
    allows_zero: bool
    """Whether a threshold of 0 is valid (smooth L1's ``beta = 0`` is the L1 loss)."""


LOSSES: dict[LossName, Loss] = {
    "smooth_l1": Loss("beta", allows_zero=True),
    "huber": Loss("delta", allows_zero=False),
    "pseudo_huber": Loss("delta", allows_zero=False),
}


class Coefficients(NamedTuple):
    """What the per-element terms of one call depend on, besides the residual.

    Smooth L1 and Huber are computed as ``scale * smooth_l1(d, beta) / divisor``: smooth L1 has
    ``scale = 1``, Huber with `delta` has ``beta = scale = delta``. For pseudo-Huber, `beta` is
    its ``delta`` and `scale` is unused. `beta` is the threshold as the computation dtype sees
    it (0 below its smallest normal number, inf beyond its largest), `scale` the threshold as
    given.
    """

    loss: LossName
    beta: Any
    """A Python float, or an array of thresholds per element (see `coefficients`)."""
    scale: Any
    divisor: int
    """The 'mean' divisor: the number of elements each reduced loss averages; 1 for 'sum' and
    'none', and for an empty 'mean' (which has no terms to divide: `huberish._kernel` makes its
    reduced loss NaN)."""
    slope_divisor: float | None = None
    """``0.5 * beta / scale * divisor``, by which `_smooth_l1` divides in one step; None where
    it works in steps (see there)."""


def coefficients(
    loss: LossName, threshold: Any, dtype: Any, *, divisor: int, xp: Namespace
) -> Coefficients:
    """The terms' coefficients of `loss` with a validated `threshold`, computed in `dtype`.

    A threshold per element (an array in `dtype`, NaN at invalid entries) is seen per element
    as a number is: below the smallest normal number, 0."""
    if not isinstance(threshold, float):
        if loss == "pseudo_huber":
            return Coefficients(loss, threshold, threshold, divisor)
        tiny = threshold < float(xp.finfo(dtype).smallest_normal)
        beta = xp.where(tiny, xp.zeros_like(threshold), threshold)
        return Coefficients(loss, beta, 1.0 if loss == "smooth_l1" else threshold, divisor)
    if loss == "pseudo_huber":  # (computes with any delta, see `_pseudo_huber`)
        return Coefficients(loss, threshold, threshold, divisor)
    beta = threshold
    # smooth L1 and Huber see the threshold as the dtype does: below its smallest normal
    # number 0, beyond its largest inf (both limits are exact formulas in `_limits`)
    if 0.0 < beta < math.inf and not _NORMAL[0] <= beta <= _NORMAL[1]:
        info = xp.finfo(dtype)  # (float(): a NumPy float32 would cast beta to float32)
        if beta < float(info.smallest_normal):
            beta = 0.0
        elif beta > float(info.max):
            beta = math.inf
    scale = 1.0 if loss == "smooth_l1" else threshold
    slope_divisor = None
    if 0.0 < beta < math.inf:
        # not for long double, whose precision a Python-float divisor (float64) would lose
        low, high = _NORMAL_RECIPROCAL
        candidate = 0.5 * (beta / scale) * divisor
        if beta > low and low < candidate < high and xp.finfo(dtype).bits <= 64:
            slope_divisor = candidate
    return Coefficients(loss, beta, scale, divisor, slope_divisor)


_NORMAL = (1.2e-38, 3.4e38)
"""Thresholds that every computation dtype (float32 or wider) represents as normal numbers."""


class Terms(NamedTuple):
    """Per-element terms; each is None unless asked for."""

    loss: Array | None
    grad: Array | None
    hess: Array | None
    threshold: Array | None = None
    """The derivative for the threshold, where it is an array (a number gets none)."""


def weighted_terms(
    d: Array,
    weight: Array | None,
    grad_output: Array | float | None,
    *,
    coefficients: Coefficients,
    loss: bool,
    grad: bool,
    hess: bool = False,
    threshold: bool = False,
    divisor: Array | float | None = None,
    xp: Namespace,
) -> Terms:
    """`element_terms` of `d`, each divided by `divisor` if given (one the coefficients do not
    hold: a total weight, an `avg_factor`, a count known only as Dask computes), then times
    `weight`; the gradient also times `grad_output`.

    `d` is a temporary the caller owns (see `element_terms`).
    """
    terms = element_terms(
        d, coefficients=coefficients, loss=loss, grad=grad, hess=hess, threshold=threshold, xp=xp
    )
    if divisor is not None:
        terms = Terms(*(None if t is None else t / divisor for t in terms))
    if weight is None and grad_output is None:
        return terms
    in_place = updates_in_place(xp)
    if terms.grad is not None and grad_output is not None:
        terms = terms._replace(grad=_multiply(terms.grad, grad_output, in_place=in_place))
    if weight is not None:
        terms = Terms(
            *(None if t is None else _multiply(t, weight, in_place=in_place) for t in terms)
        )
    return terms


def element_terms(
    d: Array,
    *,
    coefficients: Coefficients,
    loss: bool = True,
    grad: bool = True,
    hess: bool = False,
    threshold: bool = False,
    xp: Namespace,
) -> Terms:
    """Per-element loss, gradient and second derivative of the loss, ``d = input - target``,
    and (if `threshold`, for a threshold per element) the derivative for the threshold.

    For 'mean' every term is divided by the number of elements it is averaged over, so that the
    loss terms sum to the mean. `d` is a temporary the caller owns: on NumPy and CuPy it is
    overwritten in place, which saves memory and passes.
    """
    name, beta, scale, divisor, _ = coefficients
    if not isinstance(beta, float):
        terms = _per_element(d, name, beta, scale, loss, grad, hess, threshold, xp=xp)
    elif name != "pseudo_huber" and 0.0 < beta < math.inf:
        return _smooth_l1(d, coefficients, loss=loss, grad=grad, hess=hess, xp=xp)
    elif name == "pseudo_huber":
        terms = _pseudo_huber(d, delta=beta, loss=loss, grad=grad, hess=hess, xp=xp)
    else:
        # Huber's delta beyond the dtype's range (or inf) is the limit 0.5 * d**2; below its
        # normal range, scale * |d|. Smooth L1 takes its own limits.
        quadratic = name == "huber" and math.isinf(beta)
        terms = _limits(
            d, beta=beta, scale=scale, quadratic=quadratic, loss=loss, grad=grad, hess=hess, xp=xp
        )
    if divisor == 1:
        return terms
    # (by the divisor itself: 1 / divisor as a Python float is rounded to float64, which is
    # coarser than long double)
    return Terms(*(None if t is None else t / divisor for t in terms))


def _per_element(
    d: Array,
    name: LossName,
    beta: Array,
    scale: Any,
    loss: bool,
    grad: bool,
    hess: bool,
    threshold: bool,
    *,
    xp: Namespace,
) -> Terms:
    """The terms for a threshold per element (`beta`: 0 for L1, inf, or NaN where invalid),
    each element's regime chosen by `where`; pseudo-Huber's are `_pseudo_huber`'s.

    Inside ``|d| < beta`` (Huber: also everywhere for ``delta = inf``) the gradient is
    ``d / beta`` (Huber: ``d``) and the loss ``gradient * d / 2``; outside, ``sign(d)`` times
    the scale and ``|d| - beta / 2`` times the scale (``beta = inf``: ``|d|``, for an infinite
    residual), as for a number. For the threshold: smooth L1's ``-gradient**2 / 2``, Huber's
    ``|d| - delta`` outside and 0 inside.
    """
    if name == "pseudo_huber":
        return _pseudo_huber(
            d, delta=beta, loss=loss, grad=grad, hess=hess, threshold=threshold, xp=xp
        )
    huber = name == "huber"
    d = xp.where(xp.isnan(beta), beta, d)  # an invalid entry gives NaN, as a NaN residual
    a, zero, infinite = xp.abs(d), xp.zeros_like(d), xp.isinf(beta)
    inside = (a < beta) | infinite if huber else a < beta  # (False for NaN)
    # (no division by 0: no NumPy warning; of the elements' shape: XLA turns a division by a
    # broadcast into a multiplication by its reciprocal, which may be subnormal, and flushes it)
    divisor = xp.where(beta == 0.0, xp.ones_like(d), beta)
    sign = _sign(d, xp=xp)
    slope = xp.where(inside, d if huber else d / divisor, sign * scale if huber else sign)
    element_loss = curvature = by_threshold = None
    if loss:
        outside = a - 0.5 * xp.where(infinite, xp.zeros_like(beta), beta)
        element_loss = xp.where(inside, slope * (0.5 * d), outside * scale if huber else outside)
    if hess:
        curvature = xp.where(inside, xp.ones_like(d) if huber else 1.0 / divisor, zero)
        curvature = xp.where(xp.isnan(d), d, curvature)
    if threshold:
        by_threshold = xp.where(inside, zero, a - scale) if huber else -0.5 * slope * slope
    return Terms(element_loss, slope if grad else None, curvature, by_threshold)


def _smooth_l1(
    d: Array, coefficients: Coefficients, *, loss: bool, grad: bool, hess: bool, xp: Namespace
) -> Terms:
    """``scale * smooth_l1(d, beta) / divisor``, for finite ``beta > 0``.

    Smooth L1 is ``scale = 1``; Huber with `delta` is ``beta = scale = delta``. With
    ``r = clip(d, -beta, beta)``::

        grad = r * scale / (beta * divisor)
        loss = grad * (d - r / 2)      # 0.5 * d**2 / beta inside, |d| - beta / 2 outside
        hess = scale / (beta * divisor) where |d| < beta, else 0 (torch's double backward)

    ``|r| <= beta``, so nothing overflows before the result does (torch's ``0.5 * d * d / beta``
    overflows for ``|d| > 1.8e19`` in float32). Huber's loss is torch's formula to the bit, and
    the gradient is exactly +-scale / divisor outside whenever ``beta / scale * divisor`` is
    exact. NaN gives NaN; an infinite residual gives loss inf and gradient +-scale / divisor.
    """
    _, beta, scale, divisor, slope_divisor = coefficients
    curvature = None
    if hess:  # before `d` is overwritten
        curvature = _divide(xp.astype(xp.abs(d) < beta, d.dtype), beta / scale, xp=xp)
        curvature = curvature if divisor == 1 else curvature / divisor
        curvature = xp.where(xp.isnan(d), d, curvature)
    r = clip(d, -beta, beta, xp=xp)
    if slope_divisor is None:
        # In steps where ``0.5 * beta / scale * divisor`` or its reciprocal is not a normal
        # number (and without r / 2 first, which XLA flushes for a beta near the smallest
        # normal number), and for long double. ratio = r * scale / beta (smooth L1: in
        # [-1, 1]; Huber: r), divided by the divisor last: the slope may be subnormal (which
        # XLA flushes) where the loss is not.
        ratio = _divide(r, beta / scale, xp=xp)
        slope = (ratio if divisor == 1 else ratio / divisor) if grad else None
        element_loss = None
        if loss:
            element_loss = ratio * (d - r * 0.5)
            element_loss = element_loss if divisor == 1 else element_loss / divisor
        return Terms(element_loss, slope, curvature)
    # The gradient as r / (2 slope_divisor): the halving is exact, and r / 2 serves the loss.
    if not loss:
        return Terms(None, r / (2.0 * slope_divisor) if grad else None, curvature)
    if updates_in_place(xp):  # (0-d NumPy results are scalars: the operators then rebind)
        r *= 0.5
        d -= r
        r /= slope_divisor
        d *= r
        return Terms(d, r if grad else None, curvature)
    half = r * 0.5
    slope = r / (2.0 * slope_divisor)  # (not half / slope_divisor: XLA flushes a subnormal half)
    return Terms(slope * (d - half), slope if grad else None, curvature)


_NORMAL_RECIPROCAL = (1e-30, 1e30)
"""Python-float factors whose reciprocals are normal numbers in every computation dtype
(float32's normal range is 1.2e-38 to 3.4e38): XLA turns a division by a constant into a
multiplication by its reciprocal, and flushes a subnormal one to 0."""


def _divide(x: Array, *factors: float, xp: Namespace) -> Array:
    """`x` divided by the product of positive finite Python floats, without that product or its
    reciprocal over- or underflowing: by a mantissa in [1, 2), then by powers of two that are
    normal in every dtype (exact, but for a subnormal result)."""
    mantissa, exponent = 1.0, 0
    for factor in factors:
        m, e = math.frexp(factor)
        mantissa, exponent = mantissa * m, exponent + e
    m, e = math.frexp(mantissa)  # (a product of mantissas in [1/2, 1): no underflow)
    exponent += e
    low, high = _NORMAL_RECIPROCAL
    if low < math.ldexp(m, max(-1000, min(1000, exponent))) < high:
        return x / math.ldexp(m, exponent)
    # Up by the power of two first (`x` may be subnormal: dividing it first loses its bits),
    # down by it last (the quotient then rounds once more, at most).
    if exponent < 1:
        return _times_power_of_two(x, 1 - exponent) / (2.0 * m)
    return _times_power_of_two(x / (2.0 * m), 1 - exponent)


def _scale(x: Array, factor: float) -> Array:
    """``x * factor`` for a positive Python float `factor` that may be subnormal or huge."""
    if _NORMAL_RECIPROCAL[0] < factor < _NORMAL_RECIPROCAL[1]:
        return x * factor
    m, e = math.frexp(factor)
    return _times_power_of_two(x * m, e)


def _times_power_of_two(x: Array, exponent: int) -> Array:
    """``x * 2**exponent`` in steps by normal powers of two (monotone: no spurious overflow)."""
    while exponent:
        step = max(-100, min(100, exponent))
        x = x * 2.0**step
        exponent -= step
    return x


def _limits(
    d: Array,
    *,
    beta: float,
    scale: float,
    quadratic: bool,
    loss: bool,
    grad: bool,
    hess: bool,
    xp: Namespace,
) -> Terms:
    """The limits ``beta == 0`` (exact L1, times `scale`) and ``beta == inf`` of
    ``scale * smooth_l1(d, beta)``.

    With `quadratic`, ``beta == inf`` is Huber's (and pseudo-Huber's) limit ``0.5 * d**2``
    instead of smooth L1's 0 for finite residuals. For ``beta == 0``, `scale` is 1 (smooth L1)
    or Huber's delta below the dtype's normal range.
    """
    if beta == 0.0:
        return Terms(
            (xp.abs(d) if scale == 1.0 else _scale(xp.abs(d), scale)) if loss else None,
            (_sign(d, xp=xp) if scale == 1.0 else _scale(_sign(d, xp=xp), scale)) if grad else None,
            _constant_like(d, 0.0, xp=xp) if hess else None,
        )
    a = xp.abs(d)
    if quadratic:
        return Terms(
            0.5 * a * a if loss else None,
            d if grad else None,
            _constant_like(d, 1.0, xp=xp) if hess else None,
        )
    inside, zero = a < beta, xp.zeros_like(a)
    return Terms(
        xp.where(inside, zero, a) if loss else None,
        xp.where(inside, zero, _sign(d, xp=xp)) if grad else None,
        _constant_like(d, 0.0, xp=xp) if hess else None,
    )


def _pseudo_huber(
    d: Array,
    *,
    delta: Any,
    loss: bool,
    grad: bool,
    hess: bool,
    threshold: bool = False,
    xp: Namespace,
) -> Terms:
    """``delta**2 * (sqrt(1 + (d / delta)**2) - 1)``, its gradient and second derivative; for
    a `delta` per element (an array), also the derivative for it.

    With ``u = d / delta`` and ``h = sqrt(1 + u**2)``: loss ``delta**2 (h - 1)``, gradient
    ``delta u / h``, second derivative ``1 / h**3``, derivative for delta
    ``delta u**4 / (h (h + 1)**2)``. Two forms keep every step finite and accurate: for
    ``|u| < 1``, ``h - 1 = u**2 / (h + 1)`` (no cancellation); for ``|u| >= 1``, with
    ``v = 1 / |u|``, ``h = |u| sqrt(1 + v**2)`` and the loss ``delta |d| / (sqrt(1 + v**2) +
    v)``, the same identity (no overflow of ``u**2``, no cancellation; an infinite residual
    gives loss inf, gradient +-delta and second derivative 0). NaN gives NaN.
    """
    number = isinstance(delta, float)
    if number and math.isinf(delta):  # 0.5 * d**2, as for Huber
        return _limits(
            d, beta=delta, scale=delta, quadratic=True, loss=loss, grad=grad, hess=hess, xp=xp
        )
    if number and delta == 0.0:  # below the dtype's normal range: the limit is 0
        zero = _constant_like(d, 0.0, xp=xp)
        return Terms(zero if loss else None, zero if grad else None, zero if hess else None)
    if number:
        u = _divide(d, delta, xp=xp)
    else:  # (u = 0 for an infinite residual at an infinite delta, and for d = delta = 0, a
        # delta below the dtype's range; see `_per_element` for the divisor of the elements'
        # shape)
        zero = (xp.isinf(delta) & xp.isinf(d)) | ((delta == 0.0) & (d == 0.0))
        u = xp.where(zero, xp.zeros_like(d), d / xp.where(zero, xp.ones_like(d), delta))
    small = xp.abs(u) < 1.0
    us = clip(u, -1.0, 1.0, xp=xp)  # the |u| < 1 form sees |u| <= 1
    # the |u| >= 1 form sees |u| >= 1; `where`, not `maximum`, whose derivative at the tie
    # |u| == 1 is split in half by torch and JAX when they differentiate through this code
    magnitude = xp.abs(u)
    big = xp.where(small, xp.ones_like(magnitude), magnitude)
    v = 1.0 / big
    hs, hl = xp.sqrt(us * us + 1.0), xp.sqrt(v * v + 1.0)
    # delta * u and delta**2 are never formed (they under- or overflow for a tiny or huge
    # delta, and u may be subnormal): the |u| < 1 form uses d, the |u| >= 1 form
    # delta * |d| / (h_l + v) (h - 1 = u**2 / (h + 1): no cancellation, where |d| h_l - delta
    # lost bits near |u| = 1) and delta * sign(d) / h_l (for |u| >= 1, `us` is sign(d)).
    # (|d| >= delta beyond the dtype's range only for |d| = inf: a bound that stays finite)
    if number:
        shift = delta if delta < 3.4e38 else min(delta, float(xp.finfo(d.dtype).max))
    else:  # (in the computation dtype: finite or inf, and the |u| >= 1 form sees no inf)
        shift = delta
    ds = None
    if loss or grad or threshold:
        ds = clip(d, -shift, shift, xp=xp) if number else xp.minimum(xp.maximum(d, -shift), shift)

    def scale(x: Array) -> Array:
        return _scale(x, delta) if number else x * delta

    return Terms(
        xp.where(small, ds * (ds / (hs + 1.0)), scale(xp.abs(d) / (hl + v))) if loss else None,
        xp.where(small, ds / hs, scale(us / hl)) if grad else None,
        xp.where(small, (1.0 / hs) ** 3, (v / hl) ** 3) if hess else None,
        xp.where(small, ds * us**3 / (hs * (hs + 1.0) ** 2), xp.abs(d) / hl * ((hl - v) / (hl + v)))
        if threshold
        else None,
    )


def _sign(d: Array, *, xp: Namespace) -> Array:
    """``xp.sign(d)`` (NaN for NaN) from comparisons: array-api-compat's torch `sign` writes NaN
    through a boolean mask, which ``torch.func.vmap`` cannot batch."""
    positive, negative = xp.astype(d > 0, d.dtype), xp.astype(d < 0, d.dtype)
    return xp.where(xp.isnan(d), d, positive - negative)


def _constant_like(d: Array, value: float, *, xp: Namespace) -> Array:
    """`value` where `d` is a number, NaN where it is NaN."""
    return xp.where(xp.isnan(d), d, xp.full_like(d, value))


def _multiply(x: Array, factor: Array | float, *, in_place: bool) -> Array:
    """``x * factor``, reusing `x` (a temporary of ours) where the backend allows it."""
    if in_place:
        x *= factor
        return x
    return x * factor
