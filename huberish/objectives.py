"""Gradient-boosting objectives: a loss's gradient with a choice of curvature, for any booster."""

import inspect
import math
import numbers
from typing import Any, Literal

import numpy as np

from ._compat import Array, ArrayT, Namespace, array_namespace, clip, device, overflow_unwarned
from ._losses import LOSSES, LossName
from ._validate import Options, broadcast_shapes, operand, per_element

__all__ = [
    "Curvature",
    "Objective",
    "huber_objective",
    "pseudo_huber_objective",
    "smooth_l1_objective",
]

Curvature = Literal["exact", "constant", "majorizer"]
"""The curvature an objective gives a booster in place of (or as) the Hessian."""

_CURVATURES = ("exact", "constant", "majorizer")


class Objective:
    """A boosting objective: call it as ``objective(y_true, y_pred[, sample_weight])`` for
    ``(grad, hess)``.

    Made by `smooth_l1_objective`, `huber_objective` and `pseudo_huber_objective`, which
    describe the curvatures. The signature is the scikit-learn-API objective of LightGBM
    (``LGBMRegressor(objective=...)``) and XGBoost (``XGBRegressor(objective=...)``); for their
    native ``train`` functions, wrap it (``lambda preds, data: objective(data.get_label(), preds,
    data.get_weight())``, see the examples page). `grad` and `hess` have the shape, dtype and
    array library of `y_pred`; `y_true` broadcasts to it. ``sample_weight`` (a row's weight,
    also of shape ``(n,)`` for a 2-d ``y_pred`` of ``n`` rows) multiplies both, after the
    floor: a weight of 2 is a duplicated row.
    """

    __slots__ = ("_constant", "_curvature", "_hess_floor", "_options")

    def __init__(self, loss: LossName, threshold: Any, *, curvature: Any, hess_floor: Any) -> None:
        if per_element(threshold):
            msg = f"An objective's `{LOSSES[loss].threshold}` must be a number; got an array."
            raise TypeError(msg)
        self._options = Options.build(loss, threshold, reduction="none")
        self._curvature: Curvature = _check_curvature(curvature)
        self._hess_floor = _check_hess_floor(hess_floor)
        # the curvature of the quadratic zone: 1, or smooth L1's 1 / beta
        self._constant = 1.0
        if loss == "smooth_l1":
            self._constant = 1.0 / self.threshold if self.threshold > 0 else math.inf
        if self._curvature != "exact" and not math.isfinite(self._constant):
            msg = (
                f"`curvature={self._curvature!r}` needs a smooth L1 `beta` > 0: with "
                f"beta={self.threshold!r} (the L1 loss) the quadratic zone's curvature 1 / beta "
                "is infinite. Use curvature='exact' with a `hess_floor`."
            )
            raise ValueError(msg)

    @property
    def loss(self) -> LossName:
        """``'smooth_l1'``, ``'huber'`` or ``'pseudo_huber'``."""
        return self._options.loss

    @property
    def threshold(self) -> float:
        """Smooth L1's `beta`, or the `delta` of Huber and pseudo-Huber."""
        return float(self._options.threshold)

    @property
    def curvature(self) -> Curvature:
        """``'exact'``, ``'constant'`` or ``'majorizer'``."""
        return self._curvature

    @property
    def hess_floor(self) -> float:
        """The least curvature per unit weight."""
        return self._hess_floor

    def __repr__(self) -> str:
        options = self._options
        return (
            f"{options.loss}_objective({options.threshold_name}={options.threshold!r}, "
            f"curvature={self._curvature!r}, hess_floor={self._hess_floor!r})"
        )

    def __call__(
        self, y_true: Any, y_pred: ArrayT, sample_weight: Any = None
    ) -> tuple[ArrayT, ArrayT]:
        """The gradient and the curvature of the loss at `y_pred`, element-wise.

        Parameters
        ----------
        y_true : array or float
            The targets; broadcast to `y_pred`'s shape.
        y_pred : array
            The booster's current predictions (raw scores).
        sample_weight : array, optional
            Per-element weights that broadcast to `y_pred`, or per-row weights of shape
            ``(n,)`` for a 2-d `y_pred` of ``n`` rows (multi-output boosting).

        Returns
        -------
        tuple of two arrays
            ``(grad, hess)`` with the shape, dtype and library of `y_pred`.
        """
        if hasattr(y_pred, "get_label"):  # a LightGBM Dataset or an XGBoost DMatrix
            msg = (
                "The objective takes `(y_true, y_pred[, sample_weight])`, the boosters' "
                "scikit-learn-API signature; their native `train` passes `(preds, data)`: wrap "
                "it as `lambda preds, data: objective(data.get_label(), preds, data.get_weight())`."
            )
            raise TypeError(msg)
        _, grad, hess = self._options.loss_grad_hess(y_pred, y_true)
        xp = array_namespace(grad)
        if self._curvature == "constant":
            hess = xp.full_like(grad, self._constant)
        elif self._curvature == "majorizer":
            hess = self._majorizer(grad, y_pred, y_true, xp=xp)
        if self._hess_floor > 0:
            hess = clip(hess, self._hess_floor, math.inf, xp=xp)
        if sample_weight is not None:
            weight = _row_weight(sample_weight, grad, xp=xp)
            grad, hess = grad * weight, hess * weight
        return grad, hess

    def _majorizer(self, grad: Array, y_pred: Any, y_true: Any, *, xp: Namespace) -> Array:
        """psi(d) / d, from the kernel's gradient psi: the curvature of the quadratic that
        touches the loss at d and lies above it everywhere (the loss is a function of d**2 with
        a concave profile). At d = 0, its limit: the quadratic zone's curvature."""
        dtype, where = grad.dtype, device(grad)
        with overflow_unwarned(xp):  # (inf - inf: NaN, as the kernel's gradient)
            d = _as(y_pred, dtype, where, xp=xp) - _as(y_true, dtype, where, xp=xp)
            at_zero = d == 0
            ratio = grad / xp.where(at_zero, xp.ones_like(d), d)
        return xp.where(at_zero, xp.full_like(grad, self._constant), ratio)

    def init_score(self, y_true: ArrayT, sample_weight: Any = None) -> ArrayT:
        """The (weighted) median of `y_true`: the best constant model for these losses, far
        from the targets (the loss is then about ``|d|``), and a start that outliers do not drag.

        Pass it as LightGBM's ``init_score`` (``np.full(n, objective.init_score(y))``) or
        XGBoost's ``base_score``. An even count (or an exact half of the weight) gives the
        midpoint of the two middle values, as `numpy.median`; a weight of 2 counts a row
        twice.

        Parameters
        ----------
        y_true : array
            The targets (all elements).
        sample_weight : array, optional
            Non-negative weights of `y_true`'s shape (or broadcasting to it).

        Returns
        -------
        array
            0-d, in `y_true`'s library (a NumPy scalar on NumPy); NaN for no targets.
        """
        y = operand(y_true, name="y_true")
        xp = array_namespace(y)
        if not xp.isdtype(y.dtype, "real floating"):
            y = xp.astype(y, xp.__array_namespace_info__().default_dtypes()["real floating"])
        values = xp.reshape(y, (-1,))
        if values.shape[0] == 0:
            return xp.asarray(math.nan, dtype=y.dtype, device=device(y))  # type: ignore[no-any-return]
        order = xp.argsort(values)
        values = xp.take(values, order)
        if sample_weight is None:
            cumulative = xp.cumulative_sum(xp.ones_like(values))
        else:
            weight = xp.broadcast_to(_as(operand(sample_weight, name="sample_weight"),
                                         y.dtype, device(y), xp=xp), y.shape)  # fmt: skip
            cumulative = xp.cumulative_sum(xp.take(xp.reshape(weight, (-1,)), order))
        half = xp.reshape(cumulative[-1] / 2, (1,))
        last = values.shape[0] - 1
        low = xp.clip(xp.searchsorted(cumulative, half, side="left"), max=last)
        high = xp.clip(xp.searchsorted(cumulative, half, side="right"), max=last)
        median = (xp.take(values, low) + xp.take(values, high)) / 2
        return median[0]  # type: ignore[no-any-return]


