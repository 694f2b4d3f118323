"""The `trialnb` command line: safe output folders, atomic writes, one-line OS errors and exit
codes that say whether a command succeeded (through main(argv) and as a subprocess)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trialnb import cli, review
from trialnb.cli import main
from trialnb.files import check_output_folder, write_text_atomic
from trialnb.errors import OutputFolderError

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "trialnb.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


# ---------------------------------------------------------------- build-data output folder

def test_empty_out_is_refused_and_touches_nothing(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("mine")
    r = run("build-data", "--out", "", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1 and "empty" in r.stderr
    assert "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
    assert (tmp_path / "README.md").read_text() == "mine"


def test_non_empty_folder_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("mine")
    assert main(["build-data", "--out", str(out)]) == 2
    assert (out / "README.md").read_text() == "mine"
    assert main(["build-data", "--out", str(out), "--force"]) == 0
    assert (out / "README.md").read_bytes() == (ROOT / "data" / "README.md").read_bytes()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_out_that_is_a_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(OutputFolderError, match="not a folder"):
        check_output_folder(f)
    assert main(["build-data", "--out", str(f)]) == 2
    assert f.read_text() == "x"


def test_os_error_is_one_line_and_non_zero(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    target = tmp_path / "afile" / "sub"  # a folder cannot be made inside a file
    r = run("build-data", "--out", str(target), cwd=tmp_path)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"trialnb: cannot write {target}"), r.stderr
    assert "Traceback" not in r.stderr


def test_audit_html_os_error_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(review, "collect", lambda: _sections("ok"))
    (tmp_path / "afile").write_text("x")
    assert main(["audit", "--html", str(tmp_path / "afile" / "sub" / "a.html")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("trialnb: cannot write"), err


# ---------------------------------------------------------------- atomic writes

def test_atomic_write_replaces_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    p.write_text("old")
    write_text_atomic(p, "new\n")
    assert p.read_bytes() == b"new\n"
    assert [x.name for x in tmp_path.iterdir()] == ["a.txt"]


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    p = tmp_path / "a.txt"
    p.write_text("old")

    def boom(src, dst):
        raise OSError(28, "No space left on device", str(dst))

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_text_atomic(p, "new")
    assert p.read_text() == "old"
    assert [x.name for x in tmp_path.iterdir()] == ["a.txt"]


def test_cli_reports_a_failed_write_in_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    def boom(src, dst):
        raise OSError(28, "No space left on device", str(dst))

    monkeypatch.setattr(os, "replace", boom)
    assert main(["build-data", "--out", str(tmp_path / "new")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("trialnb: cannot write ") and "No space left" in err[0]
    assert not [x for x in (tmp_path / "new").iterdir() if x.name.endswith(".tmp")]


# ---------------------------------------------------------------- audit exit codes

def _sections(*statuses: str) -> list[review.Section]:
    out = []
    for i, s in enumerate(statuses):
        if s == review.NOT_AVAILABLE:
            out.append(review._unavailable(f"section {i}", "reference missing"))
        else:
            out.append(review.Section(f"section {i}", s, ["Result"], [["pass" if s == "ok" else "fail"]], []))
    return out


@pytest.mark.parametrize("statuses, strict, code", [
    (("ok", "ok"), False, 0),
    (("ok", "fail"), False, 1),
    (("ok", review.NOT_AVAILABLE), False, 0),
    (("ok", review.NOT_AVAILABLE), True, 1),
    (("fail", review.NOT_AVAILABLE), False, 1),
])
def test_audit_exit_code_says_whether_every_section_passed(monkeypatch, capsys, tmp_path, statuses, strict, code):
    monkeypatch.setattr(review, "collect", lambda: _sections(*statuses))
    argv = ["audit"] + (["--strict"] if strict else [])
    assert main(argv) == code
    assert main(argv + ["--html", str(tmp_path / "a.html")]) == code
    err = capsys.readouterr().err
    if "fail" in statuses:
        assert "section(s) failed" in err


# ---------------------------------------------------------------- other commands

def test_check_env_lists_numba_latex2mathml_nbclient(capsys) -> None:
    assert {"numba", "latex2mathml", "nbclient"} <= set(cli.REQUIRED)
    assert main(["check-env"]) == 0
    out = capsys.readouterr().out
    for name in ("numba", "latex2mathml", "nbclient"):
        assert any(line.split()[0] == name for line in out.splitlines()), name


def test_check_env_exits_non_zero_when_a_package_is_missing(monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli, "check_env", lambda: (["nopkg        MISSING"], ["nopkg"]))
    assert main(["check-env"]) == 1


def test_sample_size_bad_input_exits_2(capsys) -> None:
    assert main(["sample-size", "--alpha", "2"]) == 2
    assert main(["sample-size"]) == 0
    with pytest.raises(SystemExit) as ei:
        main(["sample-size", "--hr", "abc"])
    assert ei.value.code == 2


def _shown(out: str, label: str) -> float:
    """The value column of the step ``label`` in the printed table (columns two spaces apart)."""
    import re

    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells[0] == label:
            return float(cells[2])
    raise AssertionError(f"no step {label!r} in\n{out}")


def test_sample_size_defaults_are_the_plans(capsys) -> None:
    """With no option the command prints the plan's own calculation (months; the plan's hazard
    ratio, survival, alpha, power, follow-up and loss), the same as sample_size() and solve()."""
    from trialnb.sample_size import sample_size, solve

    assert main(["sample-size"]) == 0
    out = capsys.readouterr().out
    ref = sample_size()
    assert f"rounded design {ref.events_rounded} deaths, {ref.n_total_after_loss} patients" in out
    assert "212.6 evaluable" in out and "24-month survival 60.7%" in out
    assert _shown(out, "control hazard") == pytest.approx(0.0208, abs=1e-4)  # per month, not per year
    assert str(solve()) == out.rstrip("\n")


@pytest.mark.parametrize("argv, solve_for, kwargs", [
    (["--solve", "power", "--n", "200", "--accrual-intensity", "6"], "power",
     dict(n_patients=200, accrual_intensity=6)),
    (["--solve", "hazard-ratio", "--events", "66", "--control-median", "30"], "hazard_ratio",
     dict(events=66, control_median=30)),
    (["--solve", "n", "--treatment-survival", "0.75", "--control-survival", "0.6", "--accrual", "36",
      "--follow-up", "24", "--dropout", "0.1", "--loss", "0"], "n",
     dict(treatment_survival=0.75, control_survival=0.6, accrual_time=36, follow_up_time=24,
          dropout_probability=0.1, loss_to_follow_up=0)),
    (["--solve", "power", "--hr", "0.6", "--n", "400", "--sided", "1", "--alpha", "0.025", "--method", "freedman"],
     "power", dict(hazard_ratio=0.6, n_patients=400, sided=1, alpha=0.025, method="freedman")),
])
def test_sample_size_solves_what_is_asked(capsys, argv, solve_for, kwargs) -> None:
    from trialnb.sample_size import solve

    assert main(["sample-size", *argv]) == 0
    assert capsys.readouterr().out.rstrip("\n") == str(solve(solve_for, **kwargs))


@pytest.mark.parametrize("argv, message", [
    (["--solve", "n", "--n", "200"], "--n is for --solve power or --solve hazard-ratio"),
    (["--solve", "power", "--power", "0.9"], "--power is the answer of --solve power"),
    (["--solve", "hazard-ratio", "--hr", "0.5"], "--hr is the answer of --solve hazard-ratio"),
    (["--control-median", "-3"], "control_median must be > 0"),
    (["--solve", "hazard-ratio", "--n", "10", "--method", "freedman"], "too few to detect"),
])
def test_sample_size_refuses_with_one_line(capsys, argv, message) -> None:
    assert main(["sample-size", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("trialnb sample-size: ")


@pytest.mark.parametrize("argv", [["--hr", "0.5", "--treatment-median", "40"], ["--accrual", "3",
                                  "--accrual-intensity", "5"], ["--n", "3", "--events", "4"],
                                  ["--solve", "size"]])
def test_sample_size_conflicting_forms_are_usage_errors(capsys, argv) -> None:
    with pytest.raises(SystemExit) as ei:
        main(["sample-size", *argv])
    assert ei.value.code == 2
    err = capsys.readouterr().err
    assert "not allowed with" in err or "invalid choice" in err


def _parsers(monkeypatch) -> dict[str, argparse.ArgumentParser]:
    """Every sub-command's parser, as main() builds it."""
    seen: dict[str, argparse.ArgumentParser] = {}

    def capture(self, args=None, namespace=None):
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                seen.update(action.choices)
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    with pytest.raises(SystemExit):
        main(["check-env"])
    return seen


@pytest.mark.parametrize("command", ["sample-size", "build-data", "audit"])
def test_every_option_has_help_text(monkeypatch, command) -> None:
    parser = _parsers(monkeypatch)[command]
    options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    assert options
    for a in options:
        assert a.help and len(a.help) > 5, f"{command} {a.option_strings[0]} has no help text"
