"""Interim-monitoring widgets: the design explorer of notebook 05 and the DMC dashboard.

Widgets only wire controls to pure functions: :func:`trialnb.monitoring.design`,
:func:`trialnb.monitoring.plan_design`, :func:`trialnb.monitoring.plan_max_events`,
:func:`trialnb.interim.interim_report` and :func:`trialnb.interim.typed_look`, all on the plan. The
boundary chart is a small inline SVG (pure string building), so an update takes a few
milliseconds and looks the same in JupyterLab and Voila.

Sign convention: the charts show the *benefit z* (positive favours surgery, arm A); the
log-rank z a user types is on the log-HR scale (negative favours arm A), as the protocol's
analysis and ``trialnb.monitoring`` (``direction_upper=False``) report it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import ipywidgets as W
import numpy as np

from .. import interim, monitoring
from ..errors import SettingsError, TrialAnalysisError
from ..plan import PLAN, TrialPlan
from ..report import fmt_interval, fmt_n, fmt_num, fmt_pct
from ..reproduce import design_plan_changes, plan_changes
from ..resources import data_dir
from .export import ExportBox, SettingsPanel, check_same_plan
from .svg import SVG_GRID, esc, frame, grid_line

__all__ = ["DesignExplorer", "MonitoringDashboard", "boundary_svg", "boundary_table_html", "build_dashboard",
           "build_explorer", "explorer_plan", "times_html"]

_STYLE = {"description_width": "200px"}
_WIDTH = "470px"
SPENDING = (("O'Brien-Fleming type (asOF)", "asOF"), ("Pocock type (asP)", "asP"),
            ("Kim-DeMets, gamma 3 (asKD)", "asKD"), ("Hwang-Shih-DeCani, gamma -4 (asHSD)", "asHSD"))
Z_LIMIT = 8.0
"""Largest z (in absolute value) the dashboard accepts; beyond it the normal tail probabilities
the boundaries rest on are below 1e-15."""
DATA_DIR = data_dir()
"""The repository's synthetic trial files (``data/trial_*.csv``)."""


def boundary_svg(events: Sequence[float] | np.ndarray, critical_values: Sequence[float] | np.ndarray,
                 futility: Sequence[float] | None = None, observed: tuple[float, float] | None = None,
                 harm_z: float | None = None, two_sided: bool = False, width: int = 470, height: int = 290) -> str:
    """Inline SVG of the efficacy boundary (benefit z against deaths), its mirror the formal harm
    boundary of a two-sided design (``two_sided``), the futility bounds, a constant harm
    guideline and the observed look, as :func:`trialnb.plots.monitoring.boundary_plot` draws
    them. Pure string building."""
    ml, mr, mt, mb = 48, 14, 28, 42
    ev = np.asarray(events, dtype=float)
    cv = np.asarray(critical_values, dtype=float)
    x1 = float(max(ev.max(), observed[0] if observed else 0)) * 1.05
    ys = list(cv) + (list(-cv) if two_sided else []) + ([harm_z] if harm_z is not None else []) \
        + (list(futility) if futility is not None else [])
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
    pts = " ".join(f"{X(a):.1f},{Y(b):.1f}" for a, b in zip(ev, cv, strict=True))
    p.append(f"<polyline points='{pts}' fill='none' stroke='#1b6ca8' stroke-width='2'/>")
    p += [f"<circle cx='{X(a):.1f}' cy='{Y(b):.1f}' r='4' fill='#1b6ca8'/>" for a, b in zip(ev, cv, strict=True)]
    if two_sided:
        pts = " ".join(f"{X(a):.1f},{Y(-b):.1f}" for a, b in zip(ev, cv, strict=True))
        p.append(f"<polyline points='{pts}' fill='none' stroke='#d1495b' stroke-width='2'/>")
        p += [f"<circle cx='{X(a):.1f}' cy='{Y(-b):.1f}' r='4' fill='white' stroke='#d1495b' stroke-width='2'/>"
              for a, b in zip(ev, cv, strict=True)]
    if futility is not None:
        p += [f"<rect x='{X(a) - 4:.1f}' y='{Y(b) - 4:.1f}' width='8' height='8' fill='#7a7a7a'/>"
              for a, b in zip(ev[:-1], futility, strict=False)]  # futility bounds: at the interim looks
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


def explorer_plan(looks: int, first: float, spending: str, futility: bool, plan: TrialPlan = PLAN) -> TrialPlan:
    """The plan with ``looks`` equally spaced looks from the information fraction ``first``,
    the spending function ``spending`` and a futility guideline at benefit z <= 0 (or none):
    :func:`trialnb.reproduce.design_plan_changes` applied to ``plan``."""
    return plan.with_changes(**design_plan_changes(int(looks), float(first), spending, bool(futility)))


