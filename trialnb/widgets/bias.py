"""BiasExplorer: move the strength of each bias mechanism and watch the forest plot of all
analyses (naive, adjusted, landmark, time-varying, randomized) move with it.

The callback calls :func:`trialnb.bias.simulate_registry` and :func:`trialnb.bias.compare_analyses`
(numpy Cox engine, a small cohort, results cached per slider setting) and only assigns the
results: the table to an ``HTML`` widget and the forest plot to an ``Output``.
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from typing import Any, Mapping

import ipywidgets as W
import matplotlib.pyplot as plt
import pandas as pd

from .. import bias
from ..plots import STYLE_FILE, analyses_forest
from ..errors import BiasParameterError, SettingsError
from ..report import fmt_hr
from ..validation import check_int, check_seed
from .export import ExportBox, check_values

__all__ = ["BiasExplorer", "build_dashboard", "result_html"]

_SLIDERS = {
    # name: (description, min, max, step, tooltip)
    "selection": ("Selection", 0.0, 2.0, 0.1, "log-odds of surgery per unit of baseline log-hazard"),
    "immortal_time": ("Immortal time (months)", 0.0, 12.0, 0.5, "mean delay from diagnosis to surgery"),
    "stage_migration": ("Stage migration", 0.0, 0.3, 0.01,
                        "fraction of the registry found stage IV only after surgery"),
    "co_treatment": ("Co-treatment", 0.0, 0.8, 0.05, "extra chemotherapy probability in surgical candidates"),
    "coding_errors": ("Coding errors", 0.0, 0.2, 0.01, "fraction of stage I-III patients miscoded as stage IV"),
}


FOREST_XLIM = (0.18, 3.2)
"""Fixed hazard-ratio range of the explorer's forest plot (0.2 to 3 labelled): the axis stays
put while the sliders move, so a shift of an estimate is seen as a shift."""


@lru_cache(maxsize=64)
def _cached(n: int, seed: int, true_hr: float, strengths: tuple[tuple[str, float], ...]) -> pd.DataFrame:
    cohort = bias.simulate_registry(n, seed, hazard_ratio=true_hr, **dict(strengths))
    return bias.compare_analyses(cohort, seed=seed)


def result_html(result: pd.DataFrame, true_hr: float) -> str:
    """The analyses' hazard ratios as a small HTML table (numbers via trialnb.report)."""
    rows = "".join(
        f"<tr><td>{label}</td><td>{fmt_hr(hr, lo, hi)}</td></tr>"
        for label, hr, lo, hi in zip(result["label"], result["hazard_ratio"], result["ci_lower"], result["ci_upper"],
                                     strict=True)
    )
    return (f"<table class='trialnb-bias-table'><tr><th>Analysis</th><th>Hazard ratio, surgery vs none "
            f"(true {fmt_hr(true_hr)})</th></tr>{rows}</table>")


