"""One house style for every figure, and every figure the notebooks draw.

Call :func:`use_style` once (notebooks do it in their imports cell). Arm colours are fixed:
arm A blue, arm B red, in every figure. Notebooks import figures from here only (never from a
widget module): the trial schema, forest plots with readable hazard-ratio ticks
(:func:`hr_ticks`, :func:`analyses_forest`), and the analysis figures (CONSORT flow,
Kaplan-Meier with numbers at risk, subgroup forest); the figures of interim monitoring in
:mod:`trialnb.plots.monitoring` (notebook 05, the DMC dashboard and report) and of the estimands
in :mod:`trialnb.plots.estimands` (notebook 07). Plotting only: the numbers come from the
computation modules. This module imports neither submodule (they import its style from here).
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import FancyBboxPatch

from ..report import fmt_hr, fmt_p

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..analysis.missing import TippingPointResult
    from ..evidence import MetaAnalysis
    from ..protocol import Protocol

__all__ = ["ARM_COLORS", "HR_TICKS", "STYLE_FILE", "analyses_forest", "cif_plot", "consort_diagram",
           "evidence_forest", "forest_plot", "hr_ticks", "km_plot", "subgroup_forest", "tipping_point_heatmap",
           "trial_schema", "use_style"]

STYLE_FILE = Path(__file__).parent.parent / "trialnb.mplstyle"
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
        # wide enough for the longest label beside a readable plotting area
        width = min(12.0, 4.6 + 0.075 * max((len(str(s)) for s in labels), default=0))
        _, ax = plt.subplots(figsize=(width, 0.45 * n + 1.4))
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
    factors = "\n".join("\n".join(textwrap.wrap(f"• {f.label}: {' / '.join(f.levels)}".replace("_", " "), 36,
                                                 subsequent_indent="   "))
                        for f in protocol.factors)
    _box(ax, 0.30, 0.63, 0.30, 0.35, f"Randomization 1:1 (minimization)\n{factors}", "#555e6b", fs=8.5)
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
    ax.add_patch(FancyBboxPatch((x0, y), d.accrual_months * scale, 0.06, boxstyle="square,pad=0", fc="#8d96a3",
                                ec="none"))
    ax.add_patch(FancyBboxPatch((x0 + d.accrual_months * scale, y), d.horizon_months * scale, 0.06,
                                boxstyle="square,pad=0", fc="#66a182", ec="none"))
    ax.text(x0 + d.accrual_months * scale / 2, y + 0.03, f"accrual {d.accrual_months:g} months", ha="center",
            va="center", color="white", fontsize=8.5)
    ax.text(x0 + (d.accrual_months + d.horizon_months / 2) * scale, y + 0.03, f"follow-up {d.horizon_months:g} months",
            ha="center", va="center", color="white", fontsize=8.5)
    for m in range(0, int(total) + 1, 12):
        ax.plot([x0 + m * scale] * 2, [y - 0.015, y], color="#555555", lw=1)
        ax.text(x0 + m * scale, y - 0.05, f"{m}", ha="center", fontsize=8)
    ax.text(0.5, y - 0.11, "months from the first randomization", ha="center", fontsize=8.5)
    ax.set_title(f"{protocol.nct_id}: trial schema")
    return ax


# --- hazard-ratio axes -------------------------------------------------------------------

HR_TICKS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)
HR_TICKS_SPARSE = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def hr_ticks(ax: "Axes", axis: str = "x", *, sparse: bool | None = None) -> "Axes":
    """Label a log hazard-ratio axis (``axis`` "x" or "y") at 0.1, 0.2, 0.3, ..., 1, 1.25, 1.5,
    2, 3, 5, 10 (those within its limits) with plain numbers, and no minor-tick labels
    (matplotlib's default log labels read like "0.253×10⁻¹" or "6×10⁻¹"). ``sparse`` (default:
    when the range spans more than a factor 12) keeps 0.1, 0.2, 0.5, 1, 2, 5, 10 only, so the
    labels of a short axis do not collide."""
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    lo, hi = ax.get_xlim() if axis == "x" else ax.get_ylim()
    if sparse is None:
        sparse = hi / lo > 12  # a wide range: 0.1, 0.2, 0.5, 1, 2, 5, 10 only, so labels do not collide
    ticks = [t for t in (HR_TICKS_SPARSE if sparse else HR_TICKS) if lo <= t <= hi]
    set_ticks, set_labels = (ax.set_xticks, ax.set_xticklabels) if axis == "x" else (ax.set_yticks, ax.set_yticklabels)
    set_ticks(ticks)
    set_labels([f"{t:g}" for t in ticks])
    set_ticks([], minor=True)
    return ax


def analyses_forest(result: pd.DataFrame, true_hr: float | None = 1.0, *, ax: "Axes | None" = None,
                    title: str = "Apparent effect of surgery by analysis",
                    xlim: tuple[float, float] | None = None) -> "Axes":
    """Forest plot of a :func:`trialnb.bias.compare_analyses` result, with the true HR marked.

    ``xlim`` fixes the axis range (a widget redrawing on every slider move passes one, so the
    axis does not jump); by default the range fits the intervals, the true HR and 1."""
    r = result
    ax = forest_plot(list(r["label"]), list(r["hazard_ratio"]), list(r["ci_lower"]), list(r["ci_upper"]),
                     reference=1.0, ax=ax, xlabel="Hazard ratio of death, surgery vs none (log scale)", title=title)
    if true_hr is not None:
        ax.axvline(true_hr, color="#66a182", lw=1.5, label=f"true HR {fmt_hr(true_hr)}")
        ax.legend(loc="best", fontsize=8)
        lo = min(min(r["ci_lower"]), true_hr, 1.0)
        hi = max(max(r["ci_upper"]), true_hr, 1.0)
        ax.set_xlim(lo / 1.15, hi * 1.15)
    if xlim is not None:
        ax.set_xlim(*xlim)
    return hr_ticks(ax)


def evidence_forest(meta: "MetaAnalysis", *, design_hr: float | None = None, ax: "Axes | None" = None,
                    title: str = "Randomized trials of surgery of the primary: overall survival",
                    xlim: tuple[float, float] | None = None) -> "Axes":
    """Forest plot of a :func:`trialnb.evidence.meta_analysis`: each trial with its 95% interval
    recomputed from its log HR and SE (so 90% intervals are drawn as 95% ones) and its weight,
    the pooled estimate as a diamond, the prediction interval for a new trial as a dashed line,
    and (``design_hr``) the hazard ratio a protocol assumes. ``xlim`` fixes the axis (widgets)."""
    f = meta.to_frame()
    trials, pooled = f.iloc[:-1], f.iloc[-1]
    lvl = round(meta.level * 100)
    labels = [f"{r.label}  ({r.weight_percent:.0f}%)" for r in trials.itertuples()]
    labels += [f"Pooled, {meta.describe()}", f"{lvl}% prediction interval (a new trial)"]
    est = [*trials["hazard_ratio"], pooled["hazard_ratio"], pooled["hazard_ratio"]]
    lo = [*trials["ci_lower"], pooled["ci_lower"], pooled["pi_lower"]]
    hi = [*trials["ci_upper"], pooled["ci_upper"], pooled["pi_upper"]]
    colors = [NEUTRAL] * len(trials) + [ARM_COLORS["A"], "#8d96a3"]
    ax = forest_plot(labels, est, lo, hi, ax=ax, colors=colors, title=title,
                     xlabel=f"Hazard ratio of death, surgery vs none (log scale; {lvl}% CI, weight in brackets)")
    y_pool, y_pi = 1, 0  # forest_plot draws the rows top to bottom, the last at y = 0
    ax.fill([pooled["ci_lower"], pooled["hazard_ratio"], pooled["ci_upper"], pooled["hazard_ratio"]],
            [y_pool, y_pool + 0.28, y_pool, y_pool - 0.28], color=ARM_COLORS["A"], zorder=3)
    for line in ax.lines[-3:-1]:  # the prediction row's solid line and square: redraw dashed
        if np.asarray(line.get_ydata())[0] == y_pi:
            line.set_linestyle("--")
    left = min(min(lo), 1.0, design_hr or 1.0)
    right = max(max(hi), 1.0)
    ax.set_xlim(*(xlim or (left / 1.15, right * 1.15)))
    if design_hr is not None:
        ax.axvline(design_hr, color=ARM_COLORS["B"], ls=":", lw=1.5)
        ax.text(design_hr, len(labels) - 0.55, f" protocol's design HR {design_hr:g}", color=ARM_COLORS["B"],
                fontsize=8, va="bottom", ha="left")
        ax.set_ylim(-0.6, len(labels) - 0.1)
    return hr_ticks(ax)


# --- figures of the trial analysis (numbers from trialnb.analysis) --------------------------

_REASONS = {"I1": "not M1 at diagnosis", "I2": "anticipated survival < 6 months", "I3": "no histology",
            "I4": "receptor/HER2 status unknown", "I5": "T4 not resectable / TNM", "I6": "unfit for treatment",
            "I7": "age < 18", "I8": "no written consent", "E1": "prior invasive breast cancer",
            "E2": "other malignancy < 10 years", "E3": "prior breast surgery/RT", "E4": "irresectable T4",
            "E5": "synchronous bilateral"}


def consort_diagram(counts: Mapping[str, Any], ax: "Axes | None" = None) -> "Axes":
    """CONSORT 2010 flow diagram from :func:`trialnb.analysis.consort_counts`.

    Every box, label and count stays inside the figure at the size it is drawn (10 x 8.5
    inches by default); the exclusion reasons are listed one per line, left-aligned, at the
    same type size as the other boxes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 8.5))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    fs = 10
    _box(ax, 0.04, 0.89, 0.40, 0.07, f"Assessed for eligibility (n = {counts['assessed']})", NEUTRAL, fs=fs)
    _box(ax, 0.04, 0.68, 0.40, 0.07, f"Randomized by minimization (n = {counts['randomized']})", NEUTRAL, fs=fs)
    _arrow(ax, 0.24, 0.89, 0.24, 0.75)
    # Excluded: its own box to the right, text left-aligned, one criterion per line.
    crit = counts["excluded_by_criterion"]
    _box(ax, 0.52, 0.62, 0.45, 0.36, "", "#6b7583")
    lines = [f"Excluded (n = {counts['excluded']})",
             "criteria failed (a patient may fail several):"]
    lines += [f"  {k}  {_REASONS.get(k, k)}: {v}" for k, v in crit.items()]
    ax.text(0.54, 0.965, "\n".join(lines), ha="left", va="top", color="white", fontsize=fs - 0.5,
            linespacing=1.25)
    _arrow(ax, 0.24, 0.815, 0.52, 0.815)
    a, b = counts["arm_A"], counts["arm_B"]
    a_not = ", ".join(f"{k} {v}" for k, v in a["not_operated"].items())
    b_op = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in b["surgery_reasons"].items())
    a_txt = "\n".join(["Arm A: systemic therapy, then surgery", f"allocated n = {a['allocated']}",
                       f"operated: {a['operated']}",
                       *textwrap.wrap(f"not operated: {sum(a['not_operated'].values())} ({a_not})", 40)])
    b_txt = "\n".join(["Arm B: systemic therapy alone", f"allocated n = {b['allocated']}",
                       f"operated on the primary: {b['operated']}",
                       *(textwrap.wrap(f"({b_op})", 44) if b_op else [])])
    _box(ax, 0.04, 0.33, 0.42, 0.21, a_txt, ARM_COLORS["A"], fs=fs)
    _box(ax, 0.54, 0.33, 0.42, 0.21, b_txt, ARM_COLORS["B"], fs=fs)
    _arrow(ax, 0.24, 0.68, 0.25, 0.54)
    _arrow(ax, 0.30, 0.68, 0.70, 0.54)
    _box(ax, 0.04, 0.18, 0.42, 0.08, f"Lost to follow-up: {a['lost']}", "#66a182", fs=fs)
    _box(ax, 0.54, 0.18, 0.42, 0.08, f"Lost to follow-up: {b['lost']}", "#66a182", fs=fs)
    _box(ax, 0.04, 0.02, 0.42, 0.10, f"Analysed, ITT: {a['analysed_itt']}\nper-protocol: {a['per_protocol']}",
         NEUTRAL, fs=fs)
    _box(ax, 0.54, 0.02, 0.42, 0.10, f"Analysed, ITT: {b['analysed_itt']}\nper-protocol: {b['per_protocol']}",
         NEUTRAL, fs=fs)
    for x in (0.25, 0.75):
        _arrow(ax, x, 0.33, x, 0.26)
        _arrow(ax, x, 0.18, x, 0.12)
    ax.set_title("CONSORT flow (synthetic data)")
    return ax


