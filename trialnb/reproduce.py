"""Reproduce a dashboard elsewhere: its settings as a file, its result as a report, and the same
calculation as a trialnb Python call and as an R ``rpact`` call (rpact's ``getObjectRCode`` idea).

Every dashboard (``notebooks/dashboards``, panels of :mod:`trialnb.widgets`) has *settings*: the
values of its controls, a small JSON-able dict. This module is the one place that knows what a
panel's settings mean, as pure functions from settings to text:

* :func:`settings_json` / :func:`read_settings`: the settings file (format
  ``trialnb-dashboard-settings``, version 1: the panel's name, the trialnb version, the
  settings), refused with a :class:`~trialnb.errors.SettingsError` when it is not one, is another
  panel's or names a setting the panel does not have;
* :func:`python_code`: the trialnb calls that compute what the panel shows (the panels compute
  through the same mappings: :func:`sample_size_kwargs`, :func:`design_plan_changes`,
  :func:`oc_truth_changes`), ending in a variable ``result``;
* :func:`r_code`: where rpact has the same calculation (the sample size, the group-sequential
  design, the DMC look and the operating characteristics), the rpact call that gives the same
  numbers, printed as ``name = value`` lines; ``None`` otherwise (:func:`r_note` says why, or
  what the R call does not do that the panel does);
* :func:`report_html`: the panel's result as one self-contained page in the documents' shell
  (:func:`trialnb.documents.page`), with its settings and both calls; written through
  :mod:`trialnb.files` by :func:`write_report` and :func:`write_settings`.

The numbers match by construction for Python (the panel calls the same functions with the same
arguments; ``tests/test_reproduce.py`` executes the code) and by test for R
(``tests/test_reproduce.py`` runs the emitted R with rpact). rpact references: Wassmer G, Pahlke
F. rpact: Confirmatory Adaptive Clinical Trial Design and Analysis, R package 3.3.4
(``getSampleSizeSurvival``, ``getPowerSurvival``, ``getEventProbabilities``,
``getDesignGroupSequential``, ``getAnalysisResults``, ``getSimulationSurvival``).
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence

from .documents import page, provenance
from .errors import SettingsError
from .files import write_text_atomic
from .plan import PLAN, TrialPlan, check_plan

__all__ = [
    "ESTIMAND_ANALYSES",
    "GAMMA",
    "PANELS",
    "SETTINGS_FORMAT",
    "design_plan_changes",
    "oc_truth_changes",
    "plan_changes",
    "plan_with_changes",
    "python_code",
    "r_code",
    "r_note",
    "read_settings",
    "report_html",
    "sample_size_kwargs",
    "settings_json",
    "write_report",
    "write_settings",
]

PANELS: dict[str, str] = {
    "sample_size": "Sample-size explorer",
    "design": "Interim plan explorer",
    "monitoring": "Interim analysis: what the DMC sees",
    "operating_characteristics": "Operating characteristics",
    "randomization": "Randomization console",
    "bias": "Bias explorer",
    "evidence": "What can this trial show?",
    "estimands": "Estimands explorer",
}
"""Every panel whose settings this module reads, with its title."""

SETTINGS_FORMAT = "trialnb-dashboard-settings"
_VERSION = 1
_TINY_ACCRUAL = 1e-6
"""rpact needs an accrual period: 1e-6 months stands for "every patient enters at once" (it changes
N by less than 1e-7 relative)."""

GAMMA = {"asKD": 3.0, "asHSD": -4.0}
"""The spending parameter the interim plan explorer uses with each one-parameter family."""


# ---------------------------------------------------------------------------------------
# literals

def _num(value: Any) -> Any:
    """numpy scalars as Python numbers (their repr is then the shortest exact one)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value


class _R(str):
    """An expression written as is (not quoted), in Python or R code."""


