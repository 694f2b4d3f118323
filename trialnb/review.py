"""The reviewer's report: every protocol number recomputed, the cross-checks against R, the
package versions and the seed of every synthetic dataset, as text or as one HTML page.

``trialnb audit`` prints :func:`text_report`; ``trialnb audit --html PATH`` (and ``make review``)
writes :func:`write_html`, a single self-contained file (inline CSS, no script, no link to
anything outside it) that a reviewer can open offline and check without reading code.

The report leads with what is wrong in the protocol itself (:func:`protocol_findings`: how
many findings, which), and only then says, separately, whether our own recomputation and
cross-checks hold: a green cross-check never stands for a sound protocol.

The report is assembled from :class:`Section` objects, one per topic. A section whose
ingredients are missing (a module not installed, a reference file not committed yet) is kept
with status ``"not available"`` and says what is missing, so the report never hides a gap.

Sources of each section:

* protocol findings: :data:`trialnb.protocol.FINDINGS` (contradictions, feasibility, dated or
  unqualified statements) and the rows of :func:`trialnb.protocol_audit.protocol_audit` whose
  verdict is not "correct", each with the protocol's section and verbatim sentence;
* protocol numbers: :func:`trialnb.protocol_audit.protocol_audit` (protocol value, recomputed value,
  verdict, one-line explanation), with the section and sentence each number comes from;
* cross-checks: the committed outputs of the R scripts in ``tests/reference/`` (``rpact`` for
  sample size and power, ``survival`` for the Cox model, ``riskRegression`` for the standardized
  two-year survival), recomputed now with ``trialnb`` and
  compared within the tolerance stated in each row (relative tolerance unless said otherwise);
* versions: :mod:`importlib.metadata` for Python packages, the R versions recorded in the
  reference files;
* seeds: the dataset provenance published by :mod:`trialnb.simulation` / ``data/README.md``.
"""

from __future__ import annotations

import html
import json
import math
import platform
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .resources import checkout_root, reference_dir
from .resources import data_dir as shipped_data_dir
from .documents import page, provenance
from . import report

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["is_finding",
    "Check",
    "html_report",
    "NOT_AVAILABLE",
    "REFERENCE_DIR",
    "Section",
    "collect",
    "crosscheck_frame",
    "crosscheck_monitoring",
    "crosscheck_riskregression",
    "crosscheck_rpact",
    "crosscheck_survival",
    "dataset_seeds",
    "package_versions",
    "protocol_findings",
    "protocol_numbers",
    "text_report",
    "write_html",
]

REFERENCE_DIR = reference_dir()
"""Where the committed R reference values live (package data: :func:`trialnb.resources.reference_dir`)."""

NOT_AVAILABLE = "not available"
FINDINGS = "findings"
"""Status of the protocol-findings section: it reports problems *of the protocol*, which are
neither a failure of our checks (``"fail"``) nor a clean bill of health (``"ok"``)."""
PACKAGES = ("trialnb", "numpy", "scipy", "pandas", "lifelines", "matplotlib", "ipywidgets",
            "jupyterlab", "voila", "nbconvert", "jupytext", "nbval", "latex2mathml")


@dataclass
class Section:
    """One part of the report: a title, a status, a table (header + rows of strings) and notes.

    ``status`` is ``"ok"``, ``"fail"`` (a cross-check outside its tolerance),
    :data:`NOT_AVAILABLE`, or :data:`FINDINGS` (the protocol-findings section when the protocol
    has findings).
    """

    title: str
    status: str
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.status not in ("ok", "fail", NOT_AVAILABLE, FINDINGS):
            raise ValueError(f"status must be 'ok', 'fail', {NOT_AVAILABLE!r} or {FINDINGS!r}, "
                             f"got {self.status!r}")
        for r in self.rows:
            if len(r) != len(self.header):
                raise ValueError(f"row {r!r} has {len(r)} cells, header has {len(self.header)}")


def _unavailable(title: str, why: str) -> Section:
    return Section(title, NOT_AVAILABLE, notes=[f"{NOT_AVAILABLE}: {why}"])


