"""Trying to break it: every kind of bad input on every backend; nothing lost or modified; no
hidden state; the same results from 8 threads at once; warnings only where documented."""

import math
import pathlib
import re
import threading
import warnings

import numpy as np
import pytest
from array_api_extra.testing import assert_equal as xpx_assert_equal
from backends import Backend
from helpers import assert_close, to_numpy

import huberish as hb
from huberish._compat import device as device_of
from huberish._reference import reference

lazy_xp_modules = [hb]  # run tagged functions jitted on JAX, lazily on Dask (helpers.py)

PACKAGE = pathlib.Path(hb.__file__).resolve().parent
X = np.array([[-2.0, -0.5, 0.0, 0.25], [1.0, 3.0, -1.0, 0.75]])
Y = np.array([[0.0, 0.5, 0.0, -0.25], [0.5, -1.0, 0.0, 0.75]])

# --- bad input, every kind: (argument, description, call, exception, message) -------------------


def bad_inputs(xp, x):
    """Every bad input this suite tries, as rows of a table."""
    y, dev = xp.zeros_like(x), device_of(x)
    sl1, huber, pseudo = hb.smooth_l1_loss, hb.huber_loss, hb.pseudo_huber_loss
    not_array = "must be an array or a Python int or float"
    rows = []
    for name, value in [("str", "0"), ("None", None), ("object", object()),
                        ("dict", {}), ("bool", True), ("complex", 1j), ("set", {1.0}),
                        ("list of str", ["a"]), ("list of objects", [object()]),
                        ("pandas-like of str", _ArrayLike(np.array(["a", "b"])))]:  # fmt: skip
        rows.append(("input", name, lambda v=value: sl1(v, y), TypeError, f"`input` {not_array}"))
        rows.append(("target", name, lambda v=value: sl1(x, v), TypeError, f"`target` {not_array}"))
    rows.append(("input", "two scalars", lambda: sl1(1.0, 2.0), TypeError, "At least one of"))
    ragged = [[1.0], [1.0, 2.0]]
    masked = np.ma.masked_array(X, mask=X > 0)
    record = np.zeros(3, dtype=[("a", np.float64)])
    strict = pytest.importorskip("array_api_strict")
    foreign = np if "strict" in xp.__name__ else strict
    rows += [
        ("input", "ragged list", lambda: sl1(ragged, y), TypeError, "`input` could not be converted"),
        ("input", "masked array", lambda: sl1(masked, Y), TypeError, "`input` must not be a NumPy masked array"),
        ("target", "masked array", lambda: sl1(X, masked), TypeError, "`target` must not be a NumPy masked array"),
        ("weight", "masked array", lambda: sl1(X, Y, weight=masked), TypeError, "`weight` must not be a NumPy masked array"),
        ("input", "record array", lambda: sl1(record, record), TypeError, "`input` must have an integer or real floating dtype"),
        ("xp", "a string", lambda: sl1(x, y, xp="numpy"), TypeError, "`xp` must be the array-API namespace"),
        ("xp", "not a namespace", lambda: sl1(x, y, xp=math), TypeError, "`xp` must be the array-API namespace"),
        ("xp", "another library's", lambda: sl1(x, y, xp=foreign), TypeError, "`xp` must be the array-API namespace"),
        ("size_average", "array", lambda: sl1(x, y, size_average=np.ones(2)), TypeError, "`size_average` must be None or a bool"),
        ("reduce", "array", lambda: sl1(x, y, reduce=xp.ones(2)), TypeError, "`reduce` must be None or a bool"),
        ("keepdims", "array", lambda: sl1(x, y, axis=0, keepdims=np.ones(2)), TypeError, "`keepdims` must be a bool"),
        ("keepdims", "str", lambda: sl1(x, y, keepdims="yes"), TypeError, "`keepdims` must be a bool"),
        ("beta", "bytearray", lambda: sl1(x, y, beta=bytearray(b"1")), TypeError, "`beta` must be a real number"),
        ("beta", "0-d str array", lambda: sl1(x, y, beta=np.asarray("1")), TypeError, "`beta` must be a real number"),
        ("beta", "0-d bool array", lambda: sl1(x, y, beta=np.asarray(True)), TypeError, "`beta` must be a real number"),
        ("delta", "memoryview", lambda: huber(x, y, delta=memoryview(b"1")), TypeError, "`delta` must be a real number"),
    ]  # fmt: skip
    for operand in ("input", "target", "weight", "grad_output"):
        for kind in ("bool", "complex128"):
            bad = x > 0 if kind == "bool" else xp.astype(x, xp.complex128)

            def call(operand=operand, bad=bad):
                arrays = {"input": x, "target": y, "weight": None, "grad_output": xp.ones_like(x)}
                arrays[operand] = bad
                return hb.smooth_l1_loss_backward(
                    arrays["grad_output"], arrays["input"], arrays["target"],
                    reduction="none", weight=arrays["weight"],
                )  # fmt: skip

            message = f"`{operand}` must have an integer or real floating dtype"
            rows.append((operand, f"{kind} dtype", call, TypeError, message))
    for name, value in [("avg", "avg"), ("None", None), ("bytes", b"mean"), ("bool", True),
                        ("list", ["mean"]), ("upper case", "MEAN"), ("empty", "")]:  # fmt: skip
        message = f"{value} is not a valid value for reduction".replace("[", r"\[")
        message = message.replace("]", r"\]")
        rows.append(
            ("reduction", name, lambda v=value: sl1(x, y, reduction=v), ValueError, message)
        )
    # A number where torch's order puts `reduction`: the threshold given by position.
    by_position = "`reduction` is the third positional argument .* pass the threshold by keyword"
    for name, value in [("int", 1), ("float", 0.5), ("NumPy float", np.float32(2.0)),
                        ("0-d array", xp.asarray(2.0))]:  # fmt: skip
        rows.append(("reduction", name, lambda v=value: huber(x, y, v), TypeError, by_position))
    for name in ("size_average", "reduce"):
        rows.append((name, "float", lambda n=name: sl1(x, y, **{n: 0.5}), TypeError, by_position))
    for name, value, exc, message in [
        ("negative", -1.0, ValueError, "non-negative"),
        ("-inf", -math.inf, ValueError, "non-negative"),
        ("NaN", math.nan, ValueError, "non-negative"),
        ("str", "1", TypeError, "real number"),
        ("None", None, TypeError, "real number"),
        ("complex", 1j, TypeError, "real number"),
        ("list", [1.0], TypeError, "real number"),
        ("object", object(), TypeError, "real number"),
    ]:
        rows.append(
            ("beta", name, lambda v=value: sl1(x, y, beta=v), exc, f"`beta` must be a {message}")
        )
    # an array is a threshold per element (tests/test_thresholds.py): of the elements' shape
    rows.append(("beta", "array", lambda: sl1(x, y, beta=xp.ones(3, device=dev)), ValueError,
                 r"`beta` of shape \(3,\) does not broadcast to the elements'"))  # fmt: skip
    for name, value, exc, message in [
        ("zero", 0.0, ValueError, "positive"),
        ("negative", -1, ValueError, "positive"),
        ("NaN", math.nan, ValueError, "positive"),
        ("str", "a", TypeError, "real number"),
        ("None", None, TypeError, "real number"),
    ]:
        for loss in (huber, pseudo):
            rows.append(("delta", f"{name} ({loss.__name__})", lambda v=value, f=loss: f(x, y, delta=v), exc, f"`delta` must be a {message}"))  # fmt: skip
    ones = lambda shape: xp.ones(shape, dtype=x.dtype, device=dev)  # noqa: E731
    rows += [
        ("weight", "wrong shape", lambda: sl1(x, y, weight=ones(3)), ValueError, "`weight` of shape"),
        ("weight", "bigger shape", lambda: sl1(x, y, weight=ones((3, 2, 4))), ValueError, "does not broadcast to the loss shape"),
        ("weight", "str", lambda: sl1(x, y, weight="2"), TypeError, "`weight` must be an array or a Python int or float"),
        ("weight", "bool", lambda: sl1(x, y, weight=True), TypeError, "`weight` must be an array or a Python int or float"),
        ("grad_output", "wrong shape ('none')", lambda: hb.huber_loss_backward(ones(3), x, y, "none"), ValueError, "`grad_output` of shape"),
        ("grad_output", "not 0-d ('mean')", lambda: hb.huber_loss_backward(ones((2, 4)), x, y), ValueError, "`grad_output` of shape"),
        ("grad_output", "list of str", lambda: hb.huber_loss_backward(["1"], x, y), TypeError, "`grad_output` must be an array"),
        ("grad_output", "None", lambda: hb.smooth_l1_loss_backward(None, x, y), TypeError, "`grad_output` must be an array"),
        ("input/target", "shapes that do not broadcast", lambda: sl1(x, ones(3)), ValueError, "cannot be broadcast together"),
        ("axis", "out of range", lambda: sl1(x, y, axis=2), ValueError, "`axis` must be distinct axes"),
        ("axis", "repeated", lambda: sl1(x, y, axis=(1, -1)), ValueError, "`axis` must be distinct axes"),
        ("axis", "float", lambda: sl1(x, y, axis=1.0), TypeError, "`axis` must be None, an int"),
        ("axis", "str", lambda: sl1(x, y, axis="0"), TypeError, "`axis` must be None, an int"),
        ("axis", "with 'none'", lambda: sl1(x, y, reduction="none", axis=0), ValueError, "`axis` applies to 'mean' and 'sum'"),
        ("reduction/beta", "both bad: reduction first", lambda: sl1(x, y, reduction="avg", beta=-1), ValueError, "avg is not a valid"),
        # torch's order: broadcasting before the reduction string (and the threshold)
        ("input/reduction", "both bad: broadcasting first", lambda: sl1(x, ones(3), reduction="avg"), ValueError, "cannot be broadcast together"),
        ("input/reduction/beta", "all bad: broadcasting first", lambda: sl1(x, ones(3), reduction="avg", beta=-1.0), ValueError, "cannot be broadcast together"),
        ("input/delta", "both bad: broadcasting first", lambda: huber(x, ones(3), delta=-1.0), ValueError, "cannot be broadcast together"),
        ("input/reduction", "legacy and bad shapes: broadcasting", lambda: sl1(x, ones(3), size_average=True, reduction="avg"), ValueError, "cannot be broadcast together"),
    ]  # fmt: skip
    return rows


