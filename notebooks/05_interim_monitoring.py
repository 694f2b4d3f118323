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
# monitoring committee (DMC) will ask when to look at the data, what result should make it
# recommend stopping for benefit, for harm or for futility, and what an interim result means.
# This notebook argues for the monitoring part of the companion's trial plan
# (`trialnb.plan.PLAN.monitoring`), computes its boundaries and what it costs, plays the DMC on
# the synthetic trial data, and simulates the plan as written. The DMC report
# (`trialnb monitor`), the statistical analysis plan (`trialnb sap`) and the simulations all run
# from the same plan object, so they describe one trial.
#
# *Protocol section covered:* Statistics > "Interim analysis ;" (blank in the protocol).
# Everything below is a proposal for the investigators, not their plan.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Overview
# 1. See, by simulation, why looking at the data repeatedly with the usual 1.96 inflates the
#    type-I error.
# 2. Read the plan's monitoring part and the reason for each choice: information counted in
#    primary-endpoint deaths, the primary analysis as the monitored statistic, two-sided
#    O'Brien-Fleming-type boundaries with a harm side, non-binding futility, a calendar-driven
#    final analysis, no maturity condition, safety reviews first.
# 3. Read the boundaries on the z, p and hazard-ratio scales, and what the futility guideline
#    costs in deaths (binding or not).
# 4. Play the DMC on the synthetic data: a boundary missed by 0.0002, what one more death
#    changes, the repeated confidence interval, conditional power under three named hazard
#    ratios, the safety review, and when the next look comes.
# 5. Simulate the plan as written: power, stops by look and decision, expected deaths and
#    duration, type-I error with and without the guidelines, and the bias of stopping early.
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | Log-rank test, Cox model, hazard ratio, events | Necessary | notebooks 02 and 04 |
# | Type-I error, power, one-sided vs two-sided | Necessary | notebook 02 |
# | Simulated operating characteristics | Helpful | notebook 06 (`trialnb.simulation`) |
#
# **Time to learn:** 75 minutes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Imports
# The plan (`trialnb.plan.PLAN`), the monitoring engine (`trialnb.monitoring`), the data cut and
# the primary analysis (`trialnb.analysis`), the simulation of the plan (`trialnb.simulation`),
# the DMC report (`trialnb.interim`) and its command (`trialnb.cli`). One seeded generator draws
# the seed of every simulation below that is not the plan's quoted one.

# %%
import contextlib
import io
import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from trialnb import analysis, interim, monitoring
from trialnb.cli import main as trialnb_command
from trialnb.data import load_trial
from trialnb.plan import PLAN
from trialnb.plots import use_style
from trialnb.plots.monitoring import boundary_plot, expected_deaths_plot, peeking_plot
from trialnb.report import fmt_n, fmt_num, fmt_pct
from trialnb.simulation import (Boundaries, SeedStream, naive_type_one_error, plan_operating_characteristics,
                                simulate_sequential)

SEED = 20201120
next_seed = SeedStream(SEED)  # a seed for each simulation, in order, from the notebook's one stream
use_style()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Why a plan: peeking inflates the type-I error
# Suppose the investigators analysed the trial after every fifth of the deaths and declared
# benefit the first time the one-sided p-value fell below 0.025 (benefit z ≥ 1.96), as if each
# look were the only one. We simulate the trial under **no effect** (HR = 1) with the plan's
# design and analysis (the adjusted Cox model of death within 24 months, 236 patients,
# minimization, 10% drop-out) and count how often it "finds" a benefit with one to four
# equally spaced looks. The sign convention throughout: benefit of surgery (arm A) is HR < 1,
# and the *benefit z* compared with a boundary is positive when arm A does better.

# %%
peek = []
for k in (1, 2, 3, 4):
    naive = Boundaries(tuple(np.arange(1, k + 1) / k), (stats.norm.isf(0.025),) * k)
    res = simulate_sequential(PLAN, 4000, seed=next_seed(), truth={"hazard_ratio": 1.0}, boundaries=naive)
    peek.append({"looks": k, "type-I error": res.power, "MC SE": res.power_se, "normal theory": naive_type_one_error(k)})
peek = pd.DataFrame(peek).set_index("looks")
print("\n".join(f"{k} look(s): simulated {fmt_pct(r['type-I error'])} (MC SE {fmt_pct(r['MC SE'])}); "
                f"normal theory {fmt_pct(r['normal theory'])}" for k, r in peek.iterrows()))

# %% [markdown]
# Each extra look is one more chance of a false alarm. The looks share most of their data, so
# the error grows more slowly than k × 2.5%, but it grows: the figure shows it with ±2
# Monte-Carlo standard errors (4,000 simulated trials per point; each simulated value lies
# within two of its standard errors of the normal-theory value).

# %%
fig = peeking_plot(list(peek.index), peek["type-I error"], peek["MC SE"], 0.025,
                   title="Naive repeated testing under HR = 1 (4,000 simulated trials each)")
plt.show()

# %% [markdown]
# > **For reviewers.** "Normal theory" is 1 − P(Z₁ < 1.96, …, Z_k < 1.96) with
# > corr(Z_i, Z_j) = √(t_i/t_j) for equally spaced looks (Armitage, McPherson & Rowe 1969;
# > `trialnb.simulation.naive_type_one_error`). The simulation analyses synthetic trials with
# > the plan's Cox model at the calendar date of each look's primary-endpoint deaths, the last
# > look at the plan's calendar-driven final (more deaths than planned, see section 2), so the
# > two columns are independent routes to nearly the same quantity. A group-sequential design
# > chooses the boundaries so that the *total* probability of crossing stays at its alpha.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The plan's monitoring part, argued
# The companion's plan is one object, `trialnb.plan.PLAN`, with three parts: the design
# assumptions, the analysis plan and the monitoring plan. Its summary, then the monitoring
# part item by item:

