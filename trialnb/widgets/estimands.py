"""Estimands explorer: pick a hazard shape, see the true curves, the estimands and the power
of each analysis.

:class:`EstimandsExplorer` wires controls (shape, arm-A non-operation, trials per update) to
pure functions only: :func:`trialnb.simulation.design_curves` (inline SVG of the
survival curves), :func:`trialnb.simulation.true_estimands` and
:func:`trialnb.simulation.simulate` with the analyses of :data:`trialnb.simulation.ANALYSES`
on the same simulated trials. Controls update on release.
"""

from __future__ import annotations

from typing import Any, Mapping

import ipywidgets as W
import numpy as np

from ..errors import SettingsError
from ..plan import PLAN, DesignAssumptions
from ..reproduce import ESTIMAND_ANALYSES
from ..simulation import ANALYSIS_LABELS, SHAPES, SimulationResult, design_curves, simulate, true_estimands
from ..plots import ARM_COLORS
from ..report import fmt_num, fmt_pct
from .export import ExportBox, SettingsPanel
from .svg import esc, frame, grid_line

__all__ = ["EstimandsExplorer", "build_dashboard", "curves_svg"]

_ANALYSES = ESTIMAND_ANALYSES
"""The analyses the explorer compares on the same simulated trials (the plan's endpoint)."""


def curves_svg(scenario: DesignAssumptions, width: int = 420, height: int = 220, horizon: float = 36.0) -> str:
    """Inline SVG of the true survival curves of arm A (blue) and B (red) to ``horizon`` months:
    y axis from 0 to 1, the 24-month milestone marked, each curve named at its end."""
    c = design_curves(scenario, np.linspace(0, horizon, 145))
    pad = 30

    def path(y: np.ndarray) -> str:
        xs = pad + (width - 2 * pad) * c["time"].to_numpy() / horizon
        ys = height - pad - (height - 2 * pad) * y
        return "M" + " L".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))

    x24 = pad + (width - 2 * pad) * 24 / horizon
    parts = frame(width, height, pad, pad, width - 2 * pad, height - 2 * pad, "True survival, A and B",
                  "true survival curves")
    parts += [grid_line(x24, x24, pad, height - pad, "#999999"),
              f'<path d="{path(c["survival_a"].to_numpy())}" fill="none" stroke="{ARM_COLORS["A"]}" stroke-width="2"/>',
              f'<path d="{path(c["survival_b"].to_numpy())}" fill="none" stroke="{ARM_COLORS["B"]}" stroke-width="2"/>',
              f'<text x="{pad}" y="{height - 8}" font-size="11">0</text>',
              f'<text x="{x24 - 8:.1f}" y="{height - 8}" font-size="11">24 months</text>',
              f'<text x="4" y="{pad + 4}" font-size="11">1</text>',
              f'<text x="4" y="{height - pad + 4}" font-size="11">0</text>']
    for arm, words in (("A", "A: surgery"), ("B", "B: systemic only")):
        end = float(c[f"survival_{arm.lower()}"].iloc[-1])
        parts.append(f'<text x="{width - pad - 4}" y="{height - pad - (height - 2 * pad) * end - 5:.1f}" '
                     f'font-size="11" text-anchor="end" fill="{ARM_COLORS[arm]}">{words}</text>')
    parts.append("</svg>")
    return "".join(parts)


