"""The evidence explorer (trialnb.widgets.evidence), driven headless by setting control values:
every displayed number is the pure functions' (trialnb.evidence, trialnb.assurance)."""

from __future__ import annotations

import math

import pytest

from trialnb import assurance as A
from trialnb import evidence as ev
from trialnb.monitoring import plan_benefit_design
from trialnb.plan import PLAN
from trialnb.report import fmt_pct
from trialnb.widgets.evidence import EvidenceExplorer, build_dashboard
from trialnb.widgets.lookup import by_class, by_description, text_of


@pytest.fixture(scope="module")
def explorer() -> EvidenceExplorer:
    return EvidenceExplorer(draw=False)


def _reset(x: EvidenceExplorer) -> None:
    for box in x.trials.values():
        box.value = True
    x.method.value, x.hksj.value, x.prior.value, x.design.value = "REML", False, "pooled", "fixed"


def test_opens_at_the_five_trials_and_the_protocols_design(explorer) -> None:
    _reset(explorer)
    pooled = ev.pool_trials()
    assert explorer.meta.hazard_ratio == pooled.hazard_ratio and explorer.events == 66
    want = A.assurance(events=66, prior=A.predictive_prior(pooled))
    assert explorer.result.probability_of_success == pytest.approx(want.probability_of_success, rel=1e-12)
    assert f"Probability of success: {fmt_pct(want.probability_of_success)}" in text_of(explorer.pos)
    assert "Pooled HR 0.93" in text_of(explorer.pooled) and "unreachable" not in text_of(explorer.needed)


def test_each_control_reaches_the_pure_functions(explorer) -> None:
    _reset(explorer)
    explorer.trials["mf0701_2018"].value = False
    keys = [k for k in ev.RANDOMIZED_TRIALS if k != "mf0701_2018"]
    assert explorer.meta.hazard_ratio == ev.pool_trials(keys).hazard_ratio
    explorer.method.value = "PM"
    explorer.hksj.value = True
    assert explorer.meta.hazard_ratio == ev.pool_trials(keys, method="PM", hksj=True).hazard_ratio
    explorer.method.value = "FE"
    assert explorer.hksj.disabled and not explorer.meta.hksj  # Knapp-Hartung is for random effects only
    explorer.prior.value = "sceptical"
    explorer.design.value = "plan"
    want = A.assurance(events=66, prior=A.sceptical_prior(), design=plan_benefit_design(PLAN))
    assert explorer.result.probability_of_success == pytest.approx(want.probability_of_success, rel=1e-12)
    explorer.prior.value = "user"
    explorer.user_hr.value, explorer.user_sd.value = 0.7, 0.15
    assert not explorer.user_hr.disabled
    assert explorer.prior_used.mean_log_hr == pytest.approx(math.log(0.7))
    explorer.target.value = 0.6
    assert explorer.take.assurance_target == 0.6 and explorer.take.events_for_assurance is not None
    _reset(explorer)


def test_too_few_trials_says_so(explorer) -> None:
    _reset(explorer)
    for k in ev.RANDOMIZED_TRIALS[1:]:
        explorer.trials[k].value = False
    assert "at least two trials" in text_of(explorer.pooled) and "at least 2 trials" in explorer.error
    assert explorer.result is None and "—" in text_of(explorer.pos)
    explorer.prior.value = "enthusiastic"  # a prior that needs no pooling still works
    assert explorer.error == "" and explorer.result is not None
    _reset(explorer)


def test_unreachable_and_unrealistic_are_said(explorer) -> None:
    _reset(explorer)
    explorer.target.value = 0.8
    assert "unreachable" in text_of(explorer.needed)
    explorer.trials["mf0701_2018"].value = False  # pooled HR just above 1: no benefit to power for
    assert explorer.meta.hazard_ratio > 1 and "not below 1" in text_of(explorer.needed)
    explorer.prior.value = "user"
    explorer.user_hr.value = 0.99  # a benefit so small that no realistic trial has 80% power for it
    assert "no trial could" in text_of(explorer.needed)
    explorer.target.value = 0.5
    _reset(explorer)


def test_dashboard_root_draws_the_forest() -> None:
    root = build_dashboard()
    assert "trialnb-evidence" in root._dom_classes
    plot = by_class(root, "trialnb-evidence-plot")
    assert plot.outputs and "image/png" in plot.outputs[0]["data"]
    before = plot.outputs[0]["data"]["image/png"]
    by_description(root, "MF07-01").value = False
    assert plot.outputs[0]["data"]["image/png"] != before
