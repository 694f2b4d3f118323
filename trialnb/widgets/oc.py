"""Operating-characteristics explorer: set a scenario, see simulated power within a second.

:class:`OCExplorer` builds the controls and outputs; its one callback reads the controls,
builds the true design and calls :func:`trialnb.simulation.simulate` on the plan, and assigns
the results (power with its Monte-Carlo SE, the distribution of estimated hazard ratios as an
inline SVG histogram, expected events and study duration) to output widgets. Sliders update
on release (``continuous_update=False``): one update simulates and analyses ``n_trials``
trials (5,000 by default, about 1 s). The panel opens with the call notebook 06 prints as the
plan's own figure, ``simulate(PLAN, 5000, seed=SEED)`` (:data:`trialnb.simulation.SEED`), so a
meeting and the notebook show the same power; the Monte-Carlo interval is shown beside it.
"""

from __future__ import annotations

import math
import time
from typing import Any, Mapping

import ipywidgets as W
import numpy as np

from ..errors import SettingsError
from ..plan import PLAN, DesignAssumptions, TrialPlan
from ..reproduce import oc_truth_changes, plan_changes
from ..sample_size import schoenfeld_power
from ..simulation import SEED, SimulationResult, simulate
from ..report import fmt_hr, fmt_months, fmt_n, fmt_num, fmt_pct
from .export import ExportBox, SettingsPanel, check_same_plan
from .svg import esc, frame, SVG_GRID

__all__ = ["OCExplorer", "build_dashboard", "failure_warning_html", "hr_histogram_svg"]

_STYLE = {"description_width": "230px"}
_WIDTH = "470px"
HR_BINS = np.exp(np.linspace(math.log(0.2), math.log(2.0), 41))
"""Bin edges (log-spaced, 0.2 to 2.0) of the HR histogram."""



def hr_histogram_svg(hr: np.ndarray, reject: np.ndarray, true_hr: float,
                     width: int = 460, height: int = 260) -> str:
    """Inline SVG histogram of estimated hazard ratios on a log axis: trials that rejected
    H0 in dark blue, the others in grey; the true HR as a red line, HR = 1 dashed."""
    hr = np.asarray(hr, dtype=float)
    ok = np.isfinite(hr)
    edges = HR_BINS
    clipped = np.clip(hr[ok], edges[0], edges[-1] * 0.9999)
    rej = np.asarray(reject)[ok]
    c_rej, _ = np.histogram(clipped[rej], edges)
    c_acc, _ = np.histogram(clipped[~rej], edges)
    top = max(1, int((c_rej + c_acc).max()))
    ml, mr, mt, mb = 48, 18, 32, 44
    pw, ph = width - ml - mr, height - mt - mb
    lo, hi = math.log(edges[0]), math.log(edges[-1])

    def X(v: float) -> float:
        return ml + (math.log(v) - lo) / (hi - lo) * pw

    def Y(c: float) -> float:
        return mt + ph - c / top * ph

    parts = frame(width, height, ml, mt, pw, ph, f"Estimated HR in {fmt_n(int(ok.sum()))} simulated trials",
                      "Histogram of estimated hazard ratios")
    step = max(1, 10 ** int(math.log10(top)) if top >= 10 else 1)
    step = step * 2 if top / step > 6 else step
    for c in range(0, top + 1, step):  # count gridlines and labels (the house style's light grid)
        parts.insert(1, f"<line x1='{ml}' x2='{ml + pw}' y1='{Y(c):.1f}' y2='{Y(c):.1f}' stroke='{SVG_GRID}'/>")
        parts.append(f"<text x='{ml - 6}' y='{Y(c) + 4:.1f}' text-anchor='end' font-size='11'>{fmt_n(c)}</text>")
    for k in range(len(edges) - 1):
        x0, x1 = X(edges[k]), X(edges[k + 1])
        y_r = Y(c_rej[k])
        if c_rej[k]:
            parts.append(f"<rect x='{x0:.1f}' y='{y_r:.1f}' width='{x1 - x0 - 0.5:.1f}' "
                         f"height='{mt + ph - y_r:.1f}' fill='#1b6ca8'/>")
        if c_acc[k]:
            y_a = Y(c_rej[k] + c_acc[k])
            parts.append(f"<rect x='{x0:.1f}' y='{y_a:.1f}' width='{x1 - x0 - 0.5:.1f}' "
                         f"height='{y_r - y_a:.1f}' fill='#b8b8b8'/>")
    for v in (0.25, 0.5, 0.75, 1.0, 1.5, 2.0):
        parts.insert(1, f"<line x1='{X(v):.1f}' x2='{X(v):.1f}' y1='{mt}' y2='{mt + ph}' stroke='{SVG_GRID}'/>")
        parts.append(f"<text x='{X(v):.1f}' y='{mt + ph + 15}' text-anchor='middle' font-size='11'>"
                     f"{fmt_num(v, 2)}</text>")
    parts.append(f"<line x1='{X(1.0):.1f}' x2='{X(1.0):.1f}' y1='{mt}' y2='{mt + ph}' stroke='#555' "
                 "stroke-dasharray='4,3'/>")
    if edges[0] <= true_hr <= edges[-1]:
        parts.append(f"<line x1='{X(true_hr):.1f}' x2='{X(true_hr):.1f}' y1='{mt}' y2='{mt + ph}' "
                     "stroke='#d1495b' stroke-width='2'/>")
    parts += [
        f"<text x='{ml + pw / 2:.0f}' y='{height - 10}' text-anchor='middle' font-size='12'>"
        "Estimated hazard ratio A vs B (log scale; red: true HR; blue: significant)</text>",
        f"<text transform='translate(12,{mt + ph / 2:.0f}) rotate(-90)' text-anchor='middle' "
        "font-size='12'>Trials</text>",
        "</svg>",
    ]
    return "".join(parts)


