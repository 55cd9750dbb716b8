"""Every ```python block in README.md and docs/ runs (blocks are cumulative within a file)."""

import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_examples_run(path):
    namespace: dict = {}
    ran, missing = 0, set()
    for block in _blocks(path):
        imported = re.findall(r"^\s*import (\w+)|^\s*from (\w+)", block, flags=re.MULTILINE)
        absent = {m for m in (a or b for a, b in imported) if importlib.util.find_spec(m) is None}
        if absent:  # e.g. CuPy without a GPU: the block is shown, not run
            missing |= absent
            continue
        exec(compile(block, f"{path.name}:python-block", "exec"), namespace)
        ran += 1
    if not ran and missing:
        pytest.skip(f"every example of {path.name} needs {', '.join(sorted(missing))}")
