"""What the data monitoring committee (DMC) sees at a data cut-off, computed from the plan.

The protocol ends its statistics with "Interim analysis ;" and nothing after it; the plan's
monitoring part (:class:`trialnb.plan.MonitoringPlan`, argued in notebook 05) fills it. This
module applies it to a trial file (:func:`trialnb.data.load_trial`) cut at a calendar month
(:func:`trialnb.analysis.cut_at`: only what was known then):

* who was randomized, the **primary-endpoint deaths** (deaths within ``censor_months`` of
  randomization) by arm, and the information fraction (those deaths over the planned maximum,
  :func:`trialnb.monitoring.plan_max_events`);
* the plan's statistic (:func:`trialnb.analysis.primary`: the adjusted Cox Wald z by default),
  its hazard ratio and the group-sequential inference recalculated for the information
  actually observed (:func:`trialnb.monitoring.analyse` with ``max_information``: rpact's
  ``getAnalysisResults``): the efficacy boundary, the repeated confidence interval of the
  plan's own estimate (exp(b -+ c_k SE): the Cox coefficient with its SE, not the log-rank
  approximation), the repeated p-value; at a look that crosses a boundary, the
  median-unbiased estimate;
* conditional power at the final look **on the recalculated design** (rpact's conditional power of
  ``getAnalysisResults`` with ``maxInformation``), under three named hazard ratios (the observed
  one, the design's and no effect), each future death carrying the information per death of the
  plan's own estimate;
* the harm and futility guidelines, the maturity of the data (patients who have completed
  ``censor_months``) and the perioperative safety review: operations and deaths within
  ``perioperative_months`` of surgery in both arms, at every scheduled review up to the cut.

The report recommends; the DMC decides ("efficacy boundary crossed", never "stop").
:func:`report_json` gives the report as one JSON object (``trialnb monitor --json``).

**Sign conventions.** ``z`` has the sign of log(HR A vs B): negative favours surgery (arm A).
The *benefit z* compared with the efficacy boundary is ``-z``.

References: Lan KKG, DeMets DL. Biometrika 1983;70:659-663 (alpha spending). Jennison C,
Turnbull BW. Group Sequential Methods. Chapman & Hall 2000, ch. 9 (repeated confidence
intervals), ch. 10 (conditional power). DeMets DL, Ellenberg SS, Fleming TR. Data Monitoring
Committees in Clinical Trials. Wiley 2002 (what a DMC report holds).
"""

from __future__ import annotations

import hashlib
import html
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .analysis import PrimaryResult, cut_at, primary, primary_data
from .documents import page
from .errors import TrialAnalysisError
from .files import check_output_path, write_text_atomic
from .monitoring import (InterimAnalysis, analyse, logrank_standard_error, plan_design, plan_interim_events,
                         plan_max_events, predict_deaths)
from .plan import PLAN, TrialPlan, check_plan
from .report import fmt_interval, fmt_months, fmt_n, fmt_num, fmt_pct
from .validation import check_real, check_seed
from .results import Result

__all__ = ["InterimReport", "SafetyReview", "death_month", "html_report", "interim_report", "report_json",
           "text_report", "typed_look", "write_html"]


@dataclass(frozen=True)
class SafetyReview:
    """One scheduled perioperative safety review: the calendar month, and per arm the patients
    operated by then and the deaths within the plan's perioperative window of surgery."""

    month: float
    operated: dict[str, int]
    perioperative_deaths: dict[str, int]


