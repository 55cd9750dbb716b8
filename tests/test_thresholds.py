"""Thresholds per element (issue 19): `beta` / `delta` as arrays broadcastable to the elements,
on every backend (jitted on JAX, lazily on Dask: the `xp` fixture), against the mpmath oracle
element by element; their validation; and their derivative in the adapters (test_jax_adapter,
test_torch_adapter)."""

import math
import warnings

import mpmath
import numpy as np
import pytest
from helpers import assert_close, to_numpy
from mp_oracle import element_terms

import huberish as hb

lazy_xp_modules = [hb]  # run tagged functions jitted on JAX, lazily on Dask (helpers.py)

RNG = np.random.default_rng(4)
X = RNG.normal(size=(4, 5)) * 2
Y = RNG.normal(size=(4, 5))
WEIGHT = 0.5 + RNG.random((4, 1))

FUNCTIONS = {"smooth_l1": "beta", "huber": "delta", "pseudo_huber": "delta"}
# per element, per channel (the last axis), per sample, 0-d; smooth L1 takes 0 (exact L1)
SHAPES = [(4, 5), (5,), (4, 1), ()]


def _functions(kind):
    """`kind`'s `*_grad_hess` and `*_backward` (looked up at the call: under the `xp` fixture,
    patched to run jitted on JAX), and its threshold's name."""
    grad_hess, backward = (getattr(hb, f"{kind}_loss_{what}") for what in ("grad_hess", "backward"))
    return grad_hess, backward, FUNCTIONS[kind]


def _thresholds(kind, shape):
    values = 0.2 + 2 * RNG.random(shape)
    if kind == "smooth_l1" and shape:
        values.flat[0] = 0.0
    return values


def _oracle(kind, thresholds, reduction, axis=None, weight=None, compute="float64"):
    """Loss, gradient and Hessian diagonal for `input`, from the mpmath oracle per element with
    its own threshold (float64 results)."""
    t = np.broadcast_to(thresholds, X.shape)
    w = np.broadcast_to(1.0 if weight is None else weight, X.shape)
    terms = np.empty((3, *X.shape))
    for index in np.ndindex(X.shape):
        d = mpmath.mpf(float(X[index])) - mpmath.mpf(float(Y[index]))
        terms[(slice(None), *index)] = [
            float(v * mpmath.mpf(float(w[index])))
            for v in element_terms(kind, float(t[index]), d, compute)
        ]
    loss, grad, hess = terms
    if reduction == "none":
        return loss, grad, hess
    axes = tuple(range(X.ndim)) if axis is None else (axis,)
    count = math.prod(X.shape[a] for a in axes) if reduction == "mean" else 1
    return loss.sum(axis=axes) / count, grad / count, hess / count


@pytest.mark.parametrize("kind", FUNCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("reduction", "axis", "weighted"),
    [("mean", None, False), ("sum", None, True), ("none", None, False), ("mean", 1, True)],
)
def test_thresholds_per_element(xp, asarray, kind, shape, reduction, axis, weighted):
    """Each element computes with its own threshold: the loss, the gradients for `input` and
    `target`, the Hessian diagonal, as the oracle gives them element by element."""
    grad_hess, backward, name = _functions(kind)
    thresholds = _thresholds(kind, shape)
    weight = WEIGHT if weighted else None
    options = {"reduction": reduction, "axis": axis, name: asarray(thresholds)}
    x, y = asarray(X), asarray(Y)
    w = None if weight is None else asarray(weight)
    loss, grad, hess = grad_hess(x, y, weight=w, **options)
    want_loss, want_grad, want_hess = _oracle(kind, thresholds, reduction, axis, weight)
    assert_close(loss, want_loss, dtype="float64")
    assert_close(grad, want_grad, dtype="float64")
    assert_close(hess, want_hess, dtype="float64")
    ones = asarray(np.ones(np.shape(want_loss)))
    grad_input, grad_target = backward(ones, x, y, weight=w, **options)
    assert_close(grad_input, want_grad, dtype="float64")
    assert_close(grad_target, -want_grad, dtype="float64")