class _ArrayLike:
    """An object with ``__array__`` only, as a pandas Series is to NumPy."""

    def __init__(self, values):
        self.values = values

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.values, dtype=dtype)


def test_bad_input_table(xp, asarray):
    """Each bad input raises the documented exception, naming the argument, from huberish."""
    x = asarray(X)
    rows = bad_inputs(xp, x)
    for argument, description, call, exception, message in rows:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Using a target size", UserWarning)
            warnings.filterwarnings("ignore", "size_average and reduce", UserWarning)
            with pytest.raises(exception, match=message) as excinfo:
                call()
        # raised by huberish's own checks, not from inside NumPy, torch, JAX or Dask
        where = pathlib.Path(excinfo.traceback[-1].path)
        assert PACKAGE in where.parents, (argument, description, where)
    assert len(rows) >= 60


@pytest.mark.skip_backend(Backend.NUMPY, reason="needs a second library")
@pytest.mark.skip_backend(Backend.DASK, reason="Dask takes NumPy arrays (tests/test_operands.py)")
def test_mixed_libraries_raise(xp, asarray):
    x = asarray(X)
    message = "All array arguments must come from the same array library"
    for call in (
        lambda: hb.smooth_l1_loss(x, Y),
        lambda: hb.smooth_l1_loss(x, x, weight=np.ones(4)),
        lambda: hb.huber_loss_backward(np.ones(1), x, x, "none"),  # (0-d NumPy: converted)
    ):
        with pytest.raises(TypeError, match=message):
            call()


