"""Loss + gradient benchmark: huberish against torch, jitted JAX, a NumPy `where` and the floor.

    python benchmarks/run.py                  # CPU: n = 1e3, 1e5, 1e7; float32, float64; mean, none
    python benchmarks/run.py --large          # also n = 1e8 (skipped if memory is short)
    python benchmarks/run.py --quick          # smoke test: tiny sizes, 2 repetitions
    python benchmarks/run.py --threads 1 --clock cpu   # one thread each, CPU time (shared machine)
    python benchmarks/run.py --gpu            # CuPy and torch CUDA (unchanged; needs a GPU)

Fairness. In each repetition every contestant runs once (or `inner` times for small n, to get
above the clock's resolution), in an order that rotates from one repetition to the next; a call
of 1e6 elements or more starts after `--pause` seconds of quiet (torch's and JAX's worker
threads keep spinning after a call and would slow whichever contestant runs next). A ratio is
huberish's time over a contestant's time *in the same repetition*; the report gives the median
of those per-repetition ratios and their spread (min, quartiles, max).

Contestants (every one computes the loss and its gradient with respect to `input`):

- ``huberish``: ``hb.smooth_l1_loss_and_grad`` on the NumPy arrays;
- ``torch``: ``F.smooth_l1_loss`` forward plus ``torch.autograd.grad``, on tensors sharing the
  arrays' memory (for 'none' the gradient of the sum, ``grad_outputs`` of ones made beforehand);
- ``jax``: ``jax.jit(jax.value_and_grad(f))`` of the jnp formula (for 'none': the jitted element
  losses and the gradient of their sum);
- ``numpy_where``: the NumPy ``where`` formula a user would write by hand (loss and gradient);
- ``floor``: one pass over memory, ``np.subtract(x, y)`` into a fresh array.

Also measured: peak extra memory of each NumPy contestant with `tracemalloc` (NumPy reports its
data allocations to it; torch and JAX allocations are not traced, so they get none), as a
multiple of one input's bytes; the relative error of each contestant's float32 'mean' loss
against a float64 `math.fsum` truth; the adapters (``huberish.torch`` forward + backward against
torch's own loss, ``huberish.jax`` under ``jit(value_and_grad)`` against the jnp formula); the
per-call time of every public entry point at n = 1e3 against the NumPy ``where`` formula; and
the machine (CPU model, cores, cache sizes, memory, library versions, thread settings, load).

Output: ``<out>/<name>.json`` (all raw times), ``<name>.md`` (tables, `benchmarks/report.py`),
both rewritten after each case, so that a run stopped early (Ctrl-C, ``kill``) keeps what it
measured, with ``"complete": false`` in the JSON; and at the end ``<name>.png`` (time per
element). ``<out>`` is a new folder ``benchmarks/results/run-YYYYMMDD-HHMMSS/`` (git-ignored)
unless ``--out`` names one; results already there are replaced only with ``--overwrite``, so the
committed results are rewritten by ``--out benchmarks/results --overwrite`` alone. Progress, with
the time left, goes to stderr: a tqdm bar with the `bench` extra, a line per case without it.
"""

import argparse
import importlib.util
import json
import math
import os
import platform
import signal
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import huberish as hb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # benchmarks/report.py, next to this file

try:
    from tqdm import tqdm  # the progress bar, from the `bench` extra
except ImportError:
    tqdm = None  # a line per case instead

RESULTS = Path(__file__).resolve().parent / "results"
LONG = 10**6
"""Calls of this many elements or more start after a pause."""

Call = Callable[[], object]


# --- contestants -------------------------------------------------------------------------------


def numpy_where(x: np.ndarray, y: np.ndarray, beta: float, reduction: str) -> tuple[Any, Any]:
    """The straightforward NumPy formulation a user would write."""
    d = x - y
    a = np.abs(d)
    inside = a < beta
    loss = np.where(inside, 0.5 * d * d / beta, a - 0.5 * beta)
    grad = np.where(inside, d / beta, np.sign(d))
    if reduction == "mean":
        return loss.mean(), grad / d.size
    return loss, grad


