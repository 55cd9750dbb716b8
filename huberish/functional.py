"""Smooth-L1, Huber and pseudo-Huber losses with gradients, Hessians and backward passes.

Every function validates its arguments (`huberish._validate.prepare`), then calls the one generic
kernel (`huberish._core.evaluate`). Huber is ``delta * smooth_l1(beta=delta)``.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

from ._compat import Array, Namespace
from ._core import evaluate
from ._docstrings import fill
from ._validate import Kind, Request, prepare

__all__ = [
    "FUNCTIONS",
    "Functions",
    "LossAndGrad",
    "LossCall",
    "LossGradHess",
    "huber_loss",
    "huber_loss_and_grad",
    "huber_loss_backward",
    "huber_loss_grad_hess",
    "pseudo_huber_loss",
    "pseudo_huber_loss_and_grad",
    "pseudo_huber_loss_backward",
    "pseudo_huber_loss_grad_hess",
    "smooth_l1_loss",
    "smooth_l1_loss_and_grad",
    "smooth_l1_loss_backward",
    "smooth_l1_loss_grad_hess",
]


def _prepare(
    kind: Kind, threshold: Any, input: Any, target: Any, options: dict[str, Any]
) -> tuple[Request, Any]:
    return prepare(input, target, kind=kind, threshold=threshold, **options)


def _loss(kind: Kind, threshold: Any, input: Any, target: Any, **options: Any) -> Array:
    request, _ = _prepare(kind, threshold, input, target, options)
    return evaluate(request)[0]


def _loss_and_grad(
    kind: Kind, threshold: Any, input: Any, target: Any, **options: Any
) -> "LossAndGrad":
    request, _ = _prepare(kind, threshold, input, target, options)
    loss, (grad,) = evaluate(request, gradients=("input",))
    return LossAndGrad(loss, grad)


def _grad_hess(
    kind: Kind, threshold: Any, input: Any, target: Any, **options: Any
) -> "LossGradHess":
    request, _ = _prepare(kind, threshold, input, target, options)
    loss, (grad, hess) = evaluate(request, gradients=("input",), hessian=True)
    return LossGradHess(loss, grad, hess)


def _backward(
    kind: Kind, threshold: Any, grad_output: Any, input: Any, target: Any, **options: Any
) -> tuple[Array, Array]:
    if grad_output is None:  # (None elsewhere means "no grad_output": a forward call)
        msg = "`grad_output` must be an array or a Python int or float; got NoneType."
        raise TypeError(msg)
    options["grad_output"] = grad_output
    request, grad_output = _prepare(kind, threshold, input, target, options)
    _, (grad_input, grad_target) = evaluate(
        request, grad_output, loss=False, gradients=("input", "target")
    )
    return grad_input, grad_target


class LossAndGrad(NamedTuple):
    """The loss and its gradient with respect to `input`."""

    loss: Array
    """The reduced loss (0-d for 'mean' and 'sum' over all axes), or the per-element losses."""
    grad: Array
    """d sum(loss) / d input, with the shape and dtype of `input`."""


class LossGradHess(NamedTuple):
    """The loss, its gradient and the diagonal of its Hessian with respect to `input`."""

    loss: Array
    """The reduced loss, as `LossAndGrad.loss`."""
    grad: Array
    """d sum(loss) / d input, with the shape and dtype of `input`."""
    hess: Array
    """d^2 sum(loss) / d input_i^2, with the shape and dtype of `input`."""


# --- smooth L1 -------------------------------------------------------------------------------


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
    axis: Any = None,
    keepdims: bool = False,
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
    $axis
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
    >>> import numpy as np
    >>> import huberish as hb
    >>> x = np.asarray([0.0, 0.5, 3.0])
    >>> y = np.zeros(3)
    >>> hb.smooth_l1_loss(x, y, reduction="none")
    array([0.   , 0.125, 2.5  ])
    >>> hb.smooth_l1_loss(x, y, reduction="sum")
    np.float64(2.625)
    """
    return _loss(
        "smooth_l1",
        beta,
        input,
        target,
        size_average=size_average,
        reduce=reduce,
        reduction=reduction,
        weight=weight,
        axis=axis,
        keepdims=keepdims,
        xp=xp,
    )


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
    axis: Any = None,
    keepdims: bool = False,
    xp: Namespace | None = None,
) -> LossAndGrad:
    """Smooth-L1 loss and its analytic gradient with respect to `input`, in one pass.

    The gradient per element is ``d / beta`` where ``|d| < beta``, else ``sign(d)``, times the
    weight, divided by the number of elements averaged over for ``'mean'``. For a loss that is
    not a scalar (``'none'``, or `axis`) it is the gradient of ``sum(loss)``. The gradient with
    respect to `target` is its negative (see `smooth_l1_loss_backward`).

    Parameters
    ----------
    $operands
    $legacy
    $reduction
    $beta
    $weight
    $axis
    $xp

    Returns
    -------
    LossAndGrad
        ``(loss, grad)``: the loss as `smooth_l1_loss` returns it, and the gradient with the
        shape and dtype of `input` (summed over the axes along which `input` was broadcast).

    $raises

    Examples
    --------
    >>> import numpy as np
    >>> import huberish as hb
    >>> x = np.asarray([0.0, 0.5, 3.0])
    >>> loss, grad = hb.smooth_l1_loss_and_grad(x, np.zeros(3), reduction="sum")
    >>> loss
    np.float64(2.625)
    >>> grad
    array([0. , 0.5, 1. ])
    """
    return _loss_and_grad(
        "smooth_l1",
        beta,
        input,
        target,
        size_average=size_average,
        reduce=reduce,
        reduction=reduction,
        weight=weight,
        axis=axis,
        keepdims=keepdims,
        xp=xp,
    )