# %%
print(PLAN.summary())
PLAN.monitoring.table()

# %% [markdown]
# **Information is counted in primary-endpoint deaths.** The primary endpoint is survival at two
# years, analysed by the Cox model of death *within 24 months* of randomization (notebook 04).
# A death in month 30 after randomization is not part of it, and the statistic gains nothing
# from it, so the looks count deaths within 24 months. The plan needs at most 66 of them
# (section 3) and holds its interim at half: the 33rd.
#
# **The monitored statistic is the primary analysis itself.** The DMC sees the Wald z of the arm
# coefficient in the adjusted Cox model, the very test of the final analysis; its information
# is about one quarter of the deaths, like the log-rank test's, so the boundaries of a design
# counted in deaths apply to it.

# %%
print(f"statistic: {PLAN.analysis.statistic_label()}")
print(f"planned maximum of primary-endpoint deaths: {monitoring.plan_max_events(PLAN)}; "
      f"interim at {monitoring.plan_interim_events(PLAN)[0]} (information fraction "
      f"{fmt_num(PLAN.monitoring.information_rates[0], 2)})")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Two-sided boundaries, and the harm side
# The protocol tests at two-sided 5% (z(α/2) = 1.96, Statistics > Sample size calculation):
# it can conclude that the offer of surgery helps *or* that it harms. The plan therefore has two
# symmetric Lan-DeMets O'Brien-Fleming-type boundaries (`asOF`), each spending half of the 5%:
# an efficacy boundary for benefit and its mirror image, a **formal harm boundary**, at the
# interim and at the final analysis. Inside the formal harm boundary sits a **harm guideline**
# for the interim: the DMC reviews stopping when the benefit z is −2.326 or below (one-sided
# p ≤ 0.01 that surgery is worse), because surgery carries an early perioperative risk that
# should not need O'Brien-Fleming's level of proof to be acted on. The **futility guideline**
# is non-binding: the DMC may recommend stopping when the benefit z is 0 or below (benefit
# z ≤ 0: the observed hazard ratio is 1 or worse); the boundaries ignore it.

# %%
design = monitoring.plan_design(PLAN)
print(design.summary())
print(f"harm guideline at the interim: benefit z <= {fmt_num(PLAN.monitoring.harm_z, 3)}, probability "
      f"{fmt_pct(stats.norm.cdf(PLAN.monitoring.harm_z), 2)} when surgery has no effect; futility guideline: "
      f"benefit z <= {fmt_num(PLAN.monitoring.futility_z, 0)}, probability "
      f"{fmt_pct(stats.norm.cdf(PLAN.monitoring.futility_z), 0)} when surgery has no effect")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### When is the final analysis? At a calendar date, not at 66 deaths
# An event-driven design holds its final analysis when the planned deaths have occurred. This
# plan does not: its final analysis comes when the **last patient randomized has completed 24
# months** (`final_analysis="calendar"`), whatever the number of deaths. The primary endpoint is
# death within 24 months, so only then is every patient's endpoint known; the boundary of the
# final look is recalculated from the deaths it actually has (alpha spending keeps the type-I
# error whatever that number is). Counting deaths instead would go wrong both ways, as the
# expected timing of the looks shows (236 patients over 36 months, arm B's two-year survival
# exp(−0.5), 10% drop-out; rpact's `analysisTime` formulas):

# %%
timing = {hr: {final: monitoring.plan_analysis_times(PLAN, final=final, hazard_ratio=hr)
               for final in ("calendar", "events")} for hr in (0.5, 0.4)}
for hr, t in timing.items():
    print(f"HR {fmt_num(hr, 1)}, calendar-driven final:\n{t['calendar'].summary()}")
    print(f"HR {fmt_num(hr, 1)}, event-driven final at 66 deaths:\n{t['events'].summary()}\n")

# %% [markdown]
# Under no effect (H0) an event-driven final at 66 deaths would come at about month 38, when
# most patients have been followed for much less than two years: a "final" analysis of two-year
# survival on immature data. Under the design's HR 0.5 it would come at about month 50, and
# under HR 0.4 (a larger benefit) **never**: the 236 patients followed for two years are
# expected to give only about 65 primary-endpoint deaths. The calendar-driven final always
# comes, at month 60, with every patient's endpoint known. The figure draws the expected
# deaths by calendar month:

# %%
months = np.linspace(0, 66, 133)
curves = {f"HR {hr:g}": monitoring.plan_expected_deaths(months, PLAN, hazard_ratio=hr) for hr in (1.0, 0.5, 0.4)}
fig = expected_deaths_plot(months, curves, interim_deaths=monitoring.plan_interim_events(PLAN)[0],
                           max_deaths=monitoring.plan_max_events(PLAN),
                           final_month=PLAN.design.accrual_months + PLAN.analysis.censor_months,
                           title="Expected deaths within 24 months of randomization")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Maturity at the interim: is 33 deaths enough to stop for efficacy?
# At the interim only the patients randomized at least 24 months earlier have completed the
# primary endpoint's follow-up. Under the design's assumptions:

# %%
t_h1 = timing[0.5]["calendar"]
interim_month = float(t_h1.months_h1[0])
complete = float(monitoring.expected_randomized(interim_month - PLAN.analysis.censor_months,
                                                n_patients=PLAN.design.n_patients,
                                                accrual_time=PLAN.design.accrual_months))
print(f"interim expected at month {fmt_num(interim_month, 1)} (HR 0.5): {fmt_num(float(t_h1.randomized_h1[0]), 0)} "
      f"randomized, {fmt_num(complete, 0)} of them followed for 24 months ({fmt_pct(complete / t_h1.randomized_h1[0], 0)})")

# %% [markdown]
# An interim hazard ratio rests on the early part of the survival curves. A plan may add a
# *maturity condition* (`efficacy_min_complete`): no stop for efficacy before a given number of
# patients has completed two years. We simulate the plan with and without one (a quarter of the
# patients, 59), 4,000 trials each under HR 0.5:

