"""huberish inside torch autograd: the generic kernel's forward and its analytic backward.

`smooth_l1_loss` and `huber_loss` are drop-in replacements for ``torch.nn.functional``'s, and
`SmoothL1Loss` and `HuberLoss` for ``torch.nn``'s (plus a `weight`). The backward pass calls
huberish's own `*_backward`, built from differentiable torch operations, so double backward
(``gradgradcheck``, Hessian-vector products) works too. Unlike torch, mixed float32/float64
operands promote and differentiate (pytorch#76646), and half precision is computed in float32.

Examples
--------
>>> import torch
>>> from huberish import torch as htorch
>>> x = torch.tensor([0.0, 0.5, 3.0], requires_grad=True)
>>> loss = htorch.smooth_l1_loss(x, torch.zeros(3), beta=1.0)
>>> loss.backward()
>>> x.grad
tensor([0.0000, 0.1667, 0.3333])
"""

import functools
import inspect
import os
import sys
from typing import Any

import numpy as np
import torch

from ._compat import array_namespace
from ._reduction import ReductionArgument
from ._validate import Options, check_broadcast, normalise_axis

__all__ = [
    "HuberLoss",
    "PseudoHuberLoss",
    "SmoothL1Loss",
    "huber_loss",
    "pseudo_huber_loss",
    "smooth_l1_loss",
]


_XP = array_namespace(torch.empty(0))  # torch's array-API namespace


class _ReverseLoss(torch.autograd.Function):
    """The loss as one autograd node: forward and backward run huberish's kernel and its
    analytic backward; ``torch.func.vmap`` batches both (`generate_vmap_rule`). This is the
    node `torch.compile` traces: Dynamo does not trace a Function with a custom `jvp`."""

    generate_vmap_rule = True

    @staticmethod
    def forward(input: Any, target: Any, weight: Any, static: "_Static") -> torch.Tensor:
        return static.call.forward(input, target, weight)  # type: ignore[no-any-return]

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        input, target, weight, static = inputs
        call = static.call
        tensors = [t if isinstance(t, torch.Tensor) else None for t in (input, target, weight)]
        # the element gradient that a first-order forward kept (see `_Loss.forward`): ours, not
        # an input or output, so an attribute (unpacking saved tensors costs microseconds)
        ctx.kept, static.grad = static.grad, None
        ctx.save_for_backward(*tensors)
        ctx.save_for_forward(*tensors)
        ctx.scalars = [None if isinstance(t, torch.Tensor) else t for t in (input, target)]
        ctx.call = call
        ctx.output_shape, ctx.output_dtype = output.shape, output.dtype

    @staticmethod
    def _operands(ctx: Any) -> tuple[Any, Any, Any]:
        input, target, weight = ctx.saved_tensors[:3]
        input = ctx.scalars[0] if input is None else input
        target = ctx.scalars[1] if target is None else target
        return input, target, weight

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Any, ...]:
        wanted = ctx.needs_input_grad
        second_order = torch.is_grad_enabled()  # a graph of the gradients is being built
        kept = ctx.kept
        if kept is not None and not second_order:
            # the forward's element gradient (`_Loss.forward`): one multiply, no kernel; in
            # place when the graph is freed after this pass (nothing reads it again)
            if _keep_graph():
                grad = grad_output * kept
            else:
                grad, ctx.kept = kept.mul_(grad_output), None
            return (grad if wanted[0] else None, -grad if wanted[1] else None, None, None)
        input, target, weight = _ReverseLoss._operands(ctx)
        # (`axis` also takes this path: grad_output's spreading is then ours, expand, which
        # torch's legacy vmap in gradcheck(check_batched_grad=True) batches)
        if second_order or ctx.call.axis is not None:
            spread = _spread(grad_output, ctx)
            element = _element_gradients(ctx.call, input, target, weight, ctx, second_order)
            grad_input, grad_target = (
                (spread * g).sum_to_size(v.shape).to(v.dtype)
                if isinstance(v, torch.Tensor)
                else None
                for g, v in zip(element, (input, target), strict=True)
            )
        else:
            grad_input, grad_target = ctx.call.backward(grad_output, input, target, weight)
        # the weight gets no gradient
        return (grad_input if wanted[0] else None, grad_target if wanted[1] else None, None, None)