def jnp_smooth_l1(beta: float) -> Callable[[Any, Any], Any]:
    """Element losses of smooth L1 as a JAX user writes them (optax's min-form, over beta)."""
    import jax.numpy as jnp

    def elements(a: Any, b: Any) -> Any:
        abs_d = jnp.abs(a - b)
        q = jnp.minimum(abs_d, beta)
        return (0.5 * q * q + beta * (abs_d - q)) / beta

    return elements


def cpu_contestants(x: np.ndarray, y: np.ndarray, beta: float, reduction: str) -> dict[str, Call]:
    contestants: dict[str, Call] = {
        "huberish": lambda: hb.smooth_l1_loss_and_grad(x, y, beta=beta, reduction=reduction),
        "numpy_where": lambda: numpy_where(x, y, beta, reduction),
        "floor": lambda: np.subtract(x, y),
    }
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        pass
    else:
        xt, yt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(y)
        ones = None if reduction == "mean" else torch.ones_like(yt)

        def torch_fwd_bwd() -> object:
            loss = F.smooth_l1_loss(xt, yt, beta=beta, reduction=reduction)
            return loss, torch.autograd.grad(loss, xt, ones)[0]

        contestants["torch"] = torch_fwd_bwd
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        pass
    else:
        jax.config.update("jax_enable_x64", True)
        elements = jnp_smooth_l1(beta)
        if reduction == "mean":
            step = jax.jit(jax.value_and_grad(lambda a, b: jnp.mean(elements(a, b))))
        else:
            grad_of_sum = jax.grad(lambda a, b: jnp.sum(elements(a, b)))
            step = jax.jit(lambda a, b: (elements(a, b), grad_of_sum(a, b)))
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        contestants["jax"] = lambda: jax.block_until_ready(step(xj, yj))
    return contestants


def gpu_contestants(x: np.ndarray, y: np.ndarray, beta: float, reduction: str) -> dict[str, Call]:
    import cupy
    import torch
    import torch.nn.functional as F

    xc, yc = cupy.asarray(x), cupy.asarray(y)
    xt = torch.as_tensor(x, device="cuda").requires_grad_()
    yt = torch.as_tensor(y, device="cuda")
    ones = None if reduction == "mean" else torch.ones_like(yt)

    def sync_cupy(f: Call) -> Call:
        return lambda: (f(), cupy.cuda.get_current_stream().synchronize())

    def torch_fwd_bwd() -> object:
        loss = F.smooth_l1_loss(xt, yt, beta=beta, reduction=reduction)
        grad = torch.autograd.grad(loss, xt, ones)[0]
        torch.cuda.synchronize()
        return grad

    return {
        "huberish": sync_cupy(
            lambda: hb.smooth_l1_loss_and_grad(xc, yc, beta=beta, reduction=reduction)
        ),
        "floor": sync_cupy(lambda: cupy.subtract(xc, yc)),
        "torch": torch_fwd_bwd,
    }


# --- timing ------------------------------------------------------------------------------------


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter
"""The clock of every timing (``--clock``): wall time, or the CPU seconds of all the process's
threads (on a machine shared with other work, CPU time leaves out the time others hold the
cores; it charges a multi-threaded contestant for every thread, so use it with ``--threads 1``)."""


