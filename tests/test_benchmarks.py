"""Smoke test of the benchmark harness (`benchmarks/run.py --quick`): it runs, writes its
files, and its summary figures agree with its own raw times; it writes to a fresh folder, keeps
the cases it finished when stopped, and shows its progress on stderr."""

import importlib.util
import json
import re
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


def test_quick_run_writes_consistent_results(tmp_path, capsys):
    run = _load("run")
    assert run.main(["--quick", "--sizes", "1000", "--out", str(tmp_path), "--name", "q"]) == 0
    result = json.loads((tmp_path / "q.json").read_text())
    assert result["complete"] is True
    out, err = capsys.readouterr()
    total = len(run.cases(run.parse(["--quick", "--sizes", "1000"]))[0])
    assert f"{total}/{total} cases" in err  # progress on stderr, with or without tqdm
    assert " cases" not in out
    assert str(tmp_path / "q.json") in out  # the output folder, at the start and the end
    assert not list(tmp_path.glob("*.tmp"))
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


QUICK = ["--quick", "--sizes", "1000", "--dtypes", "float32", "--reductions", "mean", "--no-plot"]


def _cases(run, monkeypatch, keep, *extra):
    """Make `run.main` measure the first `keep` cases of its run, then the `extra` ones."""
    cases = run.cases
    monkeypatch.setattr(run, "cases", lambda args: ([*cases(args)[0][:keep], *extra], []))


def test_default_output_is_a_fresh_folder(tmp_path, monkeypatch, capsys):
    run = _load("run")
    assert run.parse([]).out is None  # main picks the folder
    committed = tmp_path / "cpu.json"
    committed.write_text("committed")
    monkeypatch.setattr(run, "RESULTS", tmp_path)
    monkeypatch.setattr(run, "tqdm", None)  # the fallback: a line per case
    _cases(run, monkeypatch, 2)  # the table's row, the accuracy
    assert run.main(QUICK) == 0
    assert committed.read_text() == "committed"
    (folder,) = tmp_path.glob("run-*")
    result = json.loads((folder / "cpu.json").read_text())
    assert result["complete"] is True
    assert len(result["rows"]) == 1
    assert "accuracy" in result
    out, err = capsys.readouterr()
    assert re.search(r"^1/2 cases, \d+ s elapsed, ~\d+ s left: accuracy$", err, re.MULTILINE)
    assert out.count(str(folder)) == 2  # at the start and the end
    # A second run into that folder replaces nothing unless asked.
    before = (folder / "cpu.json").read_text()
    assert run.main([*QUICK, "--out", str(folder)]) == 2
    assert (folder / "cpu.json").read_text() == before
    assert "--overwrite" in capsys.readouterr().err


def test_interrupted_run_keeps_finished_cases(tmp_path, monkeypatch):
    run = _load("run")

    def interrupt():
        raise KeyboardInterrupt

    _cases(run, monkeypatch, 1, ("interrupted", "rows", interrupt))
    assert run.main([*QUICK, "--out", str(tmp_path)]) == 130
    result = json.loads((tmp_path / "cpu.json").read_text())
    assert result["complete"] is False
    assert [(r["n"], r["dtype"], r["reduction"]) for r in result["rows"]] == [
        (1000, "float32", "mean")
    ]
    assert (tmp_path / "cpu.md").read_text().startswith("**Incomplete run**")
    assert not (tmp_path / "cpu.png").exists()


def test_progress_bar_with_tqdm(capsys):
    pytest.importorskip("tqdm")
    run = _load("run")
    assert [case[0] for case in run.progress([("a", "rows", None), ("b", "rows", None)])] == [
        "a",
        "b",
    ]
    assert "2/2 cases |" in capsys.readouterr().err
