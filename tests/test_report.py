"""`python -m huberish`: the report runs, passes here, fails when a result is wrong or a library
asked for cannot run, and its command line (`--help`, `--version`, `--backend`, `--json`)
behaves as documented."""

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import huberish
from huberish import _report


def test_report_passes_on_every_installed_backend(capsys):
    assert _report.main() == 0
    out = capsys.readouterr().out
    assert "numpy" in out
    assert "FAIL" not in out
    assert " checks), 0 failed, " in out


def test_report_fails_when_a_result_is_wrong(monkeypatch, capsys):
    original = _report.reference

    def off_by_a_thousandth(*args, **kwargs):
        loss, grad_input, grad_target = original(*args, **kwargs)
        return loss * (1 + 1e-3), grad_input, grad_target

    monkeypatch.setattr(_report, "reference", off_by_a_thousandth)
    assert _report.main() == 1
    assert "FAIL" in capsys.readouterr().out


# `python -m huberish` with `import cupy` failing as it does where CuPy is not installed. (Not
# `sys.modules["cupy"] = None`: array-api-compat would read `.ndarray` from that None.)
WITHOUT_CUPY = """
import runpy, sys

class NoCuPy:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "cupy":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoCuPy())
runpy.run_module("huberish", run_name="__main__")
"""

# Stand-ins for CuPy, put first on PYTHONPATH: installed on a machine without a GPU (the
# report asks `cupy.is_available()`; Dask registers `cupy.ndarray` when it can import CuPy), and
# installed without the CUDA libraries it loads.
CUPY_STUBS = {
    "no device": "__version__ = '13.6.0'\nclass ndarray: ...\ndef is_available(): return False\n",
    "import error": "raise ImportError('libcudart.so.12: cannot open shared object file')\n",
}


def _run(*args: str, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = None
    if pythonpath is not None:
        paths = [str(pythonpath), os.environ.get("PYTHONPATH", "")]
        env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, paths))}
    return subprocess.run(
        [sys.executable, "-m", "huberish", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def _run_without_cupy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_CUPY, *args], capture_output=True, text=True, check=False
    )


def test_survey_lists_a_missing_library_without_failing():
    result = _run_without_cupy("--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is True
    assert report["failed"] == 0
    rows = {row["library"]: row for row in report["rows"]}
    assert rows["cupy"]["status"] == "not installed"
    assert rows["cupy"]["checks"] == 0
    assert rows["cupy"]["passed"] is False
    assert rows["numpy"]["checks"] == len(_report.CHECKS)
    assert rows["numpy"]["passed"] is True
    ran = [row for row in report["rows"] if row["dtype"] != "-"]  # the rest could not run
    for row in report["rows"]:
        assert row["passed"] is (row in ran), row
        assert row["checks"] == (len(_report.CHECKS) if row in ran else 0), row
    assert report["checks"] == len(_report.CHECKS) * len(ran)


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
    assert report["passed"] is True
    assert report["failed"] == 0
    assert report["checks"] == 4 * len(_report.CHECKS)
    for row in report["rows"]:
        tolerance = report["tolerance"][row["dtype"]]
        assert row["passed"] is True
        assert row["checks"] == len(_report.CHECKS)
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
    assert report["passed"] is False
    assert report["failed"] == 2
    assert {row["status"] for row in report["rows"]} == {"FAIL"}
    assert {row["passed"] for row in report["rows"]} == {False}


def test_unknown_backend_is_a_usage_error():
    result = _run("--backend", "tensorflow")
    assert result.returncode == 2
    assert "invalid choice: 'tensorflow'" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("reason", ["not installed", *CUPY_STUBS])
def test_named_backend_that_cannot_run_fails(reason, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        if reason not in CUPY_STUBS:
            return _run_without_cupy("--backend", "cupy", *args)
        (tmp_path / "cupy").mkdir(exist_ok=True)
        (tmp_path / "cupy" / "__init__.py").write_text(CUPY_STUBS[reason])
        return _run("--backend", "cupy", *args, pythonpath=tmp_path)

    table = run()
    assert table.returncode == 1, table.stdout + table.stderr
    [row] = [line for line in table.stdout.splitlines() if line.startswith("cupy ")]
    assert f"  {reason}" in row  # the status column
    assert "0 rows passed (0 checks), 1 failed, 0 skipped." in table.stdout

    document = run("--json")
    assert document.returncode == 1, document.stdout + document.stderr
    report = json.loads(document.stdout)
    assert report["passed"] is False
    assert (report["checks"], report["failed"]) == (0, 1)
    [row] = report["rows"]
    assert row["status"].startswith(reason)
    assert (row["library"], row["checks"]) == ("cupy", 0)
    assert row["passed"] is False
