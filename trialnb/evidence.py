"""The clinical evidence the notebooks cite, in one place, each item with its citation, and its
meta-analysis.

Written up in the project's own words, with full references, in
``references/clinical_evidence.md``; this module holds the same numbers as data so that every
notebook and module reads them from here (:func:`trialnb.bias.evidence_table`,
:data:`trialnb.protocol_audit.RCT_EFFECT_SIZES`, :mod:`trialnb.assurance`). The frequencies and
prognostic effects of the minimization factors used by the simulators are modelling choices
declared once, with their sources, in :mod:`trialnb.population`; :func:`parameters_table` shows
them here.

Verification: ``verified=True`` means the number was read in the abstract, registry record or
publisher page of the cited paper; ``False`` marks a number whose source text was partly
garbled (JCOG1017's conference abstract) or that is implausible (see MF07-01's 10-year CI).

Direction: every hazard ratio is surgery of the primary (or locoregional treatment) vs none;
below 1 favours surgery. ABCSG-28 printed its hazard ratios the other way round (see
:data:`ABCSG28_PRINTED`); :data:`STUDIES` holds them inverted.

**From a reported interval to a log hazard ratio and its standard error** (:func:`log_hr_se`;
Parmar, Torri & Stewart 1998, *Stat Med* 17:2815-2834; Tierney et al. 2007, *Trials* 8:16):
a level-``c`` interval on the hazard-ratio scale is ``exp(ln HR -+ z se)`` with
``z = z_{(1+c)/2}``, so ``se = (ln U - ln L) / (2 z)``: ``z = 1.960`` for a 95% interval and
``z = 1.645`` for a 90% interval (E2108, JCOG1017). Using 1.96 on a 90% interval would shrink the
SE by 16% and give the trial too much weight. The log HR is the log of the printed estimate.
``implied_deaths = 4 / se^2`` (Schoenfeld's variance for 1:1 allocation) is a check of the
recovered SE against the deaths a trial reported.

**Meta-analysis** (:func:`meta_analysis`): inverse-variance pooling of log hazard ratios
``y_i`` with within-trial variances ``v_i``; the fixed-effect model (``"FE"``) and random-effects
models ``y_i ~ N(mu, v_i + tau^2)`` with the between-trial variance ``tau^2`` estimated by
DerSimonian & Laird (1986, *Control Clin Trials* 7:177-188; ``"DL"``), restricted maximum
likelihood (Viechtbauer 2005, *J Educ Behav Stat* 30:261-293; ``"REML"``) or Paule & Mandel
(1982, *J Res Natl Bur Stand* 87:377-385; ``"PM"``); optional Knapp & Hartung (2003, *Stat Med*
22:2693-2710) / Hartung-Knapp-Sidik-Jonkman adjustment of the standard error with a t
distribution on k - 1 degrees of freedom. Conventions follow R ``metafor::rma`` (Viechtbauer
2010, *J Stat Softw* 36(3)): ``I^2`` and ``H^2`` as metafor computes them, the prediction
interval ``mu -+ crit sqrt(se^2 + tau^2)`` with ``crit`` the normal quantile (or t on k - 1
degrees of freedom with Knapp-Hartung), weights in percent. Equal to metafor 3.8 to 1e-6 on the
data sets of ``tests/reference/metafor_meta.R``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .errors import EvidenceError
from .report import fmt_num, fmt_p, fmt_pct
from .results import Result
from .validation import check_choice, check_probability

__all__ = [
    "ABCSG28_MEDIANS",
    "ABCSG28_PRINTED",
    "AT_DIAGNOSIS",
    "ATTRITION",
    "AFTER_INDUCTION",
    "Attrition",
    "FIGURES",
    "METHODS",
    "MetaAnalysis",
    "PublishedFigure",
    "RANDOMIZED_TRIALS",
    "REGISTRY_FIGURE",
    "STUDIES",
    "Study",
    "figure",
    "log_hr_se",
    "median_ratio_hazard_ratio",
    "meta_analysis",
    "parameters_table",
    "pool_trials",
    "studies_table",
    "study",
    "trial_inputs",
]

METHODS: tuple[str, ...] = ("FE", "DL", "REML", "PM")
"""Estimators of :func:`meta_analysis`: fixed effect, DerSimonian-Laird, REML, Paule-Mandel."""

AT_DIAGNOSIS = "at diagnosis"
AFTER_INDUCTION = "after induction"


def log_hr_se(hazard_ratio: float, ci_lower: float, ci_upper: float, ci_level: float = 0.95) -> tuple[float, float]:
    """``(ln HR, se)`` from a reported hazard ratio and its level-``ci_level`` interval:
    ``se = (ln U - ln L) / (2 z_{(1 + level)/2})`` (module docstring; 1.645 for a 90% interval)."""
    hr, lo, hi = (float(_positive(v, n)) for v, n in ((hazard_ratio, "hazard_ratio"), (ci_lower, "ci_lower"),
                                                       (ci_upper, "ci_upper")))
    level = check_probability(ci_level, "ci_level", lo_open=True, hi_open=True, error=EvidenceError)
    if not lo < hr < hi:
        raise EvidenceError(f"the interval must contain the estimate: need ci_lower < hazard_ratio < ci_upper, "
                            f"got {lo} < {hr} < {hi}")
    z = float(stats.norm.ppf(0.5 + level / 2))
    return math.log(hr), (math.log(hi) - math.log(lo)) / (2 * z)


def _positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)) or value <= 0:
        raise EvidenceError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Study:
    """One published estimate of the hazard ratio of death, surgery vs no surgery.

    ``randomized_at`` (trials only): :data:`AT_DIAGNOSIS` or :data:`AFTER_INDUCTION` (after
    months of systemic therapy, among patients whose disease had not progressed); ``deaths``:
    the deaths the trial reported, where known (a check of the recovered SE)."""

    key: str
    study: str
    design: str  # "observational", "observational meta-analysis", "randomized trial", "randomized meta-analysis"
    data: str
    n: int | None
    hazard_ratio: float
    ci_lower: float
    ci_upper: float
    ci_level: float
    citation: str
    timing: str = ""  # for trials: when randomization happened, in words
    verified: bool = True
    note: str = ""
    randomized_at: str = ""
    deaths: int | None = None

    @property
    def randomized(self) -> bool:
        return self.design.startswith("randomized")

    @property
    def log_hr(self) -> float:
        """ln HR (:func:`log_hr_se`)."""
        return log_hr_se(self.hazard_ratio, self.ci_lower, self.ci_upper, self.ci_level)[0]

    @property
    def se(self) -> float:
        """SE of ln HR recovered from the reported interval (:func:`log_hr_se`)."""
        return log_hr_se(self.hazard_ratio, self.ci_lower, self.ci_upper, self.ci_level)[1]

    @property
    def implied_deaths(self) -> float:
        """``4 / se^2``: the deaths a 1:1 trial needs for this SE (Schoenfeld)."""
        return 4.0 / self.se ** 2


ABCSG28_PRINTED: tuple[float, float, float] = (0.691, 0.358, 1.333)
"""ABCSG-28 POSYTIVE (Fitzal et al. 2019) as printed: "HR 0.691 (95% CI 0.358-1.333)" for
overall survival. Its medians (:data:`ABCSG28_MEDIANS`) favour *no* surgery, which a hazard ratio
of surgery vs none below 1 cannot do under proportional hazards; the exponential approximation
``median_none / median_surgery`` (:func:`median_ratio_hazard_ratio`) gives 1.58, close to
1 / 0.691 = 1.45, and the trial's distant-progression result is printed the same way (HR 0.598
with medians 13.9 months with surgery vs 29.0 without). We therefore read the printed ratios as
no surgery vs surgery and invert them: surgery vs none HR 1.45 (95% CI 0.75 to 2.79). The
inversion is our decision, not the authors' statement."""

