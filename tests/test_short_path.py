"""The short path of validation (`_short_operands`, `_short_request`) is a pure shortcut: every
entry point gives the same results, dtypes, warnings and errors with it as without it."""

import itertools
import warnings

import numpy as np
import pytest

import huberish as hb
from huberish import _validate
from huberish._options import Options

RNG = np.random.default_rng(11)
BASE = RNG.standard_normal((3, 4)) * 2


def _operands(kind, dtype):
    x = BASE.astype(dtype)
    y = (BASE[::-1] * 0.5).astype(dtype)
    if kind == "same":
        return x, y
    if kind == "broadcast":
        return x, y[0]
    if kind == "scalar-target":
        return x, 0.5
    if kind == "0-d":
        return x[0, 0].reshape(()), y[0, 0].reshape(())
    if kind == "numpy-scalar":
        return x[0, 0], y[0, 0]
    if kind == "empty":
        return x[:0], y[:0]
    if kind == "mixed-dtype":
        return x, y.astype(np.float64 if dtype == "float32" else np.float32)
    if kind == "masked":
        return np.ma.masked_array(x, mask=x > 1), y
    if kind == "big-endian":
        return x.astype(x.dtype.newbyteorder(">")), y.astype(y.dtype.newbyteorder(">"))
    if kind == "list":
        return x.tolist(), y
    raise AssertionError(kind)