# %%
maturity = {}
for label, plan in (("no condition (the plan)", PLAN),
                    ("at least 59 patients followed 24 months", PLAN.with_changes(efficacy_min_complete=59))):
    r = simulate_sequential(plan, 4000, seed=SEED)
    maturity[label] = {"power": fmt_pct(r.power), "stops for benefit at the interim": fmt_pct(float(r.rejection_by_stage[0])),
                       "patients followed 24 months at the interim (mean)": fmt_num(float(np.nanmean(r.complete[:, 0])), 1),
                       "expected duration (months)": fmt_num(r.expected_months, 1),
                       "expected primary deaths": fmt_num(r.expected_events, 1)}
pd.DataFrame(maturity).T

# %% [markdown]
# With 59 patients required, the interim almost never allows an efficacy stop (only when it
# comes late): the condition is a roundabout way of removing the efficacy look, while the
# alpha the look spends (0.3% of the 5%) stays spent. The power barely moves, because the
# trials that would have stopped reject at the final analysis instead, about three and a half
# months later on average. **The plan sets no maturity condition** (`efficacy_min_complete =
# None`), for three reasons: (1) the monitored statistic is the primary analysis itself, whose
# every death is a primary-endpoint death and whose censoring handles incomplete follow-up, so
# under proportional hazards the interim estimates the same hazard ratio with less
# information; (2) the O'Brien-Fleming boundary already asks for a hazard ratio of about 0.36
# or less at the interim (section 3), far beyond the design's 0.5; (3) a boundary crossing is a
# recommendation the DMC weighs with the Kaplan-Meier curves and the repeated confidence
# interval, not an automatic stop, so a DMC that judged the data immature (for example, curves
# that converge) could still recommend continuing. If the investigators want maturity, the
# clean way is a later interim (say at 60% of the deaths), not a condition that silently
# cancels the look.
#
# **Safety comes first.** Every 6 months from the first randomization the DMC reviews the
# operations and the deaths within 30 days of surgery in both arms (arm B patients may be
# operated too, for local progression), before and apart from the efficacy look. At the
# interim the report lists every review up to the cut (section 4).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The design: boundaries on three scales, and what they cost
# The boundary table in the view of gsDesign's `gsBoundSummary`: at each look the deaths, the
# benefit-z bound, the nominal one-sided p-value at the bound (what a naive reader would compare
# with 0.025), the hazard ratio that lies exactly on the bound with that many deaths
# (exp(−2z/√D) for 1:1 allocation, the log-rank scale), the mirror-image harm bound, the
# cumulative probability of crossing under H0 and under HR 0.5, and the alpha spent.

# %%
max_events = monitoring.plan_max_events(PLAN)
table = monitoring.boundary_table(design, max_events, hazard_ratio=PLAN.design.hazard_ratio)
pd.DataFrame({
    "deaths": [fmt_num(e, 0) for e in table.deaths],
    "benefit z bound": [fmt_num(z, 3) for z in table.z_bound],
    "nominal p (each side)": [fmt_num(p, 4) for p in table.nominal_p],
    "HR at the efficacy bound": [fmt_num(h, 3) for h in table.hr_bound],
    "HR at the harm bound": [fmt_num(h, 3) for h in table.reverse_hr_bound],
    "P(benefit crossing) under H0": [fmt_num(p, 4) for p in table.efficacy_h0],
    "P(benefit crossing) under HR 0.5": [fmt_num(p, 4) for p in table.efficacy_h1],
    "alpha spent (both sides)": [fmt_num(a, 4) for a in table.alpha_spent],
}, index=pd.Index([1, 2], name="look"))

# %% [markdown]
# At the interim only a hazard ratio of 0.356 or below crosses, far below the design's 0.5; at
# the final analysis 0.616 or below. The final test is at nominal p 0.0245 on each side instead
# of the fixed design's 0.025: that is all the interim costs in alpha. The same boundaries
# drawn (the dotted line is the harm guideline, inside the harm boundary):

# %%
fig = boundary_plot(design, max_events, harm_z=PLAN.monitoring.harm_z,
                    title=f"The plan: interim at {monitoring.plan_interim_events(PLAN)[0]} of {max_events} deaths")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### What the futility guideline costs in deaths
# The maximum number of deaths is the fixed design's Schoenfeld number times the design's
# *inflation factor*. A futility rule stops some trials that would have succeeded, so a design
# whose power counts on the rule being followed needs a few more deaths. Whether it does
# depends on how the rule enters the boundaries:

# %%
fixed = monitoring.sequential_sample_size(monitoring.design(1, alpha=0.05, sided=2), PLAN.design.hazard_ratio)
rows = [("fixed design (no interim)", 1.0, fixed.max_events)]
for label, d in (("the plan: efficacy boundaries, futility ignored", monitoring.plan_benefit_design(PLAN)),
                 ("futility at z = 0, binding", monitoring.plan_benefit_design(PLAN, futility=True, binding=True)),
                 ("futility at z = 0, non-binding, power assuming it is followed",
                  monitoring.plan_benefit_design(PLAN, futility=True))):
    rows.append((label, d.inflation_factor, monitoring.sequential_sample_size(d, PLAN.design.hazard_ratio).max_events))
pd.DataFrame([{"design": lab, "inflation factor": fmt_num(f, 4), "deaths (exact)": fmt_num(e, 2),
               "deaths (rounded up)": fmt_n(math.ceil(e))} for lab, f, e in rows]).set_index("design")

# %% [markdown]
# A **binding** futility bound at z = 0 lowers the final boundary (a trial stopped for futility
# can no longer reject later, so less alpha is at risk) and needs an inflation factor of only
# about 1.008: still 66 deaths. The **non-binding** bound leaves the efficacy boundaries as they
# are, so the type-I error holds whether or not the DMC follows it; if the power is to assume
# that the rule is always followed, the inflation factor is about 1.012 and the design needs
# 67 deaths. The plan keeps 66 and a non-binding guideline: its power at 66 deaths is 80% if the
# guideline is ignored, and slightly less if it is always followed (section 5 simulates it).

