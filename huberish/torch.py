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

from typing import Any, ClassVar

import numpy as np
import torch
from torch.autograd import forward_ad

from ._adapters import check_shapes, derivative, hessian, reduce_tangent
from ._compat import array_namespace
from ._losses import LossName
from ._reduction import ReductionArgument
from ._validate import Options, normalise_axis

__all__ = [
    "HuberLoss",
    "PseudoHuberLoss",
    "SmoothL1Loss",
    "huber_loss",
    "pseudo_huber_loss",
    "smooth_l1_loss",
]


def __dir__() -> list[str]:
    return __all__


_XP = array_namespace(torch.empty(0))  # torch's array-API namespace


class _Settings:
    """The loss settings as one opaque argument of the autograd Function: torch's pytrees would
    take a named tuple apart, and ``torch.func``'s forward-mode vmap rule then miscounts the
    arguments."""

    __slots__ = ("call", "keep")

    def __init__(self, call: Options, keep: bool) -> None:
        self.call = call
        self.keep = keep  # whether the forward also returns the element gradient (`_apply`)


class _ReverseLoss(torch.autograd.Function):
    """The loss as one autograd node: huberish's kernel forward, its analytic backward;
    ``torch.func.vmap`` batches both (`generate_vmap_rule`).

    Its outputs are the loss and, when a first-order backward is the likely next step (see
    `_apply`), the element gradient from the same kernel pass, so that the backward is one
    multiply by `grad_output` (else an empty tensor). A second-order backward
    (``create_graph``, the ``torch.func`` transforms) differentiates huberish's analytic
    backward instead (`_element_gradients`).
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(
        input: Any,
        target: Any,
        weight: Any,
        where: Any,
        avg_factor: Any,
        threshold: Any,
        settings: _Settings,
    ) -> Any:
        # (named parameters: Dynamo passes a context to a forward whose parameters it cannot
        # count, as for a Function without `setup_context`)
        operands = (input, target, weight, where, avg_factor, threshold)
        if settings.keep:
            return _kernel("loss_and_grad", settings.call, operands, _numpy_views(*operands))
        loss = _kernel("forward", settings.call, operands, None)
        return loss, loss.new_empty(0)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        *operands, settings = inputs
        loss, kept = output
        ctx.mark_non_differentiable(kept)
        tensors = [t if isinstance(t, torch.Tensor) else None for t in operands]
        ctx.save_for_backward(*tensors, kept)
        # (`kept` too, which `jvp` does not read: torch's generated vmap rule keeps one set of
        # batch dimensions, of the tensors saved last, for the backward as for `jvp`)
        ctx.save_for_forward(*tensors, kept)
        ctx.scalars = [None if isinstance(t, torch.Tensor) else t for t in operands]
        ctx.call, ctx.keep = settings.call, settings.keep
        ctx.output_shape, ctx.output_dtype = loss.shape, loss.dtype

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor, _: Any) -> tuple[Any, ...]:
        wanted = ctx.needs_input_grad
        input, target, weight, extra = _operands(ctx)
        # A graph of the gradients is being built, or forward mode may differentiate them: a
        # torch.func transform (``hessian`` under ``torch.no_grad`` runs this backward in
        # no-grad mode) or dual tensors (asked of plain tensors only: `_dual`). (Dynamo, which
        # traces this backward, has neither.)
        operands = (grad_output, input, target)
        second_order = torch.is_grad_enabled() or (
            not torch.compiler.is_compiling()
            and (any(map(_storageless, operands)) or any(map(_dual, operands)))
        )
        grad_weight = grad_threshold = None
        if wanted[2]:
            by_weight = derivative(ctx.call, "weight", input, target, weight, **extra)
            grad_weight = _summed(_spread(grad_output, ctx) * by_weight, weight)
        if wanted[5]:
            by_threshold = derivative(ctx.call, "threshold", input, target, weight, **extra)
            grad_threshold = _summed(_spread(grad_output, ctx) * by_threshold, extra["threshold"])
        rest = (None, None, grad_threshold, None)  # (`where`, `avg_factor`, the settings: none)
        if ctx.keep and not second_order:
            grad = grad_output * ctx.saved_tensors[6]
            return (grad if wanted[0] else None, -grad if wanted[1] else None, grad_weight, *rest)
        # (`axis` also takes this path: grad_output's spreading is then ours, expand, which
        # torch's legacy vmap in gradcheck(check_batched_grad=True) batches)
        if second_order or ctx.call.axis is not None:
            spread = _spread(grad_output, ctx)
            element = _element_gradients(ctx.call, ctx, second_order)
            grad_input, grad_target = (
                (spread * g).sum_to_size(v.shape).to(v.dtype)
                if isinstance(v, torch.Tensor)
                else None
                for g, v in zip(element, (input, target), strict=True)
            )
        else:
            grad_input, grad_target = ctx.call.backward(grad_output, input, target, weight, **extra)
        return (
            grad_input if wanted[0] else None,
            grad_target if wanted[1] else None,
            grad_weight,
            *rest,
        )


class _Loss(_ReverseLoss):
    """`_ReverseLoss` with forward mode (`jvp`), for eager mode and ``torch.func``. (Dynamo does not
    trace a Function that defines `jvp`: ``torch.compile`` traces `_ReverseLoss`.)"""

    generate_vmap_rule = True

    @staticmethod
    def forward(*inputs: Any) -> Any:
        # (one variadic parameter: `apply` binds the arguments to forward's signature at each
        # call, which for seven named ones costs more; benchmarks/NOTES.md, section 9)
        return _ReverseLoss.forward(*inputs)

    @staticmethod
    def jvp(
        ctx: Any,
        tangent_input: Any,
        tangent_target: Any,
        tangent_weight: Any,
        _where: Any,
        _avg_factor: Any,
        tangent_threshold: Any,
        _settings: Any,
    ) -> tuple[Any, None]:
        """The loss's tangent from the analytic gradient (`reduce_tangent`)."""
        input, target, weight, extra = _operands(ctx)
        shape = _broadcast_shape(input, target)
        element = _element_gradients(ctx.call, ctx)
        terms = [
            grad * tangent.expand(shape)
            for grad, tangent in zip(element, (tangent_input, tangent_target), strict=True)
            if tangent is not None
        ]
        for operand, tangent in (("weight", tangent_weight), ("threshold", tangent_threshold)):
            if tangent is not None:
                by_operand = derivative(ctx.call, operand, input, target, weight, **extra)
                terms.append(by_operand * tangent.expand(shape))
        product = sum(terms[1:], terms[0])
        tangent = reduce_tangent(product, ctx.call, xp=_XP)
        return tangent.reshape(ctx.output_shape).to(ctx.output_dtype), None