@dataclass(frozen=True)
class InterimReport(Result):
    """The DMC's report at one calendar cut-off (see the module docstring). ``look`` is the
    plan's look the cut-off stands for (1 = the first interim; ``final`` True at or after the
    calendar-driven final analysis). Numbers that do not exist are NaN and ``primary``'s
    ``reason`` says why."""

    plan: TrialPlan
    cutoff_month: float
    look: int
    final: bool
    randomized: int
    randomized_by_arm: dict[str, int]
    primary_deaths_by_arm: dict[str, int]
    max_events: int
    primary: PrimaryResult
    inference: InterimAnalysis | None
    boundary: float
    rci_lower: float
    rci_upper: float
    repeated_p_value: float
    median_unbiased_hr: float
    conditional_power: dict[str, float]
    complete: int
    operated_by_arm: dict[str, int]
    perioperative_deaths_by_arm: dict[str, int]
    safety_reviews: tuple[SafetyReview, ...]
    data_sha256: str = ""
    source: str = ""
    generated: str = ""
    next_look: Any = field(default=None, repr=False)

    # ---- derived
    @property
    def primary_deaths(self) -> int:
        return sum(self.primary_deaths_by_arm.values())

    @property
    def information_fraction(self) -> float:
        return self.primary_deaths / self.max_events

    @property
    def z(self) -> float:
        return self.primary.z

    @property
    def benefit_z(self) -> float:
        return -self.primary.z

    @property
    def hazard_ratio(self) -> float:
        return self.primary.hazard_ratio

    @property
    def estimable(self) -> bool:
        return self.primary.estimable

    @property
    def unscheduled(self) -> bool:
        """True for an interim look beyond the plan's interims (the final not yet due): a look
        the plan did not schedule, its boundary spending what the alpha-spending function allows
        at its information after the planned interims' share."""
        return not self.final and self.look > self.plan.monitoring.k - 1

    @property
    def decision(self) -> str:
        """What the plan says of this look, in a DMC's words: ``"efficacy boundary crossed"``,
        ``"harm boundary crossed"``, ``"harm guideline met"``, ``"futility guideline met"``,
        ``"maturity condition not met"`` (the efficacy boundary crossed too early),
        ``"continue"``, ``"final analysis: no boundary crossed"`` or ``"no estimate"``."""
        if not self.estimable:
            return "no estimate"
        m, zb, c = self.plan.monitoring, self.benefit_z, self.boundary
        if zb >= c:
            if not self.final and m.efficacy_min_complete is not None and self.complete < m.efficacy_min_complete:
                return "maturity condition not met"
            return "efficacy boundary crossed"
        if self.plan.analysis.sided == 2 and zb <= -c:
            return "harm boundary crossed"
        if self.final:
            return "final analysis: no boundary crossed"
        if m.harm_z is not None and zb <= m.harm_z:
            return "harm guideline met"
        if m.futility_z is not None and zb <= m.futility_z:
            return "futility guideline met"
        return "continue"

    @property
    def rci_reason(self) -> str:
        """Why there is no repeated confidence interval, or ``""`` when there is one: early in a
        trial the efficacy boundary can be so extreme (z of 8.2 or more) that the interval has no
        finite bounds; rpact, which :mod:`trialnb.monitoring` follows, gives none either."""
        if math.isfinite(self.rci_lower) and math.isfinite(self.rci_upper):
            return ""
        return (f"with {fmt_n(self.primary_deaths)} of {fmt_n(self.max_events)} planned deaths "
                f"({fmt_pct(self.information_fraction)}) the efficacy boundary is z >= {fmt_num(self.boundary, 3)}, "
                "too far out for a finite interval (rpact gives none either)")

    @property
    def _horizon(self) -> float:
        """The months of follow-up that make a patient's endpoint complete: ``censor_months``, or
        the design's horizon for an analysis of all follow-up."""
        h = self.plan.analysis.censor_months
        return float(h if h is not None else self.plan.design.horizon_months)

    def _deaths_label(self) -> str:
        h = self.plan.analysis.censor_months
        return ("Deaths (all follow-up; the plan's endpoint)" if h is None
                else f"Deaths within {fmt_num(h, 0) if float(h).is_integer() else fmt_num(h, 2)} months (primary "
                     f"endpoint)")

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs shown in the text and HTML reports."""
        p = self.primary
        arms = lambda d: f"A {fmt_n(d['A'])}, B {fmt_n(d['B'])}"  # noqa: E731
        n_interims = self.plan.monitoring.k - 1
        if self.final:
            look = "final analysis"
        elif not self.unscheduled:
            look = f"interim look {self.look} of the {n_interims} planned"
        else:  # a look after the planned interims: unscheduled, its boundary from the spending function
            look = (f"interim look {self.look}, unscheduled: the plan has {n_interims}; its boundary comes "
                    "from the spending function")
        out = [
            ("Data cut-off", f"{fmt_months(self.cutoff_month, 2)} after the first randomization ({look})"),
            ("Randomized by the cut-off", f"{fmt_n(self.randomized)} ({arms(self.randomized_by_arm)})"),
            (self._deaths_label(),
             f"{fmt_n(self.primary_deaths)} ({arms(self.primary_deaths_by_arm)}) of {fmt_n(self.max_events)} planned: "
             f"information {fmt_pct(self.information_fraction)}"),
            ("Statistic", self.plan.analysis.statistic_label()),
        ]
        if not p.estimable:
            out.append(("Estimate", f"none: {p.reason}"))
            if p.shown_instead:
                out.append(("Shown instead", p.shown_instead))
        else:
            out += [
                ("z (negative favours arm A)", fmt_num(p.z, 3)),
                ("Hazard ratio A vs B (plan's statistic)", f"{fmt_num(p.hazard_ratio, 2)} ("
                 + fmt_interval(self.rci_lower, self.rci_upper, 2, label="repeated CI",
                                unavailable=self.rci_reason) + ")"),
                ("Efficacy boundary (benefit z, recalculated)", f">= {fmt_num(self.boundary, 3)}; "
                 f"benefit z = {fmt_num(self.benefit_z, 3)}"),
                ("Repeated p-value", fmt_num(self.repeated_p_value, 4)),
            ]
            if math.isfinite(self.median_unbiased_hr):
                out.append(("Median-unbiased hazard ratio", fmt_num(self.median_unbiased_hr, 2)))
            if self.conditional_power:
                out.append(("Conditional power (final look, recalculated design)",
                            "; ".join(f"HR {k}: {fmt_pct(v)}" for k, v in self.conditional_power.items())))
        m = self.plan.monitoring
        out += [
            ("Harm guideline", "benefit z <= " + (fmt_num(m.harm_z, 3) if m.harm_z is not None else "none")),
            ("Futility guideline (non-binding)", "benefit z <= " + (fmt_num(m.futility_z, 3) if m.futility_z is not None
                                                                    else "none")),
            (f"Patients who completed {fmt_num(self._horizon, 0)} months", fmt_n(self.complete)),
            ("Operated by the cut-off", arms(self.operated_by_arm)),
            (f"Deaths within {fmt_num(30 * m.perioperative_months, 0)} days of surgery",
             arms(self.perioperative_deaths_by_arm)),
        ]
        if self.next_look is not None:
            nl = self.next_look
            if self.next_look_calendar:
                med, lo, hi = self.final_month_predicted
                out.append(("Final analysis (calendar-driven) predicted",
                            f"month {fmt_num(med, 1)} (80% prediction interval {fmt_num(lo, 1)} to {fmt_num(hi, 1)}): "
                            f"enrollment completes + {self.plan.analysis.censor_months:g} months"))
            else:
                lo, hi = nl.interval(0.8)
                out.append((f"Next look ({fmt_n(nl.target_deaths)} deaths) predicted",
                            f"month {fmt_num(nl.median_month, 1)} (80% prediction interval {fmt_num(lo, 1)} to "
                            f"{fmt_num(hi, 1)}), {fmt_n(nl.median_randomized)} randomized by then"))
        if p.notes:
            out.append(("Notes", "; ".join(p.notes)))
        out.append(("Recommendation to consider", self.decision))
        return out

    @property
    def next_look_calendar(self) -> bool:
        """True when the next look is the calendar-driven final (no event-driven look ahead)."""
        if self.next_look is None or self.plan.monitoring.final_analysis != "calendar":
            return False
        return self.next_look.target_deaths not in plan_interim_events(self.plan)

    @property
    def final_month_predicted(self) -> tuple[float, float, float]:
        """Median and 80% prediction interval of the calendar-driven final analysis: the predicted
        month enrollment completes plus the plan's ``censor_months`` (NaN without a prediction)."""
        if self.next_look is None:
            return (math.nan, math.nan, math.nan)
        h = self.plan.milestone_months
        end = np.asarray(self.next_look.enrollment_end, float) + h
        return (float(np.median(end)), float(np.quantile(end, 0.1)), float(np.quantile(end, 0.9)))

    def to_frame(self) -> pd.DataFrame:
        """The report's lines as a table: ``item``, ``value``."""
        return pd.DataFrame(self.rows(), columns=["item", "value"])

    def summary(self) -> str:
        return "\n".join(f"{label}: {value}" for label, value in self.rows())


