"""What the float64 accumulation of float32 sums costs in whole calls, and two cheaper sums.

    python benchmarks/sum_price.py --repeats 9

`huberish._blocks.total` sums NumPy float32 arrays in float64 (issue 18: within 2.5e-7 of an
exact sum on every CPU, for every data). Each repetition times the same public call with
`total`'s float32 sums replaced (monkeypatched, in this process only) by:

- ``pairwise``: NumPy's own float32 sum (its error on equal terms: benchmarks/NOTES.md, 10);
- ``halving``: three levels of float32 halving, ``x[:h] + x[h:2h]``, then the float64 sum of
  the rest (each addition is exactly rounded, so the bound does not depend on the CPU: at most
  3.5 float32 roundings for terms of one sign, against the float64 sum's 0.5);

in rotating order after a short pause, and prints the medians of the per-repetition ratios
(float64 sum / alternative: above 1 is what the float64 sum costs), then each sum's relative
error against `math.fsum` on normal and equal data. The CPU is named in the first line.
"""

import argparse
import math
import statistics
import time
import timeit
from functools import partial

import numpy as np
from ab import cpu_name

import huberish as hb
from huberish import _blocks

FLOAT64_SUM = _blocks.total


def pairwise(x, *, axis=None, keepdims=False, xp):
    if type(x) is not np.ndarray or x.dtype != np.float32:
        return FLOAT64_SUM(x, axis=axis, keepdims=keepdims, xp=xp)
    return np.add.reduce(x, axis=axis, keepdims=keepdims)


def halving(x, *, axis=None, keepdims=False, xp):
    if type(x) is not np.ndarray or x.dtype != np.float32 or x.ndim != 1 or axis or keepdims:
        return FLOAT64_SUM(x, axis=axis, keepdims=keepdims, xp=xp)
    odd = []
    for level in range(3):
        n, h = x.shape[0], x.shape[0] // 2
        if h < 64:
            break
        if n % 2:
            odd.append(float(x[n - 1]))
        # (the first level into a new array: `x` may be an operand's)
        x = x[:h] + x[h : 2 * h] if level == 0 else np.add(x[:h], x[h : 2 * h], out=x[:h])
    return np.float32(float(np.add.reduce(x, dtype=np.float64)) + math.fsum(odd))


SUMS = {"float64": FLOAT64_SUM, "pairwise": pairwise, "halving": halving}


def timed(call, sum_, number: int) -> float:
    _blocks.total = sum_
    try:
        return min(timeit.repeat(call, number=number, repeat=3)) / number
    finally:
        _blocks.total = FLOAT64_SUM


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    print(f"# {cpu_name()}; float32 'mean'; median of {args.repeats} per-repetition ratios")
    print("| call | n | float64 sum | / pairwise | / halving |")
    print("|---|---:|---:|---:|---:|")
    rng = np.random.default_rng(0)
    for name in ("smooth_l1_loss", "huber_loss_and_grad"):
        for n in (1_000, 100_000, 1_000_000, 10_000_000):
            x = rng.standard_normal(n).astype(np.float32)
            y = rng.standard_normal(n).astype(np.float32)
            call, number = partial(getattr(hb, name), x, y), max(1, int(2e5 // n))
            ratios: dict[str, list[float]] = {"pairwise": [], "halving": []}
            times = []
            for rep in range(args.repeats):
                order = list(SUMS)[rep % 3 :] + list(SUMS)[: rep % 3]
                seen = {}
                for who in order:
                    time.sleep(0.05 if n < 1e6 else 0.3)
                    seen[who] = timed(call, SUMS[who], number)
                times.append(seen["float64"])
                for who in ratios:
                    ratios[who].append(seen["float64"] / seen[who])
            cells = " | ".join(f"{statistics.median(r):.2f}" for r in ratios.values())
            print(f"| {name} | {n:.0e} | {statistics.median(times) * 1e6:.1f} us | {cells} |")
    print("\n| data | n | float64 sum | pairwise | halving |  (relative error, 'sum', beta 0.8)")
    print("|---|---:|---:|---:|---:|")
    for data in ("normal", "equal"):
        for n in (1_000, 131_071, 1_000_003):
            if data == "equal":
                x, y = np.full(n, 0.7, np.float32), np.zeros(n, np.float32)
            else:
                x = (rng.standard_normal(n) * 3).astype(np.float32)
                y = rng.standard_normal(n).astype(np.float32)
            d = x.astype(np.float64) - y
            a = np.abs(d)
            truth = math.fsum(np.where(a < 0.8, 0.5 * d * d / 0.8, a - 0.4).tolist())
            errors = []
            for sum_ in SUMS.values():
                _blocks.total = sum_
                got = float(hb.smooth_l1_loss(x, y, reduction="sum", beta=0.8))
                _blocks.total = FLOAT64_SUM
                errors.append(f"{abs(got - truth) / truth:.1e}")
            print(f"| {data} | {n} | {' | '.join(errors)} |")


if __name__ == "__main__":
    main()
