"""Tables and the plot from a `benchmarks/run.py` result; optionally `docs/performance.md`.

    python benchmarks/report.py benchmarks/results/cpu.json            # print the Markdown
    python benchmarks/report.py benchmarks/results/cpu.json --docs     # write docs/performance.md

Every figure printed comes from the JSON file: nothing here is measured or hard-coded.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEERS = ("torch", "jax", "numpy_where", "floor")

# The targets: (label, how to read the value from a result, the limit).
TARGETS: list[tuple[str, str, float]] = [
    ("n = 1e7 float32 'mean': huberish / torch fwd+bwd", "ratio:10000000:float32:mean:torch", 0.6),
    (
        "n = 1e7 float32 'mean': huberish / jit(value_and_grad)",
        "ratio:10000000:float32:mean:jax",
        0.8,
    ),
    ("n = 1e7 float32 'mean': huberish / floor", "ratio:10000000:float32:mean:floor", 1.6),
    ("n = 1e7 float64 'mean': huberish / floor", "ratio:10000000:float64:mean:floor", 1.6),
    ("n = 1e5 float64 'mean': huberish / torch", "ratio:100000:float64:mean:torch", 0.8),
    (
        "n = 1e3 float32 'mean': huberish / NumPy `where`",
        "ratio:1000:float32:mean:numpy_where",
        1.0,
    ),
    ("peak extra memory / one input (largest n, float32 'mean')", "memory", 1.5),
    ("float32 'mean' relative error vs float64 fsum", "accuracy", 2.5e-7),
    ("huberish.torch fwd+bwd / torch, n = 256", "adapter:huberish.torch:256", 1.5),
    ("huberish.torch fwd+bwd / torch, n = 1e6", "adapter:huberish.torch:1000000", 1.5),
    (
        "huberish.jax jit(value_and_grad) / jnp formula, n = 1e6",
        "adapter:huberish.jax:1000000",
        1.2,
    ),
]


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}" if seconds < 1e-2 else f"{seconds * 1e3:.1f}"


def _spread(r: dict[str, float]) -> str:
    return f"{r['median']:.2f} ({r['min']:.2f}-{r['max']:.2f})"


def _n(n: int) -> str:
    exponent = len(str(n)) - 1
    return f"1e{exponent}" if n == 10**exponent else str(n)


def row_line(row: dict[str, Any]) -> str:
    times = "  ".join(f"{k} {_ms(v)} ms" for k, v in row["median_s"].items())
    ratios = "  ".join(f"/{k} {_spread(v)}" for k, v in row["ratio"].items())
    memory = row.get("peak_extra_over_input", {}).get("huberish")
    extra = "" if memory is None else f"  peak/input {memory:.2f}"
    return f"n={_n(row['n'])} {row['dtype']} {row['reduction']}: {times}\n    {ratios}{extra}"


def adapter_line(row: dict[str, Any]) -> str:
    ratio = row["ratio"]["native"]
    times = row["median_s"]
    return (
        f"{row['adapter']} n={_n(row['n'])}: {_ms(times['adapter'])} ms vs "
        f"{row['peer']} {_ms(times['native'])} ms, ratio {_spread(ratio)}"
    )


def accuracy_line(acc: dict[str, Any]) -> str:
    errors = "  ".join(f"{k} {v:.2g}" for k, v in acc["relative_error"].items())
    return f"float32 'mean' relative error at n={_n(acc['n'])}: {errors}"


def overhead_lines(over: dict[str, Any]) -> str:
    base = over["median_s"]["numpy_where"]
    lines = [f"per call at n={_n(over['n'])} (NumPy `where`: {base * 1e6:.1f} µs)"]
    for name, ratio in over["ratio"].items():
        lines.append(f"  {name:32} {over['median_s'][name] * 1e6:8.1f} µs  {_spread(ratio)}")
    return "\n".join(lines)


def _value(result: dict[str, Any], key: str) -> tuple[float, str] | None:
    """The measured value for a target key, and the figures behind it."""
    parts = key.split(":")
    if parts[0] == "ratio":
        n, dtype, reduction, peer = int(parts[1]), parts[2], parts[3], parts[4]
        for row in result.get("rows", []):
            key = (row["n"], row["dtype"], row["reduction"])
            if key == (n, dtype, reduction) and peer in row["ratio"]:
                r = row["ratio"][peer]
                t = row["median_s"]
                detail = f"{_ms(t['huberish'])} vs {_ms(t[peer])} ms; {r['min']:.2f}-{r['max']:.2f}"
                return r["median"], detail
        return None
    if parts[0] == "memory":
        rows = [r for r in result.get("rows", []) if "peak_extra_over_input" in r]
        rows = [r for r in rows if r["dtype"] == "float32" and r["reduction"] == "mean"]
        if not rows:
            return None
        row = max(rows, key=lambda r: r["n"])
        return row["peak_extra_over_input"]["huberish"], f"n = {_n(row['n'])}, tracemalloc"
    if parts[0] == "accuracy":
        acc = result.get("accuracy")
        if acc is None:
            return None
        return acc["relative_error"]["huberish"], f"n = {_n(acc['n'])}"
    if parts[0] == "adapter":
        for row in result.get("adapters", []):
            if row["adapter"] == parts[1] and row["n"] == int(parts[2]):
                r, t = row["ratio"]["native"], row["median_s"]
                detail = (
                    f"{_ms(t['adapter'])} vs {_ms(t['native'])} ms; {r['min']:.2f}-{r['max']:.2f}"
                )
                return r["median"], detail
    return None


def targets_table(result: dict[str, Any]) -> str:
    lines = ["| measure | target | measured (median; figures, min-max) | |", "|---|---|---|---|"]
    for label, key, limit in TARGETS:
        found = _value(result, key)
        if found is None:
            lines.append(f"| {label} | ≤ {limit:g} | not measured | |")
            continue
        value, detail = found
        verdict = "met" if value <= limit else f"missed by {value / limit:.2f}x"
        lines.append(f"| {label} | ≤ {limit:g} | **{value:.3g}** ({detail}) | {verdict} |")
    return "\n".join(lines)


def main_tables(result: dict[str, Any]) -> str:
    rows = result.get("rows", [])
    peers = [p for p in PEERS if any(p in r["median_s"] for r in rows)]
    head = ["n", "dtype", "reduction", "huberish ms"] + [f"{p} ms" for p in peers]
    head += [f"ours / {p}" for p in peers] + ["peak extra / input"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        t = row["median_s"]
        cells = [_n(row["n"]), row["dtype"], row["reduction"], _ms(t["huberish"])]
        cells += [_ms(t[p]) if p in t else "-" for p in peers]
        cells += [_spread(row["ratio"][p]) if p in row["ratio"] else "-" for p in peers]
        memory = row.get("peak_extra_over_input", {}).get("huberish")
        cells.append("-" if memory is None else f"{memory:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def memory_table(result: dict[str, Any]) -> str:
    rows = [r for r in result.get("rows", []) if "peak_extra_over_input" in r]
    if not rows:
        return ""
    names = list(rows[0]["peak_extra_over_input"])
    lines = [
        "| n | dtype | reduction | " + " | ".join(names) + " |",
        "|" + "---|" * (3 + len(names)),
    ]
    for row in rows:
        peaks = row["peak_extra_over_input"]
        cells = [_n(row["n"]), row["dtype"], row["reduction"]] + [f"{peaks[k]:.2f}" for k in names]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_text(m: dict[str, Any]) -> str:
    caches = ", ".join(
        f"L{c['level']}{'d' if c['type'] == 'Data' else 'i' if c['type'] == 'Instruction' else ''}"
        f" {c['size']} (CPUs {c['shared_cpu_list']})"
        for c in m.get("caches", [])
    )
    libraries = ", ".join(
        f"{k} {m[k]}" for k in ("python", "numpy", "torch", "jax", "huberish") if k in m
    )
    threads = (
        f"huberish threads {m.get('huberish_threads')} (HUBERISH_NUM_THREADS="
        f"{m.get('HUBERISH_NUM_THREADS')}), torch threads {m.get('torch_threads')}, "
        f"XLA_FLAGS {m.get('XLA_FLAGS')}; clock: {m.get('clock')}"
    )
    load = m.get("load_average"), m.get("load_average_end")
    return (
        f"{m['cpu']}, {m['cores']} cores ({m.get('cores_usable')} usable), caches: {caches}; "
        f"memory {m.get('memory_gib')} GiB. {libraries}. {threads}. Measured {m['date']}; "
        f"load average (1, 5, 15 min) {load[0]} at the start, {load[1]} at the end."
    )


def markdown(result: dict[str, Any], json_name: str, png_name: str | None) -> str:
    s = result["settings"]
    seconds = result.get("seconds", 0)
    parts = [
        "## Machine",
        machine_text(result["machine"]),
        "## Against the targets",
        targets_table(result),
        f"## Loss + gradient, smooth L1, beta = {s['beta']:g}",
        f"Medians over {s['repeats']} interleaved repetitions (n = 1e8: {s['large_repeats']}), "
        f"rotating order, {s['pause'] * 1e3:.0f} ms of quiet before calls of 1e6 elements or more. "
        "Ratios: median of per-repetition ratios, (min-max) in brackets. "
        "Peak extra memory: `tracemalloc` (NumPy's allocations), over one input's bytes.",
        main_tables(result),
    ]
    if result.get("skipped"):
        parts.append("Skipped: " + "; ".join(result["skipped"]) + ".")
    if png_name:
        parts.append(f"![Time per element]({png_name})")
    if memory_table(result):
        parts += ["## Peak extra memory / one input (tracemalloc)", memory_table(result)]
    if "accuracy" in result:
        acc = result["accuracy"]
        parts += [
            "## Accuracy",
            f"Relative error of the float32 'mean' loss at n = {_n(acc['n'])} against the float64 "
            "`math.fsum` of the element losses (computed from the same float32 inputs); one "
            f"float32 ulp at the truth is {acc.get('ulp_relative', float('nan')):.2g} of it, so a "
            "correctly rounded result errs by up to half that:",
            "| "
            + " | ".join(acc["relative_error"])
            + " |\n"
            + "|"
            + "---|" * len(acc["relative_error"])
            + "\n| "
            + " | ".join(f"{v:.2g}" for v in acc["relative_error"].values())
            + " |",
        ]
    if result.get("adapters"):
        lines = [
            "| adapter | against | n | adapter ms | host ms | ratio (min-max) |",
            "|---|---|---|---|---|---|",
        ]
        for row in result["adapters"]:
            t = row["median_s"]
            lines.append(
                f"| {row['adapter']} | {row['peer']} | {_n(row['n'])} | {_ms(t['adapter'])} | "
                f"{_ms(t['native'])} | {_spread(row['ratio']['native'])} |"
            )
        parts += ["## Adapters (float32 'mean', forward + backward)", "\n".join(lines)]
    if "overhead" in result:
        over = result["overhead"]
        base = over["median_s"]["numpy_where"]
        lines = ["| entry point | µs per call | / NumPy `where` (min-max) |", "|---|---|---|"]
        lines.append(f"| NumPy `where` (loss + grad) | {base * 1e6:.1f} | 1 |")
        for name, ratio in over["ratio"].items():
            lines.append(f"| `{name}` | {over['median_s'][name] * 1e6:.1f} | {_spread(ratio)} |")
        parts += [f"## Per-call time at n = {_n(over['n'])}, float32", "\n".join(lines)]
    if not result.get("complete", True):  # (results before the key was added are complete)
        stopped = f"**Incomplete run**: stopped, or still running, after {seconds:.0f} s."
        parts.insert(0, stopped + " What follows are the cases it finished.")
    parts.append(f"Raw results: `{json_name}`; whole run {seconds:.0f} s.")
    return "\n\n".join(parts) + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    dtypes = list(dict.fromkeys(r["dtype"] for r in rows))
    reductions = list(dict.fromkeys(r["reduction"] for r in rows))
    fig, axes = plt.subplots(
        len(reductions),
        len(dtypes),
        figsize=(5.5 * len(dtypes), 3.8 * len(reductions)),
        sharey=True,
        squeeze=False,
    )
    for i, reduction in enumerate(reductions):
        for j, dtype in enumerate(dtypes):
            ax = axes[i][j]
            mine = [r for r in rows if r["dtype"] == dtype and r["reduction"] == reduction]
            for name in mine[0]["median_s"] if mine else []:
                sizes = [r["n"] for r in mine if name in r["median_s"]]
                per_element = [
                    r["median_s"][name] / r["n"] * 1e9 for r in mine if name in r["median_s"]
                ]
                ax.plot(
                    sizes,
                    per_element,
                    marker="o",
                    label=name,
                    lw=2.5 if name == "huberish" else 1.2,
                )
            ax.set(xscale="log", yscale="log", title=f"{dtype}, '{reduction}'", xlabel="elements n")
            ax.grid(True, which="both", alpha=0.3)
        axes[i][0].set_ylabel("ns per element (loss + gradient)")
    axes[0][-1].legend()
    m = result["machine"]
    fig.suptitle(f"huberish, {m.get('gpu', m['cpu'])}, {m['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


DOCS_HEAD = """# Performance

