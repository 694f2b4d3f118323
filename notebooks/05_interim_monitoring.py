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
# # 05 · Interim monitoring: writing the protocol's blank "Interim analysis" section
#
# The protocol's statistics section ends with the words "Interim analysis ;" and nothing
# after them. A trial of surgery in metastatic disease needs a monitoring plan: the data
# monitoring committee (DMC) will ask when to look at the data, what result stops the trial
# for benefit, for harm or for futility, and what an interim result means. This notebook
# proposes such a plan for NCT04697043, says what it costs, shows why a plan is needed at all,
# and plays the DMC on the synthetic trial data.
#
# *Protocol section covered:* Statistics > "Interim analysis ;" (blank in the protocol).
# Everything below is a proposal, not the investigators' plan.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Overview
# 1. See, by simulation, why looking at the data repeatedly with the usual 1.96 inflates the
#    type-I error.
# 2. Read a proposed plan: one interim look at half the deaths, a Lan-DeMets
#    O'Brien-Fleming efficacy boundary, a harm guideline for surgery and a non-binding
#    futility guideline; and what it costs in deaths and power against the fixed design.
# 3. Read the boundaries on three scales at once: z, nominal p-value and hazard ratio.
# 4. Play the DMC on the synthetic data: deaths by a calendar cut-off, the log-rank and Cox z,
#    the decision, the repeated confidence interval, and conditional power under three named
#    hazard ratios.
# 5. See what changes when the look comes at 29 deaths instead of 33, and explore other plans
#    with a widget.
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | Log-rank test, hazard ratio, events | Necessary | notebooks 02 and 04 |
# | Type-I error, power, one-sided vs two-sided | Necessary | notebook 02 |
# | Simulated operating characteristics | Helpful | notebook 06 (`trialnb.fastsim`) |
#
# **Time to learn:** 60 minutes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Imports
# One seeded generator (it draws the seeds of every simulation below), the house plotting
# style, the monitoring engine (`trialnb.monitoring`), the simulation of interim decisions
# (`trialnb.sequential_sim`) and the interim report (`trialnb.interim`).

# %%
import dataclasses
import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from trialnb import fastsim as fs
from trialnb import interim, monitoring
from trialnb.data import load_trial
from trialnb.plots import use_style
from trialnb.plots_monitoring import boundary_plot, peeking_plot
from trialnb.report import fmt_n, fmt_num, fmt_pct
from trialnb.sequential_sim import Boundaries, naive_type_one_error, simulate_sequential

SEED = 20201120
rng = np.random.default_rng(SEED)
use_style()


def next_seed() -> int:
    """A seed for one simulation, drawn from the notebook's one generator."""
    return int(rng.integers(2**31))


# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why a plan: peeking inflates the type-I error
# Suppose the investigators looked at the log-rank test after every fifth of the deaths and
# declared benefit the first time the one-sided p-value fell below 0.025 (z ≥ 1.96), as if
# each look were the only one. We simulate the trial under **no effect** (HR = 1) with the
# protocol's design and 66 deaths at the end, and count how often it "finds" a benefit.
# The sign convention throughout: benefit of surgery (arm A) is HR < 1, and the *benefit z*
# compared with a boundary is positive when arm A has fewer deaths than expected.

# %%
null = dataclasses.replace(fs.Scenario(), hazard_ratio=1.0, target_events=66)
peek = []
for k in (1, 2, 3, 4):
    naive = Boundaries(tuple(np.arange(1, k + 1) / k), (stats.norm.isf(0.025),) * k, alpha=0.025)
    res = simulate_sequential(null, naive, 2000, seed=next_seed(), analysis="logrank")
    peek.append({"looks": k, "type-I error": res.power, "MC SE": res.power_se, "normal theory": naive_type_one_error(k)})
peek = pd.DataFrame(peek).set_index("looks")
print("\n".join(f"{k} look(s): simulated {fmt_pct(r['type-I error'])} (MC SE {fmt_pct(r['MC SE'])}); "
                f"normal theory {fmt_pct(r['normal theory'])}" for k, r in peek.iterrows()))

