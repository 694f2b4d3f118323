"""Figures of interim monitoring (notebook 05, the monitoring dashboard, ``trialnb monitor``).

House style via :func:`trialnb.plots.use_style`. The boundaries are drawn on three scales:
the benefit z (positive favours surgery, arm A), the nominal one-sided p-value
``1 - Phi(z)`` and the hazard ratio A vs B that sits exactly on the boundary,
``exp(-z * (1 + r) / sqrt(r * D))`` with D deaths and allocation ratio r (Schoenfeld 1981:
the log hazard ratio has variance (1 + r)^2 / (r D)).
"""

from __future__ import annotations

import io
from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter
from scipy import stats

from ..monitoring import bound_hazard_ratio
from . import ARM_COLORS, NEUTRAL

__all__ = ["boundary_plot", "expected_deaths_plot", "figure_svg", "peeking_plot"]

EFFICACY = ARM_COLORS["A"]
HARM = ARM_COLORS["B"]
FUTILITY = "#7a7a7a"


def boundary_plot(design: Any, max_events: float, *, observed_events: Sequence[float] = (),
                  observed_z: Sequence[float] = (), harm_z: float | None = None,
                  critical_values: Sequence[float] | None = None, title: str = ""):
    """Three panels (benefit z, nominal one-sided p, hazard ratio) of the efficacy boundary,
    its mirror the formal harm boundary for a two-sided design (``design.sided == 2``), the
    futility bound (if any), an optional constant harm guideline, and the observed looks
    (``observed_z`` as *benefit* z). ``critical_values`` overrides the design's (e.g. the
    bounds recalculated at the observed deaths, drawn at ``observed_events``). Returns the
    Figure."""
    rates = np.asarray(design.information_rates, dtype=float)
    ev = rates * float(max_events)
    crit = np.asarray(design.critical_values, dtype=float)
    fut = None if design.futility_bounds is None else np.asarray(design.futility_bounds, dtype=float)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), constrained_layout=True)
    obs_e = np.asarray(observed_events, dtype=float)
    obs_z = np.asarray(observed_z, dtype=float)
    scales = [
        ("benefit z", lambda z, e: z, False),
        ("nominal one-sided p", lambda z, e: stats.norm.sf(z), True),
        ("hazard ratio A vs B", lambda z, e: bound_hazard_ratio(z, e), True),
    ]
    two_sided = getattr(design, "sided", 1) == 2
    for ax, (label, f, logy) in zip(axes, scales, strict=True):
        ax.plot(ev, f(crit, ev), "o-", color=EFFICACY, label="efficacy boundary")
        if two_sided:
            ax.plot(ev, f(-crit, ev), "o-", mfc="none", color=HARM, label="harm boundary (two-sided)")
        if critical_values is not None and obs_e.size:
            cv = np.asarray(critical_values, dtype=float)[: obs_e.size]
            ax.plot(obs_e, f(cv, obs_e), "D", mfc="none", color=EFFICACY, label="boundary at observed deaths")
        if fut is not None and fut.size:
            ax.plot(ev[:-1], f(fut, ev[:-1]), "s--", color=FUTILITY, label="futility (non-binding)")
        if harm_z is not None:
            e_line = np.linspace(max(ev[0] * 0.5, 1.0), ev[-1], 50)
            ax.plot(e_line, f(np.full_like(e_line, harm_z), e_line), ":", color=HARM, label="harm guideline")
        if obs_e.size:
            ax.plot(obs_e, f(obs_z, obs_e), "*", ms=13, color=NEUTRAL, label="observed")
        if logy:
            ax.set_yscale("log")
            if label.startswith("hazard"):
                fmt = FuncFormatter(lambda v, _: f"{v:g}")
                ax.yaxis.set_major_formatter(fmt)
                ax.yaxis.set_minor_formatter(fmt)
        ax.set_xlabel("deaths")
        ax.set_ylabel(label)
    axes[2].axhline(1.0, color="grey", lw=0.8)
    axes[0].axhline(0.0, color="grey", lw=0.8)
    # one legend for the three panels, below them: inside a panel it covered the harm line
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize="small", frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def peeking_plot(looks: Sequence[int], type_one_error: Sequence[float], se: Sequence[float],
                 alpha: float, *, title: str = ""):
    """Simulated type-I error of naive repeated testing against the number of looks, with
    +/- 2 Monte-Carlo SE bars and the nominal alpha. Returns the Figure."""
    fig, ax = plt.subplots(figsize=(6, 3.6), constrained_layout=True)
    ax.errorbar(looks, type_one_error, yerr=2 * np.asarray(se), fmt="o-", color=HARM,
                label="naive: z >= 1.96 at every look")
    ax.axhline(alpha, color=EFFICACY, ls="--", label=f"nominal one-sided alpha {alpha:g}")
    ax.set_xlabel("number of equally spaced looks")
    ax.set_ylabel("simulated type-I error")
    ax.set_ylim(0, None)
    ax.legend(loc="upper left", fontsize="small")
    if title:
        ax.set_title(title)
    return fig


def expected_deaths_plot(months: Sequence[float], deaths: Mapping[str, Sequence[float]], *, interim_deaths: float,
                         max_deaths: float, final_month: float, title: str = ""):
    """Expected primary-endpoint deaths against the calendar month, one curve per hazard ratio
    (``deaths``: label -> values at ``months``), with the interim's and the planned maximum's
    deaths (horizontal lines) and a calendar-driven final at ``final_month`` (vertical line):
    where a curve never reaches the maximum, an event-driven final never comes. Returns the
    Figure."""
    fig, ax = plt.subplots(figsize=(7, 3.8), constrained_layout=True)
    x = np.asarray(months, dtype=float)
    palette = [NEUTRAL, EFFICACY, FUTILITY, HARM]
    for i, (label, y) in enumerate(deaths.items()):
        ax.plot(x, np.asarray(y, dtype=float), color=palette[i % len(palette)], lw=2, label=label)
    ax.axhline(interim_deaths, color="grey", ls=":", lw=1)
    ax.axhline(max_deaths, color="grey", ls="--", lw=1)
    ax.axvline(final_month, color="black", lw=1)
    ax.annotate(f"interim: {interim_deaths:g} deaths", (x[0], interim_deaths), xytext=(2, 3),
                textcoords="offset points", fontsize="small", color="grey")
    ax.annotate(f"event-driven final: {max_deaths:g} deaths", (x[0], max_deaths), xytext=(2, 3),
                textcoords="offset points", fontsize="small", color="grey")
    ax.annotate(f"calendar-driven final: month {final_month:g}", (final_month, 0), xytext=(-4, 4),
                textcoords="offset points", fontsize="small", rotation=90, ha="right", va="bottom")
    ax.set_xlabel("calendar month since the first randomization")
    ax.set_ylabel("expected primary-endpoint deaths")
    ax.set_xlim(x[0], x[-1])
    top = max(float(np.nanmax(np.asarray(y, dtype=float))) for y in deaths.values()) if deaths else max_deaths
    ticks = np.asarray(ax.yaxis.get_major_locator().tick_values(0.0, max(top, max_deaths) * 1.05))
    ax.set_ylim(0, float(ticks[ticks >= max(top, max_deaths) * 1.05][0]))  # ends on a labelled tick
    ax.legend(loc="upper left", fontsize="small")
    if title:
        ax.set_title(title)
    return fig


def figure_svg(fig) -> str:
    """The figure as an inline SVG string (for self-contained HTML); closes the figure."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    s = buf.getvalue()
    return s[s.index("<svg"):]
