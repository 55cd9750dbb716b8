"""Every row of docs/semantics.md's behaviour table, on every backend, values and gradients.

Expected values come from `huberish._reference` (float64 NumPy, torch's formulation) or are
written out where the semantics fix them (L1 at beta=0, NaN propagation, ...).
"""

import math

import numpy as np
import pytest
from array_api_extra.testing import assert_equal as xpx_assert_equal
from helpers import assert_close, dtype_name, to_numpy

import huberish as hb
from huberish._compat import device as device_of
from huberish._reference import reference

lazy_xp_modules = [hb]  # run tagged functions jitted on JAX, lazily on Dask (helpers.py)

X = np.array([[-2.0, -0.5, 0.0, 0.25], [1.0, 3.0, -1.0, 0.75]])
Y = np.array([[0.0, 0.5, 0.0, -0.25], [0.5, -1.0, 0.0, 0.75]])


def _default_float(xp, x):
    return dtype_name(xp.empty(0, device=device_of(x)))


# ---------------------------------------------------------------------------------------------
# Errors (the full table of bad inputs is in test_reliability.py)


def test_incompatible_shapes_warn_then_raise(xp, asarray):
    # As in torch: the size-mismatch warning first, then the broadcasting error.
    with (
        pytest.warns(UserWarning, match="Using a target size"),
        pytest.raises(ValueError, match=r"of shape \(2, 4\) and `target` of shape \(3,\) cannot"),
    ):
        hb.smooth_l1_loss(asarray(X), asarray(np.zeros(3)))


# ---------------------------------------------------------------------------------------------
# Warnings: torch's texts, pointing at the caller.

LEGACY_TABLE = {
    (None, None): "sum",  # no legacy argument: `reduction` ('sum' below) stands
    (None, True): "mean",
    (None, False): "none",
    (True, None): "mean",
    (True, True): "mean",
    (True, False): "none",
    (False, None): "sum",
    (False, True): "sum",
    (False, False): "none",
}


@pytest.mark.parametrize(("legacy", "expected"), LEGACY_TABLE.items())
def test_resolve_reduction_legacy(legacy, expected):
    size_average, reduce = legacy
    if legacy == (None, None):
        assert hb.resolve_reduction(size_average, reduce, "sum") == expected
        return
    message = f"size_average and reduce args will be deprecated, please use reduction='{expected}'"
    with pytest.warns(UserWarning, match=message) as record:
        # A legacy argument overrides `reduction`, even an invalid one (as in torch).
        assert hb.resolve_reduction(size_average, reduce, "avg") == expected
    assert record[0].filename == __file__


def test_elementwise_mean_alias():
    with pytest.warns(UserWarning, match="reduction='elementwise_mean' is deprecated"):
        assert hb.resolve_reduction(reduction="elementwise_mean") == "mean"


def _check_caller(record, backend):
    """The warning points at the caller (under the jit and Dask test wrappers, at those)."""
    if not backend.wraps_calls:
        assert record[0].filename == __file__


def test_legacy_arguments_warn_from_the_loss(xp, asarray, backend):
    x, y = asarray(X[:, :1]), asarray(Y[:, :1])  # a shape no other test jits with
    with pytest.warns(UserWarning, match="please use reduction='none' instead") as record:
        loss = hb.smooth_l1_loss(x, y, reduce=False)
    _check_caller(record, backend)
    assert_close(
        loss, reference(X[:, :1], Y[:, :1], beta=1.0, reduction="none")[0], dtype="float64"
    )


def test_class_legacy_arguments_warn_at_construction():
    with pytest.warns(UserWarning, match="please use reduction='sum' instead") as record:
        crit = hb.SmoothL1Loss(size_average=False)
    assert record[0].filename == __file__
    assert crit.reduction == "sum"


def test_shape_mismatch_warns_then_broadcasts(xp, asarray, backend):
    x, y = asarray(X[:, :3]), asarray(Y[0, :3])  # shapes (2, 3) and (3,): unique to this test
    sizes = ("(3,)", "(2, 3)")
    if backend.modname == "torch":  # torch's own text, which peer suites compare
        torch = pytest.importorskip("torch")
        sizes = (f"({torch.Size([3])})", f"({torch.Size([2, 3])})")
    text = (
        f"Using a target size {sizes[0]} that is different to the input size {sizes[1]}. "
        "This will likely lead to incorrect results due to broadcasting. "
        "Please ensure they have the same size."
    )
    with pytest.warns(UserWarning, match="Using a target size") as record:
        loss, grad = hb.smooth_l1_loss_and_grad(x, y, reduction="sum")
    assert [str(w.message) for w in record] == [text]
    if backend.modname == "torch":
        with pytest.warns(UserWarning, match="Using a target size") as torch_record:
            torch.nn.functional.smooth_l1_loss(x, y)
        assert [str(w.message) for w in torch_record] == [text]
    _check_caller(record, backend)
    expected_loss, expected_grad, _ = reference(X[:, :3], Y[0, :3], beta=1.0, reduction="sum")
    assert_close(loss, expected_loss, dtype="float64")
    assert_close(grad, expected_grad, dtype="float64")


