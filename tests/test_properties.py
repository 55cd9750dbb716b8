"""Property tests: random shapes (with broadcasting), dtypes, thresholds, weights and reductions,
against the float64 NumPy reference, on every backend. Values and both gradients."""

import math
import warnings

import numpy as np
from helpers import assert_close
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst

import huberish as hb
from huberish._reference import reference

lazy_xp_modules = [hb]  # run tagged functions jitted on JAX, lazily on Dask (helpers.py)

# float32-representable values, so both dtypes see the same numbers.
VALUES = st.floats(-1e3, 1e3, width=32)
POSITIVE = st.floats(2.0**-10, 2.0**10, width=32)


@st.composite
def problems(draw):
    shapes = draw(
        npst.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)
    )
    (input_shape, target_shape), shape = shapes.input_shapes, shapes.result_shape
    dtype = draw(st.sampled_from(["float32", "float64"]))
    kind = draw(st.sampled_from(["smooth_l1", "huber"]))
    if kind == "smooth_l1":
        threshold = draw(st.one_of(st.just(0.0), st.just(math.inf), POSITIVE))
    else:
        threshold = draw(POSITIVE)
    reduction = draw(st.sampled_from(["none", "mean", "sum"]))
    weight = None
    if draw(st.booleans()):
        dims = draw(st.integers(0, len(shape)))
        weight_shape = tuple(n if draw(st.booleans()) else 1 for n in shape[len(shape) - dims :])
        weight = draw(npst.arrays(dtype, weight_shape, elements=st.floats(0, 10, width=32)))
    grad_output_shape = shape if reduction == "none" else ()
    return {
        "input": draw(npst.arrays(dtype, input_shape, elements=VALUES)),
        "target": draw(npst.arrays(dtype, target_shape, elements=VALUES)),
        "kind": kind,
        "threshold": threshold,
        "reduction": reduction,
        "weight": weight,
        "grad_output": draw(npst.arrays(dtype, grad_output_shape, elements=POSITIVE)),
        "dtype": dtype,
    }


@given(problem=problems())
def test_matches_float64_reference(xp, asarray, problem):
    p = problem
    x, y, go = asarray(p["input"]), asarray(p["target"]), asarray(p["grad_output"])
    w = None if p["weight"] is None else asarray(p["weight"])
    if p["kind"] == "smooth_l1":
        loss_fn, backward_fn, scale = hb.smooth_l1_loss, hb.smooth_l1_loss_backward, 1.0
        options = {"reduction": p["reduction"], "beta": p["threshold"], "weight": w}
    else:
        loss_fn, backward_fn, scale = hb.huber_loss, hb.huber_loss_backward, p["threshold"]
        options = {"reduction": p["reduction"], "delta": p["threshold"], "weight": w}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using a target size", UserWarning)
        loss = loss_fn(x, y, **options)
        grad_input, grad_target = backward_fn(go, x, y, **options)
    expected = reference(
        p["input"],
        p["target"],
        beta=p["threshold"],
        scale=scale,
        reduction=p["reduction"],
        weight=p["weight"],
        grad_output=p["grad_output"],
    )
    rtol = {"float32": 1e-5, "float64": 1e-12}[p["dtype"]]
    # Gradients sum signed terms of at most this size, and may cancel to 0.
    n = math.prod(np.broadcast_shapes(p["input"].shape, p["target"].shape))
    term = (
        scale * np.max(np.abs(p["grad_output"]), initial=0) / (n if p["reduction"] == "mean" else 1)
    )
    term *= 1.0 if p["weight"] is None else np.max(p["weight"], initial=0)
    for actual, want in zip((loss, grad_input, grad_target), expected, strict=True):
        if want.size == 0 and p["reduction"] == "mean":
            continue  # NaN by definition; covered in test_semantics
        magnitude = None if actual is loss else max(float(term) * n, 1.0)
        assert_close(actual, want, dtype=p["dtype"], rtol=rtol, magnitude=magnitude, xp=xp)
