"""The NCT04697043 protocol as data: the single source of truth for every other module.

Everything the protocol summary states that a calculation, a simulation, a data check or a
widget needs lives here, each item with the protocol section it comes from (and, where it
helps a reviewer, the protocol's own words). Other modules import from here; nothing here
imports from them (only the two leaves :mod:`trialnb.errors` and :mod:`trialnb.validation`).

Vocabulary used everywhere in ``trialnb``:

* arms ``"A"`` (systemic therapy, then surgery of the primary if the disease is not
  progressive) and ``"B"`` (systemic therapy alone);
* minimization factors ``dominant_site`` in {``"bone"``, ``"soft_tissue"``, ``"visceral"``},
  ``hormone_receptor`` in {``"positive"``, ``"negative"``} and ``her2`` in
  {``"positive"``, ``"negative"``};
* a *patient* is a mapping from these names to levels (plus, for screening, the fields of
  :data:`SCREENING_FIELDS` in :mod:`trialnb.eligibility`).

Source: ``references/NCT04697043-protocol-record.txt`` in this repository (the
ClinicalTrials.gov record NCT04697043, Tehran University of Medical Sciences, start date
20 November 2020, as retrieved for the project; its header says where from and when). Every
``Sourced.quote`` below occurs verbatim in that file (``tests/test_protocol.py`` checks it).

Also here: :data:`FINDINGS`, what the protocol text itself gets wrong or leaves open. What
the companion computes with -- the design assumptions, the primary analysis and the interim
plan -- is the executable plan built from this object, :data:`trialnb.plan.PLAN`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

import pandas as pd

from .errors import PatientRecordError
from .validation import check_identifier, check_record

__all__ = [
    "ARMS",
    "ARM_CODES",
    "FACTORS",
    "FACTOR_NAMES",
    "FINDINGS",
    "PATIENT_ID_PATTERN",
    "PATIENT_ID_RULE",
    "PROTOCOL",
    "Arm",
    "Design",
    "Endpoint",
    "Factor",
    "Finding",
    "Protocol",
    "Sourced",
    "StatedResults",
    "check_patient_factors",
    "check_trial_id",
    "findings_table",
    "strata",
]


@dataclass(frozen=True)
class Sourced:
    """Where a protocol item comes from: the section heading and the protocol's own words."""

    section: str
    quote: str = ""


@dataclass(frozen=True)
class Arm:
    """A treatment arm of the trial."""

    code: str
    label: str
    description: str
    source: Sourced


@dataclass(frozen=True)
class Factor:
    """A minimization (stratification) factor recorded at randomization."""

    name: str
    label: str
    levels: tuple[str, ...]
    level_labels: Mapping[str, str]
    source: Sourced

    def check(self, value: Any) -> str:
        """Return ``value`` if it is one of this factor's levels, else raise a clear error."""
        if not isinstance(value, str) or value not in self.levels:
            raise PatientRecordError(
                f"{self.name}: {value!r} is not a known level; allowed: {', '.join(self.levels)}"
            )
        return value


@dataclass(frozen=True)
class Endpoint:
    """A primary or secondary endpoint as the protocol lists it."""

    name: str
    kind: str  # "primary" | "secondary"
    definition: str
    source: Sourced


@dataclass(frozen=True)
class Design:
    """The design assumptions of the sample-size section (time unit: months unless named).

    ``control_survival`` is the protocol's rounded S1(2) = 0.60; the exact value implied by
    its cumulative hazard lambda*t = 0.5 is exp(-0.5) = 0.6065 (see
    :meth:`control_survival_exact`). Both are kept so the audit can show the difference.
    """

    alpha: float = 0.05
    sided: int = 2
    power: float = 0.80
    allocation_ratio: float = 1.0  # n_A / n_B
    hazard_ratio: float = 0.50  # A vs B
    control_cumulative_hazard: float = 0.5  # lambda * t at t = 2 years
    control_survival: float = 0.60  # S1(2) as the protocol rounds it
    horizon_months: float = 24.0
    accrual_months: float = 36.0
    loss_to_follow_up: float = 0.10

    @property
    def horizon_years(self) -> float:
        return self.horizon_months / 12.0

    @property
    def control_survival_exact(self) -> float:
        """exp(-lambda t) with the protocol's lambda t = 0.5: 0.6065."""
        return math.exp(-self.control_cumulative_hazard)

    @property
    def control_hazard_per_month(self) -> float:
        """Exponential hazard per month implied by lambda t = 0.5 over 24 months."""
        return self.control_cumulative_hazard / self.horizon_months