ABCSG28_MEDIANS: tuple[float, float] = (34.6, 54.8)
"""ABCSG-28 median overall survival in months: with surgery, without surgery (Fitzal 2019)."""


def median_ratio_hazard_ratio(median_surgery: float, median_none: float) -> float:
    """Hazard ratio surgery vs none implied by two medians under exponential survival:
    ``median_none / median_surgery`` (the hazard is ln 2 / median)."""
    return _positive(median_none, "median_none") / _positive(median_surgery, "median_surgery")


_JCOG_FULL = ("Shien T, et al. Primary tumour resection plus systemic therapy versus systemic therapy alone in "
              "metastatic breast cancer (JCOG1017 PRIM-BC): a randomised clinical trial (journal not verified; 90% CI)")
_JCOG_ASCO = "Shien T et al. J Clin Oncol 2023;41(16 suppl):523 (ASCO abstract, 90% CI)"
_JCOG_EXPLORATORY = ("Shien T, Ishitobi M, Sasaki K, et al. Efficacy and prognostic predictors of primary systemic "
                     "therapy for de novo stage IV breast cancer: exploratory analysis of JCOG1017 PRIM-BC. "
                     "Breast Cancer (Tokyo) 2026, doi 10.1007/s12282-025-01821-4")
_ABCSG = "Fitzal F et al. Ann Surg 2019;269(6):1163-1169"