class _Loss(_ReverseLoss):
    """`_ReverseLoss` with forward mode (`jvp`), for eager mode and ``torch.func``.

    Its forward computes the loss and its gradient in one kernel pass when a first-order
    backward is the likely next step (see `_keeps_gradient`), and keeps the gradient, so that
    the backward is one multiply by `grad_output`; a second-order backward (``create_graph``),
    ``torch.func`` and every other case take `_ReverseLoss`'s path.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(input: Any, target: Any, weight: Any, static: "_Static") -> torch.Tensor:
        call = static.call
        if static.first_order and _keeps_gradient(input, target, weight, call):
            if input.numel() >= _COMPILE_MIN_SIZE and os.environ.get(_COMPILE_SETTING) == "1":
                loss, grad = _compiled_loss_and_grad()(input, target, weight, call)
            else:
                loss, grad = _loss_and_grad(input, target, weight, call)
            static.grad = grad
            return loss  # type: ignore[no-any-return]
        return call.forward(input, target, weight)  # type: ignore[no-any-return]

    @staticmethod
    def jvp(ctx: Any, tangent_input: Any, tangent_target: Any, *_: Any) -> torch.Tensor:
        """Forward mode from the analytic gradient: the loss's tangent is the sum, over the
        elements that each loss value reduces, of the element gradient times the tangent."""
        input, target, weight = _Loss._operands(ctx)
        call = ctx.call
        shape = _broadcast_shape(input, target)
        element = _element_gradients(call, input, target, weight, ctx)
        terms = [
            grad * tangent.expand(shape)
            for grad, tangent in zip(element, (tangent_input, tangent_target), strict=True)
            if tangent is not None
        ]
        product = terms[0] if len(terms) == 1 else terms[0] + terms[1]
        if call.reduction != "none":
            axes = normalise_axis(call.axis, ndim=len(shape))
            dims = tuple(range(len(shape))) if axes is None else axes
            product = torch.sum(product, dim=dims, keepdim=call.keepdims)
        return product.reshape(ctx.output_shape).to(ctx.output_dtype)  # type: ignore[no-any-return]


def _loss_and_grad(input: Any, target: Any, weight: Any, call: Options) -> tuple[Any, Any]:
    """The loss and its gradient for `input`, validated, from the generic kernel.

    Plain CPU tensors are handed to it as NumPy arrays sharing their memory, so that its NumPy
    path (blocks, threads, ``vecdot`` reductions, less dispatch per operation) computes them;
    the results come back as tensors sharing the NumPy results' memory. Measured (float32,
    forward + backward): 1e6 elements 17.7 -> 11.0 ms, 256 elements 334 -> 267 us.
    """
    arrays = _numpy_views(input, target, weight)
    if arrays is None:
        return tuple(call.loss_and_grad(input, target, weight, xp=_XP))
    loss, grad = call.loss_and_grad(*arrays)
    return _from_numpy(loss), _from_numpy(grad)


_VIEWABLE = (torch.Tensor, torch.nn.Parameter)
"""Tensor types that are plain memory (not subclasses such as fake or distributed tensors)."""


def _numpy_views(*values: Any) -> tuple[Any, ...] | None:
    """NumPy arrays sharing the memory of plain strided CPU tensors (Python scalars and None
    stay as they are); None if any tensor is not one (its negative bit set included), or while
    Dynamo traces."""
    if torch.compiler.is_compiling():
        return None
    views = []
    for value in values:
        if isinstance(value, torch.Tensor):
            if not (type(value) in _VIEWABLE and value.is_cpu and value.layout is torch.strided):
                return None
            if value.is_neg():  # a lazily negated view (``z.conj().imag``): NumPy has no view
                return None
            value = value.detach().numpy()
        views.append(value)
    return tuple(views)


def _from_numpy(value: Any) -> torch.Tensor:
    """A tensor sharing the memory of a NumPy result (a NumPy scalar becomes a 0-d tensor)."""
    array = np.asarray(value)
    return torch.from_numpy(array if array.flags.writeable else array.copy())


_COMPILE_SETTING = "HUBERISH_TORCH_COMPILE"
"""Set to ``1``: the eager forward compiles `_loss_and_grad` with ``torch.compile``."""
_COMPILE_MIN_SIZE = 2**16
"""Fewer elements than this are not worth a compiled call (its guards cost what it saves)."""


@functools.cache
def _compiled_loss_and_grad() -> Any:
    """`_loss_and_grad` through ``torch.compile``: the same kernel, its passes fused by the
    host's compiler (shapes become dynamic after the first recompilation)."""
    _trust_cached_helpers()
    return torch.compile(_loss_and_grad)


