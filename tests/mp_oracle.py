"""An arbitrary-precision (mpmath, 200 bits) oracle for every loss, reduction and derivative.

Written from the definitions in docs/semantics.md, not from the kernel: per element, the loss,
the gradient and the Hessian diagonal of ``d = input - target`` (``d`` rounded once to the
computation dtype, as any implementation that forms the difference must), then the weights,
`grad_output` and the reduction, all exact, rounded once at the end.
"""

import math
from typing import Any

import mpmath
import numpy as np

PREC = 200
# The tests' own arithmetic on the oracle's mpf results (signs, sums over broadcast axes) is
# exact too: mpmath's working precision for the whole test session (only these tests use it).
mpmath.mp.prec = PREC

# The computation dtype of each operand dtype (half precision is computed in float32).
COMPUTE = {"float16": "float32", "float32": "float32", "float64": "float64"}
COMPUTE["longdouble"] = "longdouble"


def finfo(name: str) -> np.finfo:
    return np.finfo(np.dtype(name))


def to_mpf(value: Any) -> mpmath.mpf:
    """A NumPy float (any precision) as an exact mpf (or +-inf / NaN)."""
    value = np.asarray(value)
    if value.dtype == np.longdouble and finfo("longdouble").nmant > 52:
        if not np.isfinite(value):
            return mpmath.mpf(float(value))
        # exactly, from its integer mantissa (the shortest repr that round-trips is only within
        # half an ulp: after a cancellation, as x - y near 1, that is a relative error of 1e-17)
        bits = finfo("longdouble").nmant + 1
        mantissa, exponent = np.frexp(value[()])
        return mpmath.ldexp(mpmath.mpf(int(np.ldexp(mantissa, bits))), int(exponent) - bits)
    return mpmath.mpf(float(value))


def round_to(value: mpmath.mpf, name: str) -> Any:
    """`value` rounded to the nearest number of dtype `name` (+-inf beyond its range)."""
    dtype = np.dtype(name)
    if mpmath.isnan(value):
        return dtype.type(np.nan)
    if mpmath.isinf(value):
        return dtype.type(np.inf if value > 0 else -np.inf)
    if dtype == np.longdouble and finfo("longdouble").nmant > 52:
        return np.longdouble(mpmath.nstr(value, 40, min_fixed=1, max_fixed=0))
    info = finfo(name)
    if abs(value) >= mpmath.mpf(float(info.max)) * (1 + mpmath.mpf(2) ** -(info.nmant + 1)):
        return dtype.type(np.inf if value > 0 else -np.inf)
    # float64 first (correctly rounded by mpmath), then the dtype: a double rounding only for
    # float32 and float16, inside the tolerance.
    with np.errstate(over="ignore", under="ignore"):
        return np.asarray(float(value)).astype(dtype)[()]


def element_terms(
    kind: str, threshold: float, d: mpmath.mpf, compute: str
) -> tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf]:
    """Loss, gradient and second derivative of one element at residual `d` (an mpf)."""
    inf, nan = mpmath.inf, mpmath.nan
    if mpmath.isnan(d):
        return nan, nan, nan
    t = mpmath.mpf(threshold)
    if kind == "pseudo_huber":
        if mpmath.isinf(t):
            return d * d / 2 if not mpmath.isinf(d) else inf, d, mpmath.mpf(1)
        if mpmath.isinf(d):
            return inf, t * mpmath.sign(d), mpmath.mpf(0)
        u2 = (d / t) ** 2
        h = mpmath.sqrt(1 + u2)
        return t * t * u2 / (h + 1), d / h, 1 / h**3
    # smooth L1 (scale 1) and Huber (scale delta), with the threshold the dtype sees
    info = finfo(compute)
    scale = t if kind == "huber" else mpmath.mpf(1)
    beta = t
    if 0 < threshold < float(info.smallest_normal):
        beta = mpmath.mpf(0)
    elif threshold > float(info.max):
        beta = inf
    a = abs(d)
    # the regions as the dtype sees beta (rounded to it, as documented): torch's too
    edge = to_mpf(round_to(beta, compute)) if beta != 0 and not mpmath.isinf(beta) else beta
    if beta == 0:
        return scale * a, scale * mpmath.sign(d), mpmath.mpf(0)
    if mpmath.isinf(beta):
        if kind == "huber":
            return (d * d / 2 if not mpmath.isinf(d) else inf), d, mpmath.mpf(1)
        if mpmath.isinf(d):
            return inf, mpmath.sign(d), mpmath.mpf(0)
        return mpmath.mpf(0), mpmath.mpf(0), mpmath.mpf(0)
    if a < edge:
        return scale * d * d / (2 * beta), scale * d / beta, scale / beta
    return scale * (a - beta / 2), scale * mpmath.sign(d), mpmath.mpf(0)


