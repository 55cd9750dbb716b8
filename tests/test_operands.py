"""Every value a user holds is an operand (one rule: the array API's), and the edges a fuzz
campaign found (issue 14), each on every backend of the `xp` fixture, against the mpmath oracle."""

import math
import os
import warnings

import mp_oracle
import numpy as np
import pytest
from backends import Backend
from helpers import dtype_name, to_numpy

import huberish as hb
from huberish import _blocks
from huberish._reference import reference

lazy_xp_modules = [hb]  # run tagged functions jitted on JAX, lazily on Dask (helpers.py)

X = np.array([[-2.0, -0.5, 0.0, 0.25], [1.0, 3.0, -1.0, 0.75]])
Y = np.array([[0.0, 0.5, 0.0, -0.25], [0.5, -1.0, 0.0, 0.75]])
_NAME = {"smooth_l1": "beta", "huber": "delta", "pseudo_huber": "delta"}
_BACKWARDS = {
    "smooth_l1": hb.smooth_l1_loss_backward,
    "huber": hb.huber_loss_backward,
    "pseudo_huber": hb.pseudo_huber_loss_backward,
}
LOSSES = {
    "smooth_l1": hb.smooth_l1_loss_grad_hess,
    "huber": hb.huber_loss_grad_hess,
    "pseudo_huber": hb.pseudo_huber_loss_grad_hess,
}
THRESHOLD = {"smooth_l1": "beta", "huber": "delta", "pseudo_huber": "delta"}


def assert_oracle(kind, threshold, x, y, result, *, reduction, dtype, flush=False, **options):
    """`result` (loss, grad, hess of `input`) equals the mpmath oracle's, to the dtype's
    tolerance (mp_oracle.check)."""
    x_np, y_np = np.asarray(x), np.asarray(y)
    compute = mp_oracle.COMPUTE[dtype]
    exact = mp_oracle.evaluate(
        kind, threshold, x_np, y_np, compute=compute, reduction=reduction, flush=flush, **options
    )
    shape = x_np.shape
    magnitude_grad = mp_oracle.sum_to(np.vectorize(abs, otypes=[object])(exact["grad"]), shape)
    magnitude_hess = mp_oracle.sum_to(np.vectorize(abs, otypes=[object])(exact["hess"]), shape)
    got = [as_numpy(part) for part in result]
    grad_dtype = x_np.dtype.name if x_np.dtype.kind == "f" else dtype  # in the operand's dtype
    mp_oracle.check(
        got[0], exact["loss"], exact["magnitude"], dtype=dtype, compute=compute, what="loss"
    )
    mp_oracle.check(
        got[1],
        mp_oracle.sum_to(exact["grad"], shape),
        magnitude_grad,
        dtype=grad_dtype,
        compute=compute,
        what="grad",
    )
    if len(got) > 2:
        mp_oracle.check(
            got[2],
            mp_oracle.sum_to(exact["hess"], shape),
            magnitude_hess,
            dtype=grad_dtype,
            compute=compute,
            what="hess",
        )


def as_numpy(x):
    """`x` as NumPy; on Dask, NumPy's RuntimeWarnings for results beyond the range come from
    Dask's worker threads at compute time, outside huberish (docs/semantics.md)."""
    if hasattr(x, "compute"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=RuntimeWarning)
            return to_numpy(x)
    return to_numpy(x)


def flushes(xp):
    return "jax" in xp.__name__


# --- issue 9: every value a user holds --------------------------------------------------------