def time_interleaved(
    contestants: dict[str, Call], repeats: int, inner: int, pause: float
) -> dict[str, list[float]]:
    """Seconds per call of each contestant, one entry per repetition, in rotating order.

    `pause` seconds of sleep precede each timed call (pass 0 for short calls: there a pause would
    instead charge torch for waking its idle thread pool, which calls in a loop never pay).
    """
    names = list(contestants)
    for name in names:  # warm up: compilation, caches, first-touch allocations
        contestants[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(repeats):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            call = contestants[name]
            if pause:
                time.sleep(pause)
            start = clock()
            for _ in range(inner):
                call()
            times[name].append((clock() - start) / inner)
    return times


def summarise(ours: list[float], theirs: list[float]) -> dict[str, float]:
    """Median and spread of the per-repetition ratios ours / theirs."""
    ratios = sorted(a / b for a, b in zip(ours, theirs, strict=True))
    q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return {
        "median": statistics.median(ratios),
        "min": ratios[0],
        "q1": q1,
        "q3": q3,
        "max": ratios[-1],
    }


def compare(
    contestants: dict[str, Call], ours: str, repeats: int, inner: int, pause: float
) -> dict[str, Any]:
    """Time `contestants` interleaved; medians, raw times and ratios of `ours` to each other."""
    times = time_interleaved(contestants, repeats, inner, pause)
    return {
        "inner": inner,
        "median_s": {k: statistics.median(v) for k, v in times.items()},
        "times_s": times,
        "ratio": {peer: summarise(times[ours], times[peer]) for peer in times if peer != ours},
    }


def inner_calls(n: int, work: int) -> int:
    """Calls per timing: about `work` elements' worth, so that short calls outlast the clock."""
    return max(1, work // n)


def peak_extra_bytes(call: Call) -> int:
    """Peak bytes allocated during `call`, as traced by `tracemalloc` (NumPy's data buffers)."""
    call()
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- the sections of the report ----------------------------------------------------------------


def available_bytes() -> int | None:
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def table_row(args: argparse.Namespace, n: int, dtype: str, reduction: str) -> dict[str, Any]:
    """One row of the main table: every contestant at `n` elements of `dtype`, `reduction`."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(dtype)
    y = rng.standard_normal(n).astype(dtype)
    contestants = (gpu_contestants if args.gpu else cpu_contestants)(x, y, args.beta, reduction)
    repeats = args.repeats if n < 10**8 else min(args.repeats, args.large_repeats)
    inner = 1 if args.gpu else inner_calls(n, args.work)
    pause = args.pause if n >= LONG else 0.0
    row = {"n": n, "dtype": dtype, "reduction": reduction, "beta": args.beta}
    row |= compare(contestants, "huberish", repeats, inner, pause)
    if not args.gpu:
        row["peak_extra_over_input"] = {
            name: peak_extra_bytes(contestants[name]) / x.nbytes
            for name in ("huberish", "numpy_where", "floor")
        }
    return row


def accuracy(n: int, beta: float) -> dict[str, Any]:
    """Relative error of each contestant's float32 'mean' loss against a float64 fsum truth."""
    rng = np.random.default_rng(0)  # (seed 0: today's kernel errs by 9.7e-8 at n = 1e7)
    x = rng.standard_normal(n).astype("float32")
    y = rng.standard_normal(n).astype("float32")
    d = x.astype("float64") - y.astype("float64")  # exact: float32 differences fit in float64
    a = np.abs(d)
    elements = np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)
    truth = math.fsum(elements.tolist()) / n
    del d, a, elements
    losses: dict[str, float] = {
        "huberish": float(hb.smooth_l1_loss(x, y, beta=beta)),
        "numpy_where": float(numpy_where(x, y, beta, "mean")[0]),
    }
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        pass
    else:
        losses["torch"] = float(
            F.smooth_l1_loss(torch.from_numpy(x), torch.from_numpy(y), beta=beta)
        )
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        pass
    else:
        elements_of = jnp_smooth_l1(beta)
        losses["jax"] = float(jax.jit(lambda a, b: jnp.mean(elements_of(a, b)))(x, y))
    return {
        "n": n,
        "dtype": "float32",
        "beta": beta,
        "truth": truth,
        "relative_error": {k: abs(v - truth) / abs(truth) for k, v in losses.items()},
        # One float32 ulp at the truth, relative: a correctly rounded float32 result is off by
        # up to half of it, so errors are only comparable in units of it.
        "ulp_relative": float(np.spacing(np.float32(truth))) / truth,
    }


def torch_adapter(args: argparse.Namespace, n: int) -> dict[str, Any]:
    """``huberish.torch`` forward + backward against torch's own loss, float32 'mean'."""
    import torch
    import torch.nn.functional as F

    import huberish.torch as htorch

    beta = args.beta
    rng = np.random.default_rng(2)
    a = torch.from_numpy(rng.standard_normal(n).astype("float32")).requires_grad_()
    b = torch.from_numpy(rng.standard_normal(n).astype("float32"))

    def ours() -> object:
        loss = htorch.smooth_l1_loss(a, b, beta=beta)
        return loss, torch.autograd.grad(loss, a)[0]

    def native() -> object:
        loss = F.smooth_l1_loss(a, b, beta=beta)
        return loss, torch.autograd.grad(loss, a)[0]

    pause = args.pause if n >= LONG else 0.0
    row = {"adapter": "huberish.torch", "peer": "torch", "n": n, "dtype": "float32"}
    contestants = {"adapter": ours, "native": native}
    return row | compare(contestants, "adapter", args.repeats, inner_calls(n, args.work), pause)


def jax_adapter(args: argparse.Namespace, n: int) -> dict[str, Any]:
    """``huberish.jax`` under ``jit(value_and_grad)`` against the jnp formula, float32 'mean'."""
    import jax
    import jax.numpy as jnp

    import huberish.jax as hjax

    beta = args.beta
    elements = jnp_smooth_l1(beta)
    ours_step = jax.jit(jax.value_and_grad(lambda a, b: hjax.smooth_l1_loss(a, b, beta=beta)))
    peer_step = jax.jit(jax.value_and_grad(lambda a, b: jnp.mean(elements(a, b))))
    rng = np.random.default_rng(2)
    a = jnp.asarray(rng.standard_normal(n).astype("float32"))
    b = jnp.asarray(rng.standard_normal(n).astype("float32"))
    pause = args.pause if n >= LONG else 0.0
    row = {"adapter": "huberish.jax", "peer": "jax", "n": n, "dtype": "float32"}
    contestants = {
        "adapter": lambda: jax.block_until_ready(ours_step(a, b)),
        "native": lambda: jax.block_until_ready(peer_step(a, b)),
    }
    return row | compare(contestants, "adapter", args.repeats, inner_calls(n, args.work), pause)


def overhead(args: argparse.Namespace) -> dict[str, Any]:
    """Per-call time of every NumPy entry point at small n, against the hand-written formula."""
    n, beta = args.overhead_size, args.beta
    rng = np.random.default_rng(3)
    x = rng.standard_normal(n).astype("float32")
    y = rng.standard_normal(n).astype("float32")
    g = np.float32(1.0)
    calls: dict[str, Call] = {"numpy_where": lambda: numpy_where(x, y, beta, "mean")}
    for kind in ("smooth_l1", "huber", "pseudo_huber"):
        options = {"beta" if kind == "smooth_l1" else "delta": beta}
        for suffix in ("loss", "loss_and_grad", "loss_grad_hess"):
            function = getattr(hb, f"{kind}_{suffix}")
            calls[f"{kind}_{suffix}"] = lambda f=function, o=options: f(x, y, **o)
        backward = getattr(hb, f"{kind}_loss_backward")
        calls[f"{kind}_loss_backward"] = lambda f=backward, o=options: f(g, x, y, **o)
    for cls in (hb.SmoothL1Loss, hb.HuberLoss, hb.PseudoHuberLoss):
        module = cls()
        calls[f"{cls.__name__}()"] = lambda m=module: m(x, y)
        calls[f"{cls.__name__}.loss_and_grad"] = lambda m=module: m.loss_and_grad(x, y)
        calls[f"{cls.__name__}.backward"] = lambda m=module: m.backward(g, x, y)
    result = compare(calls, "numpy_where", args.repeats, inner_calls(n, args.work // 10), 0.0)
    # Report each entry point over the hand-written formula, so > 1 means slower than it.
    result["ratio"] = {
        name: summarise(result["times_s"][name], result["times_s"]["numpy_where"])
        for name in calls
        if name != "numpy_where"
    }
    return {"n": n, "dtype": "float32", "reduction": "mean", "peer": "numpy_where"} | result


# --- the machine -------------------------------------------------------------------------------


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def caches() -> list[dict[str, str]]:
    """cpu0's caches from sysfs: level, type, size, and which CPUs share each."""
    found = []
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        found.append(
            {
                key: _read(index / key)
                for key in ("level", "type", "size", "shared_cpu_list", "coherency_line_size")
            }
        )
    return found


def cpu_model() -> str:
    for line in _read(Path("/proc/cpuinfo")).splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine(gpu: bool) -> dict[str, Any]:
    from huberish import _blocks

    info: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "caches": caches(),
        "memory_gib": None,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "huberish": hb.__version__,
        "HUBERISH_NUM_THREADS": os.environ.get("HUBERISH_NUM_THREADS"),
        "XLA_FLAGS": os.environ.get("XLA_FLAGS"),
        "clock": "wall (perf_counter)" if clock is time.perf_counter else "process CPU time",
        "huberish_threads": _blocks.threads(),
    }
    try:
        import psutil

        info["memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        if gpu:
            info["gpu"] = torch.cuda.get_device_name()
    except ImportError:
        pass
    try:
        import jax
        import jaxlib

        info["jax"] = jax.__version__
        info["jaxlib"] = jaxlib.__version__
    except ImportError:
        pass
    return info


# --- the run: its cases, their progress, saving after each ------------------------------------


Case = tuple[str, str, Callable[[], Any]]
"""A label for the progress bar, the section of the result it goes to, and what measures it."""

LINES: dict[str, Callable[[Any], str]] = {
    "rows": report.row_line,
    "accuracy": report.accuracy_line,
    "adapters": report.adapter_line,
    "overhead": report.overhead_lines,
}
"""The line printed for a finished case of each section. "rows" and "adapters" are lists."""


def cases(args: argparse.Namespace) -> tuple[list[Case], list[str]]:
    """Every case of the run, in order, and the sizes skipped for want of memory."""
    todo: list[Case] = []
    skipped: list[str] = []
    free = available_bytes()
    for dtype in args.dtypes:
        for n in args.sizes:
            # operands, JAX's copies, results, the `where` temporaries
            need = 14 * n * np.dtype(dtype).itemsize
            if free is not None and need > free:
                skipped.append(
                    f"n={n:.0e} {dtype}: needs ~{need / 2**30:.1f} GiB, "
                    f"{free / 2**30:.1f} GiB available"
                )
                continue
            for reduction in args.reductions:
                measure = partial(table_row, args, n, dtype, reduction)
                todo.append((f"n={report._n(n)} {dtype} {reduction}", "rows", measure))
    if args.gpu:
        return todo, skipped
    todo.append(("accuracy", "accuracy", partial(accuracy, args.accuracy_size, args.beta)))
    for framework, sizes, measure in (
        ("torch", args.adapter_sizes, torch_adapter),
        ("jax", args.jax_adapter_sizes, jax_adapter),
    ):
        if importlib.util.find_spec(framework) is not None:
            for n in sizes:
                label = f"huberish.{framework} n={report._n(n)}"
                todo.append((label, "adapters", partial(measure, args, n)))
    todo.append(("per-call overhead", "overhead", partial(overhead, args)))
    return todo, skipped


def progress(todo: list[Case]) -> Iterator[Case]:
    """The cases one by one, with the count, the time taken and the time left on stderr.

    The time left is the mean time of a finished case times the cases to go: rough, as the
    cases differ in length. tqdm draws it as a bar if installed (the `bench` extra).
    """
    if tqdm is not None:
        layout = "{n_fmt}/{total_fmt} cases |{bar:20}| {elapsed} elapsed, ~{remaining} left{desc}"
        with tqdm(todo, file=sys.stderr, smoothing=0, bar_format=layout) as bar:
            for case in bar:
                bar.set_description_str(f": {case[0]}")
                yield case
        return
    started = time.perf_counter()
    for done, case in enumerate(todo):
        elapsed = time.perf_counter() - started
        left = f"~{elapsed / done * (len(todo) - done):.0f} s" if done else "?"
        print(
            f"{done}/{len(todo)} cases, {elapsed:.0f} s elapsed, {left} left: {case[0]}",
            file=sys.stderr,
            flush=True,
        )
        yield case
    elapsed = time.perf_counter() - started
    print(f"{len(todo)}/{len(todo)} cases, {elapsed:.0f} s", file=sys.stderr, flush=True)


def say(text: str) -> None:
    """Print a result line on stdout without breaking tqdm's bar."""
    if tqdm is None:
        print(text, flush=True)
    else:
        tqdm.write(text)
        sys.stdout.flush()


def save(result: dict[str, Any], out: Path, name: str, png: bool = False) -> None:
    """Write `<out>/<name>.json` and `.md`, each whole or not at all (temporary file, rename)."""
    texts = {
        f"{name}.json": json.dumps(result, indent=1) + "\n",
        f"{name}.md": report.markdown(result, f"{name}.json", f"{name}.png" if png else None),
    }
    for file, text in texts.items():
        temporary = out / f"{file}.tmp"
        temporary.write_text(text)
        os.replace(temporary, out / file)


def run(args: argparse.Namespace, out: Path, name: str) -> dict[str, Any]:
    """Measure every case, saving the result after each; it says `"complete": true` at the end."""
    todo, skipped = cases(args)
    for line in skipped:
        print("skipped", line, flush=True)
    ignored = ("out", "name", "no_plot", "overwrite")
    result: dict[str, Any] = {
        "complete": False,
        "machine": machine(args.gpu),
        "settings": {k: v for k, v in vars(args).items() if k not in ignored},
        "skipped": skipped,
        "rows": [],
        "adapters": [],
    }
    started = time.perf_counter()
    for _, section, measure in progress(todo):
        value = measure()
        if section in ("rows", "adapters"):
            result[section].append(value)
        else:
            result[section] = value
        say(LINES[section](value))
        result["seconds"] = time.perf_counter() - started
        save(result, out, name)
    result["machine"]["load_average_end"] = (
        list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    )
    result["complete"] = True
    save(result, out, name)
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gpu", action="store_true", help="CuPy and torch CUDA instead of CPU")
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: tiny sizes, 2 repetitions"
    )
    parser.add_argument("--large", action="store_true", help="also n = 1e8 (if memory allows)")
    parser.add_argument("--repeats", type=int, default=15, help="repetitions (default 15)")
    parser.add_argument(
        "--large-repeats", type=int, default=5, help="repetitions at n = 1e8 (default 5)"
    )
    parser.add_argument(
        "--pause", type=float, default=0.05, help="quiet seconds before a call, n >= 1e6"
    )
    parser.add_argument("--beta", type=float, default=1.0)
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="wall", help="wall time or process CPU time"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="threads for huberish, torch and (1 only) JAX"
    )
    parser.add_argument("--sizes", type=float, nargs="+", help="override the sizes")
    parser.add_argument(
        "--out",
        type=Path,
        help="output folder (default: a new benchmarks/results/run-YYYYMMDD-HHMMSS/, git-ignored)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace results in --out")
    parser.add_argument("--name", default=None, help="file name stem (default: cpu or gpu)")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--reductions", nargs="+", default=["mean", "none"])
    args = parser.parse_args(argv)
    if args.gpu:
        sizes = [10**6, 10**7, 10**8]
    else:
        sizes = [10**3, 10**5, 10**7] + ([10**8] if args.large else [])
    args.accuracy_size = 10**7
    args.adapter_sizes = [256, 10**6]
    args.jax_adapter_sizes = [10**6]
    args.overhead_size = 10**3
    args.work = LONG
    if args.quick:
        args.work = 10**4
        args.repeats = 2
        sizes = [10**3, 10**4]
        args.accuracy_size = 10**5
        args.adapter_sizes = [256, 10**4]
        args.jax_adapter_sizes = [10**4]
    args.sizes = [int(s) for s in args.sizes] if args.sizes else sizes
    return args


def limit_threads(threads: int) -> None:
    """One thread count for every contestant; before torch and JAX are imported."""
    os.environ["HUBERISH_NUM_THREADS"] = str(threads)
    if threads == 1:  # XLA's CPU client has no other thread setting
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> int:
    global clock
    args = parse(argv)
    clock = CLOCKS[args.clock]
    name = args.name or ("gpu" if args.gpu else "cpu")
    out = args.out or RESULTS / time.strftime("run-%Y%m%d-%H%M%S")
    files = [out / f"{name}.{ext}" for ext in ("json", "md", "png")]
    if not args.overwrite and any(file.exists() for file in files):
        print(f"{out} holds {name}.* already: pass --overwrite to replace them", file=sys.stderr)
        return 2
    if not args.no_plot and importlib.util.find_spec("matplotlib") is None:
        print("no PNG: matplotlib is not installed (the `bench` extra)", file=sys.stderr)
        args.no_plot = True
    if args.threads:
        limit_threads(args.threads)
    out.mkdir(parents=True, exist_ok=True)
    print(f"output: {out}/{name}.json and .md, rewritten after each case", flush=True)
    try:
        result = run(args, out, name)
        if not args.no_plot:
            report.plot(result, out / f"{name}.png")
            save(result, out, name, png=True)
    except KeyboardInterrupt:
        print(f"\ninterrupted: the finished cases are in {out}/{name}.json", file=sys.stderr)
        return 130
    print(f"wrote {out}/{name}.json, .md" + ("" if args.no_plot else " and .png"))
    return 0


if __name__ == "__main__":
    # `kill` stops the run as Ctrl-C does, with the message (finished cases are saved either way)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main())
