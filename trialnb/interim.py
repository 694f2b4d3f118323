"""What the data monitoring committee (DMC) sees at an interim analysis of a trial file.

The protocol (NCT04697043) ends its statistics with "Interim analysis ;" and nothing after it.
This module computes the interim report of the plan proposed in notebook 05 for a trial CSV
(:func:`trialnb.data.load_trial`) cut at a calendar month: who was randomized by the cut, the
deaths by arm, the log-rank z and the planned Cox model's Wald z, the group-sequential decision
(:func:`trialnb.monitoring.analyse`, boundaries recalculated from the observed deaths), the
repeated confidence interval, a harm check and the conditional power under three *named*
hazard ratios. Pure computation: no plotting, no widgets (figures: ``plots_monitoring``).

**Proposed plan** (:data:`PLAN`, argued in notebook 05): two looks, the interim at half of
the planned maximum number of deaths; Lan-DeMets O'Brien-Fleming alpha spending at one-sided
0.025 (the benefit half of the protocol's two-sided 0.05); a non-binding futility guideline
(benefit z <= 0 at the interim, i.e. the observed hazard ratio is 1 or worse); a harm
guideline for surgery: the DMC reviews stopping when the benefit z is <= -2.326 (one-sided
p <= 0.01 that surgery is *worse*); early (30-day) postoperative deaths in arm A are counted.
The futility and harm guidelines never increase the type-I error for benefit: they can only
stop a trial that would otherwise go on.

**Sign conventions.** The log-rank z and Cox z are reported with the sign of log(HR A vs B):
negative favours surgery (arm A), as in :mod:`trialnb.monitoring` with ``direction_upper=False``.
The *benefit z* compared with the boundaries is minus that.

References: Lan KKG, DeMets DL. Biometrika 1983;70:659-663 (alpha spending). Jennison C,
Turnbull BW. Group Sequential Methods. Chapman & Hall 2000, ch. 9 (repeated confidence
intervals) and ch. 10 (conditional power). Schoenfeld DA. Biometrika 1981;68:316-319 (events).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .documents import page, provenance
from . import monitoring
from .report import fmt_estimate, fmt_hr, fmt_interval, fmt_months, fmt_n, fmt_num, fmt_pct, text_table, wrap_text
from .results import Result
from .monitoring import sequential_sample_size

__all__ = ["PLAN", "InterimReport", "cox_failure", "cut_at_month", "html_report", "interim_report",
           "plan_max_events", "planned_max_events", "proposed_design", "repeated_ci_note", "text_report",
           "write_html"]

PLAN: dict[str, Any] = {
    "looks": 2,
    "information_rates": (0.5, 1.0),
    "type_of_design": "asOF",
    "alpha": 0.025,       # one-sided: the benefit half of the protocol's two-sided 0.05
    "beta": 0.2,          # protocol: power 80%
    "hazard_ratio": 0.5,  # protocol: design hazard ratio
    "futility_z": 0.0,    # non-binding: observed HR >= 1 at the interim
    "harm_z": -2.326,     # benefit z <= -2.326: one-sided p <= 0.01 that surgery is worse
    "perioperative_months": 1.0,  # a death within 30 days (1 month) of surgery
}
"""The interim plan proposed in notebook 05 (see the module docstring)."""


def proposed_design(information_rates: tuple[float, ...] = PLAN["information_rates"],
                    type_of_design: str = PLAN["type_of_design"], futility: bool = True
                    ) -> monitoring.GroupSequentialDesign:
    """The proposed efficacy design with (``futility=True``) a non-binding futility bound at
    each interim."""
    k = len(information_rates)
    return monitoring.design(k, alpha=PLAN["alpha"], beta=PLAN["beta"], type_of_design=type_of_design,
                             information_rates=list(information_rates),
                             futility_bounds=[PLAN["futility_z"]] * (k - 1) if k > 1 and futility else None,
                             binding_futility=False)


def plan_max_events() -> int:
    """The plan's maximum number of deaths: that of the efficacy boundary alone (66 for the
    protocol's HR 0.5, one-sided 0.025, 80% power). The futility guideline is non-binding, so
    it does not raise the maximum; followed every time, it costs a little power (notebook 05
    simulates how much)."""
    return planned_max_events(proposed_design(futility=False))


def planned_max_events(design: monitoring.GroupSequentialDesign,
                       hazard_ratio: float = PLAN["hazard_ratio"]) -> int:
    """Maximum deaths of a group-sequential design, rounded up: the fixed design's Schoenfeld
    events (same alpha, sides and power) times the design's inflation factor, from
    :func:`trialnb.sample_size.sequential_sample_size` (rpact ``getSampleSizeSurvival``)."""
    return int(math.ceil(sequential_sample_size(design, hazard_ratio).max_events - 1e-9))


def cut_at_month(df: pd.DataFrame, cutoff_month: float) -> pd.DataFrame:
    """The trial as it was known at calendar month ``cutoff_month`` (months since the first
    randomization): patients randomized by then, follow-up ``min(os_months, cutoff - entry)``,
    a death only if it happened by the cut-off. Raises ValueError for a cut-off outside the
    data (before the first randomization or after the last follow-up date)."""
    c = float(cutoff_month)
    last = float((df["entry_month"] + df["os_months"]).max())
    first = float(df["entry_month"].min())
    if not math.isfinite(c) or c > last + 1e-9:
        raise ValueError(f"cut-off month {cutoff_month!r} is beyond the data: the last follow-up "
                         f"in this file is at month {last:g}; choose a month in ({first:g}, {last:g}]")
    if c <= first:
        raise ValueError(f"cut-off month {cutoff_month!r} is before the first randomization "
                         f"(month {first:g}); choose a month in ({first:g}, {last:g}]")
    out = df[df["entry_month"] <= c].copy()
    end = out["entry_month"] + out["os_months"]
    dead = (out["death"] == 1) & (end <= c + 1e-9)
    out["os_months"] = np.where(dead, out["os_months"], np.minimum(out["os_months"], c - out["entry_month"]))
    out["death"] = dead.astype(int)
    out["lost_to_follow_up"] = ((out["lost_to_follow_up"] == 1) & (end <= c + 1e-9)).astype(int)
    return out


@dataclass(frozen=True)
class InterimReport(Result):
    """The interim report at one calendar cut-off (see the module docstring)."""

    cutoff_month: float
    n_randomized: int
    n_by_arm: dict[str, int]
    deaths_by_arm: dict[str, int]
    events: int
    max_events: int
    logrank_z: float
    cox_z: float
    cox_hr: float
    analysis: Any  # monitoring.InterimAnalysis
    harm_z: float
    perioperative_deaths: int
    operated: int
    conditional_power: dict[str, tuple[float, float]]  # name -> (hazard ratio, probability)
    cox_note: str = ""  # why the Cox model gives no estimate of the arm effect ("" if it does)
    rci_note: str = ""  # why there is no repeated confidence interval ("" if there is one)

    @property
    def information_fraction(self) -> float:
        return self.events / self.max_events

    @property
    def benefit_z(self) -> float:
        return -self.logrank_z

    @property
    def efficacy_bound(self) -> float:
        return float(self.analysis.critical_values[0])

    @property
    def harm_crossed(self) -> bool:
        return self.benefit_z <= self.harm_z

    @property
    def decision(self) -> str:
        """``"stop for efficacy"``, ``"review for harm"``, ``"futility guideline met"`` or
        ``"continue"`` (the harm and futility guidelines are non-binding: the DMC decides)."""
        act = self.analysis.actions[0]
        if act == "reject":
            return "stop for efficacy"
        if self.harm_crossed:
            return "review for harm"
        if act == "futility" or self.benefit_z <= PLAN["futility_z"]:
            return "futility guideline met"
        return "continue"

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs shown in the text and HTML reports."""
        a = self.analysis
        cp = "; ".join(f"{name} (HR {fmt_num(hr, 2)}): {fmt_pct(p)}" for name, (hr, p) in self.conditional_power.items())
        return [
            ("Data cut-off", fmt_months(self.cutoff_month) + " after the first randomization"),
            ("Randomized by the cut-off", f"{fmt_n(self.n_randomized)} (A {fmt_n(self.n_by_arm['A'])}, B {fmt_n(self.n_by_arm['B'])})"),
            ("Deaths", f"{fmt_n(self.events)} (A {fmt_n(self.deaths_by_arm['A'])}, B {fmt_n(self.deaths_by_arm['B'])}) "
                       f"of {fmt_n(self.max_events)} planned: information {fmt_pct(self.information_fraction)}"),
            ("Log-rank z (sign of log HR)", fmt_num(self.logrank_z, 3)),
            ("Cox Wald z, arm A (with minimization factors)",
             fmt_estimate(self.cox_z, 3, unavailable=self.cox_note)
             + ("" if self.cox_note else f", HR {fmt_estimate(self.cox_hr, 2)}")),
            ("Efficacy boundary (benefit z, recalculated)", f">= {fmt_num(self.efficacy_bound, 3)}; benefit z = {fmt_num(self.benefit_z, 3)}"),
            ("HR (A vs B) with repeated CI", f"{fmt_hr(float(a.hazard_ratios[0]))} ("
             + fmt_interval(float(a.rci_lower[0]), float(a.rci_upper[0]), 2, label="repeated confidence interval",
                            unavailable=self.rci_note) + ")"),
            ("Repeated p-value", fmt_num(float(a.repeated_p_values[0]), 4)),
            ("Harm guideline", f"benefit z <= {fmt_num(self.harm_z, 3)}: {'crossed' if self.harm_crossed else 'not crossed'}"),
            ("Deaths within 30 days of surgery (arm A)", f"{fmt_n(self.perioperative_deaths)} of {fmt_n(self.operated)} operated"),
            ("Conditional power (final look)", cp),
            ("Decision", self.decision),
        ]

    def to_frame(self) -> pd.DataFrame:
        """The report's lines as a table: ``item``, ``value`` (the formatted :meth:`rows`)."""
        return pd.DataFrame(self.rows(), columns=["item", "value"])

    def summary(self) -> str:
        return "\n".join(f"{label}: {value}" for label, value in self.rows())


