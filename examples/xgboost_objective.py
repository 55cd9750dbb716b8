"""XGBoost with huberish's boosting objectives: XGBoost issue 9378, the built-in
`reg:pseudohubererror` reproduced, and the three curvatures on data with outliers.

XGBoost's `reg:pseudohubererror` (up to 3.2, src/objective/regression_obj.cu) gives the booster
the exact Hessian (1 + (d/delta)**2)**-1.5, which vanishes far from the targets: in issue 9378
(three rows of identical features, targets 100, 300 and 1000, delta = 1) the one leaf's Newton
step is huge and the fit never comes near the median 300. `curvature="majorizer"` (psi(d) / d,
XGBoost's pull request 12576) takes IRLS steps instead and lands on 300.

    python examples/xgboost_objective.py
"""

import numpy as np
import xgboost as xgb

import huberish as hb


def issue_9378(curvature: str, rounds: int = 50) -> float:
    """The fit of issue 9378's three rows from 0, without regularisation (`reg_lambda` adds to
    the summed curvature, which is about 1e-6 here for the exact Hessian)."""
    features = np.tile([[1.2, 1.5, 2.3]], (3, 1))
    targets = np.asarray([100.0, 300.0, 1000.0])
    model = xgb.XGBRegressor(
        objective=hb.pseudo_huber_objective(1.0, curvature=curvature),
        n_estimators=rounds,
        learning_rate=1.0,
        reg_lambda=0.0,
        min_child_weight=0.0,
        base_score=0.0,
        n_jobs=1,
    )
    model.fit(features, targets)
    return float(model.predict(features[:1])[0])


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2000 samples of a smooth signal plus noise (sigma 0.1), 5% of them shifted by +20."""
    rng = np.random.default_rng(seed)
    features = rng.uniform(-2, 2, size=(2000, 4))
    clean = np.sin(2 * features[:, 0]) + features[:, 1] ** 2
    targets = clean + 0.1 * rng.standard_normal(2000)
    targets[rng.choice(2000, size=100, replace=False)] += 20.0  # outliers
    return features, targets, clean


def fit_predict(
    objective: str | hb.Objective, features: np.ndarray, targets: np.ndarray, rounds: int, **params
) -> np.ndarray:
    """Train XGBoost (depth 4, learning rate 0.1, one thread) and predict on `features`."""
    settings = {"max_depth": 4, "learning_rate": 0.1, "n_jobs": 1, "tree_method": "hist"}
    model = xgb.XGBRegressor(objective=objective, n_estimators=rounds, **settings, **params)
    return model.fit(features, targets).predict(features)


def main() -> dict[str, float]:
    results = {f"issue 9378, {c}": issue_9378(c) for c in ("exact", "majorizer", "constant")}

    features, targets, clean = make_data()
    delta = 1.0
    objective = hb.pseudo_huber_objective(delta)
    start = float(objective.init_score(targets))  # the median, as base_score
    builtin = fit_predict(
        "reg:pseudohubererror", features, targets, 50, huber_slope=delta, base_score=start
    )
    ours = fit_predict(objective, features, targets, 50, base_score=start)
    results["built-in vs huberish exact, max |difference|"] = float(np.max(np.abs(builtin - ours)))

    for curvature in ("exact", "constant", "majorizer"):
        objective = hb.pseudo_huber_objective(0.3, curvature=curvature)
        predictions = fit_predict(objective, features, targets, 50, base_score=start)
        rmse = float(np.sqrt(np.mean((predictions - clean) ** 2)))
        results[f"outliers, {curvature}, 50 rounds"] = rmse

    for name, value in results.items():
        print(f"{name:45s} {value:.6g}")
    return results


if __name__ == "__main__":
    main()