def test_python_scalar_operand_does_not_warn(xp, asarray):
    # A scalar has no shape to mismatch; filterwarnings=error would fail the test on a warning.
    loss, grad = hb.huber_loss_and_grad(asarray(X), 0.5, reduction="sum", delta=0.75)
    expected_loss, expected_grad, _ = reference(X, 0.5, beta=0.75, scale=0.75, reduction="sum")
    assert_close(loss, expected_loss, dtype="float64")
    assert_close(grad, expected_grad, dtype="float64")


# ---------------------------------------------------------------------------------------------
# Dtypes


def test_integer_inputs_promote_to_default_float(xp, asarray):
    x, y = asarray(np.array([[3, -1, 0], [2, 5, -4]])), asarray(np.array([[1, 1, 1], [0, 5, 0]]))
    loss, grad = hb.smooth_l1_loss_and_grad(x, y, beta=2.0)
    default = _default_float(xp, x)
    expected_loss, expected_grad, _ = reference(to_numpy(x), to_numpy(y), beta=2.0)
    assert_close(loss, expected_loss, dtype=default)
    assert_close(grad, expected_grad, dtype=default)


def test_integer_with_float32_uses_promotion_with_default(xp, asarray):
    x, y = asarray(np.array([3, -1, 0])), asarray(np.array([0.5, 0.5, 0.5], np.float32))
    loss = hb.smooth_l1_loss(x, y, reduction="none")
    default = xp.empty(0, device=device_of(x)).dtype
    expected_dtype = dtype_name(xp.empty(0, dtype=xp.result_type(default, xp.float32)))
    assert_close(
        loss, reference([3, -1, 0], 0.5, beta=1.0, reduction="none")[0], dtype=expected_dtype
    )


@pytest.mark.parametrize("kind", ["smooth_l1", "huber"])
def test_mixed_float32_float64(xp, asarray, kind):
    # torch's huber_loss keeps input's dtype and its backward raises here (pytorch#76646);
    # huberish promotes, for both losses, and returns each gradient in its operand's dtype.
    x, y = asarray(X, np.float32), asarray(Y, np.float64)
    functions = {"smooth_l1": hb.smooth_l1_loss_backward, "huber": hb.huber_loss_backward}
    loss_function = {"smooth_l1": hb.smooth_l1_loss, "huber": hb.huber_loss}[kind]
    loss = loss_function(x, y, reduction="sum")
    grad_x, grad_y = functions[kind](xp.asarray(1.0, device=device_of(x)), x, y, reduction="sum")
    expected_loss, expected_x, expected_y = reference(
        X.astype(np.float32), Y, beta=1.0, reduction="sum"
    )
    assert_close(loss, expected_loss, dtype="float64")
    assert_close(grad_x, expected_x, dtype="float32")
    assert_close(grad_y, expected_y, dtype="float64")


def test_float32_stays_float32_with_numpy_scalar_beta(xp, asarray):
    x = asarray(X, np.float32)
    loss = hb.smooth_l1_loss(x, xp.zeros_like(x), beta=np.float64(0.5))
    assert dtype_name(loss) == "float32"


def test_zero_d_array_beta_is_accepted(xp, asarray):
    loss = hb.smooth_l1_loss(asarray(X), asarray(Y), beta=np.asarray(0.5))
    assert_close(loss, reference(X, Y, beta=0.5)[0], dtype="float64")


# ---------------------------------------------------------------------------------------------
# Thresholds and numerics


def test_beta_zero_is_exactly_l1(xp, asarray):
    x, y = asarray(X), asarray(Y)
    loss, grad = hb.smooth_l1_loss_and_grad(x, y, reduction="none", beta=0.0)
    assert_close(loss, np.abs(X - Y), dtype="float64", rtol=0)
    assert_close(grad, np.sign(X - Y), dtype="float64", rtol=0)  # 0 where x == y


def test_beta_inf_gives_zero_for_finite_residuals(xp, asarray):
    loss, grad = hb.smooth_l1_loss_and_grad(asarray(X), asarray(Y), beta=math.inf)
    assert_close(loss, 0.0, dtype="float64", rtol=0)
    assert_close(grad, np.zeros_like(X), dtype="float64", rtol=0)


def test_beta_below_float32_normal_range_is_l1(xp, asarray):
    x = asarray(X, np.float32)
    y = xp.zeros_like(x)
    loss, grad = hb.smooth_l1_loss_and_grad(x, y, reduction="none", beta=1e-40)
    assert_close(loss, np.abs(X), dtype="float32", rtol=0)
    assert_close(grad, np.sign(X), dtype="float32", rtol=0)