def interim_report(df: pd.DataFrame, cutoff_month: float, *, design: Any = None,
                   max_events: int | None = None) -> InterimReport:
    """The interim report of ``df`` (a loaded trial) cut at ``cutoff_month`` as look 1 of
    ``design`` (default :func:`proposed_design`) with ``max_events`` planned deaths (default
    :func:`plan_max_events`). Conditional power at the final look is computed under three
    named hazard ratios: the observed one, the design's (0.5) and no effect (1.0).
    Raises ValueError when the cut-off is outside the data, no death has occurred yet, or the
    planned maximum of deaths is already reached (that is the final analysis, not an interim).
    """
    from .analysis import logrank as _logrank, primary_cox

    d = proposed_design() if design is None else design
    m = plan_max_events() if max_events is None else int(max_events)
    cut = cut_at_month(df, cutoff_month)
    events = int(cut["death"].sum())
    if events == 0:
        raise ValueError(f"no death by month {cutoff_month:g}: nothing to analyse yet")
    if events >= m:
        cal = np.sort((df["entry_month"] + df["os_months"])[df["death"] == 1].to_numpy())
        when = f" (the {m}th death is at month {cal[m - 1]:g})" if cal.size >= m else ""
        raise ValueError(f"{events} deaths by month {cutoff_month:g} reach the planned maximum of {m}: "
                         f"this is the final analysis, not an interim{when}; choose an earlier cut-off")
    lr = _logrank(cut)
    sign = 1.0 if lr.observed["A"] >= lr.expected["A"] else -1.0
    z_lr = sign * math.sqrt(lr.statistic)
    cox = primary_cox(cut)
    res = monitoring.analyse(d, [events], [z_lr], direction_upper=False, max_information=m)
    remaining = [m - events] if d.k == 2 else None
    cps: dict[str, tuple[float, float]] = {}
    if remaining is not None:
        obs = float(res.hazard_ratios[0])
        for name, hr in (("observed", obs), ("design", PLAN["hazard_ratio"]), ("no effect", 1.0)):
            cp = monitoring.conditional_power(d, [events], [z_lr], n_planned=remaining, theta_h1=hr,
                                              direction_upper=False)
            cps[name] = (hr, float(np.asarray(cp.conditional_power)[-1]))
    a = cut[cut["arm"] == "A"]
    op = a[a["operated"] == 1]
    early = (op["death"] == 1) & ((op["os_months"] - op["surgery_month"]) <= PLAN["perioperative_months"] + 1e-9)
    return InterimReport(
        cutoff_month=float(cutoff_month), n_randomized=len(cut),
        n_by_arm={k: int((cut["arm"] == k).sum()) for k in ("A", "B")},
        deaths_by_arm={k: int(cut.loc[cut["arm"] == k, "death"].sum()) for k in ("A", "B")},
        events=events, max_events=m, logrank_z=z_lr, cox_z=cox.coef / cox.se, cox_hr=cox.hazard_ratio,
        analysis=res, harm_z=PLAN["harm_z"], perioperative_deaths=int(early.sum()), operated=len(op),
        conditional_power=cps, cox_note=cox_failure(cut), rci_note=repeated_ci_note(res, events, m))


