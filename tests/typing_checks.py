"""Static checks of the public types, for mypy (which `pyproject.toml` points here); pytest
only imports this module.

`assert_type` fails mypy when a result's type is not the operands' array type; each
``type: ignore[arg-type]`` fails it (as an unused ignore) if a wrong `reduction` is accepted.
"""

from typing import assert_type

import numpy as np
import numpy.typing as npt

import huberish as hb

Float64Array = npt.NDArray[np.float64]


def check_results_have_the_operands_array_type(x: Float64Array, y: Float64Array) -> None:
    assert_type(hb.smooth_l1_loss(x, y), Float64Array)
    assert_type(hb.huber_loss(x, 0.5, "sum"), Float64Array)
    assert_type(hb.pseudo_huber_loss_and_grad(x, y), hb.LossAndGrad[Float64Array])
    assert_type(hb.huber_loss_grad_hess(x, y).hess, Float64Array)
    assert_type(hb.smooth_l1_loss_backward(1.0, x, y), tuple[Float64Array, Float64Array])
    assert_type(hb.HuberLoss(delta=2.0)(x, y), Float64Array)
    assert_type(hb.SmoothL1Loss().loss_grad_hess(x, y), hb.LossGradHess[Float64Array])


def check_reduction_is_one_of_torchs_strings(x: Float64Array) -> None:
    hb.smooth_l1_loss(x, x, reduction="elementwise_mean")  # torch's alias, with its warning
    hb.smooth_l1_loss(x, x, reduction="avg")  # type: ignore[arg-type]
    hb.HuberLoss(reduction="avg")  # type: ignore[arg-type]
    hb.resolve_reduction(reduction="average")  # type: ignore[arg-type]
