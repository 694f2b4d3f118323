"""The reviewer's report (trialnb.review, `trialnb audit`): complete, honest about gaps and
failures, self-contained as HTML."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from trialnb import review
from trialnb.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sections() -> list[review.Section]:
    return review.collect()


@pytest.fixture(scope="module")
def by_title(sections) -> dict[str, review.Section]:
    return {s.title: s for s in sections}


def _section(sections, start: str) -> review.Section:
    return next(s for s in sections if s.title.startswith(start))


def test_every_section_is_present_and_available(sections):
    titles = [s.title for s in sections]
    assert len(titles) == 8
    for start in ("Protocol findings", "Protocol numbers", "Cross-check: sample size",
                  "Cross-check: group-sequential", "Cross-check: Cox",
                  "Cross-check: standardized", "Synthetic datasets", "Package versions"):
        assert any(t.startswith(start) for t in titles), start
    assert titles[0] == "Protocol findings"  # the protocol's problems come first
    assert sections[0].status == review.FINDINGS
    assert [s.title for s in sections[1:] if s.status != "ok"] == []


def test_findings_lead_the_report_and_name_each_problem(sections):
    from trialnb.protocol import FINDINGS
    from trialnb.protocol_audit import protocol_audit

    s = sections[0]
    bad = [v for v in protocol_audit()["verdict"] if not str(v).startswith(("correct", "assumption"))]
    assert len(bad) == 6  # sign typo, control arm only, 2 rounded down, 2 too small
    assert len(s.rows) == len(bad) + len(FINDINGS)
    text = review.text_report(sections)
    lines = text.splitlines()
    assert lines[2].startswith(f"The protocol has {len(s.rows)} findings: 6 in its sample-size arithmetic")
    for f in FINDINGS:
        assert f.title in lines[2]
    assert "sign typo" in lines[2] and "rounded down" in lines[2] and "too small by 2" in lines[2]
    assert lines[3] == "Our recomputation and cross-checks: 7 of 7 sections ok."
    # every finding carries the protocol's section and its verbatim sentence
    record = " ".join((ROOT / "references" / "NCT04697043-protocol-record.txt").read_text(encoding="utf-8").split())
    for r in s.rows:
        assert r[2] not in ("", "—"), r
        for quote in re.findall(r"\u201c(.*?)\u201d", r[3]):
            assert " ".join(quote.split()) in record, quote
        assert re.findall(r"\u201c(.*?)\u201d", r[3]), r


def test_every_protocol_number_carries_section_and_sentence(sections):
    s = _section(sections, "Protocol numbers")
    assert s.header[4:6] == ["Protocol section", "Protocol text"]
    assert all(r[4] != "—" and r[5].startswith("\u201c") for r in s.rows), [r[0] for r in s.rows if r[4] == "—"]


def test_rpact_rows_have_readable_names_never_borrowed_from_the_protocol(sections):
    s = _section(sections, "Cross-check: sample size")
    names = [r[0] for r in s.rows]
    assert len(set(names)) == len(names)
    assert not any("protocol_" in n or "_a05_" in n for n in names)
    disclaimer = "the protocol's design is event-driven, not two proportions"
    assert not any("protocol" in n.replace(disclaimer, "") for n in names)
    assert any(n.startswith("[S1] Events for HR 0.50, two-sided alpha 0.05, power 80%") for n in names)
    assert all("the protocol's design is event-driven" in n for n in names if "two proportions" in n)


def test_protocol_numbers_come_from_protocol_audit(sections):
    from trialnb.protocol_audit import protocol_audit

    s = _section(sections, "Protocol numbers")
    df = protocol_audit()
    assert len(s.rows) == len(df)
    assert [r[0] for r in s.rows] == list(df["quantity"])
    assert [r[3] for r in s.rows] == list(df["verdict"])
    assert [r[-1] for r in s.rows] == [str(x) for x in df["explanation"]]
    text = "\n".join(" | ".join(r) for r in s.rows)
    # the facts a reviewer must find (issue 3): the event count, the sign typo, N rounded down
    assert "sign typo" in text and "rounded down" in text
    events = next(r for r in s.rows if r[0] == "events")
    assert events[1] == "66" and events[2] == "65.35"


def test_rpact_crosscheck_covers_every_reference_value(sections):
    ref = json.loads((ROOT / "tests/reference/rpact_sample_size.json").read_text())
    s = _section(sections, "Cross-check: sample size")
    assert len(s.rows) == 2 * len(ref["survival"]) + len(ref["power"]) + len(ref["rates"])
    assert {r[-1] for r in s.rows} == {"pass"}
    assert all(r[4] == "1e-09 (relative)" for r in s.rows)
    assert any("rpact 3.3.4" in n for n in s.notes)


def test_monitoring_crosscheck_covers_every_design_and_leads_with_the_plan(sections, tmp_path, monkeypatch):
    """The audit lists the interim boundaries' rpact cross-check the monitoring tests hold: every
    design's boundary at every look and its alpha spent, and the boundary summary (HR at the
    bound, crossing probabilities, expected deaths) of every survival setting, the plan's first."""
    ref = json.loads((ROOT / "tests/reference/rpact_monitoring.json").read_text())
    s = _section(sections, "Cross-check: group-sequential")
    looks = sum(d["args"]["kMax"] for d in ref["designs"])
    summaries = sum(p["design"]["kMax"] + 3 for p in ref["powers"])
    assert len(s.rows) == looks + len(ref["designs"]) + summaries
    assert {r[-1] for r in s.rows} == {"pass"}
    assert s.rows[0][0].startswith("[B1] (the plan's design) asOF, 2 looks, two-sided alpha 0.05")
    power = next(r for r in s.rows if "(the plan's design)" in r[0] and r[0].endswith("under H1 (power)"))
    assert float(power[2]) == pytest.approx(ref["powers"][0]["overallReject"][1], abs=1e-7)
    assert any(f"rpact {ref['rpact']}" in n for n in s.notes)
    # a wrong value is caught: the check compares, it does not copy
    bad = dict(ref, designs=[dict(ref["designs"][0], criticalValues=[v + 1e-3 for v in
                                                                     ref["designs"][0]["criticalValues"]])])
    (tmp_path / "rpact_monitoring.json").write_text(json.dumps(bad))
    monkeypatch.setattr(review, "REFERENCE_DIR", tmp_path)
    wrong = review.crosscheck_monitoring()
    assert wrong.status == "fail" and sum(r[-1] == "FAIL" for r in wrong.rows) == ref["designs"][0]["args"]["kMax"]


