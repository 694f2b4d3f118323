"""One house style for every figure, and the figures shared by several notebooks.

Call :func:`use_style` once (notebooks do it in their imports cell). Arm colours are fixed:
arm A blue, arm B red, in every figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from .protocol import Protocol

__all__ = ["ARM_COLORS", "STYLE_FILE", "forest_plot", "trial_schema", "use_style"]

STYLE_FILE = Path(__file__).with_name("trialnb.mplstyle")
ARM_COLORS = {"A": "#1b6ca8", "B": "#d1495b"}
NEUTRAL = "#2e4057"


def use_style() -> None:
    """Apply the trialnb matplotlib style (idempotent); inline figures render as PNG."""
    plt.style.use(str(STYLE_FILE))
    mpl.rcParams["svg.hashsalt"] = "trialnb"


def forest_plot(
    labels: Sequence[str],
    estimates: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    *,
    reference: float = 1.0,
    xlabel: str = "Hazard ratio (log scale)",
    title: str = "",
    ax: "Axes | None" = None,
    colors: Sequence[str] | None = None,
) -> "Axes":
    """Horizontal forest plot of ratios with CIs on a log axis; returns the Axes."""
    n = len(labels)
    if not (len(estimates) == len(lower) == len(upper) == n):
        raise ValueError("labels, estimates, lower and upper must have the same length")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * n + 1.4))
    ys = list(range(n))[::-1]
    for i, y in enumerate(ys):
        c = colors[i] if colors else NEUTRAL
        ax.plot([lower[i], upper[i]], [y, y], color=c, lw=2)
        ax.plot(estimates[i], y, "s", color=c, ms=7)
    ax.axvline(reference, color="grey", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_yticks(ys)
    ax.set_yticklabels(labels)
    ax.set_xlabel(xlabel)
    ax.xaxis.set_major_formatter(mpl.ticker.FormatStrFormatter("%.2g"))
    ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())
    lo = min(min(lower), reference)
    hi = max(max(upper), reference)
    ax.set_xlim(lo / 1.15, hi * 1.15)
    ax.grid(axis="y", visible=False)
    if title:
        ax.set_title(title)
    return ax


def _box(ax: "Axes", x: float, y: float, w: float, h: float, text: str, color: str, fs: float = 9) -> None:
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.02",
                                fc=color, ec="none", alpha=0.95))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", color="white", fontsize=fs, wrap=True)


def _arrow(ax: "Axes", x0: float, y0: float, x1: float, y1: float) -> None:
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=dict(arrowstyle="->", color="#555555", lw=1.3))


def trial_schema(protocol: "Protocol", ax: "Axes | None" = None) -> "Axes":
    """Draw the trial schema (population, minimization, arms, endpoint, timeline) from ``protocol``."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5.2))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    d = protocol.design
    _box(ax, 0.02, 0.70, 0.22, 0.22, "De novo metastatic\nbreast cancer (M1)\neligible, consented", NEUTRAL)
    factors = "\n".join(f"• {f.label}: {' / '.join(f.levels)}" for f in protocol.factors)
    _box(ax, 0.30, 0.66, 0.30, 0.30, f"Randomization 1:1\n(minimization)\n{factors}", "#555e6b", fs=7.5)
    _arrow(ax, 0.24, 0.81, 0.30, 0.81)
    a, b = protocol.arm("A"), protocol.arm("B")
    _box(ax, 0.67, 0.80, 0.31, 0.15, f"Arm A: {a.label}\n(surgery if not progressive)", ARM_COLORS["A"], fs=8.5)
    _box(ax, 0.67, 0.60, 0.31, 0.15, f"Arm B: {b.label}\n(surgery only for local progression)", ARM_COLORS["B"], fs=8.5)
    _arrow(ax, 0.60, 0.83, 0.67, 0.87)
    _arrow(ax, 0.60, 0.78, 0.67, 0.68)
    primary = next(e for e in protocol.endpoints if e.kind == "primary")
    secondary = ", ".join(e.name.replace("_", " ") for e in protocol.endpoints if e.kind == "secondary")
    ax.text(0.02, 0.50, f"Primary endpoint: {primary.name.replace('_', ' ')} "
            f"(Cox model, arm + minimization factors, ITT)", fontsize=9, weight="bold")
    ax.text(0.02, 0.44, f"Secondary: {secondary}", fontsize=8, wrap=True)
    ax.text(0.02, 0.36, f"Design: HR {d.hazard_ratio:g}, α = {d.alpha:g} ({d.sided}-sided), power {d.power:.0%}, "
            f"control 2-year survival {d.control_survival:.0%}, loss {d.loss_to_follow_up:.0%}; "
            f"stated N = {2 * protocol.stated.n_per_arm_after_loss} ({protocol.stated.n_per_arm_after_loss} per arm)",
            fontsize=8)
    # timeline
    total = d.accrual_months + d.horizon_months
    y = 0.18
    x0, x1 = 0.05, 0.95
    scale = (x1 - x0) / total
    ax.add_patch(FancyBboxPatch((x0, y), d.accrual_months * scale, 0.06, boxstyle="square,pad=0", fc="#8d96a3", ec="none"))
    ax.add_patch(FancyBboxPatch((x0 + d.accrual_months * scale, y), d.horizon_months * scale, 0.06,
                                boxstyle="square,pad=0", fc="#66a182", ec="none"))
    ax.text(x0 + d.accrual_months * scale / 2, y + 0.03, f"accrual {d.accrual_months:g} months", ha="center", va="center", color="white", fontsize=8.5)
    ax.text(x0 + (d.accrual_months + d.horizon_months / 2) * scale, y + 0.03, f"follow-up {d.horizon_months:g} months",
            ha="center", va="center", color="white", fontsize=8.5)
    for m in range(0, int(total) + 1, 12):
        ax.plot([x0 + m * scale] * 2, [y - 0.015, y], color="#555555", lw=1)
        ax.text(x0 + m * scale, y - 0.05, f"{m}", ha="center", fontsize=8)
    ax.text(0.5, y - 0.11, "months from the first randomization", ha="center", fontsize=8.5)
    ax.set_title(f"{protocol.nct_id}: trial schema")
    return ax