# ---------------------------------------------------------------------------------------
# building the report

def _sha256(df: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes()).hexdigest()


def _perioperative(cut: pd.DataFrame, window: float) -> tuple[dict[str, int], dict[str, int]]:
    """Operated patients and deaths within ``window`` months of surgery, per arm, in a cut."""
    if "operated" not in cut or "surgery_month" not in cut:
        return {"A": 0, "B": 0}, {"A": 0, "B": 0}
    op = cut[cut["operated"] == 1]
    early = (op["death"] == 1) & (op["os_months"] - op["surgery_month"].astype(float) <= window + 1e-9)
    return ({k: int((op["arm"] == k).sum()) for k in ("A", "B")},
            {k: int((early & (op["arm"] == k)).sum()) for k in ("A", "B")})


def _safety_reviews(df: pd.DataFrame, cutoff: float, plan: TrialPlan) -> tuple[SafetyReview, ...]:
    m = plan.monitoring
    first = float(df["entry_month"].min())
    out = []
    month = first + m.safety_review_every_months
    while month <= cutoff + 1e-9:
        op, pd_ = _perioperative(cut_at(df, month), m.perioperative_months)
        out.append(SafetyReview(round(month, 2), op, pd_))
        month += m.safety_review_every_months
    return tuple(out)