@pytest.mark.parametrize("kind", ["smooth_l1", "huber"])
def test_float32_thresholds_at_the_range_edges(kind):
    """Entries below float32's smallest normal number count as 0 (smooth L1: L1; Huber:
    ``delta * |d|``), beyond its largest as inf, as a number does (docs/semantics.md)."""
    grad_hess, _, name = _functions(kind)
    tiny = float(np.finfo(np.float32).smallest_normal)
    # (1e-50: positive, 0 in float32, valid as the number is)
    thresholds = np.array([tiny / 4, tiny, 1e-30, 0.5, 1e30, 1e39, 1e-50] * 2)[:10].reshape(2, 5)
    x, y = X[:2].astype(np.float32), Y[:2].astype(np.float32)
    loss, grad, hess = grad_hess(x, y, reduction="none", **{name: thresholds})
    for index in np.ndindex(x.shape):
        d = mpmath.mpf(float(x[index])) - mpmath.mpf(float(y[index]))
        d = mpmath.mpf(float(np.float32(d)))
        want = element_terms(kind, float(thresholds[index]), d, "float32")
        got = (loss[index], grad[index], hess[index])
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, float(w), rtol=2e-7, atol=1e-45)


@pytest.mark.parametrize("kind", FUNCTIONS)
def test_non_finite_residuals(kind):
    """NaN gives NaN; an infinite residual gives loss inf at a finite threshold."""
    grad_hess, _, name = _functions(kind)
    x = np.array([np.nan, np.inf, -np.inf, 1.0])
    loss, grad, _ = grad_hess(x, np.zeros(4), reduction="none", **{name: np.full(4, 0.5)})
    assert np.isnan(loss[0])
    assert np.isnan(grad[0])
    assert loss[1] == loss[2] == np.inf
    scale = 0.5 if kind != "smooth_l1" else 1.0
    assert (grad[1], grad[2]) == (scale, -scale)


@pytest.mark.parametrize(
    ("kind", "bad"),
    [("smooth_l1", -1.0), ("smooth_l1", math.nan), ("huber", 0.0), ("pseudo_huber", -2.0)],
)
def test_invalid_entries_raise_where_values_are_at_hand(xp, asarray, backend, kind, bad):
    """A negative or NaN entry (Huber, pseudo-Huber: also 0) is a ValueError naming the
    argument, where the values are at hand; under jax.jit and on Dask it is NaN at its
    elements (documented)."""
    grad_hess, _, name = _functions(kind)
    thresholds = np.full(5, 1.0)
    thresholds[2] = bad

    def call():
        return grad_hess(asarray(X), asarray(Y), reduction="none", **{name: asarray(thresholds)})

    if backend.wraps_calls:  # (jitted on JAX, lazy on Dask)
        loss, grad, _ = (to_numpy(v) for v in call())
        assert np.isnan(loss[:, 2]).all()
        assert np.isnan(grad[:, 2]).all()
        assert np.isfinite(np.delete(loss, 2, axis=1)).all()
        # an excluded element contributes 0 whatever its threshold (an invalid one too)
        where = np.arange(5) != 2
        masked = grad_hess(asarray(X), asarray(Y), reduction="sum", where=asarray(where),
                           **{name: asarray(thresholds)})  # fmt: skip
        fine = np.where(where, thresholds, 1.0)
        want_loss, want_grad, want_hess = _oracle(kind, fine, "none")
        assert_close(masked[0], (want_loss * where).sum(), dtype="float64")
        assert_close(masked[1], want_grad * where, dtype="float64")
        assert_close(masked[2], want_hess * where, dtype="float64")
    else:
        with pytest.raises(ValueError, match=f"`{name}` must be .* everywhere; 1 of its entries"):
            call()


def test_thresholds_are_checked():
    with pytest.raises(TypeError, match="`beta` must be a number or a real array"):
        hb.smooth_l1_loss(X, Y, beta=np.ones(5, dtype=bool))
    with pytest.raises(ValueError, match="`delta`"):
        hb.huber_loss(X, Y, delta=np.ones(3))  # does not broadcast to (4, 5)
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="of the operands' library"):
        hb.huber_loss(X, Y, delta=torch.ones(5, dtype=torch.float64))


def test_a_number_keeps_its_path():
    """A Python or NumPy number, and a NumPy 0-d array, are numbers (the remembered, blocked
    path); any other array, 0-d included, is per element."""
    from huberish._validate import per_element

    assert not any(per_element(v) for v in (0.5, 1, np.float32(0.5), np.asarray(0.5)))
    assert per_element(np.ones(1))
    torch = pytest.importorskip("torch")
    assert per_element(torch.tensor(0.5))


