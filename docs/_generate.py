"""Regenerate the docs' committed content from huberish itself:

- `docs/images/losses.png`: each loss and its gradient (index.md);
- `docs/images/choosing-delta.png`: Huber and pseudo-Huber at several delta (choosing.md);
- `docs/images/boosting-curvature.png`: the boosting objectives' three curvatures, RMSE per
  round of LightGBM on data with outliers (examples.md; needs LightGBM, the `examples` extra);
- the backend table in `docs/backends.md`, between its `<!-- backends-table -->` markers.

    python docs/_generate.py            # all four (needs matplotlib: the `docs` extra)
    python docs/_generate.py figures    # the figures only

The outputs are committed, so the pages read on GitHub as on the site; the Sphinx build does not
run this script.
"""

import datetime
import platform
import re
import sys
from pathlib import Path

import numpy as np

import huberish as hb
from huberish import _report

DOCS = Path(__file__).resolve().parent
IMAGES = DOCS / "images"
BEGIN, END = "<!-- backends-table -->", "<!-- /backends-table -->"


def backends_table() -> None:
    """Run the backend report and write it as a Markdown table into backends.md."""
    rows = _report.check_backends()

    def fmt(value: float | None) -> str:
        return "-" if value is None or value != value else f"{value:.1e}"

    header = ["library", "version", "device", "dtype", "max error, loss", "max error, gradients"]
    header += ["vs torch", "status"]
    lines = [
        f"Generated on {datetime.date.today().isoformat()} on {platform.machine()} "
        f"({platform.processor() or platform.system()}), Python {platform.python_version()}.",
        "",
        "| " + " | ".join(header) + " |",
        "|---" * len(header) + "|",
    ]
    for r in rows:
        lines.append(
            f"| {r.library} | {r.version} | {r.device} | {r.dtype} | {fmt(r.loss_error)} "
            f"| {fmt(r.grad_error)} | {fmt(r.torch_error)} | {r.status} |"
        )
    page = DOCS / "backends.md"
    text = page.read_text()
    table = "\n".join(lines)
    text = re.sub(
        f"{re.escape(BEGIN)}.*?{re.escape(END)}",
        lambda _: f"{BEGIN}\n{table}\n{END}",
        text,
        flags=re.DOTALL,
    )
    page.write_text(text)


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, name: str) -> None:  # type: ignore[no-untyped-def]
    IMAGES.mkdir(exist_ok=True)
    # no timestamp or version in the file, so regenerating an unchanged figure changes no byte
    fig.savefig(IMAGES / name, dpi=100, metadata={"Software": None})


def loss_figure() -> None:
    """Each loss and its gradient against the residual, computed by huberish.

    Huber with delta = 1 is exactly smooth L1 with beta = 1, so it is left out: Huber is shown
    at delta = 0.5 and 2, where its gradient is clipped at +-delta.
    """
    plt = _pyplot()
    d = np.linspace(-3, 3, 601)
    curves = [
        ("L1 (smooth L1, beta = 0)", hb.smooth_l1_loss_and_grad, {"beta": 0.0}, "C0", "-"),
        ("smooth L1, beta = 1 (= Huber, delta = 1)", hb.smooth_l1_loss_and_grad, {"beta": 1.0},
         "C1", "-"),
        ("smooth L1, beta = 2", hb.smooth_l1_loss_and_grad, {"beta": 2.0}, "C2", "-"),
        ("Huber, delta = 0.5", hb.huber_loss_and_grad, {"delta": 0.5}, "C3", "--"),
        ("Huber, delta = 2", hb.huber_loss_and_grad, {"delta": 2.0}, "C4", "--"),
        ("pseudo-Huber, delta = 1", hb.pseudo_huber_loss_and_grad, {"delta": 1.0}, "C5", ":"),
        ("MSE / 2 (Huber, delta = inf)", hb.huber_loss_and_grad, {"delta": float("inf")},
         "0.4", "-."),
    ]  # fmt: skip
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4))
    for label, function, options, color, style in curves:
        loss, grad = function(d, 0.0, reduction="none", **options)
        left.plot(d, loss, style, color=color, label=label, linewidth=1.8)
        right.plot(d, grad, style, color=color, label=label, linewidth=1.8)
    left.set(title="loss", xlabel="d = input - target", ylim=(-0.1, 3.2))
    right.set(title="gradient d loss / d input", xlabel="d = input - target", ylim=(-3.2, 3.2))
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    left.legend(fontsize=8, loc="upper center")
    fig.tight_layout()
    _save(fig, "losses.png")
    plt.close(fig)


