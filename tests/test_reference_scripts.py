"""The R reference scripts follow one convention: `Rscript tests/reference/NAME.R [OUTPUT.json]`,
default output tests/reference/NAME.json, run from the repository root, and they never overwrite
a reference with empty results; `make references` re-runs them all. In CI every script is re-run
and must reproduce its committed JSON (one parametrized test; the tests of each module compare
the package with the committed values)."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
SCRIPTS = sorted(p.stem for p in REF.glob("*.R"))
GUARDED = ("rpact_sample_size", "survival_coxph", "randomization_exact", "metafor_meta", "bias_coxph",
           "simulation_coxph", "cmprsk_reference", "ipcw_survival", "riskregression_ate")
"""Scripts whose results can never be NA: they refuse to write one (the others carry NA as null
where rpact or R leaves a value undefined, e.g. no futility bound)."""
SLOW = {"rpact_sequential_sim", "rpact_monitoring", "survival_coxph"}  # each runs tens of seconds


def _compare(fresh: object, committed: object, path: str = "") -> list[str]:
    """Where ``fresh`` differs from ``committed``: same keys and types everywhere, numbers to
    rel 1e-9 / abs 1e-12 (the platform's last digits), everything else equal."""
    if isinstance(committed, dict):
        if not isinstance(fresh, dict) or fresh.keys() != committed.keys():
            return [f"{path}: keys {sorted(fresh) if isinstance(fresh, dict) else type(fresh).__name__} "
                    f"!= {sorted(committed)}"]
        return [d for k in committed for d in _compare(fresh[k], committed[k], f"{path}/{k}")]
    if isinstance(committed, list):
        if not isinstance(fresh, list) or len(fresh) != len(committed):
            return [f"{path}: list of {len(fresh) if isinstance(fresh, list) else type(fresh).__name__} "
                    f"!= {len(committed)}"]
        pairs = zip(fresh, committed, strict=True)  # equal lengths: checked above
        return [d for i, (a, b) in enumerate(pairs) for d in _compare(a, b, f"{path}[{i}]")]
    number = (int, float)
    if isinstance(committed, number) and not isinstance(committed, bool):
        if not isinstance(fresh, number) or isinstance(fresh, bool) or not math.isclose(
                fresh, committed, rel_tol=1e-9, abs_tol=1e-12):
            return [f"{path}: {fresh!r} != {committed!r}"]
        return []
    return [] if fresh == committed else [f"{path}: {fresh!r} != {committed!r}"]


def test_every_script_has_its_committed_json() -> None:
    assert len(SCRIPTS) >= 11
    assert sorted(p.stem for p in REF.glob("*.json")) == SCRIPTS


def test_the_comparison_sees_a_changed_digit() -> None:
    ref = {"a": [1.0, {"b": 0.123456789012}], "v": "4.2.2"}
    assert _compare(ref, ref) == []
    assert _compare({"a": [1.0, {"b": 0.123456790012}], "v": "4.2.2"}, ref) != []
    assert _compare({"a": [1.0], "v": "4.2.2"}, ref) != []
    assert _compare({"a": [1.0, {"b": 0.123456789012}], "v": "4.3.0"}, ref) != []


@pytest.mark.r
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in SCRIPTS])
def test_script_reproduces_its_committed_json(name: str, rscript: str, tmp_path: Path) -> None:
    out = tmp_path / f"{name}.json"
    run = subprocess.run([rscript, str(REF / f"{name}.R"), str(out)], cwd=ROOT, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    diffs = _compare(json.loads(out.read_text(encoding="utf-8")),
                     json.loads((REF / f"{name}.json").read_text(encoding="utf-8")))
    assert diffs == [], diffs[:20]


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_takes_one_optional_output_path(name: str) -> None:
    src = (REF / f"{name}.R").read_text(encoding="utf-8")
    assert f"Rscript tests/reference/{name}.R [OUTPUT.json]" in src
    assert f'"tests/reference/{name}.json"' in src
    assert re.search(r"if \(length\(args\) > 1\) stop\(", src)  # a second argument is an error
    assert "digits = I(15)" in src and "toJSON(" in src  # 15 significant digits, not decimals
    if name in GUARDED:
        assert re.search(r"stop\(\"empty or NA result", src)


def test_make_references_runs_every_script() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make not installed")
    out = subprocess.run([make, "-n", "references"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "tests/reference/*.R" in out and "Rscript" in out
    assert "pip" not in out and ".venv" not in out  # re-running references never touches the venv


@pytest.mark.r
def test_survival_script_refuses_to_overwrite_with_empty_results(rscript, tmp_path: Path) -> None:
    # a data set in which HER2 has one level: coxph cannot estimate its coefficient (NA)
    (tmp_path / "data").mkdir()
    df = pd.read_csv(ROOT / "data" / "trial_protocol.csv")
    df["her2"] = "negative"
    df.to_csv(tmp_path / "data" / "trial_protocol.csv", index=False)
    target = tmp_path / "ref.json"
    target.write_text("previous reference\n")
    run = subprocess.run([rscript, str(REF / "survival_coxph.R"), str(target)], cwd=tmp_path,
                         capture_output=True, text=True)
    assert run.returncode != 0
    assert "nothing written" in run.stderr
    assert target.read_text() == "previous reference\n"  # untouched
    # and with no data at all
    (tmp_path / "data" / "trial_protocol.csv").unlink()
    run = subprocess.run([rscript, str(REF / "survival_coxph.R"), str(target)], cwd=tmp_path,
                         capture_output=True, text=True)
    assert run.returncode != 0 and "nothing written" in run.stderr
    assert target.read_text() == "previous reference\n"


@pytest.mark.r
def test_scripts_reject_a_second_argument(rscript, tmp_path: Path) -> None:
    run = subprocess.run([rscript, str(REF / "randomization_exact.R"), str(tmp_path / "a.json"), "extra"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode != 0 and "usage" in run.stderr
    assert not (tmp_path / "a.json").exists()