def _operands(ctx: Any) -> tuple[Any, Any, Any, dict[str, Any]]:
    """The forward's `input`, `target`, `weight` and the other arguments of the kernel
    (`where`, `avg_factor`, `threshold`), Python scalars put back."""
    operands = [
        scalar if saved is None else saved
        for saved, scalar in zip(ctx.saved_tensors[:6], ctx.scalars, strict=True)
    ]
    extra = {"where": operands[3], "avg_factor": operands[4], "threshold": operands[5]}
    return *operands[:3], extra


def _summed(gradient: torch.Tensor, operand: torch.Tensor) -> torch.Tensor:
    """An operand's gradient, per element of the broadcast shape, summed to its shape."""
    return gradient.sum_to_size(operand.shape).to(operand.dtype)


def _kernel(name: str, call: Options, operands: tuple[Any, ...], arrays: Any) -> Any:
    """``call.forward`` or ``call.loss_and_grad`` (`name`) of `operands` (input, target,
    weight, where, avg_factor, threshold), validated, from the generic kernel.

    Given `arrays`, NumPy views of the operands, where they are `_uniform`, the kernel's NumPy
    path (blocks, threads, less dispatch per operation) computes on them; the results come back
    as tensors sharing the NumPy results' memory (measured: benchmarks/NOTES.md).
    """
    on_numpy = arrays is not None and _uniform(operands, call)
    values = arrays if on_numpy else operands
    results = getattr(call, name)(*values[:3], **dict(zip(_EXTRA, values[3:], strict=True)))
    if not isinstance(results, tuple):
        return _from_numpy(results) if on_numpy else results
    # (a plain tuple: the vmap rule torch generates fails on a named tuple)
    return tuple(map(_from_numpy, results)) if on_numpy else tuple(results)


