"""nox sessions: the test suite on each Python the package claims, and the docs from their extra.

    python -m nox -s tests-3.12 tests-3.13   # what CI runs besides its main 3.11 run with torch
    python -m nox -s docs                    # the docs from a fresh environment, docs extra alone
    python -m nox --list

nox finds each interpreter by its version (``python3.12`` on ``PATH``) and builds a fresh virtual
environment per session. The sessions do not install torch: its CPU-only wheel is installed by
hand on the main run (a plain ``torch`` requirement pulls the CUDA build), so here the suite runs
on NumPy, array-api-strict, JAX and Dask, with hypothesis's default profile. Arguments after
``--`` go to pytest, e.g. ``python -m nox -s tests-3.13 -- -x -q tests/test_report.py``.
"""

import nox

nox.options.error_on_missing_interpreters = True  # a Python that is not found fails, not skips
nox.options.sessions = ["tests"]


@nox.session(python=["3.11", "3.12", "3.13"])
def tests(session: nox.Session) -> None:
    """The suite on NumPy, array-api-strict, JAX and Dask (no torch)."""
    session.install("-e", ".[test,jax,dask]")
    session.run("python", "-m", "huberish", "--backend", "numpy", "--backend", "jax")
    session.run("python", "-m", "pytest", *session.posargs, env={"HYPOTHESIS_PROFILE": "default"})


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """The HTML docs with the docs extra alone, as README's docs command builds them."""
    session.install("-e", ".[docs]")
    session.run("python", "-m", "sphinx", "-W", "-q", "-b", "html", "docs", "docs/_build/nox-html")