STUDIES: tuple[Study, ...] = (
    Study("khan2002", "Khan 2002", "observational", "US NCDB 1990-1993", 16023, 0.61, 0.58, 0.65, 0.95,
          "Khan SA, Stewart AK, Morrow M. Surgery 2002;132(4):620-627",
          note="surgery with free (negative) margins vs no surgery, multivariable; the registry figure "
               "the protocol quotes"),
    Study("gnerlich2007", "Gnerlich 2007", "observational", "SEER 1988-2003", 9734, 0.63, 0.60, 0.66, 0.95,
          "Gnerlich et al. Ann Surg Oncol 2007;14(8):2187-2194", note="adjusted"),
    Study("ponstostivint2019", "Pons-Tostivint 2019", "observational", "French ESME cohort 2008-2014", 4276,
          0.65, 0.55, 0.76, 0.95, "Pons-Tostivint E et al. Ann Surg Oncol 2019;26(2):356",
          note="surgery and/or radiotherapy; 1-year landmark, multivariable"),
    Study("ncdb2022_naive", "NCDB 2013-2016, CEBP 2022 (naive)", "observational", "US NCDB 2013-2016", 24329,
          0.54, 0.51, 0.57, 0.95, "Cancer Epidemiol Biomarkers Prev 2022;31(11):2079-2086",
          note="surgery as a dichotomous exposure (immortal time included)"),
    Study("ncdb2022_immortal", "NCDB 2013-2016, CEBP 2022 (immortal time excluded)", "observational",
          "US NCDB 2013-2016", 24329, 0.62, 0.59, 0.65, 0.95,
          "Cancer Epidemiol Biomarkers Prev 2022;31(11):2079-2086",
          note="dichotomous exposure, immortal time excluded"),
    Study("ruiterkamp2010", "Ruiterkamp 2010 (meta-analysis)", "observational meta-analysis",
          "10 retrospective studies", None, 0.65, 0.59, 0.72, 0.95,
          "Ruiterkamp J et al. Breast Cancer Res Treat 2010;120(1):9-16"),
    Study("jcmt2023_obs", "JCMT 2023 (meta-analysis, observational)", "observational meta-analysis",
          "43 observational studies", None, 0.66, 0.61, 0.71, 0.95, "J Cancer Metastasis Treat 2023;9:41"),
    Study("tata2015", "Tata Memorial (Badwe 2015)", "randomized trial",
          "Mumbai, 2005-2013, after response to chemotherapy", 350, 1.04, 0.81, 1.34, 0.95,
          "Badwe R et al. Lancet Oncol 2015;16(13):1380-1388",
          timing="after response to front-line chemotherapy", randomized_at=AFTER_INDUCTION, deaths=235),
    Study("mf0701_2018", "MF07-01 (Soran 2018)", "randomized trial", "Turkey, 2007-2012, at diagnosis", 274,
          0.66, 0.49, 0.88, 0.95, "Soran A et al. Ann Surg Oncol 2018;25(11):3141-3149",
          timing="at diagnosis, before systemic therapy", randomized_at=AT_DIAGNOSIS),
    Study("abcsg28", "ABCSG-28 POSYTIVE (Fitzal 2019)", "randomized trial", "Austria, 2011-2015, at diagnosis", 90,
          1 / ABCSG28_PRINTED[0], 1 / ABCSG28_PRINTED[2], 1 / ABCSG28_PRINTED[1], 0.95, _ABCSG,
          timing="at diagnosis; stopped early for poor accrual", randomized_at=AT_DIAGNOSIS,
          note="printed HR 0.691 (0.358-1.333) inverted: the medians (34.6 months with surgery, 54.8 without) "
               "favour no surgery"),
    Study("e2108_2022", "E2108 (Khan 2022)", "randomized trial", "North America, after 4-8 months of systemic therapy",
          256, 1.11, 0.82, 1.52, 0.90, "Khan SA et al. J Clin Oncol 2022;40(9):978-987 (90% CI)",
          timing="after 4-8 months of systemic therapy without progression", randomized_at=AFTER_INDUCTION,
          deaths=121, note="390 registered, 256 randomized"),
    Study("jcog1017", "JCOG1017 (Shien, full paper)", "randomized trial",
          "Japan, 2011-2018, after ~3 months of systemic therapy", 407, 0.86, 0.69, 1.07, 0.90, _JCOG_FULL,
          timing="after about 3 months of primary systemic therapy, if not progressing",
          randomized_at=AFTER_INDUCTION, deaths=221,
          note="570 registered, 407 randomized; median follow-up 60 months"),
    Study("reinhorn2021", "Reinhorn 2021 (meta-analysis, RCTs)", "randomized meta-analysis", "4 RCTs", 970,
          0.97, 0.72, 1.29, 0.95, "Reinhorn D et al. Breast 2021, doi 10.1016/j.breast.2021.05.003"),
    Study("villacampa2024", "Villacampa 2024 (meta-analysis, RCTs)", "randomized meta-analysis", "5 RCTs", 1381,
          0.93, 0.76, 1.14, 0.95, "Villacampa G et al. Oncologist 2024, doi 10.1093/oncolo/oyad266"),
    Study("jcmt2023_rct", "JCMT 2023 (meta-analysis, RCTs)", "randomized meta-analysis", "4 RCTs", None,
          1.03, 0.67, 1.58, 0.95, "J Cancer Metastasis Treat 2023;9:41"),
    # not in the evidence forest (see ``in_forest``): superseded, partly verified or implausible
    Study("jcog1017_asco2023", "JCOG1017 (Shien 2023, abstract)", "randomized trial",
          "Japan, 2011-2018, after ~3 months of systemic therapy", 407, 0.857, 0.686, 1.072, 0.90, _JCOG_ASCO,
          timing="after about 3 months of primary systemic therapy, if not refractory", verified=False,
          randomized_at=AFTER_INDUCTION, deaths=221,
          note="conference abstract, text partly garbled; superseded by the full paper"),
    Study("mf0701_2021", "MF07-01, 10 years (Soran 2021)", "randomized trial", "Turkey, 2007-2012, at diagnosis", 265,
          0.71, 0.59, 0.86, 0.95, "Soran A et al. J Am Coll Surg 2021;233(6):742-752",
          timing="at diagnosis, before systemic therapy", verified=False, randomized_at=AT_DIAGNOSIS,
          note="10-year update of MF07-01; its CI implies about 430 deaths (4 / se^2) among 265 patients, "
               "so it is not used for pooling"),
)
"""Published hazard ratios of death with surgery of the primary vs none."""