def _keep_graph() -> bool:
    """Whether the running backward pass keeps the graph (``retain_graph``)."""
    return bool(torch._C._autograd._get_current_graph_task_keep_graph())


def _keeps_gradient(input: Any, target: Any, weight: Any, call: Options) -> bool:
    """Whether `call.loss_and_grad`'s gradient, times `grad_output`, is the backward for both
    operands: float32 or float64 operands of one dtype and shape (or a Python-scalar target,
    which gets no gradient), a weight of that dtype, the loss over all axes."""
    if call.axis is not None or not isinstance(input, torch.Tensor):
        return False
    if input.dtype not in (torch.float32, torch.float64):
        return False
    if isinstance(target, torch.Tensor):
        if target.dtype != input.dtype or target.shape != input.shape:
            return False
    elif not isinstance(target, float | int) or isinstance(target, bool):
        return False
    return weight is None or (isinstance(weight, torch.Tensor) and weight.dtype == input.dtype)


# `Function.apply` binds its arguments to `forward`'s signature on every call (because
# `setup_context` is defined), and `inspect.signature` finds a ready one here instead of
# parsing the function each time.
for _function in (_ReverseLoss, _Loss):
    _function.forward.__signature__ = inspect.signature(_function.forward)  # type: ignore[attr-defined]


def _broadcast_shape(input: Any, target: Any) -> torch.Size:
    shapes = (torch.as_tensor(v).shape for v in (input, target))
    return torch.broadcast_shapes(*shapes)  # type: ignore[no-untyped-call,no-any-return]


def _spread(grad_output: torch.Tensor, ctx: Any) -> torch.Tensor:
    """`grad_output` (one value per loss value) on the operands' broadcast shape."""
    input, target, _ = _ReverseLoss._operands(ctx)
    shape, call = _broadcast_shape(input, target), ctx.call
    if call.axis is not None and not call.keepdims:
        for axis in normalise_axis(call.axis, ndim=len(shape)) or ():
            grad_output = grad_output.unsqueeze(axis)
    return grad_output.expand(shape)


def _element_gradients(
    call: Options,
    input: Any,
    target: Any,
    weight: Any,
    ctx: Any,
    second_order: bool = True,
) -> list[Any]:
    """Per element of the broadcast shape, the derivatives of the loss value it belongs to
    for `input` and for `target` (None for a Python scalar).

    Their values are huberish's analytic backward with a grad_output of ones on the operands
    broadcast to their common shape (so nothing is summed over broadcast axes). Their own
    derivatives, for second-order transforms, are huberish's analytic Hessian diagonal
    (`*_grad_hess`, torch's convention at ``|d| == beta``): a term ``h * (d - d.detach())``,
    zero in value, carries it, and the backward runs on detached operands.
    """
    shape = _broadcast_shape(input, target)
    live = [v.expand(shape) if isinstance(v, torch.Tensor) else v for v in (input, target)]
    fixed = [v.detach() if isinstance(v, torch.Tensor) else v for v in live]
    device = next(v for v in live if isinstance(v, torch.Tensor)).device
    ones = torch.ones(ctx.output_shape, dtype=ctx.output_dtype, device=device)
    grads = call.backward(ones, fixed[0], fixed[1], weight)
    if not second_order:
        return [
            g if isinstance(v, torch.Tensor) else None for g, v in zip(grads, live, strict=True)
        ]
    # (the losses are even in d: for a Python scalar `input`, the Hessian for `target` is it)
    pair = fixed if isinstance(input, torch.Tensor) else fixed[::-1]
    hess = call.loss_grad_hess(pair[0], pair[1], weight).hess.detach()
    residual, fixed_residual = live[0] - live[1], fixed[0] - fixed[1]
    # (an infinite residual: inf - inf would be NaN, and its Hessian is 0 anyway)
    change = torch.where(
        torch.isfinite(fixed_residual), residual - fixed_residual, torch.zeros_like(residual)
    )
    zero = hess * change
    return [
        (grad + sign * zero.to(grad.dtype)) if isinstance(v, torch.Tensor) else None
        for grad, v, sign in zip(grads, live, (1, -1), strict=True)
    ]