This page is generated by `benchmarks/report.py --docs` from `benchmarks/results/{json}`
(written by `python benchmarks/run.py --out benchmarks/results --overwrite`); every figure below
comes from that one run. The machine is shared, so absolute times are noisy: read the ratios,
which compare contestants measured side by side, and their spread.

What is compared (loss and gradient with respect to `input`, smooth L1):

- **torch**: `F.smooth_l1_loss` forward plus `torch.autograd.grad`, on tensors sharing the
  arrays' memory;
- **jax**: `jax.jit(jax.value_and_grad(f))` of the jnp formula, on device arrays;
- **numpy_where**: the NumPy `where` formula a user would write (loss and gradient);
- **floor**: one pass over memory, `np.subtract(x, y)` into a fresh array.
"""


KEPT = "<!-- report.py keeps what follows: hand-written notes -->\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("result", type=Path)
    parser.add_argument("--docs", action="store_true", help="write docs/performance.md")
    args = parser.parse_args()
    result = json.loads(args.result.read_text())
    if not args.docs:
        print(markdown(result, args.result.name, None))
        return 0
    png = args.result.with_suffix(".png")
    relative = "../" + str(png.resolve().relative_to(ROOT)) if png.exists() else None
    text = (
        DOCS_HEAD.format(json=args.result.name)
        + "\n"
        + markdown(result, f"benchmarks/results/{args.result.name}", relative)
        .replace("## ", "### ")
        .replace("### Machine", "## Machine", 1)
    )
    page = ROOT / "docs" / "performance.md"
    # the hand-written part (what the numbers mean, other benchmarks) survives regeneration
    kept = page.read_text().partition(KEPT)[2] if page.exists() else ""
    page.write_text(text + ("\n" + KEPT + kept if kept else ""))
    print("wrote docs/performance.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
