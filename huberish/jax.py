"""huberish inside JAX autodiff: ``jax.custom_jvp`` losses whose derivatives are huberish's own.

`smooth_l1_loss`, `huber_loss` and `pseudo_huber_loss` take huberish's arguments. Their tangent
rule is huberish's analytic backward (JAX transposes it for reverse mode), and the derivative of
that is huberish's analytic Hessian diagonal, so ``jax.jit``, ``jax.grad``, ``jax.jvp``,
``jax.jacfwd``, ``jax.jacrev``, ``jax.hessian``, ``jax.vmap`` and their compositions all work;
at ``|d| == beta`` the second derivative is 0, as in torch. Python-scalar operands stay static
(no tracing, no shape warning under ``jit``); NumPy arrays and NumPy scalars become JAX arrays,
as ``jax.numpy`` functions take them. The settings (`reduction`, `axis`, `keepdims`) are
static: under ``jax.jit`` pass them with ``static_argnames`` or bind them with
``functools.partial``. A `beta` or `delta` given as a Python number is static too; given as an
array (0-d included) it is an operand, per element: it may be traced (``jax.vmap`` over it
sweeps thresholds) and gets its derivative, as the `weight` does.

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

from ._adapters import check_shapes, derivative, hessian, reduce_tangent
from ._compat import is_array_api_obj
from ._reduction import ReductionArgument
from ._validate import Options, operand

__all__ = ["huber_loss", "pseudo_huber_loss", "smooth_l1_loss"]


def __dir__() -> list[str]:
    return __all__


@partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def _loss(
    call: Options,
    scalars: tuple[Any, Any],
    input: Any,
    target: Any,
    weight: Any,
    where: Any,
    avg_factor: Any,
    threshold: Any,
) -> Any:
    extra = {"where": where, "avg_factor": avg_factor, "threshold": threshold}
    return call.forward(*_operands(scalars, input, target), weight, **extra)


@_loss.defjvp
def _loss_jvp(
    call: Options,
    scalars: tuple[Any, Any],
    primals: tuple[Any, ...],
    tangents: tuple[Any, ...],
) -> tuple[Any, Any]:
    """The loss and its tangent: per loss value, the sum over the elements it reduces of the
    element gradient times the tangent (the weight's and a threshold's per element:
    `derivative`; `where` and `avg_factor` get none). JAX transposes this
    linear map for reverse mode."""
    input, target, weight, where, avg_factor, threshold = primals
    extra = {"where": where, "avg_factor": avg_factor, "threshold": threshold}
    operands = _operands(scalars, input, target)
    loss = call.forward(*operands, weight, **extra)
    shape = jnp.broadcast_shapes(*(jnp.shape(v) for v in operands))
    wide = [None if v is None else jnp.broadcast_to(v, shape) for v in (input, target)]
    ones = jnp.ones(loss.shape, loss.dtype)
    grads = _element_gradients(call, scalars, ones, *wide, weight, where, avg_factor, threshold)
    terms = [
        grad * jnp.broadcast_to(tangent, shape)
        for grad, tangent, scalar in zip(grads, tangents[:2], scalars, strict=True)
        if scalar is None and _is_tangent(tangent)
    ]
    for name, value, tangent in (
        ("weight", weight, tangents[2]),
        ("threshold", threshold, tangents[5]),
    ):
        if value is not None and _is_tangent(tangent):
            by_operand = derivative(call, name, *operands, weight, **extra)
            terms.append(by_operand * jnp.broadcast_to(tangent, shape))
    product = sum(terms[1:], terms[0]) if terms else jnp.zeros(shape, loss.dtype)
    tangent = reduce_tangent(product, call, xp=jnp)
    return loss, jnp.reshape(tangent, loss.shape).astype(loss.dtype)


@partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def _element_gradients(
    call: Options,
    scalars: tuple[Any, Any],
    ones: Any,
    input: Any,
    target: Any,
    weight: Any,
    where: Any,
    avg_factor: Any,
    threshold: Any,
) -> tuple[Any, Any]:
    """Per element of the broadcast shape, the derivatives of the loss value it belongs to
    for `input` and `target`: huberish's analytic backward with a grad_output of `ones` on
    operands already broadcast to their common shape (so nothing is summed)."""
    extra = {"where": where, "avg_factor": avg_factor, "threshold": threshold}
    return call.backward(ones, *_operands(scalars, input, target), weight, **extra)


@_element_gradients.defjvp
def _element_gradients_jvp(
    call: Options,
    scalars: tuple[Any, Any],
    primals: tuple[Any, ...],
    tangents: tuple[Any, ...],
) -> tuple[Any, Any]:
    """Second derivatives from huberish's analytic Hessian diagonal (`*_grad_hess`, torch's
    convention at ``|d| == beta``), not from differentiating the backward's operations."""
    ones, input, target, weight, where, avg_factor, threshold = primals
    grads = _element_gradients(call, scalars, *primals)
    operands = _operands(scalars, input, target)
    extra = {"where": where, "avg_factor": avg_factor}
    hess = hessian(
        call, *operands, weight, input_is_array=scalars[0] is None, threshold=threshold, **extra
    )
    difference = [
        t if s is None and _is_tangent(t) else None
        for t, s in zip(tangents[1:3], scalars, strict=True)
    ]
    if difference[0] is None and difference[1] is None:
        change = jnp.zeros_like(hess)
    elif difference[1] is None:
        change = hess * difference[0]
    elif difference[0] is None:
        change = -hess * difference[1]
    else:
        change = hess * (difference[0] - difference[1])
    outputs = tuple(
        jnp.reshape(jnp.sum(sign * change), grad.shape).astype(grad.dtype)
        if grad.shape != change.shape
        else (sign * change).astype(grad.dtype)
        for grad, sign in zip(grads, (1, -1), strict=True)
    )
    # the weight's and a threshold's mixed second derivatives: JAX differentiates the kernel
    for value, tangent, backward in (
        (
            weight,
            tangents[3],
            lambda w: call.backward(ones, *operands, w, threshold=threshold, **extra),
        ),
        (
            threshold,
            tangents[6],
            lambda t: call.backward(ones, *operands, weight, threshold=t, **extra),
        ),
    ):
        if value is not None and _is_tangent(tangent):
            _, by = jax.jvp(backward, (value,), (tangent,))
            outputs = tuple(o + b.astype(o.dtype) for o, b in zip(outputs, by, strict=True))
    return grads, outputs


