"""Property tests: random shapes (with broadcasting), dtypes, thresholds, weights and reductions.

`test_matches_float64_reference` runs on each backend of the `xp` fixture (jitted on JAX, lazily
on Dask). The other properties draw the backend and dtype themselves, so that one property's
examples spread over every installed backend: the ``ci`` profile (``HYPOTHESIS_PROFILE=ci``)
runs 2,000 examples of each.
"""

import math
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from backends import Backend
from helpers import assert_close, expect_backend, optional_import, to_numpy
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst

import huberish as hb
from huberish._reference import reference

lazy_xp_modules = [hb]  # run tagged functions jitted on JAX, lazily on Dask (helpers.py)

# float32-representable values, so both dtypes see the same numbers. No subnormal residuals:
# XLA (JAX) flushes them to zero, so one is 0 there and sign(d) at beta = 0 differs.
# Differences of tiny normal numbers can be subnormal too: values below 1e-30 become 0.
VALUES = st.floats(-1e3, 1e3, width=32).map(lambda v: 0.0 if abs(v) < 1e-30 else v)
POSITIVE = st.floats(2.0**-10, 2.0**10, width=32)
RTOL = {"float32": 1e-5, "float64": 1e-12}
PER_BACKEND = settings(max_examples=min(settings.default.max_examples, 200))


@st.composite
def problems(draw, kinds=("smooth_l1", "huber", "pseudo_huber")):
    shapes = draw(
        npst.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)
    )
    (input_shape, target_shape), shape = shapes.input_shapes, shapes.result_shape
    dtype = draw(st.sampled_from(["float32", "float64"]))
    kind = draw(st.sampled_from(kinds))
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


FUNCTIONS = {
    "smooth_l1": (hb.smooth_l1_loss, hb.smooth_l1_loss_backward, "beta"),
    "huber": (hb.huber_loss, hb.huber_loss_backward, "delta"),
    "pseudo_huber": (hb.pseudo_huber_loss, hb.pseudo_huber_loss_backward, "delta"),
}


def _loss_and_gradients(p, convert):
    """huberish's loss and backward pass for problem `p`, its arrays made by `convert`."""
    loss_fn, backward_fn, name = FUNCTIONS[p["kind"]]
    x, y, go = convert(p["input"]), convert(p["target"]), convert(p["grad_output"])
    w = None if p["weight"] is None else convert(p["weight"])
    options = {"reduction": p["reduction"], name: p["threshold"], "weight": w}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using a target size", UserWarning)
        return loss_fn(x, y, **options), *backward_fn(go, x, y, **options)


def _gradient_magnitude(p):
    """The size against which gradients are judged: they sum signed terms of at most
    ``term`` each, ``n`` of them, and may cancel to about 0."""
    n = math.prod(np.broadcast_shapes(p["input"].shape, p["target"].shape))
    term = np.max(np.abs(p["grad_output"]), initial=0) / (n if p["reduction"] == "mean" else 1)
    term *= p["threshold"] if p["kind"] != "smooth_l1" else 1.0
    term *= 1.0 if p["weight"] is None else np.max(p["weight"], initial=0)
    return max(float(term) * n, 1.0)


def _check_against_reference(p, results, xp=None):
    expected = reference(
        p["input"],
        p["target"],
        beta=p["threshold"],
        scale=p["threshold"] if p["kind"] == "huber" else 1.0,
        reduction=p["reduction"],
        weight=p["weight"],
        grad_output=p["grad_output"],
        pseudo_huber=p["kind"] == "pseudo_huber",
    )
    magnitude_of_gradients = _gradient_magnitude(p)
    for k, (actual, want) in enumerate(zip(results, expected, strict=True)):
        if want.size == 0 and p["reduction"] == "mean":
            continue  # NaN by definition; covered in test_semantics
        magnitude = None if k == 0 else magnitude_of_gradients
        assert_close(
            actual, want, dtype=p["dtype"], rtol=RTOL[p["dtype"]], magnitude=magnitude, xp=xp
        )


@PER_BACKEND
@given(problem=problems())
def test_matches_float64_reference(xp, asarray, problem):
    _check_against_reference(problem, _loss_and_gradients(problem, asarray), xp)


# --- the same and more, the backend drawn by hypothesis --------------------------------------


class Drawn(NamedTuple):
    """A backend drawn by hypothesis: results must be in `xp` on `device`."""

    backend: Backend
    xp: Any
    device: Any
    convert: Callable[[Any], Any]

    def __repr__(self) -> str:
        return f"Drawn({self.backend})"


def _backends():
    """Every installed eager backend, with its conversion from NumPy."""
    found = []
    for backend in (
        Backend.NUMPY,
        Backend.ARRAY_API_STRICT,
        Backend.ARRAY_API_STRICT_DEVICE1,
        Backend.TORCH,
        Backend.JAX,
        Backend.DASK,
    ):
        if backend.unavailable() is None:
            xp = backend.namespace()
            found.append(Drawn(backend, xp, backend.device(xp), _converter(backend, xp)))
    return found


def _converter(backend, xp):
    if backend is Backend.TORCH:
        return lambda a: xp.asarray(np.asarray(a))
    if backend is Backend.DASK:
        dask_array = optional_import("dask.array")
        return lambda a: dask_array.from_array(np.asarray(a), chunks=2)
    device = backend.device(xp)
    return lambda a: xp.asarray(a, device=device)