_NOT_IN_FOREST = ("jcog1017_asco2023", "mf0701_2021")

RANDOMIZED_TRIALS: tuple[str, ...] = ("tata2015", "mf0701_2018", "abcsg28", "e2108_2022", "jcog1017")
"""The five randomized trials pooled by :func:`pool_trials` (one report per trial: the primary
publication; MF07-01's 10-year update is left out, see its note)."""


def study(key: str) -> Study:
    """The study called ``key``; a clear error lists the known keys otherwise."""
    for s in STUDIES:
        if s.key == key:
            return s
    raise KeyError(f"unknown study {key!r}; known: {', '.join(s.key for s in STUDIES)}")


REGISTRY_FIGURE: Study = study("khan2002")
"""The figure the protocol quotes: HR 0.61 (0.58-0.65) for surgery *with free margins* vs none."""


def studies_table(in_forest: bool | None = None) -> pd.DataFrame:
    """:data:`STUDIES` as a table, with ``log_hr`` and ``se`` (:func:`log_hr_se`).
    ``in_forest=True`` keeps the estimates drawn in the evidence forest (JCOG1017's superseded
    abstract and MF07-01's 10-year update left out)."""
    rows = [s for s in STUDIES if in_forest is None or (s.key not in _NOT_IN_FOREST) == in_forest]
    out = pd.DataFrame([{
        "study": s.study, "design": s.design, "data": s.data, "n": s.n, "hazard_ratio": s.hazard_ratio,
        "ci_lower": s.ci_lower, "ci_upper": s.ci_upper, "ci_level": s.ci_level, "citation": s.citation,
        "timing": s.timing, "verified": s.verified, "note": s.note, "key": s.key,
        "randomized_at": s.randomized_at, "log_hr": s.log_hr, "se": s.se} for s in rows])
    out["n"] = out["n"].astype("Int64")
    return out


