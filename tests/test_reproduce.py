"""Export and reproduce (trialnb.reproduce, trialnb.widgets.export), for every dashboard panel:

* the settings file round trip: save, load into a fresh panel, the same controls and the same
  numbers; a file of another panel, an unknown setting or a value out of range is refused with a
  message and changes nothing (never clamped);
* the emitted trialnb Python is executed and gives the panel's numbers;
* the emitted R is run with rpact (fixture ``rscript``, marked ``r``) and gives the panel's
  numbers: the sample size (N, power, detectable HR, every input form), the group-sequential
  design's boundary table, the DMC look (the file's Cox Wald z with R survival, the typed look)
  and, within Monte-Carlo error, the operating characteristics (rpact getSimulationSurvival);
* the report: one self-contained page in the documents' shell, with the panel, the settings and
  both calls, written atomically.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from trialnb import reproduce
from trialnb.errors import SettingsError
from trialnb.plan import PLAN

# ---------------------------------------------------------------- helpers


def run_python(code: str) -> dict:
    """Execute emitted code (quietly) and return its namespace."""
    import contextlib
    import io

    ns: dict = {"__name__": "__reproduce__"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, "<emitted>", "exec"), ns)  # noqa: S102 - the package's own output
    return ns


def parse_r(out: str) -> dict[str, dict[str, np.ndarray]]:
    """``== case`` blocks of ``name = v1 v2 ...`` lines, as arrays (NA as nan)."""
    cases: dict[str, dict[str, np.ndarray]] = {}
    current = None
    for line in out.splitlines():
        if line.startswith("== "):
            current = cases.setdefault(line[3:].strip(), {})
        elif current is not None and " = " in line:
            name, _, values = line.partition(" = ")
            current[name.strip()] = np.array([float("nan") if v == "NA" else float(v) for v in values.split()])
    return cases


def run_r(rscript: str, codes: dict[str, str], tmp_path: Path) -> dict[str, dict[str, np.ndarray]]:
    """Run every emitted R program in one R session (each in its own local() scope)."""
    parts = [f'cat("== {name}\\n")\nlocal({{\n{code}\n}})' for name, code in codes.items()]
    script = tmp_path / "emitted.R"
    script.write_text("\n".join(parts) + "\n", encoding="utf-8")
    run = subprocess.run([rscript, str(script)], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return parse_r(run.stdout)


# ---------------------------------------------------------------- panels, built small and quiet

def make(panel: str):
    if panel == "sample_size":
        from trialnb.widgets.sample_size import SampleSizeExplorer
        return SampleSizeExplorer()
    if panel == "design":
        from trialnb.widgets.monitoring import DesignExplorer
        return DesignExplorer()
    if panel == "monitoring":
        from trialnb.widgets.monitoring import MonitoringDashboard
        return MonitoringDashboard()
    if panel == "operating_characteristics":
        from trialnb.widgets.oc import OCExplorer
        return OCExplorer(n_trials=500)
    if panel == "randomization":
        from trialnb.widgets.randomization import RandomizationConsole
        return RandomizationConsole(key=b"k" * 32)
    if panel == "bias":
        from trialnb.widgets.bias import BiasExplorer
        return BiasExplorer(n=600, draw=False)
    if panel == "evidence":
        from trialnb.widgets.evidence import EvidenceExplorer
        return EvidenceExplorer(draw=False)
    if panel == "estimands":
        from trialnb.widgets.estimands import EstimandsExplorer
        return EstimandsExplorer(n_trials=200)
    raise AssertionError(panel)


CHANGES = {
    "sample_size": {"solve_for": "power", "n_patients": 300, "control_form": "median", "accrual_form": "intensity",
                    "accrual_intensity": 8.0, "hazard_ratio": 0.6},
    "design": {"looks": 3, "spending": "asP", "futility": False},
    "monitoring": {"source": "numbers", "events": 30, "z": -2.1},
    "operating_characteristics": {"hazard_ratio": 0.7, "analysis": "logrank", "accrual_months": 30.0},
    "randomization": {"p": 0.9, "imbalance": "variance", "patient": {"dominant_site": "visceral"}},
    "bias": {"selection": 1.0, "hazard_ratio": 0.8},
    "evidence": {"trials": ["tata2015", "mf0701_2018"], "prior": "sceptical", "design": "plan"},
    "estimands": {"shape": "delayed benefit", "non_compliance": 0.2},
}


def shown(panel_obj) -> str:
    """What the panel shows (its static picture without the export section), for comparing two
    panels: timings and a log's own identity are not its state."""
    from trialnb.widgets.snapshot import snapshot_html

    html = snapshot_html(panel_obj.export._root(), exclude=("trialnb-no-snapshot", "trialnb-export"))
    return re.sub(r"<(div|span) class='trialnb-(?:timing|run-id)'[^>]*>[^<]*</\1>", "", html)


