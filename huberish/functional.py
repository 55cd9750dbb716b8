"""Smooth-L1, Huber and pseudo-Huber losses with gradients, Hessians and backward passes.

Every function validates its arguments and options (`huberish._validate.validate`), then
runs the one generic kernel (`huberish._kernel`). Huber is
``delta * smooth_l1(beta=delta)``.
"""

from typing import Any

from . import _kernel as kernel
from ._compat import Array, ArrayT, Namespace
from ._docstrings import fill
from ._kernel import LossAndGrad, LossGradHess
from ._reduction import ReductionArgument
from ._validate import check_grad_output, validate

__all__ = [
    "LossAndGrad",
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


# --- smooth L1 -------------------------------------------------------------------------------


@fill
def smooth_l1_loss(
    input: ArrayT | float,
    target: ArrayT | float,
    size_average: Any = None,
    reduce: Any = None,
    reduction: ReductionArgument = "mean",
    beta: float | Array = 1.0,
    *,
    weight: Array | None = None,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
    xp: Namespace | None = None,
) -> ArrayT:
    """Smooth-L1 loss, as ``torch.nn.functional.smooth_l1_loss``.

    $smooth_l1_formula

    Parameters
    ----------
    $operands
    $legacy
    $reduction
    $beta
    $weight
    $axis
    $where
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
    return kernel.loss(
        validate(
            "smooth_l1",
            beta,
            input,
            target,
            weight,
            size_average=size_average,
            reduce=reduce,
            reduction=reduction,
            axis=axis,
            keepdims=keepdims,
            where=where,
            avg_factor=avg_factor,
            xp=xp,
        )
    )


@fill
def smooth_l1_loss_and_grad(
    input: ArrayT | float,
    target: ArrayT | float,
    size_average: Any = None,
    reduce: Any = None,
    reduction: ReductionArgument = "mean",
    beta: float | Array = 1.0,
    *,
    weight: Array | None = None,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
    xp: Namespace | None = None,
) -> LossAndGrad[ArrayT]:
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
    $where
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
    return kernel.loss_and_grad(
        validate(
            "smooth_l1",
            beta,
            input,
            target,
            weight,
            size_average=size_average,
            reduce=reduce,
            reduction=reduction,
            axis=axis,
            keepdims=keepdims,
            where=where,
            avg_factor=avg_factor,
            xp=xp,
        )
    )


@fill
def smooth_l1_loss_grad_hess(
    input: ArrayT | float,
    target: ArrayT | float,
    size_average: Any = None,
    reduce: Any = None,
    reduction: ReductionArgument = "mean",
    beta: float | Array = 1.0,
    *,
    weight: Array | None = None,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
    xp: Namespace | None = None,
) -> LossGradHess[ArrayT]:
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
    $where
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
    return kernel.loss_grad_hess(
        validate(
            "smooth_l1",
            beta,
            input,
            target,
            weight,
            size_average=size_average,
            reduce=reduce,
            reduction=reduction,
            axis=axis,
            keepdims=keepdims,
            where=where,
            avg_factor=avg_factor,
            xp=xp,
        )
    )


@fill
def smooth_l1_loss_backward(
    grad_output: Any,
    input: ArrayT | float,
    target: ArrayT | float,
    size_average: Any = None,
    reduce: Any = None,
    reduction: ReductionArgument = "mean",
    beta: float | Array = 1.0,
    *,
    weight: Array | None = None,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
    xp: Namespace | None = None,
) -> tuple[ArrayT, ArrayT]:
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
    $where
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
    return kernel.backward(
        validate(
            "smooth_l1",
            beta,
            input,
            target,
            weight,
            check_grad_output(grad_output),
            size_average=size_average,
            reduce=reduce,
            reduction=reduction,
            axis=axis,
            keepdims=keepdims,
            where=where,
            avg_factor=avg_factor,
            xp=xp,
        )
    )


# --- Huber -----------------------------------------------------------------------------------


@fill
def huber_loss(
    input: ArrayT | float,
    target: ArrayT | float,
    reduction: ReductionArgument = "mean",
    delta: float | Array = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
    xp: Namespace | None = None,
) -> ArrayT:
    """Huber loss, as ``torch.nn.functional.huber_loss``.

    $huber_formula

    Parameters
    ----------
    $operands
    $reduction
    $delta
    $weight
    $axis
    $where
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
    return kernel.loss(
        validate(
            "huber",
            delta,
            input,
            target,
            weight,
            reduction=reduction,
            axis=axis,
            keepdims=keepdims,
            where=where,
            avg_factor=avg_factor,
            xp=xp,
        )
    )


@fill
def huber_loss_and_grad(
    input: ArrayT | float,
    target: ArrayT | float,
    reduction: ReductionArgument = "mean",
    delta: float | Array = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
    xp: Namespace | None = None,
) -> LossAndGrad[ArrayT]:
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
    $where
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
    return kernel.loss_and_grad(
        validate(
            "huber",
            delta,
            input,
            target,
            weight,
            reduction=reduction,
            axis=axis,
            keepdims=keepdims,
            where=where,
            avg_factor=avg_factor,
            xp=xp,
        )
    )


@fill
def huber_loss_grad_hess(
    input: ArrayT | float,
    target: ArrayT | float,
    reduction: ReductionArgument = "mean",
    delta: float | Array = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
    xp: Namespace | None = None,
) -> LossGradHess[ArrayT]:
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
    $where
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
    return kernel.loss_grad_hess(
        validate(
            "huber",
            delta,
            input,
            target,
            weight,
            reduction=reduction,
            axis=axis,
            keepdims=keepdims,
            where=where,
            avg_factor=avg_factor,
            xp=xp,
        )
    )


@fill
def huber_loss_backward(
    grad_output: Any,
    input: ArrayT | float,
    target: ArrayT | float,
    reduction: ReductionArgument = "mean",
    delta: float | Array = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
    xp: Namespace | None = None,
) -> tuple[ArrayT, ArrayT]:
    """Backward pass of `huber_loss`: the gradients of ``sum(grad_output * loss)``.

    Parameters
    ----------
    $grad_output
    $operands
    $reduction
    $delta
    $weight
    $axis
    $where
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
    return kernel.backward(
        validate(
            "huber",
            delta,
            input,
            target,
            weight,
            check_grad_output(grad_output),
            reduction=reduction,
            axis=axis,
            keepdims=keepdims,
            where=where,
            avg_factor=avg_factor,
            xp=xp,
        )
    )


# --- pseudo-Huber ----------------------------------------------------------------------------


@fill
def pseudo_huber_loss(
    input: ArrayT | float,
    target: ArrayT | float,
    reduction: ReductionArgument = "mean",
    delta: float | Array = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
    xp: Namespace | None = None,
) -> ArrayT:
    """Pseudo-Huber loss: the smooth member of the family, as gradient-boosting libraries use.

    $pseudo_huber_formula Computed without overflow of ``(d / delta)**2`` and without
    cancellation near 0.

    Parameters
    ----------
    $operands
    $reduction
    $pseudo_delta
    $weight
    $axis
    $where
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
    return kernel.loss(
        validate(
            "pseudo_huber",
            delta,
            input,
            target,
            weight,
            reduction=reduction,
            axis=axis,
            keepdims=keepdims,
            where=where,
            avg_factor=avg_factor,
            xp=xp,
        )
    )


@fill
def pseudo_huber_loss_and_grad(
    input: ArrayT | float,
    target: ArrayT | float,
    reduction: ReductionArgument = "mean",
    delta: float | Array = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
    xp: Namespace | None = None,
) -> LossAndGrad[ArrayT]:
    """Pseudo-Huber loss and its gradient ``d / sqrt(1 + (d / delta)**2)`` with respect to `input`.

    Parameters
    ----------
    $operands
    $reduction
    $pseudo_delta
    $weight
    $axis
    $where
    $xp

    Returns
    -------
    LossAndGrad
        ``(loss, grad)``, the gradient with the shape and dtype of `input`.

    $raises
    """
    return kernel.loss_and_grad(
        validate(
            "pseudo_huber",
            delta,
            input,
            target,
            weight,
            reduction=reduction,
            axis=axis,
            keepdims=keepdims,
            where=where,
            avg_factor=avg_factor,
            xp=xp,
        )
    )


@fill
def pseudo_huber_loss_grad_hess(
    input: ArrayT | float,
    target: ArrayT | float,
    reduction: ReductionArgument = "mean",
    delta: float | Array = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
    xp: Namespace | None = None,
) -> LossGradHess[ArrayT]:
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
    $where
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
    return kernel.loss_grad_hess(
        validate(
            "pseudo_huber",
            delta,
            input,
            target,
            weight,
            reduction=reduction,
            axis=axis,
            keepdims=keepdims,
            where=where,
            avg_factor=avg_factor,
            xp=xp,
        )
    )


@fill
def pseudo_huber_loss_backward(
    grad_output: Any,
    input: ArrayT | float,
    target: ArrayT | float,
    reduction: ReductionArgument = "mean",
    delta: float | Array = 1.0,
    weight: Array | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
    xp: Namespace | None = None,
) -> tuple[ArrayT, ArrayT]:
    """Backward pass of `pseudo_huber_loss`: the gradients of ``sum(grad_output * loss)``.

    Parameters
    ----------
    $grad_output
    $operands
    $reduction
    $pseudo_delta
    $weight
    $axis
    $where
    $xp

    Returns
    -------
    grad_input, grad_target : array
        Gradients with the shapes and floating dtypes of `input` and `target`.

    $raises
    """
    return kernel.backward(
        validate(
            "pseudo_huber",
            delta,
            input,
            target,
            weight,
            check_grad_output(grad_output),
            reduction=reduction,
            axis=axis,
            keepdims=keepdims,
            where=where,
            avg_factor=avg_factor,
            xp=xp,
        )
    )