def boundary_table_html(table: monitoring.BoundaryTable) -> str:
    """gsDesign's ``gsBoundSummary`` view of :func:`trialnb.monitoring.boundary_table` as an HTML
    table (class ``trialnb-boundary-table``): per look the deaths, the z bound, the nominal
    (one-sided) p, the hazard ratio at the bound, the cumulative probability of crossing for
    benefit under H0 and H1 and the alpha spent."""
    head = ("look", "deaths", "z bound", "nominal p (one-sided)", "HR at bound", "P(cross) H0", "P(cross) H1",
            "alpha spent")
    rows = "".join(
        "<tr>" + "".join(f"<td style='text-align:right'>{c}</td>" for c in (
            fmt_n(i + 1), fmt_num(float(table.deaths[i]), 1), fmt_num(float(table.z_bound[i]), 3),
            fmt_num(float(table.nominal_p[i]), 4), fmt_num(float(table.hr_bound[i]), 3),
            fmt_num(float(table.efficacy_h0[i]), 4), fmt_num(float(table.efficacy_h1[i]), 4),
            fmt_num(float(table.alpha_spent[i]), 4))) + "</tr>"
        for i in range(table.deaths.size))
    return ("<table class='trialnb-boundary-table'><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"
            f"{rows}</table><div style='color:#555;font-size:0.85em'>Crossing probabilities are cumulative, for "
            f"benefit (H1: HR {fmt_num(table.hazard_ratio, 2)}); power {fmt_pct(float(table.reject_h1[-1]))}, "
            f"expected deaths {fmt_num(table.expected_deaths_h0, 1)} under H0, {fmt_num(table.expected_deaths_h1, 1)} "
            "under H1.</div>")


def times_html(times: monitoring.AnalysisTimes) -> str:
    """When the deaths arrive (:func:`trialnb.monitoring.plan_analysis_times`) as an HTML table
    (class ``trialnb-analysis-times``): per look its deaths, expected month and patients
    randomized by then, under H0 (no effect) and H1."""
    rows = []
    for i, kind in enumerate(times.kinds):
        cells = [fmt_n(i + 1), "calendar" if kind == "calendar" else f"{fmt_num(float(times.deaths_h1[i]), 0)} deaths"]
        for months, deaths, rand in ((times.months_h0, times.deaths_h0, times.randomized_h0),
                                     (times.months_h1, times.deaths_h1, times.randomized_h1)):
            m = float(months[i])
            if math.isnan(m):
                cells += ["never", ""]
            elif kind == "calendar":
                cells += [f"month {fmt_num(m, 1)}: {fmt_num(float(deaths[i]), 1)} deaths", fmt_num(float(rand[i]), 0)]
            else:
                cells += [f"month {fmt_num(m, 1)}", fmt_num(float(rand[i]), 0)]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    what = "deaths within 24 months" if times.window == 24 else (
        "all deaths" if times.window is None else f"deaths within {fmt_num(times.window, 0)} months")
    return ("<table class='trialnb-analysis-times'><tr><th>look</th><th>held at</th><th>H0: expected</th>"
            "<th>randomized</th><th>H1: expected</th><th>randomized</th></tr>" + "".join(rows) + "</table>"
            f"<div style='color:#555;font-size:0.85em'>When the deaths arrive ({what}; expected counts, as rpact's "
            "analysis times).</div>")


