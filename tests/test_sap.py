"""The SAP draft (`trialnb sap`): structure of the guideline, every number equal to the package's
(re-derived here independently where it is short), no number typed into the prose, every audit
finding turned into an amendment, quotes verbatim, inputs followed, files and CLI behaving."""

from __future__ import annotations

import dataclasses
import math
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

from trialnb import monitoring
from trialnb.plan import PLAN
from trialnb.cli import main
from trialnb.protocol import FINDINGS, PROTOCOL
from trialnb.protocol_audit import protocol_audit
from trialnb.review import is_finding
from trialnb.sample_size import schoenfeld_events
from trialnb.sap import REFERENCES, build_sap, write_sap
from trialnb.sap_document import (DECIDE, FILLED, GUIDELINE, GUIDELINE_SECTIONS, TOKEN, Item, Numbers, SAP)

ROOT = Path(__file__).resolve().parents[1]
RECORD = (ROOT / "references" / "NCT04697043-protocol-record.txt").read_text(encoding="utf-8")
WHEN = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def sap() -> SAP:
    return build_sap(generated=WHEN)


@pytest.fixture(scope="module")
def md(sap: SAP) -> str:
    return sap.to_markdown()


def value(sap: SAP, key: str) -> object:
    return sap.number(key).value


# --- structure ------------------------------------------------------------------------------

def test_sections_follow_the_guideline(sap: SAP) -> None:
    assert [s.title for s in sap.sections] == list(GUIDELINE_SECTIONS)
    assert len(GUIDELINE) == 53  # items 1a-32 with their sub-items (Gamble et al. 2017, Table)
    for s in sap.sections:  # each heading answers items of its own guideline section
        for it in s.items:
            if not it.covers:  # a supplementary heading (the evidence) answers no guideline item
                continue
            sections = {g.section for g in GUIDELINE if g.code in it.covers}
            assert sections == {s.title}, (it.title, sections)


def test_every_guideline_item_is_addressed_once(sap: SAP) -> None:
    ck = sap.checklist()
    assert (ck["status"] != "missing").all(), ck[ck["status"] == "missing"]
    covers = [c for it in sap.items() for c in it.covers]
    assert sorted(covers) == sorted(g.code for g in GUIDELINE)


def test_decisions_say_what_and_recommend(sap: SAP, md: str) -> None:
    decide = [it for it in sap.items() if it.status == DECIDE]
    assert len(decide) >= 10
    assert md.count("> **To be decided:**") == len(decide)
    assert md.count("> **The companion recommends:**") == len(decide)
    # the protocol's blank interim section and unstated minimization are decisions, not filled
    by_title = {it.title: it for it in sap.items()}
    assert by_title["Interim analyses and stopping guidance"].status == DECIDE
    assert by_title["Randomization"].status == DECIDE
    assert by_title["Sample size"].status == FILLED


# --- every number computed, with its source ------------------------------------------------

def test_prose_has_no_typed_number(sap: SAP) -> None:
    """Outside tokens the prose has no digit (HER2 is a gene's name): every number is
    registered with its source, so nothing can be typed into the text."""
    offenders = [t for t in sap.prose() if re.search(r"\d", TOKEN.sub("", t).replace("HER2", ""))]
    assert offenders == []


def test_every_token_resolves_and_every_number_has_a_source(sap: SAP, md: str) -> None:
    keys = {k for t in sap.prose() for k in TOKEN.findall(t)}
    assert keys <= set(sap.numbers)
    assert "⟦" not in md and "⟦" not in sap.to_html()
    for n in sap.numbers.values():
        assert n.source.strip(), n.key
        assert n.kind in ("number", "quote", "citation", "label")
    used = {k for k in keys if sap.numbers[k].kind == "number"}
    assert len(used) >= 100


def test_sample_size_numbers_rederived(sap: SAP) -> None:
    d = PROTOCOL.design
    z = norm.ppf(1 - d.alpha / 2) + norm.ppf(d.power)
    events = 4 * z**2 / math.log(d.hazard_ratio) ** 2  # Schoenfeld, equal arms
    assert value(sap, "events_unrounded") == pytest.approx(events, rel=1e-12)
    assert value(sap, "events") == math.ceil(events) == 66
    pr = 1 - (math.exp(-0.5) + math.exp(-0.5 * d.hazard_ratio)) / 2  # two years of follow-up each
    assert value(sap, "pr_event") == pytest.approx(pr, rel=1e-9)
    n = 66 / pr
    assert value(sap, "n_arm") == math.ceil(n / 2) == 108
    assert value(sap, "n_arm_loss") == math.ceil(108 / 0.9) == 120
    assert value(sap, "n_total_loss") == 240
    assert value(sap, "n_planned") == 236  # the protocol's 2 x 118
    assert value(sap, "n_arm_own") == math.ceil(66 / 0.31 / 2) == 107


def test_audit_table_equals_protocol_audit(sap: SAP) -> None:
    audit = protocol_audit()
    for i, r in enumerate(audit.to_dict("records")):
        for col in ("protocol", "recomputed", "exact"):
            key = f"audit{i}.{col}"
            if isinstance(r[col], float) and math.isnan(r[col]):
                assert key not in sap.numbers
            else:
                assert value(sap, key) == r[col], key


def test_interim_numbers_equal_monitoring(sap: SAP) -> None:
    des = monitoring.design(2, alpha=0.05, sided=2, beta=0.2, type_of_design="asOF", information_rates=[0.5, 1.0])
    assert value(sap, "max_events") == monitoring.plan_max_events(PLAN) == 66
    assert value(sap, "look1.events") == 33 and value(sap, "look2.events") == 66
    for k in (1, 2):
        assert value(sap, f"look{k}.z") == pytest.approx(des.critical_values[k - 1], abs=1e-12)
        assert value(sap, f"look{k}.p") == pytest.approx(des.stage_levels[k - 1], abs=1e-12)
        assert value(sap, f"look{k}.alpha") == pytest.approx(des.alpha_spent[k - 1], abs=1e-12)
    assert value(sap, "look1.z") == pytest.approx(2.9626, abs=1e-4)  # rpact getDesignGroupSequential, asOF
    assert value(sap, "harm_p") == pytest.approx(norm.cdf(PLAN.monitoring.harm_z))
    assert value(sap, "fixed_z") == pytest.approx(norm.isf(0.025))


def test_multiplicity_gives_the_key_secondary_its_own_boundary(sap: SAP, md: str) -> None:
    """Item 17: the key secondary is tested after the primary rejects against its own spending
    boundary at the same looks (the plan's), not at the full alpha in a fixed sequence; the
    boundary values are rpact's design for the same looks and spending. Item 29: the HR and the
    2-year survival are guaranteed to agree only under proportional hazards."""
    ref = monitoring.design(2, alpha=0.05, sided=2, beta=0.2, type_of_design=PLAN.monitoring.secondary_spending,
                            information_rates=[0.5, 1.0])
    for j, c in enumerate(ref.critical_values):
        assert value(sap, f"secondary.look{j + 1}.z") == pytest.approx(float(c), rel=1e-12)
    item = {it.title: it for it in sap.items()}["Multiplicity"]
    text = item.recommendation
    assert "its own boundary" in text and "does not control the family-wise error" in text
    assert "no alpha spent before it" not in text
    multiplicity = md[md.index("Multiplicity (guideline item 17)"):md.index("Confidence intervals (guideline item 18)")]
    assert "Hung HMJ, Wang SJ, O'Neill R" in multiplicity and "Glimm E, Maurer W, Bretz F" in multiplicity
    pocock = build_sap(plan=PLAN.with_changes(secondary_spending="asP"), n_trials=200)
    assert "Pocock-type" in {it.title: it for it in pocock.items()}["Multiplicity"].recommendation
    none = build_sap(plan=PLAN.with_changes(secondary=None), n_trials=200)
    multiplicity = {it.title: it for it in none.items()}["Multiplicity"]
    assert "No secondary hypothesis is confirmatory" in multiplicity.recommendation
    estimand = " ".join({it.title: it for it in sap.items()}["Estimand"].paragraphs)
    assert "guaranteed to agree in direction only under proportional hazards" in estimand
    assert "can disagree" in estimand