# %% [markdown]
# Each extra look is one more chance of a false alarm. The looks share most of their data, so
# the error grows more slowly than k × 2.5%, but it grows: the figure shows it with ±2
# Monte-Carlo standard errors.

# %%
fig = peeking_plot(list(peek.index), peek["type-I error"], peek["MC SE"], 0.025,
                   title="Naive repeated testing under HR = 1 (2,000 simulated trials each)")
plt.show()

# %% [markdown]
# > **For reviewers.** "Normal theory" above is 1 − P(Z₁ < 1.96, …, Z_k < 1.96) with
# > corr(Z_i, Z_j) = √(t_i/t_j) for equally spaced looks (Armitage, McPherson & Rowe 1969;
# > `trialnb.sequential_sim.naive_type_one_error`); the simulation uses the log-rank test on
# > simulated trials (minimization, 10% loss), so the two columns are independent routes to
# > the same quantity. A group-sequential design chooses the boundaries so that the *total*
# > probability of crossing is 0.025.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The proposed plan
# **One interim look at half of the deaths.** The trial is small (66 deaths planned). We
# argue for a single look at half the information: earlier, few deaths have occurred and only
# an implausibly large effect could cross an O'Brien-Fleming boundary; more looks add DMC
# meetings and alpha bookkeeping for little gain (the explorer at the end shows the
# alternatives).
#
# **Efficacy: Lan-DeMets O'Brien-Fleming alpha spending** at one-sided 0.025 (the benefit
# half of the protocol's two-sided 0.05). It spends almost nothing early, so the final test
# stays close to the fixed design's, and it adapts if the look does not fall exactly at half.
#
# **Futility: non-binding**, at benefit z ≤ 0 (the observed hazard ratio is 1 or worse). Being
# non-binding, the efficacy boundaries are computed as if it did not exist: the DMC may ignore
# it without inflating the type-I error.
#
# **Harm: a guideline for surgery.** Surgery of the primary tumour carries early
# perioperative risk. The DMC reviews stopping when the benefit z is ≤ −2.326 (one-sided
# p ≤ 0.01 that surgery is *worse*), and receives at each look the number of deaths within 30
# days of surgery. Stopping for harm can only end trials that would otherwise go on, so it
# never increases the type-I error for benefit.

# %%
plan = interim.proposed_design()
efficacy_only = interim.proposed_design(futility=False)
fixed_events = interim.planned_max_events(monitoring.design(1, alpha=0.025, beta=0.2, type_of_design="asOF"))
max_events = interim.plan_max_events()
print(plan.summary())
print(f"\nFutility bound (benefit z) at the interim: {fmt_num(float(plan.futility_bounds[0]), 2)}, non-binding")
print(f"Maximum deaths: fixed design {fixed_events}; the plan's efficacy boundary {max_events} "
      f"(inflation factor {fmt_num(efficacy_only.inflation_factor, 4)}); "
      f"{interim.planned_max_events(plan)} if the futility guideline were binding on the sample size")
print(f"Harm guideline: benefit z <= {interim.PLAN['harm_z']}: probability {fmt_pct(stats.norm.cdf(interim.PLAN['harm_z']), 2)} "
      "at the interim when surgery has no effect")

# %% [markdown]
# The maximum number of deaths is the fixed design's Schoenfeld number times the design's
# *inflation factor*: with O'Brien-Fleming spending it stays at the protocol's 66. The
# futility guideline costs a little power, because a trial that follows it sometimes stops a
# real benefit; being non-binding, it does not raise the maximum, and the simulation below
# measures its cost instead.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Its cost against the fixed design, simulated
# The protocol's trial (236 patients, minimization, 10% loss), event-driven, simulated under
# the design's HR 0.5 and under no effect: the fixed design (one analysis at the same maximum
# number of deaths) against the plan (which may stop at the interim). Same trials for both,
# 2,000 of each.