def _py(value: Any) -> str:
    """A Python literal of ``value`` (floats exact: ``repr`` round-trips)."""
    if isinstance(value, _R):
        return str(value)
    value = _num(value)
    if isinstance(value, tuple):
        inner = ", ".join(_py(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_py(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _py_call(name: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> str:
    items = [_py(a) for a in args] + [f"{k}={_py(v)}" for k, v in (kwargs or {}).items()]
    one = f"{name}({', '.join(items)})"
    if len(one) <= 96:
        return one
    return f"{name}(\n" + "".join(f"    {i},\n" for i in items) + ")"


def _r(value: Any) -> str:
    """An R literal of ``value``: numbers exact, TRUE/FALSE, NULL, strings quoted, vectors c()."""
    value = _num(value)
    if isinstance(value, _R):
        return str(value)
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "c(" + ", ".join(_r(v) for v in value) + ")"
    raise TypeError(f"no R literal for {value!r}")


def _r_call(name: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> str:
    items = [_r(a) for a in args] + [f"{k} = {_r(v)}" for k, v in (kwargs or {}).items()]
    one = f"{name}({', '.join(items)})"
    if len(one) <= 96:
        return one
    return f"{name}(\n" + ",\n".join(f"  {i}" for i in items) + ")"


def _r_print(pairs: Sequence[tuple[str, str]]) -> str:
    """R lines printing ``name = value`` (15 significant digits; vectors space-separated)."""
    return "\n".join(f'cat("{name} =", format({expr}, digits = 15), "\\n")' for name, expr in pairs)


# ---------------------------------------------------------------------------------------
# the plan as changes

def plan_changes(plan: TrialPlan) -> dict[str, Any]:
    """The fields in which ``plan`` differs from :data:`trialnb.plan.PLAN`, by name (the
    keyword arguments of :meth:`~trialnb.plan.TrialPlan.with_changes` that rebuild it)."""
    check_plan(plan, error=SettingsError)
    out: dict[str, Any] = {}
    for part in ("design", "analysis", "monitoring"):
        mine, base = getattr(plan, part), getattr(PLAN, part)
        for f in dataclasses.fields(mine):
            if f.compare and getattr(mine, f.name) != getattr(base, f.name):
                out[f.name] = getattr(mine, f.name)
    return out


def plan_with_changes(changes: Mapping[str, Any] | None) -> TrialPlan:
    """:data:`~trialnb.plan.PLAN` with ``changes`` (lists, as JSON gives them, become tuples)."""
    if not changes:
        return PLAN
    fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
    try:
        return PLAN.with_changes(**fixed)
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"the settings' plan changes are not a plan: {exc}") from None


def _plan_lines(changes: Mapping[str, Any] | None) -> list[str]:
    if not changes:
        return ["plan = PLAN"]
    return ["plan = " + _py_call("PLAN.with_changes", kwargs=dict(changes))]


# ---------------------------------------------------------------------------------------
# settings files

def settings_json(panel: str, settings: Mapping[str, Any]) -> str:
    """The settings file of ``panel``: JSON with the format name, its version, the panel, the
    trialnb version that wrote it and the settings (keys sorted, so equal settings give equal files)."""
    from . import __version__

    _panel(panel)
    doc = {"format": SETTINGS_FORMAT, "version": _VERSION, "panel": panel, "trialnb": __version__,
           "settings": {k: _num(v) for k, v in settings.items()}}
    return json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n"


def read_settings(text: str | bytes, panel: str, allowed: Sequence[str] | None = None) -> dict[str, Any]:
    """The settings in a settings file's ``text`` for ``panel``; with ``allowed``, every key
    must be one of them. Refused (:class:`~trialnb.errors.SettingsError`) when the text is not
    JSON, not a trialnb settings file of a version this trialnb reads, another panel's, or names
    an unknown setting. The values are checked by the panel that applies them."""
    _panel(panel)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise SettingsError("the settings file is not UTF-8 text; "
                                "allowed: a .json file a dashboard saved") from None
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        raise SettingsError("the settings file is not JSON; allowed: a .json file a dashboard saved") from None
    if not isinstance(doc, dict) or doc.get("format") != SETTINGS_FORMAT:
        raise SettingsError(f"not a trialnb settings file (no \"format\": \"{SETTINGS_FORMAT}\"); allowed: a .json "
                            "file a dashboard saved")
    if doc.get("version") != _VERSION:
        raise SettingsError(f"settings file version {doc.get('version')!r}; this trialnb reads version {_VERSION}")
    if doc.get("panel") != panel:
        raise SettingsError(f"these are the settings of the {doc.get('panel')!r} dashboard, not of {panel!r}; "
                            f"load them in that dashboard")
    settings = doc.get("settings")
    if not isinstance(settings, dict):
        raise SettingsError("the settings file has no \"settings\" object")
    if allowed is not None:
        unknown = sorted(set(settings) - set(allowed))
        if unknown:
            raise SettingsError(f"unknown setting(s) {', '.join(unknown)} for the {panel!r} dashboard; allowed: "
                                f"{', '.join(sorted(allowed))}")
    return settings


def write_settings(path: str | Path, panel: str, settings: Mapping[str, Any]) -> Path:
    """Write the settings file (:func:`settings_json`) atomically (:func:`trialnb.files.write_text_atomic`)."""
    return write_text_atomic(path, settings_json(panel, settings))


def _panel(panel: str) -> str:
    if panel not in PANELS:
        raise SettingsError(f"unknown dashboard {panel!r}; allowed: {', '.join(PANELS)}")
    return panel


# ---------------------------------------------------------------------------------------
# the sample-size panel

HORIZON = PLAN.design.horizon_months
"""The time the panel's survival and drop-out probabilities refer to (24 months)."""


def sample_size_kwargs(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :func:`trialnb.sample_size.solve` for the sample-size panel's
    settings (``solve_for``, ``alpha``, ``power``, ``hazard_ratio``, ``n_patients``,
    ``control_form`` "survival" (2-year) or "median" with ``control_survival`` /
    ``control_median``, ``accrual_form`` "duration" or "intensity" with ``accrual`` (months) /
    ``accrual_intensity`` (patients per month), ``follow_up``, ``dropout_probability`` (by 2
    years), ``loss_to_follow_up``, ``allocation_ratio``, ``method``, ``sided``)."""
    s = settings
    what = s["solve_for"]
    kw: dict[str, Any] = {"solve_for": what}
    if what != "hazard_ratio":
        kw["hazard_ratio"] = s["hazard_ratio"]
    if what != "power":
        kw["power"] = s["power"]
    if what != "n":
        kw["n_patients"] = s["n_patients"]
    kw.update(alpha=s["alpha"], sided=s["sided"], allocation_ratio=s["allocation_ratio"], method=s["method"])
    if s["control_form"] == "median":
        kw["control_median"] = s["control_median"]
    else:
        kw.update(control_survival=s["control_survival"], survival_time=HORIZON)
    if s["accrual_form"] == "intensity":
        kw["accrual_intensity"] = s["accrual_intensity"]
    else:
        kw["accrual_time"] = s["accrual"]
    kw.update(follow_up_time=s["follow_up"], dropout_probability=s["dropout_probability"], dropout_time=HORIZON,
              loss_to_follow_up=s["loss_to_follow_up"])
    return kw


def _sample_size_python(s: Mapping[str, Any]) -> str:
    kw = sample_size_kwargs(s)
    what = kw.pop("solve_for")
    return "\n".join(["from trialnb.sample_size import solve", "",
                      "result = " + _py_call("solve", [what], kw), "print(result)"])


def _sample_size_r(s: Mapping[str, Any]) -> str:
    kw = sample_size_kwargs(s)
    what, r, loss = kw["solve_for"], kw["allocation_ratio"], kw["loss_to_follow_up"]
    lines = ["library(rpact)", ""]
    if "control_median" in kw:
        lines.append(f"lambda2 <- log(2) / {_r(kw['control_median'])}  # arm B's hazard per month, from its median")
    else:
        lines.append(f"lambda2 <- -log({_r(kw['control_survival'])}) / {_r(HORIZON)}  # arm B's hazard per month, "
                     "from its 2-year survival")
    common: dict[str, Any] = {"lambda2": _R("lambda2")}
    if what != "hazard_ratio":
        common["hazardRatio"] = kw["hazard_ratio"]
    common.update(allocationRatioPlanned=r, typeOfComputation=kw["method"].capitalize(),
                  dropoutRate1=kw["dropout_probability"], dropoutRate2=kw["dropout_probability"], dropoutTime=HORIZON)
    keep = f"(1 - {_r(loss)})"
    if what == "n":
        lines.append(_r_assign("design", "getDesignGroupSequential",
                               dict(kMax=1, alpha=kw["alpha"], beta=_R(f"1 - {_r(kw['power'])}"), sided=kw["sided"])))
        if "accrual_intensity" in kw:
            lines.append("# the accrual as an intensity: rpact finds the accrual time (to about 1e-6 months); the "
                         "evaluable patients (after loss) enter at intensity x (1 - loss) per month")
            acc: dict[str, Any] = {"accrualTime": 0, "accrualIntensity": _R(f"{_r(kw['accrual_intensity'])} * {keep}")}
        else:
            acc = {"accrualTime": _accrual(kw["accrual_time"])}
            lines += _tiny_note(kw["accrual_time"])
        lines.append(_r_assign("result", "getSampleSizeSurvival", dict(
            design=_R("design"), **common, **acc, followUpTime=kw["follow_up_time"])))
        lines.append("# rpact does not inflate N for loss to follow-up: patients randomized = maxNumberOfSubjects / "
                     "(1 - loss)")
        lines.append(_r_print([("deaths", "result$maxNumberOfEvents[1]"),
                               ("patients_evaluable", "result$maxNumberOfSubjects[1]"),
                               ("patients_randomized", f"result$maxNumberOfSubjects[1] / {keep}"),
                               ("accrual_time", "tail(result$accrualTime, 1)")]))
        return "\n".join(lines)
    lines.append(f"n <- {_r(kw['n_patients'])} * {keep}  # evaluable patients: randomized x (1 - loss)")
    if "accrual_intensity" in kw:
        lines.append(f"accrual <- {_r(kw['n_patients'])} / {_r(kw['accrual_intensity'])}  # months to randomize them")
    else:
        lines += _tiny_note(kw["accrual_time"])
        lines.append(f"accrual <- {_r(kw['accrual_time'] if kw['accrual_time'] > 0 else _TINY_ACCRUAL)}")
    times = dict(accrualTime=_R("c(0, accrual)"))
    if what == "power":
        lines.append(_r_assign("prob", "getEventProbabilities", dict(
            time=_R(f"accrual + {_r(kw['follow_up_time'])}"), **times, lambda2=_R("lambda2"),
            hazardRatio=kw["hazard_ratio"], allocationRatioPlanned=r, dropoutRate1=kw["dropout_probability"],
            dropoutRate2=kw["dropout_probability"], dropoutTime=HORIZON, maxNumberOfSubjects=_R("n"))))
        lines.append("events <- n * prob$overallEventProbabilities[1]  # deaths expected by the analysis")
        lines.append(_r_assign("design", "getDesignGroupSequential",
                               dict(kMax=1, alpha=kw["alpha"], sided=kw["sided"])))
        call = dict(design=_R("design"), **common, **times, maxNumberOfSubjects=_R("n"), maxNumberOfEvents=_R("events"))
        if kw["sided"] == 1:
            call["directionUpper"] = kw["hazard_ratio"] > 1
        lines.append(_r_assign("result", "getPowerSurvival", call))
        lines.append(_r_print([("deaths", "events"), ("power", "result$overallReject[1]"),
                               ("analysis_time", "result$analysisTime[1]")]))
        return "\n".join(lines)
    lines.append(_r_assign("design", "getDesignGroupSequential",
                           dict(kMax=1, alpha=kw["alpha"], beta=_R(f"1 - {_r(kw['power'])}"), sided=kw["sided"])))
    lines.append("# the hazard ratio these patients detect: the root of rpact's N(HR) = n")
    lines.append("needed <- function(hr) " + _r_call("getSampleSizeSurvival", kwargs=dict(
        design=_R("design"), **common, hazardRatio=_R("hr"), **times,
        followUpTime=kw["follow_up_time"])) + "$maxNumberOfSubjects[1] - n")
    lines.append("hr <- uniroot(needed, c(0.01, 0.999), tol = 1e-14)$root")
    lines.append(_r_assign("result", "getSampleSizeSurvival", dict(
        design=_R("design"), **common, hazardRatio=_R("hr"), **times, followUpTime=kw["follow_up_time"])))
    lines.append(_r_print([("hazard_ratio", "hr"), ("deaths", "result$maxNumberOfEvents[1]"),
                           ("patients_evaluable", "result$maxNumberOfSubjects[1]")]))
    return "\n".join(lines)


def _accrual(a: float) -> Any:
    return [0, a if a > 0 else _TINY_ACCRUAL]


def _tiny_note(a: float) -> list[str]:
    if a > 0:
        return []
    return ["# rpact needs an accrual period: 1e-6 months stands for \"everyone randomized at once and "
            "followed the same time\" (N changes by less than 1e-7)"]


def _r_assign(name: str, fn: str, kwargs: Mapping[str, Any]) -> str:
    return f"{name} <- " + _r_call(fn, kwargs=kwargs)


# ---------------------------------------------------------------------------------------
# the interim plan explorer (group-sequential design)

def design_plan_changes(looks: int, first: float, spending: str, futility: bool) -> dict[str, Any]:
    """The plan changes of the interim plan explorer: ``looks`` equally spaced looks from the
    information fraction ``first`` (rounded to 1e-6), the spending function ``spending`` (with
    :data:`GAMMA`'s parameter for ``asKD``/``asHSD``) and a futility guideline at benefit z <= 0
    (or none). One look is the fixed design."""
    if isinstance(looks, bool) or not isinstance(looks, int) or looks < 1:
        raise SettingsError(f"looks must be a whole number >= 1, got {looks!r}")
    if looks == 1:
        rates: tuple[float, ...] = (1.0,)
    else:
        step = (1.0 - float(first)) / (looks - 1)
        rates = tuple(round(float(first) + i * step, 6) for i in range(looks - 1)) + (1.0,)
    return dict(information_rates=rates, spending=spending if looks > 1 else "asOF",
                spending_gamma=GAMMA.get(spending) if looks > 1 else None, futility_z=0.0 if futility else None)


def _design_plan(s: Mapping[str, Any]) -> tuple[dict[str, Any], TrialPlan]:
    base = dict(s.get("plan_changes") or {})
    changes = {**base, **design_plan_changes(int(s["looks"]), float(s["first"]), s["spending"], bool(s["futility"]))}
    plan = plan_with_changes(changes)
    return plan_changes(plan), plan


def _design_python(s: Mapping[str, Any]) -> str:
    changes, _ = _design_plan(s)
    return "\n".join([
        "from trialnb import monitoring", "from trialnb.plan import PLAN", "",
        *_plan_lines(changes),
        "design = monitoring.plan_design(plan)",
        "max_events = monitoring.plan_max_events(plan)  # primary-endpoint deaths at most",
        "result = monitoring.boundary_table(design, max_events, hazard_ratio=plan.design.hazard_ratio)",
        "times = monitoring.plan_analysis_times(plan)  # when the deaths arrive",
        "print(result)", "print(times)"])


def _rpact_design_args(plan: TrialPlan) -> dict[str, Any]:
    m, a = plan.monitoring, plan.analysis
    args: dict[str, Any] = dict(kMax=m.k, alpha=a.alpha, beta=_R(f"1 - {_r(plan.design.power)}"), sided=a.sided)
    if m.k > 1:
        args.update(typeOfDesign=m.spending, informationRates=list(m.information_rates))
        if m.spending_gamma is not None:
            args["gammaA"] = m.spending_gamma
    return args


def _design_r(s: Mapping[str, Any]) -> str:
    _, plan = _design_plan(s)
    d, an = plan.design, plan.analysis
    follow = plan.milestone_months
    marginal = -math.log(d.control_survival) / d.horizon_months
    surv = dict(lambda2=marginal, accrualTime=[0, d.accrual_months], dropoutRate1=d.dropout_probability,
                dropoutRate2=d.dropout_probability, dropoutTime=d.horizon_months)
    lines = ["library(rpact)", "",
             _r_assign("design", "getDesignGroupSequential", _rpact_design_args(plan)),
             "# the planned maximum of primary-endpoint deaths: Schoenfeld's deaths x the inflation factor, rounded up",
             "maxEvents <- ceiling(" + _r_call("getSampleSizeSurvival", kwargs=dict(
                 design=_R("design"), hazardRatio=d.hazard_ratio, lambda2=marginal, accrualTime=[0, d.accrual_months],
                 followUpTime=follow)) + "$maxNumberOfEvents[1])"]
    for name, hr in (("h1", d.hazard_ratio), ("h0", 1)):
        call = dict(design=_R("design"), hazardRatio=hr, maxNumberOfEvents=_R("maxEvents"),
                    maxNumberOfSubjects=d.n_patients, **surv)
        if an.sided == 1:
            call["directionUpper"] = d.hazard_ratio > 1
        lines.append(_r_assign(name, "getPowerSurvival", call))
    lines.append("# rpact counts every death and holds the final look at maxEvents deaths; the plan counts deaths "
                 "within 24 months, its final is calendar-driven: the analysis times below are rpact's, not the "
                 "panel's")
    lines.append(_r_print([
        ("max_deaths", "maxEvents"), ("z_bound", "design$criticalValues"),
        ("nominal_p", "design$stageLevels"), ("alpha_spent", "design$alphaSpent"),
        ("hr_bound", "as.numeric(h1$criticalValuesEffectScale" + (
            ("Lower" if d.hazard_ratio < 1 else "Upper") if an.sided == 2 else "") + ")"),
        ("reject_h0", "cumsum(as.numeric(h0$rejectPerStage))"), ("reject_h1", "cumsum(as.numeric(h1$rejectPerStage))"),
        ("power", "h1$overallReject"), ("expected_deaths_h1", "h1$expectedNumberOfEvents"),
        ("analysis_time_h1_all_deaths", "as.numeric(h1$analysisTime)")]))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# the DMC dashboard

def _monitoring_python(s: Mapping[str, Any]) -> str:
    changes = s.get("plan_changes") or {}
    head = ["from trialnb import interim", "from trialnb.plan import PLAN"]
    if s["source"] == "file":
        folder = s.get("data_dir")
        head += ["from trialnb.data import load_trial"]
        if folder is None:
            head += ["from trialnb.resources import data_dir", "", *_plan_lines(changes),
                     f"df = load_trial(data_dir() / {_py(s['file'])})"]
        else:
            head += ["from pathlib import Path", "", *_plan_lines(changes),
                     f"df = load_trial(Path({_py(folder)}) / {_py(s['file'])})"]
        return "\n".join(head + [
            "result = " + _py_call("interim.interim_report", [_R("df"), float(s["cutoff"])],
                                   dict(plan=_R("plan"), source=s["file"])),
            "print(interim.text_report(result))"])
    return "\n".join(head + ["", *_plan_lines(changes),
                             "result = " + f"interim.typed_look({int(s['events'])}, {_py(float(s['z']))}, plan=plan)",
                             "print(result)"])


def _monitoring_r(s: Mapping[str, Any]) -> str:
    from .monitoring import plan_interim_events, plan_max_events

    plan = plan_with_changes(s.get("plan_changes"))
    d, an = plan.design, plan.analysis
    mx = plan_max_events(plan)
    lines = ["library(rpact)"]
    if s["source"] == "file":
        folder = s.get("data_dir")
        if folder is None:
            from .resources import data_dir

            folder = str(data_dir())
        h = an.censor_months
        lines += ["library(survival)", "",
                  f"d <- read.csv({_r(str(Path(folder) / s['file']))})",
                  f"cutoff <- {_r(float(s['cutoff']))}  # calendar month of the look",
                  "# the data as known at the cut-off (trialnb.analysis.cut_at): patients randomized by then, "
                  "follow-up to the cut-off",
                  "d <- d[d$entry_month <= cutoff + 1e-9, ]",
                  "fu <- round(cutoff - d$entry_month, 2)",
                  "dead <- d$death == 1 & d$os_months <= fu + 1e-9",
                  "d$time <- ifelse(dead, d$os_months, pmin(d$os_months, fu))"]
        if h is not None:
            lines += [f"# the primary endpoint: death within {h:g} months of randomization",
                      f"d$event <- as.integer(dead & d$time <= {_r(float(h))})",
                      f"d$time <- pmin(d$time, {_r(float(h))})"]
        else:
            lines += ["d$event <- as.integer(dead)"]
        cov = " + ".join(f"factor({c}, levels = {_r(list(_LEVELS[c]))})" for c in an.covariates)
        if an.statistic == "cox_wald":
            lines += [f"fit <- coxph(Surv(time, event) ~ factor(arm, levels = c(\"B\", \"A\"))"
                      f"{' + ' + cov if cov else ''}, data = d, ties = {_r(an.ties)})",
                      "logHR <- coef(fit)[1]; se <- sqrt(vcov(fit)[1, 1])",
                      "z <- as.numeric(logHR / se)  # Wald z of arm A vs B (negative favours surgery)",
                      "deaths <- sum(d$event)"]
        else:
            lines += ["# the plan's statistic is a log-rank test: its z (negative favours surgery)",
                      "lr <- survdiff(Surv(time, event) ~ factor(arm, levels = c(\"B\", \"A\"))"
                      + (f" + strata({', '.join(an.covariates)})" if an.statistic == "stratified_logrank" else "")
                      + ", data = d)",
                      "oe <- lr$obs[2] - lr$exp[2]; z <- as.numeric(oe / sqrt(lr$var[2, 2]))",
                      "deaths <- sum(d$event); logHR <- z * 2 / sqrt(deaths); se <- 2 / sqrt(deaths)"]
    else:
        lines += ["", f"deaths <- {int(s['events'])}",
                  f"z <- {_r(float(s['z']))}  # log-rank z (negative favours surgery)",
                  "logHR <- z * 2 / sqrt(deaths); se <- 2 / sqrt(deaths)  # Schoenfeld's approximation"]
    planned = [*plan_interim_events(plan), mx]
    lines += [_r_assign("design", "getDesignGroupSequential", _rpact_design_args(plan)),
              f"planned <- {_r(planned)}  # the looks' planned deaths (an earlier look enters by the alpha it spent)",
              "earlier <- planned[-length(planned)][planned[-length(planned)] < deaths]",
              "k <- length(earlier) + 1",
              "data <- getDataset(overallEvents = c(earlier, deaths), overallLogRanks = c(rep(0, k - 1), z))",
              f"final <- deaths >= {mx} || k == design$kMax",
              "call <- list(design = design, dataInput = data, directionUpper = FALSE, "
              f"maxInformation = {mx}, tolerance = 1e-10)",
              f"if (final && deaths < {mx}) call$informationEpsilon <- {mx} - deaths",
              "# conditional power under the design's hazard ratio, the remaining looks at their planned deaths",
              f"if (!final) {{ call$nPlanned <- diff(c(deaths, planned[(k + 1):length(planned)])); "
              f"call$thetaH1 <- {_r(d.hazard_ratio)} }}",
              "result <- suppressMessages(do.call(getAnalysisResults, call))",
              "bound <- result$.design$criticalValues[k]",
              "# the repeated confidence interval of the hazard ratio on the plan's own scale: log HR +- bound x SE",
              _r_print([("deaths", "deaths"), ("z", "z"), ("boundary", "bound"),
                        ("benefit_z", "-z"), ("crossed", "as.integer(-z >= bound)"),
                        ("rci_lower", "exp(logHR - bound * se)"), ("rci_upper", "exp(logHR + bound * se)"),
                        ("repeated_p_value", "result$repeatedPValues[k]")]
                       + ([("conditional_power_design", "if (final) NA else result$conditionalPower[design$kMax]")]
                          if s["source"] != "file" else []))]
    return "\n".join(lines)


_LEVELS = {"dominant_site": ("bone", "soft_tissue", "visceral"), "hormone_receptor": ("positive", "negative"),
           "her2": ("negative", "positive")}
"""Factor levels, the reference first (as trialnb's Cox model codes them)."""


# ---------------------------------------------------------------------------------------
# the operating-characteristics panel

ESTIMAND_ANALYSES: tuple[str, ...] = ("cox_wald", "logrank", "stratified_logrank", "fh01", "stratified_maxcombo",
                                      "rmst", "milestone")
"""The analyses the estimands panel compares on the same simulated trials (keys of
:data:`trialnb.simulation.ANALYSES`)."""

_OC_TRUTH = ("hazard_ratio", "control_survival", "n_patients", "non_compliance", "crossover", "accrual_months",
             "effect_delay_months")


def oc_truth_changes(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The design the operating-characteristics panel's trials are drawn from, as changes of the
    plan's design (the panel's true effect, control survival, size, non-operation, crossover,
    accrual and delay)."""
    return {k: (int(settings[k]) if k == "n_patients" else float(settings[k])) for k in _OC_TRUTH}


def _oc_plan(s: Mapping[str, Any]) -> tuple[dict[str, Any], TrialPlan]:
    base = dict(s.get("plan_changes") or {})
    plan = plan_with_changes({**base, "n_patients": int(s["n_patients"]), "statistic": s["analysis"]})
    return plan_changes(plan), plan


def _oc_python(s: Mapping[str, Any]) -> str:
    changes, _ = _oc_plan(s)
    return "\n".join([
        "from trialnb.plan import PLAN", "from trialnb.simulation import simulate", "",
        *_plan_lines(changes),
        "truth = " + _py(oc_truth_changes(s)) + "  # the design the trials are drawn from",
        f"result = simulate(plan, {int(s['n_trials'])}, seed={int(s['seed'])}, truth=truth)",
        "print(result)"])


def _oc_r(s: Mapping[str, Any]) -> str | None:
    from .monitoring import plan_analysis_times, plan_max_events

    if float(s["non_compliance"]) or float(s["crossover"]) or float(s["effect_delay_months"]):
        return None
    _, plan = _oc_plan(s)
    hr = float(s["hazard_ratio"])
    # the deaths at the panel's final analysis, expected under the truth
    truth = oc_truth_changes(s)
    truth.update(hazard_ratio=hr if hr != 1 else plan.design.hazard_ratio)
    truth_plan = plan.with_changes(**truth, information_rates=(1.0,))
    d = truth_plan.design
    if plan.monitoring.final_analysis == "events":
        events = plan_max_events(plan)
    else:
        times = plan_analysis_times(truth_plan)
        events = max(1, round(float(times.deaths_h1[-1] if hr != 1 else times.deaths_h0[-1])))
    lam = -math.log(d.control_survival) / d.horizon_months
    arms: dict[str, Any] = {"lambda2": lam, "hazardRatio": hr}
    an = plan.analysis
    sim = dict(**arms, accrualTime=[0, d.accrual_months], maxNumberOfSubjects=d.n_patients, plannedEvents=events,
               dropoutRate1=d.dropout_probability, dropoutRate2=d.dropout_probability, dropoutTime=d.horizon_months,
               maxNumberOfIterations=int(s["n_trials"]), seed=int(s["seed"]))
    lines = ["library(rpact)", "",
             f"# rpact analyses {events} deaths (the panel's expected deaths at its final analysis) with the log-rank "
             "test, in one exponential population randomized 1:1; the panel simulates the plan: deaths within "
             "24 months at a calendar-driven final, the plan's statistic, minimization and the factor strata",
             "# rpact simulates one-sided tests only: a two-sided test is two one-sided tests at alpha / 2, each "
             "side simulated on the same trials (the same seed)" if an.sided == 2 else "",
             _r_assign("design", "getDesignGroupSequential", dict(kMax=1, alpha=an.alpha / an.sided, sided=1)),
             _r_assign("benefit", "getSimulationSurvival", dict(design=_R("design"), directionUpper=False, **sim))]
    if an.sided == 2:
        lines.append(_r_assign("harm", "getSimulationSurvival", dict(design=_R("design"), directionUpper=True, **sim)))
    lines.append(_r_print([("deaths", "benefit$plannedEvents[1]"), ("benefit", "benefit$overallReject[1]"),
                           ("rejection", "benefit$overallReject[1]" + (" + harm$overallReject[1]" if an.sided == 2
                                                                        else "")),
                           ("iterations", "benefit$maxNumberOfIterations")]))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# panels with no R equivalent

def _randomization_python(s: Mapping[str, Any]) -> str:
    history = [(dict(f), arm) for f, arm in s.get("history", [])]
    return "\n".join([
        "from trialnb.randomization import PocockSimon", "",
        "proc = " + _py_call("PocockSimon", kwargs=dict(p=float(s["p"]), imbalance=s["imbalance"])),
        "# the allocations made so far (their arms come from the console's keyed log, seed "
        f"{int(s['seed'])}; the key is secret and not saved)",
        f"history = {_py(history)}",
        "for factors, arm in history:",
        "    proc.record(factors, arm)",
        f"patient = {_py(dict(s['patient']))}",
        "result = proc.probabilities(patient)  # P(A), P(B) for the patient entered",
        "print(result)",
        "print(proc.table(patient))  # the imbalance if the patient joins each arm",
        "# to allocate with a durable keyed log: trialnb.randomization.AllocationLog.create(path, proc, "
        f"seed={int(s['seed'])}, key=...)"])


def _bias_python(s: Mapping[str, Any]) -> str:
    from .bias import MECHANISMS

    strengths = {m: float(s[m]) for m in MECHANISMS}
    return "\n".join([
        "from trialnb import bias", "",
        "cohort = " + _py_call("bias.simulate_registry", [int(s["n"]), int(s["seed"])],
                               dict(hazard_ratio=float(s["hazard_ratio"]), **strengths)),
        f"result = bias.compare_analyses(cohort, seed={int(s['seed'])})",
        "print(result)"])


def _evidence_python(s: Mapping[str, Any]) -> str:
    lines = ["from trialnb import assurance, evidence", "from trialnb.monitoring import plan_benefit_design, "
             "plan_max_events", "from trialnb.plan import PLAN", ""]
    hksj = bool(s["hksj"]) and s["method"] != "FE"
    picked = list(s["trials"])
    lines.append("meta = " + _py_call("evidence.pool_trials", [picked], dict(method=s["method"], hksj=hksj)))
    if s["prior"] == "pooled":
        lines.append(f"prior = assurance.predictive_prior(meta, \"pooled\", \"pooled {len(picked)} trials\")")
    elif s["prior"] == "sceptical":
        lines.append("prior = assurance.sceptical_prior()")
    elif s["prior"] == "enthusiastic":
        lines.append("prior = assurance.enthusiastic_prior()")
    else:
        lines.append(f"prior = assurance.Prior(\"user\", math.log({_py(float(s['user_hr']))}), "
                     f"{_py(float(s['user_sd']))}, \"your own prior\")")
        lines.insert(0, "import math")
    design = "plan_benefit_design(PLAN)" if s["design"] == "plan" else "None"
    lines += [f"result = assurance.assurance(events=plan_max_events(PLAN), prior=prior, design={design})",
              f"take = assurance.what_it_would_take(prior, assurance_target={_py(float(s['target']))})",
              "print(meta)", "print(result)", "print(take)"]
    return "\n".join(lines)


def _estimands_python(s: Mapping[str, Any]) -> str:
    return "\n".join([
        "from dataclasses import replace", "",
        "from trialnb.plan import PLAN", "from trialnb.simulation import SHAPES, simulate, true_estimands", "",
        f"truth = replace(PLAN.design, **SHAPES[{_py(s['shape'])}], non_compliance={_py(float(s['non_compliance']))})",
        "estimands = true_estimands(truth)",
        f"result = simulate(PLAN, {int(s['n_trials'])}, seed={int(s['seed'])}, truth=truth, "
        f"analyses={_py(ESTIMAND_ANALYSES)})",
        "print(estimands)", "print(result.to_frame())"])


_PYTHON = {"sample_size": _sample_size_python, "design": _design_python, "monitoring": _monitoring_python,
           "operating_characteristics": _oc_python, "randomization": _randomization_python, "bias": _bias_python,
           "evidence": _evidence_python, "estimands": _estimands_python}
_RCODE = {"sample_size": _sample_size_r, "design": _design_r, "monitoring": _monitoring_r,
          "operating_characteristics": _oc_r}
_NO_R = {
    "randomization": "no rpact equivalent: rpact has no minimization (the R package Minirand has; its "
                     "probabilities are the console's P(A) and P(B))",
    "bias": "no rpact equivalent: the registry simulator is this project's (notebook 01)",
    "evidence": "no rpact equivalent: the meta-analysis is R metafor's rma (tests/reference/metafor_meta.R); the "
                "probability of success is this project's",
    "estimands": "no rpact equivalent: rpact simulates the log-rank test only, not the milestone, RMST and "
                 "weighted log-rank analyses compared here",
}


def python_code(panel: str, settings: Mapping[str, Any]) -> str:
    """The trialnb Python that computes what ``panel`` shows with ``settings`` (the main object
    ends in ``result``)."""
    from . import __version__

    code = _PYTHON[_panel(panel)](settings)
    return f"# {PANELS[panel]}, reproduced with trialnb {__version__}\n{code}\n"


def r_code(panel: str, settings: Mapping[str, Any]) -> str | None:
    """The R ``rpact`` code that computes the same numbers as ``panel`` with ``settings``
    (printed as ``name = value`` lines), or ``None`` where rpact has no equivalent
    (:func:`r_note` says why)."""
    make = _RCODE.get(_panel(panel))
    code = None if make is None else make(settings)
    return None if code is None else f"# {PANELS[panel]}, the same calculation with R rpact\n{code}\n"


def r_note(panel: str, settings: Mapping[str, Any]) -> str:
    """What the R code does not do that the panel does, or why there is none."""
    _panel(panel)
    if panel in _NO_R:
        return _NO_R[panel]
    if panel == "operating_characteristics":
        if float(settings["non_compliance"]) or float(settings["crossover"]):
            return ("no rpact equivalent for these settings: rpact's simulation cannot draw arm A as a mixture of "
                    "operated and not operated patients, or arm B's crossover")
        if float(settings["effect_delay_months"]):
            return ("no rpact call for a delayed effect here: rpact could draw it (piecewise hazards), but it analyses "
                    "a fixed number of deaths, and the deaths this panel's calendar-driven final expects under a "
                    "delay have no closed form in trialnb (the simulation gives them: the mean deaths shown)")
        return ("rpact simulates the log-rank test at a fixed number of deaths in one exponential population: the "
                "rejection rate agrees within Monte-Carlo error when the panel analyses by log-rank in the "
                "homogeneous population; the plan's adjusted Cox model, minimization, strata and calendar-driven "
                "final differ")
    if panel == "design":
        return "rpact counts every death for the analysis times; the plan counts deaths within 24 months"
    if panel == "monitoring":
        if settings.get("source") == "file":
            return ("R survival's coxph gives the Wald z of the file (the same model), rpact's getAnalysisResults "
                    "the boundary at the observed deaths and the repeated p-value; the report's conditional power "
                    "uses the Cox model's information 1/SE^2, rpact's the log-rank information deaths/4, so it is "
                    "not printed here")
        return ("rpact's getAnalysisResults: the boundary at the typed deaths, the repeated confidence interval, "
                "the repeated p-value and the conditional power under the design's hazard ratio")
    return ("rpact gives the same numbers; where everyone is followed the same time rpact needs an accrual of 1e-6 "
            "months")


# ---------------------------------------------------------------------------------------
# the report

def report_html(panel: str, settings: Mapping[str, Any], panel_html: str, *,
                generated: datetime | None = None) -> str:
    """The panel's result as one self-contained page (:func:`trialnb.documents.page`): the
    panel as it stands (``panel_html``, a static picture from
    :func:`trialnb.widgets.snapshot.snapshot_html`), its settings, the Python call and the R
    call (or why there is none), and the provenance line."""
    title = PANELS[_panel(panel)]
    e = html.escape
    rows = "".join(f"<tr><td>{e(str(k))}</td><td><code>{e(json.dumps(_num(v)))}</code></td></tr>"
                   for k, v in sorted(settings.items()))
    rc = r_code(panel, settings)
    body = (f"<h1>{e(title)}</h1>"
            "<p>The dashboard's result with the settings below, as it was on screen, and the calls that compute it "
            "again: trialnb in Python, and R rpact where it has the same calculation.</p>"
            f"<section class='panel'>{panel_html}</section>"
            f"<h2>Settings</h2><table class='settings'><tr><th>setting</th><th>value</th></tr>{rows}</table>"
            f"<h2>Reproduce in Python (trialnb)</h2><pre class='python'>{e(python_code(panel, settings))}</pre>"
            f"<h2>Reproduce in R (rpact)</h2>"
            + (f"<pre class='r'>{e(rc)}</pre><p class='note'>{e(r_note(panel, settings))}</p>" if rc is not None
               else f"<p class='note'>{e(r_note(panel, settings))}</p>"))
    css = ("pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;font-size:.85rem;white-space:pre-wrap}"
           ".note{color:#555}.panel{border:1px solid #ddd;padding:.6rem;margin:1rem 0}")
    return page(f"{title}: report", body, provenance_line=provenance(f"the {title} dashboard", generated=generated),
                css=css)


def write_report(path: str | Path, panel: str, settings: Mapping[str, Any], panel_html: str) -> Path:
    """Write :func:`report_html` atomically (:func:`trialnb.files.write_text_atomic`)."""
    return write_text_atomic(path, report_html(panel, settings, panel_html))
