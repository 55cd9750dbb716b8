"""A loss with its validated options (`Options`), and the calls that run it.

The public functions validate their options along with their operands, in torch's order, with
`validate_call`; the classes and the framework adapters build an `Options` once, with
`Options.build`, and call its methods. Both then run the kernel (`huberish._core.evaluate`)
through `compute_loss`, `compute_loss_and_grad`, `compute_loss_grad_hess` or `compute_backward`.
"""

import functools
from typing import Any, Generic, NamedTuple

from ._compat import Array, ArrayT, Namespace
from ._core import evaluate
from ._reduction import Reduction, ReductionArgument, resolve_reduction
from ._terms import LossName
from ._validate import (
    Operands,
    Request,
    broadcast_shape,
    check_axis,
    check_grad_output,
    check_keepdims,
    check_operands,
    check_threshold,
    normalise_axis,
    request,
)

__all__ = [
    "LossAndGrad",
    "LossGradHess",
    "Options",
    "compute_backward",
    "compute_loss",
    "compute_loss_and_grad",
    "compute_loss_grad_hess",
    "validate_call",
]


class LossAndGrad(NamedTuple, Generic[ArrayT]):
    """The loss and its gradient with respect to `input`."""

    loss: ArrayT
    """The reduced loss (0-d for 'mean' and 'sum' over all axes), or the per-element losses."""
    grad: ArrayT
    """d sum(loss) / d input, with the shape and dtype of `input`."""


class LossGradHess(NamedTuple, Generic[ArrayT]):
    """The loss, its gradient and the diagonal of its Hessian with respect to `input`."""

    loss: ArrayT
    """The reduced loss, as `LossAndGrad.loss`."""
    grad: ArrayT
    """d sum(loss) / d input, with the shape and dtype of `input`."""
    hess: ArrayT
    """d^2 sum(loss) / d input_i^2, with the shape and dtype of `input`."""


class Options(NamedTuple):
    """A loss and its validated options: build with `Options.build`, then call the methods.

    Hashable and immutable, so that it can be a static argument of ``jax.custom_vjp`` and a
    constant for ``torch.compile``. The methods validate the operands (and `axis` against their
    shape) and run the kernel; the options themselves are not checked again.
    """

    loss: LossName
    """``'smooth_l1'``, ``'huber'`` or ``'pseudo_huber'``."""
    threshold: float
    """Smooth L1's `beta`, or the `delta` of Huber and pseudo-Huber."""
    reduction: Reduction
    """``'none'``, ``'mean'`` or ``'sum'``."""
    axis: int | tuple[int, ...] | None = None
    """The axes that 'mean' and 'sum' reduce, as given (their range depends on the operands)."""
    keepdims: bool = False
    """Whether the reduced axes are kept, with size 1."""

    @classmethod
    def build(
        cls,
        loss: LossName,
        threshold: Any,
        *,
        reduction: ReductionArgument = "mean",
        size_average: Any = None,
        reduce: Any = None,
        axis: Any = None,
        keepdims: bool = False,
    ) -> "Options":
        """Validate the options: the reduction (torch's legacy arguments included, with their
        warnings), the types of `axis`, `keepdims`, then the threshold."""
        resolved = resolve_reduction(size_average, reduce, reduction)
        check_axis(axis, reduction=resolved)  # the range: at each call, `normalise_axis`
        check_keepdims(keepdims)
        return cls(loss, check_threshold(loss, threshold), resolved, axis, keepdims=bool(keepdims))

    @property
    def threshold_name(self) -> str:
        """The name of the threshold argument: ``'beta'`` for smooth L1, else ``'delta'``."""
        return "beta" if self.loss == "smooth_l1" else "delta"

    def prepare(
        self,
        input: ArrayT | float,
        target: ArrayT | float,
        weight: Any = None,
        grad_output: Any = None,
        *,
        xp: Namespace | None = None,
    ) -> Request[ArrayT]:
        """The validated request for these operands (`grad_output` for a backward pass)."""
        operands = check_operands(input, target, weight, grad_output, xp=xp)
        shape = broadcast_shape(operands)
        axes = normalise_axis(self.axis, ndim=len(shape))
        return self._request(operands, shape, axes)

    def _request(
        self, operands: Operands, shape: tuple[int, ...], axes: tuple[int, ...] | None
    ) -> Request[Any]:
        return request(
            operands,
            shape=shape,
            loss=self.loss,
            threshold=self.threshold,
            reduction=self.reduction,
            axis=axes,
            keepdims=self.keepdims,
        )

    def forward(
        self,
        input: ArrayT | float,
        target: ArrayT | float,
        weight: Array | None = None,
        *,
        xp: Namespace | None = None,
    ) -> ArrayT:
        """The loss."""
        return compute_loss(self.prepare(input, target, weight, xp=xp))

    def loss_and_grad(
        self,
        input: ArrayT | float,
        target: ArrayT | float,
        weight: Array | None = None,
        *,
        xp: Namespace | None = None,
    ) -> LossAndGrad[ArrayT]:
        """The loss and its gradient with respect to `input`."""
        return compute_loss_and_grad(self.prepare(input, target, weight, xp=xp))

    def loss_grad_hess(
        self,
        input: ArrayT | float,
        target: ArrayT | float,
        weight: Array | None = None,
        *,
        xp: Namespace | None = None,
    ) -> LossGradHess[ArrayT]:
        """The loss, its gradient and its Hessian diagonal with respect to `input`."""
        return compute_loss_grad_hess(self.prepare(input, target, weight, xp=xp))

    def backward(
        self,
        grad_output: Any,
        input: ArrayT | float,
        target: ArrayT | float,
        weight: Array | None = None,
        *,
        xp: Namespace | None = None,
    ) -> tuple[ArrayT, ArrayT]:
        """The gradients of ``sum(grad_output * loss)`` for `input` and `target`."""
        check_grad_output(grad_output)
        return compute_backward(self.prepare(input, target, weight, grad_output, xp=xp))