def test_no_warning_for_thresholds_beyond_the_dtype():
    """Entries beyond float32's range are inf there, silently: Huber's limit ``0.5 * d**2``."""
    x, y = X.astype(np.float32), Y.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = hb.huber_loss(x, y, delta=np.full(5, 1e300))
    d = x.astype(np.float64) - y.astype(np.float64)
    assert_close(got, np.mean(0.5 * d * d), dtype="float32")


@pytest.mark.parametrize("kind", FUNCTIONS)
def test_classes_take_a_threshold_per_element(kind):
    """The classes hold an array threshold as the functions take it: their loss and gradient
    are the oracle's."""
    name = FUNCTIONS[kind]
    cls = {"smooth_l1": hb.SmoothL1Loss, "huber": hb.HuberLoss, "pseudo_huber": hb.PseudoHuberLoss}
    thresholds = _thresholds(kind, (5,))
    loss, grad = cls[kind](reduction="sum", **{name: thresholds}).loss_and_grad(X, Y)
    want_loss, want_grad, _ = _oracle(kind, thresholds, "sum")
    np.testing.assert_allclose(loss, want_loss, rtol=1e-13)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-13, atol=1e-15)


def test_classes_check_thresholds_at_construction():
    """An array threshold's dtype and entries are checked when a class is built, as a number
    is (its library and shape at the call, where the operands are)."""
    with pytest.raises(ValueError, match="`delta` must be positive everywhere"):
        hb.HuberLoss(delta=np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="`beta` must be non-negative everywhere"):
        hb.SmoothL1Loss(beta=np.array([1.0, np.nan]))
    with pytest.raises(TypeError, match="`delta` must be a number or a real array"):
        hb.PseudoHuberLoss(delta=np.array(["a"]))


def test_dask_unknown_sizes_are_checked_for_the_threshold_too():
    """A threshold of sizes Dask does not know, indexed with another mask than the operands:
    a ValueError as Dask computes (Dask alone would broadcast its blocks silently)."""
    da = pytest.importorskip("dask.array")
    x = da.from_array(np.arange(12.0).reshape(6, 2), chunks=(2, 2))
    keep = da.from_array(np.ones(6, dtype=bool), chunks=2)
    other = da.from_array(np.arange(6) % 2 == 0, chunks=2)
    delta = da.from_array(np.linspace(0.5, 3.0, 12).reshape(6, 2), chunks=(2, 2))
    loss = hb.huber_loss(x[keep], x[keep] * 0.5, reduction="none", delta=delta[other])
    with pytest.raises(ValueError, match="`delta` and `input` have sizes that differ"):
        loss.compute()
    same = hb.huber_loss(x[keep], x[keep] * 0.5, reduction="none", delta=delta[keep]).compute()
    d, t = np.arange(12.0).reshape(6, 2) * 0.5, np.linspace(0.5, 3.0, 12).reshape(6, 2)
    np.testing.assert_allclose(same, np.where(d < t, 0.5 * d**2, t * (d - 0.5 * t)), rtol=1e-15)


def test_jax_bfloat16_thresholds():
    """A bfloat16 JAX threshold is a real array (JAX's `isdtype` leaves it out of a tuple of
    kinds): computed in float32, as the oracle gives it for the rounded entries."""
    jnp = pytest.importorskip("jax.numpy")
    thresholds = jnp.asarray([0.5, 2.0, 1.0, 0.25, 3.0], dtype=jnp.bfloat16)
    x, y = (v.astype(np.float32) for v in (X, Y))
    loss = hb.huber_loss(jnp.asarray(x), jnp.asarray(y), reduction="sum", delta=thresholds)
    want = 0.0
    for index in np.ndindex(X.shape):
        d = mpmath.mpf(float(np.float32(x[index] - y[index])))
        want += element_terms("huber", float(thresholds[index[1]]), d, "float32")[0]
    np.testing.assert_allclose(float(loss), float(want), rtol=1e-6)


