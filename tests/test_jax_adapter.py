"""`huberish.jax`: custom_jvp losses under jit, grad, jvp, vmap and their compositions."""

import warnings
from functools import partial

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

import huberish as hb  # noqa: E402
from huberish import jax as hjax  # noqa: E402
from huberish._reference import reference  # noqa: E402

RNG = np.random.default_rng(1)
X = RNG.standard_normal((6, 5)) * 2
Y = RNG.standard_normal((6, 5)) * 2
YJ = jnp.asarray(Y)  # the generic functions take one library at a time
LOSSES = {
    "smooth_l1": (hjax.smooth_l1_loss, hb.smooth_l1_loss, "beta", 1.0),
    "huber": (hjax.huber_loss, hb.huber_loss, "delta", None),
}


def _scale(kind, threshold):
    return threshold if kind == "huber" else 1.0


@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_jitted_value_and_grad_of_both_operands(kind, reduction):
    adapted, _, name, _ = LOSSES[kind]

    @jax.jit
    def objective(x, y):
        return jnp.sum(adapted(x, y, reduction=reduction, **{name: 0.7}))

    value, (grad_x, grad_y) = jax.value_and_grad(objective, argnums=(0, 1))(X, Y)
    loss, expected_x, expected_y = reference(
        X, Y, beta=0.7, scale=_scale(kind, 0.7), reduction=reduction
    )
    np.testing.assert_allclose(value, np.sum(loss), rtol=1e-12)
    np.testing.assert_allclose(grad_x, expected_x, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad_y, expected_y, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", LOSSES)
def test_agrees_with_jax_grad_of_the_generic_function(kind):
    adapted, generic, name, _ = LOSSES[kind]
    weight = jnp.asarray(RNG.random(5))
    options = {name: 1.3, "weight": weight}
    ours = jax.jit(jax.grad(lambda x: adapted(x, Y, **options)))(X)
    traced = jax.jit(jax.grad(lambda x: generic(x, YJ, **options)))(X)
    np.testing.assert_allclose(ours, traced, rtol=1e-12, atol=1e-15)


def test_broadcast_operands_get_gradients_of_their_shape():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using a target size", UserWarning)
        grads = jax.grad(hjax.huber_loss, argnums=(0, 1))(X[:1], Y)
    _, expected_x, expected_y = reference(X[:1], Y, beta=1.0)
    np.testing.assert_allclose(grads[0], expected_x, rtol=1e-12)
    np.testing.assert_allclose(grads[1], expected_y, rtol=1e-12)


def test_vmap_gives_per_example_losses_and_gradients():
    per_example = jax.vmap(lambda x, y: hjax.smooth_l1_loss(x, y, beta=0.5))(X, Y)
    grads = jax.vmap(jax.grad(lambda x, y: hjax.smooth_l1_loss(x, y, beta=0.5)))(X, Y)
    for row in range(X.shape[0]):
        loss, grad, _ = reference(X[row], Y[row], beta=0.5)
        np.testing.assert_allclose(per_example[row], loss, rtol=1e-12)
        np.testing.assert_allclose(grads[row], grad, rtol=1e-12)


def test_reverse_over_reverse_hessian_matches_the_generic_function():
    x, y = X[0], YJ[0]
    ours = jax.jacrev(jax.grad(lambda a: hjax.huber_loss(a, y, delta=0.8, reduction="sum")))(x)
    generic = jax.hessian(lambda a: hb.huber_loss(a, y, delta=0.8, reduction="sum"))(x)
    np.testing.assert_allclose(ours, generic, atol=1e-15)
    inside = np.abs(x - y) < 0.8
    np.testing.assert_allclose(np.diag(ours), inside.astype(float))


def test_forward_over_reverse_hessian_is_the_analytic_diagonal_with_torchs_boundary():
    """jax.hessian (forward over reverse) works; at |d| == beta the second derivative is 0,
    as torch's smooth_l1_loss double backward and huberish's grad_hess give."""
    x = jnp.asarray([0.7, -0.7, 0.3, 2.0, -0.1])
    ours = jax.hessian(lambda a: hjax.smooth_l1_loss(a, 0.0, beta=0.7, reduction="sum"))(x)
    expected = hb.smooth_l1_loss_grad_hess(np.asarray(x), 0.0, beta=0.7, reduction="sum").hess
    np.testing.assert_array_equal(np.diag(ours), expected)
    np.testing.assert_array_equal(ours - np.diag(np.diag(ours)), np.zeros((5, 5)))


def test_mixed_dtypes_promote():
    weight = jnp.asarray(RNG.random(5))
    x32 = jnp.asarray(X, dtype=jnp.float32)
    value, grads = jax.value_and_grad(hjax.smooth_l1_loss, argnums=(0, 1))(x32, Y, weight=weight)
    assert value.dtype == jnp.float64
    assert (grads[0].dtype, grads[1].dtype) == (jnp.float32, jnp.float64)


def _huber_formula(x, y, delta):
    """optax's Huber loss, written out in jax.numpy: the oracle JAX differentiates itself."""
    d = jnp.abs(x - y)
    return jnp.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta))


