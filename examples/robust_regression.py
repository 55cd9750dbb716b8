"""Robust linear regression: `scipy.optimize.minimize(..., jac=True)` driven by
`huberish.huber_loss_and_grad`, against scikit-learn's `HuberRegressor` and ordinary least squares
on data with outliers.

    python examples/robust_regression.py
"""

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import HuberRegressor, LinearRegression

import huberish as hb


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """200 samples of y = X @ w + 0.5 + noise, with 10% of the targets thrown far off."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((200, 3))
    true_coef = np.array([2.0, -1.0, 0.5])
    targets = features @ true_coef + 0.5 + 0.1 * rng.standard_normal(200)
    outliers = rng.choice(200, size=20, replace=False)
    targets[outliers] += rng.choice([-1, 1], size=20) * rng.uniform(10, 30, size=20)
    return features, targets, true_coef


def fit_huber(features: np.ndarray, targets: np.ndarray, delta: float = 1.0) -> np.ndarray:
    """Coefficients and intercept minimising the mean Huber loss, with its analytic gradient."""
    design = np.column_stack([features, np.ones(len(features))])

    def objective(params: np.ndarray) -> tuple[float, np.ndarray]:
        loss, grad = hb.huber_loss_and_grad(design @ params, targets, delta=delta)
        return float(loss), design.T @ grad  # chain rule through the linear model

    result = minimize(objective, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B")
    assert result.success, result.message
    return result.x


def main() -> dict[str, float]:
    features, targets, true_coef = make_data()
    ours = fit_huber(features, targets)
    sklearn_huber = HuberRegressor(epsilon=1.35, alpha=0.0).fit(features, targets)
    ols = LinearRegression().fit(features, targets)
    errors = {
        "huberish + scipy.optimize": float(np.max(np.abs(ours[:3] - true_coef))),
        "sklearn HuberRegressor": float(np.max(np.abs(sklearn_huber.coef_ - true_coef))),
        "least squares": float(np.max(np.abs(ols.coef_ - true_coef))),
        "huberish vs HuberRegressor": float(np.max(np.abs(ours[:3] - sklearn_huber.coef_))),
    }
    for name, error in errors.items():
        print(f"{name:28s} max |coef error| = {error:.4f}")
    return errors


if __name__ == "__main__":
    main()
