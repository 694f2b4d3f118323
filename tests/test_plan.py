"""The trial plan (``trialnb.plan.PLAN``) drives every consumer: change one field and every part
that uses it moves together (metamorphic tests), and nothing else restates the plan.

Consumers: the sample size (:func:`trialnb.sample_size.sample_size`), the boundaries and planned
deaths (:mod:`trialnb.monitoring`), the fixed and the sequential simulation
(:mod:`trialnb.simulation`), one trial's analysis (:func:`trialnb.analysis.primary`), the DMC
report (:mod:`trialnb.interim`) and the SAP (:func:`trialnb.sap.build_sap`)."""

from __future__ import annotations

import dataclasses
import math
from functools import lru_cache
from typing import Any, Callable

import numpy as np
import pytest

from trialnb import analysis as an
from trialnb import interim, monitoring
from trialnb.data import load_trial
from trialnb.errors import ScenarioError
from trialnb.plan import PLAN, TrialPlan, plan_from_protocol
from trialnb.protocol import PROTOCOL
from trialnb.sample_size import sample_size
from trialnb.simulation import simulate, simulate_sequential

N_SIM = 300
"""Trials per simulation in these tests: enough for a change to show, few enough to run fast."""


@lru_cache(maxsize=1)
def _trial():
    from pathlib import Path

    return load_trial(Path(__file__).resolve().parents[1] / "data" / "trial_protocol.csv")


@lru_cache(maxsize=None)
def _seq(plan: TrialPlan) -> Any:
    return simulate_sequential(plan, N_SIM, seed=11)


@lru_cache(maxsize=None)
def _sap(plan: TrialPlan) -> dict[str, Any]:
    """The SAP's numbers and its prose (a choice such as the key secondary changes words, not
    numbers)."""
    from trialnb.sap import build_sap

    sap = build_sap(plan=plan, n_trials=N_SIM)
    out: dict[str, Any] = {k: v.value for k, v in sap.numbers.items()}
    out["prose"] = "\n".join(sap.prose())
    return out


def _report(plan: TrialPlan, month: float = 28.5) -> interim.InterimReport:
    return interim.interim_report(_trial(), month, plan=plan)


CONSUMERS: dict[str, Callable[[TrialPlan], Any]] = {
    "sample_size": lambda p: (sample_size(plan=p).events, sample_size(plan=p).n_total_after_loss,
                              sample_size(plan=p).event_probability),
    "boundaries": lambda p: (tuple(np.round(monitoring.plan_design(p).critical_values, 10)),
                             monitoring.plan_max_events(p), monitoring.plan_interim_events(p)),
    "simulation": lambda p: (float(simulate(p, N_SIM, seed=5).z[p.analysis.statistic].sum()),),
    "sequential": lambda p: (tuple(_seq(p).stage), tuple(_seq(p).decision), _seq(p).expected_months),
    "primary": lambda p: (an.primary(_trial(), p).z, an.primary(_trial(), p).events),
    "report": lambda p: (_report(p).z, _report(p).boundary, _report(p).decision, _report(p).look),
    "sap": lambda p: tuple(sorted((k, repr(v)) for k, v in _sap(p).items())),
}

# field -> (new value, the consumers that must move)
CHANGES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "hazard_ratio": (0.6, ("sample_size", "boundaries", "simulation", "sequential", "sap")),
    "control_survival": (0.5, ("sample_size", "simulation", "sequential", "sap")),
    "dropout_probability": (0.3, ("simulation", "sequential")),
    "n_patients": (300, ("simulation", "sequential", "sap")),
    "power": (0.9, ("sample_size", "boundaries", "sap")),
    "loss_to_follow_up": (0.2, ("sample_size", "sap")),
    "censor_months": (36.0, ("sample_size", "simulation", "sequential", "primary", "report", "sap")),
    "statistic": ("stratified_logrank", ("simulation", "sequential", "primary", "report", "sap")),
    "covariates": (("dominant_site",), ("simulation", "sequential", "primary", "report", "sap")),
    "ties": ("breslow", ("primary", "report", "sap")),
    "alpha": (0.01, ("sample_size", "boundaries", "sequential", "report", "sap")),
    "sided": (1, ("sample_size", "boundaries", "report", "sap")),
    "information_rates": ((0.4, 1.0), ("boundaries", "sequential", "sap")),
    "spending": ("asP", ("boundaries", "sequential", "report", "sap")),
    "final_analysis": ("events", ("sequential",)),
    "futility_z": (0.5, ("sequential", "sap")),
    "harm_z": (-0.2, ("sequential", "sap")),  # inside the futility region: those stops become harm stops
    "secondary": ("rmst", ("sap",)),
    "secondary_spending": ("asP", ("sap",)),
}