# %% [markdown]
# > **For reviewers: cross-check against R `rpact`.** `tests/reference/rpact_monitoring.R` runs
# > `getDesignGroupSequential(kMax = 2, typeOfDesign = "asOF", sided = 2, alpha = 0.05)` and
# > `getPowerSurvival(..., maxNumberOfEvents = 66, hazardRatio = 0.5)` (rpact 3.3.4) and commits
# > the values to `rpact_monitoring.json` (case `plan_asOF_k2_sided2`); the tests
# > (`tests/test_monitoring_boundary_table.py`) compare every column. The same numbers here:

# %%
ref = {c["id"]: c for c in json.loads(Path("../tests/reference/rpact_monitoring.json").read_text())["powers"]}
ref = ref["plan_asOF_k2_sided2"]
check = [("HR at the efficacy bound, look 1", ref["criticalValuesEffectScale"][0], table.hr_bound[0]),
         ("HR at the efficacy bound, look 2", ref["criticalValuesEffectScale"][1], table.hr_bound[1]),
         ("HR at the harm bound, look 1", ref["criticalValuesEffectScaleReverse"][0], table.reverse_hr_bound[0]),
         ("P(reject) at look 1 under HR 0.5", ref["rejectPerStageH1"][0], table.reject_h1[0]),
         ("power (either side) under HR 0.5", ref["overallReject"][1], table.reject_h1[-1]),
         ("type-I error (either side)", ref["overallReject"][0], table.reject_h0[-1]),
         ("expected deaths under HR 0.5", ref["expectedNumberOfEvents"][1], table.expected_deaths_h1)]
pd.DataFrame([{"quantity": q, "rpact": fmt_num(a, 6), "trialnb": fmt_num(b, 6), "|difference|": f"{abs(a - b):.1e}"}
              for q, a, b in check]).set_index("quantity")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. What the DMC sees at the interim
# The synthetic trial `data/trial_protocol.csv` was generated under the protocol's assumptions
# (HR 0.5; `data/README.md`); it is not real patients. The interim falls on the calendar month
# of the 33rd death within 24 months of randomization.

