"""Loss + gradient benchmark: huberish against torch, JAX, a NumPy `where` and the memory floor.

    python benchmarks/run.py                 # NumPy CPU: n = 1e3, 1e5, 1e7; float32, float64
    python benchmarks/run.py --gpu           # CuPy and torch CUDA: n = 1e6, 1e7, 1e8
    python benchmarks/run.py --quick         # fewer repetitions, for a smoke test

Every contestant computes the 'mean' smooth-L1 loss and its gradient with respect to `input`.
The contestants run interleaved, in a rotating order, `--repeats` times; each repetition gives
one time per contestant and the ratios ours / peer of that repetition, and the report gives the
medians. The floor is one pass over memory: read `input` and `target`, write a new array
(``np.subtract(x, y)``; on the GPU ``cupy.subtract``). Peak extra memory of our call is measured
with `tracemalloc` (NumPy). Results go to ``benchmarks/results/<name>.json`` and ``.png``.
"""

import argparse
import json
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

import huberish as hb

RESULTS = Path(__file__).resolve().parent / "results"


def numpy_where(x: np.ndarray, y: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """The straightforward NumPy formulation a user would write."""
    d = x - y
    a = np.abs(d)
    loss = np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta).mean()
    grad = np.where(a < beta, d / beta, np.sign(d)) / d.size
    return loss, grad


def cpu_contestants(x: np.ndarray, y: np.ndarray, beta: float) -> dict[str, Callable[[], object]]:
    contestants: dict[str, Callable[[], object]] = {
        "huberish": lambda: hb.smooth_l1_loss_and_grad(x, y, beta=beta),
        "floor": lambda: np.subtract(x, y),
        "numpy_where": lambda: numpy_where(x, y, beta),
    }
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        pass
    else:
        xt, yt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(y)

        def torch_fwd_bwd() -> object:
            loss = F.smooth_l1_loss(xt, yt, beta=beta)
            return loss, torch.autograd.grad(loss, xt)[0]

        contestants["torch"] = torch_fwd_bwd
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        pass
    else:
        jax.config.update("jax_enable_x64", True)

        def huber(a: object, b: object) -> object:  # optax's min-form, as smooth L1
            abs_d = jnp.abs(a - b)
            q = jnp.minimum(abs_d, beta)
            return jnp.mean((0.5 * q * q + beta * (abs_d - q)) / beta)

        step = jax.jit(jax.value_and_grad(huber))
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        contestants["jax"] = lambda: jax.block_until_ready(step(xj, yj))
    return contestants


def gpu_contestants(x: np.ndarray, y: np.ndarray, beta: float) -> dict[str, Callable[[], object]]:
    import cupy
    import torch
    import torch.nn.functional as F

    xc, yc = cupy.asarray(x), cupy.asarray(y)
    xt = torch.as_tensor(x, device="cuda").requires_grad_()
    yt = torch.as_tensor(y, device="cuda")

    def sync_cupy(f: Callable[[], object]) -> Callable[[], object]:
        return lambda: (f(), cupy.cuda.get_current_stream().synchronize())

    def torch_fwd_bwd() -> object:
        loss = F.smooth_l1_loss(xt, yt, beta=beta)
        grad = torch.autograd.grad(loss, xt)[0]
        torch.cuda.synchronize()
        return grad

    return {
        "huberish": sync_cupy(lambda: hb.smooth_l1_loss_and_grad(xc, yc, beta=beta)),
        "floor": sync_cupy(lambda: cupy.subtract(xc, yc)),
        "torch": torch_fwd_bwd,
    }