@fill
def smooth_l1_loss_grad_hess(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    beta: float = 1.0,
    *,
    weight: Array | None = None,
    axis: Any = None,
    keepdims: bool = False,
    xp: Namespace | None = None,
) -> LossGradHess:
    """Smooth-L1 loss, its gradient and its Hessian diagonal with respect to `input`.

    The second derivative follows torch's double backward: ``1 / beta`` strictly inside
    ``|d| < beta``, 0 outside and at the boundary, and 0 everywhere for ``beta == 0`` (times the
    weight, divided by the count for ``'mean'``). NaN residuals give NaN.

    Parameters
    ----------
    $operands
    $legacy
    $reduction
    $beta
    $weight
    $axis
    $xp

    Returns
    -------
    LossGradHess
        ``(loss, grad, hess)``: as `smooth_l1_loss_and_grad`, and the Hessian diagonal with the
        shape and dtype of `input`.

    $raises

    Examples
    --------
    >>> import numpy as np
    >>> import huberish as hb
    >>> x = np.asarray([0.0, 0.5, 3.0])
    >>> hb.smooth_l1_loss_grad_hess(x, np.zeros(3), reduction="sum", beta=2.0).hess
    array([0.5, 0.5, 0. ])
    """
    return _grad_hess(
        "smooth_l1",
        beta,
        input,
        target,
        size_average=size_average,
        reduce=reduce,
        reduction=reduction,
        weight=weight,
        axis=axis,
        keepdims=keepdims,
        xp=xp,
    )


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
    axis: Any = None,
    keepdims: bool = False,
    xp: Namespace | None = None,
) -> tuple[Array, Array]:
    """Backward pass of `smooth_l1_loss`: the gradients of ``sum(grad_output * loss)``.

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
    $axis
    $xp

    Returns
    -------
    grad_input, grad_target : array
        Gradients with the shapes (summed over broadcast axes) and floating dtypes of `input`
        and `target`; ``grad_target`` is ``-grad_input`` before that summation.

    $raises

    Examples
    --------
    >>> import numpy as np
    >>> import huberish as hb
    >>> x = np.asarray([0.0, 0.5, 3.0])
    >>> gx, gy = hb.smooth_l1_loss_backward(np.asarray(2.0), x, 0.0, reduction="sum")
    >>> gx
    array([0., 1., 2.])
    >>> gy  # a scalar target gets a 0-d gradient
    np.float64(-3.0)
    """
    return _backward(
        "smooth_l1",
        beta,
        grad_output,
        input,
        target,
        size_average=size_average,
        reduce=reduce,
        reduction=reduction,
        weight=weight,
        axis=axis,
        keepdims=keepdims,
        xp=xp,
    )


# --- Huber -----------------------------------------------------------------------------------