class _Static:
    """The loss settings as one opaque argument of the autograd Function: torch's pytrees would
    take a named tuple apart, and ``torch.func``'s forward-mode vmap rule then miscounts the
    arguments."""

    __slots__ = ("call", "first_order", "grad")

    def __init__(self, call: Options, first_order: bool = False) -> None:
        self.call = call
        self.first_order = first_order  # whether the forward may keep the element gradient
        self.grad: torch.Tensor | None = None  # that gradient, from forward to setup_context


def _check_broadcast(input: Any, target: Any) -> None:
    """torch's order: broadcasting is checked before the reduction string and the threshold
    (which `Options.build` checks); the other checks of the operands come at the call."""
    check_broadcast(*(tuple(getattr(v, "shape", ())) for v in (input, target)))


def _apply(input: Any, target: Any, weight: Any, call: Options) -> torch.Tensor:
    if torch.compiler.is_compiling():
        _trust_cached_helpers()
        return _ReverseLoss.apply(input, target, weight, _Static(call))  # type: ignore[no-untyped-call,no-any-return]
    # a first-order backward may follow: autograd records, and no torch.func transform runs
    first_order = (
        torch.is_grad_enabled()
        and not torch._C._are_functorch_transforms_active()
        and any(isinstance(v, torch.Tensor) and v.requires_grad for v in (input, target))
    )
    static = _Static(call, first_order)
    if first_order:
        # `Function.apply` without its per-call `inspect.Signature.bind` (`forward` has no
        # defaults to apply): what it runs when no `torch.func` transform is active.
        args = torch._functorch.utils.unwrap_dead_wrappers((input, target, weight, static))
        return _LOSS_APPLY(*args)  # type: ignore[no-any-return,no-untyped-call]
    return _Loss.apply(input, target, weight, static)  # type: ignore[no-untyped-call,no-any-return]


# (the method that `Function.apply` itself ends in, ``super().apply``)
_LOSS_APPLY = super(torch.autograd.Function, _Loss).apply


def _trust_cached_helpers() -> None:
    """Tell Dynamo that the ``functools.lru_cache``-wrapped helpers it meets in the kernel are
    pure, so that it traces them without a warning each.

    They are dispatch on types and namespaces (array-api-compat's ``is_*_namespace`` and
    ``_cls_to_namespace``, huberish's ``updates_in_place``): tracing the wrapped function gives
    what the cache would. Dynamo runs this function instead of tracing it (it is marked, as
    ``torch.compiler.assume_constant_result`` marks functions, without importing Dynamo when
    huberish is imported); it uses the registry torch itself fills for einops's helpers. On a
    torch without that registry it does nothing, and the warnings come back.
    """
    from torch._dynamo import utils  # already imported: Dynamo is running

    allow = getattr(utils, "allow_lru_cache_wrapper_trace_without_warning", None)
    if allow is None:  # pragma: no cover - other torch versions
        return
    for name, module in list(sys.modules.items()):
        if module is not None and name.split(".")[0] in ("huberish", "array_api_compat"):
            for value in list(vars(module).values()):
                if isinstance(value, functools._lru_cache_wrapper):
                    allow(value)


_trust_cached_helpers._dynamo_marked_constant = True  # type: ignore[attr-defined]