def time_interleaved(
    contestants: dict[str, Callable[[], object]], repeats: int, inner: int, pause: float = 0.05
) -> dict[str, list[float]]:
    """Per-call seconds of each contestant, one entry per repetition, in rotating order.

    Each timing starts after `pause` seconds: JAX's and torch's worker threads spin for a while
    after a call, and on a machine with few cores they would slow whichever contestant runs
    next (measured here: huberish 18 ms alone, 24 ms right after a JAX call, at n = 1e7). Only
    long calls get a pause: on short ones it would instead charge torch for waking its idle
    thread pool (0.19 ms -> 1.1 ms at n = 1e5), which back-to-back calls in a loop never pay.
    """
    names = list(contestants)
    for name in names:  # warm up: compilation, caches, first-touch allocations
        contestants[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(repeats):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            call = contestants[name]
            time.sleep(pause)
            start = time.perf_counter()
            for _ in range(inner):
                call()
            times[name].append((time.perf_counter() - start) / inner)
    return times


def peak_extra_bytes(call: Callable[[], object]) -> int:
    """Peak bytes allocated during `call` (NumPy allocations are traced by tracemalloc)."""
    call()
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(args: argparse.Namespace) -> dict[str, object]:
    sizes = [10**6, 10**7, 10**8] if args.gpu else [10**3, 10**5, 10**7]
    make = gpu_contestants if args.gpu else cpu_contestants
    rows = []
    for dtype in ("float32", "float64"):
        for n in sizes:
            rng = np.random.default_rng(0)
            x = rng.standard_normal(n).astype(dtype)
            y = rng.standard_normal(n).astype(dtype)
            for beta in (1.0, 0.5):
                contestants = make(x, y, beta)
                inner = max(1, 10**6 // n) if not args.gpu else 1
                pause = args.pause if n >= 10**6 else 0.0
                times = time_interleaved(contestants, args.repeats, inner, pause)
                row: dict[str, object] = {"n": n, "dtype": dtype, "beta": beta, "inner": inner}
                row["median_s"] = {k: statistics.median(v) for k, v in times.items()}
                row["ratio"] = {
                    f"huberish/{peer}": statistics.median(
                        a / b for a, b in zip(times["huberish"], times[peer], strict=True)
                    )
                    for peer in times
                    if peer != "huberish"
                }
                if not args.gpu:
                    peak = peak_extra_bytes(contestants["huberish"])
                    row["peak_extra_over_input"] = peak / x.nbytes
                rows.append(row)
                print(_format_row(row), flush=True)
    return {
        "machine": _machine(args.gpu),
        "repeats": args.repeats,
        "pause_s": args.pause,
        "rows": rows,
    }


def _machine(gpu: bool) -> dict[str, str]:
    info = {
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "huberish": hb.__version__,
        "cpu": platform.processor() or platform.machine(),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = str(torch.get_num_threads())
        if gpu:
            info["gpu"] = torch.cuda.get_device_name()
    except ImportError:
        pass
    try:
        import jax

        info["jax"] = jax.__version__
    except ImportError:
        pass
    from huberish import _blocks

    info["huberish_threads"] = str(_blocks.threads())
    return info


def _format_row(row: dict[str, object]) -> str:
    medians = row["median_s"]
    ratios = row["ratio"]
    assert isinstance(medians, dict)
    assert isinstance(ratios, dict)
    times = "  ".join(f"{k} {v * 1e3:8.3f} ms" for k, v in medians.items())
    ratio = "  ".join(f"{k} {v:5.2f}" for k, v in ratios.items())
    memory = row.get("peak_extra_over_input")
    extra = f"  peak/input {memory:.2f}" if memory is not None else ""
    return f"n={row['n']:<9} {row['dtype']} beta={row['beta']}  {times}\n    {ratio}{extra}"


def plot(result: dict[str, object], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in result["rows"] if r["beta"] == 1.0]  # type: ignore[attr-defined, index]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, dtype in zip(axes, ("float32", "float64"), strict=True):
        mine = [r for r in rows if r["dtype"] == dtype]
        sizes = [r["n"] for r in mine]
        for name in mine[0]["median_s"]:
            per_element = [r["median_s"][name] / r["n"] * 1e9 for r in mine]
            ax.plot(
                sizes, per_element, marker="o", label=name, lw=2.5 if name == "huberish" else 1.2
            )
        ax.set(xscale="log", yscale="log", title=f"{dtype}, 'mean', beta=1", xlabel="elements n")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("ns per element (loss + gradient)")
    axes[1].legend()
    machine = result["machine"]
    assert isinstance(machine, dict)
    fig.suptitle(f"huberish benchmark, {machine.get('gpu', machine['cpu'])}, {machine['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gpu", action="store_true", help="CuPy and torch CUDA instead of CPU")
    parser.add_argument("--quick", action="store_true", help="3 repetitions, no files written")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--pause", type=float, default=0.05, help="quiet seconds before timing a call, n >= 1e6"
    )
    parser.add_argument("--name", default=None, help="result file name (default: cpu or gpu)")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 3
    result = run(args)
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        name = args.name or ("gpu" if args.gpu else "cpu")
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
        plot(result, RESULTS / f"{name}.png")
        print(f"wrote {RESULTS / name}.json and .png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
