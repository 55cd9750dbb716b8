"""What detection, Keras and JAX users ask for (issue 19): `where=` masks, `avg_factor=` and
``reduction='weighted_mean'``, on every backend (jitted on JAX, lazily on Dask: the `xp`
fixture), against the float64 NumPy reference on the selected elements."""

import math
import os
import warnings

import numpy as np
import pytest
from helpers import assert_close, to_numpy

import huberish as hb
from huberish._reference import reference

RNG = np.random.default_rng(19)
X = RNG.normal(size=(4, 5)) * 2
Y = RNG.normal(size=(4, 5))
WHERE = RNG.random((4, 5)) > 0.3
WHERE[3] = False  # a sample with no element included
WEIGHT = 0.5 + RNG.random((4, 1))  # one per sample, as Keras' sample_weight
# Excluded elements hold what 0 * weight cannot mask: inf and NaN predictions.
X_BAD = np.where(WHERE, X, np.array([np.inf, -np.inf, np.nan, 1e308, 0.0])[np.arange(5)])

FUNCTIONS = {
    "smooth_l1": (hb.smooth_l1_loss_grad_hess, hb.smooth_l1_loss_backward, "beta", 1.0),
    "huber": (hb.huber_loss_grad_hess, hb.huber_loss_backward, "delta", 0.7),
    "pseudo_huber": (hb.pseudo_huber_loss_grad_hess, hb.pseudo_huber_loss_backward, "delta", 0.7),
}


def _reference(kind, x, y, weight=None, reduction="sum"):
    """The reference's loss and gradient with respect to `input` for `kind`."""
    threshold = FUNCTIONS[kind][3]
    scale = threshold if kind == "huber" else 1.0
    loss, grad, _ = reference(
        x, y, beta=threshold, scale=scale, reduction=reduction, weight=weight,
        pseudo_huber=kind == "pseudo_huber",
    )  # fmt: skip
    return loss, grad


def _expected(kind, reduction, *, weight=None, axis=None, avg_factor=None):
    """Loss and gradient with `where=WHERE`: the reference's over the included elements only
    (per sample with `axis=1`), divided as `reduction` says."""
    w = np.broadcast_to(1.0 if weight is None else weight, X.shape)
    rows = range(4) if axis == 1 else [None]
    losses, grad = [], np.zeros(X.shape)
    for row in rows:
        mask = WHERE if row is None else (np.arange(4) == row)[:, None] & WHERE
        total, g = _reference(kind, X[mask], Y[mask], weight=w[mask], reduction="sum")
        if reduction == "sum":
            divisor = 1.0
        elif reduction == "weighted_mean":
            divisor = w[mask].sum() or math.inf
        elif avg_factor is not None:
            factor = avg_factor if np.ndim(avg_factor) == 0 else avg_factor[row]
            divisor = factor or math.inf
        else:
            divisor = mask.sum() if mask.any() else math.nan
        losses.append(total / divisor)
        grad[mask] = g / (divisor if mask.any() else 1.0)
    return (losses[0] if axis is None else np.array(losses)), grad