@pytest.mark.parametrize(
    ("reduction", "axis"), [("mean", None), ("sum", None), ("mean", 1), ("sum", 0), ("none", None)]
)
@pytest.mark.parametrize("weight_shape", [(4, 5), (4, 1), (5,), ()])
def test_weight_gets_its_derivative(reduction, axis, weight_shape):
    """The weight's derivative (issue 19: it was zero), reverse and forward mode and the mixed
    second derivatives, under jit, against JAX differentiating the formula itself."""
    x = jnp.asarray(RNG.normal(size=(4, 5)))
    y = jnp.asarray(RNG.normal(size=(4, 5)))
    weight = jnp.asarray(1.0 + RNG.random(weight_shape))
    reduce = {"mean": jnp.mean, "sum": jnp.sum, "none": lambda v, axis: v}[reduction]

    def ours(x, w):
        return jnp.sum(hjax.huber_loss(x, y, reduction, 0.7, w, axis=axis))

    def formula(x, w):
        return jnp.sum(reduce(w * _huber_formula(x, y, 0.7), axis=axis))

    for transform in (jax.grad, jax.jacfwd, jax.hessian):
        got = jax.jit(transform(ours, argnums=(0, 1)))(x, weight)
        want = transform(formula, argnums=(0, 1))(x, weight)
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_arguments_are_validated_before_tracing():
    with pytest.raises(ValueError, match="`beta` must be a non-negative number"):
        hjax.smooth_l1_loss(X, Y, beta=-1.0)
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        hjax.huber_loss(X, Y, reduction="avg")
    # optax's order, `huber_loss(predictions, targets, delta)`, traced: the message says why.
    with pytest.raises(TypeError, match="`reduction` is the third positional argument"):
        jax.jit(jax.grad(hjax.huber_loss))(X, Y, 0.5)


def test_pseudo_huber_and_axis_agree_with_the_generic_function():
    options = {"delta": 0.9, "reduction": "sum", "axis": 1}
    ours = jax.jit(jax.grad(lambda x: jnp.sum(hjax.pseudo_huber_loss(x, Y, **options))))(X)
    traced = jax.grad(lambda x: jnp.sum(hb.pseudo_huber_loss(x, YJ, **options)))(X)
    np.testing.assert_allclose(ours, traced, rtol=1e-12)
    per_sample = hjax.smooth_l1_loss(X, Y, beta=0.5, axis=1)
    expected = reference(X, Y, beta=0.5, reduction="none")[0].mean(axis=1)
    np.testing.assert_allclose(per_sample, expected, rtol=1e-12)


