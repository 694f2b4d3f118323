"""Evidence explorer: pick the randomized trials and a prior, see the pooled hazard ratio, the
probability of success of the protocol's design and the deaths it would take.

:class:`EvidenceExplorer` builds the controls and outputs; its one callback reads the controls,
calls :func:`trialnb.evidence.pool_trials`, :func:`trialnb.assurance.assurance` and
:func:`trialnb.assurance.what_it_would_take`, and assigns the results (HTML numbers and the
forest plot of :func:`trialnb.plots.evidence_forest` as a PNG) to output widgets. An update takes
about a quarter of a second (most of it drawing the forest plot).
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any, Mapping

import ipywidgets as W
import matplotlib.pyplot as plt

from .. import assurance as A
from .. import evidence as ev
from ..errors import SettingsError
from ..monitoring import plan_benefit_design, plan_max_events
from ..plan import PLAN
from ..plots import STYLE_FILE, evidence_forest
from ..protocol import PROTOCOL
from ..report import fmt_n, fmt_num, fmt_pct
from .export import ExportBox, SettingsPanel
from .svg import esc

__all__ = ["FOREST_XLIM", "EvidenceExplorer", "build_dashboard"]

FOREST_XLIM = (0.2, 3.5)
"""Fixed hazard-ratio range of the explorer's forest plot (the axis stays put as trials are picked)."""

_STYLE = {"description_width": "190px"}
_WIDTH = "430px"
_PRIORS = (("pooled: the trials picked", "pooled"), ("sceptical (Spiegelhalter)", "sceptical"),
           ("enthusiastic (Spiegelhalter)", "enthusiastic"), ("your own", "user"))
_REALISTIC = 100_000  # deaths beyond which the panel says no trial could have them
_METHODS = (("REML", "REML"), ("DerSimonian-Laird", "DL"), ("Paule-Mandel", "PM"), ("fixed effect", "FE"))



