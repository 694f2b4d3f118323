"""Figures of the trial analysis: CONSORT flow, Kaplan-Meier with numbers at risk, subgroup forest.

Plotting only: the numbers come from :mod:`trialnb.analysis`; colours and style from
:mod:`trialnb.plots` (arm A blue, arm B red).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd

from . import analysis as an
from .plots import ARM_COLORS, NEUTRAL, _arrow, _box, forest_plot

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["consort_diagram", "km_plot", "subgroup_forest"]

_REASONS = {"I1": "not M1 at diagnosis", "I2": "anticipated survival < 6 months", "I3": "no histology",
            "I4": "receptor/HER2 status unknown", "I5": "T4 not resectable / TNM", "I6": "unfit for treatment",
            "I7": "age < 18", "I8": "no written consent", "E1": "prior invasive breast cancer",
            "E2": "other malignancy < 10 years", "E3": "prior breast surgery/RT", "E4": "irresectable T4",
            "E5": "synchronous bilateral"}


def consort_diagram(counts: Mapping[str, Any], ax: "Axes | None" = None) -> "Axes":
    """CONSORT 2010 flow diagram from :func:`trialnb.analysis.consort_counts`."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 7.5))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    _box(ax, 0.20, 0.88, 0.42, 0.08, f"Assessed for eligibility (n = {counts['assessed']})", NEUTRAL)
    excl = "\n".join(f"{k} {_REASONS.get(k, k)}: {v}" for k, v in counts["excluded_by_criterion"].items())
    _box(ax, 0.68, 0.58, 0.31, 0.38, f"Excluded (n = {counts['excluded']})\ncriteria failed (a patient\nmay fail several):\n{excl}",
         "#8d96a3", fs=6.8)
    _arrow(ax, 0.62, 0.92, 0.68, 0.84)
    _box(ax, 0.20, 0.72, 0.42, 0.08, f"Randomized by minimization (n = {counts['randomized']})", NEUTRAL)
    _arrow(ax, 0.41, 0.88, 0.41, 0.80)
    a, b = counts["arm_A"], counts["arm_B"]
    a_not = "\n".join(f"  {k}: {v}" for k, v in a["not_operated"].items())
    b_op = "\n".join(f"  {k.replace('_', ' ')}: {v}" for k, v in b["surgery_reasons"].items())
    _box(ax, 0.02, 0.36, 0.44, 0.28, f"Arm A: systemic therapy, then surgery\nallocated n = {a['allocated']}\n"
         f"operated: {a['operated']}\nnot operated:\n{a_not}", ARM_COLORS["A"], fs=8)
    _box(ax, 0.52, 0.36, 0.44, 0.18, f"Arm B: systemic therapy alone\nallocated n = {b['allocated']}\n"
         f"operated on the primary: {b['operated']}\n{b_op}", ARM_COLORS["B"], fs=8)
    _arrow(ax, 0.36, 0.72, 0.24, 0.64)
    _arrow(ax, 0.46, 0.72, 0.74, 0.54)
    _box(ax, 0.02, 0.17, 0.44, 0.13, f"Lost to follow-up: {a['lost']}", "#66a182", fs=8)
    _box(ax, 0.52, 0.17, 0.44, 0.13, f"Lost to follow-up: {b['lost']}", "#66a182", fs=8)
    _box(ax, 0.02, 0.01, 0.44, 0.12, f"Analysed, ITT: {a['analysed_itt']}\nper-protocol: {a['per_protocol']}",
         NEUTRAL, fs=8)
    _box(ax, 0.52, 0.01, 0.44, 0.12, f"Analysed, ITT: {b['analysed_itt']}\nper-protocol: {b['per_protocol']}",
         NEUTRAL, fs=8)
    for x in (0.24, 0.74):
        _arrow(ax, x, 0.36 if x < 0.5 else 0.36, x, 0.30)
        _arrow(ax, x, 0.17, x, 0.13)
    ax.set_title("CONSORT flow (synthetic data)")
    return ax


def km_plot(df: pd.DataFrame, times: Sequence[float] = (0, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60),
            ax: "Axes | None" = None, title: str = "Overall survival by arm (ITT)", mark: float | None = 24.0) -> "Axes":
    """Kaplan-Meier curves per arm with 95% CIs and a numbers-at-risk table under the x axis."""
    km = an.km_by_arm(df)
    nar = an.numbers_at_risk(df, times)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5.6), layout="none")
    for arm, k in km.items():
        sf = k.survival_function_
        ci = k.confidence_interval_survival_function_
        ax.step(sf.index, sf.iloc[:, 0], where="post", color=ARM_COLORS[arm], label=f"Arm {arm}")
        ax.fill_between(ci.index, ci.iloc[:, 0], ci.iloc[:, 1], step="post", color=ARM_COLORS[arm], alpha=0.15)
        cens = df[(df["arm"] == arm) & (df["death"] == 0)]["os_months"]
        ax.plot(cens, k.survival_function_at_times(cens).to_numpy(), "|", color=ARM_COLORS[arm], ms=6)
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
        for t in nar.columns:
            ax.text(t, y, str(nar.loc[arm, t]), transform=ax.get_xaxis_transform(), ha="center", fontsize=8,
                    color=ARM_COLORS[arm])
    if ax.figure.get_layout_engine() is None:  # a figure we made; leave the caller's layout alone
        ax.figure.subplots_adjust(bottom=0.28, left=0.12)
    return ax


def subgroup_forest(sg: pd.DataFrame, ax: "Axes | None" = None) -> "Axes":
    """Forest plot of :func:`trialnb.analysis.subgroup_hrs` (estimable rows), labels with n/events."""
    ok = sg.dropna(subset=["hr"])
    labels = [f"{r.label}  ({r.n} pts, {r.events} deaths)" for r in ok.itertuples()]
    colors = [NEUTRAL if r.factor == "all" else "#555e6b" for r in ok.itertuples()]
    return forest_plot(labels, ok["hr"].tolist(), ok["ci_lower"].tolist(), ok["ci_upper"].tolist(),
                       xlabel="Hazard ratio, arm A vs arm B (log scale; < 1 favours surgery)",
                       title="Subgroup hazard ratios (exploratory)", ax=ax, colors=colors)
