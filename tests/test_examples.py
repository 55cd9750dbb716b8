"""The runnable examples in `examples/` work and show what they claim."""

import importlib.util
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_robust_regression_with_scipy_optimize(capsys):
    pytest.importorskip("scipy")
    pytest.importorskip("sklearn")
    errors = _load("robust_regression").main()
    assert errors["huberish + scipy.optimize"] < 0.1
    assert errors["least squares"] > 5 * errors["huberish + scipy.optimize"]
    assert errors["huberish vs HuberRegressor"] < 0.1
    assert "HuberRegressor" in capsys.readouterr().out


def test_lightgbm_custom_objective(capsys):
    pytest.importorskip("lightgbm")
    errors = _load("lightgbm_objective").main()
    assert errors["pseudo-Huber (huberish)"] < 0.5 * errors["squared error (LightGBM)"]
    assert "RMSE" in capsys.readouterr().out
