"""The backend report of ``python -m huberish``: every installed array library, checked.

Run ``python -m huberish --help`` for the options: a backend filter (``--backend``) and JSON
output (``--json``).

A library that cannot run its checks (not installed, no device, an error on import) gets one row,
without a dtype, that says why. Named with ``--backend``, it fails the run; in the default survey
of every library it is skipped. The exit status is 1 if a row failed, 0 if none did, 2 on a usage
error. In the JSON output every row has ``"checks"``, how many checks it ran, and ``"passed"``:
true only on a row that ran checks and passed them all, false on any other, skipped rows included
(its ``"status"`` says why). The top level has ``"passed"`` (true exactly when the exit status is
0), ``"checks"`` (the total) and ``"failed"`` (how many rows failed).

For each library found, on each of its devices, in float32 and float64: the smooth-L1 and Huber
losses and their gradients on a small random problem, compared with the float64 NumPy reference
(`huberish._reference`) and, where torch is installed, with torch's own functions. The torch and
JAX adapters get rows of their own, their gradients taken by torch autograd and ``jax.vjp``.
"""

import argparse
import dataclasses
import importlib
import importlib.metadata
import json
import math
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

from . import functional as F
from ._compat import array_namespace, device
from ._interop import optional_import, to_numpy
from ._reference import reference

__all__ = ["BACKENDS", "Check", "Row", "check_backends", "format_json", "format_table", "main"]

Converter = Callable[[np.ndarray, str], Any]

# The largest relative error a check accepts, against the reference and against torch (which runs
# in float64 on the unrounded inputs: in float32 it differs by the input rounding too).
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}

# The names `--backend` accepts; the adapters' rows belong to their framework.
BACKENDS = ("numpy", "array_api_strict", "dask", "torch", "cupy", "jax")


class Check(NamedTuple):
    """One problem: a loss, its backward pass, its threshold (`beta` or `delta`) and reduction."""

    loss: Callable[..., Any]
    backward: Callable[..., Any]
    threshold: float
    reduction: str

    @property
    def options(self) -> dict[str, Any]:
        """The arguments of `loss` and `backward` (and of torch's function of the same name)."""
        name = "beta" if self.loss.__name__ == "smooth_l1_loss" else "delta"
        return {name: self.threshold, "reduction": self.reduction}

    @property
    def reference_options(self) -> dict[str, Any]:
        """The arguments of `huberish._reference.reference` for the same loss."""
        shapes: dict[str, dict[str, Any]] = {
            "smooth_l1_loss": {},
            "huber_loss": {"scale": self.threshold},  # Huber is delta * smooth-L1 with beta = delta
            "pseudo_huber_loss": {"pseudo_huber": True},
        }
        return {"beta": self.threshold, "reduction": self.reduction, **shapes[self.loss.__name__]}


CHECKS = [
    Check(F.smooth_l1_loss, F.smooth_l1_loss_backward, 0.5, "mean"),
    Check(F.smooth_l1_loss, F.smooth_l1_loss_backward, 0.0, "sum"),
    Check(F.huber_loss, F.huber_loss_backward, 1.5, "none"),
    Check(F.pseudo_huber_loss, F.pseudo_huber_loss_backward, 0.7, "sum"),
]


@dataclass
class Row:
    """One line of the report."""

    library: str
    version: str
    device: str
    dtype: str
    loss_error: float = float("nan")
    grad_error: float = float("nan")
    torch_error: float | None = None
    checks: int = 0
    status: str = "ok"

    @property
    def passed(self) -> bool:
        """Whether the row ran its checks and every one passed."""
        return self.checks > 0 and self.status == "ok"


def _problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((32, 8)) * 2
    y = rng.standard_normal((32, 8)) * 2
    x[0, :3] = y[0, :3]  # exact zeros: the L1 subgradient
    return x, y


def _relative_error(actual: Any, expected: np.ndarray) -> float:
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    return (
        float(np.max(np.abs(to_numpy(actual).astype(np.float64) - expected), initial=0.0)) / scale
    )


def _converter(namespace: Any, **kwargs: Any) -> Converter:
    def convert(a: np.ndarray, dtype: str) -> Any:
        return namespace.asarray(a, dtype=getattr(namespace, dtype, dtype), **kwargs)

    return convert


Runner = Callable[[Check, Any, Any], tuple[Any, Any, Any]]


def _generic(check: Check, x: Any, y: Any) -> tuple[Any, Any, Any]:
    """The loss, and both gradients from the public backward function."""
    loss = check.loss(x, y, **check.options)
    xp = array_namespace(x)
    grad_output = xp.ones(tuple(loss.shape), dtype=x.dtype, device=device(x))
    return (loss, *check.backward(grad_output, x, y, **check.options))