@pytest.mark.parametrize("field", list(CHANGES))
def test_every_consumer_of_a_field_moves_with_it(field: str) -> None:
    value, moved = CHANGES[field]
    changed = PLAN.with_changes(**{field: value})
    for name in moved:
        before, after = CONSUMERS[name](PLAN), CONSUMERS[name](changed)
        assert before != after, f"{name} did not change when plan.{field} changed to {value!r}"


def test_the_sequential_simulation_moves_in_the_expected_direction() -> None:
    base = _seq(PLAN)
    early = _seq(PLAN.with_changes(information_rates=(0.4, 1.0)))
    assert early.planned_events[0] < base.planned_events[0]
    assert early.analysis_months[0] < base.analysis_months[0]
    strict = _seq(PLAN.with_changes(futility_z=0.5))
    assert strict.futility_by_stage[0] > base.futility_by_stage[0]
    assert _seq(PLAN.with_changes(final_analysis="events")).expected_months < base.expected_months


def test_primary_follows_the_plan_as_r_would() -> None:
    """Breslow ties, no covariates, 36-month censoring: each equals the engine fitted directly
    with that choice (the engine equals R coxph in tests/test_survival.py)."""
    from trialnb import survival as sv

    df = _trial()
    br = an.primary(df, PLAN.with_changes(ties="breslow"))
    cm = an.cox_model(df, ties="breslow")
    assert br.log_hr == pytest.approx(float(cm.coef[0]), rel=1e-12) and br.statistic == "cox_wald"
    un = an.primary(df, PLAN.with_changes(covariates=()))
    d24 = an.primary_data(df)
    t, e, a = d24["os_months"].to_numpy(float), d24["death"].to_numpy(int), (d24["arm"] == "A").to_numpy(float)
    assert un.log_hr == pytest.approx(float(sv.fit_cox(t, e, a).coef[0]), rel=1e-10)
    m36 = an.primary(df, PLAN.with_changes(censor_months=36.0))
    assert m36.events == int(((df["os_months"] <= 36) & (df["death"] == 1)).sum()) > an.primary(df).events
    lr = an.primary(df, PLAN.with_changes(statistic="logrank"))
    ref = sv.logrank(t, e, a.astype(int))
    assert lr.z == pytest.approx(float(ref.z), rel=1e-12)
    assert lr.hazard_ratio == pytest.approx(float(ref.hr), rel=1e-12)
    one = an.primary(df, PLAN.with_changes(sided=1))
    assert one.p_value == pytest.approx(an.primary(df).p_value / 2, rel=1e-9)  # z < 0: benefit side
    assert one.ci_level == pytest.approx(0.9)


def test_the_plan_is_built_from_the_protocol() -> None:
    assert plan_from_protocol(PROTOCOL) == PLAN
    d = PROTOCOL.design
    assert PLAN.design.control_survival == pytest.approx(math.exp(-d.control_cumulative_hazard))
    assert (PLAN.design.hazard_ratio, PLAN.analysis.alpha, PLAN.analysis.sided, PLAN.design.power) == \
        (d.hazard_ratio, d.alpha, d.sided, d.power)
    assert PLAN.design.n_patients == 2 * PROTOCOL.stated.n_per_arm_after_loss
    changed = dataclasses.replace(PROTOCOL, design=dataclasses.replace(d, hazard_ratio=0.6))
    assert plan_from_protocol(changed).design.hazard_ratio == 0.6
    # the plan's sample size is the protocol's chain at full precision
    ss = sample_size()
    assert (ss.events_rounded, ss.n_control, ss.n_total_after_loss) == (66, 108, 240)
    assert ss.event_probability == pytest.approx(1 - (math.exp(-0.5) + math.exp(-0.25)) / 2, rel=1e-12)