def _cell(x: Any) -> str:
    """A table cell: numbers through :mod:`trialnb.report`, everything else as text."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return report.fmt_n(x)
    if isinstance(x, float):
        if x.is_integer() and abs(x) < 1e9:
            return report.fmt_n(x)
        # as few decimals as show the value to 4 decimals (2 for values of 10 or more), so a
        # protocol's "0.84" prints as 0.84 and the recomputed 0.84162 as 0.8416
        top = 4 if abs(x) < 10 else 2
        digits = next(d for d in range(1, top + 1) if round(x, d) == round(x, top))
        return report.fmt_num(x, digits)
    return str(x)


def _significant(x: float, sig: int = 7) -> str:
    """A cross-checked value to ``sig`` significant digits (enough to see agreement)."""
    x = float(x)
    if not math.isfinite(x):
        return report.fmt_num(x, 1)
    if x.is_integer() and abs(x) < 1e9:
        return report.fmt_n(x)
    digits = max(0, min(12, sig - 1 - math.floor(math.log10(abs(x)))))
    return report.fmt_num(x, digits)


# --- protocol numbers ---------------------------------------------------------------------

AUDIT_SOURCES: dict[str, tuple[str, ...]] = {
    "z_(alpha/2)": ("z_alpha_half",),
    "z_beta": ("z_beta",),
    "events": ("events",),
    "S(t) = exp{0.5}, as printed": ("control_survival",),
    "40% die within 2 years": ("death_fraction",),
    "S1(2), control": ("s1_2y",),
    "S2(2), treatment": ("s2_2y",),
    "Pr(event)": ("p_event",),
    "N": ("n_total",),
    "N per arm": ("n_per_arm",),
    "N per arm after loss": ("n_per_arm_after_loss",),
    "N after loss (2 x per arm)": ("n_per_arm_after_loss",),
    "N if follow-up runs to the end of the study": ("accrual_months", "horizon_months"),
}
"""Which :meth:`trialnb.protocol.Protocol.source` entries each row of ``protocol_audit`` rests on."""

_SOUND = ("correct", "assumption")
"""Verdicts of ``protocol_audit`` that are not a finding (``correct ...``, ``assumption``)."""


def _audit_source(quantity: str) -> tuple[str, str]:
    """(section, verbatim sentence) of an audited quantity; '—' when none is recorded."""
    from .protocol import PROTOCOL

    names = AUDIT_SOURCES.get(quantity, ())
    srcs = [PROTOCOL.source(n) for n in names]
    if not srcs:
        return "—", "—"
    return (" | ".join(dict.fromkeys(x.section for x in srcs)), " | ".join(f"\u201c{x.quote}\u201d" for x in srcs))


def is_finding(verdict: str) -> bool:
    """True when an audit verdict is a finding (anything but the sound verdict); the SAP's list
    of the protocol's findings uses the same test."""
    return not str(verdict).startswith(_SOUND)


def protocol_numbers() -> Section:
    """The protocol's sample-size numbers recomputed (:func:`trialnb.protocol_audit.protocol_audit`),
    each with the protocol's section and verbatim sentence."""
    title = "Protocol numbers recomputed"
    try:
        from .protocol_audit import protocol_audit
    except ImportError as exc:
        return _unavailable(title, f"trialnb.protocol_audit.protocol_audit cannot be imported ({exc})")
    df = protocol_audit()
    cols = ["quantity", "protocol", "recomputed", "verdict", "explanation"]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        return _unavailable(title, f"protocol_audit() lacks columns {missing}")
    rows = []
    for r in df[cols].to_dict("records"):
        section, quote = _audit_source(str(r["quantity"]))
        rows.append([_cell(r[c]) for c in cols[:-1]] + [section, quote, _cell(r["explanation"])])
    verdicts = sorted({str(v) for v in df["verdict"]})
    counts = ", ".join(f"{(df['verdict'] == v).sum()} {v}" for v in verdicts)
    n_bad = int(sum(is_finding(v) for v in df["verdict"]))
    return Section(title, "ok", ["Quantity", "Protocol", "Recomputed", "Verdict", "Protocol section",
                                 "Protocol text", "Explanation"], rows,
                   [f"{len(df)} quantities from the protocol's sample-size section: {counts}. "
                    f"{n_bad} of them are findings against the protocol (listed first in the report); "
                    "the status of this section says only that the recomputation ran.",
                    "Source: trialnb.protocol_audit.protocol_audit(); sentences: "
                    "references/NCT04697043-protocol-record.txt."])


def protocol_findings() -> Section:
    """What is wrong or open in the protocol itself: the sample-size numbers whose verdict is
    not "correct" and :data:`trialnb.protocol.FINDINGS`, each with section and sentence."""
    title = "Protocol findings"
    from .protocol import FINDINGS as TEXT_FINDINGS
    rows: list[list[str]] = []
    try:
        from .protocol_audit import protocol_audit
        df = protocol_audit()
    except ImportError as exc:
        return _unavailable(title, f"trialnb.protocol_audit.protocol_audit cannot be imported ({exc})")
    for r in df.to_dict("records"):
        if is_finding(r["verdict"]):
            section, quote = _audit_source(str(r["quantity"]))
            rows.append(["sample-size arithmetic", f"{r['quantity']}: {r['verdict']}", section, quote,
                         str(r["explanation"])])
    n_numbers = len(rows)
    for f in TEXT_FINDINGS:
        rows.append(["protocol text", f.title,
                     " | ".join(dict.fromkeys(x.section for x in f.sources)),
                     " | ".join(f"\u201c{x.quote}\u201d" for x in f.sources),
                     f"{f.statement} {f.consequence}"])
    status = FINDINGS if rows else "ok"
    return Section(title, status, ["Kind", "Finding", "Protocol section", "Protocol text", "What is wrong"],
                   rows, [f"{len(rows)} findings against the protocol: {n_numbers} in its sample-size "
                          f"arithmetic, {len(rows) - n_numbers} in its text.",
                          "Sources: trialnb.protocol_audit.protocol_audit() and trialnb.protocol.FINDINGS; "
                          "every quoted sentence is in references/NCT04697043-protocol-record.txt."])