def _torch_autograd(check: Check, x: Any, y: Any) -> tuple[Any, Any, Any]:
    """The loss from `huberish.torch` and both gradients from ``torch.autograd.grad``."""
    torch, adapter = importlib.import_module("torch"), importlib.import_module("huberish.torch")
    x, y = x.requires_grad_(), y.requires_grad_()
    loss = getattr(adapter, check.loss.__name__)(x, y, **check.options)
    return (loss, *torch.autograd.grad(loss, (x, y), torch.ones_like(loss)))


def _jax_vjp(check: Check, x: Any, y: Any) -> tuple[Any, Any, Any]:
    """The loss from `huberish.jax` and both gradients from a jitted ``jax.vjp``."""
    jax, adapter = importlib.import_module("jax"), importlib.import_module("huberish.jax")
    loss_function = getattr(adapter, check.loss.__name__)
    loss, vjp = jax.vjp(jax.jit(lambda a, b: loss_function(a, b, **check.options)), x, y)
    return (loss, *vjp(jax.numpy.ones_like(loss)))


def _import(name: str) -> ModuleType | str:
    """The module `name`, or why not: "not installed", or the error its import raised."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        if isinstance(error, ModuleNotFoundError) and error.name in (name, name.split(".")[0]):
            return "not installed"
        return f"import error: {error}"[:80]


def _backends() -> Iterator[tuple[str, str, str, str, Converter | str, Runner]]:
    """(backend, row label, version, device, converter from NumPy or why none, runner) per row."""
    for backend, name in (
        ("numpy", "numpy"),
        ("array_api_strict", "array_api_strict"),
        ("dask", "dask.array"),
    ):
        module = _import(name)
        if isinstance(module, str):
            yield backend, name, "-", "-", module, _generic
        else:
            yield backend, name, _version(name), "cpu", _converter(module), _generic
    torch = _import("torch")
    if isinstance(torch, str):
        yield "torch", "torch", "-", "-", torch, _generic
    else:
        for dev in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
            yield "torch", "torch", torch.__version__, dev, _converter(torch, device=dev), _generic
            yield (
                "torch",
                "huberish.torch (autograd)",
                torch.__version__,
                dev,
                _converter(torch, device=dev),
                _torch_autograd,
            )
    cupy = _import("cupy")
    if isinstance(cupy, str):
        yield "cupy", "cupy", "-", "-", cupy, _generic
    else:
        converter = _converter(cupy) if cupy.is_available() else "no device"
        yield "cupy", "cupy", cupy.__version__, "cuda", converter, _generic
    jax = _import("jax")
    if isinstance(jax, str):
        yield "jax", "jax", "-", "-", jax, _generic
    else:
        jax.config.update("jax_enable_x64", True)  # float64 needs it
        dev, converter = (
            str(jax.devices()[0].platform),
            _converter(importlib.import_module("jax.numpy")),
        )
        yield "jax", "jax", jax.__version__, dev, converter, _generic
        yield "jax", "huberish.jax (custom_jvp)", jax.__version__, dev, converter, _jax_vjp


def _version(library: str) -> str:
    distribution = library.split(".")[0].replace("_", "-")
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def _torch_answers(x: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, ...] | None] | None:
    """torch's float64 loss and gradients for each check, or None without torch."""
    torch = optional_import("torch")
    if torch is None:
        return None
    tF = torch.nn.functional
    answers: list[tuple[np.ndarray, ...] | None] = []
    for check in CHECKS:
        if not hasattr(tF, check.loss.__name__):  # torch has no pseudo-Huber
            answers.append(None)
            continue
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.tensor(y, requires_grad=True)
        loss = getattr(tF, check.loss.__name__)(xt, yt, **check.options)
        gx, gy = torch.autograd.grad(loss, (xt, yt), torch.ones_like(loss))
        answers.append(tuple(t.detach().numpy() for t in (loss, gx, gy)))
    return answers


def check_backends(backends: Collection[str] = BACKENDS) -> list[Row]:
    """Run every check on every installed library among `backends`, on each device and dtype."""
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        msg = f"`backends` must be among {', '.join(BACKENDS)}, got {', '.join(unknown)}"
        raise ValueError(msg)
    x, y = _problem()
    torch_answers = _torch_answers(x, y)
    rows = []
    for backend, library, version, dev, convert, runner in _backends():
        if backend not in backends:
            continue
        if isinstance(convert, str):  # nothing can run: the row says why, and has no dtype
            rows.append(Row(library, version, dev, "-", status=convert))
            continue
        for dtype in ("float32", "float64"):
            row = Row(library, version, dev, dtype)
            try:
                _check_one(row, convert, runner, x, y, dtype, torch_answers)
            except Exception as error:  # report, don't crash: one broken backend is a row
                row.status = f"error: {type(error).__name__}: {error}"[:80]
            rows.append(row)
    return rows