@dataclass(frozen=True)
class StatedResults:
    """The numbers the protocol states as results of its own calculation (kept verbatim)."""

    z_alpha_half: float = 1.96
    z_beta: float = 0.84
    events: int = 66
    death_fraction: float = 0.40  # "40% of patients will die during the 2-years follow-up"
    s1_2y: float = 0.60
    s2_2y: float = 0.78
    p_event: float = 0.31
    n_total: int = 212
    n_per_arm: int = 106
    n_per_arm_after_loss: int = 118


_SS = "Statistics > Sample size calculation"

ARMS: tuple[Arm, ...] = (
    Arm(
        "A",
        "Systemic therapy, then surgery",
        "Systemic therapy followed by surgery of the primary tumour (lumpectomy or mastectomy "
        "aiming at free margins) if the disease is not progressive.",
        Sourced(
            "Clinical Trial Description",
            "A. systemic therapy followed by surgery if the disease is not progressive",
        ),
    ),
    Arm(
        "B",
        "Systemic therapy alone",
        "Systemic therapy according to guidelines; surgery of the primary is allowed for "
        "local progression (local control).",
        Sourced("Clinical Trial Description", "B. Systemic therapy"),
    ),
)
ARM_CODES: tuple[str, ...] = tuple(a.code for a in ARMS)

_RAND = Sourced(
    "Randomization",
    "dominant location of distant metastases (bone, soft tissue (lymph nodes and subcutaneous "
    "metastases) and visceral metastases), hormonal receptor status (ER and/ or PR positive "
    "or both negative) and HER2Neu status (overexpression yes or no) will be recorded",
)

FACTORS: tuple[Factor, ...] = (
    Factor(
        "dominant_site",
        "Dominant metastatic site",
        ("bone", "soft_tissue", "visceral"),
        {
            "bone": "Bone",
            "soft_tissue": "Soft tissue (lymph nodes, subcutaneous)",
            "visceral": "Visceral",
        },
        _RAND,
    ),
    Factor(
        "hormone_receptor",
        "Hormone receptor status",
        ("positive", "negative"),
        {"positive": "ER and/or PR positive", "negative": "ER and PR negative"},
        _RAND,
    ),
    Factor(
        "her2",
        "HER2 status",
        ("positive", "negative"),
        {"positive": "HER2 overexpressed", "negative": "HER2 not overexpressed"},
        _RAND,
    ),
)
FACTOR_NAMES: tuple[str, ...] = tuple(f.name for f in FACTORS)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "two_year_survival",
        "primary",
        "Percentage of patients alive two years after randomization; analysed by Cox "
        "regression with the minimization factors as covariates (intention to treat).",
        Sourced(
            "Primary and secondary outcome measures",
            "The primary endpoint is the two-year survival. This is defined as the percentage "
            "of patients who survive two years after randomization.",
        ),
    ),
    Endpoint("quality_of_life", "secondary", "Quality of life.", Sourced("Primary and secondary outcome measures")),
    Endpoint("overall_survival", "secondary", "Overall survival.", Sourced("Primary and secondary outcome measures")),
    Endpoint(
        "unplanned_local_therapy",
        "secondary",
        "Number of unplanned local therapies (surgery or radiotherapy).",
        Sourced("Primary and secondary outcome measures"),
    ),
    Endpoint(
        "axillary_treatment",
        "secondary",
        "Number of axillary lymph node dissections or axillary radiotherapy.",
        Sourced("Primary and secondary outcome measures"),
    ),
    Endpoint(
        "margin_status",
        "secondary",
        "Pathological resection margin status in patients treated by surgery of the primary.",
        Sourced("Primary and secondary outcome measures"),
    ),
)


PATIENT_ID_PATTERN: str = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
"""How this trial's identifiers (trial numbers such as ``P001``, screening numbers such as
``S0001``) are written: the project's decision, the protocol is silent. The CRF loaders of
:mod:`trialnb.data` and :meth:`trialnb.randomization.AllocationLog.allocate` refuse any other id.

Why this pattern: its first character is a letter or a digit, so no id can start with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return, which a spreadsheet opening a CSV export would
run as a formula (OWASP, "CSV Injection"); no comma, quote, space or control character either.
Every CSV the package writes is also neutralised (:func:`trialnb.files.csv_text`), so an id
from a log made without this pattern is still harmless in an export."""

PATIENT_ID_RULE: str = "1 to 64 ASCII letters, digits, '-' or '_', starting with a letter or digit (e.g. P001)"
""":data:`PATIENT_ID_PATTERN` in words (for messages and the data dictionary)."""


