"""Parity with PyTorch 2.13: values and gradients of both operands, on every backend.

The expected values are torch's own answers, committed in `golden/torch_parity.json` by
`golden/generate.py`; `test_golden_file_is_torchs_answer` re-derives them from the installed
torch, so the file cannot drift from what torch says.
"""

import json
import pathlib
import warnings

import numpy as np
import pytest
from helpers import assert_close, optional_import
from torch_oracle import case_id, cases, torch_answers

import huberish as hb

lazy_xp_modules = [hb]  # run tagged functions jitted on JAX, lazily on Dask (helpers.py)

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "torch_parity.json").read_text())
CASES = GOLDEN["cases"]


def _call(case, asarray):
    """huberish's loss, input gradient and backward pass for one case."""
    x = asarray(case["input"], case["dtype"])
    y = asarray(case["target"], case["target_dtype"])
    weight = None if case["weight"] is None else asarray(case["weight"], case["dtype"])
    grad_output = asarray(case["grad_output"], case["loss_dtype"])
    if case["kind"] == "smooth_l1":
        size_average, reduce = case["legacy"] or (None, None)
        args = (size_average, reduce, case["reduction"], case["threshold"])
        functions = hb.smooth_l1_loss, hb.smooth_l1_loss_and_grad, hb.smooth_l1_loss_backward
    else:
        args = (case["reduction"], case["threshold"])
        functions = hb.huber_loss, hb.huber_loss_and_grad, hb.huber_loss_backward
    forward, and_grad, backward = functions
    with warnings.catch_warnings():
        # The broadcast and legacy-argument warnings have tests of their own (under jax.jit
        # they are only raised while tracing, so they cannot be asserted here).
        warnings.filterwarnings("ignore", "Using a target size", UserWarning)
        warnings.filterwarnings("ignore", "size_average and reduce", UserWarning)
        return (
            forward(x, y, *args, weight=weight),
            and_grad(x, y, *args, weight=weight),
            backward(grad_output, x, y, *args, weight=weight),
        )


def _marked(case):
    """`case` as a parameter, marked `float16` where it makes float16 arrays."""
    half = "float16" in (case["dtype"], case["target_dtype"])
    return pytest.param(case, id=case_id(case), marks=[pytest.mark.float16] if half else [])


@pytest.mark.parametrize("case", [_marked(case) for case in CASES])
def test_matches_torch(case, xp, asarray):
    loss, (loss_again, grad), (grad_input, grad_target) = _call(case, asarray)
    assert_close(loss, case["loss"], dtype=case["loss_dtype"], xp=xp)
    assert_close(loss_again, case["loss"], dtype=case["loss_dtype"], xp=xp)
    assert_close(grad, case["grad_input_ones"], dtype=case["dtype"], xp=xp)
    assert_close(grad_input, case["grad_input"], dtype=case["dtype"], xp=xp)
    assert_close(grad_target, case["grad_target"], dtype=case["target_dtype"], xp=xp)


def test_golden_file_covers_every_case():
    assert [case_id(c) for c in CASES] == [case_id(c) for c in cases()]
    assert [c["input"] for c in CASES] == [c["input"] for c in cases()]


@pytest.mark.skipif(optional_import("torch") is None, reason="torch is not installed")
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_golden_file_is_torchs_answer(case):
    """The committed answers are what the installed torch computes now."""
    live = torch_answers(case)
    assert live["loss_dtype"] == case["loss_dtype"]
    for key in ("loss", "grad_input_ones", "grad_input", "grad_target"):
        np.testing.assert_array_equal(np.asarray(live[key]), np.asarray(case[key]), err_msg=key)