class EstimandsExplorer(SettingsPanel):
    """Controls: ``shape`` (a key of SHAPES), ``non_compliance`` (fraction of arm A never
    operated), ``n_trials``. Outputs: ``curves`` (SVG), ``estimands`` and ``power`` (HTML
    tables); ``result`` is the last :class:`SimulationResult`."""

    def __init__(self, n_trials: int = 1000, seed: int = 0) -> None:
        self.seed = int(seed)
        wide = {"description_width": "initial"}  # labels in full, not cut to the default width
        self.shape = W.Dropdown(options=list(SHAPES), value="proportional", description="Hazard shape", style=wide)
        self.non_compliance = W.FloatSlider(value=0.0, min=0.0, max=0.6, step=0.05, description="A not operated",
                                            continuous_update=False, readout_format=".0%", style=wide)
        self.n_trials = W.IntSlider(value=int(n_trials), min=200, max=5000, step=200, description="Trials",
                                    continuous_update=False, style=wide)
        self.curves, self.estimands, self.power = W.HTML(), W.HTML(), W.HTML()
        for w, css in ((self.curves, "curves"), (self.estimands, "truth"), (self.power, "power")):
            w.add_class(f"trialnb-estimands-{css}")
        self.result: SimulationResult | None = None
        self.named: dict[str, W.Widget] = {"shape": self.shape, "non_compliance": self.non_compliance,
                                           "n_trials": self.n_trials}
        for w in self.named.values():
            w.observe(self._update, names="value")
        self.export = ExportBox("estimands", self.panel_settings, self.apply_settings, lambda: self.root)
        self.root = W.VBox([W.HBox([self.shape, self.non_compliance, self.n_trials]),
                            W.HBox([self.curves, W.VBox([self.estimands, self.power])]), self.export.root])
        self.root.add_class("trialnb-estimands")
        self._busy = False
        self._update()

    def panel_settings(self) -> dict[str, Any]:
        """The control values and the seed (the settings file)."""
        return {**{name: w.value for name, w in self.named.items()}, "seed": self.seed}

    def apply_settings(self, settings: Mapping[str, Any]) -> None:
        """Set the controls (refusing a value a control does not accept, another seed) and
        simulate once."""
        values = dict(settings)
        seed = values.pop("seed", self.seed)
        if seed != self.seed:
            raise SettingsError(f"these settings simulate with seed {seed!r}, this panel with {self.seed}")
        self.set_controls(values)

    @property
    def scenario(self) -> DesignAssumptions:
        """The true design: the plan's, with the chosen shape and non-operation."""
        return PLAN.with_changes(**SHAPES[self.shape.value], non_compliance=float(self.non_compliance.value)).design

    def _update(self, *_: object) -> None:
        if self._busy:
            return
        sc = self.scenario
        self.curves.value = curves_svg(sc)
        te = true_estimands(sc)
        self.estimands.value = (
            "<table><tr><th>True estimand (24 months)</th><th></th></tr>"
            f"<tr><td>2-year survival A / B</td><td>{fmt_pct(te['survival_a'])} / {fmt_pct(te['survival_b'])}</td></tr>"
            f"<tr><td>Milestone difference</td><td>{fmt_num(100 * te['milestone_difference'], 1)} points</td></tr>"
            f"<tr><td>RMST difference</td><td>{fmt_num(te['rmst_difference'], 2)} months</td></tr></table>")
        self.result = simulate(PLAN, int(self.n_trials.value), seed=self.seed, truth=sc, analyses=_ANALYSES,
                               progress=False)  # a panel: no bar in its output
        t = self.result.to_frame()
        rows = "".join(f"<tr><td>{esc(ANALYSIS_LABELS[str(k)])}</td><td>{fmt_pct(r.benefit)}</td>"
                       f"<td>{fmt_pct(r.harm)}</td><td>{fmt_pct(r.benefit_se)}</td></tr>" for k, r in t.iterrows())
        self.power.value = ("<table><tr><th style='text-align:left'>Analysis (two-sided 5%)</th>"
                            "<th>&nbsp;Finds benefit&nbsp;</th><th>&nbsp;Finds harm&nbsp;</th>"
                            f"<th>&nbsp;MC SE&nbsp;</th></tr>{rows}</table>")
        self.export.refresh()


def build_dashboard(**kwargs: Any) -> W.Widget:
    """The explorer's root widget, for a Voila dashboard."""
    return EstimandsExplorer(**kwargs).root
