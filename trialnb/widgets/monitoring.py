"""Interim-monitoring widgets: the design explorer of notebook 05 and the DMC dashboard.

Widgets only wire controls to pure functions: :func:`trialnb.monitoring.design`,
:func:`trialnb.monitoring.analyse`, :func:`trialnb.monitoring.conditional_power`,
:func:`trialnb.interim.interim_report` and :func:`trialnb.interim.planned_max_events`. The
boundary chart is a small inline SVG (pure string building), so an update takes a few
milliseconds and looks the same in JupyterLab and Voila.

Sign convention: the charts show the *benefit z* (positive favours surgery, arm A); the
log-rank z a user types is on the log-HR scale (negative favours arm A), as the protocol's
analysis and ``trialnb.monitoring`` (``direction_upper=False``) report it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import ipywidgets as W
import numpy as np

from .. import interim, monitoring
from ..report import fmt_estimate, fmt_interval, fmt_n, fmt_num, fmt_pct
from .svg import esc, frame, grid_line, SVG_GRID

__all__ = ["DesignExplorer", "MonitoringDashboard", "boundary_svg", "build_dashboard", "build_explorer"]

_STYLE = {"description_width": "200px"}
_WIDTH = "470px"
SPENDING = (("O'Brien-Fleming type (asOF)", "asOF"), ("Pocock type (asP)", "asP"),
            ("Kim-DeMets, gamma 3 (asKD)", "asKD"), ("Hwang-Shih-DeCani, gamma -4 (asHSD)", "asHSD"))
GAMMA = {"asKD": 3.0, "asHSD": -4.0}
Z_LIMIT = 8.0
"""Largest log-rank z (in absolute value) the dashboard accepts; beyond it the normal tail
probabilities that the boundaries rest on are below 1e-15."""
DATA_DIR = Path(__file__).resolve().parents[2] / "data"
"""The repository's synthetic trial files (``data/trial_*.csv``)."""



def boundary_svg(events: Sequence[float], critical_values: Sequence[float],
                 futility: Sequence[float] | None = None, observed: tuple[float, float] | None = None,
                 harm_z: float | None = None, width: int = 470, height: int = 290) -> str:
    """Inline SVG of the efficacy boundary (benefit z against deaths), the futility bounds,
    a constant harm guideline and the observed look. Pure string building."""
    ml, mr, mt, mb = 48, 14, 28, 42
    ev = np.asarray(events, dtype=float)
    cv = np.asarray(critical_values, dtype=float)
    x1 = float(max(ev.max(), observed[0] if observed else 0)) * 1.05
    ys = list(cv) + ([harm_z] if harm_z is not None else []) + (list(futility) if futility is not None else [])
    if observed:
        ys.append(observed[1])
    y0, y1 = min(min(ys), -1.0) - 0.3, max(max(ys), 3.0) + 0.3
    pw, ph = width - ml - mr, height - mt - mb

    def X(v: float) -> float:
        return ml + v / x1 * pw

    def Y(v: float) -> float:
        return mt + (y1 - v) / (y1 - y0) * ph

    p = frame(width, height, ml, mt, pw, ph, "Boundaries on the benefit-z scale", "Boundaries")
    for v in range(int(np.ceil(y0)), int(np.floor(y1)) + 1):
        p.insert(1, grid_line(ml, ml + pw, Y(v), Y(v), "#bbbbbb" if v == 0 else SVG_GRID))
        p.append(f"<text x='{ml - 6}' y='{Y(v) + 4:.1f}' text-anchor='end' font-size='11'>{v}</text>")
    for v in np.linspace(0, x1, 6)[1:]:
        p.append(f"<text x='{X(v):.1f}' y='{mt + ph + 15}' text-anchor='middle' font-size='11'>{v:.0f}</text>")
    pts = " ".join(f"{X(a):.1f},{Y(b):.1f}" for a, b in zip(ev, cv))
    p.append(f"<polyline points='{pts}' fill='none' stroke='#1b6ca8' stroke-width='2'/>")
    p += [f"<circle cx='{X(a):.1f}' cy='{Y(b):.1f}' r='4' fill='#1b6ca8'/>" for a, b in zip(ev, cv)]
    if futility is not None:
        p += [f"<rect x='{X(a) - 4:.1f}' y='{Y(b) - 4:.1f}' width='8' height='8' fill='#7a7a7a'/>"
              for a, b in zip(ev[:-1], futility)]
    if harm_z is not None:
        p.append(f"<line x1='{ml}' x2='{ml + pw}' y1='{Y(harm_z):.1f}' y2='{Y(harm_z):.1f}' "
                 "stroke='#d1495b' stroke-dasharray='3,3'/>")
    if observed:
        p.append(f"<circle class='trialnb-observed' cx='{X(observed[0]):.1f}' cy='{Y(observed[1]):.1f}' r='6' "
                 "fill='#2e4057'/>")
    p += [f"<text x='{ml + pw / 2:.0f}' y='{height - 8}' text-anchor='middle' font-size='12'>"
          "deaths (blue efficacy, grey futility, red harm, dot observed)</text>",
          f"<text transform='translate(13,{mt + ph / 2:.0f}) rotate(-90)' text-anchor='middle' "
          "font-size='12'>benefit z</text>", "</svg>"]
    return "".join(p)


