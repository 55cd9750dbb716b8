"""Our own fuzz campaign: random backends, dtypes, shapes, values, thresholds, entry points and
reductions, each call checked against the 200-bit mpmath oracle (mp_oracle.py) for value,
dtype, shape, namespace and device, unchanged inputs (byte for byte) and no undocumented
warning.

Examples per run: the hypothesis profile decides (tests/conftest.py): ``default`` (a few dozen
per test, the suite stays fast), ``ci`` (``HYPOTHESIS_PROFILE=ci``: >= 10,000 in all), ``fuzz``
(``HYPOTHESIS_PROFILE=fuzz``: 100,000 in all, about an hour). docs/reliability.md says more.
"""

import math
import os
import warnings
from typing import Any

import array_api_compat
import mp_oracle
import numpy as np
import pytest
from backends import Backend
from helpers import dtype_name, optional_import, to_numpy
from hypothesis import given, settings
from hypothesis import strategies as st

import huberish as hb

KINDS = {
    "smooth_l1": (
        "beta",
        hb.smooth_l1_loss,
        hb.smooth_l1_loss_and_grad,
        hb.smooth_l1_loss_grad_hess,
        hb.smooth_l1_loss_backward,
        hb.SmoothL1Loss,
    ),
    "huber": (
        "delta",
        hb.huber_loss,
        hb.huber_loss_and_grad,
        hb.huber_loss_grad_hess,
        hb.huber_loss_backward,
        hb.HuberLoss,
    ),
    "pseudo_huber": (
        "delta",
        hb.pseudo_huber_loss,
        hb.pseudo_huber_loss_and_grad,
        hb.pseudo_huber_loss_grad_hess,
        hb.pseudo_huber_loss_backward,
        hb.PseudoHuberLoss,
    ),
}
ENTRY_POINTS = ["loss", "and_grad", "grad_hess", "backward", "class", "class_grad_hess"]
# Examples per test: the profile's max_examples times these weights (the campaign's total is
# reported by `pytest --hypothesis-show-statistics`).
SCALE = {"default": 0.02, "ci": 1.0, "fuzz": 10.0}.get(
    os.environ.get("HYPOTHESIS_PROFILE", "default"), 0.02
)


# The backends the campaign draws from (the `Backend` members on their default devices), by the
# short names the cases carry.
NAMES = {
    Backend.NUMPY: "numpy",
    Backend.ARRAY_API_STRICT: "array_api_strict",
    Backend.TORCH: "torch",
    Backend.JAX: "jax",
    Backend.DASK: "dask",
}


def _backends() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for member, name in NAMES.items():
        if member.unavailable() is None:
            found[name] = np if member is Backend.NUMPY else member.namespace()
    return found


BACKENDS = _backends()
DTYPES = {
    "numpy": ["float16", "float32", "float64", "longdouble"],
    "array_api_strict": ["float32", "float64"],
    "torch": ["float16", "float32", "float64"],
    "jax": ["float16", "float32", "float64"],
    "dask": ["float16", "float32", "float64"],
}
if np.finfo(np.longdouble).nmant <= 52:
    DTYPES["numpy"].remove("longdouble")