class DesignExplorer(SettingsPanel):
    """Move the number and timing of looks and the spending function; see the boundaries (chart
    and gsDesign's boundary table), the maximum deaths, the power and when the deaths arrive
    (the plan with those changes: :func:`explorer_plan`, :func:`trialnb.monitoring.plan_design`,
    :func:`trialnb.monitoring.plan_max_events`, :func:`trialnb.monitoring.boundary_table`,
    :func:`trialnb.monitoring.plan_analysis_times`); save, load, report and reproduce
    (``export``). ``root`` has CSS class ``trialnb-monitor-design``; the boundary table
    ``trialnb-monitor-boundary-table``, the analysis times ``trialnb-monitor-times``."""

    def __init__(self, plan: TrialPlan = PLAN) -> None:
        self.base = plan
        m = plan.monitoring
        self.looks = W.IntSlider(value=m.k, min=1, max=5, description="Number of looks", style=_STYLE,
                                 layout=W.Layout(width=_WIDTH))
        self.first = W.FloatSlider(value=m.information_rates[0] if m.k > 1 else 0.5, min=0.2, max=0.8, step=0.05,
                                   description="First look (information)", readout_format=".2f", style=_STYLE,
                                   layout=W.Layout(width=_WIDTH))
        self.spending = W.Dropdown(options=SPENDING, value=m.spending, description="Alpha spending", style=_STYLE,
                                   layout=W.Layout(width=_WIDTH))
        self.futility = W.Checkbox(value=m.futility_z is not None, description="Non-binding futility at z = 0",
                                   style=_STYLE)
        self.controls = (self.looks, self.first, self.spending, self.futility)
        self.named = {"looks": self.looks, "first": self.first, "spending": self.spending, "futility": self.futility}
        self.numbers = W.HTML().add_class("trialnb-monitor-max-events")
        self.chart = W.HTML().add_class("trialnb-monitor-chart")
        self.bounds = W.HTML().add_class("trialnb-monitor-boundary-table")
        self.times = W.HTML().add_class("trialnb-monitor-times")
        self.message = W.HTML()
        self.export = ExportBox("design", self.panel_settings, self.apply_settings, lambda: self.root)
        self.root = W.VBox([W.HTML("<h3>Interim plan explorer</h3>"),
                            W.HBox([W.VBox(list(self.controls) + [self.numbers, self.message]), self.chart]),
                            W.HTML("<b>Boundary table</b> (gsDesign's gsBoundSummary view)"), self.bounds,
                            self.times, self.export.root]
                           ).add_class("trialnb-monitor-design")
        self.design: monitoring.GroupSequentialDesign | None = None
        self.table: monitoring.BoundaryTable | None = None
        self.analysis_times: monitoring.AnalysisTimes | None = None
        self.plan: TrialPlan = plan
        self.fixed_events = monitoring.plan_max_events(explorer_plan(1, 1.0, "asOF", False, plan))
        self._busy = False
        for c in self.controls:
            c.observe(self._update, names="value")
        self._update()

    def panel_settings(self) -> dict[str, Any]:
        """The control values, with the base plan's changes from :data:`~trialnb.plan.PLAN` ({} for the plan)."""
        out: dict[str, Any] = {name: w.value for name, w in self.named.items()}
        out["plan_changes"] = plan_changes(self.base)
        return out

    def apply_settings(self, settings: Mapping[str, Any]) -> None:
        """Set the controls (refusing a value a control does not accept) and compute once."""
        values = dict(settings)
        check_same_plan(values, self.base)
        self.set_controls(values)

    def _update(self, change: Any = None) -> None:
        if self._busy:
            return
        try:
            p = explorer_plan(self.looks.value, self.first.value, self.spending.value, self.futility.value, self.base)
            d = monitoring.plan_design(p)
            m = monitoring.plan_max_events(p)
            hr = p.design.hazard_ratio
            table = monitoring.boundary_table(d, m, hazard_ratio=hr)
            times = monitoring.plan_analysis_times(p)
        except ValueError as exc:
            self.message.value = f"<p style='color:#b00020'><b>Cannot compute:</b> {esc(str(exc))}</p>"
            self.export.refresh()
            return
        self.message.value = ""
        self.design, self.plan, self.max_events, self.table, self.analysis_times = d, p, m, table, times
        ev = np.asarray(d.information_rates) * m
        self.numbers.value = (
            f"<div style='font-size:1.3em'><b>{fmt_n(m)}</b> {p.analysis.deaths_words()} at most</div>"
            f"<div>fixed design: {fmt_n(self.fixed_events)}; power {fmt_pct(float(np.asarray(d.power)[-1]))} at "
            f"HR {fmt_num(hr, 2)} (inflation factor {fmt_num(d.inflation_factor, 4)})</div>")
        self.bounds.value = boundary_table_html(table)
        self.times.value = times_html(times)
        fut = None if p.monitoring.futility_z is None or d.k == 1 else [p.monitoring.futility_z] * (d.k - 1)
        self.chart.value = boundary_svg(ev, d.critical_values, fut, harm_z=p.monitoring.harm_z,
                                        two_sided=p.analysis.sided == 2)
        self.export.refresh()


def build_explorer() -> W.Widget:
    """The design explorer's root widget (notebook 05)."""
    return DesignExplorer().root


def _no_rci(lo: float, hi: float, events: int, max_events: int, boundary: float) -> str:
    """Why a look has no repeated CI ("" when it has one): the boundary is too extreme this early."""
    if math.isfinite(lo) and math.isfinite(hi):
        return ""
    return (f"with {fmt_n(events)} of {fmt_n(max_events)} planned deaths the efficacy boundary is "
            f"z >= {fmt_num(boundary, 3)}, too far out for a finite interval (rpact gives none either)")