def check_trial_id(value: Any, name: str = "patient_id", *, error: type[Exception] = PatientRecordError) -> str:
    """An identifier of this trial (:data:`PATIENT_ID_PATTERN`), returned unchanged."""
    return check_identifier(value, name, pattern=PATIENT_ID_PATTERN, rule=PATIENT_ID_RULE, error=error)


def strata(factors: tuple[Factor, ...] = FACTORS) -> list[tuple[str, ...]]:
    """Every combination of factor levels (12 for the protocol's three factors)."""
    combos: list[tuple[str, ...]] = [()]
    for f in factors:
        combos = [c + (lvl,) for c in combos for lvl in f.levels]
    return combos


def check_patient_factors(
    patient: Mapping[str, Any], factors: tuple[Factor, ...] = FACTORS
) -> dict[str, str]:
    """Validate the minimization factors of one patient record.

    Returns ``{factor name: level}`` for the given factors. Raises
    :class:`PatientRecordError` naming every missing factor and every unknown level at once.
    """
    return check_record(patient, [(f.name, f.check, f"; allowed levels: {', '.join(f.levels)}") for f in factors],
                        what="patient record", error=PatientRecordError)


# --------------------------------------------------------------------------- findings

@dataclass(frozen=True)
class Finding:
    """Something the protocol text gets wrong, contradicts or leaves out of date, with the
    sentences it rests on and what follows for the trial or the project."""

    key: str
    title: str
    statement: str
    sources: tuple[Sourced, ...]
    consequence: str


def _months_between(start: str, end: str) -> int:
    y0, m0, d0 = (int(x) for x in start.split("-"))
    y1, m1, d1 = (int(x) for x in end.split("-"))
    return (y1 - y0) * 12 + (m1 - m0) - (1 if d1 < d0 else 0)


_RECORD = "Record fields"
_START, _END = "2020-11-20", "2021-12-20"
_N_AFTER_LOSS = 2 * StatedResults().n_per_arm_after_loss
_ACCRUAL = Design().accrual_months
_HORIZON = Design().horizon_months

