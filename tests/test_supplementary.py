"""The supplementary estimands (trialnb.analysis.supplementary, trialnb.survival.weighted,
trialnb.simulation.supplementary and truth), like a reviewer would check them:

* the weighted Kaplan-Meier and Cox models with robust variances equal R survfit / coxph, and
  the whole IPCW analysis of the shipped trials equals an independent R implementation (glm for
  the weight model, survSplit, survfit, coxph: tests/reference/ipcw_survival.R, re-run in CI by
  tests/test_reference_scripts.py);
* the targets (simulation.truth) re-derived by hand from the exponential model;
* the instrumental-variable estimator reduces to the ITT difference when everyone complies, and
  its delta-method SE to the ITT SE;
* by simulation where the truth is known, each estimator recovers its target (bias within 3 Monte
  Carlo SEs, coverage of the 95% CI within 3 MC SEs of 95%), and the naive analyses do not.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from trialnb import analysis as an
from trialnb import survival as sv
from trialnb.data import load_trial
from trialnb.errors import ScenarioError, TrialAnalysisError
from trialnb.plan import PLAN
from trialnb.simulation import (complier_effect, hypothetical_estimands, selected_probability,
                                simulate_complier_effect, simulate_hypothetical, simulate_trials, true_estimands)

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
R = json.loads((REF / "ipcw_survival.json").read_text())


# ---------------------------------------------------------------------------- equal to R
def test_weighted_kaplan_meier_and_cox_equal_r() -> None:
    e = R["engine"]
    i = {k: np.asarray(v, float) for k, v in e["inputs"].items()}
    km = sv.weighted_kaplan_meier(i["stop"], i["event"].astype(int), i["w"], entry=i["start"], cluster=i["id"])
    for t, s, se in zip(e["km"]["times"], e["km"]["surv"], e["km"]["se"], strict=True):
        assert km.at(t) == pytest.approx((s, se), rel=1e-10)
    cox = sv.weighted_cox(i["stop"], i["event"].astype(int), np.column_stack([i["x"], i["z"]]), i["w"],
                          entry=i["start"], cluster=i["id"])
    np.testing.assert_allclose(cox.coef, e["cox"]["coef"], rtol=1e-8)
    np.testing.assert_allclose(cox.cov, np.asarray(e["cox"]["var"]), rtol=1e-7)
    assert (cox.loglik_null, cox.loglik) == pytest.approx(tuple(e["cox"]["loglik"]), rel=1e-10)


@pytest.mark.parametrize("trial", sorted(R["trials"]))
def test_hypothetical_strategy_on_the_shipped_data_equals_r(trial: str) -> None:
    ref = R["trials"][trial]
    h = an.hypothetical_no_surgery(load_trial(ROOT / "data" / f"{trial}.csv"))
    assert h.censored_at_surgery == ref["censored"]
    assert (h.weight_min, h.weight_max) == pytest.approx((ref["weight_min"], ref["weight_max"]), rel=1e-8)
    ipcw, naive = ref["ipcw"], ref["naive"]
    assert h.survival_a == pytest.approx(ipcw["surv_a"], rel=1e-10)
    assert h.survival_b == pytest.approx(ipcw["surv_b"], rel=1e-8)
    assert h.se == pytest.approx(math.hypot(ipcw["se_a"], ipcw["se_b"]), rel=1e-7)
    assert h.log_hr == pytest.approx(ipcw["coef"][0], rel=1e-7)
    assert h.log_hr_se == pytest.approx(ipcw["se"][0], rel=1e-7)
    assert h.naive_survival_b == pytest.approx(naive["surv_b"], rel=1e-10)
    assert h.naive_se == pytest.approx(math.hypot(naive["se_a"], naive["se_b"]), rel=1e-9)
    assert math.log(h.naive_hazard_ratio) == pytest.approx(naive["coef"][0], rel=1e-8)
    assert h.naive_log_hr_se == pytest.approx(naive["se"][0], rel=1e-8)


# ---------------------------------------------------------------------------- the targets
def test_complier_effect_by_hand() -> None:
    """Exponential strata, hazard lambda_s (x 0.5 when operated from randomization); compliers
    c_s = 1 - expit(c + g lp_s): sum w c [exp(-0.5 lambda 24) - exp(-lambda 24)] / sum w c."""
    d = dataclasses.replace(PLAN.design, non_compliance=0.3)
    w, lp = d.strata_model()
    lam = d.baseline_hazard * np.exp(lp)
    for g in (0.0, 2.0):
        nc = selected_probability(d, 0.3, g)
        assert float(np.sum(w * nc)) == pytest.approx(0.3, abs=1e-12)
        if g:
            logit = np.log(nc / (1 - nc))
            np.testing.assert_allclose(np.diff(logit), g * np.diff(lp), atol=1e-9)  # logistic in lp
        c = 1 - nc
        by_hand = float(np.sum(w * c * (np.exp(-0.5 * lam * 24) - np.exp(-lam * 24))) / np.sum(w * c))
        assert complier_effect(d, non_compliance_selection=g)["complier_effect"] == pytest.approx(by_hand, rel=1e-12)
    # random non-operation: the compliers are everyone, their effect that of full compliance
    full = true_estimands(dataclasses.replace(d, non_compliance=0.0))["milestone_difference"]
    assert complier_effect(d)["complier_effect"] == pytest.approx(full, rel=1e-12)
    with pytest.raises(ScenarioError, match="crossover = 0"):
        complier_effect(dataclasses.replace(d, crossover=0.2))


def test_hypothetical_target_is_arm_b_without_surgery() -> None:
    d = dataclasses.replace(PLAN.design, crossover=0.3, crossover_months=6.0)
    h = hypothetical_estimands(d)
    w, lp = d.strata_model()
    lam = d.baseline_hazard * np.exp(lp)
    assert h["survival_b_without_surgery"] == pytest.approx(float(np.sum(w * np.exp(-lam * 24))), rel=1e-12)
    assert h["survival_b_without_surgery"] == pytest.approx(d.control_survival, rel=1e-9)  # the calibration
    assert h["hazard_ratio"] == d.hazard_ratio
    assert math.isnan(hypothetical_estimands(dataclasses.replace(d, non_compliance=0.2))["hazard_ratio"])


def test_selection_zero_leaves_the_simulated_trials_unchanged_and_selection_acts_by_stratum() -> None:
    d = dataclasses.replace(PLAN.design, non_compliance=0.3, crossover=0.3)
    a = simulate_trials(d, 30, np.random.default_rng(3))
    b = simulate_trials(d, 30, np.random.default_rng(3), non_compliance_selection=0.0, crossover_selection=0.0)
    for f in dataclasses.fields(a):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name))
    big = simulate_trials(d, 400, np.random.default_rng(4), non_compliance_selection=2.0)
    stratum = big.site.astype(int) * 4 + big.hr_negative * 2 + big.her2_positive
    p = selected_probability(d, 0.3, 2.0)
    armA = big.arm == 1
    for s in range(12):
        m = armA & (stratum == s)
        seen = float(np.mean(~np.isfinite(big.surgery_month[m])))
        assert abs(seen - p[s]) <= 4 * math.sqrt(p[s] * (1 - p[s]) / m.sum()), s
    assert np.all(big.surgery_month[armA & np.isfinite(big.surgery_month)] == 0.0)
    assert set(np.unique(big.surgery_month[~armA])) == {d.crossover_months, np.inf}  # arm B: at crossover only


# ---------------------------------------------------------------------------- the estimators
def test_iv_with_full_compliance_is_the_itt_difference() -> None:
    df = load_trial(ROOT / "data" / "trial_protocol.csv")
    d = an.censor_at(df, 24)
    t, e = d["os_months"].to_numpy(float), d["death"].to_numpy().astype(int)
    a = (d["arm"] == "A").to_numpy().astype(int)
    iv = an.iv_milestone(t, e, a, a, 24)
    ms = an.milestone(df)
    assert iv.cace == pytest.approx(iv.itt_difference, rel=1e-12)
    assert iv.itt_difference == pytest.approx(ms.difference, rel=1e-12)
    assert iv.se == pytest.approx(iv.itt_se, rel=1e-12)
    # the influence-function SE of a Kaplan-Meier difference is Greenwood's without weights
    assert iv.itt_se == pytest.approx(ms.diff_se, rel=1e-2)
    half = an.iv_milestone(t, e, a, a * (np.arange(t.size) % 2), 24)  # half of arm A operated
    assert half.cace == pytest.approx(iv.itt_difference / half.operated_a, rel=1e-12)
    with pytest.raises(TrialAnalysisError, match="relevance fails"):
        an.iv_milestone(t, e, a, np.zeros_like(a), 24)
    with pytest.raises(TrialAnalysisError, match="beyond the last follow-up"):
        an.iv_milestone(t, e, a, a, 30)


def test_weights_are_one_without_surgery_and_the_analysis_is_then_plain() -> None:
    df = load_trial(ROOT / "data" / "trial_protocol.csv")
    h = an.hypothetical_no_surgery(df)
    assert h.censored_at_surgery == int(((df["arm"] == "B") & (df["operated"] == 1)
                                         & (df["surgery_month"] < df["os_months"].clip(upper=24))).sum())
    cw = sv.censoring_weights([5.0, 8.0, 3.0], [1, 0, 1], [np.nan, np.inf, np.nan], [[0.0], [1.0], [1.0]])
    assert cw.censored == 0 and np.all(cw.weight == 1.0) and list(cw.time) == [5.0, 8.0, 3.0]


def test_one_surgery_time_gives_logistic_weights() -> None:
    """All operations at month 6: the weight after 6 is P(not operated) / (1 - expit(a + z'g)),
    and the maximum-likelihood logistic fit sets the fitted numbers operated per level to the
    observed ones (the score equations)."""
    rng = np.random.default_rng(8)
    n = 300
    z = rng.integers(0, 2, n).astype(float)
    t = rng.uniform(6.5, 24, n)
    op = rng.random(n) < np.where(z == 1, 0.5, 0.2)
    cw = sv.censoring_weights(t, np.zeros(n, int), np.where(op, 6.0, np.inf), z)
    late = cw.entry == 6.0
    pat, w = cw.patient[late], cw.weight[late]
    assert set(pat) == set(np.flatnonzero(~op))
    fitted_p = 1 - op.mean() / w  # 1 - K / w = P(operated | z) of the model
    for level in (0.0, 1.0):
        at = z == level
        assert np.mean(1 - (1 - op.mean()) / w[z[pat] == level]) == pytest.approx(op[at].mean(), rel=1e-8)
    assert np.all((fitted_p > 0) & (fitted_p < 1))


# ---------------------------------------------------------------------------- by simulation
def _recovers(row, level: float = 0.95) -> None:
    assert abs(row["bias"]) <= 3 * row["mc_se_bias"], row.to_dict()
    assert abs(row["coverage"] - level) <= 3 * math.sqrt(level * (1 - level) / row["trials"]), row.to_dict()


def test_the_instrumental_variable_recovers_the_complier_effect() -> None:
    r = simulate_complier_effect(n_trials=400, seed=31)
    assert r.row("survival difference", "instrumental variable")["trials"] == 400
    _recovers(r.row("survival difference", "instrumental variable"))
    # prognosis-selected non-operation: per protocol and as treated favour surgery, ITT is diluted
    pp, at, itt = (r.row("survival difference", m) for m in ("per protocol", "as treated", "ITT difference"))
    assert pp["bias"] > 3 * pp["mc_se_bias"]
    assert at["bias"] > 3 * at["mc_se_bias"]
    assert itt["bias"] < -3 * itt["mc_se_bias"]


def test_ipcw_recovers_the_hypothetical_strategy() -> None:
    r = simulate_hypothetical(n_trials=400, seed=32)
    _recovers(r.row("survival difference", "IPCW"))
    _recovers(r.row("log hazard ratio", "IPCW"))
    naive = r.row("survival difference", "naive censoring at surgery")
    assert naive["bias"] < -3 * naive["mc_se_bias"]  # the operated had a poor prognosis: arm B looks better
    with pytest.raises(ScenarioError, match="crossover > 0"):
        simulate_hypothetical(PLAN.design, n_trials=5)
    with pytest.raises(ScenarioError, match="crossover = 0"):
        simulate_complier_effect(dataclasses.replace(PLAN.design, non_compliance=0.3, crossover=0.1), n_trials=5)