def test_mixed_devices_raise():
    xps = pytest.importorskip("array_api_strict")
    x = xps.asarray(X, device=xps.Device("device1"))
    y = xps.asarray(Y)
    with pytest.raises(ValueError, match="`target` is on device"):
        hb.smooth_l1_loss(x, y)
    with pytest.raises(ValueError, match="`weight` is on device"):
        hb.smooth_l1_loss(x, x, weight=xps.ones(4))


def test_classes_reject_bad_arguments_at_construction():
    cases = [
        (lambda: hb.SmoothL1Loss(reduction="avg"), ValueError, "avg is not a valid value"),
        (lambda: hb.SmoothL1Loss(beta=-0.5), ValueError, "`beta` must be a non-negative"),
        (lambda: hb.SmoothL1Loss(beta="1"), TypeError, "`beta` must be a real number"),
        (lambda: hb.HuberLoss(delta=0), ValueError, "`delta` must be a positive number"),
        (lambda: hb.PseudoHuberLoss(delta=None), TypeError, "`delta` must be a real number"),
        (lambda: hb.HuberLoss(axis=1.5), TypeError, "`axis` must be None, an int"),
        (lambda: hb.HuberLoss("none", axis=0), ValueError, "`axis` applies to 'mean' and 'sum'"),
    ]
    for make, exception, message in cases:
        with pytest.raises(exception, match=message):
            make()


