"""`SmoothL1Loss`, `HuberLoss` and `PseudoHuberLoss`: torch-style loss classes, validated at
construction."""

from typing import Any, ClassVar

from . import functional
from ._compat import Array, Namespace
from ._reduction import Reduction, resolve_reduction
from ._validate import check_axis, check_beta, check_delta

__all__ = ["HuberLoss", "PseudoHuberLoss", "SmoothL1Loss"]


class _Loss:
    """Shared behaviour: each method calls the functional form with the stored options.

    Shapes: `input` and `target` broadcast together (a warning if their shapes differ);
    `weight` broadcasts to their broadcast shape; the loss is 0-d for ``'mean'`` and ``'sum'``
    (or reduced over `axis`) and has the broadcast shape for ``'none'``; gradients and Hessian
    diagonals have the shapes of the operands. The instance holds only its options, so one
    instance may serve many threads.
    """

    reduction: Reduction
    axis: int | tuple[int, ...] | None
    keepdims: bool
    _functions: ClassVar[functional.Functions]

    def _set_reduction(self, reduction: Reduction, axis: Any, keepdims: bool) -> None:
        check_axis(axis, None, reduction)  # the range is checked against each call's shape
        self.reduction, self.axis, self.keepdims = reduction, axis, bool(keepdims)

    def _options(self) -> dict[str, Any]:
        threshold = self._functions.threshold
        options = {"reduction": self.reduction, threshold: getattr(self, threshold)}
        if self.axis is not None or self.keepdims:
            options.update(axis=self.axis, keepdims=self.keepdims)
        return options

    def __call__(
        self, input: Any, target: Any, *, weight: Array | None = None, xp: Namespace | None = None
    ) -> Array:
        """The loss (see `forward`)."""
        return self.forward(input, target, weight=weight, xp=xp)

    def forward(
        self, input: Any, target: Any, *, weight: Array | None = None, xp: Namespace | None = None
    ) -> Array:
        """The loss of `input` against `target`."""
        return self._functions.loss(input, target, weight=weight, xp=xp, **self._options())

    def loss_and_grad(
        self, input: Any, target: Any, *, weight: Array | None = None, xp: Namespace | None = None
    ) -> functional.LossAndGrad:
        """The loss and its gradient with respect to `input`."""
        return self._functions.and_grad(input, target, weight=weight, xp=xp, **self._options())

    def grad_hess(
        self, input: Any, target: Any, *, weight: Array | None = None, xp: Namespace | None = None
    ) -> functional.LossGradHess:
        """The loss, its gradient and its Hessian diagonal with respect to `input`."""
        return self._functions.grad_hess(input, target, weight=weight, xp=xp, **self._options())

    def backward(
        self,
        grad_output: Any,
        input: Any,
        target: Any,
        *,
        weight: Array | None = None,
        xp: Namespace | None = None,
    ) -> tuple[Array, Array]:
        """The gradients of ``sum(grad_output * loss)`` with respect to `input` and `target`."""
        options = self._options()
        return self._functions.backward(grad_output, input, target, weight=weight, xp=xp, **options)

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self._options().items())
        return f"{type(self).__name__}({options})"


class SmoothL1Loss(_Loss):
    """Smooth-L1 loss, as ``torch.nn.SmoothL1Loss``, with its analytic gradient and Hessian.

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
    axis : int or tuple of ints, optional
        Axes that ``'mean'`` and ``'sum'`` reduce; all by default.
    keepdims : bool, optional
        Keep the reduced axes, with size 1.

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

    _functions = functional.FUNCTIONS["smooth_l1"]

    def __init__(
        self,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
        beta: float = 1.0,
        *,
        axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False,
    ) -> None:
        self._set_reduction(resolve_reduction(size_average, reduce, reduction), axis, keepdims)
        self.beta = check_beta(beta)


class HuberLoss(_Loss):
    """Huber loss, as ``torch.nn.HuberLoss``, with its analytic gradient and Hessian.

    `delta` is checked at construction (torch only checks it at the first call).

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}, optional
        How to reduce the per-element losses.
    delta : float, optional
        Threshold between the quadratic and linear regimes, ``> 0``.
    axis : int or tuple of ints, optional
        Axes that ``'mean'`` and ``'sum'`` reduce; all by default.
    keepdims : bool, optional
        Keep the reduced axes, with size 1.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import huberish as hb
    >>> hb.HuberLoss(reduction="sum", delta=2.0)(xp.asarray([1.0, 3.0]), xp.zeros(2))
    Array(4.5, dtype=array_api_strict.float64)
    """

    _functions = functional.FUNCTIONS["huber"]

    def __init__(
        self,
        reduction: str = "mean",
        delta: float = 1.0,
        *,
        axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False,
    ) -> None:
        self._set_reduction(resolve_reduction(reduction=reduction), axis, keepdims)
        self.delta = check_delta(delta)


class PseudoHuberLoss(_Loss):
    """Pseudo-Huber loss ``delta**2 * (sqrt(1 + (d / delta)**2) - 1)``, with gradient and Hessian.

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}, optional
        How to reduce the per-element losses.
    delta : float, optional
        Scale of the transition from quadratic to linear, ``> 0``.
    axis : int or tuple of ints, optional
        Axes that ``'mean'`` and ``'sum'`` reduce; all by default.
    keepdims : bool, optional
        Keep the reduced axes, with size 1.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import huberish as hb
    >>> hb.PseudoHuberLoss(reduction="sum", axis=1)(xp.ones((2, 3)), xp.zeros((2, 3)))
    Array([1.24264069, 1.24264069], dtype=array_api_strict.float64)
    """

    _functions = functional.FUNCTIONS["pseudo_huber"]

    def __init__(
        self,
        reduction: str = "mean",
        delta: float = 1.0,
        *,
        axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False,
    ) -> None:
        self._set_reduction(resolve_reduction(reduction=reduction), axis, keepdims)
        self.delta = check_delta(delta)