def choosing_figure() -> None:
    """Huber (solid) and pseudo-Huber (dotted) at several delta: loss and gradient."""
    plt = _pyplot()
    d = np.linspace(-4, 4, 801)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4))
    for delta, color in zip((0.25, 0.5, 1.0, 2.0), ("C0", "C1", "C2", "C3"), strict=True):
        loss, grad = hb.huber_loss_and_grad(d, 0.0, reduction="none", delta=delta)
        left.plot(d, loss, "-", color=color, label=f"Huber, delta = {delta:g}")
        right.plot(d, grad, "-", color=color, label=f"Huber, delta = {delta:g}")
        loss, grad = hb.pseudo_huber_loss_and_grad(d, 0.0, reduction="none", delta=delta)
        left.plot(d, loss, ":", color=color, label=f"pseudo-Huber, delta = {delta:g}")
        right.plot(d, grad, ":", color=color)
    left.plot(d, d**2 / 2, "-.", color="0.4", label="d**2 / 2 (delta = inf)")
    right.plot(d, d, "-.", color="0.4")
    left.set(title="loss", xlabel="d = input - target", ylim=(-0.1, 4.2))
    right.set(
        title="gradient: d clipped to [-delta, delta]",
        xlabel="d = input - target",
        ylim=(-2.6, 2.6),
    )
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    left.legend(fontsize=7.5, loc="upper center", ncol=2)
    fig.tight_layout()
    _save(fig, "choosing-delta.png")
    plt.close(fig)


def boosting_figure() -> None:
    """RMSE to the clean signal per LightGBM round for each curvature of `huber_objective` and
    `pseudo_huber_objective` (delta = 0.3, three noise sigmas), started at the median: the data
    of examples/lightgbm_objective.py (2000 rows, 5% outliers at +20). About 5 s on one core."""
    import lightgbm as lgb

    plt = _pyplot()
    rng = np.random.default_rng(0)
    features = rng.uniform(-2, 2, size=(2000, 4))
    clean = np.sin(2 * features[:, 0]) + features[:, 1] ** 2
    targets = clean + 0.1 * rng.standard_normal(2000)
    targets[rng.choice(2000, size=100, replace=False)] += 20.0
    rounds, delta = 200, 0.3
    styles = {"exact": ("C3", ":"), "constant": ("C0", "-"), "majorizer": ("C2", "--")}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, factory in zip(axes, (hb.huber_objective, hb.pseudo_huber_objective), strict=True):
        for curvature, (color, style) in styles.items():
            objective = factory(delta, curvature=curvature)
            start = np.full(2000, objective.init_score(targets))

            def fobj(predictions, data, objective=objective):  # type: ignore[no-untyped-def]
                return objective(data.get_label(), predictions)  # lgb.train's (preds, data)

            train = lgb.Dataset(features, targets, init_score=start)
            truth = lgb.Dataset(features, clean, init_score=start, reference=train)
            record: dict[str, dict[str, list[float]]] = {}
            settings = {"objective": fobj, "metric": "rmse", "learning_rate": 0.1}
            settings |= {"verbose": -1, "num_threads": 1}
            lgb.train(
                settings,
                train,
                rounds,
                valid_sets=[truth],
                valid_names=["clean"],
                callbacks=[lgb.record_evaluation(record)],
            )
            rmse = record["clean"]["rmse"]
            ax.plot(range(1, rounds + 1), rmse, style, color=color, label=curvature, linewidth=1.8)
        ax.set(title=f"{factory.__name__}(delta={delta:g}, curvature=...)", xlabel="round")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set(ylabel="RMSE to the clean signal (training rows)")
    axes[0].legend(title="curvature")
    fig.tight_layout()
    _save(fig, "boosting-curvature.png")
    plt.close(fig)


def main(argv: list[str]) -> None:
    loss_figure()
    choosing_figure()
    boosting_figure()
    if "figures" not in argv:
        backends_table()


if __name__ == "__main__":
    main(sys.argv[1:])
