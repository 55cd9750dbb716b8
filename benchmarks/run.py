"""Loss + gradient benchmark: huberish against torch, jitted JAX, a NumPy `where` and the floor.

    python benchmarks/run.py                  # CPU: n = 1e3, 1e5, 1e7; float32, float64; mean, none
    python benchmarks/run.py --large          # also n = 1e8 (skipped if memory is short)
    python benchmarks/run.py --quick --out D  # smoke test: tiny sizes, 2 repetitions, files in D
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

Output: ``<out>/<name>.json`` (all raw times), ``<name>.md`` (tables, `benchmarks/report.py`) and
``<name>.png`` (time per element).
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import huberish as hb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # benchmarks/report.py, next to this file

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


def main_table(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[str]]:
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    make = gpu_contestants if args.gpu else cpu_contestants
    for dtype in args.dtypes:
        for n in args.sizes:
            itemsize = np.dtype(dtype).itemsize
            need = 14 * n * itemsize  # operands, JAX's copies, results, the `where` temporaries
            free = available_bytes()
            if free is not None and need > free:
                skipped.append(
                    f"n={n:.0e} {dtype}: needs ~{need / 2**30:.1f} GiB, "
                    f"{free / 2**30:.1f} GiB available"
                )
                print("skipped", skipped[-1], flush=True)
                continue
            rng = np.random.default_rng(0)
            x = rng.standard_normal(n).astype(dtype)
            y = rng.standard_normal(n).astype(dtype)
            for reduction in args.reductions:
                contestants = make(x, y, args.beta, reduction)
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
                del contestants
                rows.append(row)
                print(report.row_line(row), flush=True)
    return rows, skipped


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


def adapters(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The framework adapters against their hosts' own losses, float32 'mean'."""
    results: list[dict[str, Any]] = []
    beta = args.beta
    try:
        import torch
        import torch.nn.functional as F

        import huberish.torch as htorch
    except ImportError:
        pass
    else:
        for n in args.adapter_sizes:
            rng = np.random.default_rng(2)
            a = torch.from_numpy(rng.standard_normal(n).astype("float32")).requires_grad_()
            b = torch.from_numpy(rng.standard_normal(n).astype("float32"))

            def ours(a: Any = a, b: Any = b) -> object:
                loss = htorch.smooth_l1_loss(a, b, beta=beta)
                return loss, torch.autograd.grad(loss, a)[0]

            def native(a: Any = a, b: Any = b) -> object:
                loss = F.smooth_l1_loss(a, b, beta=beta)
                return loss, torch.autograd.grad(loss, a)[0]

            pause = args.pause if n >= LONG else 0.0
            row = {"adapter": "huberish.torch", "peer": "torch", "n": n, "dtype": "float32"}
            row |= compare(
                {"adapter": ours, "native": native},
                "adapter",
                args.repeats,
                inner_calls(n, args.work),
                pause,
            )
            results.append(row)
            print(report.adapter_line(row), flush=True)
    try:
        import jax
        import jax.numpy as jnp

        import huberish.jax as hjax
    except ImportError:
        pass
    else:
        elements = jnp_smooth_l1(beta)
        ours_step = jax.jit(jax.value_and_grad(lambda a, b: hjax.smooth_l1_loss(a, b, beta=beta)))
        peer_step = jax.jit(jax.value_and_grad(lambda a, b: jnp.mean(elements(a, b))))
        for n in args.jax_adapter_sizes:
            rng = np.random.default_rng(2)
            a = jnp.asarray(rng.standard_normal(n).astype("float32"))
            b = jnp.asarray(rng.standard_normal(n).astype("float32"))
            pause = args.pause if n >= LONG else 0.0
            row = {"adapter": "huberish.jax", "peer": "jax", "n": n, "dtype": "float32"}
            row |= compare(
                {
                    "adapter": lambda a=a, b=b: jax.block_until_ready(ours_step(a, b)),
                    "native": lambda a=a, b=b: jax.block_until_ready(peer_step(a, b)),
                },
                "adapter",
                args.repeats,
                inner_calls(n, args.work),
                pause,
            )
            results.append(row)
            print(report.adapter_line(row), flush=True)
    return results


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


# --- main --------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = {
        "machine": machine(args.gpu),
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "name", "no_plot")},
    }
    result["rows"], result["skipped"] = main_table(args)
    if not args.gpu:
        result["accuracy"] = accuracy(args.accuracy_size, args.beta)
        print(report.accuracy_line(result["accuracy"]), flush=True)
        result["adapters"] = adapters(args)
        result["overhead"] = overhead(args)
        print(report.overhead_lines(result["overhead"]), flush=True)
    result["machine"]["load_average_end"] = (
        list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    )
    result["seconds"] = time.perf_counter() - started
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
    parser.add_argument("--out", type=Path, default=RESULTS, help="output folder")
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
    if args.threads:
        limit_threads(args.threads)
    result = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    name = args.name or ("gpu" if args.gpu else "cpu")
    stem = args.out / name
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    stem.with_suffix(".md").write_text(report.markdown(result, f"{name}.json", f"{name}.png"))
    if not args.no_plot:
        report.plot(result, stem.with_suffix(".png"))
    print(f"wrote {stem}.json, .md" + ("" if args.no_plot else " and .png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
