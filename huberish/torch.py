"""huberish inside torch autograd: the generic kernel's forward and its analytic backward.

`smooth_l1_loss` and `huber_loss` are drop-in replacements for ``torch.nn.functional``'s, and
`SmoothL1Loss` and `HuberLoss` for ``torch.nn``'s (plus a `weight`). The backward pass calls
huberish's own `*_backward`, built from differentiable torch operations, so double backward
(``gradgradcheck``, Hessian-vector products) works too. Unlike torch, mixed float32/float64
operands promote and differentiate (pytorch#76646), and half precision is computed in float32.

Examples
--------
>>> import torch
>>> from huberish import torch as htorch
>>> x = torch.tensor([0.0, 0.5, 3.0], requires_grad=True)
>>> loss = htorch.smooth_l1_loss(x, torch.zeros(3), beta=1.0)
>>> loss.backward()
>>> x.grad
tensor([0.0000, 0.1667, 0.3333])
"""

from typing import Any

import torch

from . import functional
from ._reduction import resolve_reduction
from ._validate import check_beta, check_delta

__all__ = ["HuberLoss", "SmoothL1Loss", "huber_loss", "smooth_l1_loss"]


class _Loss(torch.autograd.Function):
    """The loss as one autograd node: forward and backward both run huberish's kernel."""

    @staticmethod
    def forward(
        input: Any, target: Any, weight: Any, kind: str, threshold: float, reduction: str
    ) -> torch.Tensor:
        options = {
            "reduction": reduction,
            functional.LOSSES[kind].threshold: threshold,
            "weight": weight,
        }
        return functional.LOSSES[kind].forward(input, target, **options)  # type: ignore[no-any-return]

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        input, target, weight, kind, threshold, reduction = inputs
        tensors = [t if isinstance(t, torch.Tensor) else None for t in (input, target, weight)]
        ctx.save_for_backward(*tensors)
        ctx.scalars = [None if isinstance(t, torch.Tensor) else t for t in (input, target)]
        ctx.options = {"reduction": reduction, functional.LOSSES[kind].threshold: threshold}
        ctx.kind = kind

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Any, ...]:
        input, target, weight = ctx.saved_tensors
        input = ctx.scalars[0] if input is None else input
        target = ctx.scalars[1] if target is None else target
        grad_input, grad_target = functional.LOSSES[ctx.kind].backward(
            grad_output, input, target, weight=weight, **ctx.options
        )
        wanted = ctx.needs_input_grad
        return (
            grad_input if wanted[0] else None,
            grad_target if wanted[1] else None,
            None,  # the weight gets no gradient
            None,
            None,
            None,
        )


def _apply(*args: Any) -> torch.Tensor:
    return _Loss.apply(*args)  # type: ignore[no-untyped-call,no-any-return]


def smooth_l1_loss(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    beta: float = 1.0,
    *,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """``torch.nn.functional.smooth_l1_loss`` with huberish's kernel and analytic backward.

    Arguments and semantics as `huberish.smooth_l1_loss`; `weight` gets no gradient.
    """
    reduction = resolve_reduction(size_average, reduce, reduction)
    return _apply(input, target, weight, "smooth_l1", check_beta(beta), reduction)


def huber_loss(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """``torch.nn.functional.huber_loss`` with huberish's kernel and analytic backward.

    Arguments and semantics as `huberish.huber_loss`; `weight` gets no gradient.
    """
    reduction = resolve_reduction(reduction=reduction)
    return _apply(input, target, weight, "huber", check_delta(delta), reduction)


class SmoothL1Loss(torch.nn.Module):
    """``torch.nn.SmoothL1Loss`` with huberish's kernel; validated at construction.

    `weight`, if given, is a buffer (it follows the module's ``.to()``) broadcastable to the
    loss shape.
    """

    weight: torch.Tensor | None

    def __init__(
        self,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
        beta: float = 1.0,
        weight: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.reduction = resolve_reduction(size_average, reduce, reduction)
        self.beta = check_beta(beta)
        self.register_buffer("weight", weight)

    def forward(self, input: Any, target: Any) -> torch.Tensor:
        return smooth_l1_loss(
            input, target, reduction=self.reduction, beta=self.beta, weight=self.weight
        )

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, beta={self.beta}"


class HuberLoss(torch.nn.Module):
    """``torch.nn.HuberLoss`` with huberish's kernel; validated at construction.

    `weight`, if given, is a buffer broadcastable to the loss shape.
    """

    weight: torch.Tensor | None

    def __init__(
        self, reduction: str = "mean", delta: float = 1.0, weight: torch.Tensor | None = None
    ) -> None:
        super().__init__()
        self.reduction = resolve_reduction(reduction=reduction)
        self.delta = check_delta(delta)
        self.register_buffer("weight", weight)

    def forward(self, input: Any, target: Any) -> torch.Tensor:
        return huber_loss(input, target, self.reduction, self.delta, self.weight)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, delta={self.delta}"
