"""The blocked NumPy path (`huberish._blocks`): same results as the whole-array kernel and the
float64 reference, whatever the number of threads; inputs untouched; accurate float32 sums."""

import math
import os
import warnings

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
    monkeypatch.setattr(_blocks, "MIN_SIZE_PER_THREAD", 1000)  # use them all
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
    monkeypatch.setattr(_blocks, "MIN_SIZE_PER_THREAD", 1000)
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


# --- block size from the cache sizes -----------------------------------------------------------


@pytest.mark.parametrize(
    "l2", [None, 0, 1, 32 << 10, 256 << 10, 1 << 20, 1280 << 10, 2 << 20, 1 << 30]
)
def test_block_size_is_half_the_l2_cache_clamped(l2):
    got = _blocks.bytes_per_block(l2)
    if not l2:
        expected = 512 << 10  # the fallback
    else:
        half = 2 ** math.floor(math.log2(l2 / 2)) if l2 >= 2 else 1
        expected = min(1 << 20, max(64 << 10, half))
    assert got == expected


def _fake_sysfs(root, caches):
    for i, (level, kind, size) in enumerate(caches):
        index = root / f"index{i}"
        index.mkdir()
        (index / "level").write_text(f"{level}\n")
        (index / "type").write_text(f"{kind}\n")
        (index / "size").write_text(f"{size}\n")
    return root


@pytest.mark.parametrize(
    ("size", "expected"), [("2048K", 2 << 20), ("2M", 2 << 20), ("1536K", 1536 << 10)]
)
def test_cache_size_is_read_from_sysfs(tmp_path, size, expected):
    caches = [
        (1, "Data", "48K"),
        (1, "Instruction", "32K"),
        (2, "Unified", size),
        (3, "Unified", "32M"),
    ]
    root = _fake_sysfs(tmp_path, caches)
    assert _blocks._cache_bytes(2, root) == expected
    assert _blocks._cache_bytes(1, root) == 48 << 10  # the data cache, not the instruction one
    assert _blocks._cache_bytes(4, root) is None


def test_cache_size_is_none_without_sysfs(tmp_path):
    assert _blocks._cache_bytes(2, tmp_path / "missing") is None
    root = _fake_sysfs(tmp_path, [(2, "Unified", "garbage")])
    assert _blocks._cache_bytes(2, root) is None


def test_block_size_of_this_machine_is_in_range():
    size = _blocks.block_bytes()
    assert 64 << 10 <= size <= 1 << 20
    assert size & (size - 1) == 0


# --- threads ------------------------------------------------------------------------------------


def test_thread_count_is_read_at_each_call(monkeypatch):
    monkeypatch.setattr(_blocks, "MIN_SIZE_PER_THREAD", 1000)
    monkeypatch.setattr(_blocks, "TASK_BYTES", _blocks.block_bytes())  # a task per block
    x, y = X.astype(np.float32), Y.astype(np.float32)
    seen = []
    for count in ("2", "3", "1", "2"):
        monkeypatch.setenv("HUBERISH_NUM_THREADS", count)
        hb.smooth_l1_loss_and_grad(x, y)
        pool = _blocks._pool_of
        seen.append(None if pool is None else pool[0])
    # 1 thread takes no pool (the last pool stays); every other count makes its own
    assert seen == [2, 3, 3, 2]


@pytest.mark.parametrize(
    ("setting", "size", "tasks", "expected"),
    [
        ("1", 10 << 20, 100, 1),
        ("2", 10 << 20, 100, 2),
        ("8", 10 << 20, 100, 8),
        ("8", 10 << 20, 3, 3),  # at most one thread per task
        ("8", 3 << 20, 100, 3),  # at most one per MIN_SIZE_PER_THREAD elements
        ("8", (1 << 20) - 1, 100, 1),  # and always one
        ("auto", 10 << 20, 100, None),  # the cores this process may use
    ],
)
def test_worker_count_rule(monkeypatch, setting, size, tasks, expected):
    monkeypatch.setenv("HUBERISH_NUM_THREADS", setting)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    got = _blocks.workers(size, tasks)
    assert got == (min(cores, 10, tasks) if expected is None else expected)


# --- the reduced loss --------------------------------------------------------------------------


def _fsum_truth(x, y, beta, scale, divisor):
    d = x.astype(np.float64) - y.astype(np.float64)
    a = np.abs(d)
    elements = np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta) * scale
    return math.fsum(elements.tolist()) / divisor


