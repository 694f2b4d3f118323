"""The clinical evidence the notebooks cite, in one place, each item with its citation.

Written up in the project's own words, with full references, in
``references/clinical_evidence.md``; this module holds the same numbers as data so that every
notebook and module reads them from here (:func:`trialnb.bias.evidence_table`,
:data:`trialnb.protocol_audit.RCT_EFFECT_SIZES`). The frequencies and prognostic effects of the
minimization factors used by the simulators are modelling choices declared once, with their
sources, in :mod:`trialnb.population`; :func:`parameters_table` shows them here.

Verification: ``verified=True`` means the number was read in the abstract, registry record or
publisher page of the cited paper; ``False`` marks a number whose source text was partly
garbled (JCOG1017's conference abstract).

Direction: every hazard ratio is surgery of the primary (or locoregional treatment) vs none;
below 1 favours surgery.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = [
    "ATTRITION",
    "REGISTRY_FIGURE",
    "STUDIES",
    "Attrition",
    "Study",
    "parameters_table",
    "studies_table",
    "study",
]


@dataclass(frozen=True)
class Study:
    """One published estimate of the hazard ratio of death, surgery vs no surgery."""

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
    timing: str = ""  # for trials: when randomization happened
    verified: bool = True
    note: str = ""

    @property
    def randomized(self) -> bool:
        return self.design.startswith("randomized")


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
    Study("tata2015", "Tata Memorial (Badwe 2015)", "randomized trial", "Mumbai, 2005-2013, after response to chemotherapy",
          350, 1.04, 0.81, 1.34, 0.95, "Badwe R et al. Lancet Oncol 2015;16(13):1380-1388",
          timing="after response to front-line chemotherapy"),
    Study("mf0701_2018", "MF07-01 (Soran 2018)", "randomized trial", "Turkey, 2007-2012, at diagnosis", 274,
          0.66, 0.49, 0.88, 0.95, "Soran A et al. Ann Surg Oncol 2018;25(11):3141-3149",
          timing="at diagnosis, before systemic therapy"),
    Study("e2108_2022", "E2108 (Khan 2022)", "randomized trial", "North America, after 4-8 months of systemic therapy",
          256, 1.11, 0.82, 1.52, 0.90, "Khan SA et al. J Clin Oncol 2022;40(9):978-987 (90% CI)",
          timing="after 4-8 months of systemic therapy without progression",
          note="390 registered, 256 randomized"),
    Study("reinhorn2021", "Reinhorn 2021 (meta-analysis, RCTs)", "randomized meta-analysis", "4 RCTs", 970,
          0.97, 0.72, 1.29, 0.95, "Reinhorn D et al. Breast 2021, doi 10.1016/j.breast.2021.05.003"),
    Study("villacampa2024", "Villacampa 2024 (meta-analysis, RCTs)", "randomized meta-analysis", "5 RCTs", 1381,
          0.93, 0.76, 1.14, 0.95, "Villacampa G et al. Oncologist 2024, doi 10.1093/oncolo/oyad266"),
    Study("jcmt2023_rct", "JCMT 2023 (meta-analysis, RCTs)", "randomized meta-analysis", "4 RCTs", None,
          1.03, 0.67, 1.58, 0.95, "J Cancer Metastasis Treat 2023;9:41"),
    # not in the evidence forest (see ``in_forest``): partly verified or of unclear direction
    Study("jcog1017", "JCOG1017 (Shien 2023)", "randomized trial", "Japan, 2011-2018, after ~3 months of systemic therapy",
          407, 0.857, 0.686, 1.072, 0.90, "Shien T et al. J Clin Oncol 2023;41(16 suppl):523 (ASCO abstract, 90% CI)",
          timing="after about 3 months of primary systemic therapy, if not refractory", verified=False,
          note="570 registered, 407 randomized; conference abstract, text partly garbled"),
    Study("mf0701_2021", "MF07-01, 10 years (Soran 2021)", "randomized trial", "Turkey, 2007-2012, at diagnosis", 265,
          0.71, 0.59, 0.86, 0.95, "Soran A et al. J Am Coll Surg 2021;233(6):742-752",
          timing="at diagnosis, before systemic therapy", note="10-year update of MF07-01"),
)
"""Published hazard ratios of death with surgery of the primary vs none."""

_NOT_IN_FOREST = ("jcog1017", "mf0701_2021")


def study(key: str) -> Study:
    """The study called ``key``; a clear error lists the known keys otherwise."""
    for s in STUDIES:
        if s.key == key:
            return s
    raise KeyError(f"unknown study {key!r}; known: {', '.join(s.key for s in STUDIES)}")


REGISTRY_FIGURE: Study = study("khan2002")
"""The figure the protocol quotes: HR 0.61 (0.58-0.65) for surgery *with free margins* vs none."""


def studies_table(in_forest: bool | None = None) -> pd.DataFrame:
    """:data:`STUDIES` as a table. ``in_forest=True`` keeps the verified estimates drawn in the
    evidence forest (JCOG1017, partly verified, and MF07-01's 10-year update left out)."""
    rows = [s for s in STUDIES if in_forest is None or (s.key not in _NOT_IN_FOREST) == in_forest]
    out = pd.DataFrame([{
        "study": s.study, "design": s.design, "data": s.data, "n": s.n, "hazard_ratio": s.hazard_ratio,
        "ci_lower": s.ci_lower, "ci_upper": s.ci_upper, "ci_level": s.ci_level, "citation": s.citation,
        "timing": s.timing, "verified": s.verified, "note": s.note, "key": s.key} for s in rows])
    out["n"] = out["n"].astype("Int64")
    return out


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
