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
    ran = 0
    for block in _blocks(path):
        imported = re.findall(r"^\s*import (\w+)|^\s*from (\w+)", block, flags=re.MULTILINE)
        modules = {a or b for a, b in imported}
        if any(importlib.util.find_spec(m) is None for m in modules):
            continue  # e.g. CuPy without a GPU: the block is shown, not run
        exec(compile(block, f"{path.name}:python-block", "exec"), namespace)
        ran += 1
    if _blocks(path):
        assert ran, f"no example of {path.name} could run here"