@pytest.fixture(scope="module")
def panels():
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            cache[name] = make(name)
        return cache[name]
    return get


# ---------------------------------------------------------------- settings files

@pytest.mark.parametrize("panel", sorted(CHANGES))
def test_settings_round_trip_restores_the_panel(panel, tmp_path):
    a = make(panel)
    changes = dict(CHANGES[panel])
    if panel == "randomization":
        patient = {**a.patient(), **changes.pop("patient")}
        changes["patient"] = patient
        a.allocate()
    a.apply_settings(changes)
    path = a.export.save_settings(tmp_path / f"{panel}.json")
    doc = json.loads(path.read_text())
    assert doc["format"] == reproduce.SETTINGS_FORMAT and doc["panel"] == panel and doc["version"] == 1
    b = make(panel)
    loaded = b.export.load_settings(path)
    assert "Settings loaded" in b.export.message.value
    mine, theirs = a.panel_settings(), b.panel_settings()
    if panel == "randomization":  # the log is a record, not a setting: a fresh console has its own
        mine.pop("history"), theirs.pop("history")
    assert theirs == mine == {k: v for k, v in loaded.items() if k != "history"}
    if panel != "randomization":
        assert shown(b) == shown(a)
    assert reproduce.settings_json(panel, b.panel_settings()) == path.read_text() or panel == "randomization"


@pytest.mark.parametrize("text, message", [
    ("not json", "not JSON"),
    (json.dumps({"format": "other"}), "not a trialnb settings file"),
    (json.dumps({"format": reproduce.SETTINGS_FORMAT, "version": 2, "panel": "sample_size", "settings": {}}),
     "version 2"),
    (json.dumps({"format": reproduce.SETTINGS_FORMAT, "version": 1, "panel": "bias", "settings": {}}),
     "settings of the 'bias' dashboard"),
    (reproduce.settings_json("sample_size", {"hazard": 0.5}), "unknown setting"),
    (reproduce.settings_json("sample_size", {"hazard_ratio": 1.5}),
     "hazard_ratio = 1.5 is not allowed; allowed: a number"),
    (reproduce.settings_json("sample_size", {"hazard_ratio": True}), "is not allowed"),
    (reproduce.settings_json("sample_size", {"solve_for": "size"}), "allowed: one of"),
    (reproduce.settings_json("sample_size", {"n_patients": 20.5}), "whole number"),
])
def test_bad_settings_are_refused_and_change_nothing(panels, text, message):
    p = panels("sample_size")
    before = p.panel_settings()
    with pytest.raises(SettingsError, match=message):
        p.export.load_text(text)
    assert p.panel_settings() == before
    assert "Settings not loaded" in p.export.message.value


def test_an_upload_loads_settings_in_the_panel(panels):
    p = make("bias")
    text = reproduce.settings_json("bias", {**p.panel_settings(), "selection": 1.5})
    p.export.upload.value = ({"name": "bias-settings.json", "type": "application/json", "size": len(text),
                              "content": memoryview(text.encode()),
                              "last_modified": datetime(2026, 1, 1, tzinfo=timezone.utc)},)
    assert p.sliders["selection"].value == 1.5 and p.export.upload.value == ()
    bad = reproduce.settings_json("bias", {"selection": 9.0})
    p.export.upload.value = ({"name": "x.json", "type": "", "size": 1, "content": memoryview(bad.encode()),
                              "last_modified": datetime(2026, 1, 1, tzinfo=timezone.utc)},)
    assert p.sliders["selection"].value == 1.5 and "Settings not loaded" in p.export.message.value


