"""Figures of notebook 07 (estimands and the shape of the effect), house style
(:func:`trialnb.plots.use_style`). Computation comes from :mod:`trialnb.simulation.truth`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from ..simulation import design_curves
from . import ARM_COLORS, hr_ticks

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["plot_shapes", "plot_power_table"]


def plot_shapes(scenarios: Mapping[str, Any], horizon: float = 24.0) -> "Figure":
    """One column per scenario: the hazard ratio of an operated patient over time (top) and
    the true survival of arm A and arm B as randomized (bottom), with the 2-year milestone."""
    import matplotlib.pyplot as plt

    t = np.linspace(0.0, horizon + 12.0, 721)
    fig, axes = plt.subplots(2, len(scenarios), figsize=(3.2 * len(scenarios), 5.4), sharex=True,
                             sharey="row", squeeze=False, layout="constrained")
    for j, (name, sc) in enumerate(scenarios.items()):
        c = design_curves(sc, t)
        top, bot = axes[0, j], axes[1, j]
        top.step(c["time"], c["hr_operated"], where="post", color="0.2")
        top.axhline(1.0, color="0.6", ls="--", lw=0.8)
        top.set_title(name)
        top.set_yscale("log")
        bot.plot(c["time"], c["survival_a"], color=ARM_COLORS["A"], label="A (surgery)")
        bot.plot(c["time"], c["survival_b"], color=ARM_COLORS["B"], label="B (systemic only)")
        bot.axvline(horizon, color="0.6", ls=":", lw=0.8)
        bot.set_xlabel("Months since randomization")
    hr_ticks(axes[0, 0], "y", sparse=True)  # the row shares its y axis: plain 0.5, 1, 2 (not "6×10⁻¹")
    axes[0, 0].set_ylabel("HR operated vs not")
    axes[1, 0].set_ylabel("Survival")
    axes[1, 0].legend(loc="lower left", fontsize=8)
    return fig


def plot_power_table(table: pd.DataFrame, se: pd.DataFrame | None = None, *,
                     ylabel: str = "Power (simulated)") -> "Figure":
    """Grouped bars: power (rows = shapes, columns = analyses) with 95% Monte-Carlo error bars
    from ``se`` (same shape), and the 80% target; one distinct colour per analysis (up to ten)
    and the legend below the axes, so eight analyses fit."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
    k = table.shape[1]
    x = np.arange(table.shape[0])
    w = 0.8 / k
    tab10 = plt.get_cmap("tab10")
    colours = [tab10(j) for j in range(tab10.N)]  # its ten colours (RGBA)
    for i, col in enumerate(table.columns):
        err = None if se is None else 1.96 * se[col].to_numpy()
        ax.bar(x + (i - (k - 1) / 2) * w, table[col].to_numpy(), w, yerr=err, label=col, capsize=2,
               color=colours[i % len(colours)])
    ax.axhline(0.8, color="0.3", ls="--", lw=0.8)
    ax.set_xticks(x, table.index)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1)
    ax.legend(ncol=min(k, 4), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    return fig