def repeated_ci_note(analysis: Any, events: int, max_events: int, look: int = 0) -> str:
    """Why ``analysis`` (:func:`trialnb.monitoring.analyse`) has no repeated confidence interval
    at ``look``, or ``""`` when it has one: early in a trial the efficacy boundary can be so
    extreme (z of 8.2 or more) that the interval has no finite bounds; rpact, which
    :mod:`trialnb.monitoring` follows, gives none either."""
    lo, hi = float(analysis.rci_lower[look]), float(analysis.rci_upper[look])
    if math.isfinite(lo) and math.isfinite(hi):
        return ""
    return (f"with {fmt_n(events)} of {fmt_n(max_events)} planned deaths ({fmt_pct(events / max_events)}) the "
            f"efficacy boundary is z >= {fmt_num(float(analysis.critical_values[look]), 3)}, too far out for a "
            "finite interval (rpact gives none either)")


def cox_failure(cut: pd.DataFrame) -> str:
    """Why the planned Cox model (:func:`trialnb.analysis.primary_cox`'s design) gives no
    estimate of the arm effect on ``cut``, or ``""`` when it does. A fit is judged as R
    ``coxph`` and the simulations judge it (:func:`trialnb.survival.fit_cox`): an analysis fails
    when the log-likelihood does not converge (20 iterations) or the arm coefficient may be
    infinite (monotone likelihood, Bryson & Johnson 1981); an infinite nuisance coefficient
    leaves the arm estimate valid."""
    from .analysis import COX_COVARIATES, cox_design, primary_data
    from .survival import fit_cox

    d = cox_design(primary_data(cut))
    deaths = int(d["death"].sum())
    by_arm = f"{deaths} deaths (A {int(d.loc[d['arm_A'] == 1, 'death'].sum())}, B {int(d.loc[d['arm_A'] == 0, 'death'].sum())})"
    fit = fit_cox(d["os_months"].to_numpy(float), d["death"].to_numpy(float), d[list(COX_COVARIATES)].to_numpy(float))
    if not bool(np.all(fit.converged)):
        return (f"the Cox model did not converge: {by_arm} for {len(COX_COVARIATES)} coefficients "
                "(arm and minimization factors), too few for the model")
    if fit.infinite is not None and bool(np.asarray(fit.infinite).reshape(-1)[0]):
        return f"the arm coefficient may be infinite (monotone likelihood): {by_arm}"
    return ""