def trial_inputs(keys: Sequence[str] = RANDOMIZED_TRIALS) -> pd.DataFrame:
    """The meta-analysis inputs of the trials ``keys``: log HR and SE recovered from each
    reported interval, the interval as printed, when randomization happened, the deaths
    reported and the deaths the SE implies (``4 / se^2``), and the source."""
    trials = [study(k) for k in keys]
    return pd.DataFrame([{
        "key": s.key, "study": s.study, "log_hr": s.log_hr, "se": s.se, "hazard_ratio": s.hazard_ratio,
        "ci_lower": s.ci_lower, "ci_upper": s.ci_upper, "ci_level": s.ci_level, "randomized_at": s.randomized_at,
        "n": s.n, "deaths": s.deaths, "implied_deaths": s.implied_deaths, "citation": s.citation,
        "note": s.note} for s in trials]).astype({"deaths": "Int64", "n": "Int64"})


@dataclass(frozen=True)
class PublishedFigure:
    """A published number that is not a hazard ratio of death (a proportion, a secondary
    endpoint), with its citation."""

    key: str
    what: str
    value: float
    citation: str
    ci_lower: float | None = None
    ci_upper: float | None = None
    note: str = ""


FIGURES: tuple[PublishedFigure, ...] = (
    PublishedFigure("jcog1017_lrfs", "JCOG1017: hazard ratio of local relapse, surgery vs none "
                    "(locoregional relapse-free survival; 95% CI)", 0.42, _JCOG_FULL, 0.33, 0.53,
                    note="median LRFS 20 months without surgery vs 63 months with surgery"),
    PublishedFigure("jcog1017_non_progression", "JCOG1017: patients without progression after 3 months of "
                    "subtype-based primary systemic therapy, of 569 treated", 0.772, _JCOG_EXPLORATORY,
                    note="exploratory report; progression defined as a 10% or larger increase in the maximum "
                         "diameter; 407 of 570 registered (71.4%) were eventually randomized"),
    PublishedFigure("jcog1017_treated", "JCOG1017: patients treated before randomization", 569, _JCOG_EXPLORATORY),
)
"""Other published numbers the notebooks use. ``jcog1017_non_progression`` is the only
published figure for how many patients of a "systemic therapy first, then surgery" strategy
reach the point of surgery without progression: 1 - 0.772 = 22.8% progressed within about 3
months, a *lower bound* for the fraction of a randomize-at-diagnosis arm A never operated
(refusal, unfitness and death add to it; JCOG1017 randomized only 71.4% of its registered
patients). Caveats: a Japanese population on subtype-based therapy, a lenient definition of
progression, and about 3 months of therapy; NCT04697043 states neither how long the systemic
therapy lasts before surgery nor what "progressive" means."""


def figure(key: str) -> PublishedFigure:
    """The published figure called ``key`` (:data:`FIGURES`)."""
    for f in FIGURES:
        if f.key == key:
            return f
    raise KeyError(f"unknown figure {key!r}; known: {', '.join(f.key for f in FIGURES)}")


@dataclass(frozen=True)
class Attrition:
    """Patients registered before induction therapy and randomized after it (post-induction trials)."""

    trial: str
    registered: int
    randomized: int
    citation: str

    @property
    def not_randomized(self) -> float:
        return 1.0 - self.randomized / self.registered