def test_survival_crosscheck_covers_every_dataset(sections):
    ref = json.loads((ROOT / "tests/reference/survival_coxph.json").read_text())
    s = _section(sections, "Cross-check: Cox")
    for name in ref["results"]:
        assert sum(r[0].startswith(name + ":") for r in s.rows) >= 20, name
    assert {r[-1] for r in s.rows} == {"pass"}
    hr = next(r for r in s.rows if r[0] == "trial_protocol: Cox HR arm A vs B (primary, death within 24 months)")
    want = ref["results"]["trial_protocol"]["cox"]["arm_A"]["hr"]
    assert float(hr[1]) == pytest.approx(want, rel=1e-6)
    assert any("survival 3.5" in n for n in s.notes)


def test_riskregression_crosscheck_covers_every_dataset_with_and_without_ties(sections):
    ref = json.loads((ROOT / "tests/reference/riskregression_ate.json").read_text())
    s = _section(sections, "Cross-check: standardized")
    assert s.status == "ok" and {r[-1] for r in s.rows} == {"pass"}
    for name, r in ref["results"].items():
        rows = [x for x in s.rows if x[0].startswith(name + " ")]
        assert len(rows) == 12, name
        assert r["shipped"]["tied_death_times"] > 0 and r["ties_broken"]["tied_death_times"] == 0
        assert all(x[4] == "1e-06 (relative)" for x in rows if "ties broken" in x[0])
        assert any(x[4] == "0.015 (relative)" for x in rows if "shipped" in x[0] and "SE" in x[0])
    assert any("riskRegression 2022.11.28" in n for n in s.notes)
    frame = review.crosscheck_frame("riskregression")
    assert len(frame) == len(s.rows) and frame["passed"].all()
    assert frame.loc[frame["quantity"].str.contains("ties broken"), "difference"].max() < 1e-6
    with pytest.raises(ValueError, match="which must be one of"):
        review.crosscheck_frame("lifelines")


def test_a_wrong_riskregression_reference_makes_the_section_fail(fake_refs: Path):
    p = fake_refs / "riskregression_ate.json"
    ref = json.loads(p.read_text())
    ref["results"]["trial_protocol"]["ties_broken"]["risk_difference"]["se"] *= 1.0001
    p.write_text(json.dumps(ref))
    s = review.crosscheck_riskregression()
    assert s.status == "fail"
    assert [r[0] for r in s.rows if r[-1] == "FAIL"] == [
        "trial_protocol (ties broken: no tied death time): SE of the difference"]


def test_seeds_name_every_shipped_file(sections):
    from trialnb.simulation import SHIPPED_SEED

    s = _section(sections, "Synthetic datasets")
    files = {r[0] for r in s.rows}
    shipped = {f"data/{p.name}" for p in (ROOT / "data").glob("*.csv")
               if p.name.startswith(("trial_", "qol_", "screening"))}
    assert shipped and shipped <= files
    assert {r[1] for r in s.rows if r[0].startswith("data/")} == {str(SHIPPED_SEED)}


def test_versions_include_python_packages_and_r(sections):
    from importlib import metadata

    s = _section(sections, "Package versions")
    got = dict((r[0], r[1]) for r in s.rows)
    assert got["numpy"] == metadata.version("numpy") and got["lifelines"] == metadata.version("lifelines")
    assert "rpact 3.3.4" in got["R rpact (made the reference values)"]


# --- failures and gaps are reported, never hidden -----------------------------------------