def _design(looks: int, first: float, spending: str, futility: bool) -> monitoring.GroupSequentialDesign:
    rates = [1.0] if looks == 1 else list(np.round(np.linspace(first, 1.0, looks), 6))
    kw: dict[str, Any] = {"information_rates": rates, "type_of_design": spending if looks > 1 else "asOF"}
    if spending in GAMMA and looks > 1:
        kw["gamma_a"] = GAMMA[spending]
    if futility and looks > 1:
        kw["futility_bounds"] = [interim.PLAN["futility_z"]] * (looks - 1)
    return monitoring.design(looks, alpha=interim.PLAN["alpha"], beta=interim.PLAN["beta"], **kw)


class DesignExplorer:
    """Move the number and timing of looks and the spending function; see the boundaries,
    the maximum deaths and the power. ``root`` has CSS class ``trialnb-monitor-design``."""

    def __init__(self) -> None:
        self.looks = W.IntSlider(value=2, min=1, max=5, description="Number of looks", style=_STYLE,
                                 layout=W.Layout(width=_WIDTH))
        self.first = W.FloatSlider(value=0.5, min=0.2, max=0.8, step=0.05, description="First look (information)",
                                   readout_format=".2f", style=_STYLE, layout=W.Layout(width=_WIDTH))
        self.spending = W.Dropdown(options=SPENDING, value="asOF", description="Alpha spending", style=_STYLE,
                                   layout=W.Layout(width=_WIDTH))
        self.futility = W.Checkbox(value=False, description="Non-binding futility at z = 0", style=_STYLE)
        self.controls = (self.looks, self.first, self.spending, self.futility)
        self.numbers = W.HTML().add_class("trialnb-monitor-max-events")
        self.chart = W.HTML().add_class("trialnb-monitor-chart")
        self.message = W.HTML()
        self.root = W.VBox([W.HTML("<h3>Interim plan explorer</h3>"),
                            W.HBox([W.VBox(list(self.controls) + [self.numbers, self.message]), self.chart])]
                           ).add_class("trialnb-monitor-design")
        self.design: monitoring.GroupSequentialDesign | None = None
        self.fixed_events = interim.planned_max_events(_design(1, 1.0, "asOF", False))
        for c in self.controls:
            c.observe(self._update, names="value")
        self._update()

    def _update(self, change: Any = None) -> None:
        try:
            d = _design(self.looks.value, self.first.value, self.spending.value, self.futility.value)
            m = interim.planned_max_events(d)
        except ValueError as exc:
            self.message.value = f"<p style='color:#b00020'><b>Cannot compute:</b> {esc(str(exc))}</p>"
            return
        self.message.value = ""
        self.design = d
        ev = np.asarray(d.information_rates) * m
        rows = "".join(f"<tr><td>{i + 1}</td><td>{fmt_num(e, 1)}</td><td>{fmt_num(c, 3)}</td>"
                       f"<td>{fmt_pct(float(a), 2)}</td></tr>"
                       for i, (e, c, a) in enumerate(zip(ev, d.critical_values, d.alpha_spent)))
        self.numbers.value = (
            f"<div style='font-size:1.3em'><b>{fmt_n(m)}</b> deaths at most</div>"
            f"<div>fixed design: {fmt_n(self.fixed_events)}; power {fmt_pct(float(np.asarray(d.power)[-1]))} at HR 0.5 "
            f"(inflation factor {fmt_num(d.inflation_factor, 4)})</div>"
            "<table><tr><th>look</th><th>deaths</th><th>z bound</th><th>alpha spent</th></tr>"
            f"{rows}</table>")
        fut = None if d.futility_bounds is None else list(d.futility_bounds)
        self.chart.value = boundary_svg(ev, d.critical_values, fut, harm_z=interim.PLAN["harm_z"])