def test_beta_beyond_float32_range_is_inf(xp, asarray):
    # torch gives NaN here (inf / inf); float32 cannot hold this beta: it acts as inf.
    x = asarray(X, np.float32)
    loss, grad = hb.smooth_l1_loss_and_grad(x, xp.zeros_like(x), beta=1e39)
    assert_close(loss, 0.0, dtype="float32", rtol=0)
    assert_close(grad, np.zeros_like(X), dtype="float32", rtol=0)


def test_no_overflow_or_underflow_before_the_result(xp, asarray):
    # torch float32: 1e20**2 overflows (inf, true value 5e9); 1e-31**2 underflows (0, true 5e-33)
    x = asarray(np.array([1e20, 1e-31]), np.float32)
    betas = (1e30, 1e-30)
    for i, beta in enumerate(betas):
        loss, grad = hb.smooth_l1_loss_and_grad(x[i : i + 1], xp.zeros_like(x[:1]), beta=beta)
        value = float(np.float32([1e20, 1e-31][i]))
        assert_close(loss, 0.5 * value * value / beta, dtype="float32")
        assert_close(grad, [value / beta], dtype="float32")


def test_gradient_at_the_boundary_is_sign(xp, asarray):
    x = asarray(np.array([-0.5, 0.5, 0.4999]))
    loss, grad = hb.smooth_l1_loss_and_grad(x, xp.zeros_like(x), reduction="none", beta=0.5)
    assert_close(loss, [0.25, 0.25, 0.5 * 0.4999**2 / 0.5], dtype="float64")
    assert_close(grad, [-1.0, 1.0, 0.4999 / 0.5], dtype="float64")


@pytest.mark.parametrize("beta", [0.0, 0.5, math.inf])
def test_nan_propagates_for_every_beta(xp, asarray, device, beta):
    # torch's beta=0 path turns a NaN gradient into 0; here NaN in gives NaN out.
    x = asarray(np.array([math.nan, 1.0]))
    loss, grad = hb.smooth_l1_loss_and_grad(x, xp.zeros_like(x), reduction="none", beta=beta)
    nan_first = xp.asarray([True, False], device=device)
    xpx_assert_equal(xp.isnan(loss), nan_first, xp=xp)
    xpx_assert_equal(xp.isnan(grad), nan_first, xp=xp)


@pytest.mark.parametrize("beta", [0.0, 0.5, 1e30, math.inf])
def test_infinite_residual_gives_inf_loss_and_unit_gradient(xp, asarray, beta):
    x = asarray(np.array([math.inf, -math.inf]))
    loss, grad = hb.smooth_l1_loss_and_grad(x, xp.zeros_like(x), reduction="none", beta=beta)
    assert_close(loss, [math.inf, math.inf], dtype="float64")
    # Exactly +-1 on eager backends; XLA turns `/ beta` into `* (1 / beta)`: 1 ulp off.
    assert_close(grad, [1.0, -1.0], dtype="float64", rtol=2.3e-16)
    loss, grad = hb.huber_loss_and_grad(x, xp.zeros_like(x), reduction="sum", delta=2.0)
    assert_close(loss, math.inf, dtype="float64")
    assert_close(grad, [2.0, -2.0], dtype="float64", rtol=0)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_empty_input(xp, asarray, reduction):
    x = asarray(np.zeros((0, 3)))
    loss, grad = hb.smooth_l1_loss_and_grad(x, xp.zeros_like(x), reduction=reduction)
    expected = {"none": np.zeros((0, 3)), "mean": math.nan, "sum": 0.0}[reduction]
    assert_close(loss, expected, dtype="float64")
    assert_close(grad, np.zeros((0, 3)), dtype="float64")


def test_float32_mean_of_ten_million_is_accurate():
    # Summed with the backend's pairwise sum, not a dot: 2e-6 of the float64 truth.
    rng = np.random.default_rng(0)
    x = rng.standard_normal(10_000_000, dtype=np.float32) * 3
    loss = hb.smooth_l1_loss(x, np.float32(0.25) * x[::-1])
    truth = reference(x, np.float32(0.25) * x[::-1], beta=1.0)[0]
    assert abs(float(loss) - float(truth)) <= 2e-6 * float(truth)


