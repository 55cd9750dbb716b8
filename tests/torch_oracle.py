"""Parity cases against PyTorch, and torch's answers for them.

`cases()` lists the cases with their inputs; `torch_answers(case)` runs torch on one. The golden
file `tests/golden/torch_parity.json` holds both, written by `python tests/golden/generate.py`,
so that the parity tests also run where torch is not installed.
"""

import itertools
import warnings
from typing import Any

import numpy as np

LEGACY = (None, True, False)
REDUCTIONS = ("none", "mean", "sum")
# Thresholds per dtype: 0 (exact L1), tiny and large (within the dtype's normal range), inf.
BETAS = {
    "float16": (0.0, 1e-4, 0.5, 1.0, 1e4, float("inf")),
    "float32": (0.0, 1e-30, 0.5, 1.0, 1e30, float("inf")),
    "float64": (0.0, 1e-300, 0.5, 1.0, 1e30, float("inf")),
}
DELTAS = (0.5, 1.0, 2.5)
SHAPES = (
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),  # target broadcast
    ((1, 4), (3, 4)),  # input broadcast
    ((3, 1), (1, 4)),  # both broadcast
    ((), (5,)),  # 0-d input
)


def _case(loss: str, threshold: float, reduction: str, dtype: str = "float64", **extra: Any):
    case = {
        "kind": loss,
        "threshold": threshold,
        "reduction": reduction,
        "dtype": dtype,
        "target_dtype": dtype,
        "input_shape": (3, 4),
        "target_shape": (3, 4),
        "weight_shape": None,
        "legacy": None,
    }
    case.update(extra)
    return case


def cases() -> list[dict[str, Any]]:
    """Every parity case, with its inputs drawn from a seeded grid of quarter-integers."""
    out = []
    for dtype, reduction in itertools.product(BETAS, REDUCTIONS):
        out += [_case("smooth_l1", beta, reduction, dtype) for beta in BETAS[dtype]]
        out += [_case("huber", delta, reduction, dtype) for delta in DELTAS]
    for loss, (xs, ys), reduction, dtype in itertools.product(
        ("smooth_l1", "huber"), SHAPES, REDUCTIONS, ("float32", "float64")
    ):
        out.append(_case(loss, 1.0, reduction, dtype, input_shape=xs, target_shape=ys))
    for loss, reduction, ws in itertools.product(
        ("smooth_l1", "huber"), REDUCTIONS, ((3, 4), (4,), (3, 1))
    ):
        out.append(_case(loss, 0.5, reduction, "float32", weight_shape=ws))
        out.append(
            _case(loss, 2.0, reduction, input_shape=(3, 1), target_shape=(1, 4), weight_shape=ws)
        )
    for legacy in itertools.product(LEGACY, LEGACY):
        out.append(_case("smooth_l1", 1.0, "sum", "float32", legacy=legacy))
    for (dx, dy), reduction in itertools.product(
        (("float32", "float64"), ("float64", "float32"), ("float16", "float32")), REDUCTIONS
    ):
        out.append(_case("smooth_l1", 1.0, reduction, dx, target_dtype=dy))
    for loss, reduction in itertools.product(("smooth_l1", "huber"), REDUCTIONS):
        out.append(_case(loss, 1.0, reduction, input_shape=(0, 3), target_shape=(0, 3)))

    rng = np.random.default_rng(20261121)
    for i, case in enumerate(out):
        case["id"] = i
        shape = np.broadcast_shapes(case["input_shape"], case["target_shape"])
        case["input"] = (rng.integers(-12, 13, case["input_shape"]) / 4).tolist()
        case["target"] = (rng.integers(-12, 13, case["target_shape"]) / 4).tolist()
        weight_shape = case["weight_shape"]
        case["weight"] = None if weight_shape is None else rng.random(weight_shape).tolist()
        go_shape = shape if effective_reduction(case) == "none" else ()
        case["grad_output"] = (rng.random(go_shape) + 0.5).tolist()
    return out


def effective_reduction(case: dict[str, Any]) -> str:
    """The reduction torch applies: legacy arguments (None counting as True) override it."""
    if case["legacy"] is None:
        return str(case["reduction"])
    size_average, reduce = (True if v is None else v for v in case["legacy"])
    return "mean" if size_average and reduce else "sum" if reduce else "none"


def case_id(case: dict[str, Any]) -> str:
    """A readable test id."""
    parts = [
        str(case["id"]),
        case["kind"],
        f"t={case['threshold']:g}",
        case["reduction"],
        case["dtype"] if case["dtype"] == case["target_dtype"] else "mixed",
    ]
    if case["input_shape"] != case["target_shape"]:
        parts.append("bcast")
    if case["weight_shape"] is not None:
        parts.append("weight")
    if case["legacy"] is not None:
        parts.append(f"legacy={tuple(case['legacy'])}")
    return "-".join(parts)


def torch_answers(case: dict[str, Any]) -> dict[str, Any]:
    """torch 2.13's loss, its input gradient, and the gradients of ``grad_output * loss``."""
    import torch
    import torch.nn.functional as F

    def tensor(values: Any, dtype: str, grad: bool = False) -> Any:
        return torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=grad)

    x = tensor(case["input"], case["dtype"], True)
    y = tensor(case["target"], case["target_dtype"], True)
    weighted = case["weight"] is not None
    reduction = "none" if weighted else case["reduction"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's broadcast and legacy-argument warnings
        if case["kind"] == "smooth_l1":
            size_average, reduce = case["legacy"] or (None, None)
            loss = F.smooth_l1_loss(
                x, y, size_average, reduce, reduction=reduction, beta=case["threshold"]
            )
        else:
            loss = F.huber_loss(x, y, reduction=reduction, delta=case["threshold"])
    if weighted:  # torch's huber rule, for both losses: weight each element; 'mean' divides by N
        loss = loss * tensor(case["weight"], case["dtype"])
        loss = {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[case["reduction"]]
    (grad_ones,) = torch.autograd.grad(loss, x, torch.ones_like(loss), retain_graph=True)
    grad_output = tensor(case["grad_output"], str(loss.dtype).removeprefix("torch."))
    grad_input, grad_target = torch.autograd.grad(loss, (x, y), grad_output)
    return {
        "loss": loss.detach().double().tolist(),
        "loss_dtype": str(loss.dtype).removeprefix("torch."),
        "grad_input_ones": grad_ones.double().tolist(),
        "grad_input": grad_input.double().tolist(),
        "grad_target": grad_target.double().tolist(),
    }
