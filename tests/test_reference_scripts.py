"""The R reference scripts follow one convention: `Rscript tests/reference/NAME.R [OUTPUT.json]`,
default output tests/reference/NAME.json, run from the repository root, and they never overwrite
a reference with empty results; `make references` re-runs them all."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
OURS = ("rpact_sample_size", "survival_coxph", "randomization_exact", "metafor_meta", "riskregression_ate")


@pytest.mark.parametrize("name", OURS)
def test_script_takes_one_optional_output_path(name: str) -> None:
    src = (REF / f"{name}.R").read_text(encoding="utf-8")
    assert f"Rscript tests/reference/{name}.R [OUTPUT.json]" in src
    assert f'"tests/reference/{name}.json"' in src
    assert re.search(r"if \(length\(args\) > 1\) stop\(", src)  # a second argument is an error
    assert "digits = I(15)" in src and "toJSON(" in src
    assert re.search(r"stop\(\"empty or NA result", src)
    assert (REF / f"{name}.json").is_file()


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


@pytest.mark.r
def test_riskregression_script_reproduces_committed_json(rscript, tmp_path: Path) -> None:
    """riskregression_ate.R (R riskRegression::ate on the shipped trial files) rewrites its
    committed JSON exactly."""
    if subprocess.run([rscript, "-e", "library(riskRegression)"], capture_output=True).returncode != 0:
        why = "R package riskRegression not installed (apt-get install r-cran-riskregression)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"required in CI: {why}")
        pytest.skip(why)
    out = tmp_path / "ate.json"
    subprocess.run([rscript, str(REF / "riskregression_ate.R"), str(out)], check=True, cwd=ROOT,
                   capture_output=True, timeout=600)
    assert json.loads(out.read_text()) == json.loads((REF / "riskregression_ate.json").read_text())
