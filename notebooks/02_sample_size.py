# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 02 · Sample size and power: the protocol's calculation, recomputed
#
# The protocol asks for 66 deaths and 118 patients per arm. This notebook redoes its
# calculation one step at a time, says plainly which steps hold and which do not, and then
# asks the questions a reviewer would ask next: what if patients are followed for more than
# two years, what does another formula give, what if we designed on the 2-year survival
# proportion itself, and how much power would this trial have if surgery works as well as
# the randomized trials found, rather than as well as the protocol assumes (HR 0.5, stronger
# even than the observational studies' pooled 0.63-0.69)?
#
# *Protocol section covered:* Statistics > Sample size calculation (Steps 1 and 2).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Overview
# 1. Recompute the number of events (Schoenfeld's formula) by hand and with `trialnb`.
# 2. Turn events into patients: the probability of death within the follow-up, rounding to
#    whole equal arms, and inflation for loss to follow-up.
# 3. Read the audit table: what the protocol got right, a sign typo, and a rounding error.
# 4. Compare assumptions and methods: accrual plus follow-up, Schoenfeld vs Freedman, a
#    design on the survival proportions.
# 5. See the power the trial would have at the effect sizes the randomized trials found, and
#    explore the design with a widget.
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | Hazard, hazard ratio, exponential survival | Necessary | S(t) = exp(−λt) |
# | Type I error, power, the normal quantile z | Necessary | z for 0.975 is 1.96 |
# | Notebook 00 (the protocol as data) | Helpful | `PROTOCOL.design`, `PROTOCOL.stated` |
#
# **Time to learn:** 45 minutes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Imports
# One seeded generator (kept for the convention; nothing below is random), the house
# plotting style, and the sample-size functions.

# %%
import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from scipy.stats import norm

from trialnb import sample_size as ss
from trialnb.protocol_audit import power_at_effect_sizes, protocol_audit
from trialnb.plots import use_style
from trialnb.protocol import PROTOCOL
from trialnb.report import fmt_hr, fmt_n, fmt_num, fmt_pct, fmt_value

SEED = 20201120
rng = np.random.default_rng(SEED)
use_style()
design, stated = PROTOCOL.design, PROTOCOL.stated

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What the protocol says
# Every number of the sample-size section, with the protocol's own words, as recorded in
# `PROTOCOL` (notebook 00). We never retype them: everything below reads them from there.
# Values print as the protocol gives them (whole numbers as integers), and the protocol's
# wording is shown whole.

# %%
table = PROTOCOL.parameters_table()
params = table[table["section"].str.contains("Sample size")][["group", "name", "value", "protocol text"]].copy()
params["value"] = params["value"].map(lambda v: fmt_value(float(v), trim=True))
with pd.option_context("display.max_colwidth", None):
    display(params)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Step 1: how many deaths?
# With a log-rank or Cox test, power depends on the number of **events** (deaths), not on
# the number of patients. Schoenfeld's formula for 1:1 allocation is
# $D = 4\,(z_{1-\alpha/2} + z_{1-\beta})^2 / (\ln \mathrm{HR})^2$.
# First by hand, with the exact normal quantiles:

# %%
z_a = norm.ppf(1 - design.alpha / 2)
z_b = norm.ppf(design.power)
events_by_hand = 4 * (z_a + z_b) ** 2 / math.log(design.hazard_ratio) ** 2
print(f"z_(1-alpha/2) = {fmt_num(z_a, 4)}, z_(1-beta) = {fmt_num(z_b, 4)}")
print(f"events = {fmt_num(events_by_hand, 2)}, rounded up: {fmt_n(math.ceil(events_by_hand))}")

# %% [markdown]
# The library function gives the same number. With the protocol's printed 1.96 and 0.84 the
# result is 65.27; either way it rounds **up** to 66, the protocol's value. Step 1 holds.