# --- cross-checks against R ---------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One number compared with reference software."""

    what: str
    reference: float
    ours: float
    tolerance: float
    relative: bool = True

    @property
    def difference(self) -> float:
        d = abs(self.ours - self.reference)
        return d / abs(self.reference) if self.relative and self.reference != 0 else d

    @property
    def passed(self) -> bool:
        return math.isfinite(self.ours) and self.difference <= self.tolerance

    def row(self) -> list[str]:
        kind = "relative" if self.relative else "absolute"
        tol = "exact" if self.tolerance == 0 else f"{self.tolerance:.2g} ({kind})"
        return [self.what, _significant(self.reference), _significant(self.ours),
                f"{self.difference:.1e}", tol,
                "pass" if self.passed else "FAIL"]


CHECK_HEADER = ["Quantity", "Reference (R)", "trialnb", "Difference", "Tolerance", "Result"]


def _load_reference(name: str) -> dict[str, Any] | None:
    path = REFERENCE_DIR / name
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _check_section(title: str, filename: str, build: Callable[[dict[str, Any]], list[Check]],
                   software: str) -> Section:
    ref = _load_reference(filename)
    if ref is None:
        return _unavailable(title, f"reference file tests/reference/{filename} not found")
    try:
        checks = build(ref)
    except ImportError as exc:
        return _unavailable(title, f"the trialnb module to compare is missing ({exc})")
    if not checks:
        return _unavailable(title, f"tests/reference/{filename} has no values this report knows how to compare")
    n_pass = sum(c.passed for c in checks)
    status = "ok" if n_pass == len(checks) else "fail"
    notes = [f"{n_pass} of {len(checks)} values within tolerance. Reference: {software}; "
             f"values in tests/reference/{filename}, regenerated by tests/reference/"
             f"{Path(filename).stem}.R (CI re-runs it and compares)."]
    return Section(title, status, CHECK_HEADER, [c.row() for c in checks], notes)


RPACT_TOL = 1e-9
"""Relative tolerance against rpact: both evaluate the same closed forms (Schoenfeld/Freedman
events, Lachin-Foulkes event probability, normal-approximation power), so they agree to
~1e-12; 1e-9 leaves room for libm differences."""
COX_TOL = 1e-6
"""Relative tolerance against R coxph: two Newton-Raphson fits converged to 1e-10/1e-12 agree
to ~1e-8 on these data; 1e-6 is still far below any printed digit."""
KM_TOL = 1e-9
"""Relative tolerance for Kaplan-Meier and log-rank: exact finite sums on both sides."""
LOGLIK_TOL = 1e-6
ZPH_TOL = 1e-6
"""Absolute tolerance for R cox.zph's chi-squares (statistics of order 1; a term near 0, such as
1.5e-7, has no meaningful relative difference)."""
ATE_TOL = 1e-6
"""Relative tolerance against R riskRegression::ate's standardized survival and, without tied
death times, its SEs: smooth functions of two Cox fits that agree to ~1e-9."""
ATE_TIES_TOL = 1.5e-2
"""Relative tolerance for riskRegression's SEs on data with tied death times: its influence
function of the Cox coefficients counts one death per distinct time (Breslow-type baseline
terms), ours is the exact linearization of the Efron fit (equal to R survival's dfbeta); 0.84% on
the shipped files (two or three tied pairs), and exact agreement once ties are broken."""
"""Absolute tolerance for the Cox partial log-likelihood."""


def _design_words(c: dict[str, Any], with_power: bool = True) -> str:
    """A readable name for one rpact design, built from its parameters (never from its id, so a
    row cannot borrow a label such as "protocol" from a design the protocol did not use)."""
    sides = "two-sided" if c["sided"] == 2 else "one-sided"
    ratio = c["allocation_ratio"]
    alloc = "1:1" if ratio == 1 else f"{report.fmt_num(float(ratio), 2).rstrip('0').rstrip('.')}:1"
    parts = [f"HR {c['hazard_ratio']:.2f}", f"{sides} alpha {c['alpha']:g}"]
    if with_power:
        parts.append(f"power {100 * c['power']:g}%")
    parts.append(f"allocation {alloc}")
    if "method" in c:
        parts.append(str(c["method"]).capitalize())
    return ", ".join(parts)


def _time_words(c: dict[str, Any]) -> str:
    if c["accrual_time"] < 0.01:
        acc = f"everyone followed {c['follow_up_time']:g} months (accrual ~0)"
    else:
        acc = f"accrual {c['accrual_time']:g} + follow-up {c['follow_up_time']:g} months"
    drop = f", drop-out hazard {c['dropout_hazard']:.4f}/month" if c.get("dropout_hazard") else ""
    return f"{acc}, control hazard {c['control_hazard']:.4f}/month{drop}"


