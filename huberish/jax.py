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
import numpy as np

from . import functional
from ._reduction import resolve_reduction
from ._validate import check_axis, check_beta, check_delta

__all__ = ["huber_loss", "pseudo_huber_loss", "smooth_l1_loss"]


@partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def _loss(
    call: functional.LossCall, scalars: tuple[Any, Any], input: Any, target: Any, weight: Any
) -> Any:
    return call.forward(*_operands(scalars, input, target), weight)


@_loss.defjvp
def _loss_jvp(
    call: functional.LossCall,
    scalars: tuple[Any, Any],
    primals: tuple[Any, Any, Any],
    tangents: tuple[Any, Any, Any],
) -> tuple[Any, Any]:
    """The loss and its tangent: per loss value, the sum of gradient times tangent over the
    elements it reduces. The per-element gradients are huberish's analytic backward on the
    operands broadcast to their common shape, with a grad_output of ones; JAX transposes this
    linear map for reverse mode. The weight's tangent is ignored (it gets no derivative)."""
    input, target, weight = primals
    operands = _operands(scalars, input, target)
    loss = call.forward(*operands, weight)
    shape = jnp.broadcast_shapes(*(jnp.shape(v) for v in operands))
    wide = [v if s is not None else jnp.broadcast_to(v, shape) for v, s in zip(operands, scalars)]
    grads = call.backward(jnp.ones(loss.shape, loss.dtype), *wide, weight)
    terms = [
        grad * jnp.broadcast_to(tangent, shape)
        for grad, tangent, scalar in zip(grads, tangents[:2], scalars, strict=True)
        if scalar is None and getattr(tangent, "dtype", None) != jax.dtypes.float0
    ]
    product = sum(terms[1:], terms[0]) if terms else jnp.zeros(shape, loss.dtype)
    if call.reduction != "none":
        axes = check_axis(call.axis, len(shape), call.reduction)
        product = jnp.sum(product, axis=axes, keepdims=call.keepdims)
    return loss, jnp.reshape(product, loss.shape).astype(loss.dtype)


def _operands(scalars: tuple[Any, Any], input: Any, target: Any) -> tuple[Any, Any]:
    """`input` and `target`, with the Python scalars (static, never traced) put back."""
    return (
        input if scalars[0] is None else scalars[0],
        target if scalars[1] is None else scalars[1],
    )


def _is_python_scalar(x: Any) -> bool:
    # NumPy scalars subclass float (np.float64) or are arrays of their dtype: not Python scalars.
    return isinstance(x, int | float) and not isinstance(x, np.generic)


def _apply(input: Any, target: Any, weight: Any, call: functional.LossCall) -> Any:
    """Python scalars stay static (as weak scalars: no tracing, no shape warning under `jit`);
    NumPy arrays and scalars become JAX arrays, as ``jax.numpy`` functions take them."""
    scalars = tuple(x if _is_python_scalar(x) else None for x in (input, target))
    input, target = (
        None if s is not None else jnp.asarray(x) for x, s in zip((input, target), scalars)
    )
    weight = weight if weight is None or _is_python_scalar(weight) else jnp.asarray(weight)
    return _loss(call, scalars, input, target, weight)


def _static(name: str, value: Any) -> Any:
    """`value` unless JAX traces it: loss settings shape the computation, so they are static."""
    if isinstance(value, jax.core.Tracer):
        msg = (
            f"`{name}` must be a concrete number, not a value traced by jax.jit or a transform; "
            f"mark it static, e.g. jax.jit(f, static_argnames=({name!r},)), or bind it with "
            f"functools.partial(f, {name}=...) before transforming."
        )
        raise TypeError(msg)
    return value


def smooth_l1_loss(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    beta: float = 1.0,
    *,
    weight: Any = None,
    axis: Any = None,
    keepdims: bool = False,
) -> Any:
    """`huberish.smooth_l1_loss` as a ``jax.custom_jvp`` function (analytic derivatives)."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    call = functional.LossCall(
        "smooth_l1", check_beta(_static("beta", beta)), reduction, axis, keepdims
    )
    return _apply(input, target, weight, call)


def huber_loss(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Any = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
) -> Any:
    """`huberish.huber_loss` as a ``jax.custom_jvp`` function (analytic derivatives)."""
    reduction = resolve_reduction(reduction=reduction)
    call = functional.LossCall(
        "huber", check_delta(_static("delta", delta)), reduction, axis, keepdims
    )
    return _apply(input, target, weight, call)


def pseudo_huber_loss(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Any = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
) -> Any:
    """`huberish.pseudo_huber_loss` as a ``jax.custom_jvp`` function (analytic derivatives)."""
    reduction = resolve_reduction(reduction=reduction)
    call = functional.LossCall(
        "pseudo_huber", check_delta(_static("delta", delta)), reduction, axis, keepdims
    )
    return _apply(input, target, weight, call)
