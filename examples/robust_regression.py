"""Robust linear regression: `scipy.optimize.minimize(..., jac=True)` driven by
`huberish.huber_loss_and_grad`, against scikit-learn's `HuberRegressor` and ordinary least squares
on data with outliers.

`delta` is in the units of the residuals, so it is set from their scale, as scikit-learn does:
`delta = 1.35 * sigma`, with `sigma` estimated robustly from the median absolute deviation (MAD)
of the residuals and refined over a few refits (see docs/choosing.md).

    python examples/robust_regression.py
"""

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import HuberRegressor, LinearRegression

import huberish as hb

EPSILON = 1.35  # delta in units of the residual scale: 95% efficiency on Gaussian noise


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """200 samples of y = X @ w + 0.5 + noise (sigma 0.1), 10% of the targets thrown far off."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((200, 3))
    true_coef = np.array([2.0, -1.0, 0.5])
    targets = features @ true_coef + 0.5 + 0.1 * rng.standard_normal(200)
    outliers = rng.choice(200, size=20, replace=False)
    targets[outliers] += rng.choice([-1, 1], size=20) * rng.uniform(10, 30, size=20)
    return features, targets, true_coef


def mad_scale(residuals: np.ndarray) -> float:
    """A robust estimate of the noise's standard deviation: 1.4826 * MAD (exact for Gaussians)."""
    return float(1.4826 * np.median(np.abs(residuals - np.median(residuals))))


def fit_huber(features: np.ndarray, targets: np.ndarray, delta: float) -> np.ndarray:
    """Coefficients and intercept minimising the mean Huber loss, with its analytic gradient."""
    design = np.column_stack([features, np.ones(len(features))])

    def objective(params: np.ndarray) -> tuple[float, np.ndarray]:
        loss, grad = hb.huber_loss_and_grad(design @ params, targets, delta=delta)
        return float(loss), design.T @ grad  # chain rule through the linear model

    result = minimize(
        objective, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B", options={"gtol": 1e-10}
    )
    assert result.success, result.message
    return result.x


def fit_huber_scaled(
    features: np.ndarray, targets: np.ndarray, epsilon: float = EPSILON, refits: int = 3
) -> tuple[np.ndarray, float]:
    """Huber regression with `delta = epsilon * sigma`, sigma the MAD scale of the residuals.

    The first scale comes from the targets around their median (an overestimate: it contains
    the signal); each refit recomputes it from the current fit's residuals.
    """
    design = np.column_stack([features, np.ones(len(features))])
    sigma = mad_scale(targets)
    for _ in range(refits):
        params = fit_huber(features, targets, delta=epsilon * sigma)
        sigma = mad_scale(targets - design @ params)
    return params, sigma


def main() -> dict[str, float]:
    features, targets, true_coef = make_data()
    ours, sigma = fit_huber_scaled(features, targets)
    sklearn_huber = HuberRegressor(epsilon=EPSILON, alpha=0.0).fit(features, targets)
    ols = LinearRegression().fit(features, targets)
    naive = fit_huber(features, targets, delta=1.0)  # delta = 1 is 10 sigma here: too wide
    errors = {
        "huberish, delta = 1.35 MAD": float(np.max(np.abs(ours[:3] - true_coef))),
        "sklearn HuberRegressor": float(np.max(np.abs(sklearn_huber.coef_ - true_coef))),
        "huberish, delta = 1": float(np.max(np.abs(naive[:3] - true_coef))),
        "least squares": float(np.max(np.abs(ols.coef_ - true_coef))),
        "huberish vs HuberRegressor": float(np.max(np.abs(ours[:3] - sklearn_huber.coef_))),
    }
    print(f"MAD scale of the residuals: {sigma:.4f}, so delta = {EPSILON * sigma:.4f}")
    for name, error in errors.items():
        print(f"{name:28s} max |coef error| = {error:.4f}")
    return errors


if __name__ == "__main__":
    main()