# %%
one_look = Boundaries((1.0,), (stats.norm.isf(0.025),), alpha=0.025)
rows = []
for label, hr in (("HR 0.5 (design)", 0.5), ("HR 1 (no effect)", 1.0)):
    sc = dataclasses.replace(fs.Scenario(), hazard_ratio=hr, target_events=max_events)
    seed = next_seed()
    fixed = simulate_sequential(sc, one_look, 2000, seed=seed)
    seq = simulate_sequential(sc, plan, 2000, seed=seed)
    for name, r in (("fixed", fixed), ("plan", seq)):
        rows.append({"truth": label, "design": name, "rejects H0": fmt_pct(r.power),
                     "MC SE": fmt_pct(r.power_se), "stops at interim": fmt_pct(r.early_stop),
                     "expected deaths": fmt_num(r.expected_events, 1),
                     "expected duration (months)": fmt_num(r.expected_months, 1)})
cost = pd.DataFrame(rows).set_index(["truth", "design"])
cost

# %% [markdown]
# Read the table row by row: under HR 0.5 the plan's power is close to the fixed design's
# (the difference is the cost of the futility guideline and of the alpha spent at the
# interim) and the trial ends, on average, earlier with fewer deaths. Under HR 1 the futility
# guideline stops about half of the trials at the interim (by construction: with no effect the
# benefit z is below 0 half of the time), and the type-I error stays within Monte-Carlo error
# of 2.5% or below. The futility rule is followed in the simulation; ignoring it can only raise
# the power and the expected deaths.

# %% [markdown]
# > **For reviewers: cross-check against R `rpact`.** `tests/reference/rpact_sequential_sim.R`
# > runs `getSimulationSurvival` (rpact 3.3.4) on the design of issue 13 (236 patients, 36
# > months of uniform accrual, 2-year control survival exp(−0.5), HR 0.5, looks at 33 and 66
# > deaths, asOF) and four variants (HR 1, a futility bound, three looks), 20,000 trials each,
# > and commits the values to `rpact_sequential_sim.json`. The tests require the same power,
# > rejection and futility by look within 4 combined Monte-Carlo SEs. Here, 3,000 trials of the
# > first case:

# %%
ref = json.loads(Path("../tests/reference/rpact_sequential_sim.json").read_text())["cases"][0]
issue = fs.Scenario(n_patients=236, accrual_months=36.0, control_survival=math.exp(-0.5), horizon_months=24.0,
                    dropout_probability=0.0, hazard_ratio=ref["hazard_ratio"], target_events=ref["planned_events"][-1],
                    allocation="blocks")
ours = simulate_sequential(issue, Boundaries(ref["information_rates"], ref["critical_values"], alpha=0.025),
                           3000, seed=next_seed())
print(f"rpact ({fmt_n(ref['iterations'])} trials): power {fmt_pct(ref['overall_reject'])}, by look "
      + ", ".join(fmt_pct(p) for p in ref["reject_per_stage"]) + f"; expected deaths {fmt_num(ref['expected_events'], 1)}")