@pytest.mark.parametrize(
    "size",
    [1000, 70_000, 100_000, 131_071, 1_000_003, 4_000_000],  # whole array, then blocks
)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("loss", ["smooth_l1", "huber"])
@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("data", ["normal", "equal"])
def test_float32_summed_loss_is_accurate(monkeypatch, size, reduction, loss, threads, data):
    # Within two float32 ulp (2.5e-7 relative) of a math.fsum of the exact float64 terms, on
    # every CPU, for random and for equal terms (whose rounding errors add up in a float32
    # sum, pairwise or not: a tester's find, 1.4e-6 at 131,071 equal terms).
    monkeypatch.setenv("HUBERISH_NUM_THREADS", threads)
    monkeypatch.setattr(_blocks, "MIN_SIZE_PER_THREAD", 1000)
    rng = np.random.default_rng(size)
    if data == "equal":
        x, y = np.full(size, 0.7, dtype=np.float32), np.zeros(size, dtype=np.float32)
    else:
        x = (rng.standard_normal(size) * 3).astype(np.float32)
        y = rng.standard_normal(size).astype(np.float32)
    beta = 0.8
    got = getattr(hb, f"{loss}_loss")(
        x, y, reduction=reduction, **{"beta" if loss == "smooth_l1" else "delta": beta}
    )
    assert got.dtype == np.float32
    truth = _fsum_truth(
        x, y, beta, 1.0 if loss == "smooth_l1" else beta, size if reduction == "mean" else 1
    )
    assert abs(float(got) - truth) <= 2.5e-7 * abs(truth)


@pytest.mark.parametrize("reduction", ["mean", "sum", "weighted_mean"])
def test_float32_sums_along_an_axis_are_accurate(reduction):
    # Along an outer axis NumPy adds a float32 array's rows one after another: 100,000 equal
    # terms per column erred 8.8e-4 relative (a tester's find). The loss per column, the total
    # weight and the gradient of a broadcast target are sums too.
    rows = 100_000
    x = np.full((rows, 2), 0.7, dtype=np.float32)
    y = np.zeros((1, 2), dtype=np.float32)
    w = np.full((rows, 2), 0.3, dtype=np.float32)
    weight = w if reduction == "weighted_mean" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (the shapes differ: torch's warning)
        got = hb.smooth_l1_loss_backward(np.float32(1.0), x, y, reduction="sum", beta=0.8)[1]
        loss = hb.smooth_l1_loss(x, y, reduction=reduction, beta=0.8, axis=0, weight=weight)
    term = 0.5 * float(np.float32(0.7)) ** 2 / 0.8
    terms = [term * float(np.float32(0.3))] * rows if weight is not None else [term] * rows
    divisor = {"sum": 1, "mean": rows, "weighted_mean": math.fsum([float(np.float32(0.3))] * rows)}
    want = math.fsum(terms) / divisor[reduction]
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss, [want, want], rtol=2.5e-7)
    slope = float(np.float32(0.7)) / 0.8
    np.testing.assert_allclose(got, [[-math.fsum([slope] * rows)] * 2], rtol=2.5e-7)


@pytest.mark.parametrize("size", [1000, 100_000, 1_000_003])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_blocked_gradient_equals_the_whole_array_gradient(size, dtype):
    # loss_and_grad takes blocks from MIN_SIZE on; loss_grad_hess always the whole arrays.
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((size,)) * 2).astype(dtype)
    y = rng.standard_normal((size,)).astype(dtype)
    for reduction in ("mean", "sum"):
        blocked = hb.huber_loss_and_grad(x, y, reduction=reduction, delta=0.6)
        whole = hb.huber_loss_grad_hess(x, y, reduction=reduction, delta=0.6)
        np.testing.assert_array_equal(blocked.grad, whole.grad)
        assert_close(blocked.loss, whole.loss, dtype=dtype)


def test_summed_loss_keeps_overflow_and_underflow_behaviour():
    # The loss terms are the kernel's own products: 1e20 with beta = 1e30 and 1e-31 with
    # beta = 1e-30 neither overflow nor underflow before the result.
    for value, beta in ((1e20, 1e30), (1e-31, 1e-30)):
        x = np.full(3000, value, dtype=np.float32)
        loss = hb.smooth_l1_loss(x, np.zeros_like(x), reduction="sum", beta=beta)
        v = float(np.float32(value))
        assert_close(loss, 3000 * 0.5 * v * v / beta, dtype="float32")