def _as(x: Any, dtype: Any, where: Any, *, xp: Namespace) -> Array:
    """`x` (an operand as `huberish._validate.operand` leaves it) as an array of `dtype`."""
    return xp.asarray(x, dtype=dtype, device=where)


def _row_weight(sample_weight: Any, grad: Array, *, xp: Namespace) -> Array:
    """`sample_weight` as an array that broadcasts against `grad` (a row's weight as a column)."""
    weight = _as(operand(sample_weight, name="sample_weight"), grad.dtype, device(grad), xp=xp)
    shape, grad_shape = tuple(weight.shape), tuple(grad.shape)
    if len(shape) == 1 and len(grad_shape) == 2 and shape[0] == grad_shape[0] != grad_shape[1]:
        weight = xp.reshape(weight, (shape[0], 1))
        shape = tuple(weight.shape)
    if broadcast_shapes(shape, grad_shape) != grad_shape:
        msg = f"`sample_weight` of shape {shape} does not broadcast to `y_pred`'s {grad_shape}."
        raise ValueError(msg)
    return weight


def _check_curvature(curvature: Any) -> Curvature:
    if not (isinstance(curvature, str) and curvature in _CURVATURES):
        msg = f"`curvature` must be one of {', '.join(map(repr, _CURVATURES))}; got {curvature!r}."
        raise ValueError(msg)
    return curvature  # type: ignore[return-value]