def km_plot(df: pd.DataFrame, times: Sequence[float] = (0, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60),
            ax: "Axes | None" = None, title: str = "Overall survival by arm (ITT)",
            mark: float | None = 24.0) -> "Axes":
    """Kaplan-Meier curves per arm with 95% CIs and a numbers-at-risk table under the x axis."""
    from .. import analysis as an  # the figure's numbers come from the survival engine

    km = an.km_by_arm(df)
    nar = an.numbers_at_risk(df, times)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5.6), layout="none")
    for arm, k in km.items():
        lo, hi = k.confidence_interval()
        t = np.concatenate([[0.0], k.time])
        s = np.concatenate([[1.0], k.survival])
        lo, hi = np.concatenate([[1.0], lo]), np.concatenate([[1.0], hi])
        ax.step(t, s, where="post", color=ARM_COLORS[arm], label=f"Arm {arm}")
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(t[ok], lo[ok], hi[ok], step="post", color=ARM_COLORS[arm], alpha=0.15)
        cens = df[(df["arm"] == arm) & (df["death"] == 0)]["os_months"].to_numpy(float)
        ax.plot(cens, k.survival_at_times(cens), "|", color=ARM_COLORS[arm], ms=6)
    if mark is not None:
        ax.axvline(mark, color="grey", ls=":", lw=1)
    ax.set_xlim(0, max(times))
    ax.set_ylim(0, 1.02)
    ax.set_xticks(list(times))
    ax.set_xlabel("Months since randomization")
    ax.set_ylabel("Probability of survival")
    ax.set_title(title)
    ax.legend(loc="lower left")
    ax.text(-0.05, -0.17, "At risk", transform=ax.transAxes, ha="right", fontsize=8, weight="bold")
    for i, arm in enumerate(nar.index):
        y = -0.23 - 0.06 * i
        ax.text(-0.05, y, f"Arm {arm}", transform=ax.transAxes, ha="right", fontsize=8, color=ARM_COLORS[arm])
        for month in nar.columns:
            ax.text(float(month), y, str(nar.loc[arm, month]), transform=ax.get_xaxis_transform(), ha="center",
                    fontsize=8, color=ARM_COLORS[arm])
    if ax.figure.get_layout_engine() is None:  # a figure we made; leave the caller's layout alone
        ax.figure.subplots_adjust(bottom=0.28, left=0.12)
    return ax