def evaluate(
    kind: str,
    threshold: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    compute: str,
    reduction: str,
    weight: np.ndarray | None = None,
    grad_output: np.ndarray | None = None,
    axis: tuple[int, ...] | None = None,
    flush: bool = False,
) -> dict[str, Any]:
    """Exact results, as mpf object arrays: 'loss', 'grad' (element-wise, to be summed to each
    operand's shape), 'hess', and 'magnitude' (sum of |terms| of the loss: the size the
    reduction's rounding error is judged against). `flush`: subnormal residuals count as 0
    (XLA on CPU flushes them)."""
    with mpmath.workprec(PREC):
        x, y = np.broadcast_arrays(np.asarray(x), np.asarray(y))
        shape = x.shape
        # a threshold per element: an array (of float64 values, exact in any dtype)
        thresholds = np.broadcast_to(threshold, shape) if np.ndim(threshold) else None
        info = finfo(compute)
        loss = np.empty(shape, dtype=object)
        grad = np.empty(shape, dtype=object)
        hess = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            xi, yi = to_mpf(x[index]), to_mpf(y[index])
            if flush:  # XLA flushes subnormal operands too, before the difference
                tiny = to_mpf(info.smallest_normal)
                xi, yi = (mpmath.mpf(0) if abs(v) < tiny else v for v in (xi, yi))
            exact = xi - yi
            d = to_mpf(round_to(exact, compute)) if not mpmath.isnan(exact) else exact
            if flush and abs(d) < to_mpf(info.smallest_normal):
                d = mpmath.mpf(0)
            t = float(thresholds[index]) if thresholds is not None else threshold
            loss[index], grad[index], hess[index] = element_terms(kind, t, d, compute)
        # Where an element's loss is beyond the computation dtype's range, it may be inf in the
        # kernel before a weight or the 'mean' scales it back (as in torch): the reduced result
        # may then be inf or NaN. Marked by an infinite magnitude (mp_oracle.check).
        top = to_mpf(info.max)
        # A gradient element beyond the range is inf in the kernel before a weight or the
        # 'mean' scales it (pseudo-Huber's delta * sign(d) for a delta beyond the range): so
        # here too.
        if grad.size:
            grad = np.vectorize(
                lambda t: t if mpmath.isnan(t) or abs(t) <= top else mpmath.inf * mpmath.sign(t),
                otypes=[object],
            )(grad)
        beyond = (
            np.vectorize(lambda t: not mpmath.isnan(t) and abs(t) > top, otypes=[bool])(loss)
            if loss.size
            else np.zeros(shape, bool)
        )
        # A gradient element times the weight and `grad_output` may pass beyond the range in
        # either order of the products (the kernel multiplies by `grad_output` first): there
        # the result may be inf or NaN, marked by an infinite 'grad_magnitude'.
        scales = [np.broadcast_to(np.asarray(weight), shape)] if weight is not None else []
        if grad_output is not None:
            scales.append(np.broadcast_to(np.asarray(grad_output), shape))
        grad_magnitude = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            g = abs(grad[index])
            risky = not mpmath.isnan(g) and any(g * abs(to_mpf(s[index])) > top for s in scales)
            grad_magnitude[index] = mpmath.inf if risky else g
        if weight is not None:
            w = np.broadcast_to(np.asarray(weight), shape)
            for index in np.ndindex(shape):
                wi = to_mpf(w[index])
                loss[index], grad[index], hess[index] = (
                    _times(loss[index], wi),
                    _times(grad[index], wi),
                    _times(hess[index], wi),
                )
        axes = tuple(range(len(shape))) if axis is None else axis
        count = math.prod(shape[a] for a in axes)
        if reduction == "mean":
            divisor = mpmath.mpf(count) if count else mpmath.nan
            loss, grad, hess = (
                np.vectorize(lambda t: t / divisor, otypes=[object])(a) if a.size else a
                for a in (loss, grad, hess)
            )
        magnitude = np.vectorize(abs, otypes=[object])(loss) if loss.size else loss
        if loss.size:
            magnitude = np.where(beyond, mpmath.inf, magnitude)
        if reduction != "none":
            loss = _sum(loss, axes, count)
            magnitude = _sum(magnitude, axes, count)
            if reduction == "mean" and not count:  # an empty 'mean' is NaN
                loss = np.full(loss.shape, mpmath.nan, dtype=object)
        if grad_output is not None:
            kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
            go = np.asarray(grad_output)
            if reduction != "none":
                go = np.reshape(
                    np.broadcast_to(go, tuple(n for i, n in enumerate(shape) if i not in axes)),
                    kept,
                )
            go = np.broadcast_to(go, shape)
            for index in np.ndindex(shape):
                grad[index] = _times(grad[index], to_mpf(go[index]))
        for index in np.ndindex(shape):
            if not mpmath.isinf(grad_magnitude[index]):
                grad_magnitude[index] = abs(grad[index])
        return {
            "loss": loss,
            "grad": grad,
            "hess": hess,
            "magnitude": magnitude,
            "grad_magnitude": grad_magnitude,
        }