@pytest.mark.parametrize("kind", FUNCTIONS)
@pytest.mark.parametrize(
    ("reduction", "axis", "weighted"),
    [("mean", None, False), ("sum", None, True), ("mean", 1, True), ("weighted_mean", None, True),
     ("weighted_mean", 1, True), ("weighted_mean", None, False)],
)  # fmt: skip
def test_where_excludes_elements_whatever_they_hold(xp, asarray, kind, reduction, axis, weighted):
    """Excluded elements (inf, NaN, 1e308 among them) contribute exactly 0 to the loss, the
    gradient and the Hessian; 'mean' divides by the included count (a sample with none: NaN),
    'weighted_mean' by the included weight (none: 0)."""
    grad_hess, backward, name, threshold = FUNCTIONS[kind]
    weight = WEIGHT if weighted else None
    options = {"reduction": reduction, "axis": axis, name: threshold}
    x, y, where = asarray(X_BAD), asarray(Y), asarray(WHERE)
    w = None if weight is None else asarray(weight)
    loss, grad, hess = grad_hess(x, y, weight=w, where=where, **options)
    want_loss, want_grad = _expected(kind, reduction, weight=weight, axis=axis)
    if reduction == "weighted_mean" and axis == 1:
        want_loss = np.nan_to_num(want_loss, nan=0.0)  # (no weight included: 0)
    assert_close(loss, want_loss, dtype="float64")
    assert_close(grad, want_grad, dtype="float64")
    hess_np = to_numpy(hess)
    assert np.all(hess_np[~WHERE] == 0.0)
    assert np.all(np.isfinite(hess_np))
    grad_x, grad_y = backward(
        asarray(np.ones(np.shape(want_loss))), x, y, weight=w, where=where, **options
    )
    assert_close(grad_x, want_grad, dtype="float64")
    assert_close(grad_y, -want_grad, dtype="float64")


def test_where_with_none_reduction_and_the_classes(xp, asarray):
    x, y, where = asarray(X_BAD), asarray(Y), asarray(WHERE)
    elements = hb.huber_loss(x, y, reduction="none", delta=0.7, where=where)
    want = np.zeros(X.shape)
    want[WHERE] = reference(X[WHERE], Y[WHERE], beta=0.7, scale=0.7, reduction="none")[0]
    assert np.all(to_numpy(elements)[~WHERE] == 0.0)
    assert_close(elements, want, dtype="float64")
    crit = hb.SmoothL1Loss(reduction="sum", beta=0.5)
    want_sum = reference(X[WHERE], Y[WHERE], beta=0.5, reduction="sum")[0]
    assert_close(crit(x, y, where=where), want_sum, dtype="float64")


@pytest.mark.parametrize("kind", FUNCTIONS)
def test_avg_factor_divides_the_weighted_sum(xp, asarray, kind):
    """mmdetection's `avg_factor`: the (weighted) sum over a factor the caller knows; per
    sample with `axis`; 0 gives 0."""
    grad_hess, _, name, threshold = FUNCTIONS[kind]
    x, y, w = asarray(X), asarray(Y), asarray(WEIGHT)
    total, grad = _reference(kind, X, Y, weight=np.broadcast_to(WEIGHT, X.shape))
    for factor in (3.0, 7, 0.0):
        loss, g, _ = grad_hess(x, y, weight=w, avg_factor=factor, **{name: threshold})
        divisor = factor or math.inf
        assert_close(loss, total / divisor, dtype="float64")
        assert_close(g, grad / divisor, dtype="float64")
    factors = np.array([2.0, 0.0, 5.0, 1.0])
    loss, g, _ = grad_hess(x, y, weight=w, avg_factor=asarray(factors), axis=1, **{name: threshold})
    rows = [_reference(kind, X[i], Y[i], weight=np.broadcast_to(WEIGHT[i], 5)) for i in range(4)]
    divisors = np.where(factors == 0, np.inf, factors)
    assert_close(loss, np.array([r[0] for r in rows]) / divisors, dtype="float64")
    assert_close(g, np.stack([r[1] for r in rows]) / divisors[:, None], dtype="float64")


def test_avg_factor_and_where_together(xp, asarray):
    loss = hb.smooth_l1_loss(asarray(X_BAD), asarray(Y), where=asarray(WHERE), avg_factor=4.0)
    want = reference(X[WHERE], Y[WHERE], beta=1.0, reduction="sum")[0] / 4.0
    assert_close(loss, want, dtype="float64")