def validate_call(
    loss: LossName,
    threshold: Any,
    input: ArrayT | float,
    target: ArrayT | float,
    weight: Any = None,
    grad_output: Any = None,
    *,
    size_average: Any = None,
    reduce: Any = None,
    reduction: ReductionArgument,
    axis: Any,
    keepdims: bool,
    xp: Namespace | None,
) -> Request[ArrayT]:
    """Validate a public function's call, options included, in torch's order of checks.

    Order: argument types and dtypes; the shape-mismatch warning; legacy arguments;
    broadcasting; the reduction string; `axis`; `keepdims`; the threshold; `weight` and
    `grad_output`.
    """
    operands = check_operands(input, target, weight, grad_output, xp=xp)
    if size_average is not None or reduce is not None:  # torch: legacy, then broadcasting
        reduction = resolve_reduction(size_average, reduce, reduction)
    shape = broadcast_shape(operands)
    if axis is None and _usual(threshold, reduction, keepdims):
        return _usual_options(loss, threshold, reduction, keepdims)._request(operands, shape, None)
    resolved = resolve_reduction(reduction=reduction)  # then the reduction string
    check_axis(axis, reduction=resolved)
    axes = normalise_axis(axis, ndim=len(shape))
    check_keepdims(keepdims)
    options = Options(
        loss, check_threshold(loss, threshold), resolved, axis, keepdims=bool(keepdims)
    )
    return options._request(operands, shape, axes)


def _usual(threshold: Any, reduction: Any, keepdims: Any) -> bool:
    """Whether these settings may come from `_usual_options`' cache: the usual types and
    values (a positive float threshold: 0.0 and -0.0 would share an entry; a reduction that
    does not warn, since a remembered call would not warn again)."""
    return (
        type(threshold) is float
        and threshold > 0.0
        and type(reduction) is str
        and reduction in ("mean", "sum", "none")
        and type(keepdims) is bool
    )


@functools.lru_cache(maxsize=64)
def _usual_options(
    loss: LossName, threshold: float, reduction: ReductionArgument, keepdims: bool
) -> Options:
    """`Options.build` (the settings' checks of `validate_call`, in its order) with
    ``axis=None``, remembered for the usual settings (a small call spends a tenth of its time on
    them); a failing check raises, and is not remembered."""
    return Options.build(loss, threshold, reduction=reduction, keepdims=keepdims)


def compute_loss(request: Request[ArrayT]) -> ArrayT:
    """The reduced loss of a validated request."""
    loss: ArrayT = evaluate(request)[0]
    return loss


def compute_loss_and_grad(request: Request[ArrayT]) -> LossAndGrad[ArrayT]:
    """The loss and its gradient with respect to `input`."""
    loss, (grad,) = evaluate(request, gradients=("input",))
    return LossAndGrad(loss, grad)


def compute_loss_grad_hess(request: Request[ArrayT]) -> LossGradHess[ArrayT]:
    """The loss, its gradient and its Hessian diagonal with respect to `input`."""
    loss, (grad, hess) = evaluate(request, gradients=("input",), hessian=True)
    return LossGradHess(loss, grad, hess)


def compute_backward(request: Request[ArrayT]) -> tuple[ArrayT, ArrayT]:
    """The gradients of ``sum(grad_output * loss)`` for `input` and `target`."""
    _, (grad_input, grad_target) = evaluate(request, loss=False, gradients=("input", "target"))
    return grad_input, grad_target