def _look_inference(plan: TrialPlan, earlier: list[int], d: int, z: float, log_hr: float, se: float, final: bool,
                    estimable: bool, hazard_ratio: float, mx: int) -> dict[str, Any]:
    """The group-sequential numbers of a look with ``d`` primary-endpoint deaths after the
    interims ``earlier`` (at their planned deaths): boundary, repeated CI of exp(log_hr) with
    SE ``se``, repeated p-value, median-unbiased estimate, conditional power (the keys of
    :class:`InterimReport`)."""
    nan = math.nan
    out: dict[str, Any] = {"inference": None, "boundary": nan, "rci_lower": nan, "rci_upper": nan,
                           "repeated_p_value": nan, "median_unbiased_hr": nan, "conditional_power": {}}
    if not estimable:
        return out
    events = earlier + [d]
    # the earlier looks (taken at their planned deaths) enter only through the information they
    # spent; the report is about the latest look: the plan's estimate with its own SE (Wald route)
    se_hist = [float(logrank_standard_error(e)[0]) for e in earlier] + [se]
    b_hist = [0.0] * len(earlier) + [log_hr]
    eps = float(mx - d) if final and d < mx else None
    inference = analyse(plan_design(plan), events, log_hazard_ratio=b_hist, standard_error=se_hist,
                        direction_upper=False, max_information=float(mx), information_epsilon=eps)
    k = len(events) - 1
    out.update(inference=inference, boundary=float(inference.critical_values[k]),
               rci_lower=float(inference.rci_lower[k]), rci_upper=float(inference.rci_upper[k]),
               repeated_p_value=float(inference.repeated_p_values[k]))
    if inference.median_unbiased_hr is not None and math.isfinite(inference.median_unbiased_hr):
        out["median_unbiased_hr"] = float(inference.median_unbiased_hr)
    if not final and inference.design.k > len(events) and mx > d:
        out["conditional_power"] = {
            name: float(np.asarray(inference.conditional_power(hr).conditional_power)[-1])
            for name, hr in ((f"{hazard_ratio:.2f} (observed)", hazard_ratio),
                             (f"{plan.design.hazard_ratio:g} (design)", plan.design.hazard_ratio),
                             ("1 (no effect)", 1.0))}
    return out


