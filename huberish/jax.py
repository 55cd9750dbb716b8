"""huberish inside JAX autodiff: ``jax.custom_vjp`` losses whose backward is huberish's own.

`smooth_l1_loss` and `huber_loss` take huberish's arguments and work under ``jax.jit``,
``jax.grad``, ``jax.value_and_grad``, ``jax.vmap`` and reverse-over-reverse differentiation
(``jax.jacrev(jax.grad(f))``). A ``custom_vjp`` function has no forward-mode rule, so
``jax.jvp``, ``jax.jacfwd`` and ``jax.hessian`` (forward-over-reverse) raise; for those,
differentiate the generic function instead (``jax.hessian(huberish.smooth_l1_loss)``), which
JAX traces through like any ``jax.numpy`` code. NumPy operands are converted to JAX arrays, as
``jax.numpy`` functions do. The `weight` gets a zero cotangent.

Examples
--------
>>> import jax, jax.numpy as jnp
>>> from huberish import jax as hjax
>>> x = jnp.asarray([0.0, 0.5, 3.0], dtype=jnp.float32)
>>> jax.grad(hjax.smooth_l1_loss)(x, jnp.zeros(3, dtype=jnp.float32))
Array([0.        , 0.16666667, 0.33333334], dtype=float32)
"""

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp

from ._options import Options
from ._reduction import ReductionArgument

__all__ = ["huber_loss", "pseudo_huber_loss", "smooth_l1_loss"]


@partial(jax.custom_vjp, nondiff_argnums=(3,))
def _loss(input: Any, target: Any, weight: Any, call: Options) -> Any:
    return call.forward(input, target, weight)


def _loss_forward(
    input: Any, target: Any, weight: Any, call: Options
) -> tuple[Any, tuple[Any, Any, Any]]:
    return _loss(input, target, weight, call), (input, target, weight)


def _loss_backward(call: Options, residuals: tuple[Any, Any, Any], g: Any) -> tuple[Any, Any, Any]:
    input, target, weight = residuals
    grad_input, grad_target = call.backward(g, input, target, weight)
    return grad_input, grad_target, None if weight is None else jnp.zeros_like(weight)


_loss.defvjp(_loss_forward, _loss_backward)


def _apply(input: Any, target: Any, weight: Any, call: Options) -> Any:
    """NumPy operands become JAX arrays (as ``jax.numpy`` functions take them); scalars stay."""
    operands = [
        x if x is None or isinstance(x, int | float) else jnp.asarray(x)
        for x in (input, target, weight)
    ]
    return _loss(*operands, call)


def smooth_l1_loss(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: ReductionArgument = "mean",
    beta: float = 1.0,
    *,
    weight: Any = None,
    axis: Any = None,
    keepdims: bool = False,
) -> Any:
    """`huberish.smooth_l1_loss` as a ``jax.custom_vjp`` function (analytic backward)."""
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
    weight: Any = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
) -> Any:
    """`huberish.huber_loss` as a ``jax.custom_vjp`` function (analytic backward)."""
    call = Options.build("huber", delta, reduction=reduction, axis=axis, keepdims=keepdims)
    return _apply(input, target, weight, call)


def pseudo_huber_loss(
    input: Any,
    target: Any,
    reduction: ReductionArgument = "mean",
    delta: float = 1.0,
    weight: Any = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
) -> Any:
    """`huberish.pseudo_huber_loss` as a ``jax.custom_vjp`` function (analytic backward)."""
    call = Options.build("pseudo_huber", delta, reduction=reduction, axis=axis, keepdims=keepdims)
    return _apply(input, target, weight, call)
