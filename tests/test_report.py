"""`python -m huberish`: the report runs, passes here, and fails when a result is wrong."""

import subprocess
import sys

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