FAILED_WARNING_FRACTION = 0.01
"""Above this fraction of failed analyses the panel shows a warning."""


def failure_warning_html(res: SimulationResult) -> str:
    """A visible warning (CSS class ``trialnb-warning``) when more than 1% of the simulated
    analyses failed (a Cox fit whose arm coefficient is infinite or that did not converge, or no
    deaths): the power shown is
    then computed over the successful analyses only, which are not a random subset. Empty
    string otherwise."""
    if res.n_failed / res.n_trials <= FAILED_WARNING_FRACTION:
        return ""
    what = ("Cox fits failed: too few deaths, so an arm had none (its coefficient is infinite) "
            "or the fit did not converge" if res.analysis == "cox_wald" else "log-rank tests had no deaths")
    return (
        "<div class='trialnb-warning' style='color:#b00020;border:1px solid #b00020;padding:4px'>"
        f"<b>Warning:</b> {fmt_n(res.n_failed)} of {fmt_n(res.n_trials)} ({fmt_pct(res.n_failed / res.n_trials)}) "
        f"{what}. The {'type-I error' if res.truth.is_null else 'power'} above counts only the "
        f"{fmt_n(res.n_trials - res.n_failed)} successful analyses; these trials are too small for this analysis "
        "(try the log-rank test or more patients).</div>"
    )