def _check_one(
    row: Row,
    convert: Converter,
    runner: Runner,
    x: np.ndarray,
    y: np.ndarray,
    dtype: str,
    torch_answers: list[tuple[np.ndarray, ...] | None] | None,
) -> None:
    # Round the inputs to the dtype first, so the reference sees the same numbers.
    xr, yr = x.astype(dtype), y.astype(dtype)
    row.device = re.sub(r".*Device\('(.*)'\)", r"\1", str(device(convert(xr, dtype))))
    ref = [reference(xr, yr, **check.reference_options) for check in CHECKS]
    loss_errors, grad_errors, torch_errors = [], [], []
    for i, check in enumerate(CHECKS):
        loss, gx, gy = runner(check, convert(xr, dtype), convert(yr, dtype))
        loss_errors.append(_relative_error(loss, ref[i][0]))
        grad_errors += [_relative_error(gx, ref[i][1]), _relative_error(gy, ref[i][2])]
        theirs = None if torch_answers is None else torch_answers[i]
        if theirs is not None:
            torch_errors += [
                _relative_error(a, b) for a, b in zip((loss, gx, gy), theirs, strict=True)
            ]
        row.checks += 1
    row.loss_error, row.grad_error = max(loss_errors), max(grad_errors)
    if torch_errors:
        row.torch_error = max(torch_errors)
    errors = (row.loss_error, row.grad_error, row.torch_error)
    failed = any(error is not None and not error <= TOLERANCE[dtype] for error in errors)
    row.status = "FAIL" if failed else "ok"


def format_table(rows: list[Row]) -> str:
    """The rows as an aligned plain-text table."""
    header = ("library", "version", "device", "dtype", "loss err", "grad err", "vs torch", "status")

    def fmt(value: float | None) -> str:
        return "-" if value is None or math.isnan(value) else f"{value:.1e}"

    lines = [header] + [
        (
            r.library,
            r.version,
            r.device,
            r.dtype,
            fmt(r.loss_error),
            fmt(r.grad_error),
            fmt(r.torch_error),
            r.status,
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text)


def format_json(rows: list[Row], failed: list[Row]) -> str:
    """The rows, the tolerances and the verdict as a JSON document (NaN errors become null).

    A row's ``"passed"`` is true only if it ran checks and passed them all; the top level's is
    true if no row is in `failed`.
    """

    def clean(value: object) -> object:
        return None if isinstance(value, float) and math.isnan(value) else value

    document = {
        "huberish": _version("huberish"),
        "tolerance": TOLERANCE,
        "rows": [
            {key: clean(value) for key, value in dataclasses.asdict(row).items()}
            | {"passed": row.passed}
            for row in rows
        ],
        "checks": sum(row.checks for row in rows),
        "failed": len(failed),
        "passed": not failed,
    }
    return json.dumps(document, indent=2)


def _parser() -> argparse.ArgumentParser:
    tolerances = ", ".join(f"{value:.0e} in {dtype}" for dtype, value in TOLERANCE.items())
    parser = argparse.ArgumentParser(
        prog="python -m huberish",
        description=(
            "Check every installed array library: the losses and their gradients in float32 and "
            "float64, compared with a float64 NumPy reference and, where torch is installed, "
            f"with torch (relative error at most {tolerances})."
        ),
        epilog=(
            "A library that cannot run (not installed, no device, an error on import) fails the "
            "run if named with --backend, and is skipped otherwise. Exit status: 1 if a row "
            'failed, 0 if none did, 2 on a usage error. In the JSON, a row\'s "passed" is true '
            'only if it ran checks ("checks" > 0) and passed them all, false on any other row, '
            'skipped ones included ("status" says why); the top level\'s "passed" is true exactly '
            "when the exit status is 0."
        ),
    )
    parser.add_argument(
        "--backend",
        action="append",
        choices=BACKENDS,
        metavar="NAME",
        help=(
            f"check only this library (repeatable; one of {', '.join(BACKENDS)}); a library "
            "named here that cannot run counts as a failure"
        ),
    )
    parser.add_argument(
        "--json", action="store_true", help="print the report as JSON instead of a table"
    )
    parser.add_argument("--version", action="version", version=f"huberish {_version('huberish')}")
    return parser


def main(argv: Sequence[str] = ()) -> int:
    """Print the report for the command-line arguments `argv`; return 1 if a row failed."""
    args = _parser().parse_args(argv)
    rows = check_backends(args.backend or BACKENDS)
    # A row without a dtype is a library that could not run: a failure only if asked for by name.
    failed = [row for row in rows if not row.passed and (row.dtype != "-" or args.backend)]
    if args.json:
        print(format_json(rows, failed))
        return 1 if failed else 0
    tolerances = ", ".join(f"{value:.0e} {dtype}" for dtype, value in TOLERANCE.items())
    print("huberish backend report: loss and gradients vs a float64 NumPy reference")
    print(f"(errors are max |ours - reference| / max |reference|; tolerance {tolerances})\n")
    print(format_table(rows))
    passed, checks = sum(row.passed for row in rows), sum(row.checks for row in rows)
    skipped = len(rows) - passed - len(failed)
    print(f"\n{passed} rows passed ({checks} checks), {len(failed)} failed, {skipped} skipped.")
    return 1 if failed else 0
