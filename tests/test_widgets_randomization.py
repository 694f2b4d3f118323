"""RandomizationConsole, headless: controls drive outputs; allocations are seeded and logged."""

from __future__ import annotations

import pytest

from trialnb.randomization import AllocationLog, EfronBiasedCoin, PocockSimon
from trialnb.widgets.randomization import RandomizationConsole, build_dashboard

PAT = {"dominant_site": "visceral", "hormone_receptor": "negative", "her2": "positive"}


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
    # the same patient again: minimization now favours the other arm with p = 0.8
    other = "B" if a.arm == "A" else "A"
    assert c.preview[other] == pytest.approx(0.8)
    assert "0.800" in c.probs_html.value
    assert "1 entries" in c.log_html.value and "intact" in c.log_html.value


def test_dropdown_change_updates_preview_table():
    c = RandomizationConsole(seed=1)
    _set(c, PAT)
    c.allocate()
    t1 = c.table_html.value
    _set(c, {"dominant_site": "bone", "hormone_receptor": "positive", "her2": "negative"})
    assert c.table_html.value != t1
    assert c.preview == {"A": 0.5, "B": 0.5}  # no shared levels with the first patient: tie


def test_same_seed_same_allocations_as_library():
    pats = [PAT, PAT, {"dominant_site": "bone", "hormone_receptor": "positive", "her2": "negative"}, PAT]
    c = RandomizationConsole(seed=2026)
    arms = []
    for p in pats:
        _set(c, p)
        arms.append(c.allocate().arm)
    log = AllocationLog(PocockSimon(p=0.8), seed=2026)
    assert arms == [log.allocate(p)["arm"] for p in pats]
    assert c.log.head == log.head


def test_settings_restart_with_new_measure():
    c = RandomizationConsole(seed=3)
    _set(c, PAT)
    c.allocate()
    c.measure.value = "variance"
    assert len(c.log) == 0 and c.procedure.imbalance_measure == "variance"
    c.p.value = 1.0
    assert c.procedure.p == 1.0
    c.allocate()
    c.allocate()  # second identical patient is forced to the other arm with p = 1
    assert c.last.deterministic and c.preview == {"A": 0.5, "B": 0.5}


def test_button_click_allocates():
    c = RandomizationConsole(seed=5)
    c.allocate_button.click()
    assert len(c.log) == 1 and c.last is not None


def test_other_procedure():
    c = RandomizationConsole(procedure=EfronBiasedCoin())
    c.allocate()
    assert "no imbalance table" in c.table_html.value
    assert c.preview["A"] in (pytest.approx(1 / 3), pytest.approx(2 / 3))