def _rpact_checks(ref: dict[str, Any]) -> list[Check]:
    """Our sample-size numbers for every design in rpact_sample_size.json (getSampleSizeSurvival,
    getPowerSurvival, getSampleSizeRates)."""
    from . import sample_size as ss

    checks: list[Check] = []
    for i, c in enumerate(ref.get("survival", []), 1):
        res = ss.sample_size(
            c["hazard_ratio"], alpha=c["alpha"], power=c["power"], allocation_ratio=c["allocation_ratio"],
            sided=c["sided"], method=c["method"], control_hazard=c["control_hazard"],
            accrual_time=c["accrual_time"], follow_up_time=c["follow_up_time"],
            dropout_hazard=c["dropout_hazard"])
        name = _design_words(c)
        given = " (control given to rpact as P(death by 24 months))" if "pi2" in str(c.get("id", "")) else ""
        checks.append(Check(f"[S{i}] Events for {name}", c["events"], res.events, RPACT_TOL))
        checks.append(Check(f"[S{i}] N (unrounded) for {name}; {_time_words(c)}{given}", c["n_total"],
                            res.n_total, RPACT_TOL))
    for i, c in enumerate(ref.get("power", []), 1):
        got = ss.power(c["events"], c["hazard_ratio"], alpha=c["alpha"], allocation_ratio=c["allocation_ratio"],
                       sided=c["sided"], method=c["method"])
        checks.append(Check(f"[P{i}] Power of {c['events']:g} events at {_design_words(c, with_power=False)}",
                            c["power"], got, RPACT_TOL))
    for i, c in enumerate(ref.get("rates", []), 1):
        prop = ss.proportion_sample_size(c["control_proportion"], c["treatment_proportion"], alpha=c["alpha"],
                                         power=c["power"], allocation_ratio=c["allocation_ratio"], sided=c["sided"])
        checks.append(Check(f"[R{i}] N for two proportions {c['control_proportion']:.4g} "
                            f"vs {c['treatment_proportion']:.4g}, "
                            f"{'two' if c['sided'] == 2 else 'one'}-sided alpha {c['alpha']:g}, "
                            f"power {100 * c['power']:g}%, "
                            f"allocation {c['allocation_ratio']:g}:1 (a method check; the protocol's design is "
                            "event-driven, not two proportions)", c["n_total"], prop.n_total, RPACT_TOL))
    return checks


MONITORING_TOL = 1e-7
"""Absolute tolerance against rpact's group-sequential designs (boundaries, alpha spent, crossing
probabilities): both integrate the same multivariate normal recursively (Armitage-McPherson-Rowe)
and solve for the boundaries to ~1e-9; 1e-7 is what tests/test_monitoring.py holds. Hazard
ratios at the bounds and expected deaths are compared relatively at the same 1e-7."""

_GS_ARGS = {"kMax": "k", "alpha": "alpha", "beta": "beta", "sided": "sided", "typeOfDesign": "type_of_design",
            "informationRates": "information_rates", "deltaWT": "delta_wt", "gammaA": "gamma_a",
            "futilityBounds": "futility_bounds", "typeBetaSpending": "type_beta_spending", "gammaB": "gamma_b",
            "bindingFutility": "binding_futility"}


def _gs_design(args: dict[str, Any]) -> Any:
    """trialnb's design for rpact ``getDesignGroupSequential`` arguments (rpact's names)."""
    from .monitoring import design

    kw: dict[str, Any] = {}
    for key, val in args.items():
        kw[_GS_ARGS[key]] = ([float(v) for v in (val if isinstance(val, list) else [val])]
                             if key in ("informationRates", "futilityBounds") else val)
    return design(int(kw.pop("k")), **kw)


def _gs_words(args: dict[str, Any]) -> str:
    """rpact's design arguments in words: type, looks, sidedness, alpha, the rest as given."""
    sided = "two-sided" if args.get("sided", 1) == 2 else "one-sided"
    extra = [f"{k} {args[k]}" for k in ("informationRates", "deltaWT", "gammaA", "futilityBounds",
                                          "typeBetaSpending", "gammaB", "bindingFutility") if k in args]
    return (f"{args['typeOfDesign']}, {args['kMax']} looks, {sided} alpha {args.get('alpha', 0.025):g}"
            + (f" ({'; '.join(extra)})" if extra else ""))


