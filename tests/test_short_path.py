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