def _is_tangent(tangent: Any) -> bool:
    """Whether `tangent` may be nonzero (not the float0 zero of an integer operand)."""
    return getattr(tangent, "dtype", None) != jax.dtypes.float0


def _operands(scalars: tuple[Any, Any], input: Any, target: Any) -> tuple[Any, Any]:
    """`input` and `target`, with the Python scalars (static, never traced) put back."""
    return (
        input if scalars[0] is None else scalars[0],
        target if scalars[1] is None else scalars[1],
    )


def _stays_static(x: Any) -> bool:
    """Whether `x` is a Python number, which stays static (never traced). NumPy scalars
    subclass float (np.float64) or are arrays of their dtype: they are not."""
    return isinstance(x, int | float) and not isinstance(x, np.generic)


def _is_numeric_array(x: Any) -> bool:
    """An array `jnp.asarray` takes as huberish would: not a NumPy array of records or objects
    (huberish's dtype check names those)."""
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "biufc"
    return isinstance(x, jax.Array) or is_array_api_obj(x)


def _apply(
    input: Any,
    target: Any,
    weight: Any,
    call: Options,
    where: Any = None,
    avg_factor: Any = None,
) -> Any:
    """Python scalars stay static (as weak scalars: no tracing, no shape warning under `jit`);
    NumPy arrays and scalars become JAX arrays, as ``jax.numpy`` functions take them.

    The operands first go through huberish's operand rule (lists and ``__array__`` objects are
    NumPy arrays, NumPy scalars 0-d arrays; masked arrays raise); anything that is then neither
    a Python scalar nor a numeric array gets huberish's own error, named, before JAX sees it.
    """
    input, target = operand(input, name="input"), operand(target, name="target")
    weight = None if weight is None else operand(weight, name="weight")
    operands = (input, target) if weight is None else (input, target, weight)
    if not all(_stays_static(v) or _is_numeric_array(v) for v in operands):
        call.forward(input, target, weight)  # raises huberish's error naming the argument
    scalars = tuple(x if _stays_static(x) else None for x in (input, target))
    input, target = (
        None if s is not None else jnp.asarray(x)
        for x, s in zip((input, target), scalars, strict=True)
    )
    call, threshold = call.split()  # (a threshold per element is an operand, not a setting)
    weight, where, avg_factor, threshold = (
        v if v is None or _stays_static(v) else jnp.asarray(v)
        for v in (weight, where, avg_factor, threshold)
    )
    return _loss(call, scalars, input, target, weight, where, avg_factor, threshold)


def smooth_l1_loss(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: ReductionArgument = "mean",
    beta: float | jax.Array = 1.0,
    *,
    weight: Any = None,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
) -> Any:
    """`huberish.smooth_l1_loss` as a ``jax.custom_jvp`` function (analytic derivatives)."""
    check_shapes(input, target)
    call = Options.build(
        "smooth_l1",
        beta,
        reduction=reduction,
        size_average=size_average,
        reduce=reduce,
        axis=axis,
        keepdims=keepdims,
    )
    return _apply(input, target, weight, call, where, avg_factor)


def huber_loss(
    input: Any,
    target: Any,
    reduction: ReductionArgument = "mean",
    delta: float | jax.Array = 1.0,
    weight: Any = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
) -> Any:
    """`huberish.huber_loss` as a ``jax.custom_jvp`` function (analytic derivatives)."""
    check_shapes(input, target)
    call = Options.build("huber", delta, reduction=reduction, axis=axis, keepdims=keepdims)
    return _apply(input, target, weight, call, where, avg_factor)


def pseudo_huber_loss(
    input: Any,
    target: Any,
    reduction: ReductionArgument = "mean",
    delta: float | jax.Array = 1.0,
    weight: Any = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
) -> Any:
    """`huberish.pseudo_huber_loss` as a ``jax.custom_jvp`` function (analytic derivatives)."""
    check_shapes(input, target)
    call = Options.build("pseudo_huber", delta, reduction=reduction, axis=axis, keepdims=keepdims)
    return _apply(input, target, weight, call, where, avg_factor)