FINDINGS: tuple[Finding, ...] = (
    Finding(
        "surgery_timing",
        "The timing of surgery in arm A contradicts itself",
        "Arm A is systemic therapy followed by surgery if the disease does not progress, yet the "
        "treatment section speaks of patients randomized to upfront surgery.",
        (Sourced("Clinical Trial Description",
                 "A. systemic therapy followed by surgery if the disease is not progressive"),
         Sourced("Clinical Trial Description > Treatment options",
                 "Patients who are randomized to upfront surgery of the breast tumor will receive a "
                 "lumpectomy or mastectomy")),
        "The timing decides how long the effect of surgery is delayed, how many arm-A patients are "
        "never operated (dilution of the ITT effect) and so the estimand; the project follows the "
        "arm definition (systemic therapy first) and treats the upfront wording as an error to query.",
    ),
    Finding(
        "feasibility_dates",
        "The registered dates cannot hold the planned accrual and follow-up",
        f"The record gives start {_START} and completion {_END}: "
        f"{_months_between(_START, _END)} months, against {_ACCRUAL:g} months of accrual plus "
        f"{_HORIZON:g} months of follow-up ({_ACCRUAL + _HORIZON:g} months).",
        (Sourced(_RECORD, "Start date November 20, 2020"), Sourced(_RECORD, "Completion date December 20, 2021"),
         Sourced(_SS, "an accrual interval of 36 months"), Sourced(f"{_SS} > Step 2", "Follow-up period= 2 years")),
        "Either the dates or the design are wrong; a reviewer should ask which.",
    ),
    Finding(
        "single_centre_accrual",
        "One centre must randomize about 6.6 patients a month",
        f"{_N_AFTER_LOSS} patients in {_ACCRUAL:g} months at a single hospital is "
        f"{_N_AFTER_LOSS / _ACCRUAL:.1f} randomized patients a month, every month, with metastatic "
        "disease at diagnosis and fit for surgery.",
        (Sourced(f"{_SS} > Step 2", "Number after considering 10% loss =118 /group"),
         Sourced("Settings and location", "which will be conducted at Tehran University of medical sciences, "
                 "imam Khomeini hospital")),
        "Comparable trials needed several years and many centres (SUBMIT closed for low accrual); "
        "the protocol gives no screening estimate to support the rate.",
    ),
    Finding(
        "trials_out_of_date",
        "\"Three randomized trials are examining\" was out of date in 2020",
        "By the 2020 start, the Tata Memorial (2015), MF07-01 (2018) and ABCSG-28 (2019) trials had "
        "reported and E2108 was presented in 2020; the sentence describes the situation of about "
        "2009-2012.",
        (Sourced("Clinical Trial Summary", "Three prospective randomized trials are examining the role of "
                 "surgery in patients presenting with stage IV disease and an intact primary tumor."),),
        "The rationale ignores the randomized evidence (hazard ratios about 0.9-1.1 except MF07-01) "
        "that makes the assumed HR 0.50 implausible; see references/clinical_evidence.md.",
    ),
    Finding(
        "two_control_survivals",
        "Two control survivals: 0.60 and exp(-0.5) = 0.6065",
        "The protocol writes lambda*t = 0.5 and S1(2) = 0.60, but exp(-0.5) = 0.6065.",
        (Sourced(f"{_SS} > Step 2", "λt=0.5 at t= 2-year"), Sourced(f"{_SS} > Step 2", "S1(2)= exp{-0.5}=0.60")),
        "The companion uses one value, exp(-0.5) = 0.6065, the one the protocol's own cumulative hazard "
        "implies (trialnb.plan.PLAN.design.control_survival): in the sample size, the simulations and the synthetic "
        "data. The rounded 0.60 is the protocol's; the two differ by 0.65 percentage points.",
    ),
    Finding(
        "registry_hr_free_margins",
        "The registry HR 0.61 is for surgery with free margins",
        "The 16,023-patient analysis compared surgery to negative margins with no surgery; HR 0.61 "
        "(0.58-0.65) is not the effect of surgery in general.",
        (Sourced("Clinical Trial Summary", "compared outcomes between patients having surgery of the primary "
                 "tumor to negative margins or no surgery"),
         Sourced("Clinical Trial Summary", "surgery reduced the HR for death to 0.61 (95% CI = 0.58 to 0.65)")),
        "Free margins select small, favourable tumours; the figure must keep its qualifier wherever quoted.",
    ),
    Finding(
        "biases_named",
        "The biases the protocol names do not include immortal time",
        "The protocol names confounding by favourable prognostic factors, stage migration, adjustment "
        "for chemotherapy and coding errors; immortal time (patients must survive to be operated) is "
        "not among them.",
        (Sourced("Clinical Trial Summary", "This phenomenon was referred to as the stage migration bias."),
         Sourced("Clinical Trial Summary", "coding errors in the retrospectively collected dataset were found "
                 "to explain part of the survival advantage")),
        "The notebooks say \"the biases the protocol names, plus immortal time\".",
    ),
)
"""What the protocol text itself gets wrong or leaves open (besides the sample-size arithmetic
audited by :func:`trialnb.protocol_audit.protocol_audit`), each with its sentences."""


def findings_table() -> pd.DataFrame:
    """:data:`FINDINGS` as a table: title, statement, sections and verbatim sentences, consequence."""
    return pd.DataFrame([{"finding": f.title, "statement": f.statement,
                          "section": " | ".join(dict.fromkeys(s.section for s in f.sources)),
                          "protocol text": " | ".join(s.quote for s in f.sources),
                          "consequence": f.consequence} for f in FINDINGS])



@dataclass(frozen=True)
class Protocol:
    """The whole protocol as one frozen object. Use the module-level :data:`PROTOCOL`."""

    nct_id: str = "NCT04697043"
    title: str = (
        "Surgery of the primary tumour in breast cancer with distant metastases at diagnosis"
    )
    sponsor: str = "Tehran University of Medical Sciences (Imam Khomeini hospital)"
    start_date: str = "2020-11-20"
    arms: tuple[Arm, ...] = ARMS
    factors: tuple[Factor, ...] = FACTORS
    endpoints: tuple[Endpoint, ...] = ENDPOINTS
    design: Design = field(default_factory=Design)
    stated: StatedResults = field(default_factory=StatedResults)
    analysis: str = (
        "Intention to treat; primary endpoint analysed in a Cox regression model with the "
        "minimization factors as covariates."
    )
    randomization: str = (
        "Centralized, computer-generated, immediately after diagnosis; minimization on "
        "dominant metastatic site, hormone receptor status and HER2 status."
    )
    findings: tuple[Finding, ...] = FINDINGS
    completion_date: str = "2021-12-20"

    def factor(self, name: str) -> Factor:
        """The factor called ``name``; a clear error lists the known names otherwise."""
        for f in self.factors:
            if f.name == name:
                return f
        raise KeyError(f"unknown factor {name!r}; known: {', '.join(FACTOR_NAMES)}")

    def arm(self, code: str) -> Arm:
        for a in self.arms:
            if a.code == code:
                return a
        raise KeyError(f"unknown arm {code!r}; known: {', '.join(ARM_CODES)}")

    @property
    def n_strata(self) -> int:
        return len(strata(self.factors))

    def parameters_table(self) -> pd.DataFrame:
        """Every design parameter and stated result with its unit and protocol source."""
        rows = []
        for f in fields(Design):
            rows.append(
                {
                    "group": "design assumption",
                    "name": f.name,
                    "value": getattr(self.design, f.name),
                    "unit": _UNITS.get(f.name, ""),
                    "section": _DESIGN_SOURCES[f.name].section,
                    "protocol text": _DESIGN_SOURCES[f.name].quote,
                }
            )
        for f in fields(StatedResults):
            rows.append(
                {
                    "group": "stated result",
                    "name": f.name,
                    "value": getattr(self.stated, f.name),
                    "unit": _UNITS.get(f.name, ""),
                    "section": _STATED_SOURCES[f.name].section,
                    "protocol text": _STATED_SOURCES[f.name].quote,
                }
            )
        return pd.DataFrame(rows)

    def source(self, name: str) -> Sourced:
        """Protocol section and words for a design parameter or stated result by name."""
        for table in (_DESIGN_SOURCES, _STATED_SOURCES):
            if name in table:
                return table[name]
        raise KeyError(
            f"no source recorded for {name!r}; known: "
            + ", ".join(sorted(_DESIGN_SOURCES) + sorted(_STATED_SOURCES))
        )


