"""Sample-size explorer: move the design assumptions, see events, N and power change.

:class:`SampleSizeExplorer` builds the controls and outputs; its one callback reads the
controls, calls the pure functions of :mod:`trialnb.sample_size` and assigns the results
to output widgets. The power curve is drawn as a small inline SVG (no matplotlib round trip),
so an update takes a few milliseconds and works the same in JupyterLab and Voilà.

Time unit: months. The control arm is given by its 2-year survival (exponential, hazard
``-ln S / 24`` per month); drop-out as the proportion lost to a competing drop-out process
by 2 years (hazard ``-ln(1 - p) / 24``).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import ipywidgets as W
import numpy as np

from ..protocol import PROTOCOL
from ..report import fmt_n, fmt_num, fmt_pct
from ..sample_size import SampleSize, hazard_from_survival, power_curve, sample_size
from .svg import esc, frame, SVG_GRID

__all__ = ["HR_GRID", "SampleSizeExplorer", "build_dashboard", "power_curve_svg", "protocol_note_html"]

HORIZON = PROTOCOL.design.horizon_months  # 24 months: the 2-year horizon of the endpoint
HR_GRID = np.round(np.linspace(0.30, 1.00, 71), 4)
"""Hazard ratios at which the explorer draws the power curve."""

_STYLE = {"description_width": "270px"}
_SLIDER_WIDTH = "520px"



def power_curve_svg(
    hazard_ratios: Sequence[float] | np.ndarray,
    powers: Sequence[float] | np.ndarray,
    design_hr: float,
    target_power: float,
    events: int,
    width: int = 460,
    height: int = 290,
) -> str:
    """An inline SVG line chart of power (y, 0-1) against hazard ratio (x), with the design
    hazard ratio marked and the target power dashed. Pure string building."""
    ml, mr, mt, mb = 52, 26, 32, 44  # right margin: room for the last x tick label
    x0, x1 = float(min(hazard_ratios)), float(max(hazard_ratios))
    pw, ph = width - ml - mr, height - mt - mb

    def X(v: float) -> float:
        return ml + (v - x0) / (x1 - x0) * pw

    def Y(v: float) -> float:
        return mt + (1 - v) * ph

    pts = " ".join(f"{X(h):.1f},{Y(p):.1f}" for h, p in zip(hazard_ratios, powers, strict=True))
    parts = frame(width, height, ml, mt, pw, ph, f"Power with {fmt_n(events)} events", "Power curve",
                  css_class="trialnb-power-curve")
    for v in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        parts.insert(1, f"<line x1='{ml}' x2='{ml + pw}' y1='{Y(v):.1f}' y2='{Y(v):.1f}' stroke='{SVG_GRID}'/>")
        parts.append(
            f"<text x='{ml - 6}' y='{Y(v) + 4:.1f}' text-anchor='end' font-size='11'>{fmt_num(v, 1)}</text>"
        )
    for v in np.arange(math.ceil(x0 * 10) / 10, x1 + 1e-9, 0.1):
        parts.insert(1, f"<line x1='{X(v):.1f}' x2='{X(v):.1f}' y1='{mt}' y2='{mt + ph}' stroke='{SVG_GRID}'/>")
        parts.append(
            f"<text x='{X(v):.1f}' y='{mt + ph + 16}' text-anchor='middle' font-size='11'>{fmt_num(float(v), 1)}</text>"
        )
    parts += [
        f"<line x1='{ml}' x2='{ml + pw}' y1='{Y(target_power):.1f}' y2='{Y(target_power):.1f}' "
        "stroke='#555' stroke-dasharray='5,4'/>",
        f"<polyline points='{pts}' fill='none' stroke='#1b6ca8' stroke-width='2.2'/>",
    ]
    if x0 <= design_hr <= x1:
        parts.append(
            f"<line x1='{X(design_hr):.1f}' x2='{X(design_hr):.1f}' y1='{mt}' y2='{mt + ph}' stroke='#d1495b'/>"
        )
    parts += [
        f"<text x='{ml + pw / 2:.0f}' y='{height - 8}' text-anchor='middle' font-size='12'>"
        "True hazard ratio, arm A vs arm B (red: design value)</text>",
        f"<text transform='translate(14,{mt + ph / 2:.0f}) rotate(-90)' text-anchor='middle' font-size='12'>"
        "Power (dashed: target)</text>",
        "</svg>",
    ]
    return "".join(parts)


class SampleSizeExplorer:
    """A panel of design controls with events, N, per-arm N and a power curve.

    Controls (attributes, set ``.value`` to drive it headless): ``alpha``, ``power``,
    ``hazard_ratio``, ``control_survival`` (2-year), ``accrual`` and ``follow_up``
    (months), ``dropout_probability`` (probability of drop-out by 2 years, converted to the
    exponential ``dropout_hazard``), ``loss_to_follow_up`` (the fraction N is inflated by),
    ``allocation_ratio`` (n_A / n_B), ``method``, ``sided``.
    Outputs: ``n_display`` (CSS class ``trialnb-n-total``), ``summary``, ``curve``,
    ``steps``, ``message``; ``root`` is the whole panel (CSS class ``trialnb-sample-size``).
    The latest :class:`~trialnb.sample_size.SampleSize` is ``result`` and the power curve
    values ``curve_power`` (at :data:`HR_GRID`); ``error`` holds the last input problem.
    """

    def __init__(self, **initial: Any) -> None:
        d = PROTOCOL.design
        v: dict[str, Any] = dict(
            alpha=d.alpha, power=d.power, hazard_ratio=d.hazard_ratio,
            control_survival=d.control_survival_exact, accrual=0.0, follow_up=d.horizon_months,
            dropout_probability=0.0, loss_to_follow_up=d.loss_to_follow_up, allocation_ratio=d.allocation_ratio,
            method="schoenfeld", sided=d.sided,
        )
        unknown = set(initial) - set(v)
        if unknown:
            raise ValueError(f"unknown initial setting(s) {sorted(unknown)}; allowed: {sorted(v)}")
        v.update(initial)

        def fs(desc: str, value: float, lo: float, hi: float, step: float, fmt: str) -> W.FloatSlider:
            # The browser's slider snaps its value to min + k * step and sends that back, so a
            # starting value off the grid (exp(-0.5) = 0.60653 with step 0.001) would silently
            # become 0.607. The grid is anchored at the starting value instead: the slider
            # carries it exactly (the readout rounds it for display only).
            lo = value - math.floor((value - lo) / step + 1e-9) * step if lo <= value <= hi else lo
            return W.FloatSlider(value=value, min=lo, max=hi, step=step, description=desc,
                                 readout_format=fmt, continuous_update=True, style=_STYLE,
                                 layout=W.Layout(width=_SLIDER_WIDTH))

        self.alpha = fs("Significance level α", v["alpha"], 0.005, 0.20, 0.005, ".3f")
        self.power = fs("Power (1 − β)", v["power"], 0.50, 0.99, 0.01, ".2f")
        self.hazard_ratio = fs("Hazard ratio A vs B", v["hazard_ratio"], 0.30, 0.95, 0.01, ".2f")
        self.control_survival = fs("Control 2-year survival", v["control_survival"], 0.20, 0.95, 0.001, ".3f")
        self.accrual = fs("Accrual (months)", v["accrual"], 0.0, 72.0, 1.0, ".0f")
        self.follow_up = fs("Follow-up after accrual (months)", v["follow_up"], 1.0, 72.0, 1.0, ".0f")
        self.dropout_probability = fs("Drop-out by 2 years", v["dropout_probability"], 0.0, 0.40, 0.01, ".2f")
        self.loss_to_follow_up = fs("Loss to follow-up (inflation)", v["loss_to_follow_up"], 0.0, 0.40, 0.01, ".2f")
        self.allocation_ratio = fs("Allocation ratio n_A / n_B", v["allocation_ratio"], 0.5, 3.0, 0.25, ".2f")
        self.method = W.ToggleButtons(options=[("Schoenfeld", "schoenfeld"), ("Freedman", "freedman")],
                                      value=v["method"], description="Events formula", style=_STYLE)
        self.sided = W.ToggleButtons(options=[("two-sided", 2), ("one-sided", 1)], value=v["sided"],
                                     description="Test", style=_STYLE)
        self.controls: tuple[W.Widget, ...] = (
            self.alpha, self.power, self.hazard_ratio, self.control_survival, self.accrual,
            self.follow_up, self.dropout_probability, self.loss_to_follow_up, self.allocation_ratio, self.method,
            self.sided,
        )

        self.n_display = W.HTML().add_class("trialnb-n-total")
        self.summary = W.HTML().add_class("trialnb-sample-size-summary")
        self.curve = W.HTML().add_class("trialnb-power-curve")
        self.message = W.HTML().add_class("trialnb-message")
        self.steps = W.HTML()
        steps_box = W.Accordion(children=[self.steps], titles=("Calculation steps",))
        self.root = W.VBox(
            [
                W.HTML("<h3>Sample-size explorer</h3>"),
                W.HBox([W.VBox([*self.controls, W.HTML(protocol_note_html())]),
                        W.VBox([self.n_display, self.summary, self.message, self.curve])]),
                steps_box,
            ]
        ).add_class("trialnb-sample-size")

        self.result: SampleSize | None = None
        self.curve_power: np.ndarray | None = None
        self.error: str = ""
        for c in self.controls:
            c.observe(self._update, names="value")
        self._update()

    def settings(self) -> dict[str, Any]:
        """The current control values as keyword arguments of :func:`sample_size`."""
        return dict(
            hazard_ratio=self.hazard_ratio.value, alpha=self.alpha.value, power=self.power.value,
            allocation_ratio=self.allocation_ratio.value, sided=self.sided.value, method=self.method.value,
            control_hazard=hazard_from_survival(self.control_survival.value, HORIZON),
            accrual_time=self.accrual.value, follow_up_time=self.follow_up.value,
            dropout_hazard=-math.log1p(-self.dropout_probability.value) / HORIZON,
            loss_to_follow_up=self.loss_to_follow_up.value,
        )

    def _update(self, change: Any = None) -> None:
        """Callback: pure computation, then assignments only."""
        try:
            kw = self.settings()
            res = sample_size(**kw)
            curve = power_curve(res.events_rounded, HR_GRID, kw["alpha"], kw["allocation_ratio"], kw["sided"],
                                kw["method"])
        except ValueError as exc:
            self.error = str(exc)
            self.message.value = f"<p style='color:#b00020'><b>Cannot compute:</b> {esc(str(exc))}</p>"
            return
        self.error = ""
        self.message.value = ""
        self.result, self.curve_power = res, curve
        self.n_display.value = (
            f"<div style='font-size:1.6em'><b>N = {fmt_n(res.n_total_after_loss)}</b> patients</div>"
            f"<div>{fmt_n(res.n_treatment_after_loss)} in arm A + {fmt_n(res.n_control_after_loss)} in arm B "
            f"(after {fmt_pct(kw['loss_to_follow_up'], 0)} loss)</div>"
        )
        self.summary.value = (
            "<table>"
            f"<tr><td>Events needed</td><td style='text-align:right'><b>{fmt_n(res.events_rounded)}</b> "
            f"({fmt_num(res.events, 2)} unrounded)</td></tr>"
            "<tr><td>Pr(event) per patient</td>"
            f"<td style='text-align:right'>{fmt_num(res.event_probability, 3)}</td></tr>"
            f"<tr><td>N before loss</td><td style='text-align:right'>{fmt_n(res.n_total_rounded)} "
            f"({fmt_n(res.n_treatment)} A + {fmt_n(res.n_control)} B; {fmt_num(res.n_total, 1)} unrounded)</td></tr>"
            f"<tr><td>Study duration</td><td style='text-align:right'>"
            f"{fmt_num(kw['accrual_time'] + kw['follow_up_time'], 0)} months</td></tr>"
            "</table>"
        )
        self.curve.value = power_curve_svg(HR_GRID, curve, kw["hazard_ratio"], kw["power"], res.events_rounded)
        self.steps.value = res._repr_html_()


def protocol_note_html() -> str:
    """Why the panel, opened at the protocol's design, shows N = 240 and survival 0.607 where the
    protocol prints 236 and 0.60: the sentence shown on screen under the controls."""
    d, st = PROTOCOL.design, PROTOCOL.stated
    exact = sample_size(d.hazard_ratio, d.alpha, d.power, d.allocation_ratio, d.sided, "schoenfeld",
                        control_hazard=hazard_from_survival(d.control_survival_exact, HORIZON),
                        accrual_time=0.0, follow_up_time=HORIZON, loss_to_follow_up=d.loss_to_follow_up)
    return (
        "<p class='trialnb-protocol-note' style='max-width:560px;font-size:0.9em;line-height:1.35;color:#444'>"
        f"<b>Why not the protocol's {fmt_n(2 * st.n_per_arm_after_loss)}?</b> The panel opens at the "
        f"protocol's design, computed without its roundings: control 2-year survival "
        f"exp(−{fmt_num(d.control_cumulative_hazard, 1)}) = {fmt_num(d.control_survival_exact, 3)} (the protocol "
        f"prints {fmt_num(st.s1_2y, 2)}), Pr(event) {fmt_num(exact.event_probability, 4)} (protocol "
        f"{fmt_num(st.p_event, 2)}), and every step rounded up: {fmt_n(exact.events_rounded)} events → "
        f"{fmt_n(exact.n_control)} per arm → {fmt_n(exact.n_control_after_loss)} per arm after "
        f"{fmt_pct(d.loss_to_follow_up, 0)} loss = {fmt_n(exact.n_total_after_loss)}. The protocol divides "
        f"{fmt_n(st.events)} by {fmt_num(st.p_event, 2)} and rounds {fmt_num(st.events / st.p_event, 1)} "
        "<i>down</i> to "
        f"{fmt_n(st.n_total)}, hence {fmt_n(st.n_per_arm)} and {fmt_n(st.n_per_arm_after_loss)} per arm "
        "(notebook 02 shows each step).</p>"
    )


def build_dashboard(**initial: Any) -> W.Widget:
    """The explorer's root widget, ready to display (used by the Voilà dashboard)."""
    return SampleSizeExplorer(**initial).root
