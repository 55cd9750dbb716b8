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

from ._options import Options
from ._reduction import ReductionArgument

__all__ = [
    "HuberLoss",
    "PseudoHuberLoss",
    "SmoothL1Loss",
    "huber_loss",
    "pseudo_huber_loss",
    "smooth_l1_loss",
]


class _Loss(torch.autograd.Function):
    """The loss as one autograd node: forward and backward both run huberish's kernel."""

    @staticmethod
    def forward(input: Any, target: Any, weight: Any, call: Options) -> torch.Tensor:
        return call.forward(input, target, weight)  # type: ignore[no-any-return]

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        input, target, weight, call = inputs
        tensors = [t if isinstance(t, torch.Tensor) else None for t in (input, target, weight)]
        ctx.save_for_backward(*tensors)
        ctx.scalars = [None if isinstance(t, torch.Tensor) else t for t in (input, target)]
        ctx.call = call

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Any, ...]:
        input, target, weight = ctx.saved_tensors
        input = ctx.scalars[0] if input is None else input
        target = ctx.scalars[1] if target is None else target
        grad_input, grad_target = ctx.call.backward(grad_output, input, target, weight)
        wanted = ctx.needs_input_grad
        # the weight gets no gradient
        return (grad_input if wanted[0] else None, grad_target if wanted[1] else None, None, None)


def _apply(input: Any, target: Any, weight: Any, call: Options) -> torch.Tensor:
    return _Loss.apply(input, target, weight, call)  # type: ignore[no-untyped-call,no-any-return]


def smooth_l1_loss(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: ReductionArgument = "mean",
    beta: float = 1.0,
    *,
    weight: torch.Tensor | None = None,
    axis: Any = None,
    keepdims: bool = False,
) -> torch.Tensor:
    """``torch.nn.functional.smooth_l1_loss`` with huberish's kernel and analytic backward.

    Arguments and semantics as `huberish.smooth_l1_loss`; `weight` gets no gradient.
    """
    call = Options.build(
        "smooth_l1",
        beta,
        reduction=reduction,
        size_average=size_average,
        reduce=reduce,
        axis=axis,
        keepdims=keepdims,
    )
    return _apply(input, target, weight, call)


def huber_loss(
    input: Any,
    target: Any,
    reduction: ReductionArgument = "mean",
    delta: float = 1.0,
    weight: torch.Tensor | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
) -> torch.Tensor:
    """``torch.nn.functional.huber_loss`` with huberish's kernel and analytic backward.

    Arguments and semantics as `huberish.huber_loss`; `weight` gets no gradient.
    """
    call = Options.build("huber", delta, reduction=reduction, axis=axis, keepdims=keepdims)
    return _apply(input, target, weight, call)


def pseudo_huber_loss(
    input: Any,
    target: Any,
    reduction: ReductionArgument = "mean",
    delta: float = 1.0,
    weight: torch.Tensor | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
) -> torch.Tensor:
    """`huberish.pseudo_huber_loss` as a torch autograd node (analytic backward)."""
    call = Options.build("pseudo_huber", delta, reduction=reduction, axis=axis, keepdims=keepdims)
    return _apply(input, target, weight, call)


class _Module(torch.nn.Module):
    """The loss modules' shared forward: options validated at construction, `weight` a buffer
    (it follows the module's ``.to()``) broadcastable to the loss shape."""

    weight: torch.Tensor | None

    def __init__(self, options: Options, weight: torch.Tensor | None) -> None:
        super().__init__()
        self._options = options
        self.reduction, self.axis, self.keepdims = options.reduction, options.axis, options.keepdims
        self.register_buffer("weight", weight)

    def forward(self, input: Any, target: Any) -> torch.Tensor:
        return _apply(input, target, self.weight, self._options)

    def extra_repr(self) -> str:
        options = self._options
        text = f"reduction={options.reduction!r}, {options.threshold_name}={options.threshold}"
        return text + (
            f", axis={options.axis!r}, keepdims={options.keepdims}"
            if options.axis is not None
            else ""
        )


class SmoothL1Loss(_Module):
    """``torch.nn.SmoothL1Loss`` with huberish's kernel; validated at construction."""

    def __init__(
        self,
        size_average: Any = None,
        reduce: Any = None,
        reduction: ReductionArgument = "mean",
        beta: float = 1.0,
        weight: torch.Tensor | None = None,
        *,
        axis: Any = None,
        keepdims: bool = False,
    ) -> None:
        options = Options.build(
            "smooth_l1",
            beta,
            reduction=reduction,
            size_average=size_average,
            reduce=reduce,
            axis=axis,
            keepdims=keepdims,
        )
        super().__init__(options, weight)
        self.beta = options.threshold


class HuberLoss(_Module):
    """``torch.nn.HuberLoss`` with huberish's kernel; validated at construction."""

    def __init__(
        self,
        reduction: ReductionArgument = "mean",
        delta: float = 1.0,
        weight: torch.Tensor | None = None,
        *,
        axis: Any = None,
        keepdims: bool = False,
    ) -> None:
        options = Options.build("huber", delta, reduction=reduction, axis=axis, keepdims=keepdims)
        super().__init__(options, weight)
        self.delta = options.threshold


class PseudoHuberLoss(_Module):
    """`huberish.PseudoHuberLoss` as an ``nn.Module``; validated at construction."""

    def __init__(
        self,
        reduction: ReductionArgument = "mean",
        delta: float = 1.0,
        weight: torch.Tensor | None = None,
        *,
        axis: Any = None,
        keepdims: bool = False,
    ) -> None:
        options = Options.build(
            "pseudo_huber", delta, reduction=reduction, axis=axis, keepdims=keepdims
        )
        super().__init__(options, weight)
        self.delta = options.threshold