ATTRITION: tuple[Attrition, ...] = (
    Attrition("E2108", 390, 256, study("e2108_2022").citation),
    Attrition("JCOG1017", 570, 407, study("jcog1017").citation),
)
"""Registration-to-randomization losses in the post-induction trials (34% and 29%). They are
*not* non-operation after randomization: they happen before randomization."""


def parameters_table() -> pd.DataFrame:
    """Factor frequencies and prognostic hazard ratios of the simulated population, with their
    sources. They are declared once in :mod:`trialnb.population` (a modelling choice, not a
    published fact); this table only presents them beside the published evidence."""
    from .population import SOURCES

    return pd.DataFrame([{"name": k, "value": v.value, "published range": v.range, "sources": v.reference}
                         for k, v in SOURCES.items()])


# ---------------------------------------------------------------------------------------
# meta-analysis


@dataclass(frozen=True)
class MetaAnalysis(Result):
    """Result of :func:`meta_analysis` (log scale for ``log_hr``/``se``, hazard-ratio scale for
    the intervals). ``statistic`` is z (or t on ``k - 1`` degrees of freedom with
    ``hksj``); ``i2`` and ``h2`` as metafor (``i2`` in percent); ``q`` is Cochran's Q with
    fixed-effect weights on ``k - 1`` degrees of freedom; ``pi_lower``/``pi_upper`` the
    ``level`` prediction interval for the hazard ratio of a new trial (the confidence interval
    for the fixed-effect model); ``weights`` in percent (summing to 100)."""

    method: str
    hksj: bool
    level: float
    k: int
    log_hr: float
    se: float
    hazard_ratio: float
    ci_lower: float
    ci_upper: float
    statistic: float
    p_value: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_p_value: float
    pi_lower: float
    pi_upper: float
    labels: tuple[str, ...] = field(repr=False)
    study_log_hr: tuple[float, ...] = field(repr=False)
    study_se: tuple[float, ...] = field(repr=False)
    weights: tuple[float, ...] = field(repr=False)

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)

    @property
    def predictive_sd(self) -> float:
        """SD of the log hazard ratio of a new trial: ``sqrt(se^2 + tau^2)``."""
        return math.sqrt(self.se ** 2 + self.tau2)

    def describe(self) -> str:
        names = {"FE": "fixed-effect", "DL": "random-effects (DerSimonian-Laird)",
                 "REML": "random-effects (REML)", "PM": "random-effects (Paule-Mandel)"}
        return names[self.method] + (", Knapp-Hartung" if self.hksj else "")

    def to_frame(self) -> pd.DataFrame:
        """One row per trial (HR with its ``level`` interval recomputed from log HR and SE,
        weight in percent), then the pooled row with the prediction interval."""
        z = float(stats.norm.ppf(0.5 + self.level / 2))
        y, s = np.asarray(self.study_log_hr), np.asarray(self.study_se)
        rows = pd.DataFrame({"label": self.labels, "log_hr": y, "se": s, "hazard_ratio": np.exp(y),
                             "ci_lower": np.exp(y - z * s), "ci_upper": np.exp(y + z * s),
                             "weight_percent": self.weights, "pi_lower": np.nan, "pi_upper": np.nan})
        pooled = pd.DataFrame([{"label": f"pooled ({self.method})", "log_hr": self.log_hr, "se": self.se,
                                "hazard_ratio": self.hazard_ratio, "ci_lower": self.ci_lower,
                                "ci_upper": self.ci_upper, "weight_percent": 100.0, "pi_lower": self.pi_lower,
                                "pi_upper": self.pi_upper}])
        return pd.concat([rows, pooled], ignore_index=True)

    def summary(self) -> str:
        lvl = round(self.level * 100)
        stat = "t" if self.hksj else "z"
        het = (f"tau² = {fmt_num(self.tau2, 4)}, I² = {fmt_pct(self.i2 / 100)}, " if self.method != "FE" else
               f"I² = {fmt_pct(self.i2 / 100)}, ")
        name = self.describe()
        return (f"{name[0].upper() + name[1:]} meta-analysis of {self.k} trials: HR "
                f"{fmt_num(self.hazard_ratio, 2)} "
                f"({lvl}% CI {fmt_num(self.ci_lower, 2)} to {fmt_num(self.ci_upper, 2)}), "
                f"{stat} = {fmt_num(self.statistic, 2)}, {fmt_p(self.p_value)}\n"
                f"heterogeneity: {het}Q = {fmt_num(self.q, 2)} on {self.k - 1} df, {fmt_p(self.q_p_value)}\n"
                f"{lvl}% prediction interval for a new trial's HR: {fmt_num(self.pi_lower, 2)} to "
                f"{fmt_num(self.pi_upper, 2)}")


