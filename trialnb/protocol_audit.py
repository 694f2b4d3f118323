"""The protocol's sample-size section audited: every stated number recomputed, and the power
of the protocol's design at the effect sizes the randomized evidence found.

Split from :mod:`trialnb.sample_size` (whose formulas it uses) because it has one role: the
reviewer's audit of the protocol (used by notebook 02, the dashboards and ``trialnb audit``).
It uses the formulas of :mod:`trialnb.sample_size` and the plan's own calculation.

References: Schoenfeld DA. Biometrika 1981;68:316-319 (events); Collett D. Modelling Survival
Data in Medical Research, 3rd ed., CRC 2015, section 10.2 (Pr(event) with accrual and follow-up).
"""

from __future__ import annotations

import math
from typing import Iterable

import pandas as pd
from scipy.special import ndtri

from . import evidence as _ev
from .protocol import PROTOCOL, Protocol
from .report import fmt_num, fmt_pct
from .plan import plan_from_protocol
from .sample_size import power, round_up, sample_size, schoenfeld_events, z_value

__all__ = ["RCT_EFFECT_SIZES", "power_at_effect_sizes", "protocol_audit"]




def protocol_audit(protocol: Protocol | None = None) -> pd.DataFrame:
    """Every quantity of the protocol's sample-size section, recomputed.

    Columns: ``quantity``, ``protocol`` (the value it states, from ``PROTOCOL.stated``),
    ``recomputed`` (the same step redone from the protocol's own preceding values),
    ``exact`` (the whole chain at full precision from ``PROTOCOL.design``), ``verdict`` and
    a one-line ``explanation``. ``protocol`` defaults to the trial's (:data:`PROTOCOL`, read
    when called); another (e.g. a changed design in :func:`trialnb.sap.build_sap`) is audited
    the same way.
    """
    protocol = PROTOCOL if protocol is None else protocol
    d, s = protocol.design, protocol.stated
    # the exact chain is the plan's own calculation (one derivation: trialnb.sample_size.sample_size)
    exact = sample_size(plan=plan_from_protocol(protocol))
    za = z_value(d.alpha, d.sided)
    zb = float(ndtri(d.power))
    ev = exact.events
    ev_printed_z = 4 * (s.z_alpha_half + s.z_beta) ** 2 / math.log(d.hazard_ratio) ** 2
    ev_r = exact.events_rounded
    cum = d.control_cumulative_hazard
    s1 = math.exp(-cum)
    s2 = math.exp(-cum * d.hazard_ratio)
    death = 1 - s1
    pr_recomp = 1 - (s.s1_2y + s.s2_2y) / 2
    pr_exact = exact.event_probability
    n_recomp = s.events / s.p_event
    n_exact = ev_r / pr_exact
    arm_recomp = round_up(n_recomp / 2)
    arm_exact = exact.n_control
    loss = d.loss_to_follow_up
    arm_loss_recomp = round_up(arm_recomp / (1 - loss))
    arm_loss_exact = exact.n_control_after_loss
    study = sample_size(accrual_time=d.accrual_months, follow_up_time=d.horizon_months,
                        plan=plan_from_protocol(protocol))
    rows = [
        ("z_(alpha/2)", s.z_alpha_half, za, za, "correct (rounded)",
         f"z_(1-{d.alpha}/2) = {fmt_num(za, 4)}, printed to 2 decimals."),
        ("z_beta", s.z_beta, zb, zb, "correct (rounded)",
         f"z_(1-{1 - d.power:.2f}) = {fmt_num(zb, 4)}, printed to 2 decimals."),
        ("events", s.events, ev, ev_r, "correct",
         f"4 (z_a + z_b)^2 / ln(0.5)^2 = {fmt_num(ev, 2)} (with the printed 1.96 and 0.84: "
         f"{fmt_num(ev_printed_z, 2)}), rounded up to {ev_r}."),
        ("S(t) = exp{0.5}, as printed", s.s1_2y, math.exp(cum), s1, "sign typo",
         f"exp(+0.5) = {fmt_num(math.exp(cum), 4)}; the value used is exp(-0.5) = {fmt_num(s1, 4)}."),
        ("40% die within 2 years", s.death_fraction, 1 - s.s1_2y, death, "control arm only",
         f"1 - exp(-0.5) = {fmt_pct(death)} in the control arm; averaged over both arms the "
         f"trial expects {fmt_pct(pr_exact)} deaths."),
        ("S1(2), control", s.s1_2y, s1, s1, "correct (truncated)",
         f"exp(-0.5) = {fmt_num(s1, 4)}, which rounds to 0.61; 0.60 is the design assumption of 60%."),
        ("S2(2), treatment", s.s2_2y, s2, s2, "correct (rounded)",
         f"exp(-0.5 x {d.hazard_ratio}) = {fmt_num(s2, 4)}."),
        ("Pr(event)", s.p_event, pr_recomp, pr_exact, "correct (rounded)",
         f"1 - (0.60 + 0.78)/2 = {fmt_num(pr_recomp, 2)}; at full precision {fmt_num(pr_exact, 4)}."),
        ("N", s.n_total, n_recomp, n_exact, "rounded down",
         f"66 / 0.31 = {fmt_num(n_recomp, 1)} must be rounded up: {round_up(n_recomp)}, and "
         f"{2 * arm_recomp} for two equal arms (66 / {fmt_num(pr_exact, 4)} = {fmt_num(n_exact, 1)} "
         f"-> {2 * arm_exact} at full precision)."),
        ("N per arm", s.n_per_arm, arm_recomp, arm_exact, "rounded down",
         f"Half of {round_up(n_recomp)} rounded up is {arm_recomp}, not {s.n_per_arm}."),
        ("N per arm after loss", s.n_per_arm_after_loss, arm_loss_recomp, arm_loss_exact, "too small by 1",
         f"{arm_recomp} / (1 - {loss}) = {fmt_num(arm_recomp / (1 - loss), 1)} -> {arm_loss_recomp}; "
         f"the protocol's {s.n_per_arm} / 0.9 = {fmt_num(s.n_per_arm / (1 - loss), 1)} -> "
         f"{s.n_per_arm_after_loss} is right only from its rounded-down {s.n_per_arm}. "
         "Dividing by 1 - loss is conservative."),
        ("N after loss (2 x per arm)", 2 * s.n_per_arm_after_loss, 2 * arm_loss_recomp, 2 * arm_loss_exact,
         "too small by 2",
         f"Two arms of {arm_loss_recomp} make {2 * arm_loss_recomp}, not {2 * s.n_per_arm_after_loss}."),
        ("N if follow-up runs to the end of the study", math.nan, study.n_total, ev_r / study.event_probability,
         "assumption",
         f"The protocol assumes exactly 2 years of follow-up each; with {fmt_num(d.accrual_months, 0)} months "
         f"of accrual plus {fmt_num(d.horizon_months, 0)} months, Pr(event) = {fmt_num(study.event_probability, 3)} "
         f"and {fmt_num(study.n_total, 1)} patients (about {round_up(study.n_total)}; "
         f"{fmt_num(ev_r / study.event_probability, 1)} for 66 events) give the same expected events."),
    ]
    return pd.DataFrame(rows, columns=["quantity", "protocol", "recomputed", "exact", "verdict", "explanation"])