def cif_plot(result: Any, *, ax: "Axes | None" = None, horizon: float | None = 60.0, mark: float | None = 36.0,
             title: str | None = None) -> "Axes":
    """Aalen-Johansen cumulative incidence by arm of a competing-risks endpoint
    (:func:`trialnb.analysis.competing_risks`): the event (solid) and death before it (dashed),
    so the reader sees both ways a patient stops being at risk; the curves stop at each arm's
    last follow-up."""
    cif = result.cif
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5))
    top = 0.0
    for arm in ("A", "B"):
        for cause, style, what in ((1, "-", result.label.replace("time to ", "")), (2, "--", "death first")):
            x, y = cif.step(arm, cause)
            ax.step(x, y, where="post", ls=style, color=ARM_COLORS[arm], lw=2.0 if cause == 1 else 1.3,
                    alpha=1.0 if cause == 1 else 0.7, label=f"Arm {arm}: {what}")
            top = max(top, float(y.max()))
    if mark is not None:
        ax.axvline(mark, color="grey", ls=":", lw=1)
    if horizon is not None:
        ax.set_xlim(0, horizon)
    ax.set_ylim(0, min(1.0, max(0.2, 1.15 * top)))
    ax.set_xlabel("Months since randomization")
    ax.set_ylabel("Cumulative incidence")
    ax.set_title(title or f"{result.label[0].upper()}{result.label[1:]}, death a competing event")
    ax.legend(loc="upper left", fontsize=9, ncol=2)
    return ax