# --- nothing lost ----------------------------------------------------------------------------

FUNCTIONS = [
    (hb.smooth_l1_loss, {}), (hb.smooth_l1_loss_and_grad, {}), (hb.smooth_l1_loss_grad_hess, {}),
    (hb.huber_loss, {}), (hb.huber_loss_and_grad, {}), (hb.huber_loss_grad_hess, {}),
    (hb.pseudo_huber_loss, {}), (hb.pseudo_huber_loss_and_grad, {}), (hb.pseudo_huber_loss_grad_hess, {}),
]  # fmt: skip
BACKWARDS = [hb.smooth_l1_loss_backward, hb.huber_loss_backward, hb.pseudo_huber_loss_backward]


def test_no_public_function_modifies_its_inputs(xp, asarray):
    x, y, w, go = asarray(X), asarray(Y), asarray(np.full(4, 2.0)), asarray(1.5)
    originals = [(x, X), (y, Y), (w, np.full(4, 2.0)), (go, 1.5)]
    for function, options in FUNCTIONS:
        function(x, y, weight=w, **options)
    for backward in BACKWARDS:
        backward(go, x, y, weight=w)
    for array, original in originals:
        np.testing.assert_array_equal(to_numpy(array), original)


def test_read_only_numpy_inputs_work_everywhere():
    """Read-only operands give what writeable copies give, on both paths."""
    x, y, w = X.copy(), Y.copy(), np.full(4, 2.0)
    big = np.repeat(X, 50_000, axis=1)  # the blocked path too
    writeable = [(x.copy(), y.copy(), w.copy()), big.copy()]
    for array in (x, y, w, big):
        array.flags.writeable = False
    (wx, wy, ww), wbig = writeable

    def same(got, want):
        got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)

    for function, options in FUNCTIONS:
        same(function(x, y, weight=w, **options), function(wx, wy, weight=ww, **options))
        same(function(big, big * 0.5, **options), function(wbig, wbig * 0.5, **options))
    for backward in BACKWARDS:
        same(backward(1.0, x, y, weight=w), backward(1.0, wx, wy, weight=ww))


def test_classes_carry_no_state_between_calls(xp, asarray):
    for crit in (hb.SmoothL1Loss(beta=0.5), hb.HuberLoss(delta=2.0, axis=1), hb.PseudoHuberLoss()):
        state = dict(vars(crit))
        first = to_numpy(crit.loss_grad_hess(asarray(X), asarray(Y)).grad)  # float64, as X
        crit(asarray(Y), asarray(X))
        reversed_x = np.ascontiguousarray(X[:, ::-1])
        crit.backward(asarray(np.ones(2) if crit.axis else 1.0), asarray(reversed_x), asarray(Y))
        assert_close(
            crit.loss_grad_hess(asarray(X), asarray(Y)).grad, first, dtype="float64", rtol=0
        )
        assert vars(crit) == state


@pytest.mark.parametrize("size", [1000, 400_000])  # the whole-array and the blocked paths
def test_eight_threads_at_once_give_identical_results(size):
    rng = np.random.default_rng(size)
    x, y, w = rng.standard_normal(size), rng.standard_normal(size), rng.random(size)
    crit = hb.HuberLoss(delta=0.7)
    calls = [
        lambda: hb.smooth_l1_loss_and_grad(x, y, beta=0.5, weight=w),
        lambda: hb.pseudo_huber_loss_grad_hess(x, y, reduction="sum"),
        lambda: crit.backward(2.0, x, y),
        lambda: hb.smooth_l1_loss(np.float32(1) * x, y, reduction="none"),
    ]
    expected = [call() for call in calls]
    results: dict[int, list] = {}
    barrier = threading.Barrier(8)

    def worker(index):
        barrier.wait()
        results[index] = [calls[(index + k) % len(calls)]() for k in range(3 * len(calls))]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, outputs in results.items():
        for k, output in enumerate(outputs):
            want = expected[(index + k) % len(calls)]
            pairs = zip(output, want, strict=True) if isinstance(want, tuple) else [(output, want)]
            for got, expected_part in pairs:
                xpx_assert_equal(got, expected_part)
    assert len(results) == 8