def typed_look(deaths: int, z: float, *, plan: TrialPlan = PLAN) -> dict[str, Any]:
    """The numbers of a look typed in by hand (deaths and a log-rank-type z, negative favours
    arm A), for the DMC dashboard's "enter numbers" mode: the keys of :class:`InterimReport`'s
    group-sequential part, with the hazard ratio and its SE from the log-rank approximation
    log HR = 2 z / sqrt(D), SE = 2 / sqrt(D) (Schoenfeld 1981), which the report says."""
    check_plan(plan, error=TrialAnalysisError)
    mx = plan_max_events(plan)
    if isinstance(deaths, bool) or not isinstance(deaths, (int, np.integer)) or not 0 < deaths < mx:
        raise TrialAnalysisError(f"deaths so far must be a whole number between 1 and {mx - 1} (the plan's maximum "
                                 f"is {mx}), got {deaths!r}")
    z = check_real(z, "z (log-rank-type, negative favours arm A)", lo=-40.0, hi=40.0, error=TrialAnalysisError)
    se = 2 / math.sqrt(deaths)
    earlier = [e for e in plan_interim_events(plan) if e < deaths]
    out = _look_inference(plan, earlier, int(deaths), float(z), float(z) * se, se, False, True,
                          math.exp(float(z) * se), mx)
    out.update(hazard_ratio=math.exp(float(z) * se), max_events=mx, look=len(earlier) + 1)
    return out


def death_month(df: pd.DataFrame, deaths: int, *, plan: TrialPlan = PLAN) -> float:
    """The calendar month at which the ``deaths``-th primary-endpoint death (a death within the
    plan's ``censor_months`` of randomization) occurs in ``df``: the cut-off of an event-driven
    look, as the data manager would find it when deaths are reported. Months are calendar months
    since the first randomization (``entry_month + os_months``), rounded to the data's 0.01.
    Refuses a count the file does not reach, saying how many it holds."""
    if isinstance(deaths, bool) or not isinstance(deaths, (int, np.integer)) or deaths < 1:
        raise TrialAnalysisError(f"deaths must be a whole number of deaths >= 1, got {deaths!r}")
    check_plan(plan, error=TrialAnalysisError)
    d = primary_data(df, plan)
    months = np.sort((d["entry_month"] + d["os_months"]).to_numpy(float)[d["death"].to_numpy() == 1])
    if deaths > months.size:
        raise TrialAnalysisError(f"the file holds {months.size} primary-endpoint deaths, fewer than the "
                                 f"{deaths} asked for; choose deaths in 1..{months.size}")
    return round(float(months[int(deaths) - 1]), 2)


def interim_report(df: pd.DataFrame, cutoff_month: float, *, plan: TrialPlan = PLAN, source: str = "",
                   predict: bool = True, seed: int = 20201120) -> InterimReport:
    """The DMC report of ``df`` (a loaded trial file) cut at ``cutoff_month`` under ``plan``.

    The look it stands for: the final analysis when the cut-off is at or after the
    calendar-driven final (the last randomization plus ``censor_months``) -- or, for an
    event-driven plan, when the planned maximum of primary-endpoint deaths is reached -- else
    the interim after the planned interims already passed (their deaths taken as planned).
    At an interim, ``predict`` (default) adds the predicted calendar month of the next look's
    primary-endpoint deaths (:attr:`InterimReport.next_look`,
    :func:`trialnb.monitoring.predict_deaths`: blinded, pooled over the arms)."""
    check_plan(plan, error=TrialAnalysisError)
    if not isinstance(predict, bool):
        raise TrialAnalysisError(f"predict must be True or False, got {predict!r}")
    if not isinstance(source, str):
        raise TrialAnalysisError(f"source must be a string naming the data file, got {type(source).__name__}")
    check_seed(seed, error=TrialAnalysisError)
    cut = cut_at(df, cutoff_month)
    c = float(cut.attrs["cutoff_month"])
    m = plan.monitoring
    res = primary(cut, plan)
    mx = plan_max_events(plan)
    planned = plan_interim_events(plan)
    d = res.events
    h = plan.milestone_months
    final_date = float(df["entry_month"].max()) + h
    final = (c >= final_date - 1e-9) if m.final_analysis == "calendar" else d >= mx
    earlier = [e for e in planned if e < d] if not final else list(planned)
    earlier = [e for e in earlier if e < d]
    look = len(earlier) + 1 if not final else m.k
    look_stats = _look_inference(plan, earlier, d, res.z, res.log_hr, res.se, final, res.estimable,
                                 res.hazard_ratio, mx)
    op, peri = _perioperative(cut, m.perioperative_months)
    entry = cut["entry_month"].to_numpy(float)
    complete = int(np.sum(entry <= c - h + 1e-9))
    nxt = None
    # the next look is event-driven when an interim is still ahead (or the final is event-driven);
    # a calendar-driven final comes when the last patient completes the horizon, whatever the deaths
    ahead = [e for e in planned if e > d] + ([mx] if m.final_analysis == "events" and mx > d else [])
    if predict and not final:
        # an event-driven look ahead: the month of its deaths; else the calendar-driven final:
        # the month enrollment completes (same simulation) plus censor_months
        # (its target deaths only drive the simulation's length: any count not yet reached will do)
        nxt = predict_deaths(cut, c, ahead[0] if ahead else max(mx, d + 1), n_planned=plan.design.n_patients,
                             censor_months=h, seed=seed)
    return InterimReport(
        plan=plan, cutoff_month=c, look=look, final=bool(final), randomized=len(cut),
        randomized_by_arm={k: int((cut["arm"] == k).sum()) for k in ("A", "B")},
        primary_deaths_by_arm=dict(res.events_by_arm), max_events=mx, primary=res, **look_stats, complete=complete,
        operated_by_arm=op, perioperative_deaths_by_arm=peri,
        safety_reviews=_safety_reviews(df, c, plan), data_sha256=_sha256(df), source=source,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), next_look=nxt)