def test_panels_refuse_settings_of_another_cohort_seed_or_plan():
    from trialnb.widgets.monitoring import DesignExplorer

    with pytest.raises(SettingsError, match="seed"):
        make("bias").apply_settings({"seed": 1})
    with pytest.raises(SettingsError, match="another plan"):
        DesignExplorer().apply_settings({"plan_changes": {"hazard_ratio": 0.7}})
    e = DesignExplorer(PLAN.with_changes(hazard_ratio=0.7))
    assert e.panel_settings()["plan_changes"] == {"hazard_ratio": 0.7}
    assert "PLAN.with_changes(hazard_ratio=0.7" in e.export.python.value


def test_the_download_link_holds_the_settings_file(panels):
    import base64

    p = panels("design")
    m = re.search(r"download='design-settings.json' href='data:application/json;charset=utf-8;base64,([^']+)'",
                  p.export.settings_link.value)
    assert m, p.export.settings_link.value
    assert base64.b64decode(m.group(1)).decode() == reproduce.settings_json("design", p.panel_settings())


# ---------------------------------------------------------------- the Python code

@pytest.mark.parametrize("what, extra", [("n", {}), ("power", {"accrual_form": "intensity"}),
                                         ("hazard_ratio", {"control_form": "median", "accrual": 36.0})])
def test_python_of_the_sample_size_panel(what, extra):
    p = make("sample_size")
    p.apply_settings({"solve_for": what, **extra})
    ns = run_python(reproduce.python_code("sample_size", p.panel_settings()))
    got, mine = ns["result"], p.solution
    for name in ("hazard_ratio", "power", "events", "n_patients", "n_evaluable", "accrual_time"):
        assert getattr(got, name) == getattr(mine, name), name
    assert str(got) == str(mine)


def test_python_of_the_design_panel(panels):
    p = panels("design")
    p.apply_settings({"looks": 3, "spending": "asKD", "first": 0.4})
    ns = run_python(reproduce.python_code("design", p.panel_settings()))
    np.testing.assert_array_equal(ns["result"].z_bound, p.table.z_bound)
    np.testing.assert_array_equal(ns["result"].efficacy_h1, p.table.efficacy_h1)
    assert ns["max_events"] == p.max_events and ns["plan"] == p.plan
    np.testing.assert_array_equal(ns["times"].months_h1, p.analysis_times.months_h1)


@pytest.mark.parametrize("mode", ["file", "numbers"])
def test_python_of_the_dmc_panel(panels, mode):
    p = panels("monitoring")
    p.apply_settings({"source": mode})
    ns = run_python(reproduce.python_code("monitoring", p.panel_settings()))
    if mode == "file":
        assert ns["result"].z == p.report.z and ns["result"].decision == p.report.decision
        assert ns["result"].rows() == p.report.rows()
    else:
        assert p.result[:2] == (int(p.events.value), float(p.z.value))
        for key in ("boundary", "rci_lower", "rci_upper", "repeated_p_value"):
            assert ns["result"][key] == p.look[key], key


def test_python_of_the_simulation_panels(panels):
    oc = panels("operating_characteristics")
    ns = run_python(reproduce.python_code("operating_characteristics", oc.panel_settings()))
    assert ns["result"].power == oc.result.power and ns["result"].mean_events == oc.result.mean_events
    est = panels("estimands")
    ns = run_python(reproduce.python_code("estimands", est.panel_settings()))
    assert ns["result"].to_frame().equals(est.result.to_frame())


def test_python_of_the_other_panels(panels):
    b = panels("bias")
    ns = run_python(reproduce.python_code("bias", b.panel_settings()))
    assert ns["result"].equals(b.result)
    e = panels("evidence")
    ns = run_python(reproduce.python_code("evidence", e.panel_settings()))
    assert ns["result"].probability_of_success == e.result.probability_of_success
    assert ns["take"].events_for_power == e.take.events_for_power
    r = make("randomization")
    for site in ("bone", "visceral", "visceral"):
        r.dropdowns["dominant_site"].value = site
        r.allocate()
    ns = run_python(reproduce.python_code("randomization", r.panel_settings()))
    assert ns["result"] == r.preview
    assert ns["proc"].table(r.patient()) == r.procedure.table(r.patient())