def _monitoring_checks(ref: dict[str, Any]) -> list[Check]:
    """Our group-sequential designs against every design in rpact_monitoring.json
    (getDesignGroupSequential: the efficacy boundary at each look and the alpha spent), and the
    gsBoundSummary view of each design with a survival setting (getPowerSurvival: the hazard
    ratio at each bound, the probability of crossing under H0 and H1, the expected deaths), the
    plan's own design (two-sided asOF, one interim at half of 66 deaths) first."""
    from .monitoring import boundary_table

    checks: list[Check] = []
    for i, c in enumerate(ref.get("designs", []), 1):
        d = _gs_design(c["args"])
        name = f"[G{i}] {_gs_words(c['args'])}"
        for j, (mine, theirs) in enumerate(zip(d.critical_values, c["criticalValues"], strict=True), 1):
            checks.append(Check(f"{name}: efficacy boundary z, look {j}", theirs, float(mine), MONITORING_TOL,
                                relative=False))
        checks.append(Check(f"{name}: alpha spent by the last look", c["alphaSpent"][-1], float(d.alpha_spent[-1]),
                            MONITORING_TOL, relative=False))
    for i, c in enumerate(ref.get("powers", []), 1):
        d = _gs_design(c["design"])
        tab = boundary_table(d, c["maxEvents"], hazard_ratio=c["hazardRatio"], allocation_ratio=c["ratio"])
        plan = " (the plan's design)" if str(c["id"]).startswith("plan_") and d.sided == 2 else ""
        name = (f"[B{i}]{plan} {_gs_words(c['design'])}, {c['maxEvents']:g} deaths, HR {c['hazardRatio']:g}, "
                f"allocation {c['ratio']:g}:1")
        for j, (mine, theirs) in enumerate(zip(tab.hr_bound, c["criticalValuesEffectScale"], strict=True), 1):
            checks.append(Check(f"{name}: hazard ratio at the efficacy bound, look {j}", theirs, float(mine),
                                MONITORING_TOL))
        checks.append(Check(f"{name}: probability of crossing under H0", c["overallReject"][0],
                            float(tab.reject_h0[-1]), MONITORING_TOL, relative=False))
        checks.append(Check(f"{name}: probability of crossing under H1 (power)", c["overallReject"][1],
                            float(tab.reject_h1[-1]), MONITORING_TOL, relative=False))
        checks.append(Check(f"{name}: expected deaths under H1", c["expectedNumberOfEvents"][1],
                            float(tab.expected_deaths_h1), MONITORING_TOL))
    checks.sort(key=lambda ch: "(the plan's design)" not in ch.what)  # the plan's rows first, order kept
    return checks


def _survival_checks(ref: dict[str, Any]) -> list[Check]:
    """Our analysis of each shipped trial file against R survival (coxph, survfit, survdiff)."""
    from . import analysis as an
    from .data import load_trial

    data_dir = shipped_data_dir()
    checks: list[Check] = []
    for name, r in ref.get("results", {}).items():
        path = data_dir / r["file"]
        if not path.is_file():
            raise ImportError(f"data file data/{r['file']} not found")
        df = load_trial(path)
        res = an.primary(df)
        summ = res.coefficients()
        lo, hi = res.ci_lower, res.ci_upper
        for term, v in r["cox"].items():
            row = summ.loc[term]
            if term == "arm_A":
                checks += [Check(f"{name}: Cox HR arm A vs B (primary, death within 24 months)", v["hr"],
                                 res.hazard_ratio, COX_TOL),
                           Check(f"{name}: Cox HR 95% CI lower", v["ci_lower"], lo, COX_TOL),
                           Check(f"{name}: Cox HR 95% CI upper", v["ci_upper"], hi, COX_TOL),
                           Check(f"{name}: Cox Wald p, arm", v["p"], res.p_value, COX_TOL)]
            checks += [Check(f"{name}: Cox coef {term}", v["coef"], float(row["coef"]), COX_TOL),
                       Check(f"{name}: Cox SE {term}", v["se"], float(row["se(coef)"]), COX_TOL)]
        loglik = float(res.cox.loglik) if res.cox is not None else math.nan  # no fit: the check fails
        checks.append(Check(f"{name}: Cox partial log-likelihood", r["loglik"], loglik, LOGLIK_TOL, relative=False))
        if "cox_os" in r:
            os_ = an.overall_survival(df)
            v = r["cox_os"]["arm_A"]
            checks += [Check(f"{name}: Cox HR arm A vs B (secondary, overall survival, all follow-up)", v["hr"],
                             os_.hazard_ratio, COX_TOL),
                       Check(f"{name}: Cox SE arm_A (secondary, overall survival)", v["se"], os_.se, COX_TOL)]
        km = an.milestone(df, 24.0).table
        for arm, v in r["km_24"].items():
            checks += [Check(f"{name}: KM 2-year survival, arm {arm}", v["survival"], float(km["survival"][arm]),
                             KM_TOL),
                       Check(f"{name}: KM Greenwood SE, arm {arm}", v["se"], float(km["se"][arm]), KM_TOL)]
        if "cox_zph_km" in r:
            zph = an.ph_tests(df, transform="km")
            for term, v in r["cox_zph_km"].items():
                checks.append(Check(f"{name}: cox.zph chi-square (km), {term}", v["chisq"],
                                    float(zph.loc[term, "chisq"]), ZPH_TOL, relative=False))
        lr = an.logrank_test(df)
        checks += [Check(f"{name}: log-rank chi-square", r["logrank"]["chisq"], lr.statistic, KM_TOL),
                   Check(f"{name}: log-rank p", r["logrank"]["p"], lr.p_value, KM_TOL)]
        for arm in ("A", "B"):
            checks.append(Check(f"{name}: log-rank expected deaths, arm {arm}", r["logrank"]["expected"][arm],
                                lr.expected[arm], KM_TOL))
            checks.append(Check(f"{name}: observed deaths, arm {arm}", float(r["logrank"]["observed"][arm]),
                                float(lr.observed[arm]), 0.0, relative=False))
    return checks