def test_the_sap_and_notebook_05_quote_one_simulation(sap: SAP) -> None:
    """The plan's operating characteristics come from one call, with one number of trials and one
    seed: the SAP's defaults are the call's, its numbers are the call's, and notebook 05 makes the
    same call with the same defaults."""
    import inspect

    from trialnb.simulation import OC_N_TRIALS, OC_SEED, plan_operating_characteristics

    params = inspect.signature(build_sap).parameters
    assert (params["n_trials"].default, params["seed"].default) == (OC_N_TRIALS, OC_SEED)
    oc = plan_operating_characteristics()
    for tag, r in (("h1", oc.benefit), ("h0", oc.null), ("h0i", oc.null_ignoring)):
        assert value(sap, f"oc.{tag}.power") == r.power
        assert value(sap, f"oc.{tag}.harm") == r.harm_rejection
        assert value(sap, f"oc.{tag}.deaths") == r.expected_events
        assert value(sap, f"oc.{tag}.months") == r.expected_months
        assert value(sap, f"oc.{tag}.fut1") == r.futility_by_stage[0]
    assert value(sap, "oc.n") == OC_N_TRIALS
    assert oc.null_ignoring.follow_guidelines is False and oc.null.follow_guidelines is True
    # the same trials with and without the guidelines: the guidelines only stop trials early
    np.testing.assert_array_equal(oc.null.z[:, 0], oc.null_ignoring.z[:, 0])
    notebook = (ROOT / "notebooks" / "05_interim_monitoring.py").read_text(encoding="utf-8")
    calls = re.findall(r"plan_operating_characteristics\(([^)]*)\)", notebook)
    assert calls and all(c.strip() in ("", "PLAN") for c in calls), calls


def test_evidence_power_rederived(sap: SAP) -> None:
    hr = value(sap, "meta_hr")
    z = abs(math.log(hr)) * math.sqrt(66 / 4) - norm.isf(0.025)  # Schoenfeld power, two-sided 5%
    assert value(sap, "meta_power") == pytest.approx(norm.cdf(z) + norm.cdf(-z - 2 * norm.isf(0.025)), rel=1e-9)
    assert value(sap, "meta_events") == math.ceil(schoenfeld_events(hr, 0.05, 0.8, 1.0, 2))


def test_printed_numbers_are_in_the_document(sap: SAP, md: str) -> None:
    html = sap.to_html()
    for key in ("events", "max_events", "n_arm_loss", "look1.z", "meta_power", "pr_event"):
        n = sap.number(key)
        assert n.text in md
        assert f'data-key="{key}"' in html
    assert "| 1 | 33 | 0.50 | 2.963 |" in md  # the interim look as a reader sees it


def test_quotes_are_verbatim_from_the_record(sap: SAP) -> None:
    quotes = [n for n in sap.numbers.values() if n.kind == "quote"]
    assert len(quotes) >= 30
    for q in quotes:
        assert q.value in RECORD, q.key


def test_references_cited(sap: SAP, md: str) -> None:
    for ref in REFERENCES.values():
        assert ref in md


# --- amendments -------------------------------------------------------------------------------

def test_amendments_name_every_audit_finding(sap: SAP) -> None:
    audit = protocol_audit()
    findings = [i for i, v in enumerate(audit["verdict"]) if is_finding(v)]
    assert len(findings) == 6
    keys = {a.key for a in sap.amendments}
    assert {f"audit-{i}" for i in findings} <= keys
    assert {f.key for f in FINDINGS} <= keys
    assert {"interim", "minimization"} <= keys
    assert not {f"audit-{i}" for i in range(len(audit)) if i not in findings} & keys


def test_amendments_carry_protocol_text_proposal_and_reason(sap: SAP, md: str) -> None:
    for a in sap.amendments:
        assert a.protocol_text and a.proposed_text and a.reason, a.key
        assert TOKEN.search(a.protocol_text), f"{a.key}: the protocol's words must be quoted"
    by_key = {a.key: a for a in sap.amendments}
    typo = sap._md(by_key["audit-3"].proposed_text)
    assert "0.6065" in typo and "exp{−0.5}" in typo
    assert "exp{0.5}=0.60" in sap._md(by_key["audit-3"].protocol_text)
    n = sap._md(by_key["audit-8"].proposed_text)
    assert "66 / 0.3073 = 214.7" in n and "two equal arms of 108" in n
    assert "“Total number n = 108 each group”" in sap._md(by_key["audit-9"].proposed_text)
    assert "“240 patients in total”" in sap._md(by_key["audit-11"].proposed_text)
    loss = sap._md(by_key["audit-10"].proposed_text)
    assert "120 patients in each group" in loss and "119" in loss
    assert "“Interim analysis ;”" in md


# --- the numbers follow the inputs -------------------------------------------------------------

def test_numbers_follow_the_interim_plan() -> None:
    plan = PLAN.with_changes(information_rates=(0.4, 1.0))
    s = build_sap(plan=plan, generated=WHEN, n_trials=200)
    des = monitoring.plan_design(plan)
    assert s.number("look1.rate").value == 0.4
    assert s.number("look1.events").value == math.ceil(0.4 * s.number("max_events").value)
    assert s.number("look1.z").value == pytest.approx(des.critical_values[0])
    assert s.number("look1.z").text != build_sap(generated=WHEN, n_trials=200).number("look1.z").text