def test_panels_without_an_r_equivalent_say_why(panels):
    for name in ("randomization", "bias", "evidence", "estimands"):
        p = panels(name)
        assert reproduce.r_code(name, p.panel_settings()) is None
        assert "no rpact equivalent" in p.export.r.value
    oc = panels("operating_characteristics")
    for change in ({"crossover": 0.2}, {"non_compliance": 0.1}, {"effect_delay_months": 6.0}):
        assert reproduce.r_code("operating_characteristics", {**oc.panel_settings(), **change}) is None
        assert reproduce.r_note("operating_characteristics", {**oc.panel_settings(), **change}).startswith("no rpact")


# ---------------------------------------------------------------- the R code, run with rpact

@pytest.mark.r
@pytest.mark.slow
def test_emitted_r_gives_the_panels_numbers(rscript, tmp_path):
    from trialnb.widgets.monitoring import DesignExplorer, MonitoringDashboard
    from trialnb.widgets.oc import OCExplorer
    from trialnb.widgets.sample_size import SampleSizeExplorer

    ss_cases = {
        "ss_n": {},
        "ss_n_intensity_median": {"accrual_form": "intensity", "control_form": "median", "dropout_probability": 0.1},
        "ss_n_freedman_onesided": {"method": "freedman", "sided": 1, "accrual": 30.0, "allocation_ratio": 2.0},
        "ss_power": {"solve_for": "power", "accrual": 36.0, "dropout_probability": 0.05},
        "ss_power_intensity": {"solve_for": "power", "accrual_form": "intensity", "n_patients": 180},
        "ss_power_onesided": {"solve_for": "power", "sided": 1, "alpha": 0.025, "accrual": 24.0},
        "ss_hr": {"solve_for": "hazard_ratio", "accrual": 36.0},
        "ss_hr_intensity_median": {"solve_for": "hazard_ratio", "accrual_form": "intensity", "control_form": "median",
                                   "n_patients": 400},
    }
    ss_panels, codes = {}, {}
    for name, change in ss_cases.items():
        p = SampleSizeExplorer()
        p.apply_settings(change)
        assert p.error == "", (name, p.error)
        ss_panels[name] = p
        codes[name] = reproduce.r_code("sample_size", p.panel_settings())
    design_panels = {}
    for name, change in {"design_default": {}, "design_asP_k3": {"looks": 3, "spending": "asP"},
                         "design_asKD_k4": {"looks": 4, "first": 0.3, "spending": "asKD"}}.items():
        p = DesignExplorer()
        p.apply_settings(change)
        design_panels[name] = p
        codes[name] = reproduce.r_code("design", p.panel_settings())
    dmc = MonitoringDashboard()
    dmc_file = dmc.report
    codes["dmc_file"] = reproduce.r_code("monitoring", dmc.panel_settings())
    typed = {"source": "numbers", "events": 30, "z": -2.2}
    codes["dmc_typed"] = reproduce.r_code("monitoring", {**dmc.panel_settings(), **typed})
    homogeneous = replace(PLAN, design=PLAN.design.without_prognostic_effects())
    oc = OCExplorer(base=homogeneous, n_trials=2000)
    oc_runs = {}
    for name, change in {"oc_h1": {"analysis": "logrank", "hazard_ratio": 0.5},
                         "oc_h0": {"analysis": "logrank", "hazard_ratio": 1.0},
                         "oc_hr07_accrual24": {"analysis": "logrank", "hazard_ratio": 0.7,
                                               "accrual_months": 24.0}}.items():
        oc.apply_settings(change)
        oc_runs[name] = (oc.result.benefit(), oc.result.rejection(), oc.result.n_trials)
        codes[name] = reproduce.r_code("operating_characteristics", oc.panel_settings())
    out = run_r(rscript, codes, tmp_path)
    assert set(out) == set(codes)

    for name, p in ss_panels.items():
        r, sol = out[name], p.solution
        tol = 2e-6 if "intensity" in name else 1e-6  # rpact: accrual 1e-6 for "at once"; its own accrual solver
        if sol.solved_for == "n":
            assert r["deaths"][0] == pytest.approx(sol.events, rel=1e-12), name
            assert r["patients_evaluable"][0] == pytest.approx(sol.n_evaluable, rel=tol), name
            assert r["patients_randomized"][0] == pytest.approx(sol.n_patients, rel=tol), name
        elif sol.solved_for == "power":
            assert r["deaths"][0] == pytest.approx(sol.events, rel=tol), name
            assert r["power"][0] == pytest.approx(sol.power, rel=tol), name
            assert r["analysis_time"][0] == pytest.approx(sol.study_duration, rel=1e-6), name
        else:
            assert r["hazard_ratio"][0] == pytest.approx(sol.hazard_ratio, rel=1e-8), name
            assert r["deaths"][0] == pytest.approx(sol.events, rel=1e-8), name
    for name, p in design_panels.items():
        r, t = out[name], p.table
        assert r["max_deaths"][0] == p.max_events
        for key, ours in (("z_bound", t.z_bound), ("nominal_p", t.nominal_p), ("alpha_spent", t.alpha_spent),
                          ("hr_bound", t.hr_bound), ("reject_h0", t.reject_h0), ("reject_h1", t.reject_h1)):
            np.testing.assert_allclose(r[key], ours, rtol=1e-6, atol=1e-8, err_msg=f"{name} {key}")
        assert r["expected_deaths_h1"][0] == pytest.approx(t.expected_deaths_h1, rel=1e-6)
    r = out["dmc_file"]
    assert r["deaths"][0] == dmc_file.primary_deaths
    assert r["z"][0] == pytest.approx(dmc_file.z, rel=1e-6)
    assert r["boundary"][0] == pytest.approx(dmc_file.boundary, rel=1e-9)
    assert r["rci_lower"][0] == pytest.approx(dmc_file.rci_lower, rel=1e-5)
    assert r["rci_upper"][0] == pytest.approx(dmc_file.rci_upper, rel=1e-5)
    assert r["repeated_p_value"][0] == pytest.approx(dmc_file.repeated_p_value, rel=1e-5)
    assert bool(r["crossed"][0]) == (dmc_file.decision == "efficacy boundary crossed")
    from trialnb import interim
    look = interim.typed_look(30, -2.2)
    r = out["dmc_typed"]
    assert r["boundary"][0] == pytest.approx(look["boundary"], rel=1e-7)  # an unplanned look: rpact solves to ~1e-8
    assert r["rci_lower"][0] == pytest.approx(look["rci_lower"], rel=1e-7)
    assert r["repeated_p_value"][0] == pytest.approx(look["repeated_p_value"], rel=1e-6)
    assert r["conditional_power_design"][0] == pytest.approx(look["conditional_power"]["0.5 (design)"], abs=1e-7)
    for name, (benefit, rejection, n) in oc_runs.items():
        r = out[name]
        key, ours = ("rejection", rejection) if name == "oc_h0" else ("benefit", benefit)
        theirs, m = r[key][0], r["iterations"][0]
        se = math.sqrt(ours * (1 - ours) / n + theirs * (1 - theirs) / m)
        assert abs(ours - theirs) < 4 * se + 0.01, (name, ours, theirs, se)


# ---------------------------------------------------------------- the report

def test_report_is_one_self_contained_page(panels, tmp_path):
    p = panels("design")
    html = p.export.make_report()
    assert "Download the report (HTML)" in p.export.report_link.value
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    assert not re.search(r"(src|href)=['\"]https?:", html)
    assert "Interim plan explorer: report" in html and "Generated " in html  # the documents' shell
    assert "getDesignGroupSequential" in html and "monitoring.boundary_table" in html
    assert "Boundary table" in html and "Export and reproduce" not in html  # the panel, not its export box
    assert "<td>looks</td>" in html
    path = p.export.save_report(tmp_path / "design.html")
    assert path.read_text().startswith("<!DOCTYPE html>")
    p.looks.value = 5 if p.looks.value != 5 else 4  # a change withdraws the report made before
    assert p.export.report_link.value == "" and p.export.report_text is None


def test_python_and_r_literals_are_exact():
    x = math.exp(-0.5)
    assert reproduce.python_code("sample_size", {**make("sample_size").panel_settings()}).count(repr(x)) == 1
    assert f"-log({x!r})" in reproduce.r_code("sample_size", make("sample_size").panel_settings())