def test_plan_changes_are_checked() -> None:
    with pytest.raises(ScenarioError, match="no plan field named"):
        PLAN.with_changes(hazard_raito=0.6)
    for bad in ({"statistic": "wilcoxon"}, {"ties": "exact"}, {"sided": 3}, {"covariates": ("age",)},
                {"information_rates": (0.5, 0.9)}, {"final_analysis": "whenever"}, {"hazard_ratio": -1},
                {"censor_months": 0}, {"alpha": True}):
        with pytest.raises(ScenarioError):
            PLAN.with_changes(**bad)
    with pytest.raises(ScenarioError, match="TrialPlan"):
        simulate("the plan")  # type: ignore[arg-type]


def test_the_sap_quotes_the_plan_as_simulated() -> None:
    nums = _sap(PLAN)
    r = simulate_sequential(PLAN, N_SIM, seed=20201120)  # build_sap's default seed
    assert nums["max_events"] == monitoring.plan_max_events(PLAN) == 66
    assert nums["look1.events"] == 33 and nums["events"] == 66
    assert nums["n_total_loss"] == 240
    assert nums["oc.h1.power"] == pytest.approx(r.power)
    assert nums["oc.h1.deaths"] == pytest.approx(r.expected_events)


def test_the_monitoring_table_lists_every_choice() -> None:
    m = PLAN.monitoring
    t = m.table()
    names = {f.name for f in dataclasses.fields(m)} - {"spending_gamma"}  # shown with the spending
    assert set(t["item"]) == names and len(t) == len(names)
    row = dict(zip(t["item"], t["value"], strict=True))
    assert row["information_rates"] == "0.5, 1" and row["final_analysis"] == "calendar"
    assert row["futility_z"] == "0" and row["harm_z"] == "-2.326" and row["efficacy_min_complete"] == "none"
    changed = PLAN.with_changes(spending="asKD", spending_gamma=3.0, futility_z=None, efficacy_min_complete=60,
                                final_analysis="events").monitoring.table()
    row = dict(zip(changed["item"], changed["value"], strict=True))
    assert row["spending"] == "asKD (gamma 3)" and row["futility_z"] == "none" and row["efficacy_min_complete"] == "60"
    assert "events" in dict(zip(changed["item"], changed["meaning"], strict=True))["final_analysis"]


def test_cox_model_defaults_are_the_plans() -> None:
    """analysis.cox_model reads covariates, censoring and ties from the plan unless given."""
    from trialnb import analysis as an
    from trialnb.data import load_trial
    from trialnb.resources import example_trial

    df = load_trial(example_trial())
    ref = an.cox_model(df, censor_months=24.0, ties="efron")
    assert an.cox_model(df).coef.tolist() == ref.coef.tolist()
    breslow = PLAN.with_changes(ties="breslow", censor_months=36.0)
    given = an.cox_model(df, censor_months=36.0, ties="breslow")
    assert an.cox_model(df, plan=breslow).coef.tolist() == given.coef.tolist()
    assert an.cox_model(df, plan=breslow).coef.tolist() != ref.coef.tolist()
    unadjusted = PLAN.with_changes(covariates=())
    assert len(an.cox_model(df, plan=unadjusted).coef) == 1  # the arm alone


def test_the_milestone_is_the_primary_censoring_else_the_horizon() -> None:
    """One rule for where "two-year survival" is read: the analysis' censor_months, or the
    design's horizon when the plan analyses all follow-up; the sample size's follow-up follows it."""
    from trialnb.sample_size import sample_size

    assert PLAN.milestone_months == 24.0 == PLAN.analysis.censor_months
    assert PLAN.with_changes(censor_months=12.0).milestone_months == 12.0
    all_follow_up = PLAN.with_changes(censor_months=None, horizon_months=30.0)
    assert all_follow_up.milestone_months == 30.0 == all_follow_up.design.horizon_months
    twelve = sample_size(plan=PLAN.with_changes(censor_months=12.0))
    assert twelve.event_probability == sample_size(follow_up_time=12.0).event_probability
    assert twelve.event_probability < sample_size().event_probability  # fewer deaths within 12 months