class BiasExplorer:
    """Sliders for each mechanism's strength and the true HR; a forest plot of all analyses.

    Attributes: ``sliders`` (dict name -> FloatSlider, names as in ``bias.MECHANISMS`` plus
    ``"hazard_ratio"``), ``table`` (HTML), ``plot`` (Output), ``result`` (latest
    DataFrame from :func:`trialnb.bias.compare_analyses`), ``export`` (save, load, report and
    reproduce: :class:`~trialnb.widgets.export.ExportBox`), ``root`` (the panel).
    """

    def __init__(self, n: int = 3000, seed: int = 2026, *, draw: bool = True) -> None:
        check_int(n, "n", minimum=200, error=BiasParameterError)
        check_seed(seed, error=BiasParameterError)
        self.n, self.seed, self.draw = n, seed, draw
        style = {"description_width": "170px"}
        layout = W.Layout(width="430px")
        self.sliders: dict[str, W.FloatSlider] = {}
        for name, (desc, lo, hi, step, tip) in _SLIDERS.items():
            self.sliders[name] = W.FloatSlider(value=bias.DEFAULTS[name], min=lo, max=hi, step=step,
                                               description=desc, tooltip=tip, continuous_update=False,
                                               style=style, layout=layout, readout_format=".2f")
        self.sliders["hazard_ratio"] = W.FloatSlider(
            value=1.0, min=0.4, max=1.5, step=0.05, description="True HR of surgery", continuous_update=False,
            style=style, layout=layout, readout_format=".2f")
        self.reset = W.Button(description="All mechanisms off", layout=W.Layout(width="200px"))
        self.defaults = W.Button(description="Notebook defaults", layout=W.Layout(width="200px"))
        self.table = W.HTML().add_class("trialnb-bias-result")
        self.plot = W.Output().add_class("trialnb-bias-plot")
        self.result: pd.DataFrame | None = None
        for s in self.sliders.values():
            s.observe(self._on_change, names="value")
        self.reset.on_click(lambda _: self.set_strengths({m: 0.0 for m in bias.MECHANISMS}))
        self.defaults.on_click(lambda _: self.set_strengths(bias.DEFAULTS))
        note = W.HTML(f"<small>Simulated registry of {n:,} patients coded stage IV (seed {seed}); "
                      "the randomized comparison re-randomizes the same patients.</small>")
        controls = W.VBox([*self.sliders.values(), W.HBox([self.reset, self.defaults]), note],
                          layout=W.Layout(flex="0 0 auto", width="450px"))
        results = W.VBox([self.plot, self.table], layout=W.Layout(flex="1 1 0%", min_width="560px"))
        self.export = ExportBox("bias", self.panel_settings, self.apply_settings, lambda: self.root)
        self.root = W.VBox([W.HBox([controls, results], layout=W.Layout(flex_flow="row wrap")),
                            self.export.root]).add_class("trialnb-bias")
        self._busy = False
        self.update()

    def panel_settings(self) -> dict[str, Any]:
        """Every slider's value with the cohort's size and seed (the settings file)."""
        return {**{name: float(s.value) for name, s in self.sliders.items()}, "n": self.n, "seed": self.seed}

    def apply_settings(self, settings: Mapping[str, Any]) -> None:
        """Set the sliders (refusing a value a slider does not accept, another cohort) and
        recompute once."""
        values = dict(settings)
        for key, mine in (("n", self.n), ("seed", self.seed)):
            if values.pop(key, mine) != mine:
                raise SettingsError(f"these settings are for a cohort with {key} = {settings[key]!r}, this panel's "
                                    f"has {mine}; build the panel with {key}={settings[key]!r}")
        self.set_strengths(check_values(self.sliders, values))

    def strengths(self) -> dict[str, float]:
        """Current mechanism strengths (without the true HR)."""
        return {m: float(self.sliders[m].value) for m in bias.MECHANISMS}

    def set_strengths(self, values: dict[str, float]) -> None:
        """Set several sliders at once and recompute once."""
        self._busy = True
        try:
            for k, v in values.items():
                self.sliders[k].value = v
        finally:
            self._busy = False
        self.update()

    def _on_change(self, _change: dict) -> None:
        if not self._busy:
            self.update()

    def update(self) -> pd.DataFrame:
        """Recompute the analyses for the current sliders and redraw; returns the result."""
        true_hr = float(self.sliders["hazard_ratio"].value)
        key = tuple(sorted(self.strengths().items()))
        self.result = _cached(self.n, self.seed, true_hr, key)
        self.table.value = result_html(self.result, true_hr)
        if self.draw:
            self._redraw(self.result, true_hr)
        self.export.refresh()
        return self.result

    def _redraw(self, result: pd.DataFrame, true_hr: float) -> None:
        with plt.style.context(str(STYLE_FILE)):
            fig, ax = plt.subplots(figsize=(6.5, 3.2))
            analyses_forest(result, true_hr, ax=ax, xlim=FOREST_XLIM)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        # assign the PNG as the Output's only item: works in a kernel, in Voila and headless
        self.plot.outputs = ({"output_type": "display_data", "metadata": {},
                              "data": {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"),
                                       "text/plain": "<forest plot of the analyses>"}},)


def build_dashboard(n: int = 3000, seed: int = 2026) -> W.Widget:
    """The BiasExplorer's root widget, for a Voilà dashboard."""
    return BiasExplorer(n=n, seed=seed).root
