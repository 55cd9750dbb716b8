"""Resolve PyTorch's `size_average` / `reduce` / `reduction` arguments into one reduction."""

import numbers
from typing import Any, Literal

import numpy as np

from ._warn import warn

__all__ = ["Reduction", "ReductionArgument", "resolve_reduction"]

Reduction = Literal["none", "mean", "sum", "weighted_mean"]
"""A resolved reduction."""
ReductionArgument = Literal["none", "mean", "sum", "weighted_mean", "elementwise_mean"]
"""What a `reduction` argument accepts: torch's strings, with its deprecated alias, and
``'weighted_mean'`` (the weighted sum over the sum of the weights)."""

_VALID: tuple[Reduction, ...] = ("none", "mean", "sum", "weighted_mean")


def resolve_reduction(
    size_average: Any = None, reduce: Any = None, reduction: ReductionArgument = "mean"
) -> Reduction:
    """Turn PyTorch's reduction arguments into ``'none'``, ``'mean'``, ``'sum'`` or
    ``'weighted_mean'``.

    Follows ``torch.nn._reduction`` exactly: the legacy arguments, when either is given, override
    `reduction` (``None`` counts as ``True``) and emit torch's deprecation warning; the
    ``'elementwise_mean'`` alias is accepted as ``'mean'`` with torch's warning.

    Parameters
    ----------
    size_average : bool or None, optional
        Deprecated. ``False`` sums instead of averaging (when `reduce` is true).
    reduce : bool or None, optional
        Deprecated. ``False`` disables the reduction, whatever `size_average` says.
    reduction : {'mean', 'sum', 'none', 'weighted_mean', 'elementwise_mean'}, optional
        The reduction to apply to the per-element losses (``'elementwise_mean'`` is torch's
        deprecated alias of ``'mean'``).

    Returns
    -------
    str
        ``'none'``, ``'mean'``, ``'sum'`` or ``'weighted_mean'``.

    Raises
    ------
    TypeError
        If `reduction` is a number (the threshold given by position, where torch's order puts
        `reduction`), or a legacy argument is neither None nor a bool.
    ValueError
        If `reduction` is not one of the accepted strings (and no legacy argument overrides it).

    Warns
    -----
    UserWarning
        When a legacy argument is given, or ``reduction='elementwise_mean'``.

    Examples
    --------
    >>> import huberish as hb
    >>> hb.resolve_reduction(reduction="sum")
    'sum'
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     hb.resolve_reduction(size_average=False)
    'sum'
    """
    for name, value in (("size_average", size_average), ("reduce", reduce)):
        if not (value is None or isinstance(value, bool | int | np.bool_)):
            msg = f"`{name}` must be None or a bool; got {type(value).__name__}."
            if _is_number(value):
                msg += _BY_POSITION
            raise TypeError(msg)
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        resolved: Reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warn(
            "size_average and reduce args will be deprecated, "
            f"please use reduction='{resolved}' instead."
        )
        return resolved
    if isinstance(reduction, str):
        if reduction in _VALID:
            return reduction
        if reduction == "elementwise_mean":
            warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.")
            return "mean"
    if _is_number(reduction):
        msg = f"`reduction` must be a string such as 'mean'; got {reduction}, a number."
        raise TypeError(msg + _BY_POSITION)
    msg = f"{reduction} is not a valid value for reduction"
    raise ValueError(msg)


# The usual cause of a number where a reduction argument belongs: optax's and Keras' order.
_BY_POSITION = (
    " As in torch, `reduction` is the third positional argument (in smooth_l1_loss the fifth, "
    "after `size_average` and `reduce`): pass the threshold by keyword, `delta=` or `beta=`."
)


def _is_number(value: Any) -> bool:
    """A real number or a 0-d array (a JAX tracer included), as opposed to a string or a bool."""
    if isinstance(value, bool | np.bool_ | str):
        return False
    return isinstance(value, numbers.Number) or getattr(value, "shape", None) == ()