# ---------------------------------------------------------------------------------------
# outputs

TITLE = "Interim analysis report (NCT04697043, synthetic data)"


def _check_report(rep: Any) -> None:
    if not isinstance(rep, InterimReport):
        raise TrialAnalysisError(f"rep must be an InterimReport from interim_report(), got {type(rep).__name__}")


def _plan_line(rep: InterimReport) -> str:
    m, a = rep.plan.monitoring, rep.plan.analysis
    looks = ", ".join(f"{r:g}" for r in m.information_rates)
    return (f"Plan: looks at {looks} of {rep.max_events} primary-endpoint deaths, {m.spending} alpha spending, "
            f"{'two' if a.sided == 2 else 'one'}-sided alpha {a.alpha:g}, final analysis {m.final_analysis}-driven; "
            "futility and harm guidelines non-binding.")


def _provenance(rep: InterimReport) -> str:
    src = f"data {rep.source}, " if rep.source else ""
    return (f"Made {rep.generated} by trialnb {__version__} from {src}SHA-256 {rep.data_sha256[:16]}... "
            "of the loaded data.")


def text_report(rep: InterimReport) -> str:
    """Plain-text report (lines wrap at words, never inside one)."""
    _check_report(rep)
    import textwrap

    rows = rep.rows()
    w = max(len(k) for k, _ in rows)
    lines = [TITLE, "=" * len(TITLE)]
    for k, v in rows:
        wrapped = textwrap.wrap(v, width=max(30, 100 - w - 2), break_long_words=False, break_on_hyphens=False) or [""]
        lines.append(f"{k:<{w}}  {wrapped[0]}")
        lines += [" " * (w + 2) + x for x in wrapped[1:]]
    if rep.safety_reviews:
        lines += textwrap.wrap("Safety reviews (operated / perioperative deaths, A | B): " + "; ".join(
            f"month {fmt_num(s.month, 1)}: {s.operated['A']}/{s.perioperative_deaths['A']} | "
            f"{s.operated['B']}/{s.perioperative_deaths['B']}" for s in rep.safety_reviews), 100,
            break_long_words=False)
    lines += textwrap.wrap(_plan_line(rep), 100, break_long_words=False)
    lines += textwrap.wrap(_provenance(rep), 100, break_long_words=False)
    return "\n".join(lines)


