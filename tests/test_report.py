"""`python -m huberish`: the report runs, passes here, fails when a result is wrong, and its
command line (`--help`, `--version`, `--backend`, `--json`) behaves as documented."""

import importlib.metadata
import importlib.util
import json
import subprocess
import sys

import pytest

import huberish
from huberish import _report


def test_report_passes_on_every_installed_backend(capsys):
    assert _report.main() == 0
    out = capsys.readouterr().out
    assert "numpy" in out
    assert "FAIL" not in out
    assert "checks passed, 0 failed." in out


def test_report_fails_when_a_result_is_wrong(monkeypatch, capsys):
    original = _report.reference

    def off_by_a_thousandth(*args, **kwargs):
        loss, grad_input, grad_target = original(*args, **kwargs)
        return loss * (1 + 1e-3), grad_input, grad_target

    monkeypatch.setattr(_report, "reference", off_by_a_thousandth)
    assert _report.main() == 1
    assert "FAIL" in capsys.readouterr().out


def test_module_entry_point_exits_zero():
    result = subprocess.run(
        [sys.executable, "-m", "huberish"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" ok") >= 2


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "huberish", *args], capture_output=True, text=True, check=False
    )


def test_help_prints_usage_without_running_the_report():
    result = _run("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m huberish")
    for option in ("--backend", "--json", "--version"):
        assert option in result.stdout
    assert "checks passed" not in result.stdout


def test_version_is_the_installed_metadata():
    result = _run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"huberish {importlib.metadata.version('huberish')}"
    assert huberish.__version__ == importlib.metadata.version("huberish")


def test_backend_filter_and_json_output():
    result = _run("--backend", "numpy", "--backend", "array_api_strict", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert {row["library"] for row in report["rows"]} == {"numpy", "array_api_strict"}
    assert [row["dtype"] for row in report["rows"]] == ["float32", "float64"] * 2
    assert (report["passed"], report["failed"]) == (4, 0)
    for row in report["rows"]:
        tolerance = report["tolerance"][row["dtype"]]
        assert row["passed"]
        assert 0 <= row["loss_error"] <= tolerance
        assert 0 <= row["grad_error"] <= tolerance


def test_failed_check_exits_non_zero_from_the_command_line():
    # The same entry point as `python -m huberish`, with the reference made wrong first.
    code = (
        "import sys\n"
        "from huberish import _report\n"
        "original = _report.reference\n"
        "def wrong(*args, **kwargs):\n"
        "    loss, grad_input, grad_target = original(*args, **kwargs)\n"
        "    return loss, grad_input * (1 + 1e-3), grad_target\n"
        "_report.reference = wrong\n"
        "sys.exit(_report.main(sys.argv[1:]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "--backend", "numpy", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["failed"] == 2
    assert {row["status"] for row in report["rows"]} == {"FAIL"}


def test_unknown_backend_is_a_usage_error():
    result = _run("--backend", "tensorflow")
    assert result.returncode == 2
    assert "invalid choice: 'tensorflow'" in result.stderr
    assert result.stdout == ""


def test_named_backend_that_is_not_installed_fails():
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed")
    result = _run("--backend", "cupy")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not installed" in result.stdout
    assert "0 checks passed, 1 failed." in result.stdout