_EXTRA = ("where", "avg_factor", "threshold")
"""The kernel's keyword operands, after `input`, `target` and `weight`."""

_VIEWABLE = (torch.Tensor, torch.nn.Parameter)
"""Tensor types that are plain memory (not subclasses such as fake or distributed tensors)."""


def _numpy_views(*values: Any) -> tuple[Any, ...] | None:
    """NumPy arrays sharing the memory of plain strided CPU tensors (Python scalars and None
    stay as they are); None if any tensor is not one (its negative bit set, or `_storageless`,
    included)."""
    views = []
    for value in values:
        if isinstance(value, torch.Tensor):
            if not (type(value) in _VIEWABLE and value.is_cpu and value.layout is torch.strided):
                return None
            # (a lazily negated view, ``z.conj().imag``, has no NumPy view)
            if value.is_neg() or _storageless(value):
                return None
            try:
                value = value.detach().numpy()
            except TypeError:  # a dtype NumPy lacks (bfloat16)
                return None
        views.append(value)
    return tuple(views)


def _from_numpy(value: Any) -> torch.Tensor:
    """A tensor sharing the memory of a NumPy result (a NumPy scalar becomes a 0-d tensor)."""
    array = np.asarray(value)
    return torch.from_numpy(array if array.flags.writeable else array.copy())


def _uniform(operands: tuple[Any, ...], call: Options) -> bool:
    """Whether `operands` are float32 or float64 tensors of one dtype and shape (a target may be
    a Python number, which gets no gradient), with a boolean `where`, a threshold tensor, a
    number or no `avg_factor`, and the loss is over all axes.

    Then `call.loss_and_grad`'s gradient, times `grad_output`, is the backward for both input
    and target (`_apply` keeps it), and the kernel does on NumPy views of them what it does on
    the tensors: NumPy's type promotion agrees with torch's, and its checks are the same (an
    `avg_factor` array's values are checked on NumPy, not on torch: no host round trip).
    """
    input, target, weight, where, avg_factor, threshold = operands
    if call.axis is not None or not isinstance(input, torch.Tensor):
        return False
    if input.dtype not in (torch.float32, torch.float64):
        return False
    if isinstance(target, torch.Tensor):
        if target.dtype != input.dtype or target.shape != input.shape:
            return False
    elif type(target) not in (float, int):
        return False
    return (
        (weight is None or (isinstance(weight, torch.Tensor) and weight.dtype == input.dtype))
        and (where is None or (isinstance(where, torch.Tensor) and where.dtype == torch.bool))
        and (avg_factor is None or type(avg_factor) in (float, int))
        and (threshold is None or isinstance(threshold, torch.Tensor))
    )


def _tracked(value: Any) -> bool:
    """Whether reverse-mode autograd records what is computed from `value`. (Only a plain
    tensor tells: a `vmap`-batched one reads False even where the tensor it batches is
    recorded, so `_apply` also asks for NumPy views, which such a tensor has not.)"""
    return isinstance(value, torch.Tensor) and value.requires_grad and torch.is_grad_enabled()