def _break_ties(df: Any, step: float) -> Any:
    """The rule of tests/reference/riskregression_ate.R: follow-up censored at the plan's horizon,
    then the k-th death (file order, k = 0, 1, ...) of each group of tied death times moved
    k * step months later."""
    from . import analysis as an

    d = an.primary_data(df).copy()
    dead = d["death"] == 1
    k = d.loc[dead].groupby("os_months").cumcount()
    d.loc[dead, "os_months"] = d.loc[dead, "os_months"] + k * step
    return d


def _riskregression_checks(ref: dict[str, Any]) -> list[Check]:
    """The standardized two-year survival of each shipped trial file (G-computation from the
    plan's Cox model, trialnb.analysis.standardized_milestone) against R riskRegression::ate."""
    from . import analysis as an
    from .data import load_trial

    data_dir = shipped_data_dir()
    checks: list[Check] = []
    for name, r in ref.get("results", {}).items():
        path = data_dir / r["file"]
        if not path.is_file():
            raise ImportError(f"data file data/{r['file']} not found")
        df = load_trial(path)
        for kind, data, se_tol in (("shipped", df, ATE_TIES_TOL),
                                   ("ties broken", _break_ties(df, ref["tie_step_months"]), ATE_TOL)):
            v = r["shipped" if kind == "shipped" else "ties_broken"]
            res = an.standardized_milestone(data)
            ties = f"{v['tied_death_times']} tied death times" if v["tied_death_times"] else "no tied death time"
            tag = f"{name} ({kind}: {ties})"
            checks += [Check(f"{tag}: standardized 2-year survival, arm A", v["survival"]["A"], res.survival_a,
                             ATE_TOL),
                       Check(f"{tag}: standardized 2-year survival, arm B", v["survival"]["B"], res.survival_b,
                             ATE_TOL),
                       Check(f"{tag}: difference A - B", -v["risk_difference"]["estimate"], res.difference, ATE_TOL),
                       Check(f"{tag}: SE of the difference", v["risk_difference"]["se"], res.diff_se, se_tol),
                       Check(f"{tag}: SE of arm A's survival", v["risk_se"]["A"], float(res.table["se"]["A"]),
                             se_tol),
                       Check(f"{tag}: SE of arm B's survival", v["risk_se"]["B"], float(res.table["se"]["B"]),
                             se_tol)]
    return checks


def crosscheck_frame(which: str) -> "pd.DataFrame":
    """The numbers of one cross-check as a frame, for notebooks and tests: one row per value with
    the ``quantity``, the ``reference`` (R), ``trialnb``'s value, the ``difference`` (relative
    unless ``relative`` is False), the ``tolerance`` and whether it ``passed``. ``which``:
    ``"rpact"`` (sample size, rpact_sample_size.json), ``"monitoring"`` (group-sequential
    boundaries, rpact_monitoring.json), ``"survival"`` (the Cox models, Kaplan-Meier,
    log-rank and cox.zph of every shipped trial file, survival_coxph.json) or
    ``"riskregression"`` (the standardized two-year survival, riskregression_ate.json)."""
    import pandas as pd

    builders = {"rpact": ("rpact_sample_size.json", _rpact_checks),
                "monitoring": ("rpact_monitoring.json", _monitoring_checks),
                "survival": ("survival_coxph.json", _survival_checks),
                "riskregression": ("riskregression_ate.json", _riskregression_checks)}
    if which not in builders:
        raise ValueError(f"which must be one of {', '.join(builders)}, got {which!r}")
    filename, build = builders[which]
    ref = _load_reference(filename)
    if ref is None:
        raise FileNotFoundError(f"reference file tests/reference/{filename} not found")
    return pd.DataFrame([{"quantity": c.what, "reference": c.reference, "trialnb": c.ours,
                          "difference": c.difference, "tolerance": c.tolerance, "relative": c.relative,
                          "passed": c.passed} for c in build(ref)])


def _r_software(ref: dict[str, Any] | None, package: str) -> str:
    """'R rpact 3.3.4' / 'R 4.2.2, survival 3.5.3' from what the reference file records."""
    if not ref:
        return f"R {package}"
    if isinstance(ref.get("software"), str):
        return ref["software"]
    ver = ref.get(f"{package}_version") or (ref[package] if isinstance(ref.get(package), str) else None)
    return f"R {package} {ver}" if ver else f"R {package} (version not recorded)"


def crosscheck_rpact() -> Section:
    """Events, N and power for a spread of designs, against R rpact."""
    ref = _load_reference("rpact_sample_size.json")
    return _check_section("Cross-check: sample size and power against R rpact",
                          "rpact_sample_size.json", _rpact_checks, _r_software(ref, "rpact"))