print(f"trialnb ({fmt_n(ours.n_trials)} trials): power {fmt_pct(ours.power)} (MC SE {fmt_pct(ours.power_se)}), by look "
      + ", ".join(fmt_pct(p) for p in ours.rejection_by_stage) + f"; expected deaths {fmt_num(ours.expected_events, 1)}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The boundaries on three scales
# The same boundaries as a benefit z, as a nominal one-sided p-value (what a naive reader
# would compare with 0.025), and as the hazard ratio that lies exactly on the boundary with
# that many deaths (exp(−2z/√D) for 1:1 allocation). At the interim, only a hazard ratio
# far below the design's 0.5 stops the trial.

# %%
fig = boundary_plot(plan, max_events, harm_z=interim.PLAN["harm_z"],
                    title=f"Proposed plan: interim at half of {max_events} deaths")
plt.show()
ev_plan = np.asarray(plan.information_rates) * max_events
bounds = pd.DataFrame({"deaths": [fmt_num(e, 1) for e in ev_plan],
                       "benefit z": [fmt_num(float(c), 3) for c in plan.critical_values],
                       "nominal p": [fmt_num(float(stats.norm.sf(c)), 4) for c in plan.critical_values],
                       "HR on the boundary": [fmt_num(float(math.exp(-2 * c / math.sqrt(e))), 2)
                                              for c, e in zip(plan.critical_values, ev_plan)]},
                      index=pd.Index([1, 2], name="look"))
bounds

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What the DMC sees at the interim
# The synthetic trial `data/trial_protocol.csv` (generated under the protocol's assumptions,
# HR 0.5) is cut at a calendar month: patients randomized later are not in the analysis, and
# follow-up stops at the cut-off. First, the calendar month of each death, to find when the
# interim falls due:

# %%
trial = load_trial("../data/trial_protocol.csv")
death_month = np.sort((trial["entry_month"] + trial["os_months"])[trial["death"] == 1].to_numpy())
interim_deaths = math.ceil(plan.information_rates[0] * max_events)
print(f"{fmt_n(len(trial))} patients, {fmt_n(len(death_month))} deaths in the file")
print(f"Death number {interim_deaths} (half of {max_events}) occurs at month {fmt_num(death_month[interim_deaths - 1], 2)}; "
      f"the 29th at month {fmt_num(death_month[28], 2)}")

# %% [markdown]
# The data cut-off for the interim is month 29.1, just after the 33rd death (half of 66). The report
# lists, in order: who is in the analysis, the deaths, the log-rank z and the planned Cox
# model's Wald z (both on the log-HR scale: negative favours surgery), the efficacy boundary
# recalculated at the deaths actually observed, the hazard ratio with its **repeated**
# confidence interval (valid whatever happens at later looks), the harm checks and the
# conditional power.

# %%
at33 = interim.interim_report(trial, 29.1, design=plan, max_events=max_events)
print(interim.text_report(at33))

# %% [markdown]
# **Conditional power names its hazard ratio.** It is the probability of rejecting at the
# final look given the data so far, and it depends entirely on what one assumes about the
# deaths still to come: the *observed* HR (the trend continues), the *design* HR 0.5, or *no
# effect* (HR 1). Reporting one number without its HR is the most common mistake in DMC
# reports.

# %%
cp = pd.DataFrame([{"assumed hazard ratio": name, "HR": fmt_num(hr, 2), "conditional power": fmt_pct(p)}
                   for name, (hr, p) in at33.conditional_power.items()]).set_index("assumed hazard ratio")
cp

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The same picture, with the observed look
# The star is the observed benefit z; the open diamond is the efficacy boundary recalculated
# at the observed deaths.

# %%
fig = boundary_plot(plan, max_events, observed_events=[at33.events], observed_z=[at33.benefit_z],
                    critical_values=[at33.efficacy_bound], harm_z=interim.PLAN["harm_z"],
                    title=f"Interim at month 29.1: {at33.events} deaths")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A look at 29 deaths instead of 33
# Interims rarely fall exactly on plan. With alpha spending the boundary is recomputed from
# the information actually reached: fewer deaths mean less alpha spent and a *higher*
# boundary. Cutting the same file at month 28.5 instead of 29.1:

# %%
at29 = interim.interim_report(trial, 28.5, design=plan, max_events=max_events)
compare = pd.DataFrame(
    [{"cut-off month": fmt_num(r.cutoff_month, 1), "deaths": r.events, "information": fmt_pct(r.information_fraction),
      "benefit z": fmt_num(r.benefit_z, 3), "boundary": fmt_num(r.efficacy_bound, 3),
      "nominal p at boundary": fmt_num(float(stats.norm.sf(r.efficacy_bound)), 4), "decision": r.decision}
     for r in (at29, at33)]).set_index("cut-off month")
compare

# %% [markdown]
# On these synthetic data the difference matters: the trend is the same, but at 29 deaths the
# benefit z falls just short of the higher boundary and the trial goes on, while at 33 deaths
# it crosses. Neither result is "more true"; the plan's rule fixed in advance, *deaths at the
# interim*, is what protects the type-I error, and choosing the cut-off after seeing the data
# would not.

# %% [markdown]
# > **For reviewers.** The recalculated boundaries come from `trialnb.monitoring.analyse(...,
# > max_information=...)`, which reproduces rpact's `getAnalysisResults` with
# > `maxInformation` (its own tests compare with rpact reference values). The interim report is
# > also a command: `trialnb monitor --data data/trial_protocol.csv --cutoff-month 29.1
# > [--html report.html]`, and the DMC dashboard `notebooks/dashboards/monitoring.ipynb` shows
# > it with a slider for the cut-off.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Explore other plans
# Move the number of looks, the timing of the first look and the spending function: the panel
# shows the boundaries, the maximum number of deaths and the power at HR 0.5. (Its display is
# not compared by nbval: widgets render only with a live kernel.)

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.monitoring import DesignExplorer

explorer = DesignExplorer()
explorer.root

# %% [markdown]
# Setting a control from code works like moving it by hand: a Pocock-type spending function
# spends more alpha early and needs more deaths at most.

# %%
print(f"O'Brien-Fleming type: {interim.planned_max_events(explorer.design)} deaths at most")
explorer.spending.value = "asP"
print(f"Pocock type:          {interim.planned_max_events(explorer.design)} deaths at most")
explorer.spending.value = "asOF"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - The protocol has no interim plan. Looking repeatedly at 1.96 inflates the one-sided type-I
#   error well above 2.5% (simulated above for one to four looks).
# - Proposed: one look at half of the deaths, Lan-DeMets O'Brien-Fleming efficacy boundary at
#   one-sided 0.025, non-binding futility at benefit z ≤ 0, a harm guideline at benefit
#   z ≤ −2.326 plus a count of 30-day postoperative deaths. Its maximum number of deaths and
#   power are printed above; against the fixed design it keeps the power and shortens the
#   trial on average.
# - At the interim the DMC sees the deaths by calendar cut-off, log-rank and Cox z, the
#   recalculated boundary and the decision, the repeated CI, and conditional power under three
#   named hazard ratios.
# - On the synthetic data, the look at 33 deaths crosses the boundary and the look at 29 does
#   not: the boundary follows the information actually reached.
#
# ## Exercises
# Each exercise starts unanswered. Replace `None` with your answer and run the cell: the check
# says whether it is right and why. Numbers may be rounded, and a proportion may be given as
# `0.07`, `7` or `"7%"`. Stuck? `hint=1` gives a nudge, `hint=2` the method.

# %%
from trialnb.exercises.monitoring import check_conditional_power, check_first_look_bound, check_naive_peeking

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1
# With **five** equally spaced looks, each tested at z ≥ 1.96 as if it were the only one, what
# is the overall one-sided type-I error?

# %%
answer = None
check_naive_peeking(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2
# For two looks (at half and all of the information), Lan-DeMets O'Brien-Fleming spending and
# one-sided alpha 0.025, what is the efficacy boundary (benefit z) at the first look?

# %%
answer = None
check_first_look_bound(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3
# At an interim with 33 deaths the log-rank z is −1.0 (favouring surgery). With 33 more deaths
# planned for the final look and the two-look O'Brien-Fleming design of Exercise 2, what is the
# conditional power **assuming the design's HR 0.5** for the remaining deaths?

# %%
answer = None
check_conditional_power(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Glossary
# - **Interim analysis**: a look at the accumulating data before the planned end, by a DMC.
# - **DMC**: data monitoring committee, independent of the investigators; it recommends
#   continuing or stopping.
# - **Group-sequential design**: a plan fixing the looks and their boundaries in advance so that
#   the overall type-I error is controlled.
# - **Alpha spending (Lan-DeMets)**: the cumulative type-I error allowed by each information
#   fraction; O'Brien-Fleming type spends little early, Pocock type more.
# - **Information fraction**: deaths so far divided by the planned maximum.
# - **Inflation factor**: maximum information of a sequential design relative to the fixed design.
# - **Non-binding futility**: a stopping guideline for lack of effect that the efficacy
#   boundaries ignore, so the DMC may overrule it.
# - **Harm guideline**: a rule to review stopping when the treatment appears worse.
# - **Repeated confidence interval**: a CI valid simultaneously at every look of the plan.
# - **Conditional power**: the probability of rejecting at the end given the data so far, under
#   a named hazard ratio for the rest.
