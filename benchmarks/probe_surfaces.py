#!/usr/bin/env python3
"""Probe run (issue 24, part 2): hostile and careless input thrown at every public function of
the plan-era surfaces, each outcome classified. Not a test and not a benchmark: a census.

    .venv/bin/python benchmarks/probe_surfaces.py [--only SURFACE ...] [--list KIND ...] [--json FILE]

Surfaces: plan (``TrialPlan.with_changes`` over every field, then its consumers), simulation,
analysis, monitoring, interim, sample_size, survival (the engine), cli.

Each probe has an expectation: ``refuse`` (the input is wrong: a named error is the only right
answer), ``ok`` (the input is valid: a result, optionally checked), or ``either`` (a named error
or a result that passes the check). Outcomes:

* ``clear``        -- a named error of :mod:`trialnb.errors` (or, for the CLI, exit 2 with a one-line
  ``trialnb:``/usage message and no traceback);
* ``ok``           -- a result where one is due, and it passed its check;
* ``unclear``      -- a plain ``ValueError``/``TypeError`` raised on purpose by trialnb (a ``raise``
  line in the package): the message may be fine, the class is not named;
* ``traceback``    -- any other exception (raised inside numpy/pandas/scipy, or an unexpected type:
  ``KeyError``, ``IndexError``, ``ZeroDivisionError``, ``OverflowError`` ...);
* ``crash``        -- ``MemoryError``, a time-out (the run did not end within its time), a dead
  process;
* ``silent-wrong`` -- a result where the input should have been refused, or a result that fails
  its check (a number that is not one, an estimate that does not exist printed as one);
* ``false-refusal`` -- a named error for a valid input.

Probes that may exhaust memory or time run in a child process with an address-space limit
(``--mem-gb``, default 4) and a time-out (``--timeout``, default 60 s).
"""

from __future__ import annotations

import argparse
import json
import linecache
import math
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import traceback
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
TRIALNB_CLI = str(Path(PY).with_name("trialnb"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import trialnb.errors as E  # noqa: E402

NAMED = tuple(c for c in vars(E).values() if isinstance(c, type) and issubclass(c, Exception)
              and c.__module__ == "trialnb.errors")
PKG = str(Path(__import__("trialnb").__file__).resolve().parent)


class ProbeTimeout(BaseException):
    pass


@dataclass
class Outcome:
    surface: str
    name: str
    kind: str
    detail: str


OUT: list[Outcome] = []


def _deliberate(tb) -> bool:
    """True when the last frame is a ``raise`` statement in the trialnb package."""
    frames = traceback.extract_tb(tb)
    if not frames:
        return False
    last = frames[-1]
    if not last.filename.startswith(PKG):
        return False
    line = (last.line or linecache.getline(last.filename, last.lineno)).strip()
    return line.startswith("raise ")


def _classify_exc(exc: BaseException) -> tuple[str, str]:
    msg = f"{type(exc).__name__}: {str(exc)[:300]}"
    if isinstance(exc, NAMED):
        return "clear", msg
    if isinstance(exc, (MemoryError, ProbeTimeout)):
        return "crash", msg
    if type(exc) in (ValueError, TypeError) and _deliberate(exc.__traceback__):
        return "unclear", msg
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return "traceback", msg + where


def probe(surface: str, name: str, fn: Callable[[], Any], expect: str = "refuse",
          check: Callable[[Any], str | None] | None = None, timeout: int = 60) -> None:
    """Run ``fn`` and record its outcome (the module docstring). ``check(result)`` returns None
    when the result is right, else what is wrong."""
    def on_alarm(signum, frame):
        raise ProbeTimeout(f"no answer within {timeout} s")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(timeout)
    try:
        res = fn()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - a census of what escapes
        signal.alarm(0)
        kind, detail = _classify_exc(exc)
        if kind == "clear" and expect == "ok":
            kind = "false-refusal"
        OUT.append(Outcome(surface, name, kind, detail))
        return
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    if expect == "refuse":
        OUT.append(Outcome(surface, name, "silent-wrong",
                           f"returned {_short(res)} for an input that should be refused"))
        return
    problem = None
    if check is not None:
        try:
            problem = check(res)
        except Exception as exc:  # noqa: BLE001
            problem = f"check raised {type(exc).__name__}: {exc}"
    OUT.append(Outcome(surface, name, "silent-wrong" if problem else "ok", problem or _short(res)))


def _short(x: Any) -> str:
    try:
        r = repr(x)
    except Exception:  # noqa: BLE001
        r = object.__repr__(x)
    return r if len(r) < 160 else r[:157] + "..."


def isolated(surface: str, name: str, code: str, expect: str = "refuse", mem_gb: float = 4.0,
             timeout: int = 60) -> None:
    """Run ``code`` (it must end by setting ``result``) in a child process with an address-space
    limit and a time-out; classify as :func:`probe` does."""
    script = textwrap.dedent(f"""
        import resource, sys, json, traceback
        sys.path.insert(0, {str(ROOT / 'benchmarks')!r})
        from probe_surfaces import _classify_exc, _short
        import numpy as np
        from trialnb.plan import PLAN
        import trialnb.simulation as sim
        lim = int({mem_gb} * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        try:
        {textwrap.indent(textwrap.dedent(code), '    ')}
            print(json.dumps({{"kind": "returned", "detail": _short(result)}}))
        except BaseException as exc:
            kind, detail = _classify_exc(exc)
            print(json.dumps({{"kind": kind, "detail": detail}}))
    """)
    t0 = time.perf_counter()
    try:
        cp = subprocess.run([PY, "-c", script], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))})
    except subprocess.TimeoutExpired:
        OUT.append(Outcome(surface, name, "crash", f"no answer within {timeout} s (killed)"))
        return
    took = time.perf_counter() - t0
    lines = [ln for ln in cp.stdout.splitlines() if ln.startswith("{")]
    if cp.returncode != 0 or not lines:
        OUT.append(Outcome(surface, name, "crash", f"exit {cp.returncode}: {cp.stderr.strip()[-300:]}"))
        return
    r = json.loads(lines[-1])
    kind, detail = r["kind"], r["detail"] + f" ({took:.1f} s)"
    if kind == "returned":
        kind = "silent-wrong" if expect == "refuse" else "ok"
    elif kind == "clear" and expect == "ok":
        kind = "false-refusal"
    OUT.append(Outcome(surface, name, kind, detail))


def cli(name: str, args: list[str], expect: str = "refuse", timeout: int = 120) -> None:
    """A ``trialnb`` command: refused input must exit 2 with a short message and no traceback."""
    try:
        cp = subprocess.run([TRIALNB_CLI, *args], capture_output=True, text=True, timeout=timeout, cwd="/tmp")
    except subprocess.TimeoutExpired:
        OUT.append(Outcome("cli", name, "crash", f"no answer within {timeout} s"))
        return
    err = cp.stderr.strip()
    if "Traceback (most recent call last)" in err:
        last = err.splitlines()[-1]
        OUT.append(Outcome("cli", name, "traceback", f"exit {cp.returncode}: {last[:300]}"))
        return
    if cp.returncode < 0:
        OUT.append(Outcome("cli", name, "crash", f"killed by signal {-cp.returncode}"))
        return
    if expect == "refuse":
        if cp.returncode == 0:
            OUT.append(Outcome("cli", name, "silent-wrong", f"exit 0 for bad input: {cp.stdout.strip()[:200]}"))
        elif cp.returncode == 2 and err:
            OUT.append(Outcome("cli", name, "clear", err.splitlines()[-1][:300]))
        elif cp.returncode == 1 and (err or cp.stdout.strip()):  # the command ran; its result is a failure
            OUT.append(Outcome("cli", name, "clear", (err or cp.stdout.strip()).splitlines()[0][:300]))
        else:
            OUT.append(Outcome("cli", name, "unclear", f"exit {cp.returncode}: {err[-300:]}"))
    else:
        kind = "ok" if cp.returncode == 0 else "false-refusal"
        OUT.append(Outcome("cli", name, kind, f"exit {cp.returncode}: {(err or cp.stdout.strip())[-200:]}"))