def _check_hess_floor(hess_floor: Any) -> float:
    is_real = isinstance(hess_floor, numbers.Real) and not isinstance(hess_floor, bool | np.bool_)
    if not is_real:
        msg = f"`hess_floor` must be a real number; got {hess_floor!r}."
        raise TypeError(msg)
    value = float(hess_floor)
    if not (0.0 <= value < math.inf):  # (False for NaN)
        msg = f"`hess_floor` must be a finite non-negative number; got {value!r}."
        raise ValueError(msg)
    return value


_CURVATURE_DOC = """

    Parameters
    ----------
    {name} : float, default 1.0
        {threshold}
    curvature : {{'exact', 'constant', 'majorizer'}}, default 'exact'
        What the booster gets as the Hessian. A boosting leaf takes the Newton step
        ``-sum(grad) / sum(hess)`` over its rows, so this chooses the step:

        - ``'exact'``: the Hessian diagonal, as `{grad_hess}` computes it: {exact}
        - ``'constant'``: the quadratic zone's curvature everywhere, {constant}: a gradient
          step on the {clipped} (LightGBM's own ``huber`` objective).
        - ``'majorizer'``: ``psi(d) / d``, the gradient over the residual ({majorizer}; the
          IRLS weight): the curvature of a quadratic that touches the loss at ``d`` and lies
          above it, so a Newton step never overshoots; one row's step is exactly ``-d``.
    hess_floor : float, default 0.0
        The least curvature (per unit weight), for boosters that reject a zero Hessian.

    Returns
    -------
    Objective
        Call it as ``(y_true, y_pred)`` or ``(y_true, y_pred, sample_weight)`` for
        ``(grad, hess)``; its `init_score` is the (weighted) median of the targets.

    Raises
    ------
    ValueError
        For an unknown `curvature`, an invalid `{name}` or `hess_floor`{raises_extra}.
    TypeError
        For a `{name}` or `hess_floor` that is not a real number.

    See Also
    --------
    Objective : the returned objective.
"""


def smooth_l1_objective(
    beta: float = 1.0, *, curvature: Curvature = "exact", hess_floor: float = 0.0
) -> Objective:
    """The smooth-L1 loss as a boosting objective.

    Examples
    --------
    >>> import numpy as np
    >>> import huberish as hb
    >>> objective = hb.smooth_l1_objective(beta=2.0, curvature="majorizer")
    >>> objective
    smooth_l1_objective(beta=2.0, curvature='majorizer', hess_floor=0.0)
    >>> objective(np.zeros(3), np.asarray([0.0, 1.0, 4.0]))
    (array([0. , 0.5, 1. ]), array([0.5 , 0.5 , 0.25]))
    """
    return Objective("smooth_l1", beta, curvature=curvature, hess_floor=hess_floor)