def test_settings_as_keywords_through_jit_and_grad():
    """Settings are static: static_argnames or functools.partial work. A traced delta is a
    threshold per element (0-d), with its derivative. The oracle: jax.grad of the generic
    function, and of optax's formula for delta."""
    x, y = jnp.asarray(X), YJ
    expected = jax.grad(lambda a: hb.huber_loss(a, y, delta=2.0, reduction="sum"))(x)
    options = {"delta": 2.0, "reduction": "sum"}
    static = jax.jit(jax.grad(hjax.huber_loss), static_argnames=("delta", "reduction"))
    np.testing.assert_allclose(static(x, y, **options), expected, rtol=1e-12)
    bound = jax.jit(jax.grad(partial(hjax.huber_loss, **options)))
    np.testing.assert_allclose(bound(x, y), expected, rtol=1e-12)
    traced = jax.jit(jax.grad(hjax.huber_loss, argnums=(0, 3)), static_argnames="reduction")
    got = traced(x, y, "sum", 2.0)
    want = jax.grad(lambda a, t: jnp.sum(_huber_formula(a, y, t)), argnums=(0, 1))(x, 2.0)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def _formula(kind, x, y, t):
    """Each loss written out in jax.numpy (optax's Huber), a threshold per element: the oracle
    JAX differentiates itself."""
    d = x - y
    if kind == "huber":
        return _huber_formula(x, y, t)
    if kind == "smooth_l1":
        a = jnp.abs(d)
        return jnp.where(a < t, 0.5 * d**2 / t, a - 0.5 * t)
    return t**2 * (jnp.sqrt(1 + (d / t) ** 2) - 1)


ADAPTED = {"smooth_l1": (hjax.smooth_l1_loss, "beta"), "huber": (hjax.huber_loss, "delta"),
           "pseudo_huber": (hjax.pseudo_huber_loss, "delta")}  # fmt: skip


@pytest.mark.parametrize("kind", ADAPTED)
@pytest.mark.parametrize(("reduction", "axis"), [("mean", None), ("sum", 0), ("none", None)])
@pytest.mark.parametrize("threshold_shape", [(4, 5), (5,), (4, 1), ()], ids=str)
def test_threshold_gets_its_derivative(kind, reduction, axis, threshold_shape):
    """A threshold per element: its derivative, with the input's and the weight's, in reverse
    and forward mode and to second order (mixed ones included), under jit, against JAX
    differentiating the formula itself."""
    adapted, name = ADAPTED[kind]
    x = jnp.asarray(RNG.normal(size=(4, 5)) * 2)
    y = jnp.asarray(RNG.normal(size=(4, 5)))
    weight = jnp.asarray(1.0 + RNG.random((4, 1)))
    t = jnp.asarray(0.3 + RNG.random(threshold_shape) * 2)
    reduce = {"mean": jnp.mean, "sum": jnp.sum, "none": lambda v, axis: v}[reduction]

    def ours(x, w, t):
        return jnp.sum(adapted(x, y, reduction=reduction, weight=w, axis=axis, **{name: t}))

    def formula(x, w, t):
        return jnp.sum(reduce(w * _formula(kind, x, y, t), axis=axis))

    for transform in (jax.grad, jax.jacfwd, jax.hessian):
        got = jax.jit(transform(ours, argnums=(0, 1, 2)))(x, weight, t)
        want = transform(formula, argnums=(0, 1, 2))(x, weight, t)
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


def test_a_sweep_over_delta_is_one_vmap():
    """``jax.vmap`` over delta: one loss (and one gradient) per delta, as a loop gives them."""
    deltas = jnp.asarray([0.1, 0.5, 1.0, 4.0])
    x = jnp.asarray(X)

    def loss(delta):
        return hjax.huber_loss(x, YJ, delta=delta)

    swept = jax.jit(jax.vmap(jax.value_and_grad(loss)))(deltas)
    for i, delta in enumerate(deltas):
        want = jax.value_and_grad(lambda t: jnp.mean(_huber_formula(x, YJ, t)))(delta)
        np.testing.assert_allclose(swept[0][i], want[0], rtol=1e-12)
        np.testing.assert_allclose(swept[1][i], want[1], rtol=1e-12)