@pytest.mark.parametrize(
    ("scalar", "dtype"),
    [
        (np.float64(2.5), "float64"),
        (np.float32(2.5), "float32"),
        (np.float16(2.5), "float16"),
        (np.int64(3), "float64"),
    ],
)
def test_numpy_scalar_alone_is_a_0d_array_of_its_dtype(scalar, dtype):
    """`hb.huber_loss(np.float64(2.5), 0.0)` raised IndexError (np.float64 subclasses float)."""
    result = hb.huber_loss_grad_hess(scalar, 0.0)
    assert dtype_name(np.asarray(result.loss)) == dtype
    assert_oracle(
        "huber", 1.0, np.asarray(scalar, dtype=dtype), 0.0, result, reduction="mean", dtype=dtype
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numpy_scalars_beside_arrays_follow_one_rule(xp, asarray, dtype):
    """np.float32 and np.float64 beside an array are both 0-d arrays of their dtype (promoted
    with `result_type`); they were treated by two rules."""
    x = asarray(X, dtype=dtype)
    for scalar in (np.float64(0.5), np.float32(0.5), np.int64(1)):
        with pytest.warns(UserWarning, match="Using a target size"):  # as for any 0-d array
            result = hb.smooth_l1_loss_grad_hess(x, scalar, reduction="sum")
        # (an integer counts as the device's default floating dtype: float32 on torch)
        default = dtype_name(
            xp.empty(0, dtype=xp.__array_namespace_info__().default_dtypes()["real floating"])
        )
        promoted = np.result_type(
            np.dtype(dtype), scalar.dtype if scalar.dtype.kind == "f" else default
        ).name
        assert dtype_name(result.loss) == promoted
        assert dtype_name(result.grad) == dtype  # each gradient in its operand's dtype
        assert_oracle(
            "smooth_l1",
            1.0,
            X.astype(dtype),
            np.asarray(scalar, promoted),
            result,
            reduction="sum",
            dtype=promoted,
            flush=flushes(xp),
        )


def test_own_mean_result_fed_back(xp, asarray):
    """huberish's own 'mean' (a NumPy scalar on NumPy, 0-d elsewhere) is an operand."""
    mean = hb.huber_loss(asarray(X), asarray(Y))
    result = hb.huber_loss_grad_hess(mean, 0.0)
    assert_oracle("huber", 1.0, to_numpy(mean), 0.0, result, reduction="mean", dtype="float64")
    twice = hb.pseudo_huber_loss_and_grad(mean, mean)
    assert float(to_numpy(twice.loss)) == 0.0


@pytest.mark.parametrize("weight", [2.0, 3, 0.5])
def test_python_scalar_weight(xp, asarray, weight):
    """`weight=2.0` raised "weight must be an array"."""
    x, y = asarray(X), asarray(Y)
    for reduction in ("none", "mean", "sum"):
        result = hb.huber_loss_grad_hess(x, y, delta=0.7, reduction=reduction, weight=weight)
        assert_oracle(
            "huber",
            0.7,
            X,
            Y,
            result,
            reduction=reduction,
            dtype="float64",
            weight=np.float64(weight),
            flush=flushes(xp),
        )
    big = np.linspace(-3.0, 3.0, 1 << 17)  # the blocked NumPy path takes a scalar weight too
    loss, grad = hb.smooth_l1_loss_and_grad(big, 0.0, weight=2.0, reduction="sum")
    want_loss, want_grad = hb.smooth_l1_loss_and_grad(
        big, 0.0, weight=np.full(big.shape, 2.0), reduction="sum"
    )
    np.testing.assert_allclose(loss, want_loss, rtol=1e-12)
    np.testing.assert_array_equal(grad, want_grad)


@pytest.mark.parametrize(
    "convert",
    [
        lambda a: a.tolist(),
        lambda a: tuple(map(tuple, a.tolist())),
        lambda a: pytest.importorskip("pandas").DataFrame(a),
        lambda a: pytest.importorskip("pandas").Series(a[0]),
    ],
    ids=["list", "tuple", "DataFrame", "Series"],
)
def test_lists_tuples_and_array_likes_are_numpy_arrays(xp, asarray, backend, convert):
    """Lists, tuples and pandas objects are NumPy arrays (as in SciPy): beside NumPy and Dask
    they work, beside another library they are a second library."""
    value = convert(X)
    y_np = np.asarray(value, dtype=np.float64)
    x = asarray(X if y_np.shape == X.shape else X[0])
    if backend not in (Backend.NUMPY, Backend.DASK):
        with pytest.raises(TypeError, match="same array library"):
            hb.smooth_l1_loss(x, value)
        return
    result = hb.smooth_l1_loss_grad_hess(x, value, beta=0.5)
    assert_oracle("smooth_l1", 0.5, to_numpy(x), y_np, result, reduction="mean", dtype="float64")
    alone = hb.huber_loss_grad_hess(value, 1.0)  # alone: NumPy
    assert isinstance(alone.grad, np.ndarray)
    assert_oracle("huber", 1.0, y_np, 1.0, alone, reduction="mean", dtype="float64")


def test_pandas_operands_with_different_labels_raise():
    """huberish pairs elements by position, pandas by label: two Series (or DataFrames) whose
    labels differ raise ValueError rather than pair by position silently (issue 21: [0.5, 7.5]
    where pandas' own arithmetic gives [8.5, 1.5]); equal labels pair as NumPy arrays do."""
    pd = pytest.importorskip("pandas")
    pred = pd.Series([1.0, 9.0], index=["a", "b"])
    target = pd.Series([0.0, 0.5], index=["b", "a"])
    with pytest.raises(ValueError, match="`input` and `target` are pandas objects with different"):
        hb.huber_loss(pred, target, reduction="none")
    with pytest.raises(ValueError, match="`input` and `weight` are pandas objects with different"):
        hb.huber_loss(pred, 0.0, weight=target)
    frame = pd.DataFrame({"u": [1.0, 2.0], "v": [3.0, 4.0]})
    with pytest.raises(ValueError, match="different labels"):
        hb.smooth_l1_loss(frame, frame[["v", "u"]])  # the same index, other columns
    aligned = hb.huber_loss(*pred.align(target, join="inner"), reduction="none", delta=10.0)
    pandas_residual = (pred - target).to_numpy()  # pandas' own arithmetic, aligned by label
    np.testing.assert_array_equal(aligned, 0.5 * pandas_residual**2)
    same = pd.Series([0.0, 0.5], index=["a", "b"])
    np.testing.assert_array_equal(
        hb.huber_loss(pred, same, reduction="none", delta=10.0),
        hb.huber_loss(pred.to_numpy(), same.to_numpy(), reduction="none", delta=10.0),
    )


def test_pandas_objects_without_labels_of_their_own_pair_by_position():
    """An Index or an extension array (pandas objects without `axes`) is an `__array__`
    object like any other; `pd.NA` is not an operand (they raised AttributeError)."""
    pd = pytest.importorskip("pandas")
    got = hb.huber_loss(pd.Index([1.0, 2.0]), pd.array([1.0, 4.0], dtype="Float64"), "sum")
    assert got == hb.huber_loss(np.array([1.0, 2.0]), np.array([1.0, 4.0]), "sum")
    with pytest.raises(TypeError, match="`weight` must be an array"):
        hb.huber_loss(pd.Series([1.0, 2.0]), 0.0, weight=pd.NA)


def test_dask_dataframes_stay_lazy(dask_scheduler):
    """Dask DataFrame columns and frames are Dask arrays of unknown size, lazily: nothing is
    computed (issue 21: a NumPy scalar came back), then the values equal the pandas ones'."""
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    frame = pd.DataFrame({"y": TALL_Y[:, 0], "yhat": TALL_X[:, 0], "w": TALL_X[:, 1] ** 2})
    lazy = dd.from_pandas(frame, npartitions=3)
    loss = hb.huber_loss(lazy["yhat"], lazy["y"], weight=lazy["w"], delta=0.5)
    grads = hb.smooth_l1_loss_and_grad(lazy[["yhat"]], lazy[["y"]], reduction="sum")
    positive = lazy[lazy["y"] > 0]  # the detection idiom: a boolean selection
    selected = hb.huber_loss(positive["yhat"], positive["y"])
    assert dask_scheduler.computed == 0
    assert type(loss).__module__.startswith("dask.array")
    np.testing.assert_allclose(
        loss.compute(),
        hb.huber_loss(frame["yhat"], frame["y"], weight=frame["w"], delta=0.5),
        rtol=1e-15,
    )
    want = reference(frame[["yhat"]].to_numpy(), frame[["y"]].to_numpy(), beta=1.0, reduction="sum")
    np.testing.assert_allclose(grads[0].compute(), want[0], rtol=1e-14)
    np.testing.assert_allclose(grads[1].compute(), want[1], rtol=1e-15)
    kept = frame[frame["y"] > 0]
    want = reference(kept["yhat"].to_numpy(), kept["y"].to_numpy(), beta=1.0, reduction="mean")
    np.testing.assert_allclose(selected.compute(), want[0], rtol=1e-14)


@pytest.mark.skip_backend(
    Backend.NUMPY,
    Backend.ARRAY_API_STRICT,
    Backend.ARRAY_API_STRICT_DEVICE1,
    Backend.TORCH,
    Backend.TORCH_CUDA,
    Backend.JAX,
    Backend.CUPY,
    reason="Dask only",
)
def test_dask_beside_numpy_computes_as_dask(xp, asarray):
    x = asarray(X)
    for target, weight in ((Y, None), (Y[0], np.full(4, 2.0)), (np.float64(0.5), None)):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Using a target size", UserWarning)
            result = hb.huber_loss_grad_hess(x, target, weight=weight)
        assert type(result.loss).__module__.startswith("dask")
        assert_oracle(
            "huber",
            1.0,
            X,
            np.asarray(target),
            result,
            reduction="mean",
            dtype="float64",
            weight=weight,
        )


def test_order_of_checks_is_torchs():
    """torch checks broadcasting before the reduction string and the threshold; so does
    huberish (the docs said so, the code checked the reduction first)."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    cases = [
        dict(reduction="avg"),
        dict(reduction="avg", beta=-1.0),
        dict(beta=-1.0),
        dict(reduction="avg", size_average=True),
    ]
    for options in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="must match the size") as theirs:
                functional.smooth_l1_loss(torch.ones(3), torch.ones(4), **options)
            with pytest.raises(ValueError, match="cannot be broadcast together") as ours:
                hb.smooth_l1_loss(np.ones(3), np.ones(4), **options)
        assert theirs
        assert ours
    # same shapes: the reduction string before the threshold, in both
    with pytest.raises(ValueError, match="avg is not a valid"):
        functional.huber_loss(torch.ones(3), torch.ones(3), reduction="avg", delta=-1.0)
    with pytest.raises(ValueError, match="avg is not a valid"):
        hb.huber_loss(np.ones(3), np.ones(3), reduction="avg", delta=-1.0)


# --- issue 14: crashes on valid input ----------------------------------------------------------


@pytest.mark.parametrize("kind", LOSSES)
def test_hessians_of_empty_input(xp, asarray, kind):
    """`hb.smooth_l1_loss_grad_hess(np.zeros(0), np.zeros(0))` raised ZeroDivisionError."""
    function, name = LOSSES[kind], THRESHOLD[kind]
    for shape, axis in (((0,), None), ((3, 0), 1), ((0, 3), 1), ((3, 0), None)):
        x = asarray(np.zeros(shape))
        for reduction in ("none", "mean", "sum") if axis is None else ("mean", "sum"):
            result = function(x, x, reduction=reduction, axis=axis, **{name: 0.5})
            assert_oracle(
                kind,
                0.5,
                np.zeros(shape),
                np.zeros(shape),
                result,
                reduction=reduction,
                dtype="float64",
                axis=None if axis is None else (axis,),
            )
    crit = {
        "smooth_l1": hb.SmoothL1Loss,
        "huber": hb.HuberLoss,
        "pseudo_huber": hb.PseudoHuberLoss,
    }[kind]()
    result = crit.loss_grad_hess(asarray(np.zeros(0)), asarray(np.zeros(0)))
    assert_oracle(kind, 1.0, np.zeros(0), np.zeros(0), result, reduction="mean", dtype="float64")


class _CountingScheduler:
    """Dask's synchronous scheduler, counting the graphs it is asked to compute."""

    def __init__(self) -> None:
        self.computed = 0

    def __call__(self, graph, keys, **kwargs):
        import dask

        self.computed += 1
        return dask.get(graph, keys, **kwargs)


@pytest.fixture
def dask_scheduler():
    """A counting scheduler in effect for the test: ``computed`` stays 0 while all is lazy."""
    dask = pytest.importorskip("dask")
    scheduler = _CountingScheduler()
    with dask.config.set(scheduler=scheduler):
        yield scheduler


TALL_X = np.linspace(-3.0, 3.0, 24).reshape(6, 4)
TALL_Y = np.cos(TALL_X)
KEPT = TALL_X[:, 0] > -2.0  # rows 1 to 5: what boolean indexing keeps, known to NumPy


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize(
    ("reduction", "axis", "keepdims"),
    [("mean", None, False), ("mean", None, True), ("mean", 0, False), ("mean", 1, False),
     ("mean", 1, True),
     ("sum", None, False), ("sum", 0, True), ("none", None, False)],
)  # fmt: skip
def test_dask_unknown_sizes_compute_lazily(dask_scheduler, kind, reduction, axis, keepdims):
    """Boolean indexing gives Dask arrays of unknown size, shape (nan, 4): the loss and its
    derivatives are built without computing anything ('mean' counts the elements in the
    graph), then computed in one graph, equal to the oracle's on the selected rows."""
    da = pytest.importorskip("dask.array")
    x, y = da.from_array(TALL_X, chunks=(2, 4)), da.from_array(TALL_Y, chunks=(2, 4))
    mask = x[:, 0] > -2.0
    assert math.isnan(x[mask].shape[0])
    weight = (1.0 + x[:, 1:2] ** 2)[mask]  # (nan, 1): one weight per row
    threshold = 0.8
    options = {"reduction": reduction, "axis": axis, "keepdims": keepdims}
    result = LOSSES[kind](x[mask], y[mask], weight=weight, **options, **{_NAME[kind]: threshold})
    grads = _BACKWARDS[kind](2.0, x[mask], y[mask], **options, **{_NAME[kind]: threshold})
    assert dask_scheduler.computed == 0
    import dask

    computed = dask.compute(*result, *grads)
    assert dask_scheduler.computed == 1
    rows_weight = 1.0 + TALL_X[KEPT, 1:2] ** 2
    axes = None if axis is None else (axis,)
    exact = {"reduction": reduction, "dtype": "float64", "axis": axes}
    loss = computed[0]
    if keepdims and reduction != "none":  # (the oracle's loss: without the kept axes)
        loss = np.squeeze(loss, axis=axes)
    assert_oracle(kind, threshold, TALL_X[KEPT], TALL_Y[KEPT], (loss, *computed[1:3]),
                  weight=np.broadcast_to(rows_weight, TALL_X[KEPT].shape), **exact)  # fmt: skip
    want = _BACKWARDS[kind](2.0, TALL_X[KEPT], TALL_Y[KEPT], **options, **{_NAME[kind]: threshold})
    np.testing.assert_allclose(computed[3], want[0], rtol=1e-15)  # (the NumPy path: known sizes)
    np.testing.assert_allclose(computed[4], want[1], rtol=1e-15)


def test_dask_unknown_sizes_edge_cases(dask_scheduler):
    """An empty selection: 'mean' is NaN (as torch's empty mean), 'sum' 0, with no warning. A
    backward pass with a `grad_output` of unknown size. Unknown sizes that differ raise when
    Dask computes (NumPy would broadcast a block of 1 row silently); an unknown size against a
    known one (not 1) raises at the call, naming the cause."""
    da = pytest.importorskip("dask.array")
    x = da.from_array(TALL_X, chunks=(2, 4))
    none = x[x[:, 0] > 100.0]
    assert np.isnan(hb.huber_loss(none, none).compute())
    assert hb.huber_loss(none, none, reduction="sum").compute() == 0.0
    np.testing.assert_array_equal(hb.huber_loss(none, none, axis=0).compute(), np.full(4, np.nan))
    kept = x[x[:, 0] > -2.0]
    grad_output = 1.0 + kept[:, 0] ** 2  # one per row: the loss reduced over axis 1
    grads = hb.smooth_l1_loss_backward(grad_output, kept, 0.0, axis=1)
    want = hb.smooth_l1_loss_backward(1.0 + TALL_X[KEPT, 0] ** 2, TALL_X[KEPT], 0.0, axis=1)
    np.testing.assert_allclose(grads[0].compute(), want[0], rtol=1e-15)
    assert dask_scheduler.computed == 4
    other = x[x[:, 0] > 0.0]  # 3 rows, against 5: Dask finds out when it computes
    loss = hb.smooth_l1_loss(kept, other, reduction="sum")
    with pytest.raises(ValueError, match="`target` and `input` have sizes that differ"):
        loss.compute()
    with (
        pytest.warns(UserWarning, match="Using a target size"),
        pytest.raises(ValueError, match=r"A size Dask does not know.*compute_chunk_sizes"),
    ):
        hb.smooth_l1_loss(kept[:, 0], x[:, 0])
    with pytest.raises(ValueError, match=r"`weight` of shape.*A size Dask does not know"):
        hb.smooth_l1_loss(kept[:, 0], 0.0, weight=x[:, 0])
    # One block against three (or two against three): Dask would broadcast blocks, so the
    # sizes cannot be checked block by block; the call says so (it gave a number before).
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    twelve = dd.from_pandas(pd.DataFrame({"x": np.arange(12.0)}), npartitions=3).x
    for rows, partitions in ((4, 1), (12, 2)):
        other = dd.from_pandas(pd.DataFrame({"y": np.arange(float(rows))}), npartitions=partitions)
        with pytest.raises(ValueError, match="in different numbers of blocks"):
            hb.huber_loss(twelve, other.y, reduction="sum")
        with pytest.raises(ValueError, match="in different numbers of blocks"):
            hb.huber_loss(twelve, 0.0, weight=other.y)
    known = kept.compute_chunk_sizes()  # (a compute) known sizes: the usual rules
    np.testing.assert_allclose(
        hb.smooth_l1_loss(known, TALL_Y[KEPT]).compute(),
        hb.smooth_l1_loss(TALL_X[KEPT], TALL_Y[KEPT]),
        rtol=1e-15,
    )


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # (Dask's chunks: inf * 0)
def test_huge_python_ints(xp, asarray):
    """Python ints beyond int64 raised OverflowError on torch; beyond float64's range,
    everywhere. They are the nearest float: +-inf beyond float64's range."""
    x = asarray(X)
    for big in (10**30, -(10**30), 10**400, -(10**400)):
        value = float(big) if abs(big) < 10**308 else (math.inf if big > 0 else -math.inf)
        result = hb.smooth_l1_loss_grad_hess(x, big, reduction="none")
        assert_oracle(
            "smooth_l1", 1.0, X, np.float64(value), result, reduction="none", dtype="float64"
        )
        grads = hb.huber_loss_backward(big, x, asarray(Y), reduction="sum")
        exact = mp_oracle.evaluate(
            "huber", 1.0, X, Y, compute="float64", reduction="sum", grad_output=np.float64(value)
        )
        mp_oracle.check(
            as_numpy(grads[0]),
            exact["grad"],
            np.vectorize(abs, otypes=[object])(exact["grad"]),
            dtype="float64",
            compute="float64",
            what="grad_input",
        )
    result = hb.huber_loss_grad_hess(x, asarray(Y), delta=10**400)  # delta = inf: 0.5 d**2
    assert_oracle("huber", math.inf, X, Y, result, reduction="mean", dtype="float64")
    result = hb.smooth_l1_loss_grad_hess(x, asarray(Y), beta=10**400)
    assert_oracle("smooth_l1", math.inf, X, Y, result, reduction="mean", dtype="float64")


# --- issue 14: silently wrong values ---------------------------------------------------------


EDGE_VALUES = np.array([[-3.0, -1e-3, 0.0, 2.5e-5], [7.0, 1e30, -1e20, 0.75]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", LOSSES)
def test_thresholds_at_the_dtypes_range_edges(xp, asarray, dtype, kind):
    """Huber `delta` below the smallest normal gave plain L1, beyond the max 0; pseudo-Huber's
    tiny/huge delta under/overflowed; the 'mean' divisor ½·beta·n overflowed; XLA flushed a
    subnormal reciprocal. The oracle keeps the documented limits exactly."""
    info = np.finfo(np.dtype(dtype))
    tiny, huge = float(info.smallest_normal), float(info.max)
    x_np = np.clip(EDGE_VALUES, -huge / 4, huge / 4).astype(dtype)
    x = asarray(x_np)
    thresholds = [
        tiny / 8,
        tiny,
        tiny * 4,
        1e-20,
        1e20,
        huge / 3,
        huge,
        1e300 if dtype == "float32" else 1e308,
    ]
    for threshold in thresholds:
        if flushes(xp) and kind != "smooth_l1" and threshold < tiny:
            continue  # XLA flushes a subnormal delta (a constant factor) to 0: docs/semantics.md
        for reduction in ("none", "mean", "sum"):
            result = LOSSES[kind](x, 0.0, reduction=reduction, **{THRESHOLD[kind]: threshold})
            assert dtype_name(result.loss) == dtype
            assert_oracle(
                kind,
                threshold,
                x_np,
                np.zeros((), dtype),
                result,
                reduction=reduction,
                dtype=dtype,
                flush=flushes(xp),
            )


def test_keepdims_without_axis(xp, asarray):
    """`keepdims=True` without `axis` returned shape () where axis=(0, 1) gives (1, 1)."""
    x, y = asarray(X), asarray(Y)
    for function in (hb.smooth_l1_loss, hb.huber_loss, hb.pseudo_huber_loss):
        for reduction in ("mean", "sum"):
            kept = function(x, y, reduction=reduction, keepdims=True)
            both = function(x, y, reduction=reduction, axis=(0, 1), keepdims=True)
            assert tuple(kept.shape) == tuple(both.shape) == (1, 1)
            np.testing.assert_array_equal(to_numpy(kept), to_numpy(both))
    big = np.linspace(-2.0, 2.0, 1 << 17).reshape(2, -1)  # the blocked path
    assert hb.huber_loss(big, 0.0, keepdims=True).shape == (1, 1)
    grads = hb.huber_loss_backward(asarray(np.full((1, 1), 2.0)), x, y, keepdims=True)
    exact = mp_oracle.evaluate(
        "huber", 1.0, X, Y, compute="float64", reduction="mean", grad_output=np.float64(2.0)
    )
    mp_oracle.check(
        as_numpy(grads[0]),
        exact["grad"],
        np.vectorize(abs, otypes=[object])(exact["grad"]),
        dtype="float64",
        compute="float64",
        what="grad_input",
    )


@pytest.mark.parametrize("weight", [None, 2.0])  # summed by vecdot, and weighted terms
def test_keepdims_without_axis_on_the_blocked_path(weight):
    """Same-shape NumPy operands of 2**17 elements take the blocked path (and, unweighted, the
    vecdot sums): `keepdims` without `axis` keeps the axes there too, with the value of
    ``axis=(0, 1)`` (the whole-array path, which reduces with a sum)."""
    big = np.linspace(-2.0, 2.0, 1 << 17).reshape(2, -1)
    target = np.zeros_like(big)
    for function in (hb.smooth_l1_loss, hb.huber_loss, hb.pseudo_huber_loss):
        for reduction in ("mean", "sum"):
            kept = function(big, target, reduction=reduction, keepdims=True, weight=weight)
            both = function(
                big, target, reduction=reduction, axis=(0, 1), keepdims=True, weight=weight
            )
            assert kept.shape == both.shape == (1, 1)
            np.testing.assert_allclose(kept, both, rtol=1e-12)


def test_huge_grad_output_and_subnormal_pseudo_huber_delta():
    """A huge Python int `grad_output` gives inf (not OverflowError), and pseudo-Huber's
    subnormal delta is computed (not flushed to the limit 0)."""
    x, y = X.copy(), Y.copy()
    gx, gy = hb.huber_loss_backward(10**400, x, y, reduction="sum")
    differ = X != Y
    np.testing.assert_array_equal(gx[differ], np.copysign(np.inf, X - Y)[differ])
    np.testing.assert_array_equal(gy[differ], -gx[differ])
    delta = 5e-320  # below float64's smallest normal number
    result = hb.pseudo_huber_loss_grad_hess(x, y, delta=delta, reduction="none")
    exact = mp_oracle.evaluate("pseudo_huber", delta, X, Y, compute="float64", reduction="none")
    mp_oracle.check(
        result.grad,
        exact["grad"],
        np.vectorize(abs, otypes=[object])(exact["grad"]),
        dtype="float64",
        compute="float64",
        what="grad",
    )
    assert (result.loss[X != Y] > 0).all()


@pytest.mark.parametrize("size", [8, 1 << 17])  # the whole-array and the blocked paths
def test_masked_arrays_are_rejected_at_any_size(size):
    """The blocked path dropped the mask, small arrays kept it, 'mean' divided the masked sum
    by the full count. One rule now: rejected, as np.matrix is."""
    data = np.linspace(-2.0, 2.0, size)
    masked = np.ma.masked_array(data, mask=data > 1)
    for call in (
        lambda: hb.huber_loss(masked, 0.0),
        lambda: hb.smooth_l1_loss_and_grad(data, masked),
        lambda: hb.HuberLoss().loss_grad_hess(masked, data),
    ):
        with pytest.raises(TypeError, match="must not be a NumPy masked array"):
            call()


def test_long_double_with_a_float64_subnormal_threshold():
    """long double operands with a threshold in float64's subnormal range gave NaN/inf
    Hessians (1 / beta overflowed as a Python float)."""
    if np.finfo(np.longdouble).nmant <= 52:
        pytest.skip("long double is double here")
    x = (X * 1e-300).astype(np.longdouble)
    for kind in LOSSES:
        for threshold in (1e-310, 5e-324, 1e-300):
            for reduction in ("none", "mean", "sum"):
                result = LOSSES[kind](x, 0.0, reduction=reduction, **{THRESHOLD[kind]: threshold})
                assert result.hess.dtype == np.longdouble
                assert_oracle(
                    kind,
                    threshold,
                    x,
                    np.zeros((), np.longdouble),
                    result,
                    reduction=reduction,
                    dtype="longdouble",
                )


# --- issue 14: undocumented exceptions --------------------------------------------------------


def test_torch_sparse_tensors_are_rejected():
    torch = pytest.importorskip("torch")
    dense = torch.tensor(X)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta", UserWarning)
        sparse_tensors = (dense.to_sparse(), dense.to_sparse_csr())
    for sparse in sparse_tensors:
        for call in (
            lambda s=sparse: hb.huber_loss(s, dense),
            lambda s=sparse: hb.smooth_l1_loss(dense, s),
            lambda s=sparse: hb.huber_loss(dense, dense, weight=s),
        ):
            with pytest.raises(TypeError, match=r"must be a dense \(strided\) tensor.*to_dense"):
                call()


def test_num_threads_setting(monkeypatch):
    """HUBERISH_NUM_THREADS=auto raised ValueError from int()."""
    monkeypatch.setenv("HUBERISH_NUM_THREADS", "auto")
    assert _blocks.threads() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("HUBERISH_NUM_THREADS", "3")
    assert _blocks.threads() == 3
    monkeypatch.setenv("HUBERISH_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="`HUBERISH_NUM_THREADS` must be an integer or 'auto'"):
        _blocks.threads()


# --- issue 14: leaked warnings ------------------------------------------------------------------


def test_no_numpy_runtime_warnings_where_torch_is_silent(xp, asarray, backend):
    """Overflow in the cast of a mixed-precision gradient, in 1e308 - (-1e308), in a Python
    float beyond float32's range beside float32 data: the documented inf, silently (but on
    Dask, whose NumPy chunks compute outside huberish: docs/semantics.md)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if backend is Backend.DASK:
            warnings.filterwarnings("ignore", category=RuntimeWarning)
        x32 = asarray(np.array([3e38, -3e38, 1.0], dtype=np.float32))
        y64 = asarray(np.array([-1e300, 1e300, 0.0]))
        mixed = hb.huber_loss_backward(1.0, x32, y64, delta=1e308, reduction="none")
        assert_oracle_grad = mp_oracle.evaluate(
            "huber",
            1e308,
            np.array([3e38, -3e38, 1.0], dtype=np.float32),
            np.array([-1e300, 1e300, 0.0]),
            compute="float64",
            reduction="none",
            grad_output=np.float64(1.0),
        )
        for got, sign, dtype in ((mixed[0], 1, "float32"), (mixed[1], -1, "float64")):
            assert dtype_name(got) == dtype
            with np.errstate(over="ignore"):  # (the oracle's own rounding to float32)
                want = np.array([float(sign * g) for g in assert_oracle_grad["grad"]]).astype(dtype)
            np.testing.assert_array_equal(as_numpy(got), want)
        big = asarray(np.array([1e308, -1e308]))
        result = hb.smooth_l1_loss_grad_hess(big, -big, reduction="none")
        assert_oracle(
            "smooth_l1",
            1.0,
            np.array([1e308, -1e308]),
            np.array([-1e308, 1e308]),
            result,
            reduction="none",
            dtype="float64",
        )
        x = asarray(X, dtype="float32")
        for beyond in (1e39, -1e300):
            result = hb.pseudo_huber_loss_grad_hess(x, beyond, reduction="none")
            assert dtype_name(result.loss) == "float32"
            assert_oracle(
                "pseudo_huber",
                1.0,
                X.astype(np.float32),
                np.float32(math.copysign(math.inf, beyond)),
                result,
                reduction="none",
                dtype="float32",
            )


def test_float16_mean_is_a_numpy_scalar_as_float32s():
    for dtype in (np.float16, np.float32, np.float64):
        for reduction in ("mean", "sum"):
            loss = hb.huber_loss(X.astype(dtype), Y.astype(dtype), reduction=reduction)
            assert type(loss) is dtype, (dtype, reduction, type(loss))


def test_jax_adapter_numpy_scalar_operand():
    """The JAX adapter with a NumPy scalar operand: "`input` from jaxlib, `target` from jax"."""
    pytest.importorskip("jax")
    import jax.numpy as jnp

    from huberish import jax as hjax

    x = jnp.asarray(X)
    with pytest.warns(UserWarning, match="Using a target size"):  # a 0-d array, as np.float32's
        loss = hjax.huber_loss(x, np.float64(0.5))
    exact = mp_oracle.evaluate(
        "huber", 1.0, X, np.float64(0.5), compute="float64", reduction="mean"
    )
    mp_oracle.check(
        np.asarray(loss),
        exact["loss"],
        exact["magnitude"],
        dtype="float64",
        compute="float64",
        what="loss",
    )


def test_remembered_validation_gives_what_the_checks_give():
    """Same-shape NumPy calls reuse the request of a call seen before (`_validate._key`): the
    same results as the unremembered path (`xp=np`), for every scalar `grad_output`; checks
    that depend on more than dtypes and shapes still run; no array is kept alive."""
    import gc
    import weakref

    x, y = X.astype(np.float32), Y.astype(np.float32)
    for _ in range(2):  # the second call is remembered
        for function in (hb.smooth_l1_loss, hb.huber_loss_and_grad, hb.pseudo_huber_loss):
            got, want = function(x, y), function(x, y, xp=np)
            got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
            for a, b in zip(got, want, strict=True):
                np.testing.assert_array_equal(a, b)
        for grad_output in (2.0, 3, 10**400, np.float32(0.5), np.asarray(1.5), np.asarray(-1)):
            got = hb.huber_loss_backward(grad_output, x, y, reduction="sum")
            want = hb.huber_loss_backward(grad_output, x, y, reduction="sum", xp=np)
            for a, b in zip(got, want, strict=True):
                assert a.dtype == np.float32
                np.testing.assert_array_equal(a, b)
    from huberish import _validate

    assert any(key[-1] is not None for key in _validate._VALIDATED)  # backward calls too
    with pytest.raises(ValueError, match="`weight` of shape"):
        hb.smooth_l1_loss(x, y, weight=np.ones(5, dtype=np.float32))
    with pytest.raises(TypeError, match="`grad_output` must have an integer or real floating"):
        hb.smooth_l1_loss_backward(np.asarray(1 + 1j), x, y)
    with pytest.warns(UserWarning, match="Using a target size"):
        hb.smooth_l1_loss(x, y[:, :1])
    temporary = np.ones(8)
    alive = weakref.ref(temporary)
    hb.smooth_l1_loss(temporary, temporary)
    del temporary
    gc.collect()
    assert alive() is None
