"""A float64 NumPy oracle, written independently of the kernel, for `python -m huberish` and tests.

It follows torch's own formulation (``where`` on the two regimes) rather than the kernel's, so
that the two check each other. It never computes a result that huberish returns.
"""

import numpy as np
import numpy.typing as npt

__all__ = ["reference"]

Float64Array = npt.NDArray[np.float64]


def reference(
    input: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    beta: float,
    scale: float = 1.0,
    reduction: str = "mean",
    weight: npt.ArrayLike | None = None,
    grad_output: npt.ArrayLike = 1.0,
    pseudo_huber: bool = False,
) -> tuple[Float64Array, Float64Array, Float64Array]:
    """Loss and gradients ``(loss, grad_input, grad_target)`` of ``scale * smooth_l1(beta)``.

    For finite inputs only. Huber with `delta` is ``beta=delta, scale=delta``. With
    `pseudo_huber`, ``beta**2 * (sqrt(1 + (d / beta)**2) - 1)`` instead.
    """
    x = np.asarray(input, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    d = np.subtract(*np.broadcast_arrays(x, y))
    a = np.abs(d)
    if pseudo_huber:  # sqrt(1 + u**2) - 1 as expm1(log1p(u**2) / 2): no cancellation near 0
        u2 = (d / beta) ** 2
        loss, grad = beta**2 * np.expm1(0.5 * np.log1p(u2)), d / np.sqrt(1 + u2)
    elif beta == 0:
        loss, grad = a, np.sign(d)
    else:
        loss = np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)
        grad = np.where(a < beta, d / beta, np.sign(d))
    w = np.float64(1.0) if weight is None else np.asarray(weight, dtype=np.float64)
    loss, grad = scale * w * loss, scale * w * grad
    n = d.size
    if reduction == "sum":
        loss = np.sum(loss)
    elif reduction == "mean":
        loss, grad = np.sum(loss) / n, grad / n
    grad = grad * np.asarray(grad_output, dtype=np.float64)
    return np.asarray(loss), _sum_to(grad, x.shape), -_sum_to(grad, y.shape)


def _sum_to(grad: Float64Array, shape: tuple[int, ...]) -> Float64Array:
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad
