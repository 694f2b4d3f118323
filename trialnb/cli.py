"""``trialnb`` command line: check-env, audit, sample-size, build-data, monitor.

Each sub-command is a thin wrapper: the computation lives in the modules it calls.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

REQUIRED = (
    "numpy", "scipy", "pandas", "lifelines", "matplotlib", "ipywidgets",
    "jupyterlab", "jupytext", "voila", "nbval", "pytest", "hypothesis", "nbconvert", "ipykernel",
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
    from . import review

    if args.html:
        path = review.write_html(Path(args.html))
        print(f"wrote {path}")
    else:
        print(review.text_report())
    return 0


def _cmd_sample_size(args: argparse.Namespace) -> int:
    from .sample_size import sample_size

    res = sample_size(
        args.hr, alpha=args.alpha, power=args.power, allocation_ratio=args.ratio,
        sided=args.sided, method=args.method, control_hazard=args.control_hazard,
        accrual_time=args.accrual, follow_up_time=args.follow_up,
        dropout_hazard=args.dropout_hazard, loss_to_follow_up=args.loss,
    )
    print(res)
    return 0


def _cmd_build_data(args: argparse.Namespace) -> int:
    from .simulation import build_data

    for path in build_data(Path(args.out)):
        print(f"wrote {path}")
    return 0


def _cmd_monitor(args: argparse.Namespace) -> int:
    from . import interim
    from .data import load_trial

    if not Path(args.data).is_file():
        raise ValueError(f"--data {str(args.data)!r}: no such file (give a trial CSV, e.g. data/trial_protocol.csv)")
    rep = interim.interim_report(load_trial(args.data), args.cutoff_month)
    if not args.html:
        print(interim.text_report(rep))
        return 0
    from .plots import use_style
    from .plots_monitoring import boundary_plot, figure_svg

    use_style()
    fig = boundary_plot(interim.proposed_design(), rep.max_events, observed_events=[rep.events], observed_z=[rep.benefit_z],
                        harm_z=rep.harm_z, critical_values=[rep.efficacy_bound])
    path = interim.write_html(rep, args.html, figure_svg(fig), source=str(args.data))
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="trialnb", description="NCT04697043 protocol companion")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check-env", help="one line per required package with its version").set_defaults(func=_cmd_check_env)
    a = sub.add_parser("audit", help="the protocol's numbers recomputed, with cross-checks")
    a.add_argument("--html", metavar="PATH", help="write a self-contained HTML report instead of text")
    a.set_defaults(func=_cmd_audit)
    s = sub.add_parser("sample-size", help="events and patients for a design")
    s.add_argument("--hr", type=float, default=0.5)
    s.add_argument("--alpha", type=float, default=0.05)
    s.add_argument("--power", type=float, default=0.8)
    s.add_argument("--ratio", type=float, default=1.0)
    s.add_argument("--sided", type=int, default=2, choices=(1, 2))
    s.add_argument("--method", default="schoenfeld", choices=("schoenfeld", "freedman"))
    s.add_argument("--control-hazard", type=float, default=0.25, help="per year (default 0.25: lambda*t = 0.5 at 2 years)")
    s.add_argument("--accrual", type=float, default=0.0, help="years of uniform accrual")
    s.add_argument("--follow-up", type=float, default=2.0, help="years of follow-up after the last entry")
    s.add_argument("--dropout-hazard", type=float, default=0.0)
    s.add_argument("--loss", type=float, default=0.10)
    s.set_defaults(func=_cmd_sample_size)
    d = sub.add_parser("build-data", help="regenerate the shipped synthetic datasets byte for byte")
    d.add_argument("--out", default="data")
    d.set_defaults(func=_cmd_build_data)
    m = sub.add_parser("monitor", help="the DMC interim report of a trial file at a calendar cut-off")
    m.add_argument("--data", required=True, metavar="FILE", help="trial CSV (e.g. data/trial_protocol.csv)")
    m.add_argument("--cutoff-month", required=True, type=float, metavar="M", help="months since the first randomization")
    m.add_argument("--html", metavar="PATH", help="write a self-contained HTML report instead of text")
    m.set_defaults(func=_cmd_monitor)
    args = ap.parse_args(argv)
    try:
        return int(args.func(args))
    except ValueError as exc:
        print(f"trialnb {args.cmd}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
