"""What torch lacks: Hessian diagonals, pseudo-Huber, per-sample reductions (`axis=`), exact half
precision and one non-finite rule. Values against independent oracles, on every backend."""

import math

import numpy as np
import pytest
from helpers import assert_close, optional_import, to_numpy

import huberish as hb
from huberish._reference import reference

lazy_xp_modules = [hb]  # run tagged functions jitted on JAX, lazily on Dask (helpers.py)

torch = optional_import("torch")
jax = optional_import("jax")
scipy_special = optional_import("scipy.special")

RNG = np.random.default_rng(5)
X = RNG.standard_normal((4, 6)) * 2
Y = RNG.standard_normal((4, 6)) * 2
W = RNG.random((6,))


def _away_from_boundaries(d, threshold):
    """The Hessian jumps at |d| == threshold: keep the test points clear of it."""
    return np.all(np.abs(np.abs(d) - threshold) > 1e-6)


# --- Hessian diagonal ------------------------------------------------------------------------


def _torch_hessian_diagonal(kind, x, y, threshold, reduction, weight):
    functional = torch.nn.functional
    yt = torch.tensor(y)
    wt = None if weight is None else torch.tensor(weight)

    def total(xt):
        if kind == "smooth_l1":
            losses = functional.smooth_l1_loss(xt, yt, reduction="none", beta=threshold)
        else:
            losses = functional.huber_loss(xt, yt, reduction="none", delta=threshold)
        losses = losses if wt is None else losses * wt
        return losses.mean() if reduction == "mean" else losses.sum()

    flat = torch.tensor(x).reshape(-1)
    hessian = torch.autograd.functional.hessian(lambda v: total(v.reshape(x.shape)), flat)
    return torch.diagonal(hessian).reshape(x.shape).numpy()


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("kind", ["smooth_l1", "huber"])
@pytest.mark.parametrize("threshold", [0.0, 0.7, 2.5])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("weighted", [False, True])
def test_hessian_matches_torch_double_backward(xp, asarray, kind, threshold, reduction, weighted):
    if kind == "huber" and threshold == 0.0:
        pytest.skip("delta must be positive")
    assert _away_from_boundaries(X - Y, threshold)
    weight = W if weighted else None
    expected = _torch_hessian_diagonal(kind, X, Y, threshold, reduction, weight)
    function = {"smooth_l1": hb.smooth_l1_loss_grad_hess, "huber": hb.huber_loss_grad_hess}[kind]
    options = {"beta" if kind == "smooth_l1" else "delta": threshold}
    w = None if weight is None else asarray(weight)
    loss, grad, hess = function(asarray(X), asarray(Y), reduction=reduction, weight=w, **options)
    assert_close(hess, expected, dtype="float64")
    scale = threshold if kind == "huber" else 1.0
    expected_loss, expected_grad, _ = reference(
        X, Y, beta=threshold, scale=scale, reduction=reduction, weight=weight
    )
    assert_close(loss, expected_loss, dtype="float64")
    assert_close(grad, expected_grad, dtype="float64")


def test_hessian_is_zero_at_the_boundary_and_nan_for_nan(xp, asarray):
    x = asarray(np.array([0.5, -0.5, 0.25, math.nan, math.inf]))
    _, _, hess = hb.smooth_l1_loss_grad_hess(x, xp.zeros_like(x), reduction="sum", beta=0.5)
    # torch's strict |d| < beta: 0 at the boundary; NaN for NaN, 0 for inf
    assert_close(hess, [0.0, 0.0, 2.0, math.nan, 0.0], dtype="float64", rtol=0)


def test_hessian_of_broadcast_input_is_summed(xp, asarray):
    with pytest.warns(UserWarning, match="Using a target size"):
        _, grad, hess = hb.huber_loss_grad_hess(asarray(X[:1]), asarray(Y), "sum", 10.0)
    assert_close(hess, np.full((1, 6), 4.0), dtype="float64")  # inside everywhere: 1 per row
    assert_close(
        grad, reference(X[:1], Y, beta=10.0, scale=10.0, reduction="sum")[1], dtype="float64"
    )


