"""A LightGBM custom objective from `huberish.pseudo_huber_loss_grad_hess`, on a small synthetic
regression problem with outliers.

    python examples/lightgbm_objective.py
"""

import lightgbm as lgb
import numpy as np

import huberish as hb


def pseudo_huber_objective(delta: float):
    """LightGBM's objective interface: per-sample gradient and Hessian of the summed loss."""

    def objective(predictions: np.ndarray, data: lgb.Dataset) -> tuple[np.ndarray, np.ndarray]:
        _, grad, hess = hb.pseudo_huber_loss_grad_hess(
            predictions, data.get_label(), reduction="sum", delta=delta
        )
        return grad, hess

    return objective


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.uniform(-2, 2, size=(2000, 4))
    targets = np.sin(2 * features[:, 0]) + features[:, 1] ** 2 + 0.1 * rng.standard_normal(2000)
    targets[rng.choice(2000, size=100, replace=False)] += 20.0  # outliers
    return features, targets


def main() -> dict[str, float]:
    features, targets = make_data()
    clean = np.sin(2 * features[:, 0]) + features[:, 1] ** 2  # the signal, without noise
    params = {"objective": pseudo_huber_objective(delta=1.0), "learning_rate": 0.1, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(features, targets), num_boost_round=200)
    # custom objectives start from 0 rather than the target mean: fine for a robust loss
    predictions = booster.predict(features)
    squared = lgb.train(
        {"objective": "regression", "verbose": -1}, lgb.Dataset(features, targets), 200
    )
    errors = {
        "pseudo-Huber (huberish)": float(np.sqrt(np.mean((predictions - clean) ** 2))),
        "squared error (LightGBM)": float(
            np.sqrt(np.mean((squared.predict(features) - clean) ** 2))
        ),
    }
    for name, error in errors.items():
        print(f"{name:26s} RMSE against the clean signal = {error:.4f}")
    return errors


if __name__ == "__main__":
    main()