BACKENDS = st.sampled_from(_backends())


@given(problem=problems(), backend=BACKENDS)
def test_reference_on_a_drawn_backend(problem, backend):
    with expect_backend(backend.xp, backend.device):
        convert = backend.convert
        _check_against_reference(problem, _loss_and_gradients(problem, convert))


@given(problem=problems(kinds=("huber",)), backend=BACKENDS)
def test_huber_is_delta_times_smooth_l1(problem, backend):
    with expect_backend(backend.xp, backend.device):
        p, convert = problem, backend.convert
        delta = p["threshold"]
        huber = _loss_and_gradients(p, convert)
        smooth = _loss_and_gradients({**p, "kind": "smooth_l1"}, convert)
        magnitude = _gradient_magnitude(p)  # (the gradients' sums may cancel)
        for k, (h, s) in enumerate(zip(huber, smooth, strict=True)):
            want = delta * to_numpy(s).astype(np.float64)
            assert_close(
                h, want, dtype=p["dtype"], rtol=4 * RTOL[p["dtype"]],
                magnitude=None if k == 0 else magnitude,
            )  # fmt: skip


@given(problem=problems(), backend=BACKENDS)
def test_symmetric_in_input_and_target(problem, backend):
    with expect_backend(backend.xp, backend.device):
        p, convert = problem, backend.convert
        loss, grad_input, grad_target = _loss_and_gradients(p, convert)
        swapped = {**p, "input": p["target"], "target": p["input"]}
        loss_s, grad_input_s, grad_target_s = _loss_and_gradients(swapped, convert)
        rtol = RTOL[p["dtype"]]
        assert_close(loss_s, to_numpy(loss), dtype=p["dtype"], rtol=rtol)
        # d loss(y, x) / dy is d loss(x, y) / dx: each keeps its own operand's shape
        assert_close(grad_target_s, to_numpy(grad_input), dtype=p["dtype"], rtol=rtol)
        assert_close(grad_input_s, to_numpy(grad_target), dtype=p["dtype"], rtol=rtol)


@given(problem=problems(kinds=("smooth_l1",)), backend=BACKENDS, beta=st.floats(1e-6, 1e-2))
def test_small_beta_tends_to_l1(problem, backend, beta):
    with expect_backend(backend.xp, backend.device):
        p, convert = problem, backend.convert
        x, y = convert(p["input"]), convert(p["target"])
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Using a target size", UserWarning)
            small = to_numpy(hb.smooth_l1_loss(x, y, reduction="none", beta=beta))
            l1 = to_numpy(hb.smooth_l1_loss(x, y, reduction="none", beta=0.0))
        # beta = 0 is exactly |d|; then 0 <= |d| - smooth_l1 <= beta / 2, element by element
        np.testing.assert_array_equal(l1, np.abs(p["input"] - p["target"]))
        gap = l1.astype(np.float64) - small.astype(np.float64)
        slack = RTOL[p["dtype"]] * np.maximum(np.abs(l1), 1.0)
        assert np.all(gap >= -slack)
        assert np.all(gap <= beta / 2 + slack)


@given(problem=problems(), backend=BACKENDS, data=st.data())
def test_reduction_identities(problem, backend, data):
    with expect_backend(backend.xp, backend.device):
        p, convert = problem, backend.convert
        n = math.prod(np.broadcast_shapes(p["input"].shape, p["target"].shape))
        shape = np.broadcast_shapes(p["input"].shape, p["target"].shape)
        one, ones = np.ones((), p["dtype"]), np.ones(shape, p["dtype"])
        total = _loss_and_gradients({**p, "reduction": "sum", "grad_output": one}, convert)
        mean = _loss_and_gradients({**p, "reduction": "mean", "grad_output": one}, convert)
        none = _loss_and_gradients({**p, "reduction": "none", "grad_output": ones}, convert)
        tolerance = {"dtype": p["dtype"], "rtol": 4 * RTOL[p["dtype"]]}
        tolerance["magnitude"] = float(np.max(np.abs(to_numpy(none[0])), initial=1.0)) * max(n, 1)
        as_float64 = lambda a: to_numpy(a).astype(np.float64)  # noqa: E731
        assert_close(total[0], np.sum(as_float64(none[0])), **tolerance)
        if n:  # sum = mean * count, for the loss and both gradients
            for summed, averaged in zip(total, mean, strict=True):
                assert_close(summed, as_float64(averaged) * n, **tolerance)
        rtol, magnitude = tolerance["rtol"], tolerance["magnitude"]
        # and per axis: 'sum' over an axis is 'mean' over it times its length
        shape = np.broadcast_shapes(p["input"].shape, p["target"].shape)
        if shape and n and p["input"].shape == p["target"].shape:
            axis = data.draw(st.integers(0, len(shape) - 1))
            x, y = convert(p["input"]), convert(p["target"])
            per_axis_sum = hb.smooth_l1_loss(x, y, reduction="sum", axis=axis)
            per_axis_mean = hb.smooth_l1_loss(x, y, axis=axis)
            want = to_numpy(per_axis_mean).astype(np.float64) * shape[axis]
            assert_close(per_axis_sum, want, dtype=p["dtype"], rtol=rtol, magnitude=magnitude)