def _outcome(call):
    """The result (arrays with dtype and type), or the exception; and the warnings raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call()
        except Exception as error:  # compared below, not swallowed
            result = (type(error), str(error))
    flat = result if isinstance(result, tuple) else (result,)
    described = [
        (type(r).__name__, r.dtype.str, np.asarray(r).tobytes(), np.shape(r))
        if hasattr(r, "dtype")
        else r
        for r in flat
    ]
    return described, [(w.category, str(w.message)) for w in caught]


def _calls(x, y, threshold, reduction, grad_output, keepdims):
    for loss in ("smooth_l1", "huber", "pseudo_huber"):
        name = "beta" if loss == "smooth_l1" else "delta"
        options = {name: threshold, "reduction": reduction, "keepdims": keepdims}
        for suffix in ("loss", "loss_and_grad", "loss_grad_hess"):
            function = getattr(hb, f"{loss}_{suffix}")
            yield lambda f=function, o=options: f(x, y, **o)
        backward = getattr(hb, f"{loss}_loss_backward")
        yield lambda f=backward, o=options: f(grad_output, x, y, **o)

        def with_options(method, loss=loss):
            options = Options.build(loss, threshold, reduction=reduction, keepdims=keepdims)
            if method == "backward":
                return options.backward(grad_output, x, y)
            return getattr(options, method)(x, y)

        for method in ("forward", "loss_and_grad", "loss_grad_hess", "backward"):
            yield lambda m=method, w=with_options: w(m)

    def module():
        return hb.HuberLoss(reduction=reduction, delta=threshold, keepdims=keepdims)

    yield lambda: module()(x, y)
    yield lambda: module().backward(grad_output, x, y)


KINDS = [
    "same",
    "broadcast",
    "scalar-target",
    "0-d",
    "numpy-scalar",
    "empty",
    "mixed-dtype",
    "masked",
    "big-endian",
    "list",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64"])
def test_short_path_is_a_pure_shortcut(kind, dtype, monkeypatch):
    x, y = _operands(kind, dtype)
    grid = itertools.product(
        [1.0, 0.7, 0.0, float("inf"), -1.0, 1e-40, 2, "1"],
        ["mean", "sum", "none", "avg"],
        [None, 1.5, 2, np.asarray(0.5, dtype=dtype), np.dtype(dtype).type(0.5), True],
        [False, True],
    )
    for threshold, reduction, grad_output, keepdims in grid:
        if not (threshold == 1.0 or (threshold, grad_output) == (0.7, 2)) and (
            reduction != "mean" or keepdims
        ):
            continue  # the options' errors do not depend on the operands: a sample suffices
        calls = list(_calls(x, y, threshold, reduction, grad_output, keepdims))
        short = [_outcome(call) for call in calls]
        with monkeypatch.context() as patch:
            patch.setattr(_validate, "_short_operands", lambda *a, **k: None)
            patch.setattr(_validate, "_short_request", lambda *a, **k: None)
            full = [_outcome(call) for call in calls]
        assert short == full, (threshold, reduction, grad_output, keepdims)


def test_short_path_is_taken_for_the_common_call():
    x, y = BASE.astype(np.float32), BASE.T.T.astype(np.float32)
    operands = _validate._short_operands(x, y, None, None, xp=None)
    assert operands is not None
    assert operands.compute_dtype == np.float32
    for bad in (np.ma.masked_array(x), x[0, 0], x.astype(np.float16), x.tolist()):
        assert _validate._short_operands(bad, y, None, None, xp=None) is None


def _plain_operands(dtype):
    """Operands that `Request.plain` takes, in the layouts and values that could tell it apart
    from the general path: 1-d (no reshape), N-d, size 1, strided, reversed, Fortran-order,
    read-only and broadcast views; NaN, infinities, values whose difference overflows, zeros
    of both signs and subnormals."""
    base = RNG.standard_normal((6, 5)) * 3
    special = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e308, -1e308, 5e-324, 1e-40, 3e38])
    top = np.finfo(dtype).max
    with np.errstate(over="ignore"):  # (the float32 cast of the float64 specials)
        yield base[0].astype(dtype), base[1].astype(dtype)
        yield base.reshape(2, 3, 5).astype(dtype), (base * 0.3).reshape(2, 3, 5).astype(dtype)
        yield base[:1, :1].astype(dtype), base[1:2, :1].astype(dtype)
        yield base.astype(dtype)[:, ::2], base.astype(dtype)[::-1, ::2]
        yield np.asfortranarray(base.astype(dtype)), base.T.copy().T.astype(dtype)
        yield base.astype(dtype).T, (base * 0.1).astype(dtype).T
        read_only = base.astype(dtype)
        read_only.flags.writeable = False
        yield read_only, np.broadcast_to(base[0].astype(dtype), (6, 5))
        yield special.astype(dtype), special[::-1].astype(dtype)
        yield special.reshape(2, 5).astype(dtype), -special.reshape(2, 5).astype(dtype)
        yield np.array([top, -top, top, 1.0], dtype), np.array([-top, top, -top, 1.0], dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_plain_request_is_the_general_path(dtype, monkeypatch):
    """`Request.plain` (the kernel called straight from the short path) gives what the general
    orchestration gives, bit for bit, with the same types and dtypes and no warning, for every
    entry point and threshold edge; the operands are not written."""
    thresholds = [1.0, 0.7, 2, True, np.float32(0.5), 0.0, 5e-324, 1e-40, 1e38, 1e300, np.inf]
    original = _validate._short_request

    def not_plain(*args, **kwargs):
        result = original(*args, **kwargs)
        if result is not None:
            result.plain = False
        return result

    # the backward's grad_output: none (it raises), Python scalars, a NumPy scalar and a 0-d
    # array of the operands' dtype (plain), and one of another dtype (not plain: it is cast)
    other = np.float64 if dtype == "float32" else np.float32
    grad_outputs = [None, 2.5, 3, np.dtype(dtype).type(-1.5), np.asarray(0.5, dtype), other(2.0)]
    for x, y in _plain_operands(dtype):
        saved = x.copy(), y.copy()
        for threshold, reduction, grad_output in itertools.product(
            thresholds, ["mean", "sum"], grad_outputs
        ):
            calls = list(_calls(x, y, threshold, reduction, grad_output, False))
            plain = [_outcome(call) for call in calls]
            with monkeypatch.context() as patch:
                patch.setattr(_validate, "_short_request", not_plain)
                general = [_outcome(call) for call in calls]
            case = (x.shape, threshold, reduction, grad_output)
            assert plain == general, case
            assert all(not caught for _, caught in plain), case
        np.testing.assert_array_equal(x, saved[0])
        np.testing.assert_array_equal(y, saved[1])


def test_plain_request_is_taken():
    """The common small call is plain; what it does not cover is not."""
    x, y = BASE.astype(np.float32), (BASE * 0.5).astype(np.float32)
    options = Options.build("huber", 1.0, reduction="sum")
    assert options.prepare(x, y).plain
    assert options.prepare(x[0], y[0]).plain
    assert options.prepare(x, y, grad_output=1.0).plain  # a backward with a scalar grad_output
    assert options.prepare(x, y, grad_output=np.float32(2.0)).plain
    assert options.prepare(x, y, grad_output=np.asarray(2.0, dtype=np.float32)).plain
    assert not options.prepare(x, y, grad_output=np.float64(2.0)).plain  # (cast: not plain)
    kept = Options.build("huber", 1.0, reduction="sum", keepdims=True)
    assert not kept.prepare(x, y, grad_output=np.ones((1, 1), dtype=np.float32)).plain
    none = Options.build("huber", 1.0, reduction="none")
    assert not none.prepare(x, y, grad_output=np.ones_like(x)).plain
    assert not options.prepare(x[:0], y[:0]).plain
    assert not options.prepare(x[0, 0].reshape(()), y[0, 0].reshape(())).plain
    assert not Options.build("huber", 1.0, reduction="none").prepare(x, y).plain
    assert not Options.build("huber", 1.0, keepdims=True).prepare(x, y).plain


@pytest.mark.parametrize(
    "settings",
    [
        {"reduction": "elementwise_mean"},
        {"size_average": False},
        {"reduce": False},
        {"size_average": True, "reduction": "sum"},
        {"beta": -1.0},
        {"beta": float("nan")},
        {"beta": "1"},
        {"reduction": "avg"},
        {"keepdims": 1},
        {"beta": -0.0},
        {"beta": 0.0},
        {"beta": True},
        {"beta": 2},
        {"beta": np.float32(0.5)},
        {"beta": np.asarray(0.5)},
        {"keepdims": np.True_},
        {"beta": 0.5, "reduction": "sum", "keepdims": True},
    ],
    ids=repr,
)
def test_remembered_settings_checks_warn_and_raise_on_every_call(settings, monkeypatch):
    """`_usual_options` remembers the usual settings' checks: every call still warns and raises
    as the checks made each time do (the same outcome three times in a row, before and after
    the cache has the entry), and odd threshold types behave as without the cache."""
    from huberish import _options

    x, y = BASE[0], BASE[1] * 0.5
    outcomes = [_outcome(lambda: hb.smooth_l1_loss(x, y, **settings)) for _ in range(3)]
    with monkeypatch.context() as patch:
        patch.setattr(_options, "_usual", lambda *args: False)
        unremembered = _outcome(lambda: hb.smooth_l1_loss(x, y, **settings))
    assert outcomes == [unremembered] * 3
    deprecated = settings == {"reduction": "elementwise_mean"} or not {
        "size_average",
        "reduce",
    }.isdisjoint(settings)
    assert bool(unremembered[1]) == deprecated  # (the deprecation warnings, every time)