class OCExplorer(SettingsPanel):
    """Controls for the true effect and the trial's size, with the simulated power of the plan's
    final analysis, the HR histogram, deaths and duration.

    Controls (attributes; set ``.value`` to drive it headless): ``hazard_ratio`` (true, A vs B),
    ``control_survival`` (2-year), ``n_patients``, ``non_compliance`` (arm A not operated),
    ``crossover`` (arm B operated), ``accrual_months``, ``effect_delay_months``,
    ``analysis`` ("cox_wald" | "logrank"), ``n_trials``. Everything else is the plan ``base``
    (default :data:`trialnb.plan.PLAN`): the trials are drawn from the changed design
    (``truth``), analysed as the plan says (:func:`trialnb.simulation.simulate`).
    Outputs: ``power_display`` (CSS class ``trialnb-power``), ``details``, ``histogram``,
    ``message``; ``root`` is the whole panel (CSS class ``trialnb-oc``). The latest
    :class:`~trialnb.simulation.SimulationResult` is ``result``, its truth ``truth``, the
    wall time of the last update ``elapsed`` (s); ``error`` holds the last input problem.
    """

    def __init__(self, base: TrialPlan | None = None, n_trials: int = 5000, seed: int = SEED) -> None:
        if base is not None and not isinstance(base, TrialPlan):
            raise ValueError(f"base must be a trialnb.plan.TrialPlan or None, got {type(base).__name__}")
        if n_trials not in (500, 1000, 2000, 5000):
            raise ValueError(f"n_trials must be one of 500, 1000, 2000, 5000, got {n_trials!r}")
        self.base = PLAN if base is None else base
        self.seed = int(seed)
        b = self.base.design

        def fs(desc: str, value: float, lo: float, hi: float, step: float, fmt: str) -> W.FloatSlider:
            return W.FloatSlider(value=value, min=lo, max=hi, step=step, description=desc,
                                 readout_format=fmt, continuous_update=False, style=_STYLE,
                                 layout=W.Layout(width=_WIDTH))

        self.hazard_ratio = fs("True hazard ratio A vs B", b.hazard_ratio, 0.30, 1.30, 0.01, ".2f")
        self.control_survival = fs("Control 2-year survival", b.control_survival, 0.20, 0.90, 0.01, ".2f")
        self.n_patients = W.IntSlider(value=b.n_patients, min=60, max=600, step=2, description="Patients (N)",
                                      continuous_update=False, style=_STYLE, layout=W.Layout(width=_WIDTH))
        self.non_compliance = fs("Arm A not operated", b.non_compliance, 0.0, 0.60, 0.01, ".2f")
        self.crossover = fs("Arm B operated (crossover)", b.crossover, 0.0, 0.60, 0.01, ".2f")
        self.accrual_months = fs("Accrual (months)", b.accrual_months, 6.0, 96.0, 1.0, ".0f")
        self.effect_delay_months = fs("Effect delay (months)", b.effect_delay_months, 0.0, 24.0, 1.0, ".0f")
        self.analysis = W.ToggleButtons(options=[("Cox (planned)", "cox_wald"), ("Log-rank", "logrank")],
                                        value=self.base.analysis.statistic if self.base.analysis.statistic in
                                        ("cox_wald", "logrank") else "cox_wald", description="Analysis", style=_STYLE)
        self.n_trials = W.Dropdown(options=[500, 1000, 2000, 5000], value=n_trials,
                                   description="Simulated trials", style=_STYLE)
        self.controls: tuple[W.Widget, ...] = (
            self.hazard_ratio, self.control_survival, self.n_patients, self.non_compliance,
            self.crossover, self.accrual_months, self.effect_delay_months, self.analysis, self.n_trials,
        )
        self.named: dict[str, W.Widget] = {
            "hazard_ratio": self.hazard_ratio, "control_survival": self.control_survival, "n_patients": self.n_patients,
            "non_compliance": self.non_compliance, "crossover": self.crossover, "accrual_months": self.accrual_months,
            "effect_delay_months": self.effect_delay_months, "analysis": self.analysis, "n_trials": self.n_trials}
        self.export = ExportBox("operating_characteristics", self.panel_settings, self.apply_settings,
                                lambda: self.root)
        self.power_display = W.HTML().add_class("trialnb-power")
        self.details = W.HTML().add_class("trialnb-oc-details")
        self.histogram = W.HTML().add_class("trialnb-oc-histogram")
        self.message = W.HTML().add_class("trialnb-message")
        self.root = W.VBox([
            W.HTML("<h3>Operating characteristics: what power does the trial really have?</h3>"),
            W.HBox([W.VBox(list(self.controls)),
                    W.VBox([self.power_display, self.details, self.message, self.histogram])]),
            self.export.root,
        ]).add_class("trialnb-oc")
        self.result: SimulationResult | None = None
        self.truth: DesignAssumptions | None = None
        self.elapsed: float = float("nan")
        self.error: str = ""
        self._busy = False
        for c in self.controls:
            c.observe(self._update, names="value")
        self._update()

    def panel_settings(self) -> dict[str, Any]:
        """The control values and the seed, with the base plan's changes from
        :data:`~trialnb.plan.PLAN` ({} for the plan): the settings file (:mod:`trialnb.reproduce`)."""
        out: dict[str, Any] = {name: w.value for name, w in self.named.items()}
        out["seed"] = self.seed
        out["plan_changes"] = plan_changes(self.base)
        return out

    def apply_settings(self, settings: Mapping[str, Any]) -> None:
        """Set the controls (refusing a value a control does not accept, another seed or plan)
        and simulate once."""
        values = dict(settings)
        check_same_plan(values, self.base)
        seed = values.pop("seed", self.seed)
        if seed != self.seed:
            raise SettingsError(f"these settings simulate with seed {seed!r}, this panel with {self.seed}; build the "
                                f"panel with seed={seed!r}")
        self.set_controls(values)

    def current_plan(self) -> TrialPlan:
        """The plan with the controls' size and statistic."""
        return self.base.with_changes(n_patients=int(self.n_patients.value), statistic=self.analysis.value)

    def current_truth(self) -> DesignAssumptions:
        """The design the controls describe (raises ScenarioError for impossible input)."""
        import dataclasses

        return dataclasses.replace(self.current_plan().design, **oc_truth_changes(self.panel_settings()))

    def _update(self, change: Any = None) -> None:
        """Callback: build the scenario, simulate, then only assign results."""
        if self._busy:
            return
        t0 = time.perf_counter()
        try:
            plan, sc = self.current_plan(), self.current_truth()
            # a panel shows its own state: no progress bar in its output
            res = simulate(plan, int(self.n_trials.value), seed=self.seed, truth=sc, progress=False)
        except ValueError as exc:
            self.error = str(exc)
            self.message.value = f"<p style='color:#b00020'><b>Cannot simulate:</b> {esc(str(exc))}</p>"
            self.export.refresh()
            return
        analytic = schoenfeld_power(res.mean_events, sc.hazard_ratio, plan.analysis.alpha)
        self.elapsed = time.perf_counter() - t0
        self.error = ""
        self.message.value = ""
        self.truth, self.result = sc, res
        label = "Type-I error" if sc.is_null else "Power"
        shown = res.rejection() if sc.is_null else res.power
        self.power_display.value = (
            f"<div style='font-size:1.6em'><b>{label} {fmt_pct(shown)}</b></div>"
            f"<div>95% Monte-Carlo interval {fmt_pct(max(shown - 1.96 * res.mc_se(shown), 0.0))} to "
            f"{fmt_pct(min(shown + 1.96 * res.mc_se(shown), 1.0))}; "
            f"Monte-Carlo SE {fmt_pct(res.mc_se(shown))} ({fmt_n(res.n_trials)} trials, seed {self.seed}, "
            f"{esc(res.analysis)} analysis)</div>"
            + failure_warning_html(res)
        )
        hr = res.hazard_ratio
        q05, q95 = np.nanquantile(hr, [0.05, 0.95])
        self.details.value = (
            "<table>"
            f"<tr><td>Median estimated HR (5th-95th percentile)</td><td style='text-align:right'>"
            f"{fmt_hr(float(np.nanmedian(hr)))} ({fmt_num(float(q05), 2)}-{fmt_num(float(q95), 2)})</td></tr>"
            f"<tr><td>Mean {self.base.analysis.deaths_words()} analysed</td><td style='text-align:right'>"
            f"{fmt_num(res.mean_events, 1)}</td></tr>"
            f"<tr><td>Expected duration (to the final analysis)</td><td style='text-align:right'>"
            f"{fmt_months(res.mean_months)}</td></tr>"
            f"<tr><td>Schoenfeld power at these deaths and the true HR</td>"
            f"<td style='text-align:right'>{fmt_pct(analytic)}</td></tr>"
            "</table>"
            "<div class='trialnb-timing' style='color:#666;font-size:0.85em'>"
            f"{fmt_num(self.elapsed, 2)} s per update</div>"
        )
        self.histogram.value = hr_histogram_svg(hr, res.reject[res.analysis], sc.hazard_ratio)
        self.export.refresh()


def build_dashboard(**kwargs: Any) -> W.VBox:
    """The explorer's root widget (for Voilà or a notebook cell)."""
    return OCExplorer(**kwargs).root
