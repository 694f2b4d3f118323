"""The trial's statistical analysis plan (SAP), drafted from the companion: ``trialnb sap``.

:func:`build_sap` writes a SAP draft for NCT04697043 structured by the SAP guideline (Gamble C
et al. JAMA 2017;318:2337-2343; sections administrative information, introduction, study
methods, statistical principles, trial population, analysis). Each heading is either filled
from the package (:data:`trialnb.protocol.PROTOCOL`, :mod:`trialnb.sample_size`,
:mod:`trialnb.protocol_audit`, :mod:`trialnb.randomization`, :mod:`trialnb.monitoring` and
:mod:`trialnb.interim`, :mod:`trialnb.analysis`, the estimand of notebook 07) or marked "to be
decided by the investigators" with what the decision is and the companion's recommendation.

Every number is computed when the document is built, never typed into the text: it is
registered with its source (function and inputs, or the protocol's section and sentence;
:class:`trialnb.sap_document.Numbers`) and the prose holds a token in its place. The section
"Proposed protocol amendments" has one entry per finding of the sample-size audit
(:func:`trialnb.protocol_audit.protocol_audit`, verdicts other than "correct"/"assumption"),
per finding of the protocol text (:data:`trialnb.protocol.FINDINGS`), the blank interim
section and the unstated minimization parameters.

This is a draft for the trial statistician, not the investigators' plan: the decisions are
theirs.
"""

from __future__ import annotations

import math
import platform
from datetime import date, datetime, timezone
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Mapping

from . import __version__, evidence, monitoring
from .analysis import MIN_STRATUM_PATIENTS, REFERENCE_LEVELS
from .analysis.missing import DELTAS, N_IMPUTATIONS, PIECES
from .eligibility import CRITERIA
from .plan import OS_ANALYSIS, TrialPlan, plan_from_protocol
from .protocol import FACTORS, FINDINGS, PROTOCOL, Protocol
from .protocol_audit import power_at_effect_sizes, protocol_audit
from .report import fmt_n, fmt_num, fmt_pct, fmt_value
from .sample_size import event_probability, power, round_up, sample_size, schoenfeld_events, z_value
from .simulation import OC_N_TRIALS, OC_SEED, plan_operating_characteristics
from .sap_document import DECIDE, FILLED, SAP, Amendment, Item, Numbers, Section
from .survival import FH_MAXCOMBO

__all__ = ["REFERENCES", "build_sap", "write_sap"]

_SS = "Statistics > Sample size calculation"
_DA = "Data analysis"
_OUT = "Primary and secondary outcome measures"
_TRT = "Clinical Trial Description > Treatment options"
_SEL = "Patient selection criteria"
_RAND = "Randomization"

# Methods cited by the SAP (item 32).
REFERENCES: dict[str, str] = {
    "gamble": "Gamble C, Krishan A, Stocken D, et al. Guidelines for the content of statistical analysis plans "
              "in clinical trials. JAMA 2017;318(23):2337-2343",
    "ich_e9r1": "ICH E9(R1) addendum on estimands and sensitivity analysis in clinical trials, 2019",
    "schoenfeld": "Schoenfeld DA. Sample-size formula for the proportional-hazards regression model. "
                  "Biometrics 1983;39:499-503 (and Biometrika 1981;68:316-319)",
    "collett": "Collett D. Modelling Survival Data in Medical Research, 3rd ed. CRC 2015, section 10.2",
    "cox": "Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220",
    "efron": "Efron B. The efficiency of Cox's likelihood function for censored data. JASA 1977;72:557-565",
    "grambsch": "Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based on weighted "
                "residuals. Biometrika 1994;81:515-526",
    "pocock_simon": "Pocock SJ, Simon R. Sequential treatment assignment with balancing for prognostic factors. "
                    "Biometrics 1975;31:103-115",
    "kahan": "Kahan BC, Morris TP. Improper analysis of trials randomised using stratified blocks or "
             "minimisation. Stat Med 2012;31:328-340",
    "lan_demets": "Lan KKG, DeMets DL. Discrete sequential boundaries for clinical trials. Biometrika "
                  "1983;70:659-663",
    "jennison": "Jennison C, Turnbull BW. Group Sequential Methods with Applications to Clinical Trials. "
                "Chapman & Hall/CRC 2000",
    "fleming": "Fleming TR, Harrington DP. Counting Processes and Survival Analysis. Wiley 1991",
    "maxcombo": "Lin RS, Lin J, Roychoudhury S, et al. Alternative analysis methods for time to event endpoints "
                "under nonproportional hazards. Stat Biopharm Res 2020;12:187-198",
    "royston": "Royston P, Parmar MKB. Restricted mean survival time: an alternative to the hazard ratio. "
               "BMC Med Res Methodol 2013;13:152",
    "fda_covariates": "US Food and Drug Administration. Adjusting for covariates in randomized clinical trials for "
                      "drugs and biological products: guidance for industry. May 2023",
    "ye_jasa": "Ye T, Shao J, Yi Y, Zhao Q. Toward better practice of covariate adjustment in analyzing "
               "randomized clinical trials. J Am Stat Assoc 2023;118:2370-2382",
    "ye_logrank": "Ye T, Shao J, Yi Y. Covariate-adjusted log-rank test: guaranteed efficiency gain and universal "
                  "applicability. Biometrika 2024;111:691-705",
    "ozenne": "Ozenne B, Scheike TH, Staerk L, Gerds TA. On the estimation of average treatment effects with "
              "right-censored time to event outcome and competing risks. Biom J 2020;62:751-763",
    "gail": "Gail MH, Wieand S, Piantadosi S. Biased estimates of treatment effect in randomized experiments with "
            "nonlinear regressions and omitted covariates. Biometrika 1984;71:431-444",
    "rubin": "Rubin DB. Multiple Imputation for Nonresponse in Surveys. Wiley 1987",
    "carpenter": "Carpenter JR, Roger JH, Kenward MG. Analysis of longitudinal trials with protocol deviation: a "
                 "framework for relevant, accessible assumptions, and inference via multiple imputation. "
                 "J Biopharm Stat 2013;23:1352-1371",
    "consort": "Schulz KF, Altman DG, Moher D. CONSORT 2010 statement. BMJ 2010;340:c332",
    "metafor": "Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw 2010;36(3):1-48",
    "higgins": "Higgins JPT, Thompson SG, Spiegelhalter DJ. A re-evaluation of random-effects meta-analysis. "
               "J R Stat Soc A 2009;172:137-159",
    "ohagan": "O'Hagan A, Stevens JW, Campbell MJ. Assurance in clinical trial design. Pharm Stat 2005;4:187-201",
    "hung": "Hung HMJ, Wang SJ, O'Neill R. Statistical considerations for testing multiple endpoints in "
            "group sequential or adaptive clinical trials. J Biopharm Stat 2007;17:1201-1210",
    "glimm": "Glimm E, Maurer W, Bretz F. Hierarchical testing of multiple endpoints in group-sequential trials. "
             "Stat Med 2010;29:219-228",
    "aalen_johansen": "Aalen OO, Johansen S. An empirical transition matrix for non-homogeneous Markov chains "
                      "based on censored observations. Scand J Statist 1978;5:141-150",
    "gray": "Gray RJ. A class of K-sample tests for comparing the cumulative incidence of a competing risk. "
            "Ann Stat 1988;16:1141-1154",
    "fine_gray": "Fine JP, Gray RJ. A proportional hazards model for the subdistribution of a competing risk. "
                 "JASA 1999;94:496-509",
    "khan_e2108": "Khan SA, et al. Early local therapy for the primary site in de novo stage IV breast cancer: "
                  "results of a randomized clinical trial (EA2108). J Clin Oncol 2022;40:978-987",
    "angrist": "Angrist JD, Imbens GW, Rubin DB. Identification of causal effects using instrumental variables. "
               "JASA 1996;91:444-455",
    "robins_finkelstein": "Robins JM, Finkelstein DM. Correcting for noncompliance and dependent censoring in an "
                          "AIDS clinical trial with inverse probability of censoring weighted (IPCW) log-rank tests. "
                          "Biometrics 2000;56:779-788",
}

_SPENDING_WORDS = {"asOF": "O'Brien-Fleming-type", "asP": "Pocock-type", "asKD": "Kim-DeMets power-family",
                   "asHSD": "Hwang-Shih-DeCani"}
_SECONDARY_WORDS = {"milestone": "the difference in two-year survival", "rmst": "the difference in restricted mean "
                    "survival time to two years"}


_NOTEBOOKS: dict[str, str] = {"01": "01_rationale", "03": "03_randomization", "04": "04_analysis",
                             "05": "05_interim_monitoring", "07": "07_estimands", "08": "08_evidence"}
_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
_RECORD = "references/NCT04697043-protocol-record.txt"


def _src(fn: str, **kw: Any) -> str:
    """'trialnb.mod.fn(a=1, b=2)': the call that computed a number."""
    return f"{fn}({', '.join(f'{k}={v!r}' for k, v in kw.items())})"