# %%
events = ss.schoenfeld_events(design.hazard_ratio, design.alpha, design.power, design.allocation_ratio, design.sided)
print(f"schoenfeld_events: {fmt_num(events, 2)} -> {fmt_n(math.ceil(events))} events (protocol: {fmt_n(stated.events)})")
print(f"with the printed z values: {fmt_num(4 * (stated.z_alpha_half + stated.z_beta) ** 2 / math.log(design.hazard_ratio) ** 2, 2)}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Step 2: how many patients?
# The protocol assumes a control-arm cumulative hazard of λt = 0.5 at two years. It prints
# "S(t) = exp{−λt} = exp{0.5} = 0.60": the middle term has lost its minus sign, since
# exp(+0.5) is 1.65, not a probability. The intended value is exp(−0.5):

# %%
print(f"exp(+0.5) = {fmt_num(math.exp(design.control_cumulative_hazard), 4)}  (the typo)")
s1 = math.exp(-design.control_cumulative_hazard)
s2 = math.exp(-design.control_cumulative_hazard * design.hazard_ratio)
print(f"S1(2) = exp(-0.5)       = {fmt_num(s1, 4)}  (protocol: {fmt_num(stated.s1_2y, 2)})")
print(f"S2(2) = exp(-0.5 x 0.5) = {fmt_num(s2, 4)}  (protocol: {fmt_num(stated.s2_2y, 2)})")
print(f"deaths within 2 years, control arm: {fmt_pct(1 - s1)}  (protocol: 'the 40% of patients')")

# %% [markdown]
# If every patient is followed exactly two years, the probability that a randomized patient
# dies is the average over the two arms, 1 − (S1 + S2)/2. The protocol rounds it to 0.31.
# `event_probability` gives the same number from the hazards (time in months here):

# %%
p_by_hand = 1 - (s1 + s2) / 2
p_lib = ss.event_probability(design.hazard_ratio, design.control_hazard_per_month, 0.0, design.horizon_months)
print(f"Pr(event) by hand = {fmt_num(p_by_hand, 4)}, event_probability = {fmt_num(p_lib, 4)}, protocol: {fmt_num(stated.p_event, 2)}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Rounding: always up, and to whole equal arms
# N = events / Pr(event). The protocol writes 66 / 0.31 = 212, but the quotient is 212.9;
# a sample size is rounded **up** (213), and with two equal arms up again to an even number
# (214, 107 per arm). Then 10% loss: dividing by 0.9 gives 118.9, so **119** per arm.
# The protocol's 118 is 106 / 0.9 = 117.8 rounded up, correct only from its rounded-down 106.

# %%
n_protocol_way = stated.events / stated.p_event
per_arm = math.ceil(n_protocol_way / 2)
print(f"66 / 0.31 = {fmt_num(n_protocol_way, 2)} -> {fmt_n(math.ceil(n_protocol_way))} -> {fmt_n(2 * per_arm)} ({fmt_n(per_arm)} per arm)")
print(f"after 10% loss: {fmt_n(per_arm)} / 0.9 = {fmt_num(per_arm / 0.9, 1)} -> {fmt_n(math.ceil(per_arm / 0.9))} per arm (protocol: {fmt_n(stated.n_per_arm_after_loss)})")

# %% [markdown]
# Why divide by 1 − loss rather than multiply by 1 + loss? Dividing guarantees that the
# patients left after losing 10% are still enough: 119 × 0.9 = 107.1. Multiplying gives
# 107 × 1.1 = 117.7 → 118, and 118 × 0.9 = 106.2 falls short. Division is also
# **conservative** for a survival endpoint: a patient lost after a year has still
# contributed a year of follow-up (and may have died before being lost), so the real loss of
# information is smaller than the formula assumes.

# %%
print(f"divide:   {fmt_n(math.ceil(107 / 0.9))} per arm, {fmt_num(math.ceil(107 / 0.9) * 0.9, 1)} left after 10% loss")
print(f"multiply: {fmt_n(math.ceil(107 * 1.1))} per arm, {fmt_num(math.ceil(107 * 1.1) * 0.9, 1)} left after 10% loss")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The library does all of it in one call
# `sample_size` records every step with its intermediate value. With the full-precision
# Pr(event) = 0.3073 rather than 0.31, 66 events need 214.7 → **216 patients (108 per arm),
# 120 per arm after loss**; `n_total` (212.6) is the unrounded value that reference software
# reports.

# %%
ss.sample_size()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The audit table
# `protocol_audit()` lists every quantity of the section: the protocol's value, the value
# recomputed from the protocol's own preceding numbers, the whole chain at full precision
# ("exact"), and a verdict. Counts are shown as integers, other numbers to 4 decimals.

# %%
audit = protocol_audit()
shown = audit.copy()
for col in ("protocol", "recomputed", "exact"):
    shown[col] = audit[col].map(lambda v: fmt_value(float(v), 4))
shown.set_index("quantity")[["protocol", "recomputed", "exact", "verdict"]]

# %% [markdown]
# The one-line explanations:

# %%
for q, e in zip(audit["quantity"], audit["explanation"]):
    print(f"- {q}: {e}")

# %% [markdown]
# > **For reviewers.** What holds: z values, 66 events, S2(2) = 0.78, Pr(event) = 0.31 and
# > the choice to divide by 1 − loss. What does not: "exp{0.5}" is a sign typo for
# > exp(−0.5) = 0.6065 (the value used is the correct one); 66/0.31 = 212.9 was rounded
# > **down** to 212, so per arm 106 → should be 107, and after loss 118 → should be 119
# > (238 in total, 240 at full precision). The "40% will die" is the control arm's
# > 1 − exp(−0.5) = 39.3%; the trial as a whole expects 30.7% deaths. A curiosity: had the
# > control survival been exactly 0.60 (λt = 0.511), S2 = 0.775, Pr(event) = 0.313 and
# > 66/0.313 = 211.1 → 212, 106 and 118 would all be right, but that is not the calculation
# > printed. Checked against R `rpact` 3.3.4 at the end of this notebook.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Two years for everyone, or follow-up to the end of the study?
# The calculation assumes every patient is followed exactly two years. But the protocol also
# plans 36 months of accrual, and its Cox analysis can use all follow-up until the analysis.
# If the analysis is 24 months after the last patient enters, early patients are followed up
# to 60 months, more of them die before the analysis, and fewer patients give the same 66
# expected deaths:

# %%
fixed = ss.sample_size(loss_to_follow_up=0.0)
study = ss.sample_size(accrual_time=design.accrual_months, loss_to_follow_up=0.0)
for label, r in (("fixed 24 months each", fixed), ("36 months accrual + 24 follow-up", study)):
    print(f"{label:34s} Pr(event) = {fmt_num(r.event_probability, 3)}, N = {fmt_num(r.n_total, 1)} -> {fmt_n(math.ceil(r.n_total))} patients")

# %% [markdown]
# The figure shows how the required N falls as accrual gets longer while the follow-up after
# the last entry stays 24 months (0 months of accrual is the protocol's fixed two years).
# Which design is right depends on the analysis: if deaths after two years are censored to
# match the endpoint "alive at two years", the protocol's fixed-horizon calculation applies.

# %%
accruals = np.arange(0, 61, 3)
n_needed = [ss.sample_size(accrual_time=float(a), loss_to_follow_up=0.0).n_total for a in accruals]
fig, ax = plt.subplots()
ax.plot(accruals, n_needed, marker="o")
ax.axvline(design.accrual_months, color="grey", ls="--", lw=1, label="protocol's accrual, 36 months")
ax.set_xlabel("Accrual period (months), follow-up 24 months after the last entry")
ax.legend()
ax.set_ylabel("Patients needed (unrounded, no loss)")
ax.set_title("Longer follow-up, fewer patients for 66 expected deaths")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Schoenfeld or Freedman?
# Freedman's formula, $D = (z_{1-\alpha/2}+z_{1-\beta})^2 (1+\mathrm{HR})^2/(1-\mathrm{HR})^2$
# for 1:1 allocation, asks for more events when the hazard ratio is far from 1, and the two
# agree as HR approaches 1:

# %%
hr_grid = [0.5, 0.6, 0.7, 0.8, 0.9]
pd.DataFrame(
    {
        "hazard ratio": [fmt_num(h, 2) for h in hr_grid],
        "Schoenfeld events": [fmt_n(math.ceil(ss.schoenfeld_events(h))) for h in hr_grid],
        "Freedman events": [fmt_n(math.ceil(ss.freedman_events(h))) for h in hr_grid],
        "ratio F/S": [fmt_num(ss.freedman_events(h) / ss.schoenfeld_events(h), 3) for h in hr_grid],
    }
).set_index("hazard ratio")

# %% [markdown]
# For the protocol's HR 0.5, Freedman needs 71 events instead of 66 (about 8% more). The
# power curves of 66 events under the two formulas:

# %%
grid = np.linspace(0.3, 1.0, 71)
fig, ax = plt.subplots()
for method in ss.METHODS:
    ax.plot(grid, ss.power_curve(66, grid, method=method), label=method.capitalize())
ax.axhline(design.power, color="grey", ls="--", lw=1, label="target power")
ax.set_xlabel("True hazard ratio, arm A vs arm B")
ax.set_ylabel("Power (two-sided α = 0.05)")
ax.set_title("Power of 66 deaths by formula")
ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A design on the survival proportions
# The primary endpoint is defined as "the percentage of patients who survive two years".
# Had the protocol compared two proportions (0.60 vs 0.78, a two-sided test at 0.05 with 80%
# power), `proportion_sample_size` gives:

# %%
prop = ss.proportion_sample_size(stated.s1_2y, stated.s2_2y, design.alpha, design.power)
prop

# %% [markdown]
# Compared like with like (the exact survival proportions exp(−0.5) and exp(−0.25), i.e. the
# same HR 0.5 and everyone followed two years), the proportion test needs more patients than
# the hazard-ratio design, because the Cox test also uses *when* patients died:

# %%
prop_exact = ss.proportion_sample_size(s1, s2, design.alpha, design.power)
print(f"proportions 0.60 vs 0.78:        N = {fmt_num(prop.n_total, 1)} -> {fmt_n(prop.n_total_rounded)}")
print(f"proportions 0.6065 vs 0.7788:    N = {fmt_num(prop_exact.n_total, 1)} -> {fmt_n(prop_exact.n_total_rounded)}")
print(f"hazard ratio 0.5, 2 years each:  N = {fmt_num(fixed.n_total, 1)} -> {fmt_n(fixed.n_total_rounded)}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Power at the effect sizes the randomized trials found
# The protocol's HR 0.5 is stronger than even the observational studies (pooled HRs about
# 0.63-0.69), and the randomized trials found HRs between 0.66 and 1.45 (ABCSG-28's printed
# 0.691 read the other way round, as argued in notebook 08), with meta-analyses near 0.93-0.97
# (sources in `references/clinical_evidence.md`; notebook 08 pools the five trials itself).
#
# "Power" of a two-sided test counts a significant result in *either* direction. At the Tata
# (HR 1.04) and E2108 (HR 1.11) effects surgery is slightly harmful, so most of that "power"
# is the chance of a significant result showing *harm*; the chance of a significant *benefit*
# is what a surgeon hoping to show one should read. With D deaths the estimated log HR is about
# normal with mean ln HR and variance 4/D, so each tail of the two-sided 5% test is
# Pr(benefit) = Φ(−z₀.₉₇₅ − ln HR·√(D/4)) and Pr(harm) = Φ(−z₀.₉₇₅ + ln HR·√(D/4)).
# Likewise, the deaths "for 80% power" at HR > 1 are the deaths to detect harm with 80%
# probability; no number of deaths gives 80% probability of showing a benefit that is not there.

# %%
pw = power_at_effect_sizes()
z975 = norm.ppf(1 - design.alpha / 2)
shift = np.log(pw["hazard_ratio"]) * np.sqrt(stated.events / 4)
pw["p_benefit"] = norm.cdf(-z975 - shift)
pw["p_harm"] = norm.cdf(-z975 + shift)
pd.DataFrame(
    {
        "study": pw["study"],
        "HR": pw["hazard_ratio"].map(lambda v: fmt_num(v, 3)),
        "power with 66 deaths (either direction)": pw["power"].map(fmt_pct),
        "significant benefit": pw["p_benefit"].map(fmt_pct),
        "significant harm": pw["p_harm"].map(fmt_pct),
        "deaths for 80% power": pw["events_needed"].map(fmt_n),
        "80% power to show": ["benefit" if h < 1 else "harm" for h in pw["hazard_ratio"]],
    }
).set_index("study")

# %% [markdown]
# The two tails add up to the two-sided power (check: the largest difference is printed
# below). Even at MF07-01's HR 0.66, the only positive randomized trial, 66 deaths give about
# 39% power; at the meta-analytic HRs the power is barely above the 5% false-positive rate, and
# at the Tata and E2108 effects the chance of a significant benefit is below the 2.5% a test
# gives in that direction when surgery does nothing: about 1-2%.

# %%
print(f"largest |benefit + harm − power|: {fmt_num(float((pw['p_benefit'] + pw['p_harm'] - pw['power']).abs().max()), 6)}")
for r in pw[pw["hazard_ratio"] > 1].itertuples():
    print(f"{r.study}: HR {fmt_hr(r.hazard_ratio)}, significant benefit {fmt_pct(r.p_benefit)}, "
          f"significant harm {fmt_pct(r.p_harm)}")

# %% [markdown]
# The two-sided power at each published hazard ratio as bars, against the 80% target and the
# 5% level:

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
ax.barh(pw["study"], pw["power"], color="#1b6ca8")
ax.axvline(design.power, color="grey", ls="--", lw=1, label="target 80%")
ax.axvline(design.alpha, color="#d1495b", ls=":", lw=1, label="α = 5%")
ax.invert_yaxis()
ax.set_xlim(0, 1)
ax.set_xlabel("Power of the planned 66 deaths (two-sided α = 0.05, either direction)")
ax.set_title("Power at published hazard ratios")
ax.legend(loc="lower right")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Explore the design
# Move the controls: significance level, power, hazard ratio, control 2-year survival,
# accrual and follow-up (months), drop-out, loss to follow-up, allocation ratio and formula.
# The panel shows events, N and per-arm N after loss, when the deaths arrive, the power curve
# of the design and the calculation steps. It also solves the other way round, as rpact and
# G*Power do: the power of a given number of patients, or the hazard ratio they can detect
# (`trialnb.sample_size.solve`); and it writes its calculation out as trialnb Python code and
# as the R rpact call that gives the same numbers. (Its display is not compared by nbval:
# widgets render only with a live kernel.)

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.sample_size import SampleSizeExplorer

explorer = SampleSizeExplorer()
explorer.root

# %% [markdown]
# Setting a control from code works like moving it by hand. Here the accrual becomes 36
# months (follow-up stays 24 months after the last entry), and the displayed N changes:

# %%
print(f"before: N = {fmt_n(explorer.result.n_total_after_loss)} after loss")
explorer.accrual.value = 36
print(f"after:  N = {fmt_n(explorer.result.n_total_after_loss)} after loss "
      f"({fmt_n(explorer.result.n_treatment_after_loss)} + {fmt_n(explorer.result.n_control_after_loss)})")

# %% [markdown]
# > **For reviewers: cross-check against R `rpact`.** `tests/reference/rpact_sample_size.R`
# > runs `getSampleSizeSurvival`, `getPowerSurvival` and `getSampleSizeRates` (rpact 3.3.4)
# > for a spread of designs (HR 0.5-1.25, α 0.01-0.05, one- and two-sided, allocation 0.5-2,
# > Schoenfeld and Freedman, accrual + follow-up, `pi2` at `eventTime`, drop-out) and commits
# > the values to `rpact_sample_size.json`; the tests require agreement to a relative 1e-9
# > and CI re-runs the R script. The table compares them here (largest relative difference):

# %%
ref = json.loads(Path("../tests/reference/rpact_sample_size.json").read_text())
rows = []
for c in ref["survival"]:
    ours = ss.sample_size(c["hazard_ratio"], c["alpha"], c["power"], c["allocation_ratio"], c["sided"], c["method"],
                          c["control_hazard"], c["accrual_time"], c["follow_up_time"], c["dropout_hazard"])
    rows.append((c["id"], f"{fmt_num(c['events'], 2)} / {fmt_num(c['n_total'], 1)}",
                 f"{fmt_num(ours.events, 2)} / {fmt_num(ours.n_total, 1)}",
                 max(abs(ours.events / c["events"] - 1), abs(ours.n_total / c["n_total"] - 1))))
for c in ref["power"]:
    ours = ss.power(c["events"], c["hazard_ratio"], c["alpha"], c["allocation_ratio"], c["sided"], c["method"])
    rows.append((c["id"], f"power {fmt_num(c['power'], 4)}", f"power {fmt_num(ours, 4)}", abs(ours / c["power"] - 1)))
for c in ref["rates"]:
    ours = ss.proportion_sample_size(c["control_proportion"], c["treatment_proportion"], c["alpha"], c["power"],
                                     c["allocation_ratio"], c["sided"])
    rows.append((c["id"], f"N {fmt_num(c['n_total'], 1)}", f"N {fmt_num(ours.n_total, 1)}", abs(ours.n_total / c["n_total"] - 1)))
cmp = pd.DataFrame(rows, columns=["design", "rpact (events / N)", "trialnb", "rel. difference"])
print(f"{len(cmp)} designs; largest relative difference below 1e-9: {bool(cmp['rel. difference'].max() < 1e-9)}")
cmp.assign(**{"rel. difference": cmp["rel. difference"].map(lambda v: "< 1e-9" if v < 1e-9 else fmt_num(v, 12))}).set_index("design")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - Step 1 holds: 65.35 → 66 deaths (Schoenfeld, two-sided 0.05, 80% power, HR 0.5).
# - Step 2 has a sign typo (exp{0.5} for exp(−0.5)) that does not change the numbers, and a
#   rounding error that does: 212.9 must become 214 (107 per arm), and 119 per arm after
#   10% loss, not 118. At full precision: 216 and 120 per arm.
# - The calculation assumes exactly two years of follow-up per patient; using all follow-up
#   to the end of a 36 + 24-month study, about 142 patients give the same expected deaths.
# - Freedman asks for 71 deaths; a design on the 2-year proportions needs more patients
#   than the hazard-ratio design under the same assumptions.
# - The trial is powered for HR 0.5. At the randomized trials' effect sizes its power is
#   5-39%; at the Tata and E2108 effects (HR 1.04, 1.11) that "power" is the chance of showing
#   harm, and the chance of a significant benefit is about 1-2%.
#

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
# Each exercise starts unanswered. Replace `None` with your answer and run the cell: the check
# says whether it is right and why. Numbers may be rounded, and a proportion may be given as
# `0.8`, `80` or `"80%"`. Stuck? Ask for help in stages: `hint=1` gives a nudge, `hint=2` the
# method, e.g. `check_events_for_target(answer, hint=1)`.

# %%
from trialnb.exercises.sample_size import (check_accrual_n, check_events_for_target, check_loss_inflation,
                                          check_power_at_hr)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1
# The registry might have targeted 2-year survival 60% → 70%. How many deaths (Schoenfeld's
# formula, as in the protocol, rounded up) for two-sided 0.05 and 80% power?

# %%
answer = None
check_events_for_target(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2
# With the protocol's assumptions but 36 months of accrual and 24 months of follow-up after
# the last entry, how many patients (before loss, rounded up as in this notebook)?

# %%
answer = None
check_accrual_n(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3
# What power do 66 deaths give if the true HR is 0.66 (MF07-01)?

# %%
answer = None
check_power_at_hr(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 4
# 107 patients per arm are needed and 10% will be lost. How many per arm should be enrolled?

# %%
answer = None
check_loss_inflation(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Glossary
# - **Event**: here a death; the log-rank/Cox test's information grows with the number of events.
# - **Hazard ratio (HR)**: the ratio of death rates, arm A over arm B; HR 0.5 halves the rate.
# - **Schoenfeld / Freedman formulas**: two approximations of the events a log-rank test needs.
# - **Pr(event)**: the probability that a randomized patient dies before the analysis.
# - **Accrual / follow-up**: the period of enrolment, and the time from the last entry to the analysis.
# - **Loss to follow-up**: patients whose vital status becomes unknown; they are censored.
# - **Power**: the probability of a significant result when the assumed effect is true.
