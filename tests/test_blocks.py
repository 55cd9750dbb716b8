"""The blocked NumPy path (`huberish._blocks`): same results as the whole-array kernel and the
float64 reference, whatever the number of threads; inputs untouched; accurate float32 sums."""

import numpy as np
import pytest
from helpers import assert_close

import huberish as hb
from huberish import _blocks
from huberish._reference import reference

N = 5 * _blocks.block_bytes() // 4 + 123  # several blocks and a ragged last one
RNG = np.random.default_rng(3)
X = RNG.standard_normal((N,)) * 2
Y = RNG.standard_normal((N,)) * 2
W = RNG.random((N,))


@pytest.fixture(params=["1", "2"])
def threads(request, monkeypatch):
    monkeypatch.setenv("HUBERISH_NUM_THREADS", request.param)
    monkeypatch.setattr(_blocks, "_MIN_SIZE_PER_THREAD", 1000)  # use them all
    return int(request.param)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True])
def test_blocked_path_matches_the_reference(threads, reduction, dtype, weighted):
    x, y = X.astype(dtype), Y.astype(dtype)
    w = W.astype(dtype) if weighted else None
    grad_output = np.asarray(1.5, dtype=dtype) if reduction != "none" else None
    loss = hb.huber_loss(x, y, reduction, 0.7, w)
    both = hb.smooth_l1_loss_and_grad(x, y, reduction=reduction, beta=0.7, weight=w)
    expected_huber = reference(x, y, beta=0.7, scale=0.7, reduction=reduction, weight=w)
    expected = reference(x, y, beta=0.7, reduction=reduction, weight=w)
    assert_close(loss, expected_huber[0], dtype=dtype)
    assert_close(both.loss, expected[0], dtype=dtype)
    assert_close(both.grad, expected[1], dtype=dtype)
    if grad_output is not None:
        gx, gy = hb.smooth_l1_loss_backward(
            grad_output, x, y, reduction=reduction, beta=0.7, weight=w
        )
        scaled = reference(x, y, beta=0.7, reduction=reduction, weight=w, grad_output=1.5)
        assert_close(gx, scaled[1], dtype=dtype)
        assert_close(gy, scaled[2], dtype=dtype)


def test_python_scalar_grad_output(threads):
    gx, gy = hb.huber_loss_backward(2, X, Y, reduction="sum", delta=0.5)
    _, expected_x, expected_y = reference(X, Y, beta=0.5, scale=0.5, reduction="sum", grad_output=2)
    assert_close(gx, expected_x, dtype="float64")
    assert_close(gy, expected_y, dtype="float64")


def test_results_do_not_depend_on_the_thread_count(monkeypatch):
    x, y = X.astype(np.float32), Y.astype(np.float32)
    monkeypatch.setattr(_blocks, "_MIN_SIZE_PER_THREAD", 1000)
    results = []
    for count in ("1", "2", "3"):
        monkeypatch.setenv("HUBERISH_NUM_THREADS", count)
        results.append(hb.smooth_l1_loss_and_grad(x, y, beta=0.5))
    for loss, grad in results[1:]:
        assert loss == results[0].loss
        np.testing.assert_array_equal(grad, results[0].grad)


def test_blocked_and_whole_array_kernels_agree(monkeypatch):
    x, y = X.astype(np.float32), Y.astype(np.float32)
    blocked = hb.smooth_l1_loss_and_grad(x, y, reduction="none", beta=0.5)
    monkeypatch.setattr(_blocks, "MIN_SIZE", 10 * N)  # force the whole-array kernel
    whole = hb.smooth_l1_loss_and_grad(x, y, reduction="none", beta=0.5)
    np.testing.assert_array_equal(blocked.loss, whole.loss)
    np.testing.assert_array_equal(blocked.grad, whole.grad)


def test_inputs_are_untouched_and_may_be_read_only_or_strided():
    x = np.repeat(X, 2)[::2]  # a strided view
    y = Y.copy()
    y.flags.writeable = False
    before = x.copy()
    loss, grad = hb.smooth_l1_loss_and_grad(x, y)
    np.testing.assert_array_equal(x, before)
    expected = reference(X, Y, beta=1.0)
    assert_close(loss, expected[0], dtype="float64")
    assert_close(grad, expected[1], dtype="float64")