def _add_months(iso: str, months: int) -> str:
    y, m, d = (int(x) for x in iso.split("-"))
    m0 = m - 1 + months
    return date(y + m0 // 12, m0 % 12 + 1, d).isoformat()


def build_sap(protocol: Protocol = PROTOCOL, plan: TrialPlan | None = None,
              generated: datetime | None = None, *, n_trials: int = OC_N_TRIALS, seed: int = OC_SEED) -> SAP:
    """The SAP draft as a :class:`~trialnb.sap_document.SAP` (render with ``to_html`` /
    ``to_markdown``). ``protocol`` (what the protocol says: quotes, the audit) and ``plan``
    (what is computed; default the plan built from ``protocol``, :func:`trialnb.plan.plan_from_protocol`,
    which for the trial's protocol is :data:`trialnb.plan.PLAN`) are inputs so that every number follows them;
    the plan's operating characteristics are simulated with ``n_trials`` trials from ``seed``
    (:func:`trialnb.simulation.plan_operating_characteristics`, the call notebook 05 makes with
    the same defaults, so the two quote the same numbers); ``generated`` fixes the time stamp."""
    N = Numbers()
    plan = plan_from_protocol(protocol) if plan is None else plan
    d, st = protocol.design, protocol.stated
    pd_, pa_, pm = plan.design, plan.analysis, plan.monitoring
    when = (generated or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")

    def P(name: str) -> str:
        """A protocol design parameter or stated result, with its section and words."""
        s = protocol.source(name)
        val = getattr(d, name) if hasattr(d, name) else getattr(st, name)
        text = (fmt_pct(val, 0) if name in ("alpha", "power", "loss_to_follow_up") else
                f"{val:g} months" if name.endswith("_months") else f"{val:g}")
        return N.add(f"p.{name}", val, text, f"protocol record, {s.section}: “{s.quote}”")

    def Q(key: str, section: str, words: str) -> str:
        return N.quote(key, section, words)

    cite = {k: N.cite(k, v) for k, v in REFERENCES.items()}
    NB = {k: N.label(f"nb{k}", f"notebook {k}", f"notebooks/{name}.ipynb") for k, name in _NOTEBOOKS.items()}
    record = N.label("record", _RECORD, "the protocol record kept in the repository")

    # ---------------------------------------------------------------- core numbers (the plan's calculation)
    ssz = sample_size(plan=plan)
    ev, ev_r = ssz.events, ssz.events_rounded
    src_ss = "trialnb.sample_size.sample_size(plan=plan)"
    events = N.add("events", ev_r, fmt_n(ev_r), f"{src_ss}.events_rounded")
    events_raw = N.add("events_unrounded", ev, fmt_num(ev, 2), f"{src_ss}.events")
    horizon = P("horizon_months")
    accrual = P("accrual_months")
    alpha = P("alpha")
    hr = P("hazard_ratio")
    loss = P("loss_to_follow_up")
    pow_ = P("power")
    s1 = pd_.control_survival
    s2 = s1 ** pd_.hazard_ratio
    pr = ssz.event_probability
    pr_t = N.add("pr_event", pr, fmt_num(pr, 4), f"{src_ss}.event_probability")
    s1_t = N.add("s1", s1, fmt_num(s1, 4), "plan.design.control_survival: exp(-λt) with the protocol's λt at two years")
    s2_t = N.add("s2", s2, fmt_num(s2, 4), f"plan.design.control_survival ** {pd_.hazard_ratio:g}")
    n_exact = ev_r / pr
    arm, arm_loss = ssz.n_control, ssz.n_control_after_loss
    n_exact_t = N.add("n_exact", n_exact, fmt_num(n_exact, 1), f"{ev_r} / {pr:.6f}: deaths (rounded up) / Pr(event)")
    arm_t = N.add("n_arm", arm, fmt_n(arm), f"{src_ss}.n_control")
    arm_loss_t = N.add("n_arm_loss", arm_loss, fmt_n(arm_loss), f"{src_ss}.n_control_after_loss")
    total_loss_t = N.add("n_total_loss", ssz.n_total_after_loss, fmt_n(ssz.n_total_after_loss),
                         f"{src_ss}.n_total_after_loss")
    arm_own = round_up(st.events / st.p_event / 2)
    arm_loss_own = round_up(arm_own / (1 - d.loss_to_follow_up))
    arm_own_t = N.add("n_arm_own", arm_own, fmt_n(arm_own),
                      f"ceil({st.events} / {st.p_event:g} / 2): the protocol's own rounded values")
    arm_loss_own_t = N.add("n_arm_loss_own", arm_loss_own, fmt_n(arm_loss_own),
                           f"ceil({arm_own} / (1 - {d.loss_to_follow_up:g}))")
    total_loss_own_t = N.add("n_total_loss_own", 2 * arm_loss_own, fmt_n(2 * arm_loss_own), f"2 × {arm_loss_own}")
    ci_level = 1 - pa_.alpha if pa_.sided == 2 else 1 - 2 * pa_.alpha
    ci_t = N.add("ci_level", ci_level, fmt_pct(ci_level, 0), "1 - plan.analysis.alpha (two-sided)")
    one_t = N.add("null_hr", 1.0, "1", "hazard ratio under no difference")
    n_planned = pd_.n_patients
    n_planned_t = N.add("n_planned", n_planned, fmt_n(n_planned),
                        f"plan.design.n_patients: the protocol's “{st.n_per_arm_after_loss} /group” × 2")
    rate = n_planned / pd_.accrual_months
    rate_t = N.add("accrual_rate", rate, fmt_num(rate, 1), f"{n_planned} patients / {pd_.accrual_months:g} months")
    end_month = pd_.accrual_months + pd_.horizon_months
    end_t = N.add("study_months", end_month, f"{end_month:g} months",
                  f"{pd_.accrual_months:g} months of accrual + {pd_.horizon_months:g} of follow-up")

    # ---------------------------------------------------------------- interim plan (plan.monitoring)
    rates = pm.information_rates
    des = monitoring.plan_design(plan)
    max_ev = monitoring.plan_max_events(plan)
    max_ev_t = N.add("max_events", max_ev, fmt_n(max_ev), "trialnb.monitoring.plan_max_events(plan)")
    infl_t = N.add("inflation", des.inflation_factor, fmt_num(des.inflation_factor, 4),
                   "trialnb.monitoring.plan_design(plan).inflation_factor")
    looks_t = N.add("looks", len(rates), fmt_n(len(rates)), "len(plan.monitoring.information_rates)")
    look_rows = []
    for j, t in enumerate(rates):
        e_j = round_up(t * max_ev)
        k = j + 1
        crit = float(des.critical_values[j])
        cells = (N.add(f"look{k}", k, fmt_n(k), "look number"),
                 N.add(f"look{k}.events", e_j, fmt_n(e_j), f"ceil({t:g} × {max_ev})"),
                 N.add(f"look{k}.rate", t, fmt_num(t, 2), "plan.monitoring.information_rates"),
                 N.add(f"look{k}.z", crit, fmt_num(crit, 3),
                       f"trialnb.monitoring.plan_design(plan).critical_values[{j}]"),
                 N.add(f"look{k}.p", float(des.stage_levels[j]), fmt_num(float(des.stage_levels[j]), 4),
                       f"trialnb.monitoring.plan_design(plan).stage_levels[{j}] (each side)"),
                 N.add(f"look{k}.alpha", float(des.alpha_spent[j]), fmt_num(float(des.alpha_spent[j]), 4),
                       f"trialnb.monitoring.plan_design(plan).alpha_spent[{j}] (both sides)"),
                 N.add(f"look{k}.hr", float(monitoring.bound_hazard_ratio(crit, e_j)),
                       fmt_num(float(monitoring.bound_hazard_ratio(crit, e_j)), 3),
                       f"trialnb.monitoring.bound_hazard_ratio({crit:.4f}, {e_j})"),
                 (N.add(f"look{k}.futility", pm.futility_z, fmt_num(pm.futility_z, 2),
                        "plan.monitoring.futility_z (non-binding)")
                  if pm.futility_z is not None and j < len(rates) - 1 else "—"))
        look_rows.append(cells)
    if pm.secondary is not None:  # the key secondary's own boundaries at the same looks
        sdes = monitoring.plan_secondary_design(plan)
        sec_z = [N.add(f"secondary.look{j + 1}.z", float(c), fmt_num(float(c), 3),
                       f"trialnb.monitoring.plan_secondary_design(plan).critical_values[{j}]")
                 for j, c in enumerate(sdes.critical_values)]
        sec_words = _SECONDARY_WORDS[pm.secondary]
        sec_text = (f"The key secondary hypothesis, {sec_words} (plan.monitoring.secondary), is tested only if the "
                    f"primary test rejects, at the look where it rejects, against its own boundary: Lan-DeMets "
                    f"{_SPENDING_WORDS.get(pm.secondary_spending, pm.secondary_spending)} spending of the same "
                    f"{alpha} at the same looks (benefit z " + ", then ".join(sec_z)
                    + ", the final one recalculated from the deaths observed; "
                    "trialnb.monitoring.plan_secondary_design). Testing it at the full alpha after a group-sequential "
                    f"primary, in a fixed sequence at whichever look the primary rejects, does not control the "
                    f"family-wise error ({cite['hung']}; {cite['glimm']}); its own spending boundary does, whatever "
                    f"the correlation of the two tests (simulated in {NB['07']}). ")
    else:
        sec_text = "No secondary hypothesis is confirmatory (plan.monitoring.secondary is None). "
    first_events = look_rows[0][1]
    final_z = look_rows[-1][3]
    final_p = look_rows[-1][4]
    fixed_z = z_value(pa_.alpha, pa_.sided)
    fixed_z_t = N.add("fixed_z", fixed_z, fmt_num(fixed_z, 3), _src("trialnb.sample_size.z_value", alpha=pa_.alpha,
                                                                     sided=pa_.sided))
    harm_z = pm.harm_z if pm.harm_z is not None else math.nan
    harm_t = N.add("harm_z", harm_z, fmt_num(harm_z, 3), "plan.monitoring.harm_z")
    from scipy.stats import norm
    harm_p_t = N.add("harm_p", float(norm.cdf(harm_z)), fmt_num(float(norm.cdf(harm_z)), 3),
                     "Φ(harm_z): one-sided p that surgery is worse")
    fut = pm.futility_z if pm.futility_z is not None else math.nan
    fut_t = N.add("futility_z", fut, fmt_num(fut, 0), "plan.monitoring.futility_z")
    periop = pm.perioperative_months
    periop_t = N.add("periop", periop, f"{periop:g} month (30 days)" if periop == 1 else f"{periop:g} months",
                     "plan.monitoring.perioperative_months")
    review_t = N.add("review_every", pm.safety_review_every_months, f"{pm.safety_review_every_months:g} months",
                     "plan.monitoring.safety_review_every_months")
    plan_alpha_t = N.add("plan_alpha", pa_.alpha, fmt_num(pa_.alpha, 3), "plan.analysis.alpha")
    stat_t = N.label("statistic", pa_.statistic_label(), "plan.analysis.statistic_label()")
    censor_t = N.label("censor", "all follow-up" if pa_.censor_months is None else f"{pa_.censor_months:g} months",
                       "plan.analysis.censor_months")
    side_t = N.label("sided", "two-sided" if pa_.sided == 2 else "one-sided (benefit)", "plan.analysis.sided")
    # the plan as written, simulated: the plan's statistic at every look, the calendar-driven final
    ocs = plan_operating_characteristics(plan, n_trials, seed)
    oc_src = f"trialnb.simulation.plan_operating_characteristics(plan, {n_trials}, seed={seed}).{{s}}"
    oc = {}
    for tag, res, name in (("h1", ocs.benefit, "benefit"), ("h0", ocs.null, "null"),
                         ("h0i", ocs.null_ignoring, "null_ignoring")):
        src = oc_src.format(s=name)
        oc[tag] = SimpleNamespace(
            power=N.add(f"oc.{tag}.power", res.power, fmt_pct(res.power, 1), f"{src}.power"),
            power_se=N.add(f"oc.{tag}.power_se", res.power_se, fmt_pct(res.power_se, 1), f"{src}.power_se"),
            harm=N.add(f"oc.{tag}.harm", res.harm_rejection, fmt_pct(res.harm_rejection, 1), f"{src}.harm_rejection"),
            stop1=N.add(f"oc.{tag}.stop1", float(res.rejection_by_stage[0]),
                        fmt_pct(float(res.rejection_by_stage[0]), 1),
                        f"{src}.rejection_by_stage[0]"),
            fut1=N.add(f"oc.{tag}.fut1", float(res.futility_by_stage[0]), fmt_pct(float(res.futility_by_stage[0]), 1),
                       f"{src}.futility_by_stage[0]"),
            deaths=N.add(f"oc.{tag}.deaths", res.expected_events, fmt_num(res.expected_events, 1),
                         f"{src}.expected_events"),
            months=N.add(f"oc.{tag}.months", res.expected_months, fmt_num(res.expected_months, 1),
                         f"{src}.expected_months"),
            look1=N.add(f"oc.{tag}.look1", float(res.analysis_months[0]), fmt_num(float(res.analysis_months[0]), 1),
                        f"{src}.analysis_months[0]"))
    oc_n = N.add("oc.n", n_trials, fmt_n(n_trials), "n_trials of build_sap")

    # ---------------------------------------------------------------- evidence
    pw = power_at_effect_sizes(ev_r, alpha=pa_.alpha, sided=pa_.sided, target_power=pd_.power)
    ev_rows = []
    for row in pw.to_dict("records"):
        key = row["study"]
        slug = "".join(ch for ch in key.lower() if ch.isalnum())[:24]
        ev_rows.append((N.label(f"study.{slug}", key, "trialnb.protocol_audit.RCT_EFFECT_SIZES"),
                        N.label(f"kind.{slug}", row["kind"], "trialnb.protocol_audit.RCT_EFFECT_SIZES"),
                        N.add(f"hr.{slug}", row["hazard_ratio"], fmt_num(row["hazard_ratio"], 2),
                              f"trialnb.evidence via RCT_EFFECT_SIZES ({row['source']})"),
                        N.add(f"power.{slug}", row["power"], fmt_pct(row["power"], 0),
                              _src("trialnb.sample_size.power", events=ev_r, hazard_ratio=row["hazard_ratio"],
                                   alpha=d.alpha, sided=d.sided)),
                        N.add(f"need.{slug}", row["events_needed"],
                              fmt_n(row["events_needed"]) if math.isfinite(row["events_needed"]) else "—",
                              _src("ceil(trialnb.sample_size.schoenfeld_events", hazard_ratio=row["hazard_ratio"],
                                   alpha=d.alpha, power=d.power, sided=d.sided) + ")")))
    meta = evidence.study("villacampa2024")
    meta_name = N.label("meta_name", meta.study, "trialnb.evidence.study('villacampa2024').study")
    meta_hr = N.add("meta_hr", meta.hazard_ratio, fmt_num(meta.hazard_ratio, 2),
                    f"trialnb.evidence.study('villacampa2024'): {meta.citation}")
    meta_ci = N.add("meta_ci", (meta.ci_lower, meta.ci_upper),
                    f"{fmt_num(meta.ci_lower, 2)} to {fmt_num(meta.ci_upper, 2)}",
                    f"trialnb.evidence.study('villacampa2024'): {meta.citation}")
    meta_pow = power(ev_r, meta.hazard_ratio, d.alpha, 1.0, d.sided)
    meta_pow_t = N.add("meta_power", meta_pow, fmt_pct(meta_pow, 0),
                       _src("trialnb.sample_size.power", events=ev_r, hazard_ratio=meta.hazard_ratio, alpha=d.alpha,
                            sided=d.sided))
    meta_need = round_up(schoenfeld_events(meta.hazard_ratio, pa_.alpha, pd_.power, 1.0, pa_.sided))
    meta_need_t = N.add("meta_events", meta_need, fmt_n(meta_need),
                        _src("ceil(trialnb.sample_size.schoenfeld_events", hazard_ratio=meta.hazard_ratio,
                             alpha=d.alpha, power=d.power, sided=d.sided) + ")")
    meta_pts = round_up(meta_need / event_probability(meta.hazard_ratio, pd_.control_hazard, 0.0,
                                                       pd_.horizon_months, 1.0))
    meta_pts_t = N.add("meta_patients", meta_pts, fmt_n(meta_pts),
                       f"ceil({meta_need} / " + _src("trialnb.sample_size.event_probability",
                                                     hazard_ratio=meta.hazard_ratio,
                                                     control_hazard=round(pd_.control_hazard, 6), accrual_time=0.0,
                                                     follow_up_time=d.horizon_months) + ")")
    khan = evidence.REGISTRY_FIGURE
    khan_n = ("an unreported number of" if khan.n is None
              else N.add('khan_n', khan.n, fmt_n(khan.n), 'trialnb.evidence.REGISTRY_FIGURE.n'))
    att = {a.trial: N.add(f"attrition.{a.trial.lower()}", a.not_randomized, fmt_pct(a.not_randomized, 0),
                          f"trialnb.evidence.ATTRITION: {a.randomized} of {a.registered} randomized ({a.citation})")
           for a in evidence.ATTRITION}

    attrition = " and ".join(f"{tok} ({N.label(f'trial.{name.lower()}', name, 'trialnb.evidence.ATTRITION')})"
                             for name, tok in att.items())

    # ---------------------------------------------------------------- randomization
    ps_p = N.add("ps_p", pd_.minimization_p, fmt_num(pd_.minimization_p, 1), "plan.design.minimization_p")
    n_strata = N.add("n_strata", protocol.n_strata, fmt_n(protocol.n_strata), "trialnb.protocol.PROTOCOL.n_strata")
    n_fac = len(protocol.factors)
    n_factors = N.add("n_factors", n_fac, _WORDS.get(n_fac, fmt_n(n_fac)), "len(PROTOCOL.factors)")
    n_sec = sum(e.kind == "secondary" for e in protocol.endpoints)
    n_secondary = N.add("n_secondary", n_sec, _WORDS.get(n_sec, fmt_n(n_sec)),
                        "number of secondary endpoints in PROTOCOL.endpoints")

    fh = {w: N.add(f"fh{int(w[0])}{int(w[1])}", w, f"FH({w[0]:g},{w[1]:g})", "trialnb.survival.FH_MAXCOMBO")
          for w in FH_MAXCOMBO}

    # ================================================================ section 1
    s1_items = (
        Item("Title and trial registration", ("1a", "1b"), FILLED, paragraphs=(
            f"Statistical analysis plan (draft) for the randomized trial “{protocol.title}”, registered as "
            f"{N.add('nct', protocol.nct_id, protocol.nct_id, 'trialnb.protocol.PROTOCOL.nct_id')} at "
            "ClinicalTrials.gov. The registry record gives no acronym.",)),
        Item("SAP version", ("2",), DECIDE, paragraphs=(
            f"This draft was generated on {N.add('generated', when, when, 'clock of the machine that built the SAP')} "
            f"by trialnb {N.add('version', __version__, __version__, 'trialnb.__version__')}. It has no version "
            "number: a generated draft is not a version.",),
            decision="Give the SAP a version number and a date when the trial statistician adopts it.",
            recommendation="Number and date the first signed version and keep this generated draft with it as the "
                           "record of where each number came from (the appendix on sources)."),
        Item("Protocol version", ("3",), DECIDE, paragraphs=(
            "The draft refers to the registry record of the protocol kept in the companion "
            f"({record}): "
            f"{Q('status', 'Record fields', 'Status Recruiting')}, "
            f"{Q('start', 'Record fields', 'Start date November 20, 2020')}, "
            f"{Q('completion', 'Record fields', 'Completion date December 20, 2021')}. The record carries no protocol "
            "version number or date.",),
            decision="Name the protocol version (number and date) this SAP refers to.",
            recommendation="Refer to the amended protocol that takes up the proposed amendments at the end of this "
                           "document; until then, to the registry record above."),
        Item("SAP revisions", ("4a", "4b", "4c"), DECIDE, paragraphs=(
            "None yet: this is the first draft.",),
            decision="Keep a revision history: each revision with its date, its reason, and whether it was made "
                     "before or after any interim analysis.",
            recommendation=f"Sign the SAP before the interim look (at {first_events} deaths, section on interim "
                           "analyses); any later revision is justified in writing and made by people without access "
                           "to comparative interim results."),
        Item("Roles and responsibility", ("5",), DECIDE, paragraphs=(
            f"The sponsor is {protocol.sponsor} (record field “Source”). The protocol names no statistician and no "
            "data monitoring committee (DMC).",),
            decision="Names, affiliations and roles of the people who write, review and apply this SAP.",
            recommendation="A trial statistician writes and owns the SAP; an independent statistician prepares the "
                           "interim reports for the DMC (trialnb monitor produces one from a trial file); only the DMC "
                           "and that statistician see results by arm before the final analysis; the chief investigator "
                           "approves."),
        Item("Signatures", ("6a", "6b", "6c"), DECIDE,
             table=(("Role", "Name", "Signature", "Date"),
                    (("Person writing the SAP", "", "", ""), ("Senior statistician responsible", "", "", ""),
                     ("Chief investigator", "", "", ""))),
             decision="Signatures of the SAP's author, the senior statistician and the chief investigator.",
             recommendation="Sign before the interim look and before any comparative data are seen."),
    )

    # ================================================================ section 2
    rct_rows = tuple(r for r in ev_rows)
    rand_words = ("Centralized randomization will take place immediately after the diagnosis of primary distant "
                  "metastatic breast cancer, using computer-generated randomization.")
    arm_a_words = "systemic therapy followed by surgery if the disease is not progressive"
    arm_b_words = "In the case of local progression, breast surgery is allowed at any time to gain local control."
    itt_words = "Data will be presented for the complete intent-to-treat population."
    primary_words = ("The primary endpoint is the two-year survival. This is defined as the percentage of patients "
                     "who survive two years after randomization.")
    py_version = platform.python_version()

    def version_of(pkg: str) -> str:
        """Where the version of ``pkg`` printed in the software item comes from."""
        return f"importlib.metadata.version({pkg!r})"

    cox_words = ("The primary endpoint will be analyzed in a Cox regression model, with the minimization factors "
                 "as covariables.")
    khan_words = "surgery reduced the HR for death to 0.61 (95% CI = 0.58 to 0.65)"
    selection_words = ("it is uncertain whether these studies reflect a real benefit for surgery or consistent "
                       "selection bias")
    secondary_words = ("Secondary endpoints are quality of life, overall survival, number of unplanned local "
                       "therapies, i.e. surgery or radiotherapy, number of axillary lymph node dissections or axillary "
                       "radiotherapy, determination of pathological resection margin (margin status) in patients "
                       "treated by surgery of the primary tumor")
    s2_items: tuple[Item, ...] = (
        Item("Background and rationale", ("7",), FILLED, paragraphs=(
            "Retrospective studies found longer survival after surgery of the primary tumour in women whose breast "
            f"cancer is metastatic at diagnosis. The protocol quotes a registry analysis: "
            f"{Q('khan', 'Clinical Trial Summary', khan_words)}, "
            "for surgery to negative margins against no surgery ("
            f"{khan_n} "
            f"patients), and says itself that {Q('selection', 'Clinical Trial Summary', selection_words)}. "
            "Selection of fitter patients for surgery, immortal time, stage migration, co-treatment and coding "
            f"errors can each make surgery look better than it is ({NB['01']} simulates each, alone and together).",
            "Randomized trials have since reported. The table gives each published hazard ratio of death "
            f"(surgery against none), the power of the protocol's planned {events} deaths to detect it at two-sided "
            f"{alpha}, and the deaths that {pow_} power would need. The protocol designs for a hazard ratio of "
            f"{hr}; the most recent pooled estimate of the randomized trials, {meta_name}, is {meta_hr} ({meta_ci}).",
            "Research question: in women with breast cancer metastatic at diagnosis, does the offer of surgery of "
            "the primary tumour after systemic therapy (if the disease has not progressed) improve two-year survival "
            "compared with systemic therapy alone?"),
            table=(("Study", "Kind", "Hazard ratio", f"Power with {events} deaths", f"Deaths for {pow_} power"),
                   rct_rows)),
        Item("Objectives", ("8",), FILLED, paragraphs=(
            "Primary objective: to compare two-year survival between arm A (systemic therapy followed by surgery of "
            "the primary tumour if the disease is not progressive) and arm B (systemic therapy alone). "
            f"Null hypothesis: the hazard ratio of death (A against B) within {horizon} of randomization is {one_t}; "
            "alternative: it "
            f"differs from {one_t} (two-sided); the design assumes {hr}.",
            "Secondary objectives: to compare the secondary endpoints the protocol lists, "
            f"{Q('secondary', _OUT, secondary_words)}."),
        ),
    )

    s2_items += (_evidence_item(N, protocol, plan, cite, NB["08"]),)

    # ================================================================ section 3
    arm_a, arm_b = protocol.arms
    from .review import AUDIT_SOURCES

    audit = protocol_audit(protocol)
    audit_rows = []

    def cell(i: int, r: Mapping[Any, Any], col: str) -> str:
        """Cell ``col`` of row ``i`` (``r``) of the protocol audit, with where its value comes from."""
        v = r[col]
        if isinstance(v, float) and math.isnan(v):
            return "—"
        srcs = [protocol.source(n) for n in AUDIT_SOURCES.get(r["quantity"], ())]
        if col == "protocol" and srcs:
            where = "; ".join(f"protocol record, {x.section}: “{x.quote}”" for x in srcs)
        else:
            where = f"trialnb.protocol_audit.protocol_audit(), row “{r['quantity']}”, column {col}"
        return N.add(f"audit{i}.{col}", v, fmt_value(float(v), 2 if col == "protocol" else 4), where)

    for i, row in enumerate(audit.to_dict("records")):
        audit_rows.append((N.label(f"audit{i}", row["quantity"], f"trialnb.protocol_audit.protocol_audit() row {i}"),
                           cell(i, row, "protocol"), cell(i, row, "recomputed"), cell(i, row, "exact"),
                           N.label(f"verdict{i}", row["verdict"], f"trialnb.protocol_audit.protocol_audit() row {i}")))
    s3_items = (
        Item("Trial design", ("9",), FILLED, paragraphs=(
            "A randomized, two-arm, parallel-group superiority trial at a single centre "
            f"({Q('centre', 'Settings and location', 'imam Khomeini hospital')}), with equal allocation "
            f"({Q('equal', f'{_SS} > Step 1', 'π1=π2= 1/2: Equal allocation')}).",),
            bullets=(f"Arm {arm_a.code}, {arm_a.label}: {arm_a.description}",
                     f"Arm {arm_b.code}, {arm_b.label}: {arm_b.description}")),
        Item("Randomization", ("10",), DECIDE, paragraphs=(
            f"The protocol: {Q('rand', _RAND, rand_words)} "
            f"Its analysis section calls the recorded factors {Q('minfactors', _DA, 'the minimization factors')}: "
            f"{n_factors} factors, {n_strata} combinations of levels.",),
            table=(("Factor", "Levels"), tuple((f.label, "; ".join(f.level_labels[lv] for lv in f.levels))
                                               for f in FACTORS)),
            decision="The minimization procedure itself, which the protocol does not state: the probability p of "
                     "allocating to the arm that reduces imbalance, the imbalance measure, the factor weights, the "
                     "rule for ties, any purely random element, and who holds and logs the allocations.",
            recommendation=f"Pocock-Simon minimization ({cite['pocock_simon']}) on the {n_factors} factors with "
                           f"p = {ps_p}, "
                           "the range as imbalance measure, equal weights and ties broken by a fair coin (the "
                           f"defaults of trialnb.randomization.PocockSimon, compared with other procedures in "
                           f"{NB['03']}); allocations written to an append-only, keyed (HMAC) log whose key is held "
                           "by the trial statistician, not by recruiting clinicians; the parameters kept out of "
                           "documents that recruiting clinicians read, so that the next allocation cannot be guessed."),
        Item("Sample size", ("11",), FILLED, paragraphs=(
            f"The protocol's calculation, recomputed step by step ({cite['schoenfeld']}; {cite['collett']}): "
            f"{events_raw} deaths, rounded up to {events}, give {pow_} power to detect a hazard ratio of {hr} at "
            f"two-sided {alpha}. With exponential survival and two years of follow-up each, the control arm's "
            f"two-year survival is {s1_t} and arm A's {s2_t}; the probability of death within two years, averaged "
            f"over the arms, is {pr_t}; {events} / {pr_t} = {n_exact_t} patients, {arm_t} per arm, and {arm_loss_t} "
            f"per arm ({total_loss_t} in total) after dividing by one minus the {loss} loss to follow-up. The "
            f"protocol states {n_planned_t} in total: the table shows where it rounds down.",
            f"With the proposed interim analysis (below) the maximum number of deaths is {max_ev_t} (inflation "
            f"factor {infl_t}).",
            f"The design hazard ratio {hr} is an assumption the randomized evidence does not support: at the pooled "
            f"randomized estimate {meta_hr} the planned {events} deaths have {meta_pow_t} power, and "
            f"{meta_need_t} deaths (about {meta_pts_t} patients followed two years) would be needed for {pow_}."),
            table=(("Quantity", "Protocol", "Recomputed from its own values", "Exact chain", "Verdict"),
                   tuple(audit_rows))),
        Item("Framework", ("12",), FILLED, paragraphs=(
            f"Superiority, two-sided at {alpha}, as the protocol's z at half of alpha: the trial can conclude that the "
            f"offer of surgery lowers the hazard of death (hazard ratio below {one_t}) or that it raises it. Two-sided "
            "is not the same as one-sided at half the level: it also rejects for harm. The interim monitoring is "
            "therefore two-sided too (next heading): the efficacy boundary for benefit and its mirror image, a formal "
            "harm boundary, with a harm guideline inside it for the DMC.",)),
        Item("Interim analyses and stopping guidance", ("13a", "13b", "13c"), DECIDE, paragraphs=(
            f"The protocol's section reads, in full, {Q('interim', _DA, 'Interim analysis ;')} The plan proposed by "
            f"the companion ({NB['05']}; trialnb.plan.PLAN.monitoring): {looks_t} analyses of the primary analysis "
            f"itself ({stat_t}, deaths within {censor_t}), the interim when {look_rows[0][1]} deaths "
            f"within {horizon} have occurred, {look_rows[0][2]} of the planned maximum {max_ev_t}; Lan-DeMets "
            f"O'Brien-Fleming alpha spending ({cite['lan_demets']}) at two-sided {plan_alpha_t} with symmetric "
            f"boundaries, so the final test is at nominal {final_p} on each side (z {final_z}) instead of the fixed "
            f"design's z {fixed_z_t}; a non-binding futility guideline (benefit z at or below {fut_t}, the observed "
            f"hazard ratio at or above {one_t}); and a harm guideline for surgery: the DMC reviews stopping when the "
            f"benefit z is at or below {harm_t} (one-sided p {harm_p_t} that surgery is worse). Safety comes before "
            f"the efficacy look: every {review_t} from the first randomization the DMC reviews the operations and the "
            f"deaths within {periop_t} of surgery in both arms.",
            "Information is counted in deaths within the primary endpoint's horizon, the deaths the primary analysis "
            "uses. The boundary of a look is recalculated from the deaths it actually has (alpha spending on the "
            "observed information fraction, the alpha spent at the interim kept at the final look; "
            "trialnb.monitoring.analyse with max_information, equal to rpact). A data cut keeps only what was known at "
            "its date (trialnb.analysis.cut_at).",
            f"The plan as written, simulated ({oc_n} trials each; trialnb.simulation.plan_operating_characteristics, "
            f"the call {NB['05']} makes): if the "
            f"hazard ratio is {hr}, power {oc['h1'].power} (Monte-Carlo SE {oc['h1'].power_se}), {oc['h1'].stop1} "
            f"of trials stop for benefit at the interim, which comes at month {oc['h1'].look1} on average; expected "
            f"deaths within {horizon} at the last analysis {oc['h1'].deaths}, expected duration {oc['h1'].months} "
            f"months. With no effect: the trial rejects for benefit in {oc['h0'].power} and for harm in "
            f"{oc['h0'].harm} of trials, the futility guideline stops {oc['h0'].fut1} at the interim, expected deaths "
            f"{oc['h0'].deaths} and duration {oc['h0'].months} months. The same trials with the guidelines ignored "
            f"(the type-I error the two-sided boundaries control): rejected for benefit in {oc['h0i'].power} and for "
            f"harm in {oc['h0i'].harm}."),
            table=(("Look", "Deaths within the horizon", "Information fraction", "Efficacy bound (benefit z)",
                    "Nominal p (each side)", "Cumulative alpha (both sides)", "Hazard ratio at the bound",
                    "Futility (benefit z)"), tuple(look_rows)),
            decision="The interim plan the protocol leaves blank: number and timing of looks, the alpha-spending "
                     "function, futility and harm guidance, the safety reviews, who sits on the DMC, and whether the "
                     "futility guideline binds.",
            recommendation="The plan above: one interim look at half of the deaths within two years, Lan-DeMets "
                           "O'Brien-Fleming two-sided boundaries, non-binding futility, a harm guideline, scheduled "
                           "perioperative safety reviews in both arms, an independent DMC."),
        Item("Timing of final analysis", ("14",), DECIDE, paragraphs=(
            f"The protocol plans {accrual} of accrual and {horizon} of follow-up: the last patient completes "
            f"follow-up {end_t} after the first randomization.",),
            decision=f"Whether the final analysis is calendar-driven (when every patient has been followed for "
                     f"{horizon}) or event-driven (at {max_ev_t} deaths within {horizon}).",
            recommendation=f"Calendar-driven (the plan's final_analysis): when every patient has been followed for "
                           f"{horizon} after randomization, has died or has been lost, because the primary analysis "
                           f"censors at {horizon}: no later death counts for it, and the endpoint of every patient is "
                           f"then known. Its boundary is recalculated from the deaths observed then (information "
                           f"fraction deaths / {max_ev_t}; the simulated numbers above include this)."),
        Item("Timing of outcome assessments", ("15",), DECIDE, paragraphs=(
            "The protocol names no visit schedule or assessment window for vital status, quality of life or local "
            "therapies.",),
            decision="When vital status and the secondary outcomes are assessed, with windows.",
            recommendation=f"Vital status at fixed intervals and at {horizon} after randomization, the same in both "
                           "arms; the date of death recorded to the day, and for everyone the last date known "
                           "alive; quality of life at baseline and at fixed times after randomization (not after "
                           "surgery, which only arm A has)."),
    )

    # ================================================================ section 4
    s4_items = (
        Item("Level of significance", ("16",), FILLED, paragraphs=(
            f"Two-sided {alpha} ({Q('alpha', f'{_SS} > Step 1', 'α=0.05 zα/2= 1.96')}). With the interim plan, the "
            f"final analysis rejects when the benefit z reaches {final_z} or falls to minus that value (nominal "
            f"{final_p} on each side; the boundary recalculated from the deaths observed).",)),
        Item("Multiplicity", ("17",), DECIDE, paragraphs=(
            f"The protocol lists {n_secondary} secondary endpoints and asks for no adjustment; it names one primary "
            "analysis.",),
            decision="Which test is confirmatory, and how the type-I error is controlled across the primary, "
                     "secondary and sensitivity analyses.",
            recommendation=f"One confirmatory test, the primary Cox model, two-sided {alpha} (spent over the looks "
                           f"as above). {sec_text}Everything else (secondary "
                           "endpoints, weighted log-rank tests, subgroups) is reported with nominal p-values labelled "
                           f"“nominal, not confirmatory” ({NB['07']}, section on a multiplicity plan)."),
        Item("Confidence intervals", ("18",), FILLED, paragraphs=(
            f"{ci_t} confidence intervals: Wald intervals for Cox hazard ratios; Greenwood intervals for "
            "Kaplan-Meier survival (log-log scale) and for the difference in two-year survival; the RMST difference "
            "with the standard errors of R survfit's restricted mean (trialnb.survival.rmst). At an interim, repeated "
            "confidence intervals "
            f"({cite['jennison']}); after a group-sequential analysis, the final interval and p-value use the "
            "stage-wise ordering (trialnb.monitoring.analyse).",)),
        Item("Adherence and protocol deviations", ("19a", "19b", "19c", "19d"), DECIDE, paragraphs=(
            f"Adherence is defined by the arms: arm A {Q('arm_a', 'Clinical Trial Description', arm_a_words)}; "
            f"in arm B {Q('arm_b_surgery', _TRT, arm_b_words)} "
            f"In trials that randomized after induction therapy, {attrition} of registered patients were never "
            "randomized. Those losses happened before randomization, but they suggest how many patients of an arm "
            "randomized at diagnosis, like arm A here, may progress, die or decline before surgery and stay in "
            "arm A unoperated.",),
            decision="The definition of adherence and of protocol deviations, and which deviations are reported.",
            recommendation="Report by arm: surgery of the primary performed (arm A) with the reason when not "
                           "(progression, refusal, death before surgery, unfit), time from randomization to "
                           "surgery (median and interquartile range), margin status; surgery in arm B with its "
                           "indication (local progression or other). Deviations: ineligible patients randomized "
                           "(by criterion), allocation not followed, minimization factors recorded wrongly (the "
                           "analysis keeps the factors as recorded at randomization). None of these removes a "
                           "patient from the primary analysis."),
        Item("Analysis populations", ("20",), FILLED, paragraphs=(
            f"Intention to treat: {Q('itt', _DA, itt_words)} "
            "Every randomized patient is analysed in the allocated arm. Per-protocol and as-treated comparisons are "
            "descriptive only and labelled so: they compare groups that randomization did not make, and can show a "
            f"large benefit of surgery when there is none ({NB['04']}). Surgical harms are summarized in the "
            "patients operated, by arm.",)),
    )

    # ================================================================ section 5
    crit_rows = tuple((N.label(f"crit.{c.id.lower()}", c.id, "trialnb.eligibility.CRITERIA"), c.kind,
                       Q(f"crit_{c.id.lower()}", _SEL, c.text)) for c in CRITERIA)
    s5_items = (
        Item("Screening data", ("21",), DECIDE, paragraphs=(
            f"The protocol describes no screening log. It asks one centre to randomize {n_planned_t} patients in "
            f"{accrual}, {rate_t} a month (protocol finding on single-centre accrual).",),
            decision="Whether screening data are collected and reported.",
            recommendation="A screening log of every patient with metastatic breast cancer at diagnosis seen at the "
                           "centre: eligible or not (by criterion), approached, consented, randomized; reported in the "
                           "CONSORT diagram and used to judge accrual early."),
        Item("Eligibility", ("22",), FILLED, paragraphs=(
            "The protocol's criteria, in its words (trialnb.eligibility.CRITERIA screens a record against them):",),
            table=(("Criterion", "Kind", "Protocol text"), crit_rows)),
        Item("Recruitment", ("23",), FILLED, paragraphs=(
            f"CONSORT flow diagram ({cite['consort']}): assessed for eligibility, excluded (by criterion), "
            "randomized, allocated to each arm; in arm A operated and not operated (by reason); in arm B operated "
            "for local progression; lost to follow-up; analysed (intention to treat). "
            "trialnb.analysis.consort_counts computes these from a screening log and a trial file.",)),
        Item("Withdrawal and follow-up", ("24a", "24b", "24c"), FILLED, paragraphs=(
            f"The protocol assumes {Q('loss', f'{_SS} > Step 2', 'Considering a 10% loss of patients')}. Withdrawal "
            "from treatment (e.g. declining surgery) is not withdrawal from follow-up: such patients stay in the "
            "analysis. Patients lost to follow-up are censored at the last date known alive. Reported by arm: the "
            f"number lost before {horizon}, when (months after randomization), and the median follow-up by the "
            "reverse Kaplan-Meier method.",)),
        Item("Baseline characteristics", ("25a", "25b"), FILLED, paragraphs=(
            f"By arm and in total: the {n_factors} minimization factors, age, ECOG performance status, clinical T "
            "and N stage (trialnb.analysis.baseline_table). Categories as number and percentage; age as median and "
            "range, mean and standard deviation. No significance tests of baseline differences: under "
            "randomization any difference is chance.",)),
    )

    # ================================================================ section 6
    plan_rows = tuple((N.label(f"pa.{i}.item", it.name, "trialnb.plan.PLAN.analysis.items"),
                       N.label(f"pa.{i}.value", it.value, "trialnb.plan.PLAN.analysis.items"),
                       (Q(f"pa_{i}", it.source.section, it.source.quote) if it.source and it.source.quote
                        else "protocol silent"),
                       N.label(f"pa.{i}.decision", it.decision or "—", "trialnb.plan.PLAN.analysis.items"))
                      for i, it in enumerate(pa_.items))
    refs = "; ".join(["arm B" if REFERENCE_LEVELS["arm"] == "B" else f"arm {REFERENCE_LEVELS['arm']}"]
                     + [f"{f.label}: {f.level_labels[REFERENCE_LEVELS[f.name]]}" for f in FACTORS])
    min_stratum_t = N.add("min_stratum_patients", MIN_STRATUM_PATIENTS, fmt_n(MIN_STRATUM_PATIENTS),
                          "trialnb.analysis.MIN_STRATUM_PATIENTS "
                          "(the sparse-strata rule, trialnb.analysis.pool_strata)")
    tp_deltas_t = N.add("tp.deltas", DELTAS, ", ".join("∞" if math.isinf(x) else f"{x:g}" for x in DELTAS),
                        "trialnb.analysis.missing.DELTAS (each arm's grid)")
    tp_mar_t = N.add("tp.mar", 1.0, "1", "delta = 1: the hazard after loss is that of patients still followed (MAR)")
    tp_best_t = N.add("tp.best", 0.0, "0", "delta = 0: no lost patient dies before the horizon")
    tp_m_t = N.add("tp.imputations", N_IMPUTATIONS, fmt_n(N_IMPUTATIONS), "trialnb.analysis.missing.N_IMPUTATIONS")
    piece = pd_.horizon_months / PIECES if pa_.censor_months is None else pa_.censor_months / PIECES
    tp_piece_t = N.add("tp.piece", piece, f"{piece:g} months",
                       "plan.analysis.censor_months / trialnb.analysis.missing.PIECES")
    sens = (f"Difference in two-year survival, S_A − S_B at {horizon} (Kaplan-Meier, Greenwood standard error), and "
            "on the complementary log-log scale.",
            f"The same difference standardized over the minimization factors (the summary measure's adjusted "
            f"estimate, under Primary analysis), beside the unadjusted Kaplan-Meier one ({NB['04']}).",
            f"Difference in restricted mean survival time to {horizon} ({cite['royston']}).",
            f"Fleming-Harrington weighted log-rank tests {fh[(0.0, 1.0)]} (late differences) and {fh[(1.0, 0.0)]} "
            f"(early differences), stratified by the minimization factors with sparse strata pooled as below "
            f"({cite['fleming']}), and MaxCombo, the "
            f"largest of {fh[(0.0, 0.0)]}, {fh[(0.0, 1.0)]}, {fh[(1.0, 0.0)]} and {fh[(1.0, 1.0)]} with a p-value "
            f"that accounts for their correlation ({cite['maxcombo']}).",
            "The log-rank test stratified by the minimization factors, and a re-randomization test that repeats the "
            f"trial's own minimization ({cite['kahan']}). Sparse strata are pooled by a rule fixed before "
            f"unblinding that reads no outcome by arm: while a stratum holds fewer than {min_stratum_t} patients "
            "(both arms together), the two levels of one factor closest in prognosis, by the design's prognostic "
            "hazard ratios, are merged (a two-level factor merged is dropped from the strata); "
            "trialnb.analysis.pool_strata records the merges before the arms are revealed.",
            f"Overall survival: the primary model on all follow-up to the data cut-off "
            f"(trialnb.plan.OS_ANALYSIS, {OS_ANALYSIS.kind}; trialnb.analysis.overall_survival)." )
    s6_items = (
        Item("Outcome definitions", ("26a", "26b", "26d"), FILLED, paragraphs=(
            f"Primary: {Q('primary', _OUT, primary_words)} "
            "Analysed as the time from randomization to death from any cause, censored at "
            f"{horizon} after randomization (patients alive or followed beyond), or at the last date known alive "
            "when lost earlier. Overall survival: the same time without the censoring at two years.",)),
        Item("Secondary outcome measures", ("26c",), DECIDE, paragraphs=(
            "The protocol names quality of life without an instrument or time points, and the counts of unplanned "
            "local therapies and axillary treatments without a time frame.",
            f"Death ends every secondary endpoint but overall survival (where it is the event), so each names how "
            f"it handles death ({cite['ich_e9r1']}; {NB['04']}):"),
            bullets=(
                "Time to the first unplanned local therapy and time to locoregional progression: competing risk. "
                "Death before the event is a competing event; the Aalen-Johansen cumulative incidence of each arm "
                f"({cite['aalen_johansen']}) is compared by Gray's test ({cite['gray']}) and modelled by the "
                f"Fine-Gray subdistribution hazard ratio adjusted for the minimization factors ({cite['fine_gray']}; "
                "trialnb.analysis.competing_risks, equal to R cmprsk), as "
                f"{N.label('e2108', 'E2108', 'references/clinical_evidence.md, section 3')} reported locoregional "
                f"progression ({cite['khan_e2108']}). The complement of a Kaplan-Meier curve with deaths censored "
                "would estimate the incidence in a world without death, and is not used.",
                "Locoregional progression-free survival (progression or death, whichever comes first): a composite "
                "strategy, as a supplementary analysis of the same events.",
                "The numbers of unplanned local therapies and of axillary treatments: while alive. They are counted "
                "during each patient's follow-up and reported with the time alive and followed (per patient-year), "
                "because a patient who dies early has less time to receive them.",
                "Quality of life: while alive. Quality of life is truncated by death: a score exists only for a "
                "patient alive at the visit, so mean scores describe the survivors at each visit, not the "
                "randomized arms, and a difference between them can come from who survives. The deaths before each "
                "visit and the completion among the living are reported beside the scores.",
                "Margin status: defined only for operated patients; a description of those operated, not a "
                "randomized comparison.",
            ),
            decision="Instrument and time points for quality of life; time frames and definitions for the counted "
                     "outcomes; how missing quality-of-life questionnaires are handled.",
            recommendation=f"A validated breast-cancer instrument at fixed times after randomization, analysed by a "
                           "mixed model with the reasons for missing questionnaires reported (death is not missing "
                           f"at random); counts per patient within {horizon} of randomization, compared by arm."),
        Item("Primary analysis", ("27a", "27b"), FILLED, paragraphs=(
            f"{Q('cox', _DA, cox_words)} "
            f"The plan's statistic: {stat_t} ({cite['cox']}; {cite['efron']}), of the time to death censored at "
            f"{censor_t}, intention-to-treat population, at {side_t} {plan_alpha_t}. Reference levels: {refs}. The "
            f"effect is the hazard ratio of arm A against arm B with its {ci_t} interval and p-value, beside the "
            "Kaplan-Meier two-year survival of each arm and their difference. The model is defined once, in the "
            "plan (trialnb.plan.PLAN.analysis; trialnb.analysis.primary), and cross-checked against R "
            "survival::coxph (trialnb audit).",
            f"Summary measure and test ({cite['ich_e9r1']}): the estimand's population-level summary is the "
            f"difference in two-year survival, S_A − S_B at {horizon}, the protocol's “percentage of patients who "
            "survive two years”, a marginal quantity; the confirmatory test is the Wald test of the adjusted Cox "
            "model above, whose hazard ratio is conditional on the minimization factors. Hazard ratios are "
            f"non-collapsible ({cite['gail']}): the design's {hr} acts within the factor strata, and the hazard ratio "
            f"of the two arms as wholes is nearer {one_t} whenever the factors are prognostic ({NB['04']}). "
            "The summary measure is estimated with the same covariates by standardization "
            f"({cite['fda_covariates']}): the Cox model of the primary analysis predicts every randomized "
            f"patient's survival at {horizon} under each "
            "arm, and the predictions are averaged over the trial's patients (trialnb.analysis.standardized_milestone, "
            f"equal to R riskRegression::ate), with the influence-function variance ({cite['ozenne']}), valid under "
            f"minimization because the model includes every minimization factor ({cite['ye_jasa']}; "
            f"{cite['ye_logrank']}); with this trial's size its simulated type-I error is a few tenths of a point "
            f"above the nominal level ({NB['04']}), so it estimates and does not replace the confirmatory test. It is "
            f"reported with its {ci_t} interval beside the hazard ratio.",),
            table=(("Item", "Value", "Protocol text", "Decision where the protocol is silent"), plan_rows)),
        Item("Assumptions and alternatives", ("27c", "27d"), FILLED, paragraphs=(
            f"Proportional hazards are checked by the scaled Schoenfeld residual test ({cite['grambsch']}; "
            "trialnb.analysis.ph_tests, as R cox.zph) and by plotting the residuals against time. The primary test "
            "is not changed after seeing the data: if hazards are not proportional, the hazard ratio is reported "
            "as an average over follow-up, and the difference in two-year survival and the RMST difference "
            "(sensitivity analyses) carry the interpretation.",)),
        Item("Sensitivity analyses", ("27e",), FILLED, paragraphs=(
            "Pre-specified, all with follow-up censored like the primary analysis unless stated; descriptive support "
            f"for the one confirmatory test ({NB['04']}):",), bullets=sens),
        Item("Subgroup analyses", ("27f",), DECIDE, paragraphs=(
            "The protocol names no subgroups.",),
            decision="Which subgroups, if any, and how they are analysed.",
            recommendation=f"Only the levels of the {n_factors} minimization factors; the hazard ratio in each "
                           "with its interval and a test of interaction, shown in a forest plot and labelled "
                           f"exploratory: with {events} deaths in all, no subgroup has the power to show a "
                           "difference."),
        Item("Missing data", ("28",), FILLED, paragraphs=(
            "Survival times are censored, not missing: censoring is assumed unrelated to the risk of death, and the "
            "completeness of follow-up is compared between arms (reverse Kaplan-Meier). The minimization factors "
            "are needed to randomize, so they cannot be missing; a trial file with a missing or unknown value is "
            "refused with every problem listed (trialnb.data.load_trial), never imputed silently.",
            f"How far the assumption of non-informative censoring can fail is shown by a tipping-point analysis "
            f"({cite['ich_e9r1']}; {cite['carpenter']}): the death times of the patients lost before {horizon} are "
            f"imputed, {tp_m_t} times, from a piecewise-exponential model of their arm's hazard (pieces of "
            f"{tp_piece_t}, the minimization factors as covariates, fitted to the arm's patients), multiplied after "
            f"the loss by δ_A in arm A and δ_B in arm B over the grid {tp_deltas_t} for each (the MAR assumption at "
            f"{tp_mar_t}; {tp_best_t} the best case, no lost patient dying before {horizon}; ∞ the worst, every lost "
            "patient dying at her loss); the primary analysis and the "
            f"Kaplan-Meier and standardized differences are combined by Rubin's rules ({cite['rubin']}) and reported "
            "as the grid and the tipping points, the δ_A at which, for each δ_B, the conclusion changes "
            f"(trialnb.analysis.tipping_point; {NB['04']}).",)),
        Item("Estimand", ("29",), FILLED, paragraphs=(
            f"In the terms of {cite['ich_e9r1']} ({NB['07']}): treatment — the offer of surgery after systemic "
            "therapy (arm A) against systemic therapy alone (arm B); population — the eligible patients; variable — "
            f"death within {horizon} of randomization; intercurrent events — arm A not operated and arm B operated "
            "for local progression, both under the treatment-policy strategy (analysed as randomized); summary — "
            "the protocol's words name the difference in two-year survival, its analysis the Cox hazard ratio. The "
            "two are guaranteed to agree in direction only under proportional hazards; they can disagree when the "
            "survival curves cross; both are reported.",)),
        Item("Supplementary estimands", (), FILLED, paragraphs=(
            f"Two supplementary estimands answer questions about the operation itself ({NB['07']}). Each rests on "
            "assumptions that randomization does not guarantee, stated below; they support the primary estimand "
            "and never replace it.",),
            bullets=(
                "Principal stratum: the effect of surgery on two-year survival among the patients who would be "
                "operated if allocated to arm A. Estimator: the difference in two-year survival between the arms "
                "divided by the difference in the proportions operated (the instrumental variable, "
                f"{cite['angrist']}; trialnb.analysis.complier_average_effect), with a delta-method interval. "
                "Assumptions: the exclusion restriction (allocation changes survival only through the operation), "
                "monotonicity (no patient would be operated if allocated to arm B and not if allocated to arm A) "
                "and randomization. Arm-B operations for local progression are later operations of another kind, "
                "which weakens the exclusion restriction; the estimate is reported with that caveat.",
                "Hypothetical strategy for arm-B surgery: two-year survival and the hazard ratio had no arm-B "
                "patient been operated. Estimator: inverse probability of censoring weighting "
                f"({cite['robins_finkelstein']}; trialnb.analysis.hypothetical_no_surgery): arm-B patients are "
                "censored at their operation, and those still unoperated are weighted by the inverse of their "
                "probability of remaining unoperated given the minimization factors (a discrete logistic model, "
                "stabilized weights); the weighted Kaplan-Meier difference and the weighted Cox model with robust "
                "variances follow (equal to R survival). Assumptions: no unmeasured confounding of the operation "
                "given the factors, positivity and a correct weight model. The case report form records no "
                "time-varying prognostic measurement, and local progression itself prompts the operation, so the "
                "first assumption is strong; the naive analysis (censoring without weights) is shown beside it.",
                "Both estimators were checked by simulation where the truth is known: each recovered its target "
                "within Monte Carlo error, with intervals near their nominal coverage, while per-protocol, "
                f"as-treated and unweighted analyses did not ({NB['07']}; trialnb.simulation.simulate_complier_effect "
                "and simulate_hypothetical).",
            )),
        Item("Harms", ("30",), DECIDE, paragraphs=(
            f"The protocol mentions {Q('safety', _DA, 'efficacy and safety observations')} without defining them.",),
            decision="Which adverse events are collected, how they are graded, and how they are reported.",
            recommendation=f"Deaths within {periop_t} of surgery in both arms (arm B patients operated for local "
                           f"progression included), reviewed by the DMC every {review_t} and at each look (trialnb "
                           "monitor reports both arms), surgical complications graded by a standard classification, "
                           "and adverse events of systemic therapy; reported by arm and for operated patients."),
        Item("Statistical software", ("31",), FILLED, paragraphs=(
            f"Python {N.add('python', py_version, py_version, 'platform.python_version()')} "
            "with " + ", ".join(f"{pkg} {N.add(f'pkg.{pkg}', _version(pkg), _version(pkg), version_of(pkg))}"
                                for pkg in ("trialnb", "numpy", "scipy", "pandas", "lifelines")) + ". "
            "Results are cross-checked against R survival and rpact (trialnb audit; tests/reference).",)),
        Item("References", ("32",), FILLED, bullets=tuple(cite.values())),
    )

    sections = (
        Section(1, "Administrative information", s1_items),
        Section(2, "Introduction", s2_items),
        Section(3, "Study methods", s3_items),
        Section(4, "Statistical principles", s4_items),
        Section(5, "Trial population", s5_items),
        Section(6, "Analysis", s6_items),
    )
    shared = SimpleNamespace(NB=NB, arm_loss_own_t=arm_loss_own_t, arm_loss_t=arm_loss_t,
                             arm_own_t=arm_own_t, arm_t=arm_t, end_month=end_month, end_t=end_t,
                             events=events, final_p=final_p, first_events=first_events, fut_t=fut_t,
                             harm_t=harm_t, loss=loss, max_ev_t=max_ev_t, meta_hr=meta_hr,
                             meta_need_t=meta_need_t, n_exact_t=n_exact_t, plan_alpha_t=plan_alpha_t,
                             pow_=pow_, pr=pr, pr_t=pr_t, ps_p=ps_p, rate_t=rate_t, s1=s1, s1_t=s1_t,
                             total_loss_own_t=total_loss_own_t, total_loss_t=total_loss_t)
    amendments = _amendments(N, protocol, audit, shared)
    front = (
        "Draft for the trial statistician, generated by the trialnb protocol companion: not the investigators' "
        "plan. Headings marked “to be decided by the investigators” are decisions the protocol does not make; each "
        "says what is to be decided and what the companion recommends. Every number is computed when this "
        "document is generated; Appendix B, “Where every number comes from”, gives the function and inputs, or "
        "the protocol's section and sentence, behind each.",
        f"Structure: the guideline for the content of statistical analysis plans ({cite['gamble']}); the "
        "checklist in Appendix A shows where each item is addressed.",
    )
    return SAP(title=f"Statistical analysis plan (draft): {protocol.nct_id}",
               subtitle=protocol.title, front=front, sections=sections, amendments=amendments,
               numbers=N.all(), generated=when, generator=f"trialnb {__version__} (trialnb sap)")


def _evidence_item(N: Numbers, protocol: Protocol, plan: TrialPlan, cite: Mapping[str, str], nb: str) -> Item:
    """The heading "What the trial can show, given the randomized evidence": the randomized
    trials pooled (:func:`trialnb.evidence.pool_trials`), the probability of success of the
    protocol's design under their predictive distribution and what a trial would need
    (:mod:`trialnb.assurance`), the non-inferiority alternative and the non-operation bound."""
    from . import assurance as A

    d = protocol.design
    m = evidence.pool_trials()
    prior = A.predictive_prior(m)
    ev_ = sample_size(plan=plan).events_rounded
    fixed = A.assurance(events=ev_, prior=prior, alpha=plan.analysis.alpha, sided=plan.analysis.sided)
    seq = A.assurance(events=monitoring.plan_max_events(plan), prior=prior, design=monitoring.plan_benefit_design(plan))
    take = A.what_it_would_take(prior, power_target=d.power, alpha=d.alpha, sided=d.sided)
    harm = A.rule_out_harm()
    nonprog = evidence.figure("jcog1017_non_progression")
    sub = {k: evidence.pool_trials(randomized_at=k) for k in (evidence.AT_DIAGNOSIS, evidence.AFTER_INDUCTION)}
    src = "trialnb.evidence.pool_trials()"
    k = N.add("evidence.k", m.k, _WORDS.get(m.k, fmt_n(m.k)), f"{src}.k")
    hr = N.add("evidence.hr", m.hazard_ratio, fmt_num(m.hazard_ratio, 2), f"{src}.hazard_ratio (REML)")
    ci = N.add("evidence.ci", (m.ci_lower, m.ci_upper), f"95% CI {fmt_num(m.ci_lower, 2)} to {fmt_num(m.ci_upper, 2)}",
               f"{src}.ci_lower, .ci_upper")
    pi = N.add("evidence.pi", (m.pi_lower, m.pi_upper), f"{fmt_num(m.pi_lower, 2)} to {fmt_num(m.pi_upper, 2)} (95%)",
               f"{src}.pi_lower, .pi_upper (95% prediction interval)")
    tau2 = N.add("evidence.tau2", m.tau2, fmt_num(m.tau2, 3), f"{src}.tau2")
    at, after = (N.add(f"evidence.hr.{key.replace(' ', '_')}", r.hazard_ratio,
                       f"{fmt_num(r.hazard_ratio, 2)} ({fmt_num(r.ci_lower, 2)} to {fmt_num(r.ci_upper, 2)})",
                       f"trialnb.evidence.pool_trials(randomized_at={key!r})") for key, r in sub.items())
    events = N.add("evidence.events", ev_, fmt_n(ev_), "ceil(trialnb.sample_size.schoenfeld_events(protocol design))")
    pw = N.add("evidence.power", fixed.power_at_prior_mean, fmt_pct(fixed.power_at_prior_mean),
               "trialnb.assurance.assurance(events, prior=predictive_prior(pool_trials())).power_at_prior_mean")
    pos = N.add("evidence.pos", fixed.probability_of_success, fmt_pct(fixed.probability_of_success),
                "trialnb.assurance.assurance(events, prior=predictive_prior(pool_trials())).probability_of_success")
    pos_gs = N.add("evidence.pos_plan", seq.probability_of_success, fmt_pct(seq.probability_of_success),
                   "trialnb.assurance.assurance(events=plan_max_events(plan), prior=..., "
                   "design=plan_benefit_design(plan))")
    ceiling = N.add("evidence.ceiling", prior.probability_benefit, fmt_pct(prior.probability_benefit),
                    "trialnb.assurance.predictive_prior(pool_trials()).probability_benefit: P(true HR < 1)")
    target = N.add("evidence.target", d.power, fmt_pct(d.power, 0), "protocol design power")
    ev80 = N.add("evidence.events80", take.events_for_power, fmt_n(take.events_for_power),
                 "trialnb.assurance.what_it_would_take(prior).events_for_power")
    n80 = N.add("evidence.patients80", take.patients_for_power, fmt_n(take.patients_for_power),
                "trialnb.assurance.what_it_would_take(prior).patients_for_power")
    c80 = N.add("evidence.centres80", take.centres_for_power, fmt_n(take.centres_for_power),
                "trialnb.assurance.what_it_would_take(prior).centres_for_power (236 patients in 36 months each)")
    n_pl = N.add("evidence.n", harm.n_patients, fmt_n(harm.n_patients), "trialnb.assurance.rule_out_harm().n_patients")
    margin = N.add("evidence.margin", harm.margin, fmt_num(harm.margin, 2), "trialnb.assurance.rule_out_harm().margin")
    one_sided = N.add("evidence.alpha_one", harm.alpha, fmt_num(harm.alpha, 3), "rule_out_harm().alpha (one-sided)")
    np_t = N.add("evidence.non_progression", nonprog.value, fmt_pct(nonprog.value),
                 f"trialnb.evidence.figure('jcog1017_non_progression'): {nonprog.citation}")
    jcog = N.label("evidence.jcog", "JCOG1017", "trialnb.evidence.study('jcog1017')")
    bound = N.add("evidence.not_operated", 1 - nonprog.value, fmt_pct(1 - nonprog.value),
                  "1 - trialnb.evidence.figure('jcog1017_non_progression').value")
    return Item("What the trial can show, given the randomized evidence", (), FILLED, paragraphs=(
        f"The {k} randomized trials of surgery of the primary tumour, pooled by random-effects meta-analysis (REML, "
        f"equal to R metafor: {cite['metafor']}), give a hazard ratio of death of {hr} ({ci}) with between-trial "
        f"variance {tau2}; the prediction interval for a new trial's hazard ratio is {pi} ({cite['higgins']}). The "
        f"trials randomizing at diagnosis pool to {at}, those randomizing after induction therapy to {after} ({nb}).",
        f"With the protocol's {events} deaths the power to show a benefit at the pooled hazard ratio is {pw}. "
        f"Averaged over the predictive distribution of a new trial, the probability of success ({cite['ohagan']}) "
        f"is {pos} for the fixed design and {pos_gs} with the proposed interim plan; no number of deaths lifts it "
        f"above {ceiling}, the probability under that distribution that surgery helps at all. {target} power at "
        f"the pooled hazard ratio would need {ev80} deaths, {n80} patients and {c80} centres randomizing at the "
        "protocol's own rate.",
        f"A question the planned {n_pl} patients can answer: whether surgery is much worse. If it has no effect, "
        f"they exclude a hazard ratio of {margin} or more with {target} power (one-sided {one_sided}). In {jcog} "
        f"{np_t} of patients had not progressed after three months of systemic therapy, so at least {bound} of a "
        "randomize-at-diagnosis arm A may never reach surgery; the simulations of the companion assume a little "
        "more.",))


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def _amendments(N: Numbers, protocol: Protocol, audit: Any, c: SimpleNamespace) -> tuple[Amendment, ...]:
    """One amendment per audit finding, per :data:`FINDINGS` entry, for the blank interim section
    and the unstated minimization parameters. ``c`` holds the tokens and values of :func:`build_sap`
    that the amendments print, so that an amendment prints the same number as the SAP body."""
    from .review import AUDIT_SOURCES, is_finding

    d = protocol.design
    out: list[Amendment] = []
    lt = d.control_cumulative_hazard
    lt_t = N.add('lt', lt, f'{lt:g}', 'protocol λt at two years')
    death_ctl = N.add('death_ctl', 1 - c.s1, fmt_pct(1 - c.s1, 1), '1 - exp(-λt)')
    death_avg = N.add('death_avg', c.pr, fmt_pct(c.pr, 1), 'trialnb.sample_size.event_probability (protocol design)')
    completion = _add_months(protocol.start_date, int(c.end_month))
    completion_t = N.add('completion_needed', completion, completion, 'start date + accrual + follow-up months')
    proposed = {
        "S(t) = exp{0.5}, as printed": f"S(t) = exp{{−λt}} = exp{{−{lt_t}}} = {c.s1_t}",
        "40% die within 2 years": f"“{death_ctl} of patients in the control "
                                  f"arm are expected to die within two years; averaged over both arms, {death_avg}.”",
        "N": f"N = {c.events} / {c.pr_t} = {c.n_exact_t}, rounded up to two equal arms of {c.arm_t} (Pr(event) at "
             "full precision; rounding always up).",
        "N per arm": f"“Total number n = {c.arm_t} each group” (half of N, rounded up; from the protocol's own rounded "
                     f"Pr(event) the figure would be {c.arm_own_t}).",
        "N per arm after loss": f"“Considering a {c.loss} loss of patients, we should enter {c.arm_loss_t} patients "
                                f"in each group” ({c.arm_loss_own_t} from the protocol's rounded values).",
        "N after loss (2 x per arm)": f"“{c.total_loss_t} patients in total” ({c.total_loss_own_t} from the protocol's "
                                      "rounded values).",
    }
    for i, r in enumerate(audit.to_dict("records")):
        if not is_finding(r["verdict"]):
            continue
        q = r["quantity"]
        srcs = [protocol.source(n) for n in AUDIT_SOURCES.get(q, ())]
        ptext = " ".join(N.quote(f"a{i}.{j}", s.section, s.quote) for j, s in enumerate(srcs)) or "—"
        out.append(Amendment(
            key=f"audit-{i}",
            title=f"Sample size: {N.label(f'audit{i}', q, f'trialnb.protocol_audit.protocol_audit() row {i}')}",
            origin=f"sample-size audit (verdict: {r['verdict']})",
            section=" | ".join(dict.fromkeys(s.section for s in srcs)) or "Statistics",
            protocol_text=ptext, proposed_text=proposed.get(q, "Recompute as in the sample-size section."),
            reason=N.label(f"audit{i}.why", r["explanation"],
                           f"trialnb.protocol_audit.protocol_audit() row {i}, explanation")))
    out.append(Amendment(
        key="interim", title="Write the interim analysis section", origin="blank protocol section",
        section=_DA, protocol_text=N.quote("interim", _DA, "Interim analysis ;"),
        proposed_text=f"One interim analysis of the primary analysis at {c.first_events} deaths within two years "
                      f"(half of {c.max_ev_t}), Lan-DeMets O'Brien-Fleming alpha spending at two-sided "
                      f"{c.plan_alpha_t}, final analysis calendar-driven at nominal {c.final_p} on each side; "
                      f"non-binding futility guideline at benefit z {c.fut_t}; harm guideline at benefit z "
                      f"{c.harm_t}; perioperative deaths in both arms reviewed on a fixed schedule; an independent "
                      "DMC (details in the SAP section on interim analyses).",
        reason="A trial of surgery needs a plan for early benefit, early harm (perioperative deaths) and futility "
               "before anyone sees comparative data; repeated looks without a plan inflate the type-I error "
               f"({c.NB['05']} simulates how much)."))
    out.append(Amendment(
        key="minimization", title="State the minimization procedure", origin="unstated randomization parameters",
        section=_RAND, protocol_text=N.quote("rand2", _RAND, "using computer-generated randomization"),
        proposed_text=f"“Allocation by Pocock-Simon minimization on dominant metastatic site, hormone receptor "
                      f"status and HER2 status (range of imbalance, equal weights), allocating to the arm that "
                      f"minimizes imbalance with probability {c.ps_p} and ties at random; allocations logged by "
                      "the trial statistician; parameters not disclosed to recruiting clinicians.”",
        reason="The protocol names the factors but not the procedure; p, the imbalance measure, the tie rule and "
               f"any random element change allocations and predictability ({c.NB['03']}), and the analysis should "
               "reflect the procedure used."))
    extra = {
        "surgery_timing": "Replace “Patients who are randomized to upfront surgery” by “Patients randomized to arm A "
                          "whose disease has not progressed on systemic therapy”, and state after how long (or how "
                          "many cycles) of systemic therapy surgery is done.",
        "feasibility_dates": f"Completion date no earlier than {completion_t} "
                             f"(start plus {c.end_t}), or a shorter design that is re-justified.",
        "single_centre_accrual": f"Add the centre's expected number of eligible patients a month (from its screening "
                                 f"figures) against the {c.rate_t} needed, or add centres.",
        "trials_out_of_date": f"Summarize the randomized trials (table in the SAP's background) and justify the design "
                              f"hazard ratio against them: at the pooled estimate {c.meta_hr} the trial would need "
                              f"{c.meta_need_t} deaths for {c.pow_} power.",
        "two_control_survivals": f"Use {N.label('s1name', 'S1(2)', 'protocol notation, Step 2')} = {c.s1_t} "
                                 "throughout (or state the design assumption separately).",
        "registry_hr_free_margins": "Keep the qualifier wherever the registry figure is used: it compares surgery "
                                    "with free margins against no surgery, not the offer of surgery.",
        "biases_named": "Add immortal time (patients must live long enough to be operated) to the biases listed.",
    }
    for f in FINDINGS:
        ptext = " ".join(N.quote(f"f.{f.key}.{j}", s.section, s.quote) for j, s in enumerate(f.sources))
        out.append(Amendment(
            key=f.key, title=N.label(f"finding.{f.key}", f.title, f"trialnb.protocol.FINDINGS['{f.key}'].title"),
            origin=f"protocol finding {f.key}",
            section=" | ".join(dict.fromkeys(s.section for s in f.sources)), protocol_text=ptext,
            proposed_text=extra[f.key],
            reason=N.label(f"finding.{f.key}.why", f"{f.statement} {f.consequence}",
                           f"trialnb.protocol.FINDINGS['{f.key}'] statement and consequence")))
    return tuple(out)


def write_sap(html_path: str | Path | None = None, markdown_path: str | Path | None = None,
              sap: SAP | None = None) -> list[Path]:
    """Write the SAP as HTML and/or Markdown (atomically, parent folders created); return the
    paths written. The HTML path must end in .html/.htm, the Markdown path in .md; an empty
    path or a folder is refused before anything is built."""
    from .files import check_output_path, write_text_atomic

    jobs = []
    for path, name, suffixes, render in ((html_path, "html_path", (".html", ".htm"), "to_html"),
                                         (markdown_path, "markdown_path", (".md", ".markdown"), "to_markdown")):
        if path is None:
            continue
        jobs.append((check_output_path(path, name, suffixes=suffixes), render))
    if not jobs:
        raise ValueError("give an HTML path, a Markdown path or both")
    sap = build_sap() if sap is None else sap
    out = []
    for p, render in jobs:
        p.parent.mkdir(parents=True, exist_ok=True)
        out.append(write_text_atomic(p, getattr(sap, render)()))
    return out