def build_explorer() -> W.Widget:
    """The design explorer's root widget (notebook 05)."""
    return DesignExplorer().root


class MonitoringDashboard:
    """The DMC dashboard: enter observed deaths and log-rank z, or pick a cut-off month on a
    trial file; see the boundary chart, the decision and the numbers.
    ``root`` has CSS class ``trialnb-monitor``; the decision line ``trialnb-monitor-decision``."""

    def __init__(self, data_dir: str | Path = DATA_DIR) -> None:
        from ..data import load_trial

        self.data_dir = Path(data_dir)
        files = sorted(p.name for p in self.data_dir.glob("trial_*.csv"))
        self._trials = {f: load_trial(self.data_dir / f) for f in files}
        self.source = W.ToggleButtons(options=[("Trial file", "file"), ("Enter numbers", "numbers")],
                                      value="file" if files else "numbers", description="Input", style=_STYLE)
        self.file = W.Dropdown(options=files, value=files[0] if files else None, description="Trial file",
                               style=_STYLE, layout=W.Layout(width=_WIDTH))
        if "trial_protocol.csv" in files:
            self.file.value = "trial_protocol.csv"
        self.cutoff = W.FloatSlider(value=29.1, min=6.0, max=60.0, step=0.1, description="Cut-off month",
                                    readout_format=".1f", style=_STYLE, layout=W.Layout(width=_WIDTH))
        # plain text boxes, checked in _numbers: a value out of range is refused with a message
        # on screen, never clamped silently
        self.events = W.IntText(value=33, description="Deaths so far", style=_STYLE)
        self.z = W.FloatText(value=-2.5, step=0.1, description="Log-rank z (< 0 favours A)", style=_STYLE)
        self.controls = (self.source, self.file, self.cutoff, self.events, self.z)
        self.decision = W.HTML().add_class("trialnb-monitor-decision")
        self.table = W.HTML().add_class("trialnb-monitor-numbers")
        self.chart = W.HTML().add_class("trialnb-monitor-plot")
        self.root = W.VBox([W.HTML("<h3>Interim analysis: what the DMC sees</h3>"),
                            W.HBox([W.VBox(list(self.controls) + [self.decision, self.table]), self.chart])]
                           ).add_class("trialnb-monitor")
        self.design = interim.proposed_design()
        self.max_events = interim.plan_max_events()
        self.error = ""
        for c in self.controls:
            c.observe(self._update, names="value")
        self._update()

    def _numbers(self, events: int, z: float) -> tuple[str, list[tuple[str, str]], float]:
        d, m = self.design, self.max_events
        if not 0 < events < m:
            raise ValueError(f"deaths so far must be between 1 and {m - 1} (the planned maximum is {m}); "
                             f"{events} was entered")
        if not (math.isfinite(z) and abs(z) <= Z_LIMIT):
            raise ValueError(f"the log-rank z must be between -{fmt_num(Z_LIMIT, 0)} and {fmt_num(Z_LIMIT, 0)}; "
                             f"{z:g} was entered")
        res = monitoring.analyse(d, [events], [z], direction_upper=False, max_information=m)
        crit = float(res.critical_values[0])
        rci = fmt_interval(float(res.rci_lower[0]), float(res.rci_upper[0]), 2, label="repeated CI",
                           unavailable=interim.repeated_ci_note(res, events, m))
        rows = [("Information", f"{fmt_n(events)} of {fmt_n(m)} deaths ({fmt_pct(events / m)})"),
                ("Benefit z / boundary", f"{fmt_num(-z, 3)} / {fmt_num(crit, 3)}"),
                ("HR with repeated CI", f"{fmt_num(float(res.hazard_ratios[0]), 2)} ({rci})")]
        for name, hr in (("observed", float(res.hazard_ratios[0])), ("design", 0.5), ("no effect", 1.0)):
            cp = monitoring.conditional_power(d, [events], [z], n_planned=[m - events], theta_h1=hr,
                                              direction_upper=False)
            rows.append((f"Conditional power, {name} HR {fmt_num(hr, 2)}",
                         fmt_pct(float(np.asarray(cp.conditional_power)[-1]))))
        act = res.actions[0]
        if act == "reject":
            dec = "stop for efficacy"
        elif -z <= interim.PLAN["harm_z"]:
            dec = "review for harm"
        elif -z <= interim.PLAN["futility_z"]:
            dec = "futility guideline met"
        else:
            dec = "continue"
        return dec, rows, crit

    def _update(self, change: Any = None) -> None:
        file_mode = self.source.value == "file"
        self.file.disabled = self.cutoff.disabled = not file_mode
        self.events.disabled = self.z.disabled = file_mode
        try:
            if file_mode:
                rep = interim.interim_report(self._trials[self.file.value], self.cutoff.value,
                                             design=self.design, max_events=self.max_events)
                events, z = rep.events, rep.logrank_z
                dec = rep.decision
                _, rows, crit = self._numbers(events, z)
                rows = [("Randomized by the cut-off", fmt_n(rep.n_randomized)),
                        ("Deaths (A / B)", f"{fmt_n(rep.deaths_by_arm['A'])} / {fmt_n(rep.deaths_by_arm['B'])}"),
                        ("Log-rank z; Cox z", f"{fmt_num(rep.logrank_z, 3)}; "
                                              f"{fmt_estimate(rep.cox_z, 3, unavailable=rep.cox_note)}")] + rows
            else:
                events, z = int(self.events.value), float(self.z.value)
                dec, rows, crit = self._numbers(events, z)
        except ValueError as exc:
            self.error = str(exc)
            self.decision.value = f"<p style='color:#b00020'><b>Cannot analyse:</b> {esc(str(exc))}</p>"
            self.table.value = ""
            return
        self.error = ""
        self.result = (events, z, dec)
        self.decision.value = (f"<div style='font-size:1.4em'><b>{fmt_n(events)} deaths: {esc(dec)}</b></div>")
        self.table.value = "<table>" + "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows) + "</table>"
        d = self.design
        ev = list(np.asarray(d.information_rates) * self.max_events)
        cv = list(d.critical_values)
        ev[0], cv[0] = float(events), crit  # the interim bound recalculated at the observed deaths
        fut = None if d.futility_bounds is None else list(d.futility_bounds)
        self.chart.value = boundary_svg(ev, cv, fut, observed=(float(events), -z), harm_z=interim.PLAN["harm_z"])


def build_dashboard(data_dir: str | Path = DATA_DIR) -> W.Widget:
    """The DMC dashboard's root widget (``notebooks/dashboards/monitoring.py``)."""
    return MonitoringDashboard(data_dir).root
