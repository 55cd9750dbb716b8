"""Side-by-side timing of this checkout's huberish against an older commit, in one process.

    python benchmarks/ab.py                     # against HEAD~1
    python benchmarks/ab.py --before 48fdcd7 --repeats 15

The older package is extracted with ``git archive`` into a temporary folder and imported as
``huberish_before`` (huberish imports itself only relatively). Each repetition times every
contestant once, in rotating order, after a short pause; a cell reports the median over the
repetitions of the per-repetition ratio new / before (and new / NumPy, the plain ``np.where``
formula, for the loss alone). The CPU is named in the first line.
"""

import argparse
import importlib
import io
import pathlib
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import timeit
from functools import partial

import numpy as np

import huberish as new

CASES = [  # (function, reduction, sizes)
    ("smooth_l1_loss", "mean", (1_000, 100_000, 1_000_000, 10_000_000)),
    ("smooth_l1_loss", "none", (1_000, 1_000_000)),
    ("huber_loss_and_grad", "mean", (1_000, 100_000, 1_000_000, 10_000_000)),
    ("huber_loss_and_grad", "sum", (1_000_000,)),
    ("pseudo_huber_loss", "mean", (1_000, 1_000_000)),
]


def cpu_name() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_before(ref: str, folder: pathlib.Path):
    archive = subprocess.run(
        ["git", "archive", ref, "huberish"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    (folder / "huberish").rename(folder / "huberish_before")
    sys.path.insert(0, str(folder))
    return importlib.import_module("huberish_before")


def numpy_formula(x, y, beta=1.0):
    d = np.abs(x - y)
    return np.mean(np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta))


def best_of(call, number: int) -> float:
    return min(timeit.repeat(call, number=number, repeat=3)) / number


def torch_rows(before, repeats: int) -> None:
    """The torch adapter (float32 'mean') against torch's own loss: forward + backward, and the
    forward alone under ``torch.no_grad`` (an evaluation loop)."""
    import torch

    import huberish.torch as new_torch

    old_torch = importlib.import_module(before.__name__ + ".torch")

    def step(loss, x, y):
        return torch.autograd.grad(loss(x, y), x)

    @torch.no_grad()
    def evaluate(loss, x, y):
        return loss(x, y)

    for title, call in (("fwd + bwd", step), ("forward under no_grad", evaluate)):
        print(f"\n| torch adapter, {title} | n | new | new / before | new / torch |")
        print("|---|---:|---:|---:|---:|")
        for n in (256, 65_536, 1_000_000):
            x, y = torch.randn(n, requires_grad=True), torch.randn(n)
            contestants = {
                who: partial(call, loss, x, y)
                for who, loss in (
                    ("new", new_torch.smooth_l1_loss),
                    ("before", old_torch.smooth_l1_loss),
                    ("torch", torch.nn.functional.smooth_l1_loss),
                )
            }
            label = f"| smooth_l1_loss | {n:.0e} |"
            row(contestants, label, n, repeats, columns=("before", "torch"))


def row(contestants: dict, label: str, n: int, repeats: int, columns: tuple[str, ...]) -> None:
    """Time `contestants` in rotating order; print the median time of "new" and the medians of
    its per-repetition ratios to each of `columns` (blank where not a contestant)."""
    number = max(1, int(2e5 // n))
    ratios: dict[str, list[float]] = {who: [] for who in contestants if who != "new"}
    times = []
    for rep in range(repeats):
        order = list(contestants)
        order = order[rep % len(order) :] + order[: rep % len(order)]
        seen = {}
        for who in order:
            time.sleep(0.05 if n < 1e6 else 0.3)
            seen[who] = best_of(contestants[who], number)
        times.append(seen["new"])
        for who in ratios:
            ratios[who].append(seen["new"] / seen[who])
    cells = " | ".join(
        f"{statistics.median(ratios[who]):.2f}" if who in ratios else "" for who in columns
    )
    print(f"{label} {statistics.median(times) * 1e6:.1f} us | {cells} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="HEAD~1", help="git commit to compare with")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--dtype", nargs="+", default=["float32", "float64"])
    parser.add_argument("--max-n", type=float, default=1e7, help="skip larger cases")
    parser.add_argument("--torch", action="store_true", help="also the torch adapter")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        before = load_before(args.before, pathlib.Path(folder))
        print(
            f"# {cpu_name()}; new = working tree, before = {args.before}; "
            f"median of {args.repeats} per-repetition ratios"
        )
        print("| call | reduction | dtype | n | new | new / before | new / NumPy |")
        print("|---|---|---|---:|---:|---:|---:|")
        rng = np.random.default_rng(0)
        for name, reduction, sizes in CASES:
            for dtype in args.dtype:
                for n in (n for n in sizes if n <= args.max_n):
                    x = rng.standard_normal(n).astype(dtype)
                    y = rng.standard_normal(n).astype(dtype)
                    contestants = {
                        "new": partial(getattr(new, name), x, y, reduction=reduction),
                        "before": partial(getattr(before, name), x, y, reduction=reduction),
                    }
                    if name == "smooth_l1_loss" and reduction == "mean":
                        contestants["numpy"] = partial(numpy_formula, x, y)
                    label = f"| {name} | {reduction} | {dtype} | {n:.0e} |"
                    row(contestants, label, n, args.repeats, columns=("before", "numpy"))
        if args.torch:
            torch_rows(before, args.repeats)


if __name__ == "__main__":
    main()