# %%
trial = load_trial("../data/trial_protocol.csv")
interim_deaths = monitoring.plan_interim_events(PLAN)[0]
month = interim.death_month(trial, interim_deaths)
print(f"{fmt_n(len(trial))} patients in the file; primary-endpoint death number {interim_deaths} occurs at month "
      f"{fmt_num(month, 2)}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Before the look: when will it come?
# The DMC and the trial office need the date of the interim in advance. At the safety review of
# month 24 we predict, from the data as known then and blinded to the arms, the calendar month
# of the 33rd primary-endpoint death (`trialnb.monitoring.predict_deaths`, what R `eventPred`
# does): enrollment, time to death and drop-out are each fitted by maximum likelihood to the
# data so far, and every simulated future draws its own parameters (their uncertainty) and its
# own model, chosen with probability equal to its Akaike weight (model averaging, Buckland,
# Burnham & Augustin 1997).

# %%
at24 = analysis.cut_at(trial, 24.0)
prediction = monitoring.predict_deaths(at24, 24.0, interim_deaths, n_planned=PLAN.design.n_patients,
                                       censor_months=PLAN.analysis.censor_months, seed=SEED)
print(prediction.summary())
prediction.models_frame().round(3)

# %% [markdown]
# The 80% prediction interval covers the month the 33rd death actually came (printed above).
# The interim report attaches the same prediction, as `next_look`, whenever an event-driven
# look is still ahead; after this plan's interim the next look is the calendar-driven final, so
# the question becomes "when does enrollment end?" (below).

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The report at the interim
# The report cuts the file at the interim's month (`trialnb.analysis.cut_at`: only what was
# known then) and lists who is in the analysis, the primary-endpoint deaths and the information
# fraction, the plan's statistic with its hazard ratio and **repeated** confidence interval
# (valid whatever happens at later looks), the boundary recalculated at the deaths actually
# observed, the repeated p-value, conditional power under three named hazard ratios, the
# guidelines, the maturity of the data and the safety review.

# %%
rep = interim.interim_report(trial, month)
print(rep.summary())

# %% [markdown]
# **A boundary is a line.** The benefit z and the boundary, to five decimals:

# %%
print(f"benefit z {fmt_num(rep.benefit_z, 5)}; boundary {fmt_num(rep.boundary, 5)}; "
      f"short by {fmt_num(rep.boundary - rep.benefit_z, 5)}")
print(f"repeated CI upper limit {fmt_num(rep.rci_upper, 4)}; repeated p-value {fmt_num(rep.repeated_p_value, 5)}; "
      f"median-unbiased hazard ratio: {'not defined (no boundary crossed)' if math.isnan(rep.median_unbiased_hr) else fmt_num(rep.median_unbiased_hr, 2)}")

# %% [markdown]
# The interim misses the efficacy boundary by two ten-thousandths of a z unit, and the plan says
# **continue**. There is nothing to round: the boundary is where the plan spends its alpha, and
# a result on the wrong side of it, however close, does not cross. The three numbers agree, as
# they must: the repeated 95% confidence interval just reaches 1, the repeated p-value is just
# above 0.05, the benefit z just below the bound. The median-unbiased estimate, which corrects
# the estimate of a trial that *stops* at a boundary, is defined only at a crossing. The report
# says what the plan says of the look; the DMC recommends, the steering committee decides, and
# "stop" is never the report's word. A DMC seeing this result would weigh the trend, the safety
# review and any external evidence; the plan's rule, fixed in advance, is what protects the
# type-I error.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The repeated confidence interval of the plan's own estimate
# The report's interval is exp(b ± c·SE) with the Cox coefficient b, its standard error SE and
# the boundary c of the look (Jennison & Turnbull 2000, ch. 9). By hand, beside the log-rank
# approximation (log HR ≈ −2·benefit z/√D, SE ≈ 2/√D), which a DMC dashboard uses when only
# the deaths and a z are typed in:

# %%
b, se, c = rep.primary.log_hr, rep.primary.se, rep.boundary
d_obs = rep.primary_deaths
approx_b, approx_se = -2 * rep.benefit_z / math.sqrt(d_obs), 2 / math.sqrt(d_obs)
by_arm = rep.primary_deaths_by_arm
print(f"SE of log HR: Cox {fmt_num(se, 3)}; 2/sqrt(D) {fmt_num(approx_se, 3)}; "
      f"sqrt(1/{by_arm['A']} + 1/{by_arm['B']}) {fmt_num(math.sqrt(1 / by_arm['A'] + 1 / by_arm['B']), 3)}")
pd.DataFrame({
    "log HR (SE)": [f"{fmt_num(b, 3)} ({fmt_num(se, 3)})", f"{fmt_num(approx_b, 3)} ({fmt_num(approx_se, 3)})"],
    "hazard ratio": [fmt_num(math.exp(b), 3), fmt_num(math.exp(approx_b), 3)],
    "repeated CI": [f"{fmt_num(math.exp(b - c * se), 3)} to {fmt_num(math.exp(b + c * se), 3)}",
                    f"{fmt_num(math.exp(approx_b - c * approx_se), 3)} to {fmt_num(math.exp(approx_b + c * approx_se), 3)}"],
    "report": [f"{fmt_num(rep.rci_lower, 3)} to {fmt_num(rep.rci_upper, 3)}", ""],
}, index=pd.Index(["Cox coefficient and its SE (the plan's estimate)", "log-rank approximation (labelled as such)"],
                  name="route"))

# %% [markdown]
# The approximation takes SE = 2/√D, which holds when the deaths split evenly between the arms
# (a hazard ratio near 1). Here they split 9 to 24, and the SE of a log hazard ratio is then
# close to √(1/D_A + 1/D_B), as the Cox model's is; the approximation's interval is too narrow
# and centred on another estimate. The report always gives the plan's own estimate with its own
# SE, and the dashboard says when it uses the approximation.
#
# **Conditional power names its hazard ratio.** It is the probability of rejecting at the
# final analysis given the data so far, on the design recalculated for the information actually
# observed (rpact's `getAnalysisResults` with `maxInformation`), and it depends entirely on what
# one assumes for the deaths still to come: the *observed* HR (the trend continues), the
# *design's* HR 0.5, or *no effect* (HR 1).

# %%
pd.DataFrame([{"assumed hazard ratio for the deaths to come": name, "conditional power": fmt_pct(p)}
              for name, p in rep.conditional_power.items()]).set_index("assumed hazard ratio for the deaths to come")

# %% [markdown]
# Even with no effect from now on, the trial has a 57% chance of rejecting at the end: the
# deaths already observed carry a strong trend. Conditional power answers "if the future looks
# like X"; it is not the probability that surgery works.
#
# > **For reviewers.** The recalculated boundary, the repeated CI and p-value and conditional
# > power come from `trialnb.monitoring.analyse(..., max_information=66)` with the Cox
# > coefficient and its SE (the Wald route), rpact's `getAnalysisResults` with `maxInformation`;
# > `tests/reference/rpact_monitoring.R` holds off-plan looks (cases `maxinfo_*` and
# > `cp_maxinfo_*`) that `tests/test_monitoring.py` and `tests/test_monitoring_wald.py` compare.
# > The cut and the Cox fit are compared with R `survival` on cuts of this file
# > (`tests/reference/survival_coxph.R`, `tests/test_interim.py`), and `tests/test_interim.py`
# > recomputes the report's numbers independently.
#
# The same look on the boundary plot: the star is the observed benefit z, the open diamond the
# boundary recalculated at the observed deaths.

# %%
fig = boundary_plot(design, max_events, observed_events=[rep.primary_deaths], observed_z=[rep.benefit_z],
                    critical_values=[rep.boundary], harm_z=PLAN.monitoring.harm_z,
                    title=f"Interim at month {fmt_num(month, 2)}: {rep.primary_deaths} primary-endpoint deaths")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### One death later
# Suppose the DMC looked again a few days later, at month 30, when the 34th primary-endpoint
# death has been reported. With the look at 33 deaths already taken, this is a second,
# **unscheduled** look: its boundary spends what the O'Brien-Fleming-type function allows at 34
# of 66 deaths beyond what the interim at 33 spent.

# %%
rep30 = interim.interim_report(trial, 30.0, predict=False)
moved = monitoring.analyse(design, [rep30.primary_deaths], log_hazard_ratio=[rep30.primary.log_hr],
                           standard_error=[rep30.primary.se], direction_upper=False, max_information=float(max_events))
pd.DataFrame([
    {"look": "the plan's interim (33 deaths)", "benefit z": fmt_num(rep.benefit_z, 3),
     "boundary": fmt_num(rep.boundary, 3), "what the plan says": rep.decision},
    {"look": "unscheduled look at 34 deaths, after the one at 33", "benefit z": fmt_num(rep30.benefit_z, 3),
     "boundary": fmt_num(rep30.boundary, 3), "what the plan says": rep30.decision},
    {"look": "(had the interim been held at 34 deaths instead)", "benefit z": fmt_num(rep30.benefit_z, 3),
     "boundary": fmt_num(float(moved.critical_values[0]), 3), "what the plan says": "—"},
]).set_index("look")

# %% [markdown]
# The 34th death moves the hazard ratio further from 1 and the benefit z above the recalculated
# boundary: crossed. Alpha spending allows this: the number and timing of looks need not be
# fixed in advance, and each look spends what the function allows at its information (Lan &
# DeMets 1983), so a look taken one death later, or an extra look, keeps the overall type-I error
# *provided the decision to look does not depend on the results*. Here it would: the look is
# taken *because* the interim just missed. Choosing when to look from the trend breaks the
# assumption that protects the error (Proschan, Follmann & Waclawiw 1992). The last row shows
# that a look simply held at 34 deaths would have had a lower boundary than either: the plan's
# date for the interim, not the DMC's reading of the data, must fix when the look is.
#
# What the DMC charter should say: the efficacy looks are the interim at the 33rd
# primary-endpoint death and the calendar-driven final; an unscheduled look is for safety, or
# for a reason recorded beforehand that does not depend on the efficacy trend (for example new
# external evidence); at any look the boundary comes from the spending function at the
# information reached, with every earlier look counted; after an interim that does not cross,
# the next efficacy look is the final one.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The safety review: only what was known at the cut
# The perioperative deaths at each scheduled review (every 6 months from the first
# randomization), in both arms, as the report lists them:

# %%
pd.DataFrame([{"review at month": fmt_num(s.month, 2),
               "operated, arm A": s.operated["A"], "deaths within 30 days of surgery, arm A": s.perioperative_deaths["A"],
               "operated, arm B": s.operated["B"], "deaths within 30 days of surgery, arm B": s.perioperative_deaths["B"]}
              for s in rep.safety_reviews]).set_index("review at month")

# %% [markdown]
# A cut keeps only what was known at its date. The trial file holds *final* values: a patient
# randomized before the cut but operated after it is marked "operated" in the file. Counting the
# file's values for the patients randomized by the cut (what a first version of the report did)
# counts operations that had not happened yet; `trialnb.analysis.cut_at` masks them:

# %%
leak = []
for m in (29.1, month):
    randomized = trial[trial["entry_month"] <= m]
    cut = analysis.cut_at(trial, m)
    for arm in ("A", "B"):
        final_value = int(randomized.loc[randomized["arm"] == arm, "operated"].sum())
        known = int(cut.loc[cut["arm"] == arm, "operated"].sum())
        leak.append({"cut-off month": fmt_num(m, 2), "arm": arm, "operated (the file's final value)": final_value,
                     "operated by the cut-off": known, "operated after the cut-off": final_value - known})
pd.DataFrame(leak).set_index(["cut-off month", "arm"])

# %% [markdown]
# At month 29.1, 13 arm-A operations happened after the cut: a report that counted them would
# have quietly used the future. Fields the case report form records without a date (unplanned
# local therapies, loss to follow-up, per-protocol status) are set to missing in a cut for the
# same reason (`tests/test_interim.py` holds as a property that nothing dated after the cut can
# change the report).

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### After the interim: when is the final analysis?
# The final analysis comes when the last patient randomized has completed 24 months, so its
# date is the end of enrollment plus 24 months. From the data as of the interim (blinded), the
# same prediction tells when enrollment will end, and how often an event-driven final at 66
# primary-endpoint deaths would never have come:

# %%
cut_interim = analysis.cut_at(trial, month)
final_prediction = monitoring.predict_deaths(cut_interim, month, max_events, n_planned=PLAN.design.n_patients,
                                             censor_months=PLAN.analysis.censor_months, seed=SEED)
end = final_prediction.to_frame().set_index("quantity").loc["month enrollment completes"]
print(f"enrollment completes at month {fmt_num(end['median'], 1)} (80% prediction interval {fmt_num(end['80% lower'], 1)} "
      f"to {fmt_num(end['80% upper'], 1)}): the calendar-driven final at month "
      f"{fmt_num(end['median'] + PLAN.analysis.censor_months, 1)} ({fmt_num(end['80% lower'] + PLAN.analysis.censor_months, 1)} "
      f"to {fmt_num(end['80% upper'] + PLAN.analysis.censor_months, 1)})")
print(f"primary-endpoint death number {max_events} never comes in {fmt_pct(final_prediction.probability_not_reached)} "
      "of the simulated futures")
print(f"(the synthetic file's last randomization: month {fmt_num(float(trial['entry_month'].max()), 2)})")

# %% [markdown]
# In about one simulated future in three, the 236 patients followed for two years give fewer
# than 66 primary-endpoint deaths: an event-driven final would have had to wait for deaths that
# never come. The prediction of the end of enrollment covers the file's actual last
# randomization (printed above).
#
# ### The command
# The same report is a command for the trial office: `trialnb monitor --data
# data/trial_protocol.csv --cutoff-month 29.75 --json` prints it as one JSON object (without
# `--json`: text; `--html PATH`: a self-contained page). Here it is run from Python, printing a
# few of its keys:

# %%
with contextlib.redirect_stdout(io.StringIO()) as out:
    trialnb_command(["monitor", "--data", "../data/trial_protocol.csv", "--cutoff-month", str(month), "--json"])
report_json = json.loads(out.getvalue())
print(json.dumps({k: report_json[k] for k in ("cutoff_month", "look", "unscheduled", "randomized", "primary_deaths",
                                              "information_fraction", "statistic", "z", "boundary", "decision",
                                              "hazard_ratio", "rci_lower", "rci_upper", "repeated_p_value",
                                              "conditional_power", "operated_by_cutoff", "perioperative_deaths",
                                              "next_look")}, indent=1))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Operating characteristics of the plan as written
# The plan simulated as it is written: trials drawn from the plan's design (236 patients,
# minimization, prognostic factors, 10% drop-out), the interim at the calendar date of the 33rd
# primary-endpoint death, the adjusted Cox Wald z at every look, the guidelines followed, the
# calendar-driven final with its boundary recalculated from the deaths it has. The SAP
# (`trialnb sap`) quotes these numbers from the same call, with the same number of trials and
# seeds (`trialnb.simulation.plan_operating_characteristics`, 4,000 trials per scenario):

# %%
oc = plan_operating_characteristics(PLAN)
f = oc.to_frame()
pd.DataFrame({
    "rejects for benefit (MC SE)": [f"{fmt_pct(p)} ({fmt_pct(s)})" for p, s in zip(f["benefit"], f["benefit_se"])],
    "rejects for harm (MC SE)": [f"{fmt_pct(p)} ({fmt_pct(s)})" for p, s in zip(f["harm"], f["harm_se"])],
    "interim: benefit": [fmt_pct(p) for p in f["interim_benefit"]],
    "interim: futility guideline": [fmt_pct(p) for p in f["interim_futility"]],
    "interim: harm guideline": [fmt_pct(p) for p in f["interim_harm_guideline"]],
    "interim: harm boundary": [fmt_pct(p) for p in f["interim_harm"]],
    "expected primary deaths (MC SE)": [f"{fmt_num(e, 1)} ({fmt_num(s, 1)})" for e, s in zip(f["expected_deaths"], f["expected_deaths_se"])],
    "expected duration, months (MC SE)": [f"{fmt_num(e, 1)} ({fmt_num(s, 1)})" for e, s in zip(f["expected_months"], f["expected_months_se"])],
    "interim month (mean)": [fmt_num(m, 1) for m in f["interim_month"]],
}, index=f.index).T

# %% [markdown]
# Read it column by column. Under HR 0.5 the plan has about 80% power, stops for benefit at the
# interim in about one trial in nine, and ends on average four to five months before month 60.
# Under no effect, following the guidelines, it rejects for benefit in 2.5% of trials and for
# harm in almost none: the futility guideline stops half of the trials at the interim, and the
# harm guideline a few more, before they could reach the harm boundary. Ignoring the guidelines
# (the same trials), the two-sided type-I error is the design's: about 2.5% for benefit plus
# 2.5% for harm. The expected deaths under no effect are above 66 because the final is
# calendar-driven: every patient is followed 24 months, and with no benefit more of them die.
#
# Every way a trial can end, by look (each table sums to 1):

# %%
by_look = pd.concat({"HR 0.5": oc.benefit.decisions_by_stage(), "HR 1, guidelines followed": oc.null.decisions_by_stage()})
by_look.map(fmt_pct)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Stopping early exaggerates the effect
# A trial that stops at the interim stopped because its estimate was extreme. Among the
# simulated trials under HR 0.5 that crossed the efficacy boundary at the interim, the estimated
# log hazard ratio is on average below the true ln 0.5 (negative bias = an exaggerated benefit),
# while over every trial at the interim it is close to the truth:

# %%
bias, bias_se = oc.benefit.conditional_bias(1), oc.benefit.conditional_bias_se(1)
print(f"trials stopping for benefit at the interim: {fmt_pct(float(oc.benefit.rejection_by_stage[0]))}; mean bias of "
      f"their log HR {fmt_num(bias, 3)} (MC SE {fmt_num(bias_se, 3)}): their average estimate is "
      f"HR {fmt_num(math.exp(math.log(PLAN.design.hazard_ratio) + bias), 2)} for a true HR "
      f"{fmt_num(PLAN.design.hazard_ratio, 1)}")
print(f"every trial at the interim (stopped or not): mean bias {fmt_num(oc.benefit.unconditional_bias(1), 3)}")

# %% [markdown]
# In words: a trial stopped early for benefit will, on average, report a hazard ratio about half
# the true one. This is not a defect of the estimate (over all trials it is nearly unbiased), it
# is what selecting the lucky trials does. It is why the report gives the median-unbiased
# estimate at a crossing, and why a trial that stops early should be read with the randomized
# evidence beside it (notebook 08).

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### A labelled comparison: the event-driven log-rank version against rpact
# rpact's `getSimulationSurvival` simulates a simpler design: the unadjusted log-rank test on
# all deaths, looks at death counts (33 and 66), no drop-out, no prognostic factors, permuted
# blocks, one-sided 2.5%. The same design as a plan (`PLAN.with_changes(statistic="logrank",
# censor_months=None, final_analysis="events", ...)`), 20,000 trials (rpact ran 20,000 too), so
# that a difference can be judged against the combined Monte-Carlo error:

# %%
rpact_sim = json.loads(Path("../tests/reference/rpact_sequential_sim.json").read_text())["cases"][0]
comparison = PLAN.with_changes(
    n_patients=236, accrual_months=36.0, dropout_probability=0.0, allocation="blocks",
    hr_soft_tissue=1.0, hr_visceral=1.0, hr_hr_negative=1.0, hr_her2_positive=1.0,
    statistic="logrank", censor_months=None, alpha=0.025, sided=1, final_analysis="events", futility_z=None, harm_z=None)
ours = simulate_sequential(comparison, 20000, seed=next_seed(), truth={"hazard_ratio": rpact_sim["hazard_ratio"]},
                           label="labelled comparison: log-rank, all deaths, event-driven")
rows = []
for q, a, b_ in (("power", rpact_sim["overall_reject"], ours.power),
                 ("rejects at look 1", rpact_sim["reject_per_stage"][0], float(ours.rejection_by_stage[0])),
                 ("rejects at look 2", rpact_sim["reject_per_stage"][1], float(ours.rejection_by_stage[1]))):
    se = math.sqrt(a * (1 - a) / rpact_sim["iterations"] + b_ * (1 - b_) / ours.n_trials)
    rows.append({"quantity": q, f"rpact ({fmt_n(rpact_sim['iterations'])} trials)": fmt_pct(a, 2),
                 f"trialnb ({fmt_n(ours.n_trials)} trials)": fmt_pct(b_, 2),
                 "difference / combined MC SE": fmt_num((b_ - a) / se, 2)})
pd.DataFrame(rows).set_index("quantity")

# %% [markdown]
# The differences are within about two combined Monte-Carlo standard errors (the tests in
# `tests/test_simulation_sequential.py` require four, on every rpact case). With a few
# thousand trials a point or two between the two programs is noise: a 3,000-trial power has a
# Monte-Carlo SE of about 0.7 points, so a comparison must show its error or use enough trials.
# This design is not the plan: it ignores the 24-month endpoint, the adjustment, the drop-out
# and the calendar-driven final, and its power (about 79%) is not the plan's.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Explore other plans
# Move the number of looks, the timing of the first look and the spending function: the panel
# shows the boundaries, the maximum number of deaths and the power at HR 0.5 (the plan with
# those changes). Its display is not compared by nbval: widgets render only with a live kernel.

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.monitoring import DesignExplorer

explorer = DesignExplorer()
explorer.root

# %% [markdown]
# Setting a control from code works like moving it by hand: a Pocock-type spending function
# spends more alpha early and needs more deaths at most.

# %%
print(f"O'Brien-Fleming type: {monitoring.plan_max_events(explorer.plan)} deaths at most")
explorer.spending.value = "asP"
print(f"Pocock type:          {monitoring.plan_max_events(explorer.plan)} deaths at most")
explorer.spending.value = "asOF"

# %% [markdown]
# The DMC's own dashboard, `notebooks/dashboards/monitoring.ipynb`, shows the report of this
# section with a slider for the cut-off month. The Bayesian reading of the same interim (how
# far the data move priors built from the randomized evidence, the predictive probability of
# success, a futility guideline on that scale) is in
# [notebook 08, section 7](08_evidence.ipynb).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - The protocol has no interim plan. Looking repeatedly at 1.96 inflates the one-sided type-I
#   error well above 2.5% (section 1).
# - The plan (`PLAN.monitoring`): one interim at half of the 66 planned deaths within 24 months;
#   the monitored statistic is the primary analysis (adjusted Cox Wald z); two-sided symmetric
#   O'Brien-Fleming-type boundaries (benefit z ≥ 2.963 or ≤ −2.963 at 33 deaths); a harm
#   guideline at benefit z ≤ −2.326 and a non-binding futility guideline at benefit z ≤ 0; a
#   calendar-driven final analysis when the last patient has completed 24 months; no maturity
#   condition; perioperative safety reviews in both arms every 6 months, before the efficacy
#   look.
# - A binding futility bound at z = 0 would still need 66 deaths; 67 is what a non-binding
#   design needs if its power assumes the rule is always followed.
# - On the synthetic data, the interim at the 33rd death misses the boundary by 0.0002: continue.
#   A look one death later would cross, but an unscheduled look chosen because the interim just
#   missed is exactly what a DMC charter must rule out.
# - Simulated as written: about 80% power under HR 0.5, 2.5% type-I error for benefit, half of
#   the null trials stopped by the futility guideline; trials stopped early report an
#   exaggerated benefit.
#
# ## Exercises
# Each exercise starts unanswered. Replace `None` with your answer and run the cell: the check
# says whether it is right and why. Numbers may be rounded, and a proportion may be given as
# `0.07`, `7` or `"7%"`. Stuck? `hint=1` gives a nudge, `hint=2` the method.

# %%
from trialnb.exercises.monitoring import (check_conditional_power, check_first_look_bound, check_maturity,
                                          check_naive_peeking)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1
# With **five** equally spaced looks, each tested at z ≥ 1.96 as if it were the only one, what
# is the overall one-sided type-I error?

# %%
answer = None
check_naive_peeking(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2
# What is the plan's efficacy boundary (benefit z) at its interim, at half of the planned
# deaths (two-sided 0.05, symmetric Lan-DeMets O'Brien-Fleming-type spending)?

# %%
answer = None
check_first_look_bound(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3
# At an interim with 33 primary-endpoint deaths the plan's z is −1.0 (favouring surgery). With
# 33 more deaths planned for the final look and the plan's design, what is the conditional power
# **assuming the design's HR 0.5** for the remaining deaths?

# %%
answer = None
check_conditional_power(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 4
# The plan's interim comes at its 33rd primary-endpoint death. Under the design's assumptions
# (HR 0.5), how many patients are expected to have completed their 24 months of follow-up at the
# interim's expected month?

# %%
answer = None
check_maturity(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Glossary
# - **Interim analysis**: a look at the accumulating data before the planned end, by a DMC.
# - **DMC**: data monitoring committee, independent of the investigators; it recommends
#   continuing or stopping.
# - **Group-sequential design**: a plan fixing the looks and their boundaries in advance so that
#   the overall type-I error is controlled.
# - **Alpha spending (Lan-DeMets)**: the cumulative type-I error allowed by each information
#   fraction; O'Brien-Fleming type spends little early, Pocock type more.
# - **Information fraction**: primary-endpoint deaths so far divided by the planned maximum.
# - **Primary-endpoint death**: a death within 24 months of randomization, the deaths the
#   primary analysis uses.
# - **Calendar-driven final analysis**: held at a date (here when the last patient has completed
#   24 months), whatever the number of deaths; its boundary is recalculated from the deaths it has.
# - **Inflation factor**: maximum information of a sequential design relative to the fixed design.
# - **Binding / non-binding futility**: a binding bound enters the efficacy boundaries (it must
#   always be obeyed); a non-binding guideline does not, so the DMC may overrule it.
# - **Harm boundary / harm guideline**: the mirror image of the efficacy boundary in a two-sided
#   plan; a less demanding level at which the DMC reviews stopping for harm.
# - **Maturity condition**: no efficacy stop before enough patients have completed the endpoint's
#   follow-up.
# - **Repeated confidence interval**: a CI valid simultaneously at every look of the plan.
# - **Conditional power**: the probability of rejecting at the end given the data so far, under
#   a named hazard ratio for the rest.
# - **Conditional bias**: the average error of the estimate among the trials that stopped at a
#   look; negative on the log-HR scale means an exaggerated benefit.