def subgroup_forest(sg: pd.DataFrame, ax: "Axes | None" = None) -> "Axes":
    """Forest plot of :func:`trialnb.analysis.subgroup_hrs` (estimable rows), labels with n/events."""
    ok = sg.dropna(subset=["hr"])
    labels = [f"{str(label).replace('_', ' ')}  ({n} pts, {events} deaths)"
              for label, n, events in zip(ok["label"], ok["n"], ok["events"], strict=True)]
    colors = [NEUTRAL if factor == "all" else "#555e6b" for factor in ok["factor"]]
    ax = forest_plot(labels, ok["hr"].tolist(), ok["ci_lower"].tolist(), ok["ci_upper"].tolist(),
                     xlabel="Hazard ratio, arm A vs arm B (log scale; < 1 favours surgery)",
                     title="Subgroup hazard ratios (exploratory)", ax=ax, colors=colors)
    return hr_ticks(ax)


_CONCLUSION_COLORS = {"benefit": ARM_COLORS["A"], "harm": ARM_COLORS["B"], "none": "#bbbbbb"}


def _delta_label(d: float) -> str:
    if d == 0:
        return "0\n(none die)"
    if d == float("inf"):
        return "\u221e\n(all die)"
    return "1\n(MAR)" if d == 1 else f"{d:g}"