def _fe_parts(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[np.ndarray, float]:
    w = 1.0 / (v + tau2)
    return w, float(w @ y / w.sum())


def _generalized_q(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    w, mu = _fe_parts(y, v, tau2)
    return float(w @ (y - mu) ** 2)


def _reml_score(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Twice the derivative of the restricted log-likelihood in tau^2:
    ``sum w^2 (y - mu)^2 - (sum w - sum w^2 / sum w)`` (``w = 1/(v + tau^2)``)."""
    w, mu = _fe_parts(y, v, tau2)
    return float((w * w) @ (y - mu) ** 2 - (w.sum() - (w * w).sum() / w.sum()))


def _root_from_zero(fun, what: str) -> float:
    """The root of a function that is positive at 0 and negative far enough out."""
    hi = 1.0
    while fun(hi) > 0:
        hi *= 2.0
        if hi > 1e8:  # pragma: no cover - the functions above always turn negative
            raise EvidenceError(f"cannot estimate tau2 ({what}): no sign change below 1e8")
    return float(optimize.brentq(fun, 0.0, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500))


def _tau2(y: np.ndarray, v: np.ndarray, method: str) -> float:
    k = y.size
    if method == "FE":
        return 0.0
    if method == "DL":
        w = 1.0 / v
        q = _generalized_q(y, v, 0.0)
        return max(0.0, (q - (k - 1)) / (w.sum() - (w * w).sum() / w.sum()))
    if method == "PM":
        if _generalized_q(y, v, 0.0) <= k - 1:
            return 0.0
        return _root_from_zero(lambda t: _generalized_q(y, v, t) - (k - 1), "Paule-Mandel")
    if _reml_score(y, v, 0.0) <= 0:
        return 0.0
    return _root_from_zero(lambda t: _reml_score(y, v, t), "REML")


def _as_vector(x: Any, name: str) -> np.ndarray:
    if isinstance(x, (str, bytes)) or np.ndim(x) != 1:
        raise EvidenceError(f"{name} must be a sequence of numbers (one per trial), got {x!r}")
    if any(isinstance(v, (bool, np.bool_)) for v in x):
        raise EvidenceError(f"{name} must hold numbers, not True/False, got {list(x)!r}")
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise EvidenceError(f"{name} must hold numbers, got {list(x)!r}") from None
    if not np.all(np.isfinite(a)):
        raise EvidenceError(f"{name} must hold finite numbers, got {a.tolist()}")
    return a


def meta_analysis(log_hr: Sequence[float], se: Sequence[float], *, method: str = "REML", hksj: bool = False,
                  labels: Sequence[str] | None = None, level: float = 0.95) -> MetaAnalysis:
    """Inverse-variance meta-analysis of log hazard ratios (module docstring), as R
    ``metafor::rma(yi = log_hr, sei = se, method = method, test = "knha" if hksj else "z")``.

    ``method``: ``"FE"`` (fixed effect), ``"DL"``, ``"REML"`` or ``"PM"`` (random effects);
    ``hksj=True`` (Knapp-Hartung, random effects only) replaces the SE by
    ``sqrt(sum w (y - mu)^2 / ((k - 1) sum w))`` and the normal quantile by t on k - 1 degrees
    of freedom, for the confidence and the prediction interval. REML and Paule-Mandel are solved
    to machine precision (metafor's own stopping rules are looser; the R reference script
    tightens them). At least two trials are needed.
    """
    y = _as_vector(log_hr, "log_hr")
    s = _as_vector(se, "se")
    if y.size != s.size:
        raise EvidenceError(f"log_hr and se must have one entry per trial: got {y.size} and {s.size}")
    if y.size < 2:
        raise EvidenceError(f"a meta-analysis needs at least 2 trials, got {y.size}")
    if np.any(s <= 0):
        raise EvidenceError(f"every se must be > 0, got {s.tolist()}")
    method = check_choice(method, "method", METHODS, ignore_case=True, error=EvidenceError)
    if not isinstance(hksj, (bool, np.bool_)):
        raise EvidenceError(f"hksj must be True or False, got {hksj!r}")
    if hksj and method == "FE":
        raise EvidenceError("hksj (Knapp-Hartung) adjusts random-effects models only; use method 'DL', 'REML' "
                            "or 'PM' with hksj=True, or method='FE' with hksj=False")
    level = check_probability(level, "level", lo_open=True, hi_open=True, error=EvidenceError)
    k = int(y.size)
    if labels is None:
        labs = tuple(f"trial {i + 1}" for i in range(k))
    else:
        labs = tuple(str(x) for x in labels)
        if len(labs) != k:
            raise EvidenceError(f"labels must name each of the {k} trials, got {len(labs)}")
    v = s * s
    tau2 = _tau2(y, v, method)
    w, mu = _fe_parts(y, v, tau2)
    sw = float(w.sum())
    if hksj:
        s2 = float(w @ (y - mu) ** 2) / (k - 1)
        se_mu = math.sqrt(s2 / sw)
        if se_mu == 0:
            raise EvidenceError("every trial has the same estimate, so the Knapp-Hartung SE is 0; "
                                "use hksj=False for such data")
        crit = float(stats.t.ppf(0.5 + level / 2, k - 1))
        stat = mu / se_mu
        p = float(2 * stats.t.sf(abs(stat), k - 1))
    else:
        se_mu = math.sqrt(1.0 / sw)
        crit = float(stats.norm.ppf(0.5 + level / 2))
        stat = mu / se_mu
        p = float(2 * stats.norm.sf(abs(stat)))
    wf = 1.0 / v
    q = _generalized_q(y, v, 0.0)
    if method == "FE":
        i2 = max(0.0, 100.0 * (q - (k - 1)) / q) if q > 0 else 0.0
        h2 = q / (k - 1)
        half_pi = crit * se_mu
    else:
        vt = (k - 1) / (wf.sum() - (wf * wf).sum() / wf.sum())
        i2 = 100.0 * tau2 / (vt + tau2)
        h2 = (vt + tau2) / vt
        half_pi = crit * math.sqrt(se_mu ** 2 + tau2)
    return MetaAnalysis(
        method=method, hksj=bool(hksj), level=level, k=k, log_hr=mu, se=se_mu, hazard_ratio=math.exp(mu),
        ci_lower=math.exp(mu - crit * se_mu), ci_upper=math.exp(mu + crit * se_mu), statistic=float(stat),
        p_value=p, tau2=tau2, i2=float(i2), h2=float(h2), q=q, q_p_value=float(stats.chi2.sf(q, k - 1)),
        pi_lower=math.exp(mu - half_pi), pi_upper=math.exp(mu + half_pi), labels=labs,
        study_log_hr=tuple(float(x) for x in y), study_se=tuple(float(x) for x in s),
        weights=tuple(float(x) for x in 100.0 * w / sw))


def pool_trials(keys: Sequence[str] | None = None, *, randomized_at: str | None = None, method: str = "REML",
                hksj: bool = False) -> MetaAnalysis:
    """:func:`meta_analysis` of the randomized trials ``keys`` (default
    :data:`RANDOMIZED_TRIALS`), or of those of them randomized :data:`AT_DIAGNOSIS` or
    :data:`AFTER_INDUCTION` (``randomized_at``), labelled by study name."""
    chosen = list(RANDOMIZED_TRIALS if keys is None else keys)
    for key in chosen:
        s = study(key)
        if not s.randomized or s.design != "randomized trial":
            raise EvidenceError(f"{key!r} is not a randomized trial ({s.design}); pool trials only")
    if randomized_at is not None:
        randomized_at = check_choice(randomized_at, "randomized_at", (AT_DIAGNOSIS, AFTER_INDUCTION),
                                     error=EvidenceError)
        chosen = [k for k in chosen if study(k).randomized_at == randomized_at]
    trials = [study(k) for k in chosen]
    return meta_analysis([t.log_hr for t in trials], [t.se for t in trials], method=method, hksj=hksj,
                         labels=[t.study for t in trials])