@fill
def huber_loss(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
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
    $axis
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
    >>> import numpy as np
    >>> import huberish as hb
    >>> x = np.asarray([0.0, 0.5, 3.0])
    >>> hb.huber_loss(x, np.zeros(3), reduction="none", delta=2.0)
    array([0.   , 0.125, 4.   ])
    """
    return _loss(
        "huber",
        delta,
        input,
        target,
        reduction=reduction,
        weight=weight,
        axis=axis,
        keepdims=keepdims,
        xp=xp,
    )


@fill
def huber_loss_and_grad(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    xp: Namespace | None = None,
) -> LossAndGrad:
    """Huber loss and its analytic gradient with respect to `input`, in one pass.

    The gradient per element is ``clip(d, -delta, delta)``, times the weight, divided by the
    count for ``'mean'``; for a loss that is not a scalar it is the gradient of ``sum(loss)``.

    Parameters
    ----------
    $operands
    $reduction
    $delta
    $weight
    $axis
    $xp

    Returns
    -------
    LossAndGrad
        ``(loss, grad)``: the loss as `huber_loss` returns it, and the gradient with the shape
        and dtype of `input`.

    $raises

    Examples
    --------
    >>> import numpy as np
    >>> import huberish as hb
    >>> x = np.asarray([0.0, 0.5, 3.0])
    >>> hb.huber_loss_and_grad(x, np.zeros(3), delta=2.0).grad
    array([0.        , 0.16666667, 0.66666667])
    """
    return _loss_and_grad(
        "huber",
        delta,
        input,
        target,
        reduction=reduction,
        weight=weight,
        axis=axis,
        keepdims=keepdims,
        xp=xp,
    )


@fill
def huber_loss_grad_hess(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    xp: Namespace | None = None,
) -> LossGradHess:
    """Huber loss, its gradient and its Hessian diagonal with respect to `input`.

    The second derivative is 1 strictly inside ``|d| < delta``, 0 outside and at the boundary
    (torch's double backward), times the weight, divided by the count for ``'mean'``.

    Parameters
    ----------
    $operands
    $reduction
    $delta
    $weight
    $axis
    $xp

    Returns
    -------
    LossGradHess
        ``(loss, grad, hess)``, the gradient and Hessian diagonal with the shape and dtype of
        `input`.

    $raises

    Examples
    --------
    >>> import numpy as np
    >>> import huberish as hb
    >>> x = np.asarray([0.0, 0.5, 3.0])
    >>> hb.huber_loss_grad_hess(x, np.zeros(3), reduction="sum").hess
    array([1., 1., 0.])
    """
    return _grad_hess(
        "huber",
        delta,
        input,
        target,
        reduction=reduction,
        weight=weight,
        axis=axis,
        keepdims=keepdims,
        xp=xp,
    )


@fill
def huber_loss_backward(
    grad_output: Any,
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    xp: Namespace | None = None,
) -> tuple[Array, Array]:
    """Backward pass of `huber_loss`: the gradients of ``sum(grad_output * loss)``.

    Parameters
    ----------
    $grad_output
    $operands
    $reduction
    $delta
    $weight
    $axis
    $xp

    Returns
    -------
    grad_input, grad_target : array
        Gradients with the shapes (summed over broadcast axes) and floating dtypes of `input`
        and `target`.

    $raises

    Examples
    --------
    >>> import numpy as np
    >>> import huberish as hb
    >>> x = np.asarray([0.0, 0.5, 3.0])
    >>> gx, gy = hb.huber_loss_backward(1.0, x, np.zeros(3), reduction="sum")
    >>> gx
    array([0. , 0.5, 1. ])
    """
    return _backward(
        "huber",
        delta,
        grad_output,
        input,
        target,
        reduction=reduction,
        weight=weight,
        axis=axis,
        keepdims=keepdims,
        xp=xp,
    )


# --- pseudo-Huber ----------------------------------------------------------------------------


@fill
def pseudo_huber_loss(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    xp: Namespace | None = None,
) -> Array:
    """Pseudo-Huber loss: the smooth member of the family, as gradient-boosting libraries use.

    Per element, with ``d = input - target``: ``delta**2 * (sqrt(1 + (d / delta)**2) - 1)``,
    equal to ``scipy.special.pseudo_huber(delta, d)``: about ``0.5 * d**2`` for small ``|d|``,
    ``delta * |d|`` for large. Computed without overflow of ``(d / delta)**2`` and without
    cancellation near 0.

    Parameters
    ----------
    $operands
    $reduction
    $pseudo_delta
    $weight
    $axis
    $xp

    Returns
    -------
    array
        The loss, as for `huber_loss`.

    $raises

    Examples
    --------
    >>> import numpy as np
    >>> import huberish as hb
    >>> hb.pseudo_huber_loss(np.asarray([1.0, 1e20]), np.zeros(2), "none", 1.0)
    array([4.14213562e-01, 1.00000000e+20])
    """
    return _loss(
        "pseudo_huber",
        delta,
        input,
        target,
        reduction=reduction,
        weight=weight,
        axis=axis,
        keepdims=keepdims,
        xp=xp,
    )


@fill
def pseudo_huber_loss_and_grad(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    xp: Namespace | None = None,
) -> LossAndGrad:
    """Pseudo-Huber loss and its gradient ``d / sqrt(1 + (d / delta)**2)`` w.r.t. `input`.

    Parameters
    ----------
    $operands
    $reduction
    $pseudo_delta
    $weight
    $axis
    $xp

    Returns
    -------
    LossAndGrad
        ``(loss, grad)``, the gradient with the shape and dtype of `input`.

    $raises
    """
    return _loss_and_grad(
        "pseudo_huber",
        delta,
        input,
        target,
        reduction=reduction,
        weight=weight,
        axis=axis,
        keepdims=keepdims,
        xp=xp,
    )


@fill
def pseudo_huber_loss_grad_hess(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    xp: Namespace | None = None,
) -> LossGradHess:
    """Pseudo-Huber loss, gradient and second derivative ``(1 + (d / delta)**2)**-1.5``.

    With ``reduction='sum'`` these are the per-sample gradient and Hessian that gradient-boosting
    libraries (LightGBM, XGBoost) take from a custom objective.

    Parameters
    ----------
    $operands
    $reduction
    $pseudo_delta
    $weight
    $axis
    $xp

    Returns
    -------
    LossGradHess
        ``(loss, grad, hess)``, the gradient and Hessian diagonal with the shape and dtype of
        `input`.

    $raises

    Examples
    --------
    >>> import numpy as np
    >>> import huberish as hb
    >>> _, grad, hess = hb.pseudo_huber_loss_grad_hess(np.asarray([0.0, 1.0]), 0.0, "sum")
    >>> grad
    array([0.        , 0.70710678])
    >>> hess
    array([1.        , 0.35355339])
    """
    return _grad_hess(
        "pseudo_huber",
        delta,
        input,
        target,
        reduction=reduction,
        weight=weight,
        axis=axis,
        keepdims=keepdims,
        xp=xp,
    )


@fill
def pseudo_huber_loss_backward(
    grad_output: Any,
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    xp: Namespace | None = None,
) -> tuple[Array, Array]:
    """Backward pass of `pseudo_huber_loss`: the gradients of ``sum(grad_output * loss)``.

    Parameters
    ----------
    $grad_output
    $operands
    $reduction
    $pseudo_delta
    $weight
    $axis
    $xp

    Returns
    -------
    grad_input, grad_target : array
        Gradients with the shapes and floating dtypes of `input` and `target`.

    $raises
    """
    return _backward(
        "pseudo_huber",
        delta,
        grad_output,
        input,
        target,
        reduction=reduction,
        weight=weight,
        axis=axis,
        keepdims=keepdims,
        xp=xp,
    )


class Functions(NamedTuple):
    """One loss's public functions, and the name of its threshold argument."""

    loss: Callable[..., Array]
    and_grad: Callable[..., LossAndGrad]
    grad_hess: Callable[..., LossGradHess]
    backward: Callable[..., tuple[Array, Array]]
    threshold: str


FUNCTIONS = {
    "smooth_l1": Functions(
        smooth_l1_loss,
        smooth_l1_loss_and_grad,
        smooth_l1_loss_grad_hess,
        smooth_l1_loss_backward,
        "beta",
    ),
    "huber": Functions(
        huber_loss, huber_loss_and_grad, huber_loss_grad_hess, huber_loss_backward, "delta"
    ),
    "pseudo_huber": Functions(
        pseudo_huber_loss,
        pseudo_huber_loss_and_grad,
        pseudo_huber_loss_grad_hess,
        pseudo_huber_loss_backward,
        "delta",
    ),
}
"""Each loss's functions, for the classes and the framework adapters."""


class LossCall(NamedTuple):
    """A loss and its validated options, for the framework adapters.

    Hashable, so that it can be a static argument of ``jax.custom_vjp`` and a constant for
    ``torch.compile``; `forward` and `backward` call the public functions.
    """

    kind: Kind
    threshold: float
    reduction: str
    axis: Any = None
    keepdims: bool = False

    def _options(self, weight: Array | None) -> dict[str, Any]:
        name = FUNCTIONS[self.kind].threshold
        options = {"reduction": self.reduction, name: self.threshold, "weight": weight}
        return {**options, "axis": self.axis, "keepdims": self.keepdims}

    def forward(self, input: Any, target: Any, weight: Array | None) -> Array:
        """The loss."""
        return FUNCTIONS[self.kind].loss(input, target, **self._options(weight))

    def backward(
        self, grad_output: Any, input: Any, target: Any, weight: Array | None
    ) -> tuple[Array, Array]:
        """The gradients of ``sum(grad_output * loss)`` for `input` and `target`."""
        return FUNCTIONS[self.kind].backward(grad_output, input, target, **self._options(weight))