def huber_objective(
    delta: float = 1.0, *, curvature: Curvature = "exact", hess_floor: float = 0.0
) -> Objective:
    """The Huber loss as a boosting objective.

    ``huber_objective(delta, curvature="constant")`` is LightGBM's built-in ``huber``
    objective with ``alpha=delta`` (the same gradients and Hessians; LightGBM starts from the
    mean of the targets).

    Examples
    --------
    >>> import numpy as np
    >>> import huberish as hb
    >>> objective = hb.huber_objective(delta=1.0, curvature="constant")
    >>> objective(np.zeros(3), np.asarray([0.5, 2.0, -4.0]))
    (array([ 0.5,  1. , -1. ]), array([1., 1., 1.]))
    >>> objective.init_score(np.asarray([100.0, 300.0, 1000.0]))
    np.float64(300.0)
    """
    return Objective("huber", delta, curvature=curvature, hess_floor=hess_floor)


def pseudo_huber_objective(
    delta: float = 1.0, *, curvature: Curvature = "exact", hess_floor: float = 0.0
) -> Objective:
    """The pseudo-Huber loss as a boosting objective.

    ``pseudo_huber_objective(delta)`` (the exact Hessian) is XGBoost's built-in
    ``reg:pseudohubererror`` with ``huber_slope=delta`` up to XGBoost 3.2; XGBoost's pull
    request 12576 (merged after 3.2) changes it to ``curvature="majorizer"``.

    Examples
    --------
    >>> import numpy as np
    >>> import huberish as hb
    >>> y_pred = np.asarray([10.0])  # one row, its target 0
    >>> grad, hess = hb.pseudo_huber_objective(delta=1.0)(0.0, y_pred)
    >>> -grad / hess  # the Newton step: far beyond the target
    array([-1010.])
    >>> grad, hess = hb.pseudo_huber_objective(delta=1.0, curvature="majorizer")(0.0, y_pred)
    >>> -grad / hess  # exactly to the target
    array([-10.])
    """
    return Objective("pseudo_huber", delta, curvature=curvature, hess_floor=hess_floor)


def _document() -> None:
    common = "Smooth L1's threshold (0: the L1 loss)."
    delta = "The threshold: quadratic within about ``|d| < delta``, slope `delta` beyond."
    pages = {
        smooth_l1_objective: dict(
            name="beta",
            threshold=common,
            grad_hess="smooth_l1_loss_grad_hess",
            exact="``1 / beta`` inside ``|d| < beta``, 0 outside.",
            constant="``1 / beta``",
            clipped="residual clipped to ``+-beta``, over beta",
            majorizer="``min(1 / beta, 1 / |d|)``",
            raises_extra=", or ``beta == 0`` with a curvature other than ``'exact'``",
        ),
        huber_objective: dict(
            name="delta",
            threshold=delta,
            grad_hess="huber_loss_grad_hess",
            exact="1 inside ``|d| < delta``, 0 outside.",
            constant="1",
            clipped="residual clipped to ``+-delta``",
            majorizer="``min(1, delta / |d|)``",
            raises_extra="",
        ),
        pseudo_huber_objective: dict(
            name="delta",
            threshold=delta,
            grad_hess="pseudo_huber_loss_grad_hess",
            exact=(
                "``(1 + (d / delta)**2)**-1.5``, which vanishes far from the targets: large\n"
                "          steps there (XGBoost issue 9378)."
            ),
            constant="1",
            clipped="gradient ``d / sqrt(1 + (d / delta)**2)``",
            majorizer="``(1 + (d / delta)**2)**-0.5``",
            raises_extra="",
        ),
    }
    for function, fields in pages.items():
        # (dedented first: Python 3.13 strips docstrings' indentation itself, older ones not)
        head, examples = inspect.cleandoc(function.__doc__ or "").split("\n\nExamples\n", 1)
        sections = inspect.cleandoc(_CURVATURE_DOC.format(**fields))
        function.__doc__ = f"{head}\n\n{sections}\n\nExamples\n{examples}"


_document()
