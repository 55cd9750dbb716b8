"""Out of core with Dask: loss and gradient norm of two lazily generated float32 arrays.

    python benchmarks/dask_out_of_core.py --scheduler threads
    python benchmarks/dask_out_of_core.py --scheduler distributed --workers 2
    python benchmarks/dask_out_of_core.py --n 400_000_000        # a smaller run

The result is printed and saved as ``<out>/dask-<scheduler>-<n>.json``: ``<out>`` is a new
folder ``benchmarks/results/run-YYYYMMDD-HHMMSS/`` (git-ignored) unless ``--out`` names one; a
result already there is replaced only with ``--overwrite`` (the committed results:
``--out benchmarks/results --overwrite``).

The operands (4e9 float32 elements each by default: 16 GB apiece, more than the machine's
memory together) are drawn chunk by chunk from a seeded generator and never exist whole:
huberish builds a lazy graph and Dask streams it. Peak resident memory (this process and its
children, sampled every 0.1 s) and wall time are reported, together with the expected values of
the loss and of the gradient norm for these distributions (the residual is N(0, 2)), computed by
numerical integration, so that the streamed result can be checked.
"""

import argparse
import contextlib
import json
import math
import sys
import threading
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import psutil
from scipy import integrate, stats

import huberish as hb

RESULTS = Path(__file__).resolve().parent / "results"


class PeakMemory:
    """Peak resident set size of this process and its children, sampled in a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        self.peak, self.interval, self._stop = 0, interval, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = me.memory_info().rss
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += child.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def expected(beta: float) -> tuple[float, float]:
    """E[smooth_l1(d)] and E[clip(d, -beta, beta)**2 / beta**2] for d ~ N(0, 2)."""
    pdf = stats.norm(scale=math.sqrt(2)).pdf

    def loss(d: float) -> float:
        return 0.5 * d * d / beta if abs(d) < beta else abs(d) - 0.5 * beta

    def grad2(d: float) -> float:
        return min(abs(d), beta) ** 2 / beta**2

    mean_loss = integrate.quad(lambda d: loss(d) * pdf(d), -40, 40, points=[-beta, beta])[0]
    mean_grad2 = integrate.quad(lambda d: grad2(d) * pdf(d), -40, 40, points=[-beta, beta])[0]
    return mean_loss, mean_grad2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=4_000_000_000)
    parser.add_argument("--chunk", type=int, default=20_000_000)
    parser.add_argument("--scheduler", choices=["threads", "distributed"], default="threads")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--beta", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: new)")
    parser.add_argument("--overwrite", action="store_true", help="replace a result in --out")
    args = parser.parse_args()
    out = args.out or RESULTS / time.strftime("run-%Y%m%d-%H%M%S")
    path = out / (f"dask-{args.scheduler}-{args.n:.0e}".replace("+", "") + ".json")
    if path.exists() and not args.overwrite:
        sys.exit(f"{path} exists: pass --overwrite to replace it")

    client = None
    if args.scheduler == "distributed":
        from distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, memory_limit="8GiB"
        )
        client = Client(cluster)

    rng = da.random.default_rng(20261121)
    x = rng.standard_normal(args.n, chunks=args.chunk, dtype=np.float32)
    y = rng.standard_normal(args.n, chunks=args.chunk, dtype=np.float32)
    loss, grad = hb.smooth_l1_loss_and_grad(x, y, beta=args.beta)  # lazy: nothing computed
    xp = hb._compat.array_namespace(grad)
    grad_norm = xp.sqrt(xp.sum(grad * grad))

    with PeakMemory() as memory:
        start = time.perf_counter()
        if client is None:
            loss_value, norm_value = dask.compute(loss, grad_norm, scheduler="threads")
        else:
            loss_value, norm_value = client.compute([loss, grad_norm], sync=True)
        seconds = time.perf_counter() - start

    mean_loss, mean_grad2 = expected(args.beta)
    result = {
        "n": args.n,
        "chunk": args.chunk,
        "scheduler": args.scheduler,
        "workers": args.workers if client else dask.system.CPU_COUNT,
        "input_bytes_each": args.n * 4,
        "seconds": seconds,
        "peak_rss_bytes": memory.peak,
        "loss": float(loss_value),
        "expected_loss": mean_loss,
        "grad_norm": float(norm_value),
        "expected_grad_norm": math.sqrt(mean_grad2 / args.n),
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB",
    }
    if client is not None:
        client.close()
    print(json.dumps(result, indent=1))
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"saved {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