@pytest.mark.skipif(jax is None, reason="JAX is not installed")
@pytest.mark.parametrize("kind", ["smooth_l1", "huber", "pseudo_huber"])
def test_hessian_matches_jax_hessian_of_the_generic_function(kind):
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    functions = {
        "smooth_l1": (hb.smooth_l1_loss, hb.smooth_l1_loss_grad_hess, {"beta": 0.8}),
        "huber": (hb.huber_loss, hb.huber_loss_grad_hess, {"delta": 0.8}),
        "pseudo_huber": (hb.pseudo_huber_loss, hb.pseudo_huber_loss_grad_hess, {"delta": 0.8}),
    }
    loss_function, grad_hess, options = functions[kind]
    x, y = jnp.asarray(X[0]), jnp.asarray(Y[0])
    assert _away_from_boundaries(X[0] - Y[0], 0.8)
    traced = jax.hessian(lambda a: loss_function(a, y, reduction="sum", **options))(x)
    _, _, hess = grad_hess(x, y, reduction="sum", **options)
    np.testing.assert_allclose(np.diag(traced), hess, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(traced - np.diag(np.diag(traced)), 0.0, atol=0.0)


# --- pseudo-Huber ----------------------------------------------------------------------------


@pytest.mark.skipif(scipy_special is None, reason="SciPy is not installed")
@pytest.mark.parametrize("delta", [0.1, 1.0, 3.0])
def test_pseudo_huber_matches_scipy(xp, asarray, delta):
    d = np.concatenate([X.ravel(), [0.0, 1e-9, -1e-9, 1e3, -1e6]])
    loss = hb.pseudo_huber_loss(asarray(d), 0.0, reduction="none", delta=delta)
    assert_close(loss, scipy_special.pseudo_huber(delta, d), dtype="float64")


def test_pseudo_huber_gradient_and_hessian_match_finite_differences(xp, asarray):
    d, delta, step = X.ravel(), 1.3, 1e-6

    def loss(values):
        return hb.pseudo_huber_loss(np.asarray(values), 0.0, reduction="none", delta=delta)

    def grad(values):
        return hb.pseudo_huber_loss_and_grad(np.asarray(values), 0.0, "sum", delta).grad

    # central differences: of the loss for the gradient, of the gradient for the Hessian
    numeric_grad = (loss(d + step) - loss(d - step)) / (2 * step)
    numeric_hess = (grad(d + step) - grad(d - step)) / (2 * step)
    _, g, h = hb.pseudo_huber_loss_grad_hess(asarray(d), 0.0, reduction="sum", delta=delta)
    assert_close(g, numeric_grad, dtype="float64", rtol=1e-8)
    assert_close(h, numeric_hess, dtype="float64", rtol=1e-8)


@pytest.mark.skipif(jax is None, reason="JAX is not installed")
def test_pseudo_huber_gradient_matches_jax_grad_of_the_formula():
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    delta = 0.6

    def formula(x):  # the textbook expression, differentiated by JAX
        return jnp.sum(delta**2 * (jnp.sqrt(1 + ((x - jnp.asarray(Y)) / delta) ** 2) - 1))

    expected = jax.grad(formula)(jnp.asarray(X))
    _, grad = hb.pseudo_huber_loss_and_grad(X, Y, reduction="sum", delta=delta)
    np.testing.assert_allclose(grad, expected, rtol=1e-13)


def test_pseudo_huber_is_stable_where_the_textbook_formula_is_not(xp, asarray):
    # float32: (d/delta)**2 overflows for d = 1e20; sqrt(1 + u**2) - 1 cancels for u = 1e-4.
    x = asarray(np.array([1e20, 1e-4, -1e20]), np.float32)
    loss, grad, hess = hb.pseudo_huber_loss_grad_hess(x, xp.zeros_like(x), reduction="none")
    exact_loss = [1e20 - 1, 0.5e-8 * (1 - 0.25e-8), 1e20 - 1]  # delta = 1, to float64
    assert_close(loss, exact_loss, dtype="float32", rtol=1e-6)
    assert_close(grad, [1.0, 1e-4, -1.0], dtype="float32", rtol=1e-6)
    assert_close(hess, [0.0, 1.0, 0.0], dtype="float32", rtol=1e-6)


def test_pseudo_huber_non_finite(xp, asarray):
    x = asarray(np.array([math.inf, -math.inf, math.nan]))
    loss, grad, hess = hb.pseudo_huber_loss_grad_hess(x, 0.0, reduction="none", delta=2.0)
    assert_close(loss, [math.inf, math.inf, math.nan], dtype="float64", rtol=0)
    assert_close(grad, [2.0, -2.0, math.nan], dtype="float64", rtol=0)
    assert_close(hess, [0.0, 0.0, math.nan], dtype="float64", rtol=0)


def test_pseudo_huber_class_and_validation(xp, asarray):
    crit = hb.PseudoHuberLoss(delta=0.5, reduction="sum")
    assert repr(crit) == "PseudoHuberLoss(reduction='sum', delta=0.5)"
    loss, grad, hess = crit.loss_grad_hess(asarray(X), asarray(Y))
    u = (X - Y) / 0.5
    assert_close(loss, hb.pseudo_huber_loss(X, Y, "sum", 0.5), dtype="float64")
    assert_close(hess, (1 + u * u) ** -1.5, dtype="float64")
    gx, gy = crit.backward(asarray(1.0), asarray(X), asarray(Y))
    assert_close(gx, to_numpy(grad), dtype="float64")
    assert_close(gy, -to_numpy(grad), dtype="float64")
    with pytest.raises(ValueError, match="`delta` must be a positive number"):
        hb.PseudoHuberLoss(delta=-1.0)


# --- per-sample reductions -------------------------------------------------------------------

AXES = [0, 1, -1, (0, 1), (1,)]


def _reduce(values, reduction, axis, keepdims):
    return (np.mean if reduction == "mean" else np.sum)(values, axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_axis_reductions_match_numpy(xp, asarray, axis, reduction, keepdims):
    elements, element_grad, _ = reference(X, Y, beta=0.7, reduction="none", weight=W)
    expected_loss = _reduce(elements, reduction, axis, keepdims)
    count = math.prod(X.shape[a] for a in np.atleast_1d(axis)) if reduction == "mean" else 1
    options = {"reduction": reduction, "beta": 0.7, "weight": asarray(W), "axis": axis}
    loss, grad = hb.smooth_l1_loss_and_grad(asarray(X), asarray(Y), keepdims=keepdims, **options)
    assert_close(loss, expected_loss, dtype="float64")
    assert_close(grad, element_grad / count, dtype="float64")
    # backward: grad_output has the reduced loss's shape
    go = RNG.random(np.shape(expected_loss)) + 0.5
    kept = go if keepdims else np.expand_dims(go, axis)
    gx, gy = hb.smooth_l1_loss_backward(
        asarray(go), asarray(X), asarray(Y), keepdims=keepdims, **options
    )
    assert_close(gx, element_grad / count * kept, dtype="float64")
    assert_close(gy, -element_grad / count * kept, dtype="float64")


def test_axis_on_the_classes_and_hessian(xp, asarray):
    crit = hb.HuberLoss(delta=10.0, axis=1)  # every residual inside: Hessian 1 / count
    loss, grad, hess = crit.loss_grad_hess(asarray(X), asarray(Y))
    elements = reference(X, Y, beta=10.0, scale=10.0, reduction="none")[0]
    assert_close(loss, elements.mean(axis=1), dtype="float64")
    assert_close(grad, (X - Y) / 6, dtype="float64")
    assert_close(hess, np.full(X.shape, 1 / 6), dtype="float64")
    assert repr(crit) == "HuberLoss(reduction='mean', delta=10.0, axis=1, keepdims=False)"


@pytest.mark.parametrize(
    ("options", "exception", "message"),
    [
        ({"axis": 2}, ValueError, "`axis` must be distinct axes of the 2-d"),
        ({"axis": (0, -2)}, ValueError, "`axis` must be distinct axes"),
        ({"axis": 1.0}, TypeError, "`axis` must be None, an int or a tuple of ints"),
        ({"axis": 0, "reduction": "none"}, ValueError, "`axis` applies to 'mean' and 'sum'"),
    ],
)
def test_axis_errors(xp, asarray, options, exception, message):
    with pytest.raises(exception, match=message):
        hb.smooth_l1_loss(asarray(X), asarray(Y), **options)


def test_axis_grad_output_of_the_wrong_shape_raises(xp, asarray):
    with pytest.raises(ValueError, match="`grad_output` of shape"):
        hb.huber_loss_backward(asarray(np.ones(6)), asarray(X), asarray(Y), axis=1)


def test_empty_axis_mean_is_nan(xp, asarray):
    x = asarray(np.zeros((3, 0)))
    loss = hb.smooth_l1_loss(x, xp.zeros_like(x), axis=1)
    assert_close(loss, [math.nan] * 3, dtype="float64", rtol=0)


# --- half precision --------------------------------------------------------------------------


@pytest.mark.float16
def test_float16_quadratic_does_not_overflow(xp, asarray):
    # torch computes 0.5 * 400**2 in float16 and overflows to inf; the loss is 80.
    x = asarray(np.array([400.0] * 4), np.float16)
    loss = hb.smooth_l1_loss(x, xp.zeros_like(x), beta=1000.0)
    assert_close(loss, 80.0, dtype="float16", rtol=0)
    if torch is not None:
        theirs = torch.nn.functional.smooth_l1_loss(
            torch.full((4,), 400.0, dtype=torch.float16),
            torch.zeros(4, dtype=torch.float16),
            beta=1000.0,
        )
        assert math.isinf(theirs.item())  # the defect this fixes, still in torch 2.13


@pytest.mark.float16
def test_float16_mean_gradient_is_correctly_rounded(xp, asarray):
    # Computed in float16, 0.5 * delta * n = 5e8 overflows; torch rounds 1/n to half first.
    n, delta = 10**6, 1000.0
    x = asarray(np.full(n, 1000.0), np.float16)
    grad = hb.huber_loss_and_grad(x, xp.zeros_like(x), delta=delta).grad
    assert_close(grad[:3], np.full(3, np.float16(1e-3)), dtype="float16", rtol=0)
    if torch is not None:
        xt = torch.full((n,), 1000.0, dtype=torch.float16, requires_grad=True)
        torch.nn.functional.huber_loss(
            xt, torch.zeros(n, dtype=torch.float16), delta=delta
        ).backward()
        assert abs(xt.grad[0].item() / 1e-3 - 1) > 0.01  # torch: 1.3% off


@pytest.mark.float16
def test_float16_sum_is_inf_only_beyond_the_range(xp, asarray):
    # Each loss is 10.5 (d = 11, beta = 1): 1000 of them sum to 10500, which float16 holds;
    # 10000 of them sum to 105000, beyond its 65504, and only then is the sum inf.
    x = asarray(np.full(1000, 11.0), np.float16)
    total = hb.smooth_l1_loss(x, xp.zeros_like(x), reduction="sum")
    mean = hb.smooth_l1_loss(x, xp.zeros_like(x), reduction="mean")
    assert_close(total, 10500.0, dtype="float16")
    assert_close(mean, 10.5, dtype="float16")
    over = asarray(np.full(10000, 11.0), np.float16)
    assert_close(
        hb.smooth_l1_loss(over, xp.zeros_like(over), reduction="sum"), math.inf, dtype="float16"
    )