_UNITS = {
    "alpha": "probability (two-sided)",
    "sided": "sides",
    "power": "probability",
    "allocation_ratio": "n_A / n_B",
    "hazard_ratio": "A vs B",
    "control_cumulative_hazard": "lambda*t at 2 years",
    "control_survival": "probability at 2 years",
    "horizon_months": "months",
    "accrual_months": "months",
    "loss_to_follow_up": "fraction",
    "events": "deaths",
    "death_fraction": "fraction",
    "s1_2y": "probability",
    "s2_2y": "probability",
    "p_event": "probability",
    "n_total": "patients",
    "n_per_arm": "patients",
    "n_per_arm_after_loss": "patients",
}

_DESIGN_SOURCES: dict[str, Sourced] = {
    "alpha": Sourced(f"{_SS} > Step 1", "α=0.05 zα/2= 1.96"),
    "sided": Sourced(f"{_SS} > Step 1 (z at α/2: two-sided)", "zα/2= 1.96"),
    "power": Sourced(f"{_SS} > Step 1", "β=0.20 Zβ=0.84"),
    "allocation_ratio": Sourced(f"{_SS} > Step 1", "π1=π2= 1/2: Equal allocation"),
    "hazard_ratio": Sourced(f"{_SS} > Step 1", "HR =0.50"),
    "control_cumulative_hazard": Sourced(f"{_SS} > Step 2", "λt=0.5 at t= 2-year"),
    "control_survival": Sourced(f"{_SS} > Step 2", "S(t)= exp{-λt}= exp{0.5}=0.60"),
    "horizon_months": Sourced(f"{_SS} > Step 2", "Follow-up period= 2 years"),
    "accrual_months": Sourced(_SS, "an accrual interval of 36 months"),
    "loss_to_follow_up": Sourced(f"{_SS} > Step 2", "Considering a 10% loss of patients"),
}
_STATED_SOURCES: dict[str, Sourced] = {
    "z_alpha_half": Sourced(f"{_SS} > Step 1", "zα/2= 1.96"),
    "z_beta": Sourced(f"{_SS} > Step 1", "Zβ=0.84"),
    "events": Sourced(f"{_SS} > Step 1", "Event =66"),
    "death_fraction": Sourced(
        f"{_SS} > Step 2", "we assume the 40% of patients will die during the 2-years follow-up"
    ),
    "s1_2y": Sourced(f"{_SS} > Step 2", "S1(2)= exp{-0.5}=0.60"),
    "s2_2y": Sourced(f"{_SS} > Step 2", "S2(2)=exp (-0.5* HR}=0.78"),
    "p_event": Sourced(f"{_SS} > Step 2", "Pr {event} = 1- {(0.60+0.78)/2}=0.31"),
    "n_total": Sourced(f"{_SS} > Step 2", "N= 66/0.31=212"),
    "n_per_arm": Sourced(f"{_SS} > Step 2", "Total number n=106 each group"),
    "n_per_arm_after_loss": Sourced(f"{_SS} > Step 2", "Number after considering 10% loss =118 /group"),
}

PROTOCOL = Protocol()
"""The protocol of NCT04697043 as data."""
