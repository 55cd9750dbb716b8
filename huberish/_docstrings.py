"""Docstring fragments shared by the functional and class APIs (filled in with `fill`).

A fragment's first line has no indentation, its later lines the indentation of a docstring
section's body (a parameter's description: 8 spaces); ``$name`` in a docstring, at the
indentation of a section (4 spaces), is replaced by the fragment `name`.
"""

from collections.abc import Callable
from string import Template
from typing import TypeVar

__all__ = ["fill"]

F = TypeVar("F", bound=Callable[..., object])

_PER_ELEMENT = """
        An array of the operands' library broadcastable to the elements (0-d included) is a
        threshold per element (per channel, per sample), checked where its values are at
        hand; under ``jax.jit`` and on Dask an invalid entry gives NaN at its elements. The
        adapters give it its derivative (a learnable threshold)."""

_FRAGMENTS = {
    "smooth_l1_formula": """\
Per element, with ``d = input - target``: ``0.5 * d**2 / beta`` where ``|d| < beta``, else
    ``|d| - 0.5 * beta``.""",
    "huber_formula": """\
Per element, with ``d = input - target``: ``0.5 * d**2`` where ``|d| < delta``, else
    ``delta * (|d| - 0.5 * delta)``; that is, ``delta * smooth_l1_loss(beta=delta)``.""",
    "pseudo_huber_formula": """\
Per element, with ``d = input - target``: ``delta**2 * (sqrt(1 + (d / delta)**2) - 1)``,
    equal to ``scipy.special.pseudo_huber(delta, d)``: about ``0.5 * d**2`` for small ``|d|``,
    ``delta * |d|`` for large.""",
    "family": """\
The three losses, with ``d = input - target``, are quadratic near 0 and linear far from
    it. Smooth L1 is ``0.5 * d**2 / beta`` inside ``|d| < beta`` and ``|d| - 0.5 * beta``
    outside: its linear part has slope 1, and ``beta = 0`` is the L1 loss. Huber is
    ``delta * smooth_l1(beta=delta)``: ``0.5 * d**2`` inside, slope `delta` outside.
    Pseudo-Huber ``delta**2 * (sqrt(1 + (d / delta)**2) - 1)`` is a smooth Huber: its second
    derivative ``(1 + (d / delta)**2)**-1.5`` is never 0, which Newton steps (gradient
    boosting) need.

    ``'mean'`` is the sum of the (weighted) element losses divided by the number of elements
    reduced: all elements of the broadcast shape, or those along `axis`; weights do not change
    the divisor. The gradient and the Hessian diagonal are those of ``sum(loss)``, with the
    shapes of the operands.""",
    "class_attributes": """\
reduction : {'mean', 'sum', 'none'}
        The resolved reduction (after torch's legacy arguments, if any).
    axis : int, tuple of ints or None
        The axes that ``'mean'`` and ``'sum'`` reduce, as given; None for all.
    keepdims : bool
        Whether the reduced axes are kept, with size 1.""",
    "class_methods": """\
Calling the instance (or `forward`) gives the loss; `loss_and_grad` the loss and its gradient
    with respect to `input`; `loss_grad_hess` also the Hessian diagonal; `backward` the
    gradients of ``sum(grad_output * loss)`` with respect to `input` and `target`. Each takes
    ``(input, target, weight=None)``, the weight per call (as Keras' ``sample_weight``), and
    the keyword arguments `where`, `avg_factor` and `xp` of the functions; `input` and
    `target` broadcast together (with torch's warning if their shapes differ). The options
    are validated once, at construction, and the instance holds only them (they are
    read-only), so one instance may serve many threads.""",
    "operands": """\
input : array or Python float
        Predictions. An array of any real dtype (integers are promoted to the default real
        floating dtype of their device), or a Python scalar if `target` is an array.
    target : array or Python float
        Targets, broadcastable with `input`. A shape different from `input`'s warns as in
        torch, then broadcasts.""",
    "legacy": """\
size_average, reduce : bool or None, optional
        Deprecated torch arguments. When either is given it overrides `reduction`, with
        torch's warning (see `resolve_reduction`).""",
    "reduction": """\
reduction : {'mean', 'sum', 'none', 'weighted_mean'}, optional
        ``'mean'`` divides the sum by the number of elements of the broadcast shape (or by
        `avg_factor`), ``'sum'`` sums, ``'none'`` returns the per-element losses, and
        ``'weighted_mean'`` divides the weighted sum by the sum of the weights (broadcast to
        the elements; ``'mean'`` without a weight; a total weight of 0 gives 0).""",
    "beta": """\
beta : float or array, optional
        Threshold between the quadratic and the linear regime, ``>= 0``. ``beta == 0`` is
        exactly the L1 loss; ``beta == inf`` gives 0 for finite residuals."""
    + _PER_ELEMENT,
    "delta": """\
delta : float or array, optional
        Threshold between the quadratic and the linear regime, ``> 0``."""
    + _PER_ELEMENT,
    "weight": """\
weight : array, optional
        Per-element weights, broadcastable to the broadcast shape of `input` and `target`.
        They multiply each element's loss and gradient; ``'mean'`` still divides by the
        number of elements (torch's rule for `huber_loss`). The adapters `huberish.torch` and
        `huberish.jax` give it its derivative, as torch does.""",
    "grad_output": """\
grad_output : array or Python float
        Gradient with respect to the loss: of the broadcast shape for ``reduction='none'``,
        a 0-d array or a scalar otherwise.""",
    "pseudo_delta": """\
delta : float or array, optional
        Scale of the transition from quadratic to linear, ``> 0``."""
    + _PER_ELEMENT,
    "axis": """\
axis : int or tuple of ints, optional
        Axes of the broadcast shape that ``'mean'`` and ``'sum'`` reduce (a loss per sample,
        say); all of them by default. Not allowed with ``'none'``.
    keepdims : bool, optional
        Keep the reduced axes, with size 1.""",
    "where": """\
where : array of bool, optional
        The elements to include, broadcastable to the broadcast shape (NumPy's name). An
        excluded element contributes exactly 0 to the loss and to every derivative, even
        where its operands are inf or NaN; ``'mean'`` divides by the number of included
        elements (NaN if there is none), ``'weighted_mean'`` by their total weight.
    avg_factor : number or array, optional
        With ``'mean'`` only: the divisor instead of the element count (mmdetection's
        meaning), ``>= 0``, a number or an array of the operands' library broadcastable to
        the loss's shape (one per sample with `axis`); 0 gives a loss and gradient of 0.
        NumPy's values are checked; other libraries' stay where they are, unchecked.""",
    "xp": """\
xp : array namespace, optional
        The namespace of the arrays; found from them when omitted.""",
    "raises": """\
Raises
    ------
    TypeError
        For an argument that is not an array (or a Python scalar operand), arrays from
        different libraries, a bool or complex dtype, or a non-numeric threshold.
    ValueError
        For shapes that do not broadcast, an invalid `reduction`, a threshold out of range,
        arrays on different devices, or an `avg_factor` with another reduction than
        ``'mean'``, or below 0.""",
}


def fill(function: F) -> F:
    """Replace ``$name`` placeholders in `function`'s docstring with the shared fragments."""
    if function.__doc__:
        function.__doc__ = Template(function.__doc__).substitute(_FRAGMENTS)
    return function