# ---------------------------------------------------------------------------------------------
# Weights, scalars, 0-d, shapes of gradients


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weight_shape", [(2, 4), (4,), (2, 1), ()])
def test_weight_multiplies_loss_and_gradient(xp, asarray, reduction, weight_shape):
    w = np.linspace(0.0, 2.0, math.prod(weight_shape)).reshape(weight_shape)
    got = hb.huber_loss(asarray(X), asarray(Y), reduction, 0.5, asarray(w))
    grads = hb.smooth_l1_loss_backward(
        asarray(np.ones(X.shape) if reduction == "none" else 1.0),
        asarray(X),
        asarray(Y),
        reduction=reduction,
        beta=0.5,
        weight=asarray(w),
    )
    assert_close(
        got, reference(X, Y, beta=0.5, scale=0.5, reduction=reduction, weight=w)[0], dtype="float64"
    )
    _, expected_x, expected_y = reference(X, Y, beta=0.5, reduction=reduction, weight=w)
    assert_close(grads[0], expected_x, dtype="float64")
    assert_close(grads[1], expected_y, dtype="float64")


def test_python_scalar_input_gets_a_0d_gradient(xp, asarray):
    grad_input, grad_target = hb.smooth_l1_loss_backward(
        asarray(np.ones(4)), 0.25, asarray(Y[0]), reduction="none"
    )
    _, expected_x, expected_y = reference(0.25, Y[0], beta=1.0, reduction="none")
    assert_close(grad_input, expected_x, dtype="float64")
    assert_close(grad_target, expected_y, dtype="float64")


def test_zero_d_operands(xp, asarray):
    loss, grad = hb.smooth_l1_loss_and_grad(asarray(1.5), asarray(0.25), reduction="none")
    assert_close(loss, 0.75, dtype="float64")
    assert_close(grad, 1.0, dtype="float64")


def test_results_stay_on_the_input_device(xp, asarray):
    x, y = asarray(X), asarray(Y)
    loss, grad = hb.smooth_l1_loss_and_grad(x, y, reduction="none")
    grad_x, grad_y = hb.huber_loss_backward(asarray(np.ones(X.shape)), x, y, reduction="none")
    for result in (loss, grad, grad_x, grad_y):
        assert device_of(result) == device_of(x)


# ---------------------------------------------------------------------------------------------
# Classes


@pytest.mark.parametrize(
    ("cls", "kwargs", "function_kwargs"),
    [
        (hb.SmoothL1Loss, {"beta": 0.5, "reduction": "sum"}, {"beta": 0.5, "reduction": "sum"}),
        (hb.HuberLoss, {"delta": 2.0}, {"delta": 2.0}),
    ],
)
def test_classes_match_the_functions(xp, asarray, cls, kwargs, function_kwargs):
    crit = cls(**kwargs)
    x, y = asarray(X), asarray(Y)
    scale = function_kwargs.get("delta", 1.0)
    threshold = function_kwargs.get("beta", scale)
    reduction = function_kwargs.get("reduction", "mean")
    expected_loss, expected_x, expected_y = reference(
        X, Y, beta=threshold, scale=scale, reduction=reduction
    )
    assert_close(crit(x, y), expected_loss, dtype="float64")
    assert_close(crit.forward(x, y), expected_loss, dtype="float64")
    loss, grad = crit.loss_and_grad(x, y)
    assert_close(loss, expected_loss, dtype="float64")
    assert_close(grad, expected_x, dtype="float64")
    grad_x, grad_y = crit.backward(asarray(1.0), x, y)
    assert_close(grad_x, expected_x, dtype="float64")
    assert_close(grad_y, expected_y, dtype="float64")
    # a weight per call, the third argument (as Keras' sample_weight; issue 19: a TypeError)
    w = np.linspace(0.0, 2.0, 4)
    expected = reference(X, Y, beta=threshold, scale=scale, reduction=reduction, weight=w)
    assert_close(crit(x, y, asarray(w)), expected[0], dtype="float64")
    assert_close(crit.loss_grad_hess(x, y, asarray(w)).grad, expected[1], dtype="float64")
    assert_close(crit.backward(asarray(1.0), x, y, asarray(w))[1], expected[2], dtype="float64")


def test_class_attributes_and_repr():
    crit = hb.SmoothL1Loss(beta=np.float32(0.5))
    assert (crit.reduction, crit.beta, type(crit.beta)) == ("mean", 0.5, float)
    assert repr(crit) == "SmoothL1Loss(reduction='mean', beta=0.5)"
    huber = hb.HuberLoss("sum", 3)
    assert (huber.reduction, huber.delta) == ("sum", 3.0)
    assert repr(huber) == "HuberLoss(reduction='sum', delta=3.0)"


def test_dask_graph_streams_chunk_by_chunk():
    """No full-size intermediate: each chunk's loss depends on that chunk of the operands only."""
    da = pytest.importorskip("dask.array")
    x = da.ones(40, chunks=10)
    loss, grad = hb.smooth_l1_loss_and_grad(x, da.zeros(40, chunks=10), beta=0.5)
    for result in (loss, grad):
        layers = result.__dask_graph__().layers
        assert not [name for name in layers if name.startswith("broadcast_to")]
    assert grad.chunks == x.chunks