def test_check_pass_and_fail_at_the_tolerance():
    assert review.Check("x", 100.0, 100.0 + 1e-8, 1e-9).passed is True      # 1e-10 relative
    assert review.Check("x", 100.0, 100.0 + 1e-6, 1e-9).passed is False     # 1e-8 relative
    assert review.Check("x", 100.0, 100.0 + 1e-6, 1e-9).row()[-1] == "FAIL"
    assert review.Check("x", 100.0, 100.0 + 1e-8, 1e-9, relative=False).passed is False
    assert review.Check("x", 5.0, 5.0, 0.0, relative=False).row()[4] == "exact"
    assert review.Check("x", 1.0, float("nan"), 1.0).passed is False


@pytest.fixture()
def fake_refs(tmp_path: Path, monkeypatch) -> Path:
    for name in ("rpact_sample_size.json", "survival_coxph.json", "riskregression_ate.json"):
        shutil.copy(ROOT / "tests" / "reference" / name, tmp_path / name)
    monkeypatch.setattr(review, "REFERENCE_DIR", tmp_path)
    return tmp_path


def test_a_wrong_reference_value_makes_the_section_fail(fake_refs: Path):
    p = fake_refs / "rpact_sample_size.json"
    ref = json.loads(p.read_text())
    ref["survival"][0]["events"] *= 1.001  # a 0.1% error: far inside any printed rounding
    p.write_text(json.dumps(ref))
    s = review.crosscheck_rpact()
    assert s.status == "fail"
    assert [r[0] for r in s.rows if r[-1] == "FAIL"] == [
        "[S1] Events for HR 0.50, two-sided alpha 0.05, power 80%, allocation 1:1, Schoenfeld"]
    text = review.text_report([s])
    assert "FAILED" in text and "[fail]" in text


def test_a_wrong_cox_reference_makes_the_section_fail(fake_refs: Path):
    p = fake_refs / "survival_coxph.json"
    ref = json.loads(p.read_text())
    ref["results"]["trial_protocol"]["cox"]["arm_A"]["se"] *= 1.0001
    p.write_text(json.dumps(ref))
    s = review.crosscheck_survival()
    assert s.status == "fail"
    assert [r[0] for r in s.rows if r[-1] == "FAIL"] == ["trial_protocol: Cox SE arm_A"]


def test_missing_reference_is_not_available_not_ok(fake_refs: Path):
    (fake_refs / "survival_coxph.json").unlink()
    s = review.crosscheck_survival()
    assert s.status == review.NOT_AVAILABLE and s.rows == []
    assert "not available" in s.notes[0] and "survival_coxph.json" in s.notes[0]
    assert review.crosscheck_rpact().status == "ok"


def test_a_section_that_raises_is_reported(monkeypatch):
    def boom() -> review.Section:
        """Broken section."""
        raise RuntimeError("kaput")

    monkeypatch.setattr(review, "dataset_seeds", boom)
    secs = review.collect()
    bad = [s for s in secs if s.status == review.NOT_AVAILABLE]
    assert len(bad) == 1 and "RuntimeError: kaput" in bad[0].notes[0]
    assert "not available: Broken section" in review.text_report(secs)


def test_section_validates_its_shape():
    with pytest.raises(ValueError, match="status"):
        review.Section("t", "green")
    with pytest.raises(ValueError, match="cells"):
        review.Section("t", "ok", ["a", "b"], [["1"]])


# --- text and HTML ------------------------------------------------------------------------

def test_cli_audit_prints_the_text_report(capsys, sections):
    assert main(["audit"]) == 0
    out = capsys.readouterr().out
    for s in sections:
        assert f"{s.title} [{s.status}]" in out
    assert "Our recomputation and cross-checks: 7 of 7 sections ok." in out
    assert out.splitlines()[2].startswith("The protocol has 13 findings")
    assert "exp(-0.5) = 0.6065" in out  # explanations are printed in full, not cut


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_cli_audit_html_is_self_contained(tmp_path: Path, capsys):
    target = tmp_path / "sub" / "audit.html"
    assert main(["audit", "--html", str(target)]) == 0
    assert str(target) in capsys.readouterr().out
    doc = target.read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(doc)
    tags = [t for t, _ in parser.tags]
    assert "script" not in tags and "img" not in tags and "iframe" not in tags
    links = [a for t, a in parser.tags for k, v in a.items() if k in ("src", "href") and v]
    assert links == [], links
    assert tags.count("section") == 8 and tags.count("table") == 8
    statuses = [a["data-status"] for t, a in parser.tags if t == "section"]
    assert statuses == ["findings"] + ["ok"] * 7
    text = " ".join(parser.text)
    assert "sign typo" in text and "rpact" in text and "20201120" in text
    assert not re.search(r"\bnan\b", text)


def test_write_html_refuses_a_non_html_path(tmp_path: Path):
    with pytest.raises(ValueError, match=r"path must end in \.html"):
        review.write_html(tmp_path / "audit.txt")


def test_html_escapes_table_content():
    s = review.Section("A <b> title", "ok", ["Quantity"], [["x < y & <script>"]])
    doc = review.html_report([s])
    assert "<script>" not in doc and "x &lt; y &amp; &lt;script&gt;" in doc