# ---------------------------------------------------------------------------------------
# checks on results

def finite_or_flagged(res: Any) -> str | None:
    """A one-trial result: its numbers are finite, or it says there is no estimate."""
    if getattr(res, "estimable", True) is False:
        return None if getattr(res, "reason", "") else "estimable False without a reason"
    if getattr(res, "reason", ""):  # a result that says why a number is missing
        return None
    for k in ("hazard_ratio", "z", "p_value", "log_hr", "se"):
        v = getattr(res, k, None)
        if isinstance(v, float) and not math.isfinite(v):
            return f"{k} = {v} with no reason given"
    hr = getattr(res, "hazard_ratio", None)
    if isinstance(hr, float) and (hr < 1e-6 or hr > 1e6):
        return f"hazard ratio {hr:g} reported as an estimate (it does not exist)"
    return None


def summary_ok(res: Any) -> str | None:
    """The result's text and frame render without error and print no 'nan' or 'inf'."""
    text = res.summary() if hasattr(res, "summary") else str(res)
    if hasattr(res, "to_frame"):
        res.to_frame()
    m = re.search(r"\b(nan|inf|-inf)\b", text, flags=re.IGNORECASE)
    return f"summary prints {m.group(0)!r}: {text[:200]!r}" if m else None


# ---------------------------------------------------------------------------------------
# data sets

def trial_df() -> pd.DataFrame:
    from trialnb.data import load_trial

    return load_trial(ROOT / "data" / "trial_protocol.csv")


