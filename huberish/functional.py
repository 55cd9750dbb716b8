"""Smooth-L1 and Huber losses, their gradients and backward passes: thin wrappers over the kernel.

Every function validates its arguments (`huberish._validate.prepare`), then calls the one generic
kernel (`huberish._core.evaluate`). Huber is ``delta * smooth_l1(beta=delta)``.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

from ._compat import Array, Namespace
from ._core import evaluate
from ._docstrings import fill
from ._validate import Request, prepare

__all__ = [
    "LossAndGrad",
    "huber_loss",
    "huber_loss_and_grad",
    "huber_loss_backward",
    "smooth_l1_loss",
    "smooth_l1_loss_and_grad",
    "smooth_l1_loss_backward",
]


def _smooth_l1(
    input: Any,
    target: Any,
    size_average: Any,
    reduce: Any,
    reduction: Any,
    beta: Any,
    weight: Any,
    xp: Namespace | None,
    grad_output: Any = None,
) -> tuple[Request, Any]:
    return prepare(
        input,
        target,
        kind="smooth_l1",
        threshold=beta,
        reduction=reduction,
        size_average=size_average,
        reduce=reduce,
        weight=weight,
        grad_output=grad_output,
        xp=xp,
    )


def _huber(
    input: Any,
    target: Any,
    reduction: Any,
    delta: Any,
    weight: Any,
    xp: Namespace | None,
    grad_output: Any = None,
) -> tuple[Request, Any]:
    return prepare(
        input,
        target,
        kind="huber",
        threshold=delta,
        reduction=reduction,
        weight=weight,
        grad_output=grad_output,
        xp=xp,
    )


def _backward(request: Request, grad_output: Any) -> tuple[Array, Array]:
    _, (grad_input, grad_target) = evaluate(
        request, grad_output, loss=False, gradients=("input", "target")
    )
    return grad_input, grad_target


class LossAndGrad(NamedTuple):
    """The loss and its gradient with respect to `input`."""

    loss: Array
    """The reduced loss (0-d for 'mean' and 'sum'), or the per-element losses for 'none'."""
    grad: Array
    """d loss / d input (for 'none': of ``sum(loss)``), with the shape and dtype of `input`."""


@fill
def smooth_l1_loss(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    beta: float = 1.0,
    *,
    weight: Array | None = None,
    xp: Namespace | None = None,
) -> Array:
    """Smooth-L1 loss, as ``torch.nn.functional.smooth_l1_loss``.

    Per element, with ``d = input - target``: ``0.5 * d**2 / beta`` where ``|d| < beta``, else
    ``|d| - 0.5 * beta``.

    Parameters
    ----------
    $operands
    $legacy
    $reduction
    $beta
    $weight
    $xp

    Returns
    -------
    array
        The loss: 0-d for ``'mean'`` and ``'sum'`` (a NumPy scalar on NumPy), the broadcast
        shape for ``'none'``. Its dtype is the promoted dtype of `input` and `target`.

    $raises

    See Also
    --------
    smooth_l1_loss_and_grad : the loss and its gradient in one call.
    huber_loss : ``delta * smooth_l1_loss(beta=delta)``.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import huberish as hb
    >>> x = xp.asarray([0.0, 0.5, 3.0])
    >>> y = xp.zeros(3)
    >>> hb.smooth_l1_loss(x, y, reduction="none")
    Array([0.   , 0.125, 2.5  ], dtype=array_api_strict.float64)
    >>> hb.smooth_l1_loss(x, y)
    Array(0.875, dtype=array_api_strict.float64)
    """
    request, _ = _smooth_l1(input, target, size_average, reduce, reduction, beta, weight, xp)
    return evaluate(request)[0]


@fill
def huber_loss(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Array | None = None,
    *,
    xp: Namespace | None = None,
) -> Array:
    """Huber loss, as ``torch.nn.functional.huber_loss``.

    Per element, with ``d = input - target``: ``0.5 * d**2`` where ``|d| < delta``, else
    ``delta * (|d| - 0.5 * delta)``; that is, ``delta * smooth_l1_loss(beta=delta)``.

    Parameters
    ----------
    $operands
    $reduction
    $delta
    $weight
    $xp

    Returns
    -------
    array
        The loss: 0-d for ``'mean'`` and ``'sum'`` (a NumPy scalar on NumPy), the broadcast
        shape for ``'none'``. Its dtype is the promoted dtype of `input` and `target` (torch
        keeps `input`'s dtype instead).

    $raises

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import huberish as hb
    >>> x = xp.asarray([0.0, 0.5, 3.0])
    >>> hb.huber_loss(x, xp.zeros(3), reduction="none", delta=2.0)
    Array([0.   , 0.125, 4.   ], dtype=array_api_strict.float64)
    """
    request, _ = _huber(input, target, reduction, delta, weight, xp)
    return evaluate(request)[0]


@fill
def smooth_l1_loss_and_grad(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    beta: float = 1.0,
    *,
    weight: Array | None = None,
    xp: Namespace | None = None,
) -> LossAndGrad:
    """Smooth-L1 loss and its analytic gradient with respect to `input`, in one pass.

    The gradient per element is ``d / beta`` where ``|d| < beta``, else ``sign(d)``, times the
    weight, divided by the number of elements for ``'mean'``. For ``'none'`` it is the gradient
    of ``sum(loss)``. The gradient with respect to `target` is its negative (summed to
    `target`'s shape: see `smooth_l1_loss_backward`).

    Parameters
    ----------
    $operands
    $legacy
    $reduction
    $beta
    $weight
    $xp

    Returns
    -------
    LossAndGrad
        ``(loss, grad)``: the loss as `smooth_l1_loss` returns it, and the gradient with the
        shape and dtype of `input` (summed over the axes along which `input` was broadcast).

    $raises

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import huberish as hb
    >>> x = xp.asarray([0.0, 0.5, 3.0])
    >>> loss, grad = hb.smooth_l1_loss_and_grad(x, xp.zeros(3), reduction="sum")
    >>> loss
    Array(2.625, dtype=array_api_strict.float64)
    >>> grad
    Array([0. , 0.5, 1. ], dtype=array_api_strict.float64)
    """
    request, _ = _smooth_l1(input, target, size_average, reduce, reduction, beta, weight, xp)
    loss, (grad,) = evaluate(request, gradients=("input",))
    return LossAndGrad(loss, grad)


@fill
def huber_loss_and_grad(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Array | None = None,
    *,
    xp: Namespace | None = None,
) -> LossAndGrad:
    """Huber loss and its analytic gradient with respect to `input`, in one pass.

    The gradient per element is ``clip(d, -delta, delta)``, times the weight, divided by the
    number of elements for ``'mean'``; for ``'none'`` it is the gradient of ``sum(loss)``.

    Parameters
    ----------
    $operands
    $reduction
    $delta
    $weight
    $xp

    Returns
    -------
    LossAndGrad
        ``(loss, grad)``: the loss as `huber_loss` returns it, and the gradient with the shape
        and dtype of `input`.

    $raises

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import huberish as hb
    >>> x = xp.asarray([0.0, 0.5, 3.0])
    >>> hb.huber_loss_and_grad(x, xp.zeros(3), delta=2.0).grad
    Array([0.        , 0.16666667, 0.66666667], dtype=array_api_strict.float64)
    """
    request, _ = _huber(input, target, reduction, delta, weight, xp)
    loss, (grad,) = evaluate(request, gradients=("input",))
    return LossAndGrad(loss, grad)


@fill
def smooth_l1_loss_backward(
    grad_output: Any,
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    beta: float = 1.0,
    *,
    weight: Array | None = None,
    xp: Namespace | None = None,
) -> tuple[Array, Array]:
    """Backward pass of `smooth_l1_loss`: the gradients of ``grad_output * loss``.

    This is what an autodiff framework calls (``torch.ops.aten.smooth_l1_loss_backward``):
    vector-Jacobian products for both operands. Like torch's backward ops, it does not warn when
    the operands' shapes differ (the forward pass did).

    Parameters
    ----------
    $grad_output
    $operands
    $legacy
    $reduction
    $beta
    $weight
    $xp

    Returns
    -------
    grad_input, grad_target : array
        Gradients with the shapes (summed over broadcast axes) and floating dtypes of `input`
        and `target`; ``grad_target`` is ``-grad_input`` before that summation.

    $raises

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import huberish as hb
    >>> x = xp.asarray([0.0, 0.5, 3.0])
    >>> gx, gy = hb.smooth_l1_loss_backward(xp.asarray(2.0), x, 0.0, reduction="sum")
    >>> gx
    Array([0., 1., 2.], dtype=array_api_strict.float64)
    >>> gy  # a scalar target gets a 0-d gradient
    Array(-3., dtype=array_api_strict.float64)
    """
    request, grad_output = _smooth_l1(
        input, target, size_average, reduce, reduction, beta, weight, xp, grad_output
    )
    return _backward(request, grad_output)


@fill
def huber_loss_backward(
    grad_output: Any,
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Array | None = None,
    *,
    xp: Namespace | None = None,
) -> tuple[Array, Array]:
    """Backward pass of `huber_loss`: the gradients of ``grad_output * loss``.

    Parameters
    ----------
    $grad_output
    $operands
    $reduction
    $delta
    $weight
    $xp

    Returns
    -------
    grad_input, grad_target : array
        Gradients with the shapes (summed over broadcast axes) and floating dtypes of `input`
        and `target`.

    $raises

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import huberish as hb
    >>> x = xp.asarray([0.0, 0.5, 3.0])
    >>> gx, gy = hb.huber_loss_backward(1.0, x, xp.zeros(3), reduction="sum")
    >>> gx
    Array([0. , 0.5, 1. ], dtype=array_api_strict.float64)
    """
    request, grad_output = _huber(input, target, reduction, delta, weight, xp, grad_output)
    return _backward(request, grad_output)


class _Loss(NamedTuple):
    forward: Callable[..., Array]
    backward: Callable[..., tuple[Array, Array]]
    threshold: str


LOSSES = {
    "smooth_l1": _Loss(smooth_l1_loss, smooth_l1_loss_backward, "beta"),
    "huber": _Loss(huber_loss, huber_loss_backward, "delta"),
}
"""For the framework adapters: each loss's forward and backward functions and threshold name."""
