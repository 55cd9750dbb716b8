"""Every ```python block in README.md and docs/*.md runs, and what it shows is what it prints.

Each block is written as a doctest session (`>>>` lines followed by their output), and the
blocks of one file run in order in one namespace, so a later block may use an earlier block's
names. A block that imports a library that is not installed (torch, JAX, Dask) is shown, not run;
a CuPy block also needs a usable CUDA device. Every block must be in `>>>` form, so no output
shown in the docs goes unchecked.
"""

import doctest
import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# Pages whose blocks are still plain code (run, output not compared) until they are rewritten as
# doctest sessions: remove a page from here when it is.
NOT_YET_DOCTEST = {"adapters.md"}


def _blocks(path: pathlib.Path) -> list[tuple[int, str]]:
    text = path.read_text()
    return [
        (text.count("\n", 0, m.start()) + 2, m.group(1))
        for m in re.finditer(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    ]


def _unavailable(block: str) -> set[str]:
    """The libraries a block imports that cannot run here."""
    imported = re.findall(r"^(?:>>> )?(?:import|from) (\w+)", block, flags=re.MULTILINE)
    absent = {name for name in imported if importlib.util.find_spec(name) is None}
    if "cupy" in imported and "cupy" not in absent:
        import cupy

        if not cupy.is_available():
            absent.add("cupy (no CUDA device)")
    return absent


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_examples_print_what_they_show(path):
    globs: dict = {"__name__": f"docs.{path.stem}"}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    ran, missing = 0, set()
    for lineno, block in _blocks(path):
        is_doctest = block.lstrip().startswith(">>>")
        assert is_doctest or path.name in NOT_YET_DOCTEST, (
            f"{path.name}:{lineno}: a python block must be a doctest session (>>> ...), "
            "so its output is checked"
        )
        absent = _unavailable(block)
        if absent:
            missing |= absent
            continue
        if not is_doctest:
            exec(compile(block, f"{path.name}:{lineno}", "exec"), globs)
            ran += 1
            continue
        test = parser.get_doctest(block, globs, f"{path.name}:{lineno}", str(path), lineno)
        result = runner.run(test, clear_globs=False)
        globs.update(test.globs)  # DocTest works on a copy; later blocks see these names
        assert result.failed == 0, f"{path.name}:{lineno}: {result.failed} example(s) failed"
        ran += 1
    if not ran and missing:
        pytest.skip(f"every example of {path.name} needs {', '.join(sorted(missing))}")