def small(n_a: int = 5, n_b: int = 5, deaths_a: int = 2, deaths_b: int = 2, tied: bool = False) -> pd.DataFrame:
    """A small trial frame in the CRF schema's analysis columns."""
    rows = []
    for arm, n, d in (("A", n_a, deaths_a), ("B", n_b, deaths_b)):
        for i in range(n):
            rows.append({"arm": arm, "os_months": 5.0 if tied else 2.0 + i + (0.5 if arm == "B" else 0),
                         "death": int(i < d), "dominant_site": ("bone", "visceral", "soft_tissue")[i % 3],
                         "hormone_receptor": ("positive", "negative")[i % 2], "her2": ("negative",
                                                                                       "positive")[(i // 2) % 2],
                         "entry_month": float(i)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# surfaces

BAD_VALUES: dict[str, Any] = {"str": "x", "None": None, "bool": True, "list": [1], "nan": float("nan"),
                              "inf": float("inf"), "neg": -1, "zero": 0, "huge": 1e300, "hugeint": 10**30,
                              "tiny": 5e-324}


def plan_probes() -> None:
    from trialnb.plan import PLAN, AnalysisPlan, DesignAssumptions, MonitoringPlan

    df = trial_df()
    names = [f.name for cls in (DesignAssumptions, AnalysisPlan, MonitoringPlan) for f in fields(cls)] + ["name"]
    for fname in names:
        for label, v in BAD_VALUES.items():
            pname = f"with_changes({fname}={label})"
            try:
                p = (PLAN.with_changes(**{fname: v}) if fname != "name"
                     else __import__("dataclasses").replace(PLAN, name=v))
            except BaseException as exc:  # noqa: BLE001
                kind, detail = _classify_exc(exc)
                OUT.append(Outcome("plan", pname, kind, detail))
                continue
            # accepted: the plan must be usable by every consumer, or each refuses by name
            consumer_outcome = _consumers(p, df)
            if consumer_outcome is None:
                OUT.append(Outcome("plan", pname, "ok", "accepted; consumers work or refuse by name"))
            else:
                OUT.append(Outcome("plan", pname, consumer_outcome[0], "accepted, then " + consumer_outcome[1]))
    probe("plan", "with_changes(bogus=1)", lambda: PLAN.with_changes(bogus=1))
    probe("plan", "with_changes(information_rates=(0.5,))", lambda: PLAN.with_changes(information_rates=(0.5,)))
    probe("plan", "with_changes(information_rates=(1e-9, 1.0)) then simulate_sequential",
          lambda: __import__("trialnb.simulation", fromlist=["x"]).simulate_sequential(
              PLAN.with_changes(information_rates=(1e-9, 1.0)), 10))
    probe("plan", "with_changes(covariates=['her2'])", lambda: PLAN.with_changes(covariates=["her2"]))
    probe("plan", "with_changes(spending='bogus')", lambda: PLAN.with_changes(spending="bogus"))
    probe("plan", "with_changes(spending_gamma=-4, spending='asOF')",
          lambda: __import__("trialnb.monitoring", fromlist=["x"]).plan_design(PLAN.with_changes(spending_gamma=-4.0)),
          expect="either")
    probe("plan", "with_changes(p_soft_tissue=0.6, p_visceral=0.6)",
          lambda: PLAN.with_changes(p_soft_tissue=0.6, p_visceral=0.6))
    probe("plan", "with_changes(block_size=3)", lambda: PLAN.with_changes(block_size=3))
    probe("plan", "with_changes(alpha=0.5, sided=1)", lambda: PLAN.with_changes(alpha=0.5, sided=1), expect="either")


def _consumers(p, df) -> tuple[str, str] | None:
    """Run a plan through its consumers; the first outcome that is not ok or a named error."""
    from trialnb import monitoring
    from trialnb.analysis import primary
    from trialnb.interim import interim_report
    from trialnb.sample_size import sample_size
    from trialnb.simulation import simulate, simulate_sequential

    steps = [("sample_size", lambda: sample_size(plan=p)), ("plan_design", lambda: monitoring.plan_design(p)),
             ("plan_max_events", lambda: monitoring.plan_max_events(p)),
             ("simulate", lambda: simulate(p, 20, seed=1)), ("simulate_sequential",
                                                             lambda: simulate_sequential(p, 20, seed=1)),
             ("primary", lambda: primary(df, p)), ("interim_report", lambda: interim_report(df, 29.1, plan=p,
                                                                                            predict=False))]
    for label, fn in steps:
        def on_alarm(signum, frame):
            raise ProbeTimeout("no answer within 60 s")
        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(60)
        try:
            res = fn()
            if hasattr(res, "summary"):
                res.summary()
        except BaseException as exc:  # noqa: BLE001
            kind, detail = _classify_exc(exc)
            if kind != "clear":
                return kind, f"{label}: {detail}"
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
    return None


def simulation_probes() -> None:
    import trialnb.simulation as sim
    from trialnb.plan import PLAN

    for label, v in {"zero": 0, "neg": -1, "bool": True, "float": 1.5, "str": "10", "None": None,
                     "nan": float("nan")}.items():
        probe("simulation", f"simulate(n_trials={label})", lambda v=v: sim.simulate(PLAN, v))
        probe("simulation", f"simulate_sequential(n_trials={label})", lambda v=v: sim.simulate_sequential(PLAN, v))
    for label, v in {"neg": -1, "str": "a", "bool": True, "float": 1.5}.items():
        probe("simulation", f"simulate(seed={label})", lambda v=v: sim.simulate(PLAN, 10, seed=v))
        probe("simulation", f"simulate_sequential(seed={label})", lambda v=v: sim.simulate_sequential(PLAN, 10, seed=v))
    probe("simulation", "simulate(seed=2**70): SeedSequence takes any integer", expect="ok",
          fn=lambda: sim.simulate(PLAN, 10, seed=2**70))
    for label, v in {"unknown field": {"bogus": 1}, "negative HR": {"hazard_ratio": -1}, "int": 5,
                     "bool HR": {"hazard_ratio": True}, "str HR": {"hazard_ratio": "0.5"}}.items():
        probe("simulation", f"simulate(truth={label})", lambda v=v: sim.simulate(PLAN, 10, truth=v))
        probe("simulation", f"simulate_sequential(truth={label})",
              lambda v=v: sim.simulate_sequential(PLAN, 10, truth=v))
    for label, v in {"bogus": "bogus", "empty": [], "dup": ["logrank", "logrank"], "int": 5, "None-in": [None]}.items():
        probe("simulation", f"simulate(analyses={label})", lambda v=v: sim.simulate(PLAN, 10, analyses=v))
    probe("simulation", "simulate(engine='gpu')", lambda: sim.simulate(PLAN, 10, engine="gpu"))
    probe("simulation", "simulate(plan=None)", lambda: sim.simulate(None, 10))
    probe("simulation", "simulate(plan='PLAN')", lambda: sim.simulate("PLAN", 10))
    probe("simulation", "simulate_sequential(boundaries=5)", lambda: sim.simulate_sequential(PLAN, 10, boundaries=5))
    probe("simulation", "simulate_sequential(follow_guidelines='no')",
          lambda: sim.simulate_sequential(PLAN, 10, follow_guidelines="no"))
    probe("simulation", "Boundaries(critical_values=(nan, 2))",
          lambda: sim.Boundaries((0.5, 1.0), (float("nan"), 2.0)))
    probe("simulation", "Boundaries(sided=True)", lambda: sim.Boundaries((0.5, 1.0), (2.0, 2.0), sided=True))
    probe("simulation", "simulate(10 trials) ok", lambda: sim.simulate(PLAN, 10, seed=1), expect="ok", check=summary_ok)
    probe("simulation", "simulate(n_patients=4, 50 trials): tiny trials", expect="ok", check=summary_ok,
          fn=lambda: sim.simulate(PLAN.with_changes(n_patients=4), 50, seed=1))
    probe("simulation", "simulate(control_survival=0.999999): almost no deaths", expect="ok", check=summary_ok,
          fn=lambda: sim.simulate(PLAN.with_changes(control_survival=0.999999), 50, seed=1))
    probe("simulation", "simulate_sequential(control_survival=0.999999)", expect="either", check=summary_ok,
          fn=lambda: sim.simulate_sequential(PLAN.with_changes(control_survival=0.999999), 50, seed=1))
    # resources
    isolated("simulation", "simulate(n_trials=10**12)", "result = sim.simulate(PLAN, 10**12)", timeout=60)
    isolated("simulation", "simulate_sequential(n_trials=10**12)", "result = sim.simulate_sequential(PLAN, 10**12)",
             timeout=60)
    # earlier versions have no max_seconds: they are probed as they are (run until killed or out of memory)
    lim = "**({'max_seconds': 60} if 'max_seconds' in __import__('inspect').signature(sim.simulate).parameters else {})"
    isolated("simulation", "simulate(n_patients=200000) x 2000 within a minute",
             f"result = sim.simulate(PLAN.with_changes(n_patients=200000), 2000, {lim})", timeout=120)
    isolated("simulation", "simulate_sequential(n_patients=200000) x 2000 within a minute",
             f"result = sim.simulate_sequential(PLAN.with_changes(n_patients=200000), 2000, {lim})", timeout=120)
    isolated("simulation", "simulate(n_patients=200000) x 30 in 4 GB (bounded chunks)",
             "result = sim.simulate(PLAN.with_changes(n_patients=200000), 30).power", expect="ok", timeout=300)
    isolated("simulation", "simulate(n_patients=4000) x 4000 in 4 GB (bounded chunks)",
             "result = sim.simulate(PLAN.with_changes(n_patients=4000), 4000).power", expect="ok", timeout=600)
    isolated("simulation", "simulate_trials(n_patients=10**8, 1 trial)",
             "result = sim.simulate_trials(PLAN.with_changes(n_patients=10**8).design, 1, np.random.default_rng(1))",
             timeout=120)
    isolated("simulation", "required_patients(n_trials=10**9)", "result = sim.required_patients(PLAN, n_trials=10**9)")
    isolated("simulation", "required_patients(n_max=10**7)",
             "result = sim.required_patients(PLAN.with_changes(hazard_ratio=0.99), n_max=10**7, n_trials=200)",
             timeout=120)
    # required_patients arguments
    for label, kw in {"power=0": {"power": 0}, "power=1": {"power": 1}, "power=True": {"power": True},
                      "power=nan": {"power": float("nan")}, "analysis=bogus": {"analysis": "bogus"},
                      "n_trials=0": {"n_trials": 0}, "n_min=3": {"n_min": 3}, "n_max<n_min": {"n_min": 100,
                                                                                              "n_max": 50},
                      "step=3": {"step": 3}, "step=True": {"step": True}, "n_min='a'": {"n_min": "a"},
                      "n_max=1.5": {"n_max": 1.5}, "seed=-1": {"seed": -1}}.items():
        kw = {"n_trials": 50, **kw}
        probe("simulation", f"required_patients({label})", lambda kw=kw: sim.required_patients(PLAN, **kw))
    probe("simulation", "required_patients(null design)",
          lambda: sim.required_patients(PLAN.with_changes(hazard_ratio=1.0), n_trials=50))
    # simulate_trials and cut
    rng = np.random.default_rng(1)
    d = PLAN.design
    probe("simulation", "simulate_trials(design=PLAN)", lambda: sim.simulate_trials(PLAN, 5, rng))
    probe("simulation", "simulate_trials(rng=5)", lambda: sim.simulate_trials(d, 5, 5))
    probe("simulation", "simulate_trials(n_trials=0)", lambda: sim.simulate_trials(d, 0, rng))
    data = sim.simulate_trials(d, 5, np.random.default_rng(2))
    for label, c in {"nan": float("nan"), "str": "x", "bool": True, "wrong shape": np.ones(3), "None": None}.items():
        probe("simulation", f"cut(cutoff={label})", lambda c=c: sim.cut(data, c, 24.0))
    probe("simulation", "cut(cutoff before the first randomization): nobody known yet", expect="either",
          fn=lambda: sim.cut(data, -1.0, 24.0), check=lambda r: None if r[1].sum() == 0 else "events before entry")
    for label, h in {"neg": -1.0, "zero": 0.0, "str": "x", "nan": float("nan"), "bool": True}.items():
        probe("simulation", f"cut(censor_months={label})", lambda h=h: sim.cut(data, 40.0, h))
    probe("simulation", "cut(data=None)", lambda: sim.cut(None, 40.0, 24.0))
    probe("simulation", "cut(cutoff=inf) ok (everything known)", lambda: sim.cut(data, float("inf"), 24.0),
          expect="either")
    # truth
    for label, t in {"neg": [-1.0], "str": "x", "empty": [], "nan": [float("nan")], "bool": [True],
                     "2d": [[1.0]]}.items():
        probe("simulation", f"design_curves(t={label})", lambda t=t: sim.design_curves(d, t))
    probe("simulation", "design_curves(design=PLAN)", lambda: sim.design_curves(PLAN, [1.0]))
    for label, tau in {"neg": -1.0, "zero": 0.0, "nan": float("nan"), "str": "x", "bool": True}.items():
        probe("simulation", f"true_estimands(tau={label})", lambda tau=tau: sim.true_estimands(d, tau))
    probe("simulation", "true_estimands(tau=1e9)", lambda: sim.true_estimands(d, 1e9), expect="either",
          check=lambda r: None if all(math.isfinite(v) for k, v in r.items() if k != "survival_ratio")
          and (math.isfinite(r["survival_ratio"]) or r["survival_b"] == 0) else f"non-finite values {r}")
    probe("simulation", "true_estimands(design=None)", lambda: sim.true_estimands(None))


def _with(df: pd.DataFrame, **cols: Any) -> pd.DataFrame:
    out = df.copy()
    for k, v in cols.items():
        out[k] = v
    return out


def analysis_probes() -> None:
    from trialnb import analysis as an
    from trialnb.plan import PLAN

    df = trial_df()
    no_death_a = df.copy()
    no_death_a.loc[no_death_a["arm"] == "A", "death"] = 0
    all_cens = _with(df, death=0)
    one_arm = df[df["arm"] == "A"].copy()
    one_level = _with(df, her2="negative")
    frames = {
        "None": None, "empty frame": df.iloc[:0], "list": [1, 2, 3], "missing column": df.drop(columns=["arm"]),
        "arm C": _with(df, arm="C"), "death yes": _with(df, death="yes"), "os negative": _with(df, os_months=-1.0),
        "os nan": _with(df, os_months=np.nan), "os str": _with(df, os_months="x"), "one arm": one_arm,
        "one patient": df.iloc[:1], "unknown level": _with(df, her2="maybe"),
    }
    valid = {"all censored": all_cens, "no deaths in arm A": no_death_a, "covariate with one level": one_level,
             "tiny 1+1": small(1, 1, 1, 1), "all tied": small(6, 6, 3, 3, tied=True),
             "2+2 one death": small(2, 2, 1, 0)}
    degenerate = ("one arm", "one patient")
    for label, f in frames.items():
        if label in degenerate:  # the convention: no estimate, with the reason
            probe("analysis", f"primary({label})", lambda f=f: _summarised(an.primary(f, PLAN)), expect="either",
                  check=lambda r: finite_or_flagged(r[0]) or r[1])
        else:
            probe("analysis", f"primary({label})", lambda f=f: an.primary(f, PLAN))
        if label == "unknown level":  # the estimands do not use the factors: the level is not theirs to check
            continue
        probe("analysis", f"milestone({label})", lambda f=f: an.milestone(f))
        probe("analysis", f"maxcombo({label})", lambda f=f: an.maxcombo(f))
        probe("analysis", f"weighted_logrank({label})", lambda f=f: an.weighted_logrank(f))
        probe("analysis", f"piecewise_hr({label})", lambda f=f: an.piecewise_hr(f))
        probe("analysis", f"rmst_difference({label})", lambda f=f: an.rmst_difference(f))
    for label, f in valid.items():
        for fn_name in ("primary", "milestone", "maxcombo", "weighted_logrank", "piecewise_hr", "rmst_difference",
                        "overall_survival"):
            fn = getattr(an, fn_name)
            probe("analysis", f"{fn_name}({label})", lambda fn=fn, f=f: _summarised(fn(f)), expect="either",
                  check=lambda r: finite_or_flagged(r[0]) or r[1])
    for stat in ("logrank", "stratified_logrank"):
        p = PLAN.with_changes(statistic=stat)
        for label, f in valid.items():
            probe("analysis", f"primary[{stat}]({label})", lambda f=f, p=p: _summarised(an.primary(f, p)),
                  expect="either", check=lambda r: finite_or_flagged(r[0]) or r[1])
    probe("analysis", "primary(plan=None)", lambda: an.primary(df, None))
    probe("analysis", "primary(plan=PLAN.analysis)", lambda: an.primary(df, PLAN.analysis))
    # cut_at
    for label, c in {"nan": float("nan"), "inf": float("inf"), "neg": -1.0, "str": "x", "bool": True, "huge": 1e9,
                     "zero": 0.0, "None": None, "array": np.array([29.0])}.items():
        probe("analysis", f"cut_at({label})", lambda c=c: an.cut_at(df, c))
    probe("analysis", "cut_at(np.float32(29.1))", lambda: an.cut_at(df, np.float32(29.1)), expect="ok")
    # estimands arguments
    for label, tau in {"neg": -1.0, "zero": 0.0, "beyond horizon": 100.0, "nan": float("nan"), "str": "x",
                       "bool": True, "1e9": 1e9}.items():
        probe("analysis", f"milestone(tau={label})", lambda tau=tau: an.milestone(df, tau))
        probe("analysis", f"rmst_difference(tau={label})", lambda tau=tau: an.rmst_difference(df, tau))
    p_os = PLAN.with_changes(censor_months=None)
    probe("analysis", "milestone(tau=100, all follow-up) beyond the data", lambda: an.milestone(df, 100.0, plan=p_os))
    probe("analysis", "rmst_difference(tau=100, all follow-up) beyond the data",
          lambda: an.rmst_difference(df, 100.0, plan=p_os))
    for label, w in {"['a']": ["a"], "empty": [], "short pair": [(1.0,)], "negative": [(-1.0, 0.0)],
                     "nan": [(np.nan, 0)],
                     "str": "ab", "None": None, "bool": [(True, False)]}.items():
        probe("analysis", f"maxcombo(weights={label})", lambda w=w: an.maxcombo(df, weights=w))
    for label, kw in {"rho=-1": {"rho": -1.0}, "rho='a'": {"rho": "a"}, "gamma=nan": {"gamma": float("nan")},
                      "rho=True": {"rho": True}, "strata=bogus": {"strata": "bogus"},
                      "strata wrong length": {"strata": [1, 2, 3]}}.items():
        probe("analysis", f"weighted_logrank({label})", lambda kw=kw: an.weighted_logrank(df, **kw))
    for label, cp in {"neg": -1.0, "zero": 0.0, "1e9": 1e9, "nan": float("nan"), "str": "x", "bool": True}.items():
        probe("analysis", f"piecewise_hr(change_point={label})", lambda cp=cp: an.piecewise_hr(df, cp))
    for label, data in {"arrays ok": (np.array([1.0, 2, 3, 4]), np.array([1, 0, 1, 1]), np.array([0, 0, 1, 1])),
                        "arrays death yes": (np.array([1.0, 2]), np.array(["yes", "no"]), np.array([0, 1])),
                        "arrays empty": (np.array([]), np.array([]), np.array([])),
                        "arrays 2d": (np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2))),
                        "arrays nan time": (np.array([np.nan, 1.0]), np.array([1, 1]), np.array([0, 1]))}.items():
        exp = "either" if label == "arrays ok" else "refuse"
        probe("analysis", f"maxcombo({label})", lambda data=data: an.maxcombo(data), expect=exp,
              check=lambda r: summary_ok(r))
        probe("analysis", f"milestone({label})", lambda data=data: an.milestone(data, 3.0), expect=exp,
              check=lambda r: summary_ok(r))
    # sensitivity
    probe("analysis", "ph_tests(transform='bogus')", lambda: an.ph_tests(df, transform="bogus"))
    for label, me in {"neg": -1, "str": "a", "bool": True, "float": 2.5}.items():
        probe("analysis", f"subgroup_hrs(min_events={label})", lambda me=me: an.subgroup_hrs(df, me))
    probe("analysis", "subgroup_hrs(all censored)", lambda: an.subgroup_hrs(all_cens), expect="either")
    probe("analysis", "ph_tests(all censored)", lambda: an.ph_tests(all_cens), expect="either")
    probe("analysis", "ph_tests(no deaths in arm A)", lambda: an.ph_tests(no_death_a), expect="either",
          check=lambda r: None if isinstance(r, pd.DataFrame) else "not a frame")
    probe("analysis", "population_comparison(missing columns)", lambda: an.population_comparison(df[["arm", "os_months",
                                                                                                     "death"]]))
    probe("analysis", "rerandomization_test(n=0)", lambda: an.rerandomization_test(df, None, 0,
                                                                                   np.random.default_rng(1)))
    probe("analysis", "rerandomization_test(rng=5)", lambda: an.rerandomization_test(df, None, 10, 5))
    probe("analysis", "km_by_arm(death yes)", lambda: an.km_by_arm(_with(df, death="yes")))
    probe("analysis", "numbers_at_risk(times=['a'])", lambda: an.numbers_at_risk(df, ["a"]))
    probe("analysis", "numbers_at_risk(times=[-1])", lambda: an.numbers_at_risk(df, [-1.0]))
    probe("analysis", "logrank_test(all censored)", lambda: _summarised(an.logrank_test(all_cens)), expect="either",
          check=lambda r: finite_or_flagged(r[0]) or r[1])


def _summarised(res: Any) -> tuple[Any, str | None]:
    return res, summary_ok(res)


def monitoring_probes() -> None:
    from trialnb import monitoring as mon
    from trialnb.plan import PLAN

    ok_design = mon.design(2, alpha=0.025, sided=1)
    for label, kw in {"k=0": {"k": 0}, "k=1.5": {"k": 1.5}, "k='3'": {"k": "3"}, "k=True": {"k": True},
                      "k=100": {"k": 100}, "alpha=0": {"alpha": 0}, "alpha=True": {"alpha": True},
                      "alpha=nan": {"alpha": float("nan")}, "sided=3": {"sided": 3}, "beta=1": {"beta": 1.0},
                      "type bogus": {"type_of_design": "bogus"}, "rates wrong length": {"information_rates": [0.5]},
                      "rates decreasing": {"information_rates": [0.8, 0.5, 1.0]},
                      "rates bool": {"information_rates": [True, 1.0]},
                      "futility above efficacy": {"futility_bounds": [4.0]},
                      "futility nan": {"futility_bounds": [float("nan")]},
                      "futility str": {"futility_bounds": ["a"]}, "gamma_a str": {"gamma_a": "x",
                                                                                  "type_of_design": "asKD"},
                      "delta_wt huge": {"delta_wt": 1e9, "type_of_design": "WT"}}.items():
        kw = dict(kw)
        k = kw.pop("k", 2 if "information_rates" not in kw or len(kw["information_rates"]) != 3 else 3)
        probe("monitoring", f"design({label})", lambda k=k, kw=kw: mon.design(k, **kw))
    for label, kw in {"events=[True]": {"events": [True], "logrank_z": [1.0]},
                      "events empty": {"events": [], "logrank_z": []},
                      "events negative": {"events": [-1], "logrank_z": [1.0]},
                      "events decreasing": {"events": [30, 20], "logrank_z": [1.0, 1.0]},
                      "lengths differ": {"events": [30], "logrank_z": [1.0, 2.0]},
                      "z nan": {"events": [30], "logrank_z": [float("nan")]},
                      "z str": {"events": [30], "logrank_z": ["a"]},
                      "max_information=True": {"events": [30], "logrank_z": [1.0], "max_information": True},

                      "no statistic": {"events": [30]},

                      "z huge": {"events": [30], "logrank_z": [1e300]},
                      "too many looks": {"events": [10, 20, 30], "logrank_z": [1.0, 1.0, 1.0]}}.items():
        probe("monitoring", f"analyse({label})", lambda kw=kw: mon.analyse(ok_design, **kw))
    probe("monitoring", "analyse(design=None)", lambda: mon.analyse(None, [30], [1.0]))
    probe("monitoring", "analyse ok", lambda: mon.analyse(ok_design, [30], [1.0]), expect="ok", check=summary_ok)
    probe("monitoring", "analyse(over-running: events beyond max_information)", expect="either", check=summary_ok,
          fn=lambda: mon.analyse(ok_design, [30, 70], [1.0, 2.0], max_information=60.0))
    probe("monitoring", "boundary_table(one number: the maximum deaths)", expect="ok", check=summary_ok,
          fn=lambda: mon.boundary_table(ok_design, 66, hazard_ratio=0.5))
    a1 = mon.analyse(ok_design, [30], [1.0])
    for label, kw in {"theta_h1=True": {"theta_h1": True}, "theta_h1=nan": {"theta_h1": float("nan")},
                      "theta_h1='x'": {"theta_h1": "x"}, "n_planned=[-5]": {"theta_h1": 0.5, "n_planned": [-5]},
                      "n_planned=[True]": {"theta_h1": 0.5, "n_planned": [True]},
                      "n_planned str": {"theta_h1": 0.5, "n_planned": ["a"]}}.items():
        probe("monitoring", f"conditional_power({label})", lambda kw=kw: mon.conditional_power(a1, **kw))
    probe("monitoring", "conditional_power(design=None)", lambda: mon.conditional_power(None, theta_h1=0.5))
    for label, kw in {"events [0]": {"events": [0, 0]}, "events [-1]": {"events": [-1, 10]},
                      "events str": {"events": "x"}, "events bool": {"events": [True, 2]},
                      "hr 0": {"events": [30, 60], "hazard_ratio": 0.0}, "hr True": {"events": [30, 60],
                                                                                     "hazard_ratio": True},
                      "hr nan": {"events": [30, 60], "hazard_ratio": float("nan")},
                      "ratio 0": {"events": [30, 60], "allocation_ratio": 0.0},
                      }.items():
        kw = {"hazard_ratio": 0.5, **kw}
        probe("monitoring", f"boundary_table({label})", lambda kw=kw: mon.boundary_table(ok_design, **kw))
    probe("monitoring", "boundary_table(design=None)", lambda: mon.boundary_table(None, [30, 60], hazard_ratio=0.5))
    base = {"n_patients": 236, "accrual_time": 36.0, "hazard_ratio": 0.5}
    for label, kw in {"events beyond N": {"events": [300]}, "dropout huge": {"events": [30],
                                                                             "dropout_hazard": 1e300}}.items():
        kw = {**base, **kw}
        probe("monitoring", f"analysis_times({label}): never reached", lambda kw=kw: mon.analysis_times(**kw),
              expect="either", check=summary_ok)
    for label, kw in {"events 0": {"events": [0]}, "events neg": {"events": [-1]},
                      "events str": {"events": "x"}, "n 0": {"events": [30], "n_patients": 0},
                      "n True": {"events": [30], "n_patients": True}, "accrual nan": {"events": [30],
                                                                                      "accrual_time": float("nan")},
                      "hr 0": {"events": [30], "hazard_ratio": 0.0}, "control 0": {"events": [30],
                                                                                   "control_hazard": 0.0},
                      "control tiny": {"events": [30], "control_hazard": 1e-320},
                      "window neg": {"events": [30], "window": -1.0}, "final bogus": {"events": [30], "final": "bogus"},
                      "final calendar without month": {"events": [30], "final": "calendar"}}.items():
        kw = {**base, **kw}
        probe("monitoring", f"analysis_times({label})", lambda kw=kw: mon.analysis_times(**kw))
    df = trial_df()
    for label, kw in {"cutoff beyond": {"cutoff_month": 1e9, "target_deaths": 40},
                      "cutoff nan": {"cutoff_month": float("nan"), "target_deaths": 40},
                      "target below observed": {"cutoff_month": 29.1, "target_deaths": 1},
                      "target huge": {"cutoff_month": 29.1, "target_deaths": 10**9},
                      "target True": {"cutoff_month": 29.1, "target_deaths": True},
                      "n_sims 0": {"cutoff_month": 29.1, "target_deaths": 40, "n_sims": 0},
                      "n_sims huge": {"cutoff_month": 29.1, "target_deaths": 40, "n_sims": 10**10},
                      "level 1": {"cutoff_month": 29.1, "target_deaths": 40, "level": 1.0},
                      "model bogus": {"cutoff_month": 29.1, "target_deaths": 40, "death_model": "bogus"},
                      "knots str": {"cutoff_month": 29.1, "target_deaths": 40, "death_knots": ("a",)},
                      "n_planned below randomized": {"cutoff_month": 29.1, "target_deaths": 40,
                                                     "n_planned": 5}}.items():
        probe("monitoring", f"predict_deaths({label})", lambda kw=kw: mon.predict_deaths(df, **kw), timeout=120)
    probe("monitoring", "predict_deaths(data=None)", lambda: mon.predict_deaths(None, 29.1, 40))
    probe("monitoring", "plan_design(None)", lambda: mon.plan_design(None))
    probe("monitoring", "plan_max_events('PLAN')", lambda: mon.plan_max_events("PLAN"))
    probe("monitoring", "sequential_sample_size(design=None)",
          lambda: mon.sequential_sample_size(None, hazard_ratio=0.5))
    probe("monitoring", "spending('bogus', 0.025, [0.5])", lambda: mon.spending("bogus", 0.025, [0.5]))
    probe("monitoring", "spending('asOF', 0.025, [True])", lambda: mon.spending("asOF", 0.025, [True]))
    probe("monitoring", "spending('asOF', 0.025, [-1])", lambda: mon.spending("asOF", 0.025, [-1.0]))
    probe("monitoring", "expected_deaths(month=-1)",
          lambda: mon.expected_deaths(-1.0, n_patients=236, accrual_time=36.0, hazard_ratio=0.5))
    probe("monitoring", "expected_deaths(month='x')",
          lambda: mon.expected_deaths("x", n_patients=236, accrual_time=36.0, hazard_ratio=0.5))
    probe("monitoring", "plan_max_events(PLAN) ok", lambda: mon.plan_max_events(PLAN), expect="ok")


def interim_probes() -> None:
    from trialnb.analysis import cut_at
    from trialnb.interim import death_month, interim_report, text_report, typed_look
    from trialnb.plan import PLAN

    df = trial_df()
    for label, c in {"nan": float("nan"), "inf": float("inf"), "neg": -1.0, "str": "x", "bool": True, "1e9": 1e9,
                     "zero": 0.0, "None": None}.items():
        probe("interim", f"interim_report(cutoff={label})", lambda c=c: interim_report(df, c, predict=False))
    # cut-offs with 1..8 primary deaths: the report must say why there is no estimate, never crash
    for d in range(1, 9):
        try:
            month = death_month(df, d)
        except Exception as exc:  # noqa: BLE001
            OUT.append(Outcome("interim", f"death_month({d})", *_classify_exc(exc)))
            continue
        probe("interim", f"interim_report at the {d}th death (month {month})",
              lambda m=month: _report_text(interim_report(df, m, predict=True)), expect="either",
              check=_report_ok, timeout=120)
    for stat in ("logrank", "stratified_logrank"):
        p = PLAN.with_changes(statistic=stat)
        probe("interim", f"interim_report[{stat}] at month 6.5",
              lambda p=p: _report_text(interim_report(df, 6.5, plan=p)),
              expect="either", check=_report_ok, timeout=120)
    probe("interim", "interim_report(plan=None)", lambda: interim_report(df, 29.1, plan=None))
    probe("interim", "interim_report(df=None)", lambda: interim_report(None, 29.1))
    probe("interim", "interim_report(seed=-1)", lambda: interim_report(df, 29.1, seed=-1))
    probe("interim", "interim_report(death yes)", lambda: interim_report(_with(df, death="yes"), 29.1))
    probe("interim", "interim_report(no entry_month)", lambda: interim_report(df.drop(columns=["entry_month"]), 29.1))
    probe("interim", "interim_report(all censored)", lambda: _report_text(interim_report(_with(df, death=0), 29.1)),
          expect="either", check=_report_ok)
    for label, v in {"0": 0, "True": True, "1.5": 1.5, "huge": 10**9, "str": "3", "neg": -2}.items():
        probe("interim", f"death_month(deaths={label})", lambda v=v: death_month(df, v))
    for label, (dd, z) in {"deaths 0": (0, 1.0), "deaths True": (True, 1.0), "deaths max": (66, 1.0),
                           "z nan": (30, float("nan")), "z inf": (30, float("inf")), "z str": (30, "x"),
                           "z True": (30, True), "z huge": (30, 1e300)}.items():
        probe("interim", f"typed_look({label})", lambda dd=dd, z=z: typed_look(dd, z))
    probe("interim", "typed_look ok", lambda: typed_look(30, -1.0), expect="ok")
    probe("interim", "text_report(None)", lambda: text_report(None))
    probe("interim", "cut_at then primary at 4 deaths",
          lambda: _summarised(__import__("trialnb.analysis", fromlist=["x"]).primary(cut_at(df, death_month(df, 4)))),
          expect="either", check=lambda r: finite_or_flagged(r[0]) or r[1])


def _report_text(rep: Any) -> tuple[Any, str]:
    from trialnb.interim import html_report, report_json, text_report

    txt = text_report(rep)
    json.dumps(report_json(rep), allow_nan=False)
    html_report(rep)
    return rep, txt


def _report_ok(r: tuple[Any, str]) -> str | None:
    rep, txt = r
    low = txt.lower()
    for bad in ("convergence halted", "matrix inversion", "lifelines", " nan", "inf ", "one level"):
        if bad in low:
            return f"report text contains {bad!r}"
    if not rep.primary.estimable and "too few deaths" not in low and "no estimate" not in low:
        return "no estimate, and the report does not say there are too few deaths"
    return finite_or_flagged(rep.primary)


def sample_size_probes() -> None:
    from trialnb.sample_size import sample_size

    for label, kw in {"follow_up 5e-324": {"follow_up_time": 5e-324},
                      "control_hazard 1e-320": {"control_hazard": 1e-320},
                      "alpha True": {"alpha": True}, "hr 1": {"hazard_ratio": 1.0}, "hr 0": {"hazard_ratio": 0.0},
                      "hr nan": {"hazard_ratio": float("nan")}, "hr str": {"hazard_ratio": "0.5"},
                      "power 1": {"power": 1.0}, "sided 3": {"sided": 3}, "method bogus": {"method": "bogus"},
                      "accrual 1e300": {"accrual_time": 1e300}, "dropout 1e300": {"dropout_hazard": 1e300},
                      "loss 1": {"loss_to_follow_up": 1.0}, "ratio 0": {"allocation_ratio": 0.0},
                      "ratio 1e-300": {"allocation_ratio": 1e-300}, "hr 1e-300": {"hazard_ratio": 1e-300},
                      "hr 0.999999999": {"hazard_ratio": 0.999999999}, "plan None": {"plan": None}}.items():
        probe("sample_size", f"sample_size({label})", lambda kw=kw: sample_size(**kw),
              expect="either" if label in ("hr 0.999999999", "accrual 1e300", "hr 1e-300") else "refuse",
              check=lambda r: None if math.isfinite(r.n_total) else "non-finite N")
    probe("sample_size", "sample_size() ok", lambda: sample_size(), expect="ok", check=summary_ok)


def survival_probes() -> None:
    from trialnb import survival as sv

    t = np.array([1.0, 2, 3, 4, 5, 6])
    e = np.array([1, 0, 1, 1, 0, 1])
    g = np.array([0, 0, 0, 1, 1, 1])
    X = g[:, None].astype(float)
    cases = {
        "empty arrays": (np.array([]), np.array([]), np.array([])),
        "empty batch": (np.empty((0, 5)), np.empty((0, 5)), np.empty((0, 5))),
        "zero columns": (np.empty((2, 0)), np.empty((2, 0)), np.empty((2, 0))),
        "death yes": (t, np.array(["yes"] * 6), g),
        "event 2": (t, np.array([2] * 6), g),
        "time nan": (np.r_[np.nan, t[1:]], e, g),
        "time neg": (-t, e, g),
        "time str": (np.array(["a"] * 6), e, g),
        "lengths differ": (t, e[:3], g),
        "group 2": (t, e, np.array([0, 1, 2, 0, 1, 2])),
        "group str": (t, e, np.array(["A"] * 6)),
        "None": (None, None, None),
    }
    for label, (tt, ee, gg) in cases.items():
        probe("survival", f"logrank({label})", lambda tt=tt, ee=ee, gg=gg: sv.logrank(tt, ee, gg))
        probe("survival", f"fh_statistics({label})", lambda tt=tt, ee=ee, gg=gg: sv.fh_statistics(tt, ee, gg))
        if not label.startswith("group 2"):  # a covariate 0/1/2 is a valid covariate, not a bad group
            Xc = None if gg is None else np.asarray(gg)[..., None] if np.asarray(gg).dtype.kind in "iuf" else gg
            probe("survival", f"fit_cox({label})", lambda tt=tt, ee=ee, Xc=Xc: sv.fit_cox(tt, ee, Xc))
        if not label.startswith("group"):
            probe("survival", f"kaplan_meier({label})", lambda tt=tt, ee=ee: sv.kaplan_meier(tt, ee))
    valid = {"all censored": (t, np.zeros(6, int), g), "all tied": (np.full(6, 3.0), e, g),
             "one per arm": (np.array([1.0, 2.0]), np.array([1, 1]), np.array([0, 1])),
             "one arm empty": (t, e, np.zeros(6, int)), "no deaths in arm 1": (t, np.array([1, 1, 1, 0, 0, 0]), g),
             "single patient": (np.array([1.0]), np.array([1]), np.array([1]))}
    for label, (tt, ee, gg) in valid.items():
        probe("survival", f"logrank({label})", lambda tt=tt, ee=ee, gg=gg: sv.logrank(tt, ee, gg), expect="either",
              check=lambda r: None if (math.isfinite(r.z) or r.variance == 0) else f"z = {r.z} with variance "
                                                                                   f"{r.variance}")
        probe("survival", f"fh_statistics({label})", lambda tt=tt, ee=ee, gg=gg: sv.fh_statistics(tt, ee, gg),
              expect="either")
        probe("survival", f"fit_cox({label})", lambda tt=tt, ee=ee,
              gg=gg: sv.fit_cox(tt, ee, gg[:, None].astype(float)),
              expect="either", check=_cox_ok)
        probe("survival", f"kaplan_meier({label})", lambda tt=tt, ee=ee: sv.kaplan_meier(tt, ee), expect="either")
    for label, w in {"['a']": ["a"], "empty": [], "[(1,)]": [(1.0,)], "[(-1, 0)]": [(-1.0, 0.0)], "None": None,
                     "[(True, False)]": [(True, False)], "[(nan, 0)]": [(np.nan, 0.0)], "'ab'": "ab"}.items():
        probe("survival", f"fh_statistics(weights={label})", lambda w=w: sv.fh_statistics(t, e, g, weights=w))
    for label, kw in {"rho=-1": {"rho": -1.0}, "rho='a'": {"rho": "a"}, "rho=True": {"rho": True},
                      "gamma=nan": {"gamma": float("nan")}, "strata wrong length": {"strata": [1, 2]},
                      "chunk=0": {"chunk": 0}}.items():
        probe("survival", f"logrank({label})", lambda kw=kw: sv.logrank(t, e, g, **kw))
    for label, kw in {"ties bogus": {"ties": "bogus"}, "X str": {"covariates": np.array([["a"]] * 6)},
                      "X nan": {"covariates": np.full((6, 1), np.nan)}, "X wrong rows": {"covariates": np.ones((3, 1))},
                      "X 3d wrong": {"covariates": np.ones((2, 6, 1))}, "entry > time": {"entry": t + 1},
                      "max_iter 0": {"max_iter": 0},
                      "names wrong length": {"names": ["a", "b"]}, "engine bogus": {"engine": "gpu"},
                      }.items():
        kw = {"covariates": X, **kw}
        cov = kw.pop("covariates")
        probe("survival", f"fit_cox({label})", lambda kw=kw, cov=cov: sv.fit_cox(t, e, cov, **kw))
    probe("survival", "fit_cox(strata str)", lambda: sv.fit_cox(t, e, X, strata=np.array(["a", "b"] * 3)),
          expect="either", check=_cox_ok)
    probe("survival", "fit_cox(X bool column)", lambda: sv.fit_cox(t, e, g.astype(bool)[:, None]), expect="either",
          check=_cox_ok)
    e_last_censored = np.array([1, 0, 1, 1, 1, 0])
    for label, tt in {"t=-1": -1.0, "t=nan": float("nan"), "t='x'": "x", "t=True": True, "t=1000": 1000.0}.items():
        probe("survival", f"survival_at({label})", lambda tt=tt: sv.survival_at(t, e_last_censored, tt))
        probe("survival", f"rmst(tau {label[2:]})", lambda tt=tt: sv.rmst(t, e_last_censored, tt))
    probe("survival", "survival_at(t=1000) after the curve reached 0", lambda: sv.survival_at(t, e, 1000.0),
          expect="either", check=lambda r: None if r[0] == 0 else f"S = {r[0]}")
    probe("survival", "maxcombo_pvalue(z nan)", lambda: sv.maxcombo_pvalue([np.nan, 1.0], np.eye(2)))
    probe("survival", "maxcombo_pvalue(corr wrong shape)", lambda: sv.maxcombo_pvalue([1.0, 1.0], np.eye(3)))
    probe("survival", "maxcombo_pvalue(method bogus)", lambda: sv.maxcombo_pvalue([1.0, 1.0], np.eye(2), method="x"))
    probe("survival", "maxcombo_reject(alpha 2)", lambda: sv.maxcombo_reject(np.ones((1, 2)), np.eye(2)[None], 2.0))
    probe("survival", "maxcombo_reject(alpha True)", lambda: sv.maxcombo_reject(np.ones((1, 2)), np.eye(2)[None], True))
    probe("survival", "trial_statistics(tau=-1)", lambda: sv.trial_statistics(t[None], e[None], g[None], -1.0))
    probe("survival", "trial_statistics(empty batch)",
          lambda: sv.trial_statistics(np.empty((0, 6)), np.empty((0, 6)), np.empty((0, 6)), 3.0))
    probe("survival", "km_milestone(tau nan)", lambda: sv.km_milestone(t, e, g, float("nan")))
    probe("survival", "split_at(switch str)", lambda: sv.split_at(t, e, np.array(["a"] * 6)))
    probe("survival", "zph_test(beta wrong length)", lambda: sv.zph_test(t, e, X, [1.0, 2.0]))


def _cox_ok(r: Any) -> str | None:
    if not np.all(np.atleast_1d(r.converged)):
        return None  # flagged: the fit did not converge (R warns the same)
    coef = np.atleast_1d(r.coef)
    if not np.all(np.isfinite(coef)) and not np.any(np.atleast_1d(r.infinite)):
        return None  # NaN coefficient flagged as singular is R's NA
    if np.any(np.abs(coef) > 10) and not np.any(np.atleast_1d(r.infinite)):
        return f"coefficient {coef} not flagged infinite"
    return None


def cli_probes() -> None:
    data = str(ROOT / "data" / "trial_protocol.csv")
    cli("monitor --cutoff-month nan", ["monitor", "--data", data, "--cutoff-month", "nan"])
    cli("monitor --cutoff-month inf", ["monitor", "--data", data, "--cutoff-month", "inf"])
    cli("monitor --cutoff-month -1", ["monitor", "--data", data, "--cutoff-month", "-1"])
    cli("monitor --cutoff-month x", ["monitor", "--data", data, "--cutoff-month", "x"])
    cli("monitor --data /nonexistent", ["monitor", "--data", "/nonexistent.csv", "--cutoff-month", "29"])
    cli("monitor --data /tmp (a directory)", ["monitor", "--data", "/tmp", "--cutoff-month", "29"])
    cli("monitor --data /etc/hostname (not a CSV)", ["monitor", "--data", "/etc/hostname", "--cutoff-month", "29"])
    cli("monitor --html ''", ["monitor", "--data", data, "--cutoff-month", "29", "--html", ""])
    cli("monitor --html /tmp (a directory)", ["monitor", "--data", data, "--cutoff-month", "29", "--html", "/tmp"])
    cli("monitor at month 6.5 (4 deaths)", ["monitor", "--data", data, "--cutoff-month", "6.5"], expect="ok")
    cli("monitor at month 29.1", ["monitor", "--data", data, "--cutoff-month", "29.1", "--json"], expect="ok")
    cli("sample-size --follow-up 1e-320", ["sample-size", "--follow-up", "1e-320"])
    cli("sample-size --control-hazard 1e-320", ["sample-size", "--control-hazard", "1e-320"])
    cli("sample-size --hr 0", ["sample-size", "--hr", "0"])
    cli("sample-size --hr nan", ["sample-size", "--hr", "nan"])
    cli("sample-size --hr 1", ["sample-size", "--hr", "1"])
    cli("sample-size --alpha 2", ["sample-size", "--alpha", "2"])
    cli("sample-size --accrual inf", ["sample-size", "--accrual", "inf"])
    cli("sample-size --ratio 0", ["sample-size", "--ratio", "0"])
    cli("sample-size --loss 1", ["sample-size", "--loss", "1"])
    cli("sap --html ''", ["sap", "--html", ""])
    cli("sap --markdown /tmp", ["sap", "--markdown", "/tmp"])
    cli("verify-data --dir /nonexistent", ["verify-data", "--dir", "/nonexistent"])
    cli("verify-data --dir /tmp", ["verify-data", "--dir", "/tmp"])
    cli("build-data --out ''", ["build-data", "--out", ""])
    cli("audit --html ''", ["audit", "--html", ""])
    cli("bogus command", ["bogus"])


SURFACES = {"plan": plan_probes, "simulation": simulation_probes, "analysis": analysis_probes,
            "monitoring": monitoring_probes, "interim": interim_probes, "sample_size": sample_size_probes,
            "survival": survival_probes, "cli": cli_probes}
KINDS = ("clear", "ok", "unclear", "traceback", "crash", "silent-wrong", "false-refusal")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=list(SURFACES), help="surfaces to probe (default: all)")
    ap.add_argument("--list", nargs="*", default=["unclear", "traceback", "crash", "silent-wrong", "false-refusal"],
                    help="outcome kinds to list one by one")
    ap.add_argument("--json", metavar="FILE", help="write every outcome as JSON")
    args = ap.parse_args(argv)
    os.environ.setdefault("TRIALNB_PROGRESS", "0")
    import warnings

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    for s in args.only or list(SURFACES):
        t1 = time.perf_counter()
        SURFACES[s]()
        print(f"[{s}: {time.perf_counter() - t1:.0f} s]", file=sys.stderr, flush=True)
    by = Counter(o.kind for o in OUT)
    print(f"{len(OUT)} probes in {time.perf_counter() - t0:.0f} s: "
          + ", ".join(f"{k} {by.get(k, 0)}" for k in KINDS))
    per = Counter((o.surface, o.kind) for o in OUT)
    for s in dict.fromkeys(o.surface for o in OUT):
        print(f"  {s:<12}" + "  ".join(f"{k} {per.get((s, k), 0)}" for k in KINDS))
    for k in args.list:
        rows = [o for o in OUT if o.kind == k]
        if rows:
            print(f"\n== {k} ({len(rows)})")
            for o in rows:
                print(f"  [{o.surface}] {o.name}: {o.detail}")
    if args.json:
        Path(args.json).write_text(json.dumps([o.__dict__ for o in OUT], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
