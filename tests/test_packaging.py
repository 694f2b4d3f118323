"""pyproject.toml, environment.yml and constraints.txt agree; the console script works."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_deps() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(data["dependencies"]) + [r for extra in data["optional-dependencies"].values() for r in extra]
    return {_name(r): r.replace(" ", "") for r in reqs}


def _environment_deps() -> dict[str, str]:
    deps = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^\s+-\s+([A-Za-z0-9_.\-]+[^#]*)$", line)
        if m and not line.strip().startswith("- -e") and ":" not in m.group(1):
            req = m.group(1).strip()
            if _name(req) not in ("python", "pip"):
                deps[_name(req)] = req.replace(" ", "")
    return deps


def test_environment_yml_matches_pyproject():
    assert _environment_deps() == _pyproject_deps()


def test_environment_yml_installs_the_project():
    assert re.search(r"^\s+-\s+-e\s+\.\s*$", (ROOT / "environment.yml").read_text(), re.M)


def test_constraints_pin_every_dependency():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    missing = sorted(set(_pyproject_deps()) - set(pins))
    assert not missing, f"not pinned in constraints.txt: {missing}"


def test_check_env_console_script():
    r = subprocess.run([sys.executable, "-m", "trialnb.cli", "check-env"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^lifelines\s+\d", r.stdout, re.M)


def test_check_env_reports_missing():
    from trialnb.cli import check_env

    lines, missing = check_env(("numpy", "surely-not-installed-pkg"))
    assert missing == ["surely-not-installed-pkg"] and lines[1].endswith("MISSING")


def _make_n(*args: str) -> str:
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    return subprocess.run(["make", "-s", "-n", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True).stdout


def test_make_lab_can_skip_the_browser_and_bind_another_address():
    default = _make_n("lab").splitlines()[-1]
    assert "--ServerApp.ip=127.0.0.1" in default and "--no-browser" not in default
    chosen = _make_n("lab", "NO_BROWSER=1", "LAB_IP=0.0.0.0", "PORT=9001").splitlines()[-1]
    assert "--ServerApp.ip=0.0.0.0" in chosen and "--no-browser" in chosen and "--ServerApp.port=9001" in chosen


def test_make_lint_runs_ruff_and_mypy_and_ci_runs_it_before_the_tests():
    lint = _make_n("lint")
    assert re.search(r"ruff check trialnb tests benchmarks tools$", lint, re.M)
    assert re.search(r"/mypy$", lint, re.M)  # the packages and options come from pyproject.toml
    ci = (ROOT / ".ci" / "run").read_text()
    lint_at, test_at = (re.search(rf"^make {t}\b", ci, re.M) for t in ("lint", "test"))
    assert lint_at and test_at and lint_at.start() < test_at.start()


def test_lint_configuration_is_written_down():
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    assert tool["ruff"]["line-length"] == 120
    assert set(tool["ruff"]["lint"]["select"]) >= {"E", "F", "W", "B"}
    assert tool["mypy"]["packages"] == ["trialnb"] and tool["mypy"]["warn_unused_ignores"] is True
    assert "ignore_missing_imports" not in tool["mypy"]  # only per module, for libraries without types
    for override in tool["mypy"].get("overrides", []):
        assert set(override["module"]) <= {"ipywidgets", "ipywidgets.*"}, override