def report_json(rep: InterimReport) -> dict[str, Any]:
    """The report as one JSON-ready object: the keys of ``trialnb monitor --json``. Numbers that
    do not exist are ``null``."""
    _check_report(rep)
    num = lambda x: None if x is None or not math.isfinite(float(x)) else float(x)  # noqa: E731
    nl = rep.next_look
    return {
        "cutoff_month": rep.cutoff_month, "look": rep.look, "final": rep.final, "unscheduled": rep.unscheduled,
        "randomized": rep.randomized, "randomized_by_arm": rep.randomized_by_arm,
        "primary_deaths": rep.primary_deaths, "primary_deaths_by_arm": rep.primary_deaths_by_arm,
        "max_events": rep.max_events, "information_fraction": rep.information_fraction,
        "statistic": rep.plan.analysis.statistic, "estimable": rep.estimable,
        "reason": rep.primary.reason or None, "shown_instead": rep.primary.shown_instead or None, "z": num(rep.z),
        "boundary": num(rep.boundary),
        "decision": rep.decision, "hazard_ratio": num(rep.hazard_ratio), "rci_lower": num(rep.rci_lower),
        "rci_upper": num(rep.rci_upper), "repeated_p_value": num(rep.repeated_p_value),
        "median_unbiased_hr": num(rep.median_unbiased_hr),
        "conditional_power": {k: num(v) for k, v in rep.conditional_power.items()},
        "patients_complete": rep.complete,
        "operated_by_cutoff": rep.operated_by_arm["A"], "operated_by_arm": rep.operated_by_arm,
        "perioperative_deaths": rep.perioperative_deaths_by_arm,
        "safety_reviews": [{"month": s.month, "operated": s.operated, "perioperative_deaths": s.perioperative_deaths}
                           for s in rep.safety_reviews],
        "next_look": None if nl is None else {**nl.to_dict(), "kind": "calendar final" if rep.next_look_calendar
                                                else "event-driven look",
                                                "final_month": dict(zip(("median", "lower", "upper"),
                                                                        rep.final_month_predicted, strict=True))
                                                if rep.next_look_calendar else None},
        "notes": list(rep.primary.notes), "data_sha256": rep.data_sha256, "source": rep.source or None,
        "generated": rep.generated, "trialnb_version": __version__,
    }


_CSS = ("table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}"
        ".decision{font-weight:bold;font-size:1.2rem}figure{margin:1rem 0}figure svg{max-width:100%;height:auto}")


def html_report(rep: InterimReport, figure_svg: str | None = None) -> str:
    """Self-contained HTML (inline CSS and SVG, no scripts) of the report, in the documents' page
    shell (:func:`trialnb.documents.page`: the provenance line at the end, printed pages numbered)."""
    _check_report(rep)
    e = html.escape
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rep.rows())
    reviews = ""
    if rep.safety_reviews:
        reviews = ("<h2>Perioperative safety reviews</h2><table><tr><th>Month</th><th>Operated A</th><th>Deaths A</th>"
                   "<th>Operated B</th><th>Deaths B</th></tr>" + "".join(
                       f"<tr><td>{fmt_num(s.month, 1)}</td><td>{s.operated['A']}</td>"
                       f"<td>{s.perioperative_deaths['A']}</td><td>{s.operated['B']}</td>"
                       f"<td>{s.perioperative_deaths['B']}</td></tr>" for s in rep.safety_reviews)
                   + "</table>")
    fig = f"<figure>{figure_svg}</figure>" if figure_svg else ""
    return page(TITLE, f"<h1>{e(TITLE)}</h1>"
                f"<p class=\"decision\" data-decision=\"{e(rep.decision)}\">"
                f"Recommendation to consider: {e(rep.decision)}</p>"
                f"<table>{body}</table>{reviews}{fig}<p>{e(_plan_line(rep))}</p>",
                provenance_line=_provenance(rep), css=_CSS)


def write_html(rep: InterimReport, path: Path | str, figure_svg: str | None = None) -> Path:
    """Write :func:`html_report` to ``path`` (must end in .html/.htm; parent folders created)
    atomically: a full disk or a failed write leaves the previous report intact."""
    path = check_output_path(path, "path", suffixes=(".html", ".htm"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(path, html_report(rep, figure_svg))
