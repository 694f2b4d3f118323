"""``trialnb`` command line: check-env, audit, sample-size, build-data, verify-data, monitor, sap.

Each sub-command is a thin wrapper: the computation lives in the modules it calls. Exit
codes: 0 success; 1 the command ran but its result is a failure (a missing package, an audit
section that failed) or a file could not be written (one line ``trialnb: cannot write PATH:
reason``); 2 bad arguments or input (argparse errors and ``ValueError``, e.g. a non-empty
output folder without ``--force``). Adding a sub-command: a ``_cmd_NAME(args) -> int``
function and one ``sub.add_parser`` block in :func:`main`.
"""

from __future__ import annotations

__all__ = ["check_env", "main"]

import argparse
import sys
from importlib import metadata
from pathlib import Path

from .resources import EXAMPLES, data_dir, example_trial

REQUIRED = (
    "numpy", "scipy", "pandas", "lifelines", "matplotlib", "ipywidgets",
    "jupyterlab", "jupytext", "voila", "nbval", "pytest", "hypothesis", "nbconvert", "ipykernel",
    "numba", "latex2mathml", "nbclient",
)


def check_env(packages: tuple[str, ...] = REQUIRED) -> tuple[list[str], list[str]]:
    """Return (lines, missing): one ``name version`` line per package; missing names listed."""
    lines, missing = [], []
    for name in packages:
        try:
            lines.append(f"{name:<12} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"{name:<12} MISSING")
            missing.append(name)
    return lines, missing


def _cmd_check_env(args: argparse.Namespace) -> int:
    lines, missing = check_env()
    print(f"python       {sys.version.split()[0]}")
    print("\n".join(lines))
    if missing:
        print(f"missing: {', '.join(missing)} (run `make lab` or `make test` to install)", file=sys.stderr)
        return 1
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    """Exit 1 when a section failed; a section "not available" (a missing reference file or
    module) is reported on stderr and exits 0, or 1 with ``--strict``; 0 when all are ok."""
    from . import review
    from .files import check_output_path

    if args.html is not None:
        check_output_path(args.html, "--html", suffixes=(".html", ".htm"))
    sections = review.collect()
    if args.html is not None:
        path = review.write_html(args.html, sections)
        print(f"wrote {path}")
    else:
        print(review.text_report(sections), end="")
    failed = [s.title for s in sections if s.status == "fail"]
    missing = [s.title for s in sections if s.status == review.NOT_AVAILABLE]
    if failed:
        print(f"trialnb audit: {len(failed)} section(s) failed: {'; '.join(failed)}", file=sys.stderr)
    if missing:
        print(f"trialnb audit: {len(missing)} section(s) not available: {'; '.join(missing)}", file=sys.stderr)
    return 1 if failed or (missing and args.strict) else 0


def _cmd_sample_size(args: argparse.Namespace) -> int:
    """Solve the design for one quantity (``--solve``); every option not given is the plan's."""
    from .sample_size import solve

    effect = [o for o, v in (("--hr", args.hr), ("--treatment-survival", args.treatment_survival),
                             ("--treatment-median", args.treatment_median),
                             ("--treatment-hazard", args.treatment_hazard)) if v is not None]
    size = [o for o, v in (("--n", args.n), ("--events", args.events)) if v is not None]
    if args.solve == "n" and size:
        raise ValueError(f"{size[0]} is for --solve power or --solve hazard-ratio; --solve n finds the patients "
                         "and deaths")
    if args.solve == "power" and args.power is not None:
        raise ValueError("--power is the answer of --solve power; give it with --solve n or --solve hazard-ratio")
    if args.solve == "hazard-ratio" and effect:
        raise ValueError(f"{effect[0]} is the answer of --solve hazard-ratio; give it with --solve n or --solve power")
    res = solve(
        args.solve.replace("-", "_"), hazard_ratio=args.hr, treatment_survival=args.treatment_survival,
        treatment_median=args.treatment_median, treatment_hazard=args.treatment_hazard,
        control_survival=args.control_survival, control_median=args.control_median,
        control_hazard=args.control_hazard, survival_time=args.survival_time, power=args.power,
        n_patients=args.n, events=args.events, alpha=args.alpha, sided=args.sided, allocation_ratio=args.ratio,
        method=args.method, accrual_time=args.accrual, accrual_intensity=args.accrual_intensity,
        follow_up_time=args.follow_up, dropout_probability=args.dropout, dropout_hazard=args.dropout_hazard,
        dropout_time=args.dropout_time, loss_to_follow_up=args.loss,
    )
    print(res)
    return 0


def _sample_size_parser(s: argparse.ArgumentParser) -> None:
    """The options of ``trialnb sample-size``: each defaults to the plan (:data:`trialnb.plan.PLAN`), in months."""
    from .plan import PLAN

    d, an = PLAN.design, PLAN.analysis
    follow = PLAN.milestone_months
    s.add_argument("--solve", default="n", choices=("n", "power", "hazard-ratio"),
                   help="what to solve for: n (patients and deaths for the power; default), power (for --n "
                        "patients or --events deaths), hazard-ratio (detected by --n patients or --events deaths)")
    eff = s.add_mutually_exclusive_group()
    eff.add_argument("--hr", type=float, help=f"hazard ratio arm A vs B (default the plan's {d.hazard_ratio:g})")
    eff.add_argument("--treatment-survival", type=float, metavar="S",
                     help="arm A's survival at --survival-time, instead of --hr")
    eff.add_argument("--treatment-median", type=float, metavar="MONTHS",
                     help="arm A's median survival, instead of --hr")
    eff.add_argument("--treatment-hazard", type=float, metavar="PER_MONTH",
                     help="arm A's hazard per month, instead of --hr")
    ctl = s.add_mutually_exclusive_group()
    ctl.add_argument("--control-survival", type=float, metavar="S",
                     help=f"arm B's survival at --survival-time (default the plan's {d.control_survival:.4f} "
                          f"at {d.horizon_months:g} months)")
    ctl.add_argument("--control-median", type=float, metavar="MONTHS", help="arm B's median survival, instead")
    ctl.add_argument("--control-hazard", type=float, metavar="PER_MONTH",
                     help=f"arm B's hazard per month, instead (the plan's is {d.control_hazard:.6g})")
    s.add_argument("--survival-time", type=float, metavar="MONTHS",
                   help=f"the time the survival options refer to (default {d.horizon_months:g})")
    s.add_argument("--power", type=float, help=f"power, 1 - type II error (default the plan's {d.power:g})")
    size = s.add_mutually_exclusive_group()
    size.add_argument("--n", type=float, metavar="PATIENTS",
                      help="patients randomized, for --solve power or hazard-ratio "
                           f"(default the plan's {d.n_patients})")
    size.add_argument("--events", type=float, metavar="DEATHS", help="deaths, instead of --n")
    s.add_argument("--alpha", type=float, help=f"type I error (default the plan's {an.alpha:g})")
    s.add_argument("--sided", type=int, choices=(1, 2), help=f"1- or 2-sided test (default the plan's {an.sided})")
    s.add_argument("--ratio", type=float, default=1.0, help="allocation ratio n_A / n_B (default 1.0: equal arms)")
    s.add_argument("--method", default="schoenfeld", choices=("schoenfeld", "freedman"),
                   help="deaths formula (default schoenfeld)")
    acc = s.add_mutually_exclusive_group()
    acc.add_argument("--accrual", type=float, metavar="MONTHS",
                     help="months of uniform accrual (default 0: every patient followed exactly --follow-up, "
                          "the plan's primary endpoint)")
    acc.add_argument("--accrual-intensity", type=float, metavar="PER_MONTH",
                     help="patients randomized per month, instead of --accrual (the accrual time follows, as "
                          "rpact's accrualIntensity)")
    s.add_argument("--follow-up", type=float, metavar="MONTHS",
                   help=f"months of follow-up after the end of accrual (default the plan's {follow:g})")
    drop = s.add_mutually_exclusive_group()
    drop.add_argument("--dropout", type=float, metavar="P",
                      help="probability of dropping out by --dropout-time, in [0, 1) (default 0)")
    drop.add_argument("--dropout-hazard", type=float, metavar="PER_MONTH", help="drop-out hazard per month, instead")
    s.add_argument("--dropout-time", type=float, metavar="MONTHS",
                   help="the time --dropout refers to (default --survival-time)")
    s.add_argument("--loss", type=float,
                   help=f"fraction N is inflated by for loss to follow-up, in [0, 1) (default the plan's "
                        f"{d.loss_to_follow_up:g})")
    s.set_defaults(func=_cmd_sample_size)


def _cmd_build_data(args: argparse.Namespace) -> int:
    from .files import check_output_folder
    from .simulation import build_data

    out = check_output_folder(args.out, force=args.force)
    for path in build_data(out):
        print(f"wrote {path}")
    return 0


def _cmd_verify_data(args: argparse.Namespace) -> int:
    """Exit 0 when every file of the folder's manifest is intact and loads with every check, 1
    otherwise (the table says which file and why), 2 for a folder that does not exist."""
    from .data import verify_data

    check = verify_data(args.dir if args.dir is not None else data_dir())
    print(check.summary())
    frame = check.to_frame()
    frame["rows_listed"] = frame["rows_listed"].map(lambda v: "" if v is None or v != v else str(int(v)))
    frame["rows_found"] = frame["rows_found"].map(lambda v: "" if v is None or v != v else str(int(v)))
    print(frame.to_string(index=False))
    return 0 if check.ok else 1


def _cmd_monitor(args: argparse.Namespace) -> int:
    import json

    from . import interim
    from .data import load_trial
    from .files import check_output_path

    path = Path(args.data) if args.data is not None else example_trial(args.example)
    if path.is_dir():
        raise ValueError(f"--data {str(args.data)!r} is a folder; give a trial CSV file in it, "
                         "e.g. data/trial_protocol.csv")
    if not path.is_file():
        raise ValueError(f"--data {str(args.data)!r}: no such file (give a trial CSV, e.g. data/trial_protocol.csv)")
    if args.html is not None:
        check_output_path(args.html, "--html", suffixes=(".html", ".htm"))
    rep = interim.interim_report(load_trial(path), args.cutoff_month,
                                 source=str(args.data) if args.data is not None else f"shipped example {path.name}",
                                 predict=args.predict)
    if args.json:
        print(json.dumps(interim.report_json(rep), indent=2))
    if args.html is not None:
        from .monitoring import plan_design
        from .plots import use_style
        from .plots.monitoring import boundary_plot, figure_svg

        use_style()
        obs = [rep.primary_deaths] if rep.estimable else []
        fig = boundary_plot(plan_design(rep.plan), rep.max_events, observed_events=obs,
                            observed_z=[rep.benefit_z] if obs else [], harm_z=rep.plan.monitoring.harm_z,
                            critical_values=[rep.boundary] if obs else None)
        written = interim.write_html(rep, args.html, figure_svg(fig))
        print(f"wrote {written}", file=sys.stderr if args.json else sys.stdout)
    if not args.json and args.html is None:
        print(interim.text_report(rep))
    return 0


def _cmd_sap(args: argparse.Namespace) -> int:
    """The SAP draft: written to --html and/or --markdown, or Markdown on stdout."""
    from .files import check_output_path
    from .sap import build_sap, write_sap

    if args.html is not None:
        check_output_path(args.html, "--html", suffixes=(".html", ".htm"))
    if args.markdown is not None:
        check_output_path(args.markdown, "--markdown", suffixes=(".md", ".markdown"))
    sap = build_sap()
    if args.html is None and args.markdown is None:
        print(sap.to_markdown(), end="")
        return 0
    for path in write_sap(args.html, args.markdown, sap):
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="trialnb", description="NCT04697043 protocol companion")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check-env", help="one line per required package with its version").set_defaults(func=_cmd_check_env)
    a = sub.add_parser("audit", help="the protocol's numbers recomputed, with cross-checks")
    a.add_argument("--html", metavar="PATH", help="write a self-contained HTML report instead of text")
    a.add_argument("--strict", action="store_true",
                   help="exit 1 also when a section is not available (default: only when a section failed)")
    a.set_defaults(func=_cmd_audit)
    _sample_size_parser(sub.add_parser(
        "sample-size",
        help="solve the design for N, power or the detectable hazard ratio (defaults: the plan, months)"))
    d = sub.add_parser("build-data", help="regenerate the shipped synthetic datasets byte for byte")
    d.add_argument("--out", default="data", metavar="FOLDER",
                   help="output folder (default data); created if missing; refused if not empty unless --force")
    d.add_argument("--force", action="store_true", help="overwrite the files of a non-empty output folder")
    d.set_defaults(func=_cmd_build_data)
    v = sub.add_parser("verify-data", help="check a data folder against its manifest (rows, SHA-256) and load "
                                           "every file with the cross-file checks")
    v.add_argument("--dir", default=None, metavar="FOLDER",
                   help="the data folder holding manifest.csv (default: the shipped synthetic data)")
    v.set_defaults(func=_cmd_verify_data)
    m = sub.add_parser("monitor", help="the DMC interim report of a trial file at a calendar cut-off")
    src = m.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", metavar="FILE", help="trial CSV (e.g. data/trial_protocol.csv)")
    src.add_argument("--example", choices=EXAMPLES, help="a shipped synthetic trial file (scenario name)")
    m.add_argument("--cutoff-month", required=True, type=float, metavar="M",
                   help="months since the first randomization")
    m.add_argument("--html", metavar="PATH", help="write a self-contained HTML report instead of text")
    m.add_argument("--json", action="store_true", help="print the report as one JSON object")
    m.add_argument("--no-predict", dest="predict", action="store_false",
                   help="leave out the predicted month of the next look (a simulation of about a second)")
    m.set_defaults(func=_cmd_monitor)
    p = sub.add_parser("sap", help="the statistical analysis plan draft, every number computed and sourced")
    p.add_argument("--html", metavar="PATH", help="write self-contained HTML (.html)")
    p.add_argument("--markdown", metavar="PATH",
                   help="write Markdown (.md); with neither option, Markdown goes to stdout")
    p.set_defaults(func=_cmd_sap)
    args = ap.parse_args(argv)
    try:
        return int(args.func(args))
    except ValueError as exc:
        print(f"trialnb {args.cmd}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = exc.filename if exc.filename is not None else "output"
        print(f"trialnb: cannot write {where}: {exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