def test_weighted_mean_counts_a_per_sample_weight_once_per_element(xp, asarray):
    """Keras' ``mean_with_sample_weight``: a weight of shape (N, 1) counts once per element;
    a total weight of 0 gives loss 0 and gradient 0, with no warning; no weight is 'mean'."""
    x, y = asarray(X), asarray(Y)
    wide = np.broadcast_to(WEIGHT, X.shape)
    total, grad, _ = reference(X, Y, beta=0.7, scale=0.7, reduction="sum", weight=wide)
    loss, g = hb.huber_loss_and_grad(x, y, "weighted_mean", 0.7, asarray(WEIGHT))
    assert_close(loss, total / wide.sum(), dtype="float64")
    assert_close(g, grad / wide.sum(), dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, g = hb.huber_loss_and_grad(x, y, "weighted_mean", 0.7, asarray(np.zeros((4, 1))))
    assert_close(loss, 0.0, dtype="float64")
    assert_close(g, np.zeros(X.shape), dtype="float64")
    mean = reference(X, Y, beta=0.7, scale=0.7, reduction="mean")[0]
    assert_close(hb.huber_loss(x, y, "weighted_mean", 0.7), mean, dtype="float64")


def test_bad_where_and_avg_factor_raise(xp, asarray):
    x, y = asarray(X), asarray(Y)
    cases = [
        (lambda: hb.huber_loss(x, y, where=asarray(WHERE.astype(np.float64))), TypeError,
         "`where` must have a boolean dtype"),
        (lambda: hb.huber_loss(x, y, where=True), TypeError, "`where` must be a boolean array"),
        (lambda: hb.huber_loss(x, y, where=asarray(np.ones(3, bool))), ValueError,
         "`where` of shape"),
        (lambda: hb.huber_loss(x, y, reduction="sum", avg_factor=2.0), ValueError,
         "`avg_factor` applies to reduction='mean' only"),
        (lambda: hb.huber_loss(x, y, reduction="weighted_mean", avg_factor=2.0), ValueError,
         "`avg_factor` applies to reduction='mean' only"),
        (lambda: hb.huber_loss(x, y, avg_factor=-1.0), ValueError, "`avg_factor` must be non"),
        (lambda: hb.huber_loss(x, y, avg_factor=math.nan), ValueError, "`avg_factor` must be non"),
        (lambda: hb.huber_loss(x, y, avg_factor="4"), TypeError, "`avg_factor` must be a number"),
        (lambda: hb.huber_loss(x, y, avg_factor=asarray(np.ones(3))), ValueError,
         "`avg_factor` of shape"),
    ]  # fmt: skip
    for call, exception, message in cases:
        with pytest.raises(exception, match=message):
            call()


def test_numpy_avg_factor_values_are_checked():
    with pytest.raises(ValueError, match="`avg_factor` must be non-negative"):
        hb.huber_loss(X, Y, axis=1, avg_factor=np.array([1.0, -1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="`avg_factor` must be non-negative"):
        hb.huber_loss(X, Y, axis=1, avg_factor=np.array([1.0, np.nan, 2.0, 3.0]))


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean_with_sample_weight"])
def test_keras_huber_with_sample_weight(reduction):
    """Keras 3's own `Huber` with a `sample_weight` per sample (where Keras is installed, on its
    JAX backend): 'sum_over_batch_size' is 'mean' with the weight, 'mean_with_sample_weight' is
    'weighted_mean' (keras PR #20410); a total weight of 0 gives 0 in both."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    ours = {"sum_over_batch_size": "mean", "mean_with_sample_weight": "weighted_mean"}[reduction]
    x, y = X.astype(np.float32), Y.astype(np.float32)
    for sample_weight in (WEIGHT[:, 0], np.zeros(4)):
        theirs = keras.losses.Huber(delta=0.7, reduction=reduction)(y, x, sample_weight)
        got = hb.huber_loss(
            x, y, delta=0.7, weight=sample_weight[:, None].astype(np.float32), reduction=ours
        )
        np.testing.assert_allclose(got, np.asarray(theirs), rtol=2e-6, atol=1e-7)