def tipping_point_heatmap(result: "TippingPointResult", analysis: str = "primary", *,
                          ax: "Axes | None" = None) -> "Axes":
    """The tipping-point grid of ``analysis`` (:class:`trialnb.analysis.missing.TippingPointResult`):
    columns the hazard multiplier after loss in arm A, rows in arm B; each cell coloured by its
    conclusion at the plan's alpha (benefit shown: arm A's colour, harm: arm B's, neither: grey;
    lighter as the p-value approaches alpha) and labelled with the pooled estimate (HR, or the
    difference in percentage points) and p; the MAR cell outlined."""
    est = result.table(analysis, "estimate")
    p = result.table(analysis, "p_value")
    conc = result.table(analysis, "conclusion")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.1 * est.shape[1] + 2.2, 0.75 * est.shape[0] + 1.6))
    nr, nc = est.shape
    for i, db in enumerate(est.index):
        for j, da in enumerate(est.columns):
            c = conc.loc[db, da]
            pv = float(p.loc[db, da])
            strength = 0.35 + 0.65 * min(1.0, max(0.0, -math.log10(max(pv, 1e-12)) / 4)) if c != "none" else 0.5
            ax.add_patch(plt.Rectangle((j, i), 1, 1, facecolor=_CONCLUSION_COLORS[c], alpha=strength,
                                       edgecolor="white", linewidth=1.5))
            v = float(est.loc[db, da])
            top = fmt_hr(math.exp(v)) if analysis == "primary" else f"{100 * v:+.1f}"
            ax.text(j + 0.5, i + 0.5, f"{top}\n{fmt_p(pv).replace('p = ', 'p ').replace('p < ', 'p<')}",
                    ha="center", va="center", fontsize=8)
            if da == 1 and db == 1:
                ax.add_patch(plt.Rectangle((j, i), 1, 1, fill=False, edgecolor="black", linewidth=2, zorder=3))
    ax.set_xlim(0, nc)
    ax.set_ylim(0, nr)
    ax.set_xticks([j + 0.5 for j in range(nc)], [_delta_label(float(d)) for d in est.columns])
    ax.set_yticks([i + 0.5 for i in range(nr)], [_delta_label(float(d)).replace("\n", " ") for d in est.index])
    ax.set_xlabel("Arm A: hazard after loss to follow-up \u00d7 \u03b4_A")
    ax.set_ylabel("Arm B: hazard after loss \u00d7 \u03b4_B")
    what = {"primary": "primary analysis (HR A vs B)", "milestone": "Kaplan-Meier difference in 2-year survival "
            "(points)", "standardized": "standardized difference in 2-year survival (points)"}[analysis]
    ax.set_title(f"Tipping points: {what}")
    ax.grid(False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax
