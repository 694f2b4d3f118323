"""The public API is ``__all__``: every module declares it, every name in it exists, and every
public-looking function or class a module defines is either in it or private (``_name``)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import trialnb

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(trialnb.__path__, prefix="trialnb.")
    if not m.name.rsplit(".", 1)[-1].startswith("_")
)


def test_modules_found() -> None:
    assert {"trialnb.survival", "trialnb.population", "trialnb.randomization"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_all_is_the_public_api(name: str) -> None:
    mod = importlib.import_module(name)
    assert hasattr(mod, "__all__"), f"{name} declares no __all__"
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert not missing, f"{name}.__all__ names what the module does not have: {missing}"
    assert len(set(mod.__all__)) == len(mod.__all__), f"{name}.__all__ repeats a name"
    defined_here = [
        n for n, obj in vars(mod).items()
        if not n.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
        and getattr(obj, "__module__", None) == name
    ]
    outside = sorted(set(defined_here) - set(mod.__all__))
    assert not outside, (f"{name} defines public-looking names outside __all__: {outside} "
                         "(add them to __all__ or make them private with a leading underscore)")


# ---- the result contract (trialnb.results) ---------------------------------------------------
# Every public result class: a frozen dataclass with to_frame() -> DataFrame, summary() -> str and
# _repr_html_() -> HTML with a table. The list is explicit (a new result class is added here).
# Not results, so not listed: inputs and settings (Scenario, TrialScenario, Boundaries, Design ...),
# data containers (TrialData, SimulatedStudy), records (Assignment, Step, Sourced ...), Verdict.

RESULT_CLASSES = [
    "trialnb.survival.cox.CoxResult", "trialnb.survival.logrank.LogrankResult", "trialnb.survival.km.KaplanMeier",
    "trialnb.survival.logrank.FHStatistics",
    "trialnb.sample_size.SampleSize", "trialnb.sample_size.ProportionSampleSize", "trialnb.sample_size.DesignSolution",
    "trialnb.monitoring.design.GroupSequentialDesign", "trialnb.monitoring.sample_size.SequentialSampleSize",
    "trialnb.monitoring.analysis.InterimAnalysis", "trialnb.monitoring.analysis.ConditionalPower",
    "trialnb.analysis.primary.PrimaryResult", "trialnb.analysis.describe.LogrankByArm",
    "trialnb.analysis.sensitivity.RerandomizationResult",
    "trialnb.analysis.estimands.MilestoneResult", "trialnb.analysis.estimands.RMSTResult",
    "trialnb.analysis.estimands.WeightedLogrankResult", "trialnb.analysis.estimands.MaxComboResult",
    "trialnb.analysis.estimands.PiecewiseHRResult",
    "trialnb.survival.competing.CumulativeIncidence", "trialnb.survival.competing.GrayTest",
    "trialnb.survival.competing.FineGrayResult", "trialnb.survival.weighted.WeightedKaplanMeier",
    "trialnb.analysis.competing.CompetingRisksResult", "trialnb.analysis.supplementary.ComplierEffect",
    "trialnb.analysis.supplementary.HypotheticalEffect", "trialnb.simulation.supplementary.SupplementaryCheck",
    "trialnb.analysis.standardized.StandardizedMilestoneResult", "trialnb.survival.standardize.StandardizedSurvival",
    "trialnb.analysis.missing.TippingPointResult", "trialnb.analysis.strata.PooledStrata",
    "trialnb.bias.ExposureEffect", "trialnb.eligibility.ScreeningResult",
    "trialnb.simulation.fixed.SimulationResult", "trialnb.simulation.fixed.RequiredPatients",
    "trialnb.simulation.sequential.SequentialResult", "trialnb.interim.InterimReport",
    "trialnb.simulation.characteristics.PlanOperatingCharacteristics",
    "trialnb.sap_document.SAP", "trialnb.data.DataCheck",
    "trialnb.monitoring.boundary_table.BoundaryTable", "trialnb.monitoring.prediction.DeathPrediction",
    "trialnb.monitoring.timing.AnalysisTimes",
    "trialnb.evidence.MetaAnalysis", "trialnb.assurance.Assurance", "trialnb.assurance.WhatItWouldTake",
    "trialnb.assurance.HarmMargin", "trialnb.assurance.SimulatedAssurance", "trialnb.bayesian.PosteriorSummary",
    "trialnb.bayesian.BayesianInterim", "trialnb.bayesian.FutilityGuideline",
]


def _class(path: str) -> type:
    mod, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(mod), name)


@pytest.fixture(scope="module")
def results() -> dict[str, object]:
    """One small instance of every result class, computed by the package's own functions."""
    import numpy as np

    from trialnb import analysis as an, bias, eligibility, interim, sample_size as ss
    from trialnb import monitoring as mon, simulation as sim, survival as sv
    from trialnb.data import load_trial, verify_data
    from trialnb.monitoring.sample_size import sequential_sample_size
    from trialnb.plan import PLAN
    from trialnb.randomization import PocockSimon
    from trialnb.sap import build_sap

    rng = np.random.default_rng(11)
    t, e, g = rng.exponential(20, 60), rng.integers(0, 2, 60), np.repeat([0, 1], 30)
    df = load_trial(Path(trialnb.__file__).parent.parent / "data" / "trial_protocol.csv")
    d = mon.design(3, alpha=0.025, sided=1, type_of_design="asOF")
    small = PLAN.with_changes(n_patients=60, allocation="blocks")
    out = [
        sv.fit_cox(t, e, g[:, None].astype(float)), sv.logrank(t, e, g), sv.kaplan_meier(t, e),
        sv.fh_statistics(t, e, g),
        ss.sample_size(0.5), ss.proportion_sample_size(0.6, 0.78), ss.solve("power", n_patients=200),
        d, sequential_sample_size(d, 0.5), mon.analyse(d, [30], [-1.0]),
        mon.conditional_power(d, [30], [-1.0], n_planned=[30, 30], theta_h1=0.5),
        an.primary(df), an.logrank_test(df),
        an.rerandomization_test(df.head(60), PocockSimon, 5, np.random.default_rng(1)),
        an.milestone(df), an.rmst_difference(df), an.weighted_logrank(df, rho=1.0), an.maxcombo(df),
        an.piecewise_hr(df),
        an.standardized_milestone(df), sv.standardized_survival(t, e, g[:, None].astype(float), 10.0),
        an.tipping_point(df, deltas_a=(1.0, 2.0), deltas_b=(1.0,), n_imputations=3), an.pool_strata(df),
        bias.naive_cox(bias.simulate_registry(300, 1)), eligibility.screen(eligibility.example_patient()),
        sim.simulate(small, n_trials=20, seed=1),
        sim.required_patients(PLAN.with_changes(hazard_ratio=0.4, statistic="logrank"), power=0.5, n_trials=50,
                              n_min=20, n_max=600, step=20),
        sim.simulate_sequential(small, 20, seed=1), sim.plan_operating_characteristics(small, 20, seed=1),
        interim.interim_report(df, 36.0),
        build_sap(n_trials=100),
        sv.cumulative_incidence(t, e * (1 + g)), sv.gray_test(t, e * (1 + g), g),
        sv.fine_gray(t, e * (1 + g), g.astype(float)), sv.weighted_kaplan_meier(t, e, np.ones(60)),
        an.competing_risks(df), an.complier_average_effect(df), an.hypothetical_no_surgery(df),
        sim.simulate_complier_effect(n_trials=5, seed=1),
        *_evidence_results(d),
        verify_data(Path(trialnb.__file__).parent.parent / "data"),
        mon.boundary_table(d, 66, hazard_ratio=0.5),
        mon.analysis_times([33, 66], n_patients=236, accrual_time=36, hazard_ratio=0.5),
        mon.predict_deaths(an.cut_at(df, 28.0), 28.0, 40, n_sims=50, seed=1),
    ]
    return {f"{type(r).__module__}.{type(r).__name__}": r for r in out}


def _evidence_results(d) -> list:
    """One instance of each result class of trialnb.evidence, trialnb.assurance, trialnb.bayesian."""
    from trialnb import assurance as A, bayesian as B, evidence as ev

    p = A.Prior("p", -0.1, 0.2)
    bi = B.bayesian_interim(-0.3, 0.35, 33, 66, d, {"p": p})
    return [ev.pool_trials(), A.assurance(events=66, prior=p), A.what_it_would_take(p), A.rule_out_harm(),
            A.simulate_assurance(p, n_draws=2, trials_per_draw=2, seed=1), bi.posteriors[0], bi,
            B.pp_futility(d, max_events=66, prior=p)]


def test_every_listed_result_is_built(results) -> None:
    assert sorted(results) == sorted(RESULT_CLASSES)


@pytest.mark.parametrize("path", RESULT_CLASSES)
def test_result_contract(path: str, results) -> None:
    import dataclasses

    import pandas as pd

    cls = _class(path)
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, f"{path} is not a frozen dataclass"
    r = results[path]
    frame = r.to_frame()
    assert isinstance(frame, pd.DataFrame) and not frame.columns.empty, f"{path}.to_frame() is not a DataFrame"
    text = r.summary()
    assert isinstance(text, str) and text.strip(), f"{path}.summary() is not a non-empty str"
    html = r._repr_html_()
    assert isinstance(html, str) and "<table" in html, f"{path}._repr_html_() has no table"


def test_result_mixin_builds_frames_from_fields() -> None:
    from trialnb.bias import ExposureEffect
    from trialnb.results import Result, fields_frame

    r = ExposureEffect(0.7, 0.5, 0.9, 300, 120)
    assert isinstance(r, Result)
    assert fields_frame(r).to_dict("records") == [{"hazard_ratio": 0.7, "ci_lower": 0.5, "ci_upper": 0.9,
                                                   "n": 300, "events": 120}]
    long = fields_frame(r, ["n", "events"], long=True)
    assert long.to_dict("list") == {"quantity": ["n", "events"], "value": [300, 120]}
    assert "HR 0.70 (95% CI 0.50 to 0.90)" in r._repr_html_() and "<table" in r._repr_html_()
    with pytest.raises(TypeError, match="dataclass instance"):
        fields_frame(ExposureEffect)


# ---- the facade (trialnb/__init__.py) ----------------------------------------------------------

def test_facade_names_are_the_objects_of_their_homes() -> None:
    import trialnb.analysis
    import trialnb.plan
    import trialnb.sample_size
    import trialnb.simulation
    import trialnb.survival

    assert trialnb.PLAN is trialnb.plan.PLAN
    assert trialnb.required_size is trialnb.sample_size.sample_size
    assert trialnb.simulate is trialnb.simulation.simulate and trialnb.primary is trialnb.analysis.primary
    assert trialnb.fit_cox is trialnb.survival.fit_cox
    for name in trialnb.__all__:
        assert getattr(trialnb, name) is not None, name
    assert set(trialnb.__all__) <= set(dir(trialnb))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        trialnb.nope  # noqa: B018


def test_import_trialnb_stays_light() -> None:
    """The facade imports its names on first use: ``import trialnb`` loads neither numpy nor
    pandas (a fresh interpreter)."""
    import subprocess
    import sys

    code = "import sys, trialnb; print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'numba') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