class MonitoringDashboard(SettingsPanel):
    """The DMC dashboard: pick a cut-off month on a trial file (the report of
    :func:`trialnb.interim.interim_report` under the plan), or type observed deaths and a z
    (:func:`trialnb.interim.typed_look`); see the boundary chart, the recommendation and the
    numbers. ``root`` has CSS class ``trialnb-monitor``; the decision line
    ``trialnb-monitor-decision``."""

    def __init__(self, data_dir: str | Path = DATA_DIR, plan: TrialPlan = PLAN) -> None:
        from ..data import load_trial

        self.plan = plan
        self.data_dir = Path(data_dir)
        files = sorted(p.name for p in self.data_dir.glob("trial_*.csv"))
        self._trials = {f: load_trial(self.data_dir / f) for f in files}
        self.source = W.ToggleButtons(options=[("Trial file", "file"), ("Enter numbers", "numbers")],
                                      value="file" if files else "numbers", description="Input", style=_STYLE)
        self.file = W.Dropdown(options=files, value=files[0] if files else None, description="Trial file",
                               style=_STYLE, layout=W.Layout(width=_WIDTH))
        if "trial_protocol.csv" in files:
            self.file.value = "trial_protocol.csv"
        # opens at the planned interim: the month of the plan's first look's primary-endpoint deaths
        first_look = monitoring.plan_interim_events(plan)[0] if plan.monitoring.k > 1 else \
            monitoring.plan_max_events(plan)
        opening = 29.75
        if self.file.value is not None:
            try:
                opening = interim.death_month(self._trials[self.file.value], first_look, plan=plan)
            except TrialAnalysisError:  # a file with fewer deaths than the look: open at its end
                t = self._trials[self.file.value]
                opening = float((t["entry_month"] + t["os_months"]).max())
        self.cutoff = W.FloatSlider(value=min(60.0, math.ceil(opening * 4) / 4), min=6.0, max=60.0, step=0.25,
                                    description="Cut-off month", readout_format=".2f", style=_STYLE,
                                    layout=W.Layout(width=_WIDTH))
        h = plan.analysis.censor_months
        # plain text boxes, checked when read: a value out of range is refused with a message on
        # screen, never clamped silently
        self.events = W.IntText(value=first_look,
                                description=f"Deaths within {h:g} months" if h is not None else "Deaths", style=_STYLE)
        self.z = W.FloatText(value=-2.5, step=0.1, description="z (< 0 favours A)", style=_STYLE)
        self.controls = (self.source, self.file, self.cutoff, self.events, self.z)
        self.named = {"source": self.source, "file": self.file, "cutoff": self.cutoff, "events": self.events,
                      "z": self.z}
        self.decision = W.HTML().add_class("trialnb-monitor-decision")
        self.table = W.HTML().add_class("trialnb-monitor-numbers")
        self.chart = W.HTML().add_class("trialnb-monitor-plot")
        self.analysis_times = monitoring.plan_analysis_times(plan)
        self.times = W.HTML(times_html(self.analysis_times)).add_class("trialnb-monitor-times")
        self.export = ExportBox("monitoring", self.panel_settings, self.apply_settings, lambda: self.root)
        self.root = W.VBox([W.HTML("<h3>Interim analysis: what the DMC sees</h3>"),
                            W.HBox([W.VBox(list(self.controls) + [self.decision, self.table]), self.chart]),
                            W.HTML("<b>When the plan expects its deaths</b>"), self.times, self.export.root]
                           ).add_class("trialnb-monitor")
        self.design = monitoring.plan_design(plan)
        self.max_events = monitoring.plan_max_events(plan)
        self.error = ""
        self.report: interim.InterimReport | None = None
        self.look: dict[str, Any] | None = None
        self._busy = False
        for c in self.controls:
            c.observe(self._update, names="value")
        self._update()

    def panel_settings(self) -> dict[str, Any]:
        """The control values, the plan's changes from :data:`~trialnb.plan.PLAN` ({} for the plan) and
        the data folder (``None``: the shipped data)."""
        out: dict[str, Any] = {name: w.value for name, w in self.named.items()}
        out["plan_changes"] = plan_changes(self.plan)
        out["data_dir"] = None if self.data_dir.resolve() == Path(DATA_DIR).resolve() else str(self.data_dir)
        return out

    def apply_settings(self, settings: Mapping[str, Any]) -> None:
        """Set the controls (refusing a value a control does not accept, a file this panel does
        not list, another plan or data folder) and analyse once."""
        values = dict(settings)
        check_same_plan(values, self.plan)
        folder = values.pop("data_dir", str(self.data_dir))
        if (Path(folder).resolve() if folder is not None else Path(DATA_DIR).resolve()) != self.data_dir.resolve():
            raise SettingsError(f"these settings read trial files in {folder or DATA_DIR}, "
                                f"this panel in {self.data_dir}")
        self.set_controls(values)

    def _update(self, change: Any = None) -> None:
        if self._busy:
            return
        file_mode = self.source.value == "file"
        self.look = None
        self.file.disabled = self.cutoff.disabled = not file_mode
        self.events.disabled = self.z.disabled = file_mode
        try:
            if file_mode:
                rep = interim.interim_report(self._trials[self.file.value], self.cutoff.value, plan=self.plan,
                                             source=self.file.value)
                self.report = rep
                events, z, dec, crit = rep.primary_deaths, rep.z, rep.decision, rep.boundary
                rows = rep.rows()
            else:
                events, z = int(self.events.value), float(self.z.value)
                if not (math.isfinite(z) and abs(z) <= Z_LIMIT):
                    raise ValueError(f"the z must be between -{fmt_num(Z_LIMIT, 0)} and {fmt_num(Z_LIMIT, 0)}; "
                                     f"{z:g} was entered")
                look = self.look = interim.typed_look(events, z, plan=self.plan)
                crit = look["boundary"]
                zb = -z
                m = self.plan.monitoring
                dec = ("efficacy boundary crossed" if zb >= crit else "harm boundary crossed"
                       if self.plan.analysis.sided == 2 and zb <= -crit else "harm guideline met"
                       if m.harm_z is not None and zb <= m.harm_z else "futility guideline met"
                       if m.futility_z is not None and zb <= m.futility_z else "continue")
                rows = [("Information", f"{fmt_n(events)} of {fmt_n(self.max_events)} deaths "
                                        f"({fmt_pct(events / self.max_events)})"),
                        ("Benefit z / boundary", f"{fmt_num(zb, 3)} / {fmt_num(crit, 3)}"),
                        ("HR with repeated CI (log-rank approximation exp(2z/sqrt(D)))",
                         f"{fmt_num(look['hazard_ratio'], 2)} ("
                         + fmt_interval(look["rci_lower"], look["rci_upper"], 2, label="repeated CI",
                                        unavailable=_no_rci(look["rci_lower"], look["rci_upper"], events,
                                                            self.max_events, crit)) + ")")]
                rows += [(f"Conditional power, HR {k}", fmt_pct(v)) for k, v in look["conditional_power"].items()]
        except ValueError as exc:
            self.error = str(exc)
            self.decision.value = f"<p style='color:#b00020'><b>Cannot analyse:</b> {esc(str(exc))}</p>"
            self.table.value = ""
            self.export.refresh()
            return
        self.error = ""
        self.result = (events, z, dec)
        self.decision.value = (f"<div style='font-size:1.4em'><b>{fmt_n(events)} {self.plan.analysis.deaths_words()}: "
                               f"{esc(dec)}</b></div>")
        self.table.value = ("<table>" + "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows)
                            + "</table>")
        d = self.design
        ev = list(np.asarray(d.information_rates) * self.max_events)
        cv = list(d.critical_values)
        m = self.plan.monitoring
        fut = None if m.futility_z is None or d.k == 1 else [m.futility_z] * (d.k - 1)
        if math.isfinite(crit) and events < self.max_events:
            ev[0], cv[0] = float(events), crit  # the interim bound recalculated at the observed deaths
        observed = (float(events), -z) if math.isfinite(z) else None
        self.chart.value = boundary_svg(ev, cv, fut, observed=observed, harm_z=m.harm_z,
                                        two_sided=self.plan.analysis.sided == 2)
        self.export.refresh()


def build_dashboard(data_dir: str | Path = DATA_DIR) -> W.Widget:
    """The monitoring dashboard's root widget (``notebooks/dashboards/monitoring.py``): two tabs,
    the DMC's interim look (:class:`MonitoringDashboard`) and the interim plan explorer with its
    boundary table (:class:`DesignExplorer`); CSS class ``trialnb-monitoring-dashboard``."""
    tabs = W.Tab(children=[MonitoringDashboard(data_dir).root, DesignExplorer().root],
                 titles=("Interim look (DMC)", "Plan and boundaries"))
    return tabs.add_class("trialnb-monitoring-dashboard")