def crosscheck_monitoring() -> Section:
    """Group-sequential boundaries and their operating characteristics, against R rpact."""
    ref = _load_reference("rpact_monitoring.json")
    return _check_section("Cross-check: group-sequential boundaries (the interim plan) against R rpact",
                          "rpact_monitoring.json", _monitoring_checks, _r_software(ref, "rpact"))


def crosscheck_survival() -> Section:
    """Cox model estimates, against R survival::coxph."""
    ref = _load_reference("survival_coxph.json")
    return _check_section("Cross-check: Cox model (primary and overall survival) against R survival",
                          "survival_coxph.json", _survival_checks, _r_software(ref, "survival"))


def crosscheck_riskregression() -> Section:
    """Standardized two-year survival (the estimand's summary, adjusted), against R riskRegression."""
    ref = _load_reference("riskregression_ate.json")
    return _check_section("Cross-check: standardized two-year survival against R riskRegression",
                          "riskregression_ate.json", _riskregression_checks, _r_software(ref, "riskRegression"))


# --- versions and seeds -------------------------------------------------------------------

def package_versions() -> Section:
    """Python and package versions used to produce this report, and R versions of the references."""
    rows = [["Python", platform.python_version()]]
    for name in PACKAGES:
        try:
            rows.append([name, metadata.version(name)])
        except metadata.PackageNotFoundError:
            rows.append([name, NOT_AVAILABLE])
    for fname, pkg in (("rpact_sample_size.json", "rpact"), ("survival_coxph.json", "survival"),
                       ("riskregression_ate.json", "riskRegression")):
        ref = _load_reference(fname)
        rows.append([f"R {pkg} (made the reference values)",
                     NOT_AVAILABLE if ref is None else _r_software(ref, pkg)])
    return Section("Package versions", "ok", ["Package", "Version"], rows,
                   [f"Platform: {platform.platform()}."])


SEED_HEADER = ["Dataset", "Seed", "Content", "Generated by"]


def _notebook_seeds() -> list[list[str]]:
    """``SEED = ...`` of every notebook source (the seeded generator each notebook creates)."""
    rows: list[list[str]] = []
    root = checkout_root()
    if root is None:  # an installed wheel carries no notebooks
        return rows
    for py in sorted((root / "notebooks").glob("[0-9][0-9]_*.py")):
        m = re.search(r"^SEED\s*=\s*(\d+)", py.read_text(encoding="utf-8"), flags=re.M)
        if m:
            rows.append([f"notebooks/{py.name}", m.group(1), "random draws made in the notebook",
                         "numpy.random.default_rng(SEED)"])
    return rows


def dataset_seeds() -> Section:
    """The seed of every synthetic dataset: the shipped files in data/ and the notebooks' own."""
    title = "Synthetic datasets and their seeds"
    try:
        from .simulation import SCENARIOS, SHIPPED_SCENARIOS, SHIPPED_SEED
    except ImportError as exc:
        return _unavailable(title, f"trialnb.simulation cannot be imported ({exc})")
    seed = str(SHIPPED_SEED)
    gen = "trialnb build-data"
    rows = []
    for name in SHIPPED_SCENARIOS:
        desc = SCENARIOS[name].description
        rows.append([f"data/trial_{name}.csv", seed, f"scenario {name}: {desc}", gen])
        rows.append([f"data/qol_{name}.csv", seed, f"quality of life, scenario {name}", gen])
    rows.append(["data/screening_log.csv", seed, "every referred patient (same for all scenarios)", gen])
    rows += _notebook_seeds()
    notes = ["Every shipped file is regenerated byte for byte by `trialnb build-data --out data --force`; "
             "tests/test_data.py checks the shipped files equal the regenerated ones."]
    readme = shipped_data_dir() / "README.md"
    if readme.is_file():
        stated = re.search(r"seed `(\d+)`", readme.read_text(encoding="utf-8"))
        if stated and stated.group(1) != seed:
            return Section(title, "fail", SEED_HEADER, rows,
                           notes + [f"data/README.md states seed {stated.group(1)}, the code uses {seed}."])
        notes.append(f"data/README.md states the same seed ({seed})." if stated
                     else "data/README.md does not state the seed.")
    return Section(title, "ok", SEED_HEADER, rows, notes)


# --- assembly -----------------------------------------------------------------------------

def collect() -> list[Section]:
    """Every section of the report, in order; a section that fails to build says why."""
    out = []
    for fn in (protocol_findings, protocol_numbers, crosscheck_rpact, crosscheck_monitoring, crosscheck_survival,
               crosscheck_riskregression, dataset_seeds, package_versions):
        try:
            out.append(fn())
        except Exception as exc:  # noqa: BLE001 - a broken piece must not hide the rest
            out.append(_unavailable(fn.__doc__.splitlines()[0] if fn.__doc__ else fn.__name__,
                                    f"building this section raised {type(exc).__name__}: {exc}"))
    return out