def _dual(value: Any) -> bool:
    """Whether `value` is a forward-mode dual tensor (recorded under ``torch.no_grad`` too)."""
    if not isinstance(value, torch.Tensor):
        return False
    return forward_ad.unpack_dual(value).tangent is not None  # type: ignore[no-untyped-call]


def _storageless(value: Any) -> bool:
    """Whether `value` is a tensor without memory of its own: a wrapper of a ``torch.func``
    transform or of functionalization (whose ``.numpy()`` would read no data)."""
    if not isinstance(value, torch.Tensor):
        return False
    try:
        value.untyped_storage().data_ptr()
    except (RuntimeError, NotImplementedError):
        return True
    return False


def _broadcast_shape(input: Any, target: Any) -> torch.Size:
    shapes = (torch.as_tensor(v).shape for v in (input, target))
    return torch.broadcast_shapes(*shapes)  # type: ignore[no-untyped-call,no-any-return]


def _spread(grad_output: torch.Tensor, ctx: Any) -> torch.Tensor:
    """`grad_output` (one value per loss value) on the operands' broadcast shape."""
    input, target, *_ = _operands(ctx)
    shape, call = _broadcast_shape(input, target), ctx.call
    if call.axis is not None and not call.keepdims:
        for axis in normalise_axis(call.axis, ndim=len(shape)) or ():
            grad_output = grad_output.unsqueeze(axis)
    return grad_output.expand(shape)


def _element_gradients(call: Options, ctx: Any, second_order: bool = True) -> list[Any]:
    """Per element of the broadcast shape, the derivatives of the loss value it belongs to
    for `input` and for `target` (None for a Python scalar).

    Their values are huberish's analytic backward with a grad_output of ones on the operands
    broadcast to their common shape (so nothing is summed over broadcast axes). Their own
    derivatives, for second-order transforms, are huberish's analytic Hessian diagonal
    (`huberish._adapters.hessian`): a term ``h * (d - d.detach())``, zero in value, carries
    it, and the backward runs on detached operands.
    """
    input, target, weight, extra = _operands(ctx)
    shape = _broadcast_shape(input, target)
    live = [v.expand(shape) if isinstance(v, torch.Tensor) else v for v in (input, target)]
    fixed = [v.detach() if isinstance(v, torch.Tensor) else v for v in live]
    device = next(v for v in live if isinstance(v, torch.Tensor)).device
    ones = torch.ones(ctx.output_shape, dtype=ctx.output_dtype, device=device)
    grads = call.backward(ones, fixed[0], fixed[1], weight, **extra)
    if not second_order:
        return [
            g if isinstance(v, torch.Tensor) else None for g, v in zip(grads, live, strict=True)
        ]
    input_is_array = isinstance(input, torch.Tensor)
    hess = hessian(
        call, fixed[0], fixed[1], weight, input_is_array=input_is_array, **extra
    ).detach()
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


def _apply(
    input: Any,
    target: Any,
    weight: Any,
    call: Options,
    where: Any = None,
    avg_factor: Any = None,
) -> torch.Tensor:
    call, threshold = call.split()  # (a threshold per element is an operand, not a setting)
    operands = (input, target, weight, where, avg_factor, threshold)
    if torch.compiler.is_compiling():
        return _ReverseLoss.apply(*operands, _Settings(call, keep=False))[0]  # type: ignore[no-untyped-call,no-any-return]
    # Plain CPU tensors that autograd records nothing from (torch.no_grad, an evaluation
    # loop): no autograd node, the kernel directly.
    if not any(map(_tracked, operands)):
        arrays = _numpy_views(*operands)
        if arrays is not None and not any(map(_dual, operands)):
            return _kernel("forward", call, operands, arrays)  # type: ignore[no-any-return]
    # Keep the forward's element gradient when autograd records a graph through an operand.
    # Under the torch.func transforms it goes unused (their backward builds a graph, so it
    # takes the second-order path), at the cost of a gradient computed in the forward.
    keep = (
        torch.is_grad_enabled()
        and any(isinstance(v, torch.Tensor) and v.requires_grad for v in (input, target))
        and _uniform(operands, call)
    )
    return _Loss.apply(*operands, _Settings(call, keep))[0]  # type: ignore[no-untyped-call,no-any-return]


