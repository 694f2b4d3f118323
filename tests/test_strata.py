"""The rule that pools sparse strata of the stratified analyses (``trialnb.analysis.pool_strata``):
its merges follow the design's prognostic hazard ratios in a fixed order, it stops as soon as
every stratum is large enough, it reads no outcome by arm (blind), and the stratified log-rank
on the pooled strata is the engine's (equal to the unstratified test when one stratum is left)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from trialnb import analysis as an
from trialnb.data import load_trial
from trialnb.errors import TrialAnalysisError
from trialnb.plan import PLAN
from trialnb.survival import logrank

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return load_trial(ROOT / "data" / "trial_protocol.csv")


def test_the_shipped_trial_has_sparse_strata_and_the_rule_fixes_them(df: pd.DataFrame) -> None:
    full = df.groupby(["dominant_site", "hormone_receptor", "her2"]).size()
    assert len(full) == 12 and full.min() <= 2  # 2-4 patients in several strata
    p = an.pool_strata(df)
    assert p.min_patients == an.MIN_STRATUM_PATIENTS == 10
    assert p.steps == ("Dominant metastatic site: bone and soft tissue pooled",
                       "HER2 status: positive and negative pooled (HER2 status no longer stratifies)")
    assert p.factors == ("dominant_site", "hormone_receptor")
    assert p.groups["dominant_site"] == (("bone", "soft_tissue"), ("visceral",))
    assert p.n_strata == 4 and p.table["patients"].min() >= 10 and p.table["patients"].sum() == len(df)
    assert p.table["deaths"].sum() == int(an.primary_data(df)["death"].sum())
    # one merge fewer would leave a stratum below 10: the rule stops as soon as it may
    five = an.pool_strata(df, min_patients=5)
    assert five.n_strata == 8 and len(five.steps) == 1
    assert (pd.Series(five.labels).value_counts() < 10).any()


def test_merges_in_the_order_of_prognostic_distance(df: pd.DataFrame) -> None:
    steps = an.pool_strata(df, min_patients=10_000).steps
    assert [s.split(":")[0] for s in steps] == ["Dominant metastatic site", "HER2 status", "Dominant metastatic site",
                                                "Hormone receptor status"]
    lhr = an.strata.level_log_hazard_ratios(PLAN)
    assert lhr["dominant_site"]["soft_tissue"] < abs(lhr["her2"]["positive"]) < lhr["dominant_site"]["visceral"] \
        - lhr["dominant_site"]["soft_tissue"] < lhr["hormone_receptor"]["negative"]
    # a population where HER2 is the strongest factor drops the receptor first after the site's merge
    plan = PLAN.with_changes(hr_her2_positive=0.2)
    order = [s.split(":")[0] for s in an.pool_strata(df, min_patients=10_000, plan=plan).steps]
    assert order.index("Hormone receptor status") < order.index("HER2 status")


def test_one_stratum_left_is_the_unstratified_test(df: pd.DataFrame) -> None:
    p = an.pool_strata(df, min_patients=10_000)
    assert p.n_strata == 1 and set(p.labels) == {"all"} and p.factors == ()
    d = an.primary_data(df)
    arm = (d["arm"] == "A").to_numpy()
    one = logrank(d["os_months"].to_numpy(), d["death"].to_numpy(), arm, strata=p.labels)
    plain = logrank(d["os_months"].to_numpy(), d["death"].to_numpy(), arm)
    assert float(one.z) == pytest.approx(float(plain.z), rel=1e-12)
    pooled = an.weighted_logrank(df, strata="pooled")
    by_hand = logrank(d["os_months"].to_numpy(), d["death"].to_numpy(), arm, strata=an.pool_strata(df).labels)
    assert pooled.z == pytest.approx(float(by_hand.z), rel=1e-12) and pooled.stratified
    assert an.maxcombo(df, strata="pooled").statistic > 0


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_blind_no_outcome_by_arm_enters(df: pd.DataFrame, seed: int) -> None:
    """Re-labelling the arms leaves the strata unchanged (the rule reads patients, and deaths
    pooled over the arms)."""
    rng = np.random.default_rng(seed)
    base = an.pool_strata(df, min_patients=10, min_events=3)
    other = df.assign(arm=rng.permutation(df["arm"].to_numpy()))
    assert (an.pool_strata(other, min_patients=10, min_events=3).labels == base.labels).all()


def test_min_events_and_bad_input(df: pd.DataFrame) -> None:
    assert an.pool_strata(df, min_patients=1, min_events=10).table["deaths"].min() >= 10
    assert an.pool_strata(df, covariates=("her2",), min_patients=1).n_strata == 2
    for bad in ({"min_patients": 0}, {"min_patients": True}, {"min_events": 0}, {"covariates": ("age",)},
                {"covariates": ("her2", "her2")}):
        with pytest.raises(TrialAnalysisError):
            an.pool_strata(df, **bad)
    with pytest.raises(TrialAnalysisError, match="'pooled'"):
        an.weighted_logrank(df, strata="pooling")
    assert "4 strata with at least 10 patients" in an.pool_strata(df).summary()