def _findings_line(sections: list[Section]) -> str:
    """First line: the protocol's findings, how many and which."""
    fs = [s for s in sections if s.title == "Protocol findings"]
    if not fs or fs[0].status == NOT_AVAILABLE:
        return "The protocol: findings not available."
    rows = fs[0].rows
    if not rows:
        return "The protocol: no findings."
    numbers = [r[1] for r in rows if r[0] == "sample-size arithmetic"]
    text = [r[1] for r in rows if r[0] != "sample-size arithmetic"]
    return (f"The protocol has {len(rows)} findings: {len(numbers)} in its sample-size arithmetic "
            f"({'; '.join(numbers)}) and {len(text)} in its text ({'; '.join(text)}).")


def _summary(sections: list[Section]) -> str:
    """Second line: whether our own recomputation and cross-checks hold (findings excluded)."""
    ours = [s for s in sections if s.title != "Protocol findings"]
    bad = [s.title for s in ours if s.status == "fail"]
    na = [s.title for s in ours if s.status == NOT_AVAILABLE]
    parts = [f"Our recomputation and cross-checks: {len(ours) - len(bad) - len(na)} of {len(ours)} sections ok"]
    if bad:
        parts.append("FAILED: " + "; ".join(bad))
    if na:
        parts.append(f"{NOT_AVAILABLE}: " + "; ".join(na))
    return ". ".join(parts) + "."


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    """Aligned columns; the last column is never cut (explanations are read in full)."""
    cells = [list(r) for r in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    widths[-1] = 0
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * (w or len(h)) for w, h in zip(widths, header, strict=True)))
    return "\n".join(lines)


TITLE = "trialnb reviewer's report: NCT04697043 protocol findings, calculations recomputed and cross-checked"


def text_report(sections: list[Section] | None = None) -> str:
    """The whole report as plain text (what ``trialnb audit`` prints)."""
    sections = collect() if sections is None else sections
    out = [TITLE, "=" * len(TITLE), _findings_line(sections), _summary(sections), ""]
    for s in sections:
        head = f"{s.title} [{s.status}]"
        out += [head, "-" * len(head)]
        if s.rows:
            out.append(_text_table(s.header, s.rows))
        out += s.notes
        out.append("")
    return "\n".join(out).rstrip() + "\n"


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f2f4f7; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 0.8em;
          margin-left: 0.5em; vertical-align: middle; }
.status-ok { background: #d9f2dd; color: #185c26; }
.status-fail { background: #f8d7da; color: #842029; }
.status-na { background: #fff3cd; color: #664d03; }
.status-findings { background: #f8d7da; color: #842029; }
td.result-pass { color: #185c26; font-weight: 600; }
td.result-fail { color: #842029; font-weight: 700; }
.summary { padding: 0.6em 1em; background: #f2f4f7; border-radius: 6px; }
.meta { color: #666; font-size: 0.85em; }
"""


def _html_section(s: Section) -> str:
    cls = {"ok": "status-ok", "fail": "status-fail", FINDINGS: "status-findings"}.get(s.status, "status-na")
    sid = "".join(ch if ch.isalnum() else "-" for ch in s.title.lower()).strip("-")
    parts = [f'<section id="{sid}" data-status="{html.escape(s.status)}">',
             f'<h2>{html.escape(s.title)}<span class="status {cls}">{html.escape(s.status)}</span></h2>']
    if s.rows:
        parts.append("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in s.header)
                     + "</tr></thead><tbody>")
        for r in s.rows:
            tds = []
            for h, c in zip(s.header, r, strict=True):
                klass = ""
                if h == "Result":
                    klass = ' class="result-pass"' if c == "pass" else ' class="result-fail"'
                tds.append(f"<td{klass}>{html.escape(c)}</td>")
            parts.append("<tr>" + "".join(tds) + "</tr>")
        parts.append("</tbody></table>")
    parts += [f"<p>{html.escape(n)}</p>" for n in s.notes]
    parts.append("</section>")
    return "\n".join(parts)


def html_report(sections: list[Section] | None = None) -> str:
    """The whole report as one self-contained HTML document (inline CSS, no scripts), in the
    documents' page shell (:func:`trialnb.documents.page`: provenance line, printed page numbers)."""
    sections = collect() if sections is None else sections
    body = "\n".join(_html_section(s) for s in sections)
    return page(TITLE, f"""<h1>{html.escape(TITLE)}</h1>
<p class="summary">{html.escape(_findings_line(sections))}<br>{html.escape(_summary(sections))}</p>
<p class="meta">Every number below is recomputed when the report is generated; nothing is copied
from a previous run.</p>
{body}""", provenance_line=provenance("trialnb audit --html"), css=_CSS)


def write_html(path: Path | str, sections: list[Section] | None = None) -> Path:
    """Write :func:`html_report` to ``path`` (parent folders created) atomically (a temporary
    file in the same folder, then :func:`os.replace`); return the path."""
    from .files import check_output_path, write_text_atomic

    path = check_output_path(path, "path", suffixes=(".html", ".htm"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(path, html_report(sections))