def test_optax_huber_loss_with_an_array_delta():
    """optax's own `huber_loss` with a delta per element and a traced one: values under jit,
    the derivative for delta, and a vmap over delta."""
    optax = pytest.importorskip("optax")
    x, delta = jnp.asarray(X), jnp.asarray(0.2 + RNG.random(5) * 2)
    ours = jax.jit(lambda p, t, d: hjax.huber_loss(p, t, "none", d))
    np.testing.assert_allclose(
        ours(x, YJ, delta), optax.losses.huber_loss(x, YJ, delta=delta), rtol=1e-14
    )

    def total(loss, d):
        return jnp.sum(loss(x, YJ, d))

    got = jax.jit(jax.grad(partial(total, lambda p, t, d: hjax.huber_loss(p, t, "sum", d))))
    np.testing.assert_allclose(
        got(delta),
        jax.grad(partial(total, lambda p, t, d: optax.losses.huber_loss(p, t, delta=d)))(delta),
        rtol=1e-13,
    )
    sweep = jnp.asarray([0.5, 1.0, 2.0])
    np.testing.assert_allclose(
        jax.vmap(lambda d: hjax.huber_loss(x, YJ, "sum", d))(sweep),
        jax.vmap(lambda d: jnp.sum(optax.losses.huber_loss(x, YJ, delta=d)))(sweep),
        rtol=1e-13,
    )


@pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")  # () beside (5,)
@pytest.mark.parametrize("scalar", [np.float64(2.0), np.float32(2.0), np.int64(2)])
def test_numpy_scalar_operand_is_a_jax_array_of_its_dtype(scalar):
    # A NumPy scalar is an array of its dtype (jnp.asarray of it), not a weak Python scalar.
    x = jnp.asarray(X[0])
    got = hjax.smooth_l1_loss(scalar, x, reduction="none")
    expected = hb.smooth_l1_loss(jnp.asarray(scalar), x, reduction="none")
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    grad = jax.grad(lambda b: hjax.smooth_l1_loss(scalar, b))(x)
    np.testing.assert_allclose(
        grad, jax.grad(lambda b: hb.smooth_l1_loss(jnp.asarray(scalar), b))(x), rtol=1e-12
    )


@pytest.mark.parametrize("reduction", ["mean", "weighted_mean", "sum"])
@pytest.mark.parametrize("axis", [None, 1])
def test_where_and_weighted_mean_derivatives(reduction, axis):
    """Issue 19 through the adapter, under jit: the gradients and Hessians of input and weight
    with excluded infinities and NaNs, against JAX differentiating the masked formula."""
    x = np.asarray(RNG.normal(size=(4, 5)))
    x[3, 1], x[2, 4] = np.inf, np.nan
    where = jnp.asarray(np.isfinite(x))
    x, y = jnp.asarray(x), jnp.asarray(RNG.normal(size=(4, 5)))
    weight = jnp.asarray(0.5 + RNG.random((4, 1)))

    def ours(x, w):
        return jnp.sum(hjax.huber_loss(x, y, reduction, 0.7, w, axis=axis, where=where))

    def formula(x, w):
        elements = _huber_formula(jnp.where(where, x, 0.0), jnp.where(where, y, 0.0), 0.7)
        total = jnp.sum(w * where * elements, axis=axis)
        if reduction == "sum":
            return jnp.sum(total)
        divisor = jnp.broadcast_to(w, x.shape) if reduction == "weighted_mean" else 1.0
        return jnp.sum(total / jnp.sum(divisor * where, axis=axis))

    np.testing.assert_allclose(jax.jit(ours)(x, weight), formula(x, weight), rtol=1e-13)
    for transform in (jax.grad, jax.hessian):
        got = jax.jit(transform(ours, argnums=(0, 1)))(x, weight)
        want = transform(formula, argnums=(0, 1))(x, weight)
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)  # (sums of ~1: 1e-16 ulps)


def test_traced_avg_factor():
    """mmdetection's `avg_factor`, a traced value under jit (it stays on the device)."""
    loss = jax.jit(lambda x, f: hjax.smooth_l1_loss(x, Y, reduction="mean", avg_factor=f))
    total = reference(np.asarray(X), np.asarray(Y), beta=1.0, reduction="sum")[0]
    np.testing.assert_allclose(loss(X, jnp.asarray(4.0)), total / 4.0, rtol=1e-14)
    np.testing.assert_allclose(loss(X, jnp.asarray(0.0)), 0.0)