def test_torch_concurrent_calls():
    torch = pytest.importorskip("torch")
    x, y = torch.randn(10_000, dtype=torch.float64), torch.randn(10_000, dtype=torch.float64)
    expected = hb.huber_loss_and_grad(x, y, delta=0.3)
    outputs = []

    def worker():
        outputs.append(hb.huber_loss_and_grad(x, y, delta=0.3))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for loss, grad in outputs:
        assert torch.equal(loss, expected.loss)
        assert torch.equal(grad, expected.grad)


# --- warnings only where documented ----------------------------------------------------------


def test_valid_input_never_warns(xp, asarray):
    x, y = asarray(X), asarray(Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for beta in (0.0, 1e-300, 0.5, 1e300, math.inf):
            for reduction in ("none", "mean", "sum"):
                hb.smooth_l1_loss_grad_hess(x, y, reduction=reduction, beta=beta)
        hb.huber_loss_backward(asarray(np.ones(X.shape)), x, y, "none")
        hb.pseudo_huber_loss_grad_hess(asarray(np.array([0.0, 1e300, -1e-300, math.inf])), 0.0)
        hb.smooth_l1_loss(asarray(np.zeros((0, 2))), 0.0)  # empty 'mean': NaN, silently


def test_every_documented_warning_is_raised(xp, asarray):
    x = asarray(X)
    with pytest.warns(UserWarning, match="Using a target size"):
        hb.pseudo_huber_loss(x, asarray(Y[0]))
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        hb.smooth_l1_loss_and_grad(x, x, size_average=True, reduce=True)
    with pytest.warns(UserWarning, match="reduction='elementwise_mean' is deprecated"):
        loss = hb.smooth_l1_loss(x, xp.zeros_like(x), reduction="elementwise_mean")
    assert_close(loss, reference(X, 0.0, beta=1.0)[0], dtype="float64")


# --- the same table through the torch and JAX adapters ---------------------------------------

# Rows that do not apply to an adapter: its functions take no `xp=` (the namespace is theirs).
_NOT_FOR_ADAPTERS = ("xp",)
# Rows the adapters still get wrong, each a change in huberish/torch.py or huberish/jax.py:
# asserted to fail, so that this list shrinks when they are fixed.
ADAPTER_PENDING: dict[str, set[tuple[str, str]]] = {"torch": set(), "jax": set()}


@pytest.mark.parametrize("adapter", ["torch", "jax"])
def test_bad_input_table_through_adapters(adapter, monkeypatch):
    """The bad-input table with `smooth_l1_loss`, `huber_loss` and `pseudo_huber_loss` taken
    from `huberish.torch` / `huberish.jax`: the same exceptions, from huberish."""
    module = pytest.importorskip(f"huberish.{adapter}")
    if adapter == "torch":
        import torch

        x = torch.tensor(X)
    else:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        x = jnp.asarray(X)
    import array_api_compat

    xp = array_api_compat.array_namespace(x)
    for name in ("smooth_l1_loss", "huber_loss", "pseudo_huber_loss"):
        monkeypatch.setattr(hb, name, getattr(module, name))
    rows = [row for row in bad_inputs(xp, x) if row[0] not in _NOT_FOR_ADAPTERS]
    failures = set()
    for argument, description, call, exception, message in rows:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Using a target size", UserWarning)
            warnings.filterwarnings("ignore", "size_average and reduce", UserWarning)
            try:
                call()
            except exception as error:
                tb = error.__traceback__
                while tb.tb_next is not None:
                    tb = tb.tb_next
                where = pathlib.Path(tb.tb_frame.f_code.co_filename)
                if re.search(message, str(error)) and PACKAGE in where.parents:
                    continue
            except Exception:  # (another exception: the row fails)
                pass
        failures.add((argument, description))
    assert failures == ADAPTER_PENDING[adapter]
    assert len(rows) >= 60