def smooth_l1_loss(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: ReductionArgument = "mean",
    beta: float | torch.Tensor = 1.0,
    *,
    weight: torch.Tensor | None = None,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
) -> torch.Tensor:
    """``torch.nn.functional.smooth_l1_loss`` with huberish's kernel and analytic backward.

    Arguments and semantics as `huberish.smooth_l1_loss`; `weight` gets its gradient too.
    """
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
    delta: float | torch.Tensor = 1.0,
    weight: torch.Tensor | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
) -> torch.Tensor:
    """``torch.nn.functional.huber_loss`` with huberish's kernel and analytic backward.

    Arguments and semantics as `huberish.huber_loss`; `weight` gets its gradient too, as in
    torch.
    """
    check_shapes(input, target)
    call = Options.build("huber", delta, reduction=reduction, axis=axis, keepdims=keepdims)
    return _apply(input, target, weight, call, where, avg_factor)


def pseudo_huber_loss(
    input: Any,
    target: Any,
    reduction: ReductionArgument = "mean",
    delta: float | torch.Tensor = 1.0,
    weight: torch.Tensor | None = None,
    *,
    axis: Any = None,
    keepdims: bool = False,
    where: Any = None,
    avg_factor: Any = None,
) -> torch.Tensor:
    """`huberish.pseudo_huber_loss` as a torch autograd node (analytic backward)."""
    check_shapes(input, target)
    call = Options.build("pseudo_huber", delta, reduction=reduction, axis=axis, keepdims=keepdims)
    return _apply(input, target, weight, call, where, avg_factor)


def _setting(name: str) -> Any:
    """A module setting (`name` as the constructor calls it), read from the module's `Options`
    at each call; assigning it builds, and so validates, new options (an invalid value raises
    and leaves the old ones)."""
    if name not in ("beta", "delta"):
        return property(
            lambda self: getattr(self._options, name),
            lambda self, value: setattr(self, "_options", self._options.changed(**{name: value})),
        )
    return property(
        lambda self: self._current().threshold,
        lambda self, value: self._hold(self._options.changed(**{name: value})),
    )


