"""Smoke test of the benchmark harness (`benchmarks/run.py --quick`): it runs, writes its
files, and its summary figures agree with its own raw times."""

import importlib.util
import json
import statistics
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("jax")
pytest.importorskip("matplotlib")

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_quick_run_writes_consistent_results(tmp_path):
    run = _load("run")
    assert run.main(["--quick", "--sizes", "1000", "--out", str(tmp_path), "--name", "q"]) == 0
    result = json.loads((tmp_path / "q.json").read_text())
    assert (tmp_path / "q.png").stat().st_size > 0
    markdown = (tmp_path / "q.md").read_text()
    assert result["machine"]["cpu"] in markdown

    rows = result["rows"]
    assert {(r["dtype"], r["reduction"]) for r in rows} == {
        (d, r) for d in ("float32", "float64") for r in ("mean", "none")
    }
    for row in rows:
        times = row["times_s"]
        assert set(times) == {"huberish", "torch", "jax", "numpy_where", "floor"}
        for peer, ratio in row["ratio"].items():
            # The reported ratio is the median of the per-repetition ratios of the raw times.
            per_rep = [a / b for a, b in zip(times["huberish"], times[peer], strict=True)]
            assert ratio["median"] == pytest.approx(statistics.median(per_rep))
            assert ratio["min"] == pytest.approx(min(per_rep))
            assert ratio["max"] == pytest.approx(max(per_rep))
        assert row["median_s"]["floor"] == pytest.approx(statistics.median(times["floor"]))
        # The returned gradient alone is one input's bytes.
        assert row["peak_extra_over_input"]["huberish"] >= 1.0

    errors = result["accuracy"]["relative_error"]
    assert errors["huberish"] < 1e-6  # float32 against a float64 fsum
    assert {a["adapter"] for a in result["adapters"]} == {"huberish.torch", "huberish.jax"}
    assert "smooth_l1_loss_backward" in result["overhead"]["ratio"]
