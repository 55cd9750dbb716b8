"""`SmoothL1Loss` and `HuberLoss`: torch's loss classes, validated at construction."""

from collections.abc import Callable
from typing import Any, ClassVar

from . import functional
from ._compat import Array, Namespace
from ._reduction import Reduction, resolve_reduction
from ._validate import check_beta, check_delta

__all__ = ["HuberLoss", "SmoothL1Loss"]


class _Loss:
    """Shared behaviour: each method calls the functional form with the stored options.

    Shapes: `input` and `target` broadcast together (a warning if their shapes differ);
    `weight` broadcasts to their broadcast shape; the loss is 0-d for ``'mean'`` and ``'sum'``
    and has the broadcast shape for ``'none'``; gradients have the shapes of the operands.
    The instance holds only its options, so one instance may serve many threads.
    """

    reduction: Reduction
    _threshold_name: ClassVar[str]
    _functions: ClassVar[
        tuple[
            Callable[..., Array],
            Callable[..., functional.LossAndGrad],
            Callable[..., tuple[Array, Array]],
        ]
    ]

    def _options(self) -> dict[str, Any]:
        threshold = self._threshold_name
        return {"reduction": self.reduction, threshold: getattr(self, threshold)}

    def __call__(
        self, input: Any, target: Any, *, weight: Array | None = None, xp: Namespace | None = None
    ) -> Array:
        """The loss (see `forward`)."""
        return self.forward(input, target, weight=weight, xp=xp)

    def forward(
        self, input: Any, target: Any, *, weight: Array | None = None, xp: Namespace | None = None
    ) -> Array:
        """The loss of `input` against `target`."""
        return self._functions[0](input, target, weight=weight, xp=xp, **self._options())

    def loss_and_grad(
        self, input: Any, target: Any, *, weight: Array | None = None, xp: Namespace | None = None
    ) -> functional.LossAndGrad:
        """The loss and its gradient with respect to `input`."""
        return self._functions[1](input, target, weight=weight, xp=xp, **self._options())

    def backward(
        self,
        grad_output: Any,
        input: Any,
        target: Any,
        *,
        weight: Array | None = None,
        xp: Namespace | None = None,
    ) -> tuple[Array, Array]:
        """The gradients of ``grad_output * loss`` with respect to `input` and `target`."""
        return self._functions[2](
            grad_output, input, target, weight=weight, xp=xp, **self._options()
        )

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self._options().items())
        return f"{type(self).__name__}({options})"


class SmoothL1Loss(_Loss):
    """Smooth-L1 loss, as ``torch.nn.SmoothL1Loss``, with its analytic gradient.

    Unlike torch, the arguments are checked here, at construction: an invalid `reduction` or a
    negative `beta` raises at once rather than at the first call.

    Parameters
    ----------
    size_average, reduce : bool or None, optional
        Deprecated torch arguments; see `resolve_reduction`.
    reduction : {'mean', 'sum', 'none'}, optional
        How to reduce the per-element losses.
    beta : float, optional
        Threshold between the quadratic and linear regimes, ``>= 0`` (0 is exact L1).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import huberish as hb
    >>> crit = hb.SmoothL1Loss(beta=0.5)
    >>> crit
    SmoothL1Loss(reduction='mean', beta=0.5)
    >>> crit(xp.asarray([0.25, 2.0]), xp.zeros(2))
    Array(0.90625, dtype=array_api_strict.float64)
    >>> crit.loss_and_grad(xp.asarray([0.25, 2.0]), xp.zeros(2)).grad
    Array([0.25, 0.5 ], dtype=array_api_strict.float64)
    """

    _threshold_name = "beta"
    _functions = (
        functional.smooth_l1_loss,
        functional.smooth_l1_loss_and_grad,
        functional.smooth_l1_loss_backward,
    )

    def __init__(
        self,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        self.reduction = resolve_reduction(size_average, reduce, reduction)
        self.beta = check_beta(beta)


class HuberLoss(_Loss):
    """Huber loss, as ``torch.nn.HuberLoss``, with its analytic gradient.

    `delta` is checked at construction (torch only checks it at the first call).

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}, optional
        How to reduce the per-element losses.
    delta : float, optional
        Threshold between the quadratic and linear regimes, ``> 0``.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import huberish as hb
    >>> hb.HuberLoss(reduction="sum", delta=2.0)(xp.asarray([1.0, 3.0]), xp.zeros(2))
    Array(4.5, dtype=array_api_strict.float64)
    """

    _threshold_name = "delta"
    _functions = (
        functional.huber_loss,
        functional.huber_loss_and_grad,
        functional.huber_loss_backward,
    )

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        self.reduction = resolve_reduction(reduction=reduction)
        self.delta = check_delta(delta)