def smooth_l1_loss(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: ReductionArgument = "mean",
    beta: float = 1.0,
    *,
    weight: torch.Tensor | None = None,
    axis: Any = None,
    keepdims: bool = False,
) -> torch.Tensor:
    """``torch.nn.functional.smooth_l1_loss`` with huberish's kernel and analytic backward.

    Arguments and semantics as `huberish.smooth_l1_loss`; `weight` gets no gradient.
    """
    _check_broadcast(input, target)
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
    weight: torch.Tensor | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
) -> torch.Tensor:
    """``torch.nn.functional.huber_loss`` with huberish's kernel and analytic backward.

    Arguments and semantics as `huberish.huber_loss`; `weight` gets no gradient.
    """
    _check_broadcast(input, target)
    call = Options.build("huber", delta, reduction=reduction, axis=axis, keepdims=keepdims)
    return _apply(input, target, weight, call)


def pseudo_huber_loss(
    input: Any,
    target: Any,
    reduction: ReductionArgument = "mean",
    delta: float = 1.0,
    weight: torch.Tensor | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
) -> torch.Tensor:
    """`huberish.pseudo_huber_loss` as a torch autograd node (analytic backward)."""
    _check_broadcast(input, target)
    call = Options.build("pseudo_huber", delta, reduction=reduction, axis=axis, keepdims=keepdims)
    return _apply(input, target, weight, call)


class _Module(torch.nn.Module):
    """The loss modules' shared forward: options validated at construction, `weight` a buffer
    (it follows the module's ``.to()``) broadcastable to the loss shape."""

    weight: torch.Tensor | None

    def __init__(self, options: Options, weight: torch.Tensor | None) -> None:
        super().__init__()
        self._options = options
        self.reduction, self.axis, self.keepdims = options.reduction, options.axis, options.keepdims
        self.register_buffer("weight", weight)

    def forward(self, input: Any, target: Any) -> torch.Tensor:
        return _apply(input, target, self.weight, self._options)

    def extra_repr(self) -> str:
        options = self._options
        text = f"reduction={options.reduction!r}, {options.threshold_name}={options.threshold}"
        if options.axis is not None:
            text += f", axis={options.axis!r}, keepdims={options.keepdims}"
        if self.weight is not None:  # its shape: the values may be many
            text += f", weight=<{self.weight.dtype} tensor of shape {tuple(self.weight.shape)}>"
        return text


class SmoothL1Loss(_Module):
    """``torch.nn.SmoothL1Loss`` with huberish's kernel; validated at construction."""

    def __init__(
        self,
        size_average: Any = None,
        reduce: Any = None,
        reduction: ReductionArgument = "mean",
        beta: float = 1.0,
        weight: torch.Tensor | None = None,
        *,
        axis: Any = None,
        keepdims: bool = False,
    ) -> None:
        options = Options.build(
            "smooth_l1",
            beta,
            reduction=reduction,
            size_average=size_average,
            reduce=reduce,
            axis=axis,
            keepdims=keepdims,
        )
        super().__init__(options, weight)
        self.beta = options.threshold


class HuberLoss(_Module):
    """``torch.nn.HuberLoss`` with huberish's kernel; validated at construction."""

    def __init__(
        self,
        reduction: ReductionArgument = "mean",
        delta: float = 1.0,
        weight: torch.Tensor | None = None,
        *,
        axis: Any = None,
        keepdims: bool = False,
    ) -> None:
        options = Options.build("huber", delta, reduction=reduction, axis=axis, keepdims=keepdims)
        super().__init__(options, weight)
        self.delta = options.threshold


class PseudoHuberLoss(_Module):
    """`huberish.PseudoHuberLoss` as an ``nn.Module``; validated at construction."""

    def __init__(
        self,
        reduction: ReductionArgument = "mean",
        delta: float = 1.0,
        weight: torch.Tensor | None = None,
        *,
        axis: Any = None,
        keepdims: bool = False,
    ) -> None:
        options = Options.build(
            "pseudo_huber", delta, reduction=reduction, axis=axis, keepdims=keepdims
        )
        super().__init__(options, weight)
        self.delta = options.threshold
