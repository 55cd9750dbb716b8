"""Docstring fragments shared by the functional and class APIs (filled in with `fill`)."""

from collections.abc import Callable
from string import Template
from typing import TypeVar

__all__ = ["fill"]

F = TypeVar("F", bound=Callable[..., object])

_FRAGMENTS = {
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
reduction : {'mean', 'sum', 'none'}, optional
        ``'mean'`` divides the sum by the number of elements of the broadcast shape,
        ``'sum'`` sums, ``'none'`` returns the per-element losses.""",
    "beta": """\
beta : float, optional
        Threshold between the quadratic and the linear regime, ``>= 0``. ``beta == 0`` is
        exactly the L1 loss; ``beta == inf`` gives 0 for finite residuals.""",
    "delta": """\
delta : float, optional
        Threshold between the quadratic and the linear regime, ``> 0``.""",
    "weight": """\
weight : array, optional
        Per-element weights, broadcastable to the broadcast shape of `input` and `target`.
        They multiply each element's loss and gradient; ``'mean'`` still divides by the
        number of elements (torch's rule for `huber_loss`). The weight gets no gradient.""",
    "grad_output": """\
grad_output : array or Python float
        Gradient with respect to the loss: of the broadcast shape for ``reduction='none'``,
        a 0-d array or a scalar otherwise.""",
    "pseudo_delta": """\
delta : float, optional
        Scale of the transition from quadratic to linear, ``> 0``.""",
    "axis": """\
axis : int or tuple of ints, optional
        Axes of the broadcast shape that ``'mean'`` and ``'sum'`` reduce (a loss per sample,
        say); all of them by default. Not allowed with ``'none'``.
    keepdims : bool, optional
        Keep the reduced axes, with size 1.""",
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
        or arrays on different devices.""",
}


def fill(function: F) -> F:
    """Replace ``$name`` placeholders in `function`'s docstring with the shared fragments."""
    if function.__doc__:
        function.__doc__ = Template(function.__doc__).substitute(_FRAGMENTS)
    return function