# ---------------------------------------------------------------------------------------
# power at the effect sizes the evidence found

RCT_EFFECT_SIZES: tuple[tuple[str, str, float, str], ...] = (
    ("Tata Memorial (Badwe 2015)", "RCT", _ev.study("tata2015").hazard_ratio, "Lancet Oncol 2015;16:1380-1388"),
    ("MF07-01 (Soran 2018)", "RCT", _ev.study("mf0701_2018").hazard_ratio, "Ann Surg Oncol 2018;25:3141-3149"),
    ("MF07-01, 10 years (Soran 2021)", "RCT", _ev.study("mf0701_2021").hazard_ratio, "J Am Coll Surg 2021;233:742-752"),
    ("E2108 (Khan 2022)", "RCT", _ev.study("e2108_2022").hazard_ratio, "J Clin Oncol 2022;40:978-987"),
    ("ABCSG-28 (Fitzal 2019)", "RCT", _ev.study("abcsg28").hazard_ratio,
     "Ann Surg 2019;269:1163-1169 (printed HR 0.691 inverted, see trialnb.evidence.ABCSG28_PRINTED)"),
    ("JCOG1017 (Shien, full paper)", "RCT", _ev.study("jcog1017").hazard_ratio, "JCOG1017 PRIM-BC full paper"),
    ("Meta-analysis of RCTs (Reinhorn 2021)", "meta-analysis", _ev.study("reinhorn2021").hazard_ratio, "Breast 2021"),
    ("Meta-analysis of RCTs (Villacampa 2024)", "meta-analysis", _ev.study("villacampa2024").hazard_ratio,
     "Oncologist 2024"),
    ("Observational pooled (Ruiterkamp 2010)", "observational", _ev.study("ruiterkamp2010").hazard_ratio,
     "Breast Cancer Res Treat 2010"),
)
"""(study, kind, hazard ratio surgery vs none, source); the hazard ratios are read from
:mod:`trialnb.evidence` (written up in ``references/clinical_evidence.md``; ABCSG-28's printed
hazard ratio is inverted there, JCOG1017 is its full paper)."""


def power_at_effect_sizes(
    events: float | None = None,
    effect_sizes: Iterable[tuple[str, str, float, str]] = RCT_EFFECT_SIZES,
    alpha: float = PROTOCOL.design.alpha,
    sided: int = PROTOCOL.design.sided,
    target_power: float = PROTOCOL.design.power,
) -> pd.DataFrame:
    """Power of the planned analysis (default: the protocol's rounded 66 events) at each
    hazard ratio, and the events (Schoenfeld, rounded up) that would give ``target_power``."""
    if events is None:
        d = PROTOCOL.design
        events = round_up(schoenfeld_events(d.hazard_ratio, d.alpha, d.power, d.allocation_ratio, d.sided))
    rows = []
    for study, kind, hr, source in effect_sizes:
        need = round_up(schoenfeld_events(hr, alpha, target_power, 1.0, sided)) if hr != 1 else math.inf
        rows.append(
            {"study": study, "kind": kind, "hazard_ratio": hr,
             "power": power(events, hr, alpha, 1.0, sided), "events_needed": need, "source": source}
        )
    return pd.DataFrame(rows)


