"""PyTorch's SmoothL1Loss and HuberLoss, with analytic gradients, for every array-API library."""

import importlib.metadata as _metadata

from ._reduction import resolve_reduction
from .functional import (
    LossAndGrad,
    LossGradHess,
    huber_loss,
    huber_loss_and_grad,
    huber_loss_backward,
    huber_loss_grad_hess,
    pseudo_huber_loss,
    pseudo_huber_loss_and_grad,
    pseudo_huber_loss_backward,
    pseudo_huber_loss_grad_hess,
    smooth_l1_loss,
    smooth_l1_loss_and_grad,
    smooth_l1_loss_backward,
    smooth_l1_loss_grad_hess,
)
from .modules import HuberLoss, PseudoHuberLoss, SmoothL1Loss
from .objectives import Objective, huber_objective, pseudo_huber_objective, smooth_l1_objective

try:
    __version__ = _metadata.version("huberish")  # the installed distribution's metadata
except _metadata.PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "HuberLoss",
    "LossAndGrad",
    "LossGradHess",
    "Objective",
    "PseudoHuberLoss",
    "SmoothL1Loss",
    "__version__",
    "huber_loss",
    "huber_loss_and_grad",
    "huber_loss_backward",
    "huber_loss_grad_hess",
    "huber_objective",
    "pseudo_huber_loss",
    "pseudo_huber_loss_and_grad",
    "pseudo_huber_loss_backward",
    "pseudo_huber_loss_grad_hess",
    "pseudo_huber_objective",
    "resolve_reduction",
    "smooth_l1_loss",
    "smooth_l1_loss_and_grad",
    "smooth_l1_loss_backward",
    "smooth_l1_loss_grad_hess",
    "smooth_l1_objective",
]
