"""The NCT04697043 protocol as data: the single source of truth for every other module.

Everything the protocol summary states that a calculation, a simulation, a data check or a
widget needs lives here, each item with the protocol section it comes from (and, where it
helps a reviewer, the protocol's own words). Other modules import from here; nothing here
imports from them.

Vocabulary used everywhere in ``trialnb``:

* arms ``"A"`` (systemic therapy, then surgery of the primary if the disease is not
  progressive) and ``"B"`` (systemic therapy alone);
* minimization factors ``dominant_site`` in {``"bone"``, ``"soft_tissue"``, ``"visceral"``},
  ``hormone_receptor`` in {``"positive"``, ``"negative"``} and ``her2`` in
  {``"positive"``, ``"negative"``};
* a *patient* is a mapping from these names to levels (plus, for screening, the fields of
  :data:`SCREENING_FIELDS` in :mod:`trialnb.eligibility`).

Source: ``shared/protocol/NCT04697043-protocol-summary.txt`` (ClinicalTrials.gov record
NCT04697043, Tehran University of Medical Sciences, start date 20 November 2020).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

import pandas as pd

__all__ = [
    "ARMS",
    "ARM_CODES",
    "FACTORS",
    "FACTOR_NAMES",
    "PROTOCOL",
    "Arm",
    "Design",
    "Endpoint",
    "Factor",
    "PatientRecordError",
    "Protocol",
    "Sourced",
    "StatedResults",
    "check_patient_factors",
    "strata",
]


class PatientRecordError(ValueError):
    """A patient record is malformed: a field is missing, has the wrong type or an unknown level."""


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
    if not isinstance(patient, Mapping):
        raise PatientRecordError(
            f"a patient must be a mapping from factor name to level, got {type(patient).__name__}"
        )
    problems: list[str] = []
    out: dict[str, str] = {}
    for f in factors:
        if f.name not in patient:
            problems.append(f"{f.name}: missing; allowed levels: {', '.join(f.levels)}")
            continue
        try:
            out[f.name] = f.check(patient[f.name])
        except PatientRecordError as exc:
            problems.append(str(exc))
    if problems:
        raise PatientRecordError("invalid patient record: " + "; ".join(problems))
    return out


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


def check_answer_strata(answer: int) -> str:
    """Self-check for notebook 00: strata with age (< 50, >= 50) added as a fourth factor."""
    right = PROTOCOL.n_strata * 2
    if not isinstance(answer, int) or isinstance(answer, bool):
        return f"Give a whole number of strata (got {answer!r})."
    if answer == right:
        return f"Right: {PROTOCOL.n_strata} strata x 2 age groups = {right}."
    return ("Not quite. Hint: strata multiply: 3 sites x 2 receptor x 2 HER2 levels, "
            "then x the number of age groups.")