def _times(a: mpmath.mpf, b: mpmath.mpf) -> mpmath.mpf:
    if (mpmath.isinf(a) and b == 0) or (mpmath.isinf(b) and a == 0):
        return mpmath.nan
    return a * b


def _sum(terms: np.ndarray, axes: tuple[int, ...], count: int) -> np.ndarray:
    def total(values: np.ndarray) -> mpmath.mpf:
        values = list(values.ravel())
        if any(mpmath.isnan(v) for v in values):
            return mpmath.nan
        if any(mpmath.isinf(v) for v in values):
            signs = {mpmath.sign(v) for v in values if mpmath.isinf(v)}
            return mpmath.nan if len(signs) > 1 else mpmath.inf * signs.pop()
        return mpmath.fsum(values) if values else mpmath.mpf(0)

    if not axes:
        return terms
    moved = np.moveaxis(terms, axes, tuple(range(-len(axes), 0)))
    out_shape = moved.shape[: moved.ndim - len(axes)]
    flat = moved.reshape((*out_shape, count))
    result = np.empty(out_shape, dtype=object)
    for index in np.ndindex(out_shape):
        result[index] = total(flat[index])
    return result


def sum_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum the element-wise gradient over the axes along which an operand of `shape` was
    broadcast (exact, with IEEE's inf and NaN rules)."""
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    if not axes:
        return grad.reshape(shape)
    count = math.prod(grad.shape[a] for a in axes)
    moved = np.moveaxis(grad, axes, tuple(range(-len(axes), 0)))
    out_shape = moved.shape[: moved.ndim - len(axes)]
    summed = (
        _sum(moved.reshape((*out_shape, count)), (len(out_shape),), count)
        if count
        else np.full(out_shape, mpmath.mpf(0), dtype=object)
    )
    return summed.reshape(shape)


def check(
    got: Any, want: np.ndarray, magnitude: np.ndarray, *, dtype: str, compute: str, what: str
) -> None:
    """`got` (NumPy, of dtype `dtype`) matches the exact `want` (mpf objects).

    Tolerance, per element: ``4 eps(dtype) |want|`` (the final rounding, with a double rounding
    through float64 in the oracle) plus ``64 eps(compute) * magnitude`` (a few dozen roundings
    in the computation dtype, each relative to the terms summed: `magnitude` is the sum of
    their absolute values) plus ``4 * smallest_normal(dtype)`` (subnormal results, and XLA's
    flushing of them to 0). NaN where NaN is due, and infinities of the right sign, exactly.
    """
    with mpmath.workprec(PREC):
        _check(np.asarray(got), want, magnitude, dtype=dtype, compute=compute, what=what)


def _check(
    got: np.ndarray, want: np.ndarray, magnitude: np.ndarray, *, dtype: str, compute: str, what: str
) -> None:
    assert got.dtype == np.dtype(dtype), (what, got.dtype, dtype)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    rd, cd = finfo(dtype), finfo(compute)
    for index in np.ndindex(want.shape):
        g, w, m = got[index], want[index], magnitude[index]
        if mpmath.isinf(m) and not np.isfinite(g):
            continue  # an element's loss beyond the range: inf or NaN allowed (documented)
        if mpmath.isnan(w):
            assert np.isnan(g), (what, index, g, w)
            continue
        assert not np.isnan(g), (what, index, g, w)
        rounded = round_to(w, dtype)
        if np.isinf(rounded) or np.isinf(g):
            assert g == rounded or (not mpmath.isinf(m) and abs(w) > to_mpf(rd.max) * 0.99), (
                what,
                index,
                g,
                w,
            )
            continue
        limit = (
            4 * to_mpf(rd.eps) * abs(w)
            + 64 * to_mpf(cd.eps) * (m if not mpmath.isinf(m) else 0)
            + 4 * to_mpf(rd.smallest_normal)
        )
        assert abs(to_mpf(g) - w) <= limit, (what, index, g, float(w), float(limit))
