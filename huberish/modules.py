"""`SmoothL1Loss`, `HuberLoss` and `PseudoHuberLoss`: torch-style loss classes, validated at
construction."""

from typing import Any

from ._compat import Array, ArrayT, Namespace
from ._docstrings import fill
from ._kernel import LossAndGrad, LossGradHess
from ._reduction import Reduction, ReductionArgument
from ._validate import Options

__all__ = ["HuberLoss", "PseudoHuberLoss", "SmoothL1Loss"]


class _BaseLoss:
    """The classes' shared methods: each runs the instance's validated `Options`."""

    _options: Options

    # Read-only views of the options (documented in the classes' Attributes sections).
    @property
    def reduction(self) -> Reduction:
        return self._options.reduction

    @property
    def axis(self) -> int | tuple[int, ...] | None:
        return self._options.axis

    @property
    def keepdims(self) -> bool:
        return self._options.keepdims

    def forward(
        self,
        input: ArrayT | float,
        target: ArrayT | float,
        weight: Array | None = None,
        *,
        where: Any = None,
        avg_factor: Any = None,
        xp: Namespace | None = None,
    ) -> ArrayT:
        """The loss of `input` against `target`."""
        return self._options.forward(
            input, target, weight, where=where, avg_factor=avg_factor, xp=xp
        )

    __call__ = forward

    def loss_and_grad(
        self,
        input: ArrayT | float,
        target: ArrayT | float,
        weight: Array | None = None,
        *,
        where: Any = None,
        avg_factor: Any = None,
        xp: Namespace | None = None,
    ) -> LossAndGrad[ArrayT]:
        """The loss and its gradient with respect to `input`."""
        return self._options.loss_and_grad(
            input, target, weight, where=where, avg_factor=avg_factor, xp=xp
        )

    def loss_grad_hess(
        self,
        input: ArrayT | float,
        target: ArrayT | float,
        weight: Array | None = None,
        *,
        where: Any = None,
        avg_factor: Any = None,
        xp: Namespace | None = None,
    ) -> LossGradHess[ArrayT]:
        """The loss, its gradient and its Hessian diagonal with respect to `input`."""
        return self._options.loss_grad_hess(
            input, target, weight, where=where, avg_factor=avg_factor, xp=xp
        )

    def backward(
        self,
        grad_output: Any,
        input: ArrayT | float,
        target: ArrayT | float,
        weight: Array | None = None,
        *,
        where: Any = None,
        avg_factor: Any = None,
        xp: Namespace | None = None,
    ) -> tuple[ArrayT, ArrayT]:
        """The gradients of ``sum(grad_output * loss)`` with respect to `input` and `target`."""
        return self._options.backward(
            grad_output, input, target, weight, where=where, avg_factor=avg_factor, xp=xp
        )

    def __repr__(self) -> str:
        options = self._options
        text = f"reduction={options.reduction!r}, {options.threshold_name}={options.threshold!r}"
        if options.axis is not None or options.keepdims:
            text += f", axis={options.axis!r}, keepdims={options.keepdims!r}"
        return f"{type(self).__name__}({text})"


@fill
class SmoothL1Loss(_BaseLoss):
    """Smooth-L1 loss, as ``torch.nn.SmoothL1Loss``, with its analytic gradient and Hessian.

    $smooth_l1_formula

    $class_methods

    Unlike torch, an invalid `reduction` or a negative `beta` raises at construction rather
    than at the first call.

    Parameters
    ----------
    $legacy
    $reduction
    $beta
    $axis

    Attributes
    ----------
    $class_attributes

    See Also
    --------
    smooth_l1_loss, smooth_l1_loss_and_grad, smooth_l1_loss_grad_hess, smooth_l1_loss_backward
    HuberLoss : ``delta * SmoothL1Loss(beta=delta)``.
    PseudoHuberLoss : a smooth Huber loss.

    Notes
    -----
    $family

    Examples
    --------
    >>> import numpy as np
    >>> import huberish as hb
    >>> crit = hb.SmoothL1Loss(beta=0.5)
    >>> crit
    SmoothL1Loss(reduction='mean', beta=0.5)
    >>> crit(np.array([0.25, 2.0]), np.zeros(2))
    np.float64(0.90625)
    >>> crit.loss_and_grad(np.array([0.25, 2.0]), np.zeros(2)).grad
    array([0.25, 0.5 ])
    """

    def __init__(
        self,
        size_average: Any = None,
        reduce: Any = None,
        reduction: ReductionArgument = "mean",
        beta: float | Array = 1.0,
        *,
        axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False,
    ) -> None:
        self._options = Options.build(
            "smooth_l1",
            beta,
            reduction=reduction,
            size_average=size_average,
            reduce=reduce,
            axis=axis,
            keepdims=keepdims,
            held=True,
        )

    @property
    def beta(self) -> float | Array:
        """The threshold between the quadratic and the linear regime."""
        return self._options.threshold


@fill
class HuberLoss(_BaseLoss):
    """Huber loss, as ``torch.nn.HuberLoss``, with its analytic gradient and Hessian.

    $huber_formula

    $class_methods

    Unlike torch, `delta` is checked at construction rather than at the first call.

    Parameters
    ----------
    $reduction
    $delta
    $axis

    Attributes
    ----------
    $class_attributes

    See Also
    --------
    huber_loss, huber_loss_and_grad, huber_loss_grad_hess, huber_loss_backward
    SmoothL1Loss : ``HuberLoss(delta=d) == d * SmoothL1Loss(beta=d)``.
    PseudoHuberLoss : a smooth Huber loss.

    Notes
    -----
    $family

    Examples
    --------
    >>> import numpy as np
    >>> import huberish as hb
    >>> hb.HuberLoss(reduction="sum", delta=2.0)(np.array([1.0, 3.0]), np.zeros(2))
    np.float64(4.5)
    """

    def __init__(
        self,
        reduction: ReductionArgument = "mean",
        delta: float | Array = 1.0,
        *,
        axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False,
    ) -> None:
        self._options = Options.build(
            "huber", delta, reduction=reduction, axis=axis, keepdims=keepdims, held=True
        )

    @property
    def delta(self) -> float | Array:
        """The threshold: the slope of the linear regime and the scale of the transition."""
        return self._options.threshold


@fill
class PseudoHuberLoss(_BaseLoss):
    """Pseudo-Huber loss, the smooth Huber loss, with its analytic gradient and Hessian.

    $pseudo_huber_formula

    $class_methods

    Parameters
    ----------
    $reduction
    $pseudo_delta
    $axis

    Attributes
    ----------
    $class_attributes

    See Also
    --------
    pseudo_huber_loss, pseudo_huber_loss_and_grad, pseudo_huber_loss_grad_hess
    pseudo_huber_loss_backward
    HuberLoss : the loss it smooths.

    Notes
    -----
    $family

    Examples
    --------
    >>> import numpy as np
    >>> import huberish as hb
    >>> hb.PseudoHuberLoss(reduction="sum", axis=1)(np.ones((2, 3)), np.zeros((2, 3)))
    array([1.24264069, 1.24264069])
    """

    def __init__(
        self,
        reduction: ReductionArgument = "mean",
        delta: float | Array = 1.0,
        *,
        axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False,
    ) -> None:
        self._options = Options.build(
            "pseudo_huber", delta, reduction=reduction, axis=axis, keepdims=keepdims, held=True
        )

    @property
    def delta(self) -> float | Array:
        """The threshold: the slope of the linear regime and the scale of the transition."""
        return self._options.threshold
