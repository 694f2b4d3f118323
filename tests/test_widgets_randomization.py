"""RandomizationConsole, headless: controls drive outputs; allocations are logged durably and
no log is ever discarded (changing the settings starts a new log only when asked)."""

from __future__ import annotations

import pytest

from trialnb.randomization import AllocationLog, EfronBiasedCoin, PocockSimon
from trialnb.widgets.randomization import RandomizationConsole, build_dashboard

PAT = {"dominant_site": "visceral", "hormone_receptor": "negative", "her2": "positive"}
KEY = b"console-test-key-32-bytes-long!!"


@pytest.fixture(autouse=True)
def _logs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))


def _set(console, patient):
    for k, v in patient.items():
        console.dropdowns[k].value = v


def test_css_classes_and_dashboard():
    c = RandomizationConsole()
    assert "trialnb-randomization" in c.root._dom_classes
    assert "trialnb-allocation" in c.allocation_html._dom_classes
    root = build_dashboard()
    assert "trialnb-randomization" in root._dom_classes


def test_allocate_updates_outputs_and_log():
    c = RandomizationConsole(seed=7)
    assert c.preview == {"A": 0.5, "B": 0.5}
    before = c.allocation_html.value
    _set(c, PAT)
    a = c.allocate()
    assert a.arm in ("A", "B") and c.last is a
    assert c.allocation_html.value != before and f"arm {a.arm}" in c.allocation_html.value
    assert c.last_entry["factors"] == PAT and len(c.log) == 1 and c.log.verify()
    assert f"<code class='trialnb-receipt'>{c.log.receipt(1).code}</code>" in c.allocation_html.value  # for the CRF
    # the same patient again: minimization now favours the other arm with p = 0.8
    other = "B" if a.arm == "A" else "A"
    assert c.preview[other] == pytest.approx(0.8)
    assert "0.800" in c.probs_html.value
    assert "1 entries" in c.log_html.value and "intact" in c.log_html.value
    assert "u =" not in c.allocation_html.value  # no draw shown: the stream stays concealed


def test_dropdown_change_updates_preview_table():
    c = RandomizationConsole(seed=1)
    _set(c, PAT)
    c.allocate()
    t1 = c.table_html.value
    _set(c, {"dominant_site": "bone", "hormone_receptor": "positive", "her2": "negative"})
    assert c.table_html.value != t1
    assert c.preview == {"A": 0.5, "B": 0.5}  # no shared levels with the first patient: tie


def test_same_key_same_allocations_as_library(tmp_path):
    pats = [PAT, PAT, {"dominant_site": "bone", "hormone_receptor": "positive", "her2": "negative"}, PAT]
    c = RandomizationConsole(seed=2026, key=KEY, log_dir=tmp_path)
    arms = []
    for p in pats:
        _set(c, p)
        arms.append(c.allocate().arm)
    log = AllocationLog.in_memory(PocockSimon(p=0.8), seed=2026, key=KEY)
    assert arms == [log.allocate(p, patient_id=f"P{i:03d}")["arm"] for i, p in enumerate(pats, start=1)]
    assert AllocationLog.verify_file(c.logs[0], key=KEY, head=c.log.head) == 4


def test_settings_change_never_discards_the_log(tmp_path):
    c = RandomizationConsole(seed=3, log_dir=tmp_path)
    _set(c, PAT)
    c.allocate()
    first = c.logs[0]
    c.measure.value = "variance"
    assert len(c.log) == 1 and c.procedure.imbalance_measure == "range"  # nothing thrown away
    assert "keeps its own" in c.settings_html.value and "Start a new log" in c.settings_html.value
    c.measure.value = "range"
    assert c.settings_html.value == ""  # back to the log's own settings: nothing to say
    c.measure.value = "variance"
    c.p.value = 1.0
    assert c.procedure.p == 0.8 and len(c.log) == 1
    c.new_log_button.click()
    assert len(c.logs) == 2 and first.exists() and len(c.log) == 0
    assert c.procedure.imbalance_measure == "variance" and c.procedure.p == 1.0
    assert "kept unchanged" in c.settings_html.value and "1 entries" in c.settings_html.value
    assert len(AllocationLog.open(first, key=c._key)) == 1  # the old log is intact on disk
    c.allocate()
    c.allocate()  # second identical patient is forced to the other arm with p = 1
    assert c.last.deterministic and c.preview == {"A": 0.5, "B": 0.5}


def test_duplicate_id_shown_not_allocated(tmp_path):
    c = RandomizationConsole(seed=4, log_dir=tmp_path)
    c.allocate()
    c.patient_id.value = " P001 "
    c.allocate_button.click()
    assert "Not allocated" in c.allocation_html.value and "already in the log" in c.allocation_html.value
    assert len(c.log) == 1


def test_button_click_allocates():
    c = RandomizationConsole(seed=5)
    c.allocate_button.click()
    assert len(c.log) == 1 and c.last is not None


def test_other_procedure():
    c = RandomizationConsole(procedure=EfronBiasedCoin())
    c.allocate()
    assert "no imbalance table" in c.table_html.value
    assert c.preview["A"] in (pytest.approx(1 / 3), pytest.approx(2 / 3))
