"""Content generated from huberish itself at docs build time: the backend table and the figure."""

from pathlib import Path

import numpy as np

import huberish as hb
from huberish import _report

OUT = Path(__file__).resolve().parent / "_generated"


def backends_table() -> None:
    """Run the backend report and write it as a Markdown table."""
    rows = _report.check_backends()

    def fmt(value: float | None) -> str:
        return "-" if value is None or value != value else f"{value:.1e}"

    header = ["library", "version", "device", "dtype", "max error, loss", "max error, gradients"]
    header += ["vs torch", "status"]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for r in rows:
        lines.append(
            f"| {r.library} | {r.version} | {r.device} | {r.dtype} | {fmt(r.loss_error)} "
            f"| {fmt(r.grad_error)} | {fmt(r.torch_error)} | {r.status} |"
        )
    OUT.mkdir(exist_ok=True)
    (OUT / "backends.md").write_text("\n".join(lines) + "\n")


def loss_figure() -> None:
    """Each loss and its gradient against the residual, computed by huberish."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = np.linspace(-3, 3, 601)
    curves = [
        ("L1 (smooth L1, beta = 0)", hb.smooth_l1_loss_and_grad, {"beta": 0.0}),
        ("smooth L1, beta = 0.5", hb.smooth_l1_loss_and_grad, {"beta": 0.5}),
        ("smooth L1, beta = 1", hb.smooth_l1_loss_and_grad, {"beta": 1.0}),
        ("smooth L1, beta = 2", hb.smooth_l1_loss_and_grad, {"beta": 2.0}),
        ("Huber, delta = 1", hb.huber_loss_and_grad, {"delta": 1.0}),
        ("MSE / 2 (Huber, delta = inf)", hb.huber_loss_and_grad, {"delta": float("inf")}),
        ("pseudo-Huber, delta = 1", hb.pseudo_huber_loss_and_grad, {"delta": 1.0}),
    ]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, function, options in curves:
        loss, grad = function(d, 0.0, reduction="none", **options)
        style = "--" if "Huber" in label and "pseudo" not in label else "-"
        left.plot(d, loss, style, label=label)
        right.plot(d, grad, style, label=label)
    left.set(title="loss", xlabel="d = input - target", ylim=(-0.1, 3.2))
    right.set(title="gradient d loss / d input", xlabel="d = input - target", ylim=(-3.2, 3.2))
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    right.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    OUT.mkdir(exist_ok=True)
    fig.savefig(OUT / "losses.png", dpi=110)
    plt.close(fig)


def generate() -> None:
    backends_table()
    loss_figure()