class EvidenceExplorer(SettingsPanel):
    """Controls: one checkbox per randomized trial (``trials``, keyed as
    :data:`trialnb.evidence.RANDOMIZED_TRIALS`), ``method`` and ``hksj`` of the meta-analysis,
    ``prior`` (the predictive distribution of the trials picked, sceptical, enthusiastic or your
    own: ``user_hr`` and ``user_sd``), ``design`` (the protocol's fixed design with 66 deaths or
    the interim plan of notebook 05) and ``target`` (the probability of success to reach).
    Outputs: ``pooled`` (CSS class ``trialnb-evidence-pooled``), ``pos`` (``trialnb-evidence-pos``),
    ``needed`` (``trialnb-evidence-needed``), ``plot`` (``trialnb-evidence-plot``), ``message``;
    ``root`` is the panel (``trialnb-evidence``). The latest results are ``meta``,
    ``prior_used``, ``result`` (:class:`trialnb.assurance.Assurance`) and ``take``
    (:class:`trialnb.assurance.WhatItWouldTake`); ``error`` holds the last input problem."""

    def __init__(self, *, draw: bool = True) -> None:
        self.draw = draw
        self.events = plan_max_events(PLAN)
        self.plan = plan_benefit_design(PLAN)
        layout = W.Layout(width=_WIDTH)
        self.trials: dict[str, W.Checkbox] = {
            k: W.Checkbox(value=True, description=f"{ev.study(k).study} ({ev.study(k).randomized_at})", indent=False,
                          layout=layout)
            for k in ev.RANDOMIZED_TRIALS}
        self.method = W.Dropdown(options=_METHODS, value="REML", description="Meta-analysis", style=_STYLE,
                                 layout=layout)
        self.hksj = W.Checkbox(value=False, description="Knapp-Hartung adjustment", indent=False, layout=layout)
        self.prior = W.Dropdown(options=_PRIORS, value="pooled", description="Prior for the true HR", style=_STYLE,
                                layout=layout)
        self.user_hr = W.FloatSlider(value=0.8, min=0.3, max=1.5, step=0.01, description="Your prior: median HR",
                                     readout_format=".2f", continuous_update=False, style=_STYLE, layout=layout)
        self.user_sd = W.FloatSlider(value=0.2, min=0.02, max=1.0, step=0.01, description="Your prior: SD of ln HR",
                                     readout_format=".2f", continuous_update=False, style=_STYLE, layout=layout)
        self.design = W.ToggleButtons(options=(("fixed design", "fixed"), ("interim plan", "plan")), value="fixed",
                                      description="Design", style=_STYLE)
        self.target = W.FloatSlider(value=0.5, min=0.2, max=0.9, step=0.05, description="Target probability of success",
                                    readout_format=".2f", continuous_update=False, style=_STYLE, layout=layout)
        self.controls: tuple[W.Widget, ...] = (*self.trials.values(), self.method, self.hksj, self.prior, self.user_hr,
                                               self.user_sd, self.design, self.target)
        self.pooled = W.HTML().add_class("trialnb-evidence-pooled")
        self.pos = W.HTML().add_class("trialnb-evidence-pos")
        self.needed = W.HTML().add_class("trialnb-evidence-needed")
        self.message = W.HTML().add_class("trialnb-message")
        self.plot = W.Output().add_class("trialnb-evidence-plot")
        note = W.HTML(f"<small>Deaths at the analysis: {fmt_n(self.events)} (the protocol's; the interim plan looks "
                      "at half of them). Patients: everyone followed two years, 10% loss; centres at the protocol's "
                      "one-centre rate.</small>", layout=layout)
        picks = W.VBox([W.HTML("<b>Randomized trials pooled</b>"), *self.trials.values()])
        controls = W.VBox([picks, self.method, self.hksj, self.prior, self.user_hr, self.user_sd, self.design,
                           self.target, note], layout=W.Layout(flex="0 0 auto", width="450px"))
        results = W.VBox([self.pos, self.pooled, self.needed, self.message, self.plot],
                         layout=W.Layout(flex="1 1 0%", min_width="560px"))
        self.named: dict[str, W.Widget] = {"method": self.method, "hksj": self.hksj, "prior": self.prior,
                                           "user_hr": self.user_hr, "user_sd": self.user_sd, "design": self.design,
                                           "target": self.target}
        self.export = ExportBox("evidence", self.panel_settings, self.apply_settings, lambda: self.root)
        self.root = W.VBox([W.HTML("<h3>What can this trial show?</h3>"),
                            W.HBox([controls, results], layout=W.Layout(flex_flow="row wrap")),
                            self.export.root]).add_class("trialnb-evidence")
        self.meta: ev.MetaAnalysis | None = None
        self.prior_used: A.Prior | None = None
        self.result: A.Assurance | None = None
        self.take: A.WhatItWouldTake | None = None
        self.error = ""
        self._busy = False
        for c in self.controls:
            c.observe(self._update, names="value")
        self._update()

    def panel_settings(self) -> dict[str, Any]:
        """The trials ticked (``trials``, keys of :data:`trialnb.evidence.RANDOMIZED_TRIALS`) and
        every other control's value (the settings file)."""
        return {"trials": self.picked(), **{name: w.value for name, w in self.named.items()}}

    def apply_settings(self, settings: Mapping[str, Any]) -> None:
        """Tick the saved trials and set the controls (refusing an unknown trial or a value a
        control does not accept) and compute once."""
        values = dict(settings)
        trials = values.pop("trials", None)
        if trials is not None and (not isinstance(trials, list) or any(t not in self.trials for t in trials)):
            raise SettingsError(f"setting trials must list trials of {sorted(self.trials)}, got {trials!r}")

        def tick() -> None:
            if trials is not None:
                for key, box in self.trials.items():
                    box.value = key in trials

        self.set_controls(values, also=tick)

    def picked(self) -> list[str]:
        """Keys of the trials ticked."""
        return [k for k, box in self.trials.items() if box.value]

    def _update(self, change: Any = None) -> None:
        """Callback: pure computation, then assignments only."""
        if self._busy:
            return
        self._compute()
        self.export.refresh()

    def _compute(self) -> None:
        user = self.prior.value == "user"
        self.user_hr.disabled = self.user_sd.disabled = not user
        self.hksj.disabled = self.method.value == "FE"
        hksj = bool(self.hksj.value) and self.method.value != "FE"
        try:
            meta = ev.pool_trials(self.picked(), method=self.method.value, hksj=hksj)
        except ValueError as exc:
            meta = None
            meta_error = str(exc)
        else:
            meta_error = ""
        try:
            if self.prior.value == "pooled":
                if meta is None:
                    raise ValueError(f"the pooled prior needs a meta-analysis: {meta_error}")
                prior = A.predictive_prior(meta, "pooled", f"pooled {len(self.picked())} trials")
            elif self.prior.value == "sceptical":
                prior = A.sceptical_prior()
            elif self.prior.value == "enthusiastic":
                prior = A.enthusiastic_prior()
            else:
                prior = A.Prior("user", math.log(self.user_hr.value), self.user_sd.value, "your own prior")
            res = A.assurance(events=self.events, prior=prior,
                              design=self.plan if self.design.value == "plan" else None)
            take = A.what_it_would_take(prior, assurance_target=float(self.target.value))
        except ValueError as exc:
            self.error = str(exc)
            self.message.value = f"<p style='color:#b00020'><b>Cannot compute:</b> {esc(str(exc))}</p>"
            self.pos.value = "<div style='font-size:1.5em'>Probability of success: —</div>"
            self.needed.value = ""
            self.pooled.value = self._pooled_html(meta)
            self.plot.outputs = ()
            self.meta, self.result, self.take = meta, None, None
            return
        self.error = ""
        self.message.value = "" if not meta_error else f"<p style='color:#555'>{esc(meta_error)}</p>"
        self.meta, self.prior_used, self.result, self.take = meta, prior, res, take
        self.pos.value = self._pos_html(res)
        self.pooled.value = self._pooled_html(meta)
        self.needed.value = self._needed_html(take)
        if self.draw:
            self._redraw(meta)

    def _pos_html(self, r: A.Assurance) -> str:
        p = r.prior
        lo, hi = p.interval()
        return (f"<div style='font-size:1.5em'><b>Probability of success: {fmt_pct(r.probability_of_success)}</b></div>"
                f"<div>{fmt_pct(r.success_with_benefit)} with a true benefit, {fmt_pct(r.success_without_benefit)} "
                f"false positive; power at the prior's median HR {fmt_num(p.hazard_ratio, 2)}: "
                f"{fmt_pct(r.power_at_prior_mean)}; P(true HR &lt; 1) = {fmt_pct(r.probability_benefit)}</div>"
                f"<div style='color:#555'>Prior: {esc(p.label)}, HR {fmt_num(p.hazard_ratio, 2)} (95% "
                f"{fmt_num(lo, 2)} to {fmt_num(hi, 2)}); {esc(r.design)}</div>")

    @staticmethod
    def _pooled_html(m: ev.MetaAnalysis | None) -> str:
        if m is None:
            return "<p>Pick at least two trials to pool them.</p>"
        lvl = round(m.level * 100)
        return (f"<p><b>Pooled HR {fmt_num(m.hazard_ratio, 2)}</b> ({lvl}% CI {fmt_num(m.ci_lower, 2)} to "
                f"{fmt_num(m.ci_upper, 2)}), {esc(m.describe())}, {fmt_n(m.k)} trials; τ² = {fmt_num(m.tau2, 3)}, "
                f"I² = {fmt_pct(m.i2 / 100, 0)}; a new trial's HR: {fmt_num(m.pi_lower, 2)} to "
                f"{fmt_num(m.pi_upper, 2)} ({lvl}% prediction interval)</p>")

    @staticmethod
    def _needed_html(t: A.WhatItWouldTake) -> str:
        if not math.isfinite(t.events_for_power):
            pw = "impossible: the prior's median HR is not below 1"
        elif t.events_for_power > _REALISTIC:
            pw = f"more than {fmt_n(_REALISTIC)} deaths ({fmt_n(t.events_for_power)}): no trial could"
        else:
            pw = (f"{fmt_n(t.events_for_power)} deaths, {fmt_n(t.patients_for_power)} patients, "
                  f"{A.centres_text(t.centres_for_power)}")
        ev_a, n_a, c_a = t.events_for_assurance, t.patients_for_assurance, t.centres_for_assurance
        if ev_a is not None and n_a is not None and c_a is not None:  # reachable: all three are set
            asr = f"{fmt_n(ev_a)} deaths, {fmt_n(n_a)} patients, {A.centres_text(c_a)}"
        else:
            asr = f"unreachable: no number of deaths gives more than P(true HR &lt; 1) = {fmt_pct(t.assurance_ceiling)}"
        return ("<table>"
                f"<tr><td>{fmt_pct(t.power, 0)} power at HR {fmt_num(t.hazard_ratio, 2)}</td><td><b>{pw}</b></td></tr>"
                f"<tr><td>{fmt_pct(t.assurance_target, 0)} probability of success</td><td><b>{asr}</b></td></tr>"
                "</table>")

    def _redraw(self, meta: ev.MetaAnalysis | None) -> None:
        if meta is None:
            self.plot.outputs = ()
            return
        with plt.style.context(str(STYLE_FILE)):
            fig, ax = plt.subplots(figsize=(7.4, 0.42 * (meta.k + 2) + 1.3))
            evidence_forest(meta, design_hr=PROTOCOL.design.hazard_ratio, ax=ax, xlim=FOREST_XLIM,
                            title="The trials picked, pooled")
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
        plt.close(fig)
        self.plot.outputs = ({"output_type": "display_data", "metadata": {},
                              "data": {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"),
                                       "text/plain": "<forest plot of the trials picked>"}},)


def build_dashboard(**kwargs: Any) -> W.Widget:
    """The explorer's root widget, for the Voilà dashboard."""
    return EvidenceExplorer(**kwargs).root