TITLE = "Interim analysis report (NCT04697043, synthetic data)"


def text_report(rep: InterimReport, source: str = "") -> str:
    """Plain-text interim report, wrapped at words within :data:`trialnb.report.TEXT_WIDTH`
    columns (:func:`trialnb.report.text_table`); with the ``source`` data file, ended by the
    provenance line (time, version, the file's SHA-256: :func:`trialnb.documents.provenance`)."""
    lines = [TITLE, "=" * len(TITLE), text_table(rep.rows()), wrap_text(_PLAN_TEXT)]
    if source:
        lines.append(wrap_text(provenance("trialnb monitor", data=source if Path(source).is_file() else None)))
    return "\n".join(lines)


_CSS = ("table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}"
        ".decision{font-weight:bold;font-size:1.2rem}figure{margin:1rem 0}figure svg{max-width:100%;height:auto}")
_PLAN_TEXT = ("Plan: 2 looks (interim at half the planned deaths), Lan-DeMets O'Brien-Fleming alpha spending, "
              "one-sided alpha 0.025; futility and harm guidelines non-binding.")


def html_report(rep: InterimReport, figure_svg: str | None = None, source: str = "") -> str:
    """Self-contained HTML (inline CSS and SVG, no scripts) of the interim report, in the
    documents' page shell (:func:`trialnb.documents.page`): its provenance line names the time,
    the package version and, when ``source`` is a data file, its SHA-256, so the DMC knows
    exactly what the report was made from; printed pages are numbered."""
    e = html.escape
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rep.rows())
    fig = f'<figure>{figure_svg}</figure>' if figure_svg else ""
    src = f"<p>Data: <code>{e(source)}</code></p>" if source else ""
    data = source if source and Path(source).is_file() else None
    return page(TITLE, f"<h1>{e(TITLE)}</h1>{src}"
                f"<p class=\"decision\" data-decision=\"{e(rep.decision)}\">Decision: {e(rep.decision)}</p>"
                f"<table>{body}</table>{fig}<p>{e(_PLAN_TEXT)}</p>",
                provenance_line=provenance("trialnb monitor --html", data=data), css=_CSS)


def write_html(rep: InterimReport, path: Path | str, figure_svg: str | None = None, source: str = "") -> Path:
    """Write :func:`html_report` to ``path`` (must end in .html/.htm)."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"path must end in .html or .htm, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html_report(rep, figure_svg, source), encoding="utf-8")
    return path
