"""What the torch and JAX adapters share: torch's order of checks, the tangent of a loss from
its element gradients, the derivatives for the weight and for a threshold per element, and the
Hessian diagonal that carries second derivatives."""

from typing import Any

from . import _kernel as kernel
from ._validate import Options, check_broadcast, normalise_axis

__all__ = ["check_shapes", "derivative", "hessian", "reduce_tangent"]


def check_shapes(input: Any, target: Any) -> None:
    """torch's order: broadcasting is checked before the reduction string and the threshold
    (which `Options.build` checks); the other checks of the operands come at the call."""
    check_broadcast(*(tuple(getattr(v, "shape", ())) for v in (input, target)))


def reduce_tangent(product: Any, call: Options, *, xp: Any) -> Any:
    """The loss's tangent from the element gradients times the operands' tangents (`product`,
    of the broadcast shape): summed over the elements that each loss value reduces."""
    if call.reduction == "none":
        return product
    axes = normalise_axis(call.axis, ndim=product.ndim)
    axes = tuple(range(product.ndim)) if axes is None else axes
    return xp.sum(product, axis=axes, keepdims=call.keepdims)


def hessian(
    call: Options, input: Any, target: Any, weight: Any, *, input_is_array: bool, **extra: Any
) -> Any:
    """The Hessian diagonal of the element losses for the operand that is an array (for
    `input` if both are): huberish's analytic one, torch's convention at ``|d| == beta``."""
    # (the losses are even in d: for a Python-scalar `input`, the Hessian for `target` is it)
    pair = (input, target) if input_is_array else (target, input)
    return call.loss_grad_hess(pair[0], pair[1], weight, **extra).hess


def derivative(
    call: Options,
    operand: str,
    input: Any,
    target: Any,
    weight: Any,
    **extra: Any,
) -> Any:
    """Per element of the broadcast shape, the derivative of the loss value it belongs to for
    `operand`, ``'weight'`` or ``'threshold'`` (`huberish._kernel.derivative`); `extra`:
    `threshold`, `where`, `avg_factor`."""
    return kernel.derivative(call.prepare(input, target, weight, **extra), operand)
