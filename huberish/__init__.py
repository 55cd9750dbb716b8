"""PyTorch's SmoothL1Loss and HuberLoss, with analytic gradients, for every array-API library."""

from ._reduction import resolve_reduction
from .functional import (
    LossAndGrad,
    huber_loss,
    huber_loss_and_grad,
    huber_loss_backward,
    smooth_l1_loss,
    smooth_l1_loss_and_grad,
    smooth_l1_loss_backward,
)
from .modules import HuberLoss, SmoothL1Loss

__version__ = "0.1.0.dev0"

__all__ = [
    "HuberLoss",
    "LossAndGrad",
    "SmoothL1Loss",
    "__version__",
    "huber_loss",
    "huber_loss_and_grad",
    "huber_loss_backward",
    "resolve_reduction",
    "smooth_l1_loss",
    "smooth_l1_loss_and_grad",
    "smooth_l1_loss_backward",
]
