"""nox sessions: the test suite on each Python the package claims, and the docs from their extra.

    python -m nox -s tests-3.12 tests-3.13   # what CI runs besides its main 3.11 run with torch
    python -m nox -s oldest                  # every requirement at its minimum, torch included
    python -m nox -s docs                    # the docs from a fresh environment, docs extra alone
    python -m nox --list

nox finds each interpreter by its version (``python3.12`` on ``PATH``) and builds a fresh virtual
environment per session. The sessions do not install torch: its CPU-only wheel is installed by
hand on the main run (a plain ``torch`` requirement pulls the CUDA build), so here the suite runs
on NumPy, array-api-strict, JAX and Dask, with hypothesis's default profile. Arguments after
``--`` go to pytest, e.g. ``python -m nox -s tests-3.13 -- -x -q tests/test_report.py``.

Session ``oldest`` is the exception: it installs torch's CPU build at the ``torch`` extra's floor
first, then every runtime requirement and the ``test``, ``torch``, ``jax``, ``dask`` and
``examples`` extras
each at the minimum ``pyproject.toml`` claims (``name>=X`` becomes the constraint ``name==X``),
checks that those are the versions installed, and runs the suite: the floors are tested, not
guessed.
"""

import pathlib
import tomllib

import nox
from packaging.requirements import Requirement

OLDEST_EXTRAS = ("test", "torch", "jax", "dask", "examples")

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


def oldest_constraints(extras: tuple[str, ...] = OLDEST_EXTRAS) -> list[str]:
    """``name==X`` for each requirement ``name>=X`` of the project and of `extras`."""
    project = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    pins: dict[str, str] = {}
    for line in requirements:
        requirement = Requirement(line)
        floors = [s.version for s in requirement.specifier if s.operator == ">="]
        if len(floors) != 1:
            msg = f"{line!r} in pyproject.toml: expected one `>=` floor for the oldest session"
            raise ValueError(msg)
        if pins.setdefault(requirement.name, floors[0]) != floors[0]:
            msg = f"{requirement.name}: two floors in pyproject.toml"
            raise ValueError(msg)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


# Run inside the session's environment: each pinned distribution is installed at its pin.
_CHECK_PINS = """
import importlib.metadata, sys
from packaging.version import Version
wrong = []
for line in open(sys.argv[1]).read().split():
    name, want = line.split("==")
    got = importlib.metadata.version(name)
    print(f"  {name:18} {got}")
    if Version(got.split("+")[0]) != Version(want):
        wrong.append(f"{name} {got} (the floor is {want})")
sys.exit("not at the floor: " + ", ".join(wrong) if wrong else 0)
"""


@nox.session(python="3.11")
def oldest(session: nox.Session) -> None:
    """The suite with every requirement and backend at the minimum pyproject.toml claims."""
    pins = oldest_constraints()
    constraints = pathlib.Path(session.create_tmp()) / "oldest-constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    session.log("constraints: " + " ".join(pins))
    torch_pin = next(pin for pin in pins if pin.startswith("torch=="))
    session.install(torch_pin)  # first, alone: the CPU build where one is offered (see README)
    session.install("-c", str(constraints), "-e", f".[{','.join(OLDEST_EXTRAS)}]", "packaging")
    session.run("python", "-c", _CHECK_PINS, str(constraints))
    session.run("python", "-m", "huberish")
    session.run("python", "-m", "pytest", *session.posargs, env={"HYPOTHESIS_PROFILE": "default"})