def convert(backend: str, value: np.ndarray) -> Any:
    xp = BACKENDS.get(backend)
    if backend == "numpy":
        return value.copy()
    if backend == "dask":
        return xp.asarray(value, chunks=max(1, value.shape[0] // 2) if value.ndim else ())
    if backend == "dask_unknown":  # boolean indexing that keeps every element: shape (nan,)
        known = convert("dask", value)
        if not value.ndim:
            return known
        return known[BACKENDS["dask"].ones(value.shape, dtype=bool, chunks=known.chunks)]
    if backend == "torch":
        import torch

        return torch.from_numpy(value.copy())
    return xp.asarray(value, dtype=getattr(xp, value.dtype.name))


def values(dtype: str) -> st.SearchStrategy[float]:
    """Every kind of value of `dtype`: subnormals, +-0, near the max, +-inf, NaN."""
    width = {"float16": 16, "float32": 32}.get(dtype, 64)
    info = np.finfo(np.dtype(dtype if dtype != "longdouble" else "float64"))
    edges = [
        0.0,
        -0.0,
        math.inf,
        -math.inf,
        math.nan,
        float(info.max),
        -float(info.max),
        float(info.smallest_normal),
        float(info.smallest_subnormal),
        1.0,
        -1.0,
    ]
    return st.one_of(
        st.sampled_from(edges),
        st.floats(width=width, allow_nan=True),
        st.floats(-4.0, 4.0, width=width),
    )


def thresholds(dtype: str) -> st.SearchStrategy[float]:
    """Thresholds across the dtype's whole range (and beyond: float64's, inf)."""
    info = np.finfo(np.dtype(dtype if dtype != "longdouble" else "float64"))
    tiny, top = float(info.smallest_normal), float(info.max)
    edges = [
        tiny / 8,
        tiny,
        top,
        top * 2 if top < 1e308 else top,
        1e-300,
        1e300,
        math.inf,
        5e-324,
        1.0,
        0.5,
    ]
    return st.one_of(
        st.sampled_from(edges),
        st.floats(min_value=5e-324, max_value=1.7e308),
        st.floats(min_value=1e-3, max_value=1e3),
    )


# Backends by weight: a Dask call (graph building) costs 30 times a NumPy call.
WEIGHTED = [
    name
    for name in sorted(BACKENDS)
    for _ in range({"numpy": 6, "torch": 4, "jax": 3, "array_api_strict": 2}.get(name, 1))
]
SHAPES = [
    ((3,), (3,)),
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((2, 3), (1, 3)),
    ((4,), ()),
    ((0,), (0,)),
    ((2, 0), (2, 0)),
    ((1,), (1,)),
    ((2, 3), "scalar"),
]


@st.composite
def cases(draw: Any) -> dict[str, Any]:
    backend = draw(st.sampled_from(WEIGHTED))
    dtype = draw(st.sampled_from(DTYPES[backend]))
    kind = draw(st.sampled_from(sorted(KINDS)))
    x_shape, y_shape = draw(st.sampled_from(SHAPES))
    numpy_dtype = np.dtype(dtype)
    element = values(dtype)
    x = (
        np.array(
            draw(st.lists(element, min_size=math.prod(x_shape), max_size=math.prod(x_shape))),
            dtype=np.float64,
        )
        .astype(numpy_dtype)
        .reshape(x_shape)
    )
    if y_shape == "scalar":
        y: Any = draw(st.floats(allow_nan=True))
    else:
        size = math.prod(y_shape)
        y = (
            np.array(draw(st.lists(element, min_size=size, max_size=size)), dtype=np.float64)
            .astype(numpy_dtype)
            .reshape(y_shape)
        )
    threshold = draw(thresholds(dtype))
    if kind != "smooth_l1" and threshold == 0.0:
        threshold = 1.0
    entry = draw(st.sampled_from(ENTRY_POINTS))
    reduction = draw(st.sampled_from(["none", "mean", "sum"]))
    weight = draw(st.sampled_from([None, "scalar", "array"]))
    return {
        "backend": backend,
        "dtype": dtype,
        "kind": kind,
        "x": x,
        "y": y,
        "threshold": threshold,
        "entry": entry,
        "reduction": reduction,
        "weight": weight,
        "grad_output": draw(st.sampled_from([1.0, 0.5, -2.0])),
    }


def snapshot(array: Any) -> bytes:
    return to_numpy(array).tobytes() if not isinstance(array, float) else repr(array).encode()


def call(case: dict[str, Any]) -> None:
    """One call of an entry point, checked against the oracle."""
    backend, dtype, kind, reduction = (
        case["backend"],
        case["dtype"],
        case["kind"],
        case["reduction"],
    )
    name, loss_fn, and_grad, grad_hess, backward, cls = KINDS[kind]
    x_np, y_np = case["x"], case["y"]
    x = convert(backend, x_np)
    y = y_np if isinstance(y_np, float) else convert(backend, y_np)
    shape = np.broadcast_shapes(x_np.shape, np.shape(y_np))
    weight_np: Any = None
    weight: Any = None
    if case["weight"] == "scalar":
        weight = weight_np = 0.5
    elif case["weight"] == "array" and shape:
        weight_np = np.linspace(0.0, 2.0, shape[-1]).astype(x_np.dtype)
        weight = convert(backend, weight_np)
    threshold = case["threshold"]
    if isinstance(threshold, np.ndarray):  # a threshold per element
        threshold = convert(backend.removesuffix("_unknown"), threshold)
    options = {name: threshold, "reduction": reduction, "weight": weight}
    before = [snapshot(a) for a in (x, y) + ((weight,) if weight is not None else ())]
    entry = case["entry"]
    grad_output_np = np.asarray(case["grad_output"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", "Using a target size", UserWarning)  # documented
        if backend.startswith("dask"):  # NumPy's warnings from Dask's chunks, at compute
            warnings.filterwarnings("ignore", category=RuntimeWarning)
        if entry == "loss":
            parts = {"loss": loss_fn(x, y, **options)}
        elif entry == "and_grad":
            parts = dict(zip(("loss", "grad"), and_grad(x, y, **options), strict=True))
        elif entry in ("grad_hess", "class_grad_hess"):
            if entry == "class_grad_hess":
                crit = cls(reduction=reduction, **{name: threshold})
                result = crit.loss_grad_hess(x, y, weight=weight)
            else:
                result = grad_hess(x, y, **options)
            parts = dict(zip(("loss", "grad", "hess"), result, strict=True))
        elif entry == "class":
            parts = {"loss": cls(reduction=reduction, **{name: threshold})(x, y, weight=weight)}
        else:
            go_shape = shape if reduction == "none" else ()
            grad_output_np = np.full(go_shape, case["grad_output"], dtype=x_np.dtype)
            grads = backward(convert(backend, grad_output_np), x, y, **options)
            parts = {"grad": grads[0], "grad_target": grads[1]}
        got = {key: to_numpy(value) for key, value in parts.items()}
        for key, value in parts.items():  # namespace and device of the input
            if isinstance(value, np.generic):
                assert backend == "numpy", (key, type(value))
                continue
            assert type(array_api_compat.array_namespace(value)) is type(
                array_api_compat.array_namespace(x)
            ), key
            assert array_api_compat.device(value) == array_api_compat.device(x), key
    after = [snapshot(a) for a in (x, y) + ((weight,) if weight is not None else ())]
    assert before == after, "an input was modified"

    compute = mp_oracle.COMPUTE[dtype]
    # A Python scalar is weak: it takes the computation dtype (beyond its range: +-inf)
    with np.errstate(over="ignore"):
        y_oracle = np.asarray(y_np).astype(compute) if isinstance(y_np, float) else y_np
    exact = mp_oracle.evaluate(
        kind,
        case["threshold"],
        x_np,
        y_oracle,
        compute=compute,
        reduction=reduction,
        weight=None if weight_np is None else np.asarray(weight_np),
        grad_output=grad_output_np if entry == "backward" else None,
        flush=backend == "jax",
    )
    absolute = np.vectorize(abs, otypes=[object])
    for key, value in got.items():
        if key == "loss":
            want, magnitude, want_dtype = exact["loss"], exact["magnitude"], dtype
        else:
            operand = "hess" if key == "hess" else "grad"
            target_shape = np.shape(y_np) if key == "grad_target" else x_np.shape
            sign = -1 if key == "grad_target" else 1
            want = (
                mp_oracle.sum_to(exact[operand] * sign, target_shape)
                if exact[operand].size
                else np.zeros(target_shape, dtype=object)
            )
            magnitude = (
                mp_oracle.sum_to(
                    (exact["grad_magnitude"] if operand == "grad" else absolute(exact[operand])),
                    target_shape,
                )
                if exact[operand].size
                else want
            )
            want_dtype = dtype  # (a Python scalar target's gradient: 0-d, of the input's dtype)
        mp_oracle.check(
            value,
            want,
            magnitude,
            dtype=want_dtype if value.dtype.kind == "f" else dtype_name(value),
            compute=compute,
            what=key,
        )


def _skip_unsupported(case: dict[str, Any]) -> None:
    # JAX flushes subnormal constants (a delta below the smallest normal number): documented.
    info = np.finfo(np.dtype(mp_oracle.COMPUTE[case["dtype"]]))
    if case["backend"] == "jax" and case["threshold"] < float(info.smallest_normal):
        case["threshold"] = float(info.smallest_normal) * 4


@settings(max_examples=max(20, int(6000 * SCALE)))
@given(case=cases())
def test_campaign(case):
    """Every entry point, every backend and dtype, against the mpmath oracle."""
    _skip_unsupported(case)
    call(case)


@settings(max_examples=max(10, int(2000 * SCALE)))
@given(case=cases(), data=st.data())
def test_campaign_numpy_blocked_and_axis(case, data):
    """NumPy: the same checks with `axis` / `keepdims` reductions."""
    case["backend"] = "numpy"
    if case["dtype"] not in DTYPES["numpy"]:
        case["dtype"] = "float64"
        case["x"] = case["x"].astype(np.float64)
        if not isinstance(case["y"], float):
            case["y"] = case["y"].astype(np.float64)
    x_np = case["x"]
    y_np = case["y"]
    if x_np.ndim < 2 or case["reduction"] == "none":
        call(case)
        return
    axis = data.draw(st.sampled_from([0, 1, (0, 1), -1]))
    keepdims = data.draw(st.booleans())
    name, loss_fn, *_ = KINDS[case["kind"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", "Using a target size", UserWarning)
        got = loss_fn(
            x_np,
            y_np,
            reduction=case["reduction"],
            axis=axis,
            keepdims=keepdims,
            **{name: case["threshold"]},
        )
    axes = tuple(sorted(a % x_np.ndim for a in (axis if isinstance(axis, tuple) else (axis,))))
    compute = mp_oracle.COMPUTE[case["dtype"]]
    with np.errstate(over="ignore"):
        y_oracle = np.asarray(y_np).astype(compute) if isinstance(y_np, float) else y_np
    exact = mp_oracle.evaluate(
        case["kind"],
        case["threshold"],
        x_np,
        y_oracle,
        compute=compute,
        reduction=case["reduction"],
        axis=axes,
    )
    want, magnitude = exact["loss"], exact["magnitude"]
    if keepdims:
        shape = np.broadcast_shapes(x_np.shape, np.shape(y_np))
        kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
        want, magnitude = want.reshape(kept), magnitude.reshape(kept)
    mp_oracle.check(
        np.asarray(got), want, magnitude, dtype=case["dtype"], compute=compute, what="loss"
    )


@settings(max_examples=max(10, int(1000 * SCALE)))
@given(case=cases())
def test_campaign_dask_unknown_chunks(case):
    """Dask arrays of unknown size, shape (nan,) (boolean indexing), lazily: every entry point
    against the oracle, as for known sizes. Operands of one size, flattened."""
    if "dask" not in BACKENDS:
        pytest.skip("dask is not installed")
    case["backend"] = "dask_unknown"
    if case["dtype"] not in DTYPES["dask"]:
        case["dtype"] = "float64"
    x = case["x"].astype(case["dtype"])
    if not isinstance(case["y"], float):
        y = np.broadcast_to(
            case["y"].astype(case["dtype"]), np.broadcast_shapes(x.shape, case["y"].shape)
        )
        case["y"] = np.ascontiguousarray(y).reshape(-1)
        x = np.broadcast_to(x, y.shape)
    case["x"] = np.ascontiguousarray(x).reshape(-1)
    call(case)


@settings(max_examples=max(10, int(2000 * SCALE)))
@given(case=cases(), data=st.data())
def test_campaign_thresholds_per_element(case, data):
    """A threshold per element (per channel, or of the elements' shape), its entries across
    the dtype's whole range (in the operands' dtype), on every backend and entry point."""
    dtype = case["dtype"]
    shape = np.broadcast_shapes(case["x"].shape, np.shape(case["y"]))
    if not shape:
        return
    threshold_shape = data.draw(st.sampled_from([shape, shape[-1:]]))
    size = math.prod(threshold_shape)
    entries = data.draw(st.lists(thresholds(dtype), min_size=size, max_size=size))
    with np.errstate(over="ignore"):
        values = np.array(entries).astype(case["x"].dtype).reshape(threshold_shape)
    if case["kind"] != "smooth_l1":
        values[values == 0] = 1.0
    if case["backend"] == "jax":  # JAX flushes subnormal thresholds (see _skip_unsupported)
        tiny = float(np.finfo(np.dtype(mp_oracle.COMPUTE[dtype])).smallest_normal)
        values[values < tiny] = 4 * tiny
    case["threshold"] = values
    call(case)


ADAPTERS = {"torch": "huberish.torch", "jax": "huberish.jax"}


@settings(max_examples=max(10, int(1000 * SCALE)))
@given(case=cases(), adapter=st.sampled_from(sorted(ADAPTERS)))
def test_campaign_adapters(case, adapter):
    """The adapters' losses and autodiff gradients, against the same oracle."""
    module = optional_import(ADAPTERS[adapter])
    if module is None:
        pytest.skip(f"{ADAPTERS[adapter]} is not importable")
    if case["dtype"] == "longdouble":
        return
    case["backend"] = adapter
    _skip_unsupported(case)
    kind, dtype, reduction = case["kind"], case["dtype"], case["reduction"]
    name = KINDS[kind][0]
    x_np, y_np = case["x"], case["y"]
    function = getattr(module, f"{kind}_loss")
    options = {name: case["threshold"], "reduction": reduction}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", "Using a target size", UserWarning)
        if adapter == "torch":
            import torch

            x = torch.from_numpy(x_np.copy()).requires_grad_(True)
            y = y_np if isinstance(y_np, float) else torch.from_numpy(y_np.copy())
            loss = function(x, y, **options)
            seed = torch.ones_like(loss)
            (grad,) = torch.autograd.grad(loss, x, seed, allow_unused=True)
            got_loss, got_grad = to_numpy(loss), to_numpy(grad)
        else:
            import jax
            import jax.numpy as jnp

            x = jnp.asarray(x_np)
            y = y_np if isinstance(y_np, float) else jnp.asarray(y_np)
            loss = function(x, y, **options)
            grad = jax.grad(lambda a: jnp.sum(function(a, y, **options)))(x)
            got_loss, got_grad = np.asarray(loss), np.asarray(grad)
    compute = mp_oracle.COMPUTE[dtype]
    with np.errstate(over="ignore"):
        y_oracle = np.asarray(y_np).astype(compute) if isinstance(y_np, float) else y_np
    exact = mp_oracle.evaluate(
        kind,
        case["threshold"],
        x_np,
        y_oracle,
        compute=compute,
        reduction=reduction,
        flush=adapter == "jax",
    )
    mp_oracle.check(
        got_loss, exact["loss"], exact["magnitude"], dtype=dtype, compute=compute, what="loss"
    )
    absolute = np.vectorize(abs, otypes=[object])
    if exact["grad"].size:
        want = mp_oracle.sum_to(exact["grad"], x_np.shape)
        mp_oracle.check(
            got_grad,
            want,
            mp_oracle.sum_to(absolute(exact["grad"]), x_np.shape),
            dtype=dtype,
            compute=compute,
            what="grad",
        )


@pytest.mark.parametrize("delta", [1.0, 0.37, 3.0])
def test_float32_pseudo_huber_terms_near_the_transition(delta):
    """float32 pseudo-Huber losses for ``|d| / delta`` from 1/2 to 8, where the form
    ``delta * (|d| h - delta)`` cancelled (4.0e-7 relative; a tester's find): within 2.5e-7 of
    the oracle, element by element."""
    d = (np.linspace(0.5, 8.0, 4001) * delta).astype(np.float32)
    got = hb.pseudo_huber_loss(d, np.zeros_like(d), reduction="none", delta=delta)
    worst = 0.0
    for value, loss in zip(d.tolist(), got.tolist(), strict=True):
        want, _, _ = mp_oracle.element_terms(
            "pseudo_huber", delta, mp_oracle.to_mpf(value), "float32"
        )
        worst = max(worst, float(abs(loss - want) / want))
    assert worst <= 2.5e-7