def test_pseudo_huber_threshold_entry_that_rounds_to_zero():
    """A float64 entry of 1e-50 beside float32 operands rounds to 0: the limit 0, as the number
    1e-50 gives, with no NumPy warning (division by 0)."""
    x, y = np.float32([0.5, 2.0, 0.0]), np.zeros(3, dtype=np.float32)
    loss, grad, _ = hb.pseudo_huber_loss_grad_hess(x, y, reduction="none", delta=np.full(3, 1e-50))
    want_loss, want_grad, _ = hb.pseudo_huber_loss_grad_hess(x, y, reduction="none", delta=1e-50)
    np.testing.assert_array_equal(loss, want_loss)
    np.testing.assert_array_equal(grad, want_grad)


def test_dask_unknown_sizes_with_where_and_a_threshold():
    """Operands, mask and threshold of sizes Dask does not know (indexed with one mask): lazily,
    as the formula gives on the selected elements."""
    da = pytest.importorskip("dask.array")
    x, y = RNG.normal(size=(6, 5)) * 2, RNG.normal(size=(6, 5))
    rows = np.arange(6) % 3 != 1
    keep = da.from_array(rows, chunks=2)
    dx, dy, where, delta = (
        da.from_array(v, chunks=(2, 5))[keep] for v in (x, y, np.abs(x) < 2.0, 0.5 + np.abs(y))
    )
    got = hb.huber_loss(dx, dy, reduction="sum", where=where, delta=delta).compute()
    d, t, w = (x - y)[rows], (0.5 + np.abs(y))[rows], (np.abs(x) < 2.0)[rows]
    a = np.abs(d)
    want = np.sum(np.where(a < t, 0.5 * d**2, t * (a - 0.5 * t)) * w)
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_masked_and_sparse_thresholds_raise_naming_them():
    """As for the operands: a NumPy masked array (its mask would be ignored, and it hid an
    invalid entry from the check) and a sparse torch tensor raise `TypeError` naming the
    threshold, in the functions, the classes and the adapters."""
    masked = np.ma.array(np.ones(5), mask=[0, 1, 0, 0, 0])
    for call in (
        lambda: hb.smooth_l1_loss(X, Y, beta=masked),
        lambda: hb.huber_loss_backward(1.0, X, Y, delta=masked),
        lambda: hb.PseudoHuberLoss(delta=masked),
    ):
        with pytest.raises(TypeError, match="must not be a NumPy masked array"):
            call()
    try:
        from huberish import jax as hjax
    except ImportError:
        pass
    else:
        with pytest.raises(TypeError, match="`delta` must not be a NumPy masked array"):
            hjax.huber_loss(X, Y, delta=masked)
    torch = pytest.importorskip("torch")
    from huberish import torch as htorch

    sparse = torch.ones(5, dtype=torch.float64).to_sparse()
    x, y = torch.as_tensor(X), torch.as_tensor(Y)
    for call in (
        lambda: hb.huber_loss(x, y, delta=sparse),
        lambda: htorch.huber_loss(x, y, delta=sparse),
        lambda: htorch.SmoothL1Loss(beta=sparse),
    ):
        with pytest.raises(TypeError, match=r"`(beta|delta)` must be a dense \(strided\) tensor"):
            call()


def test_numpy_arrays_beside_dask_operands():
    """A NumPy threshold, `avg_factor` or `where` beside Dask operands is a Dask array, as a
    NumPy weight is (as Dask mixes them): lazily, the NumPy result; a NumPy threshold's or
    factor's values are at hand, so an invalid one raises at the call."""
    da = pytest.importorskip("dask.array")
    dx, dy = (da.from_array(v, chunks=(2, 5)) for v in (X, Y))
    delta, factor, where = 0.5 + np.abs(Y[0]), np.asarray(7.0), np.abs(X) < 2.0
    got = hb.huber_loss(dx, dy, delta=delta, avg_factor=factor, where=where)
    assert isinstance(got, da.Array)
    d, w = X - Y, where
    a = np.abs(d)
    want = np.sum(np.where(a < delta, 0.5 * d**2, delta * (a - 0.5 * delta)) * w) / 7.0
    np.testing.assert_allclose(got.compute(), want, rtol=1e-14)
    with pytest.raises(
        ValueError, match="`delta` must be positive everywhere; 1 of its entries is"
    ):
        hb.huber_loss(dx, dy, delta=np.where(np.arange(5) == 2, -1.0, 1.0))
    with pytest.raises(ValueError, match="`avg_factor` must be non-negative"):
        hb.huber_loss(dx, dy, avg_factor=np.asarray(-1.0))
