"""Root conftest: doctests of modules whose optional framework is missing are not collected."""

import importlib.util

collect_ignore = [
    f"huberish/{name}.py" for name in ("torch", "jax") if importlib.util.find_spec(name) is None
]