class _Module(torch.nn.modules.loss._Loss):
    """The loss modules' shared forward: torch loss modules whose settings (`reduction`, the
    threshold, `axis`, `keepdims`) are read at each call and validated when assigned (an invalid
    value raises and leaves the old one); `weight` a buffer (it follows the module's ``.to()``)
    broadcastable to the loss shape, which a weight given per call multiplies."""

    _loss: ClassVar[LossName]
    _options: Options
    weight: torch.Tensor | None

    def __init__(
        self,
        threshold: Any,
        reduction: Any,
        weight: torch.Tensor | None,
        *,
        size_average: Any = None,
        reduce: Any = None,
        axis: Any = None,
        keepdims: Any = False,
    ) -> None:
        options = Options.build(
            self._loss,
            threshold,
            reduction=reduction,
            size_average=size_average,
            reduce=reduce,
            axis=axis,
            keepdims=keepdims,
            held=True,
        )
        self._options = options  # (before torch's __init__, which assigns `reduction`)
        self._learnable = False
        super().__init__(reduction=options.reduction)
        self.register_buffer("weight", weight)
        self._hold(options)

    def __setattr__(self, name: str, value: Any) -> None:
        # A setting goes to its property, which validates it: torch's own __setattr__ would
        # register a Parameter (a learnable threshold) without asking it.
        if isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def _hold(self, options: Options) -> None:
        """Hold `options`; a `Parameter` threshold is also the module's parameter `threshold`
        (the optimiser finds it in ``parameters()``), which the module then reads at each call
        (`_current`)."""
        if torch.nn.utils.parametrize.is_parametrized(self, "threshold"):
            msg = (
                f"The module's threshold is parametrized: assign `threshold` (the "
                f"parametrization's right_inverse takes it), or remove the parametrization "
                f"before assigning `{options.threshold_name}`."
            )
            raise ValueError(msg)
        learnable = isinstance(options.threshold, torch.nn.Parameter)
        if learnable or self._learnable:
            self.register_parameter("threshold", options.threshold if learnable else None)
        self._options, self._learnable = options, learnable

    def _current(self) -> Options:
        """The options, with the module's parameter `threshold` where it has one, as it is now:
        ``.to()``, ``torch.func.functional_call``, parametrizations and
        ``load_state_dict(assign=True)`` replace it (its entries are checked at the call)."""
        learned = getattr(self, "threshold", None) if self._learnable else None
        return self._options if learned is None else self._options._replace(threshold=learned)

    reduction = _setting("reduction")
    axis = _setting("axis")
    keepdims = _setting("keepdims")

    def forward(
        self,
        input: Any,
        target: Any,
        weight: Any = None,
        *,
        where: Any = None,
        avg_factor: Any = None,
    ) -> torch.Tensor:
        """The loss; a per-call `weight` multiplies the module's (and gets its gradient);
        `where` and `avg_factor` as in `huberish.huber_loss`."""
        if self.weight is not None:
            weight = self.weight if weight is None else self.weight * weight
        return _apply(input, target, weight, self._current(), where, avg_factor)

    def extra_repr(self) -> str:
        options = self._current()
        threshold = options.threshold
        if isinstance(threshold, torch.Tensor):  # its shape: the values may be many
            threshold = f"<{threshold.dtype} tensor of shape {tuple(threshold.shape)}>"
        text = f"reduction={options.reduction!r}, {options.threshold_name}={threshold}"
        if options.axis is not None:
            text += f", axis={options.axis!r}, keepdims={options.keepdims}"
        if self.weight is not None:  # its shape: the values may be many
            text += f", weight=<{self.weight.dtype} tensor of shape {tuple(self.weight.shape)}>"
        return text


class SmoothL1Loss(_Module):
    """``torch.nn.SmoothL1Loss`` with huberish's kernel; validated at construction and at each
    assignment of a setting."""

    _loss = "smooth_l1"

    def __init__(
        self,
        size_average: Any = None,
        reduce: Any = None,
        reduction: ReductionArgument = "mean",
        beta: float | torch.Tensor = 1.0,
        weight: torch.Tensor | None = None,
        *,
        axis: Any = None,
        keepdims: bool = False,
    ) -> None:
        super().__init__(
            beta,
            reduction,
            weight,
            size_average=size_average,
            reduce=reduce,
            axis=axis,
            keepdims=keepdims,
        )

    beta = _setting("beta")


class HuberLoss(_Module):
    """``torch.nn.HuberLoss`` with huberish's kernel; validated at construction and at each
    assignment of a setting."""

    _loss = "huber"
    delta = _setting("delta")

    def __init__(
        self,
        reduction: ReductionArgument = "mean",
        delta: float | torch.Tensor = 1.0,
        weight: torch.Tensor | None = None,
        *,
        axis: Any = None,
        keepdims: bool = False,
    ) -> None:
        super().__init__(delta, reduction, weight, axis=axis, keepdims=keepdims)


class PseudoHuberLoss(_Module):
    """`huberish.PseudoHuberLoss` as a torch loss module; validated at construction and at
    each assignment of a setting."""

    _loss = "pseudo_huber"
    delta = _setting("delta")

    def __init__(
        self,
        reduction: ReductionArgument = "mean",
        delta: float | torch.Tensor = 1.0,
        weight: torch.Tensor | None = None,
        *,
        axis: Any = None,
        keepdims: bool = False,
    ) -> None:
        super().__init__(delta, reduction, weight, axis=axis, keepdims=keepdims)
