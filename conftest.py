"""Root conftest: modules whose optional framework is missing are not collected (for doctests)."""

import importlib.util

collect_ignore = [
    f"huberish/{name}.py" for name in ("torch", "jax") if importlib.util.find_spec(name) is None
]
if importlib.util.find_spec("torch") is None:
    collect_ignore.append("tests/golden/generate.py")  # it imports torch to write the golden values