def test_numbers_follow_the_protocol_design() -> None:
    design = dataclasses.replace(PROTOCOL.design, hazard_ratio=0.6)
    s = build_sap(dataclasses.replace(PROTOCOL, design=design), generated=WHEN, n_trials=200)
    assert s.number("events").value == math.ceil(schoenfeld_events(0.6, 0.05, 0.8, 1.0, 2))
    assert s.number("p.hazard_ratio").text == "0.6"
    text = s.to_markdown()
    assert "detect a hazard ratio of 0.6 at two-sided 5%" in text
    assert f"rounded up to {s.number('events').text}, give" in text


def test_deterministic(sap: SAP, md: str) -> None:
    assert build_sap(generated=WHEN).to_markdown() == md


# --- the document model refuses what would break its promises ---------------------------------

def test_numbers_registry_refuses_two_texts_for_one_key() -> None:
    n = Numbers()
    assert n.add("x", 1, "1", "test") == "⟦x⟧"
    assert n.add("x", 1, "1", "test") == "⟦x⟧"  # the same number twice is fine
    with pytest.raises(ValueError, match="registered twice"):
        n.add("x", 1, "1.0", "test")
    with pytest.raises(ValueError, match="lower-case"):
        n.add("Bad Key", 1, "1", "test")


def test_item_contract() -> None:
    with pytest.raises(ValueError, match="decision and a recommendation"):
        Item("x", ("2",), DECIDE, decision="what")
    with pytest.raises(ValueError, match="unknown guideline items"):
        Item("x", ("99",), FILLED)
    with pytest.raises(ValueError, match="status must be"):
        Item("x", ("2",), "maybe")


# --- files and command line ---------------------------------------------------------------------

def test_html_is_self_contained_and_printable(sap: SAP) -> None:
    html = sap.to_html()
    assert "<script" not in html.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!#)""", html), "only in-page links"
    assert "@media print" in html
    assert html.count('data-status="decide"') == sum(it.status == DECIDE for it in sap.items())


def test_write_sap_validates_before_writing(tmp_path: Path) -> None:
    good = tmp_path / "out" / "sap.html"
    with pytest.raises(ValueError, match=r"must end in \.md"):
        write_sap(good, tmp_path / "sap.txt")
    assert not good.exists()  # nothing written when one path is wrong
    with pytest.raises(ValueError, match="give an HTML path"):
        write_sap()
    paths = write_sap(good, tmp_path / "sap.md")
    assert [p.name for p in paths] == ["sap.html", "sap.md"]
    assert (tmp_path / "sap.md").read_text(encoding="utf-8").startswith("# Statistical analysis plan (draft)")


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sap"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Statistical analysis plan (draft): NCT04697043")
    assert "## Proposed protocol amendments" in out
    h, m = tmp_path / "b" / "sap.html", tmp_path / "b" / "sap.md"
    assert main(["sap", "--html", str(h), "--markdown", str(m)]) == 0
    assert h.is_file() and m.is_file()
    assert main(["sap", "--html", str(tmp_path / "sap.pdf")]) == 2
    assert "must end in .html" in capsys.readouterr().err


def test_summary_measure_test_sparse_strata_and_tipping_point(sap: SAP, md: str) -> None:
    """Issue 22: the SAP names the estimand's summary measure (the two-year survival difference,
    marginal) apart from the test (the adjusted Cox Wald test, conditional), says how the summary
    is estimated with the covariates, states the sparse-strata rule and the tipping-point analysis
    with the package's own constants."""
    import math

    from trialnb import analysis as an
    from trialnb.analysis.missing import DELTAS, N_IMPUTATIONS, PIECES

    text = " ".join(md.split())
    assert "the estimand's population-level summary is the difference in two-year survival" in text
    assert "the confirmatory test is the Wald test of the adjusted Cox model" in text
    assert "conditional on the minimization factors" in text and "non-collapsible" in text
    assert "standardization" in text and "riskRegression::ate" in text and "valid under minimization" in text
    assert value(sap, "min_stratum_patients") == an.MIN_STRATUM_PATIENTS
    assert f"fewer than {an.MIN_STRATUM_PATIENTS} patients" in text and "pool_strata" in text
    assert value(sap, "tp.deltas") == DELTAS and value(sap, "tp.imputations") == N_IMPUTATIONS
    assert value(sap, "tp.piece") == PLAN.analysis.censor_months / PIECES
    grid = ", ".join("∞" if math.isinf(d) else f"{d:g}" for d in DELTAS)
    assert f"over the grid {grid} for each" in text and "Rubin's rules" in text and "tipping_point" in text
