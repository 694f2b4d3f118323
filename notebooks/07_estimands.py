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
# # 07 · What does "two-year survival" estimate? Estimands and the shape of the effect
#
# The protocol names one primary endpoint, "the two-year survival ... the percentage of
# patients who survive two years after randomization", and one analysis, "a Cox regression
# model, with the minimization factors as covariables" (Primary and secondary outcome
# measures; Data analysis). The first is a *milestone* probability, the second a *hazard
# ratio* that summarizes the first two years under proportional hazards. They answer different
# questions and, when hazards are not proportional, they can disagree. Surgery makes
# non-proportional hazards likely: arm A receives systemic therapy first and is operated only
# "if the disease is not progressive" (Clinical Trial Description), so any benefit starts
# months after randomization, and an operation can bring early deaths. This notebook states
# the estimand in the language of ICH E9(R1), draws the hazard shapes surgery can produce,
# and compares eight analyses on the same simulated trials. Every analysis here uses the
# primary endpoint's data: deaths within 24 months of randomization, follow-up censored at 24
# months, as the trial plan says (`trialnb.plan.PLAN.analysis.censor_months`).
#
# *Protocol sections covered:* Primary and secondary outcome measures; Data analysis;
# Treatment options; Statistics > Sample size calculation.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Overview
# 1. Write the trial's estimand: population, variable, intercurrent events and strategies,
#    population-level summary, and what each summary means (and does not mean) for a patient.
# 2. Compute the hazard ratio, the 2-year survival difference, the RMST difference, weighted
#    log-rank tests and MaxCombo on one (synthetic) trial.
# 3. Draw four hazard shapes surgery can produce, compute what each summary's true value is
#    (the Cox model's limit exactly) and show a case where they disagree.
# 4. Compare the power of eight analyses under each shape, for benefit and for harm apart.
# 5. Find the patients needed under realistic non-operation and delay, and write a
#    multiplicity plan with one confirmatory test and a key secondary whose family-wise error
#    is controlled over the interim look.
#
# ## Prerequisites
# | Concept | Importance | Time to learn |
# |---|---|---|
# | Kaplan-Meier, log-rank test, Cox model | Necessary | 30 min (notebook 04) |
# | Simulated power and Monte-Carlo error | Necessary | 20 min (notebook 06) |
# | Intention to treat, non-compliance, crossover | Helpful | 15 min (notebook 06) |
# | Group-sequential boundaries, alpha spending | Helpful | 20 min (notebook 05) |
# | Multiple testing (family-wise error) | Helpful | 15 min |
#
# **Time to learn:** 60 minutes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Imports
# One-trial analyses come from `trialnb.analysis` (computed by the survival engine); the
# simulations from `trialnb.simulation`, whose registry `ANALYSES` names the analyses a
# simulation can apply to the same trials; the true curves and estimands of a design from
# `trialnb.simulation.true_estimands`. One stream of seeds drives the notebook: every
# simulation takes its seed from it, in order.

# %%
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from trialnb import analysis as an
from trialnb.data import load_trial
from trialnb.monitoring import plan_design, plan_secondary_design
from trialnb.plan import FACTOR_NAMES, PLAN
from trialnb.plots import use_style
from trialnb.plots.estimands import plot_power_table, plot_shapes
from trialnb.report import fmt_frame, fmt_n, fmt_num, fmt_pct, fmt_rate
from trialnb.simulation import (ANALYSES, BENEFIT, HARM, SHAPES, SeedStream, equal_survival_shape,
                                naive_type_one_error, required_patients, simulate, simulate_sequential, true_estimands)
from trialnb.survival import survival_at

SEED = 20201120  # the trial's start date
next_seed = SeedStream(SEED)
use_style()
HOMOGENEOUS = PLAN.design.without_prognostic_effects()  # the protocol's own population

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The estimand, in ICH E9(R1) terms
# ICH E9(R1) asks a protocol to say *what* is estimated before *how*. For this trial:
#
# | Attribute | This trial | Source |
# |---|---|---|
# | Treatment | A: systemic therapy followed by surgery of the primary tumour if the disease is not progressive; B: systemic therapy (surgery allowed for local progression) | Clinical Trial Description; Treatment options |
# | Population | de novo metastatic (M1) breast cancer, resectable primary, anticipated survival at least 6 months | Patient selection criteria |
# | Variable | death by 24 months (milestone), or time to death censored at 24 months | Primary outcome: "percentage of patients who survive two years" |
# | Intercurrent event: arm A not operated (progression, refusal, unfitness) | treatment policy: analysed in arm A whatever happens | Data analysis: "complete intent-to-treat population" |
# | Intercurrent event: arm B operated for local progression | treatment policy: analysed in arm B (the protocol allows this surgery "at any time") | Treatment options |
# | Loss to follow-up | not an intercurrent event but missing data: censored, assumed non-informative (10% planned) | Sample size calculation |
# | Population-level summary | the protocol's words name S_A(24) − S_B(24); its analysis names the Cox hazard ratio | Primary outcome; Data analysis |
#
# Death before surgery is not an intercurrent event here: death is the variable itself, so a
# patient of arm A who dies before she could be operated has the outcome the trial measures,
# in the arm she was randomized to.
#
# The treatment-policy strategy makes the estimand "the effect of *offering* surgery after
# systemic therapy", which is what a patient deciding at diagnosis needs. It is diluted by
# non-operation. How much is not known: in post-induction trials 29-34% of registered patients
# were never randomized (E2108, JCOG1017), losses that happened before randomization, and in
# JCOG1017 22.8% of the patients treated progressed within 3 months of systemic therapy
# (exploratory report): a lower bound for the part of an arm A randomized at diagnosis that is
# never operated, before refusal, unfitness or death, with the caveats of
# `references/clinical_evidence.md`, section 3.4. We assume 25-35% in the simulations below;
# that is an assumption, not a published figure for this design.
#
# What each summary answers for a patient:
#
# * **Milestone difference** S_A(24) − S_B(24): "out of 100 patients like me, how many more
#   are alive at two years if surgery is offered?"
# * **RMST difference** (area between the curves to 24 months): "how many months of life,
#   on average, does the offer of surgery add within the first two years?"
# * **Hazard ratio**: the ratio of the two arms' instantaneous death rates among the patients
#   still alive at the same time since randomization. It is *not* "how much lower my risk of
#   dying is": it is neither a ratio of the probabilities of dying by two years nor a reduction
#   of a patient's chance of death (the cell below shows the difference), and it refers to
#   patients still alive at each moment, a group that changes differently in the two arms. It
#   is one number only if the ratio is constant; otherwise the Cox estimate is an average over
#   time whose weights depend on the deaths, the numbers at risk and the censoring (section 3).
#
# Under the protocol's own assumptions (one population, HR 0.5, arm B's 2-year survival
# exp(−0.5)), the three summaries and the ratio of the 2-year risks of death:

# %%
te = true_estimands(HOMOGENEOUS)
risk_a, risk_b = 1 - te["survival_a"], 1 - te["survival_b"]
print(f"hazard ratio {fmt_num(te['conditional_hazard_ratio'], 2)}; 2-year risk of death A {fmt_pct(risk_a)}, "
      f"B {fmt_pct(risk_b)}: risk ratio {fmt_num(risk_a / risk_b, 3)}, risk difference "
      f"{fmt_num(100 * (risk_b - risk_a), 1)} points; RMST difference {fmt_num(te['rmst_difference'], 2)} months")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Three summaries and five tests on one trial
# The synthetic trial of notebook 04 (`data/trial_realistic.csv`, simulated under realistic
# assumptions, not real patients) is analysed with the plan's primary analysis and with each
# estimand's own analysis, all on the primary endpoint's data (follow-up censored at 24
# months):

# %%
df = load_trial("../data/trial_realistic.csv")
primary = an.primary(df, PLAN)
ms = an.milestone(df)
rm = an.rmst_difference(df)
print(primary.summary())
print(ms.summary())
print(rm.summary())

# %% [markdown]
# The tests of "no difference" that fit each shape of effect: the log-rank test (FH(0,0)),
# its late-weighted FH(0,1) and early-weighted FH(1,0) versions, and MaxCombo, the maximum of
# four FH statistics with its p-value from their joint normal distribution. All stratified by
# the minimization factors (`strata="factors"`), MaxCombo too, so its components are the
# stratified FH tests printed above it:

# %%
for rho, gamma in ((0, 0), (0, 1), (1, 0)):
    print(an.weighted_logrank(df, rho, gamma, strata="factors").summary())
mc = an.maxcombo(df, strata="factors")
print(mc.summary())
mc

# %% [markdown]
# FH(0,0) weighs every death equally (weight 1); FH(1,0) weighs a death at time t by S(t−),
# the pooled Kaplan-Meier survival just before it. Over the 24 months of the primary endpoint
# S(t−) falls only from 1 to the pooled 2-year survival printed below, so the two sets of
# weights differ little, and the two statistics are highly correlated (the table above).
# MaxCombo's p-value accounts for the correlation: it lies between the smallest single p-value
# and four times it (Bonferroni).

# %%
pooled = an.primary_data(df, PLAN)
s24, _ = survival_at(pooled["os_months"].to_numpy(), pooled["death"].to_numpy(), 24.0)
print(f"pooled Kaplan-Meier survival at 24 months: {fmt_pct(s24)}; correlation of FH(0,0) and FH(1,0): "
      f"{fmt_num(float(mc.corr[0, 2]), 3)}")

# %% [markdown]
# A piecewise hazard ratio describes how the effect changes over time:

# %%
pw = an.piecewise_hr(df, change_point=6)
print(pw.summary())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Hazard shapes surgery can produce
# Four shapes (`trialnb.simulation.SHAPES`), each a change to the plan's design (control
# 2-year survival 60.7%, HR 0.5): proportional; **delayed benefit** (no effect for 6 months, the
# time surgery takes to happen in a systemic-therapy-first design, e.g. 4-8 months in E2108 and
# about 3 months in JCOG1017, `references/clinical_evidence.md` section 3); **early harm then
# benefit** (perioperative HR 3 for 3 months); **crossing** (HR 2 for 6 months, then 0.6). Top:
# the hazard ratio of an operated patient; bottom: the true survival of each arm.

# %%
shapes = {name: replace(PLAN.design, **kw) for name, kw in SHAPES.items()}
fig = plot_shapes(shapes)
plt.show()

# %% [markdown]
# The true value of each summary under each shape, computed from the model, not simulated:
# the 2-year survival of each arm and their difference, the RMST difference, and the "average"
# hazard ratio a Cox model of deaths within 24 months converges to in a very large trial, with
# the plan's 10% drop-out: the conditional one of the plan's adjusted model and the marginal
# one of a model with the arm alone (the log-rank test's). Under proportional hazards the first
# is the design's 0.5 exactly; the second is pulled towards 1 by the prognostic factors
# (non-collapsibility; notebook 06, section 4).

# %%
rows = []
for name, d in shapes.items():
    t = true_estimands(d)
    rows.append({"shape": name, "average HR, adjusted Cox": t["conditional_hazard_ratio"],
                 "average HR, arm alone": t["marginal_hazard_ratio"],
                 "2-year survival A / B": f"{fmt_pct(t['survival_a'])} / {fmt_pct(t['survival_b'])}",
                 "milestone difference (points)": 100 * t["milestone_difference"],
                 "RMST difference (months)": t["rmst_difference"]})
truth = pd.DataFrame(rows).set_index("shape")
three = lambda x: fmt_num(x, 3)  # noqa: E731
fmt_frame(truth, {"average HR, adjusted Cox": three, "average HR, arm alone": three,
                  "milestone difference (points)": lambda x: fmt_num(x, 1),
                  "RMST difference (months)": lambda x: fmt_num(x, 2)})

# %% [markdown]
# > **For reviewers.** The "average" hazard ratio is the limit of the Cox estimator when hazards
# > are not proportional (Struthers & Kalbfleisch, Biometrika 1986;73:363-369): the root of the
# > limiting score equation, integrated over the factor strata and the first 24 months with the
# > censoring the plan's trial has (`trialnb.simulation.limiting_hazard_ratio`). It depends on
# > the censoring and on the population: in one population with control survival 0.60 and no
# > drop-out the four shapes give 0.500 / 0.644 / 0.880 / 1.019. `tests/test_simulation_truth.py`
# > checks it against an independent scalar derivation (scipy quadrature and root finding),
# > against trials of 20,000 patients fitted by the survival engine (within 4 Monte-Carlo SEs),
# > and against the exact cases (proportional hazards: the design's HR). An earlier version of
# > this notebook showed one simulated trial of 20,000 patients as the truth.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Two summaries, one endpoint
# Under the **crossing** shape the summaries point two ways: the average hazard ratio is above 1
# (it favours arm B) and so is the RMST difference (arm A spent most of the two years behind),
# while the 2-year survival difference favours arm A (the curves have crossed by 24 months).
# Under **early harm then benefit** the average HR and the milestone favour surgery while the
# RMST does not. The hazard ratio and the 2-year survival are guaranteed to agree in direction
# only under proportional hazards; here the delayed benefit and the early harm keep them in
# agreement, and the crossing makes them disagree. A protocol that names the milestone in words
# and the HR in its analysis could report "a benefit" and "a harm" for the same trial; the
# estimand must be chosen first.

# %%
cross = truth.loc["crossing"]
print(f"crossing: 2-year survival difference {fmt_num(cross['milestone difference (points)'], 1)} points, "
      f"RMST difference {fmt_num(cross['RMST difference (months)'], 2)} months, average HR "
      f"{fmt_num(cross['average HR, adjusted Cox'], 3)} (adjusted Cox)")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Power of eight analyses under each shape
# 2,000 simulated trials of the plan per shape, each analysed eight ways *on the same trials*
# (the registry `ANALYSES`: the planned Cox model, the log-rank test unstratified and stratified
# by the minimization factors, FH(0,1), MaxCombo unstratified and stratified, the milestone
# difference and the RMST difference at 24 months), all on deaths within 24 months, two-sided
# at 5%. A two-sided test rejects for benefit or for harm, so the table shows the two apart:
# the share of trials that reject with the estimate favouring surgery (power for benefit), and
# in brackets those that reject favouring arm B (for MaxCombo, the direction of its largest
# component). The null row is the type-I error.

# %%
N_SIM = 2000
names = list(ANALYSES)
runs = {name: simulate(PLAN, N_SIM, seed=next_seed(), truth=d, analyses=names)
        for name, d in {**shapes, "null (HR 1)": replace(PLAN.design, hazard_ratio=1.0)}.items()}
benefit = pd.DataFrame({s: {a: r.benefit(a) for a in names} for s, r in runs.items()}).T
harm = pd.DataFrame({s: {a: r.harm(a) for a in names} for s, r in runs.items()}).T
benefit_se = pd.DataFrame({s: {a: r.mc_se(r.benefit(a), a) for a in names} for s, r in runs.items()}).T
benefit.map(fmt_pct) + " (" + harm.map(fmt_pct) + ")"

# %% [markdown]
# Power for benefit drawn, with 95% Monte-Carlo error bars (about ±2 points at 2,000 trials):

# %%
fig = plot_power_table(benefit.loc[list(shapes)], benefit_se.loc[list(shapes)], ylabel="Power for benefit (simulated)")
plt.show()

# %% [markdown]
# MaxCombo against the best single test *in the benefit direction*, shape by shape (the best
# of the six other analyses, on the same trials):

# %%
single = [a for a in names if "maxcombo" not in a]
versus = pd.DataFrame({
    "best single test": benefit[single].idxmax(axis=1),
    "its power": benefit[single].max(axis=1),
    "MaxCombo": benefit["maxcombo"],
    "stratified MaxCombo": benefit["stratified_maxcombo"],
}).loc[list(shapes)]
versus["MaxCombo − best (points)"] = 100 * (versus["MaxCombo"] - versus["its power"])
versus["stratified − best (points)"] = 100 * (versus["stratified MaxCombo"] - versus["its power"])
one_dp = lambda x: fmt_num(x, 1)  # noqa: E731
fmt_frame(versus, {"its power": fmt_pct, "MaxCombo": fmt_pct, "stratified MaxCombo": fmt_pct,
                   "MaxCombo − best (points)": one_dp, "stratified − best (points)": one_dp})

# %% [markdown]
# What it means for the choice of analyses (read from the tables above):
#
# * Under proportional hazards the Cox model, the log-rank tests and the milestone test have
#   similar power for benefit (77-79%); FH(0,1) and the RMST difference lose some (64% and 70%),
#   MaxCombo less (74%).
# * Under a delayed benefit the late-weighted FH(0,1) gains, the log-rank test loses and the
#   RMST difference loses most: its area includes the months without effect.
# * With early harm, and under crossing curves, rejections in the harm direction appear (the
#   numbers in brackets): under crossing the RMST difference rejects mostly for harm, the rank
#   tests weighted to late deaths for benefit. Power to detect "a difference" is not power to
#   show a benefit.
# * MaxCombo is never the best in the benefit direction. Unstratified it stays 3.3 to 8.1 points
#   below the best single test under each shape; stratified by the 12 strata of the
#   minimization factors, like the FH tests of section 2, it loses more (5.6 to 16.8 points, the
#   last table): its late-weighted components use each stratum's own survival curve, estimated
#   from a handful of patients in the smallest strata. So MaxCombo is a *robust* test when the
#   shape is unknown, not a free one, and a stratified weighted test needs a rule for sparse
#   strata (pooling the smallest) before it could be confirmatory. It tests "any difference",
#   not an estimand, so it needs an estimate beside it. If
#   it were the confirmatory test, its decision rule would have to be one-sided: reject for
#   benefit only when the component with the largest |z| favours arm A, at the two-sided level
#   (by symmetry a one-sided 2.5% test; `trialnb.simulation.decide` with `sided=1`), because a
#   two-sided MaxCombo rejects as readily for a harm shown by one component (FH(1,0) under
#   early harm) as for a benefit shown by another.
# * The null row shows every analysis near 5%, split about evenly between the two directions.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Patients needed under realistic non-operation and delay
# With 30% of arm A never operated (an assumption, a little above JCOG1017's 23% bound;
# `references/clinical_evidence.md` section 3.4) and the benefit starting 6 months after
# randomization, how many patients reach 80% power for benefit? `required_patients` simulates
# the trial at a sequence of sizes with the same seed, smooths the simulated power curve and
# gives the crossing point with its Monte-Carlo interval (1,000 trials per size):

# %%
realistic = PLAN.with_changes(non_compliance=0.30, effect_delay_months=6.0)
need = {a: required_patients(realistic, power=0.8, analysis=a, n_trials=1000, seed=next_seed())
        for a in ("cox_wald", "fh01", "stratified_maxcombo")}
for a, res in need.items():
    print(res.summary())
for a in ("fh01", "stratified_maxcombo"):
    print(f"{a}: {fmt_pct(1 - need[a].n_patients / need['cox_wald'].n_patients, 0)} fewer patients than the Cox model")

# %% [markdown]
# Against the protocol's 236 patients, the realistic assumptions need several times as many
# patients with the planned Cox analysis; a late-weighted FH(0,1) or a MaxCombo primary test
# needs fewer (the last two lines). These numbers are what investigators should hear before
# recruiting.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. A multiplicity plan
# Eight analyses of one endpoint are eight chances of a false positive, and the plan looks at
# the data twice (an interim at half the deaths, notebook 05). A plan that keeps the family-wise
# error at 5%:
#
# 1. **One confirmatory test**, chosen before the data: the plan's Cox model (or, if the
#    protocol were amended for a delayed effect, MaxCombo with a one-sided rule), two-sided 5%,
#    spent over the looks by the plan's O'Brien-Fleming-type boundary.
# 2. **One key secondary hypothesis**, the difference in two-year survival (the protocol's own
#    words; `PLAN.monitoring.secondary`), tested only if the primary test rejects, at the look
#    where it rejects, against **its own group-sequential boundary** at the same looks
#    (`PLAN.monitoring.secondary_spending`, `trialnb.monitoring.plan_secondary_design`).
# 3. **Estimates for the estimand**, reported with CIs whatever the tests say: S_A(24) −
#    S_B(24) and the RMST difference at 24 months.
# 4. **Descriptive labels** for everything else (weighted log-rank tests, piecewise HRs,
#    subgroups): p-values printed as "nominal, not confirmatory".
#
# Why not simply test the milestone "at 5% in fixed sequence" after the primary? In a
# single-look trial that works. After a group-sequential primary it does not: the secondary
# would be tested at 5% at whichever look the primary happens to reject, and the primary's
# rejection at the interim is correlated with the secondary's statistic, so the chance of a
# false secondary claim can exceed 5% (Hung, Wang & O'Neill, J Biopharm Stat 2007;17:1201-1210;
# Glimm, Maurer & Bretz, Stat Med 2010;29:219-228). Giving the secondary its own alpha-spending
# boundary (any spending function, at the full 5%) controls it, whatever the correlation. The
# boundaries (benefit z; two-sided, the mirror image for harm):

# %%
bounds = pd.DataFrame({
    "information fraction": PLAN.monitoring.information_rates,
    "primary (plan)": plan_design(PLAN).critical_values,
    "secondary, O'Brien-Fleming type (plan)": plan_secondary_design(PLAN).critical_values,
    "secondary, Pocock type": plan_secondary_design(PLAN.with_changes(secondary_spending="asP")).critical_values,
    "secondary at 5% each look (naive)": [1.959964] * PLAN.monitoring.k,
}, index=pd.Index(range(1, PLAN.monitoring.k + 1), name="look"))
bounds.map(lambda x: fmt_num(float(x), 3))

# %% [markdown]
# The simulation shows it. `simulate_sequential(..., secondary=True)` follows each trial through
# the plan's looks (the adjusted Cox model at the interim and at the calendar-driven final
# analysis, boundaries recalculated from the deaths observed) and, at the look where the primary
# rejects, tests the milestone difference on the same data. Three worlds in which the secondary
# hypothesis is true: no effect at all (the global null), and two shapes whose survival curves
# meet exactly at 24 months (`equal_survival_shape`: a strong benefit for 18 months then harm,
# and harm for 6 months then benefit), where the primary hypothesis is false but the 2-year
# survival difference is 0. The family-wise error is the share of trials that reject a true
# hypothesis (4,000 trials each, the same trials for the three ways of testing the secondary;
# "primary rejects" in either direction, "at the interim" the part of it at the first look).
# The futility and harm guidelines are non-binding, so the error must hold when the DMC ignores
# them: they are ignored here (following them only stops trials, which removes rejections).

# %%
N_FWER = 4000
worlds = {
    "global null (HR 1)": ({"hazard_ratio": 1.0}, True),
    "benefit for 18 months, then harm": (equal_survival_shape(0.05, 18.0), False),
    "harm for 6 months, then benefit": (equal_survival_shape(3.0, 6.0), False),
}
ways = {"own boundary, O'Brien-Fleming type (plan)": (PLAN, None),
        "own boundary, Pocock type": (PLAN.with_changes(secondary_spending="asP"), None),
        "5% at the look the primary rejects (naive)": (PLAN, (1.959964,) * PLAN.monitoring.k)}
rows = []
for world, (truth_, primary_null) in worlds.items():
    seed = next_seed()
    for way, (plan, crit) in ways.items():
        r = simulate_sequential(plan, N_FWER, seed=seed, truth=truth_, secondary=True, secondary_critical_values=crit,
                                follow_guidelines=False)
        f = r.familywise_error(primary_null=primary_null, secondary_null=True)
        rows.append({"world": world, "secondary tested with": way, "primary rejects": r.rejection,
                     "at the interim": float(np.mean(np.isin(r.decision, (BENEFIT, HARM)) & (r.stage == 1))),
                     "family-wise error": f, "MC SE": r.mc_se(f)})
fwer = pd.DataFrame(rows).set_index(["world", "secondary tested with"])
fmt_frame(fwer, {"primary rejects": fmt_pct, "at the interim": fmt_pct,
                 "family-wise error": lambda p: fmt_pct(p, 2), "MC SE": lambda p: fmt_pct(p, 2)})

# %% [markdown]
# With its own boundary the family-wise error stays at 5% or below in every world, within
# Monte-Carlo error (under the global null 5.17% with an MC SE of 0.35 points). There it is the
# primary's own error: the secondary is tested only after a rejection, which is already an
# error. Where the secondary is true and the primary false, the naive fixed sequence rejects the
# true secondary more often than the plan's boundary does, from the same trials (3.40% against
# 0.75% when the benefit comes first, 1.68% against 1.40% when the harm does). In these worlds it still stays below 5%, because the primary's decision at the
# interim is only loosely tied to the milestone statistic's noise; that is a property of these
# worlds, not a guarantee. Where the two are closely tied, the error of the naive rule
# approaches that of testing the secondary at 1.96 at every look (Hung, Wang & O'Neill 2007):

# %%
print(f"testing at z 1.96 at each of two looks (information 0.5 and 1), either direction: "
      f"{fmt_pct(2 * naive_type_one_error(2, 1.959964), 1)} (one direction {fmt_pct(naive_type_one_error(2, 1.959964), 1)})")

# %% [markdown]
# What the control costs: the chance of showing the secondary when both hypotheses are false,
# under the plan's design (proportional HR 0.5, the guidelines followed as the plan says), the
# same trials for the three ways. The plan's O'Brien-Fleming-type boundary keeps most of the
# naive rule's power, and more than a Pocock-type one, because most trials reach the final
# analysis, where its boundary is close to 1.96:

# %%
seed = next_seed()
cost_rows = []
for way, (plan, crit) in ways.items():
    r = simulate_sequential(plan, N_FWER, seed=seed, secondary=True, secondary_critical_values=crit)
    cost_rows.append({"secondary tested with": way, "primary power": fmt_rate(r.power, r.power_se),
                      "secondary shown (benefit)": fmt_rate(r.secondary_benefit, r.mc_se(r.secondary_benefit))})
pd.DataFrame(cost_rows).set_index("secondary tested with")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The explorer
# Pick a hazard shape and a fraction of arm A never operated: the true curves, the true
# estimands and the power of seven analyses (on the same simulated trials, rejections for
# benefit and for harm apart) update. Output is not stored in the notebook (the panel is
# interactive).

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.estimands import EstimandsExplorer

explorer = EstimandsExplorer(n_trials=1000, seed=SEED)
explorer.root

# %% [markdown]
# Setting a control from code works like choosing it by hand:

# %%
explorer.shape.value = "delayed benefit"
fmt_frame(explorer.result.to_frame()[["benefit", "harm", "benefit_se"]],
          {"benefit": fmt_pct, "harm": fmt_pct, "benefit_se": fmt_pct})

# %% [markdown]
# > **For reviewers.** The one-trial analyses agree with R `survival` to 1e-8 or better
# > (`tests/reference/estimands_survival.R`: `survdiff` with rho 0 and 1, with and without
# > strata; `summary(survfit, rmean = 24)`; `summary(survfit, times = 24)`); the FH
# > covariance matches its definition by a plain loop; the MaxCombo p-value matches a
# > bivariate-normal integral, a permutation distribution and, under the null, a 5% type-I
# > error in simulated trials (`tests/test_estimands.py`), and stratified MaxCombo is the
# > maximum of the stratified FH tests. The registry's analyses equal the one-trial analyses on
# > the same data (`tests/test_simulation_analyses.py`). The secondary's test in the sequential
# > simulation equals `trialnb.analysis.milestone` on the trial at its look, is never run when
# > the primary did not reject, and keeps the family-wise error (`tests/test_simulation_secondary.py`).
# > FH(0,1)'s weight 1 − S equals FH(0,0)'s minus FH(1,0)'s, so the four MaxCombo statistics
# > are linearly dependent (correlation matrix of rank 3); the p-value is computed by
# > importance sampling of the union (Owen, Maximov & Chertkov 2019), which is accurate for a
# > singular matrix, and checked against scipy's Genz integration.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Supplementary estimands: what the operation itself does
# The primary estimand is the effect of *allocating* surgery (treatment policy): arm-A patients
# who were never operated and arm-B patients who were count in their allocated arm. Clinicians
# ask two more questions, and ICH E9(R1) gives each a name:
#
# - **a principal stratum**: what does the operation do for the patients who *would be operated
#   if allocated to arm A*? (the "compliers");
# - **a hypothetical strategy** for arm-B surgery: what would arm B's survival have been *had no
#   arm-B patient been operated*?
#
# Randomization does not answer either by itself: each estimator rests on assumptions that must
# be stated, and that the data cannot check. We state them, then check each estimator where the
# truth is known: thousands of trials simulated with `trialnb.simulation` in a world where *who is
# operated depends on prognosis* (the sicker patients of arm A are less often operated, the sicker
# patients of arm B more often cross over), the case that makes naive analyses go wrong. The
# targets come from the model (`simulation.complier_effect`, `simulation.hypothetical_estimands`),
# not from a simulation.

# %%
import pandas as pd

from trialnb import analysis as an
from trialnb.analysis import IPCW_ASSUMPTIONS, IV_ASSUMPTIONS
from trialnb.data import load_trial
from trialnb.report import fmt_num, fmt_pct
from trialnb.resources import example_trial
from trialnb.simulation import simulate_complier_effect, simulate_hypothetical


def check_table(result):
    """One row per analysis: the target, the mean estimate, the bias with its Monte Carlo SE and
    the coverage of the 95% interval."""
    t = result.to_frame()
    return pd.DataFrame({
        "quantity": t["quantity"], "analysis": t["method"], "truth": [fmt_num(v, 3) for v in t["truth"]],
        "mean estimate": [fmt_num(v, 3) for v in t["mean"]],
        "bias (MC SE)": [f"{fmt_num(b, 3)} ({fmt_num(m, 3)})" for b, m in zip(t["bias"], t["mc_se_bias"])],
        "coverage of the 95% CI (MC SE)": [f"{fmt_pct(c)} ({fmt_pct(m)})" for c, m in zip(t["coverage"], t["mc_se_coverage"])],
    })


# %% [markdown]
# ### 8.1 The effect among the patients who would be operated: an instrumental variable
# Allocation is an *instrument*: it moves surgery and, by randomization, nothing else at
# baseline. The Wald estimator divides its effect on two-year survival by its effect on being
# operated (Angrist, Imbens & Rubin 1996):
#
# $$\text{CACE}(24) = \frac{S_A(24) - S_B(24)}{P(\text{operated} \mid A) - P(\text{operated} \mid B)},$$
#
# Kaplan-Meier in the numerator, proportions in the denominator, and a delta-method interval
# (`trialnb.analysis.complier_average_effect`). It estimates the effect of the operation among
# the compliers only if these hold:

# %%
for k, a in enumerate(IV_ASSUMPTIONS, start=1):
    print(f"{k}. {a}")

# %% [markdown]
# The check: 1,000 trials of the protocol's design with 30% of arm A never operated (an
# assumption, as in notebook 06), more often the patients with a poor prognosis (`selection=2`:
# the log odds of not being operated rise by 2 per unit of the prognostic log hazard), and no
# arm-B surgery. Beside the instrumental variable: the ITT difference, per protocol (operated
# arm-A patients against arm B) and as treated (operated against not operated).

# %%
cace = simulate_complier_effect(n_trials=1000, seed=2024, selection=2.0)
check_table(cace)

# %% [markdown]
# The instrumental variable recovers the complier effect: its bias is within its Monte Carlo
# error and its interval covers the truth about 95% of the time. ITT is smaller, because it
# answers another question (the effect of the strategy, diluted by the patients never operated).
# Per protocol and as treated are biased in favour of surgery, because the patients left out of
# the operated group are those with the worst prognosis: the bias that notebook 04 showed on the
# synthetic data.
#
# On the shipped protocol data the same estimator gives:

# %%
trial = load_trial(example_trial("protocol"))
print(an.complier_average_effect(trial).summary())

# %% [markdown]
# Read that number with its assumptions. In these synthetic data the "effect of surgery" is an
# effect of *allocation* that acts on every arm-A patient, operated or not (`data/README.md`), and
# arm-B patients operated for local progression are operated later, in another way. The
# exclusion restriction is false here by construction, so the estimate is inflated; nothing in
# the data reveals it. That is the general lesson: the complier effect is as good as the
# assumption that allocation acts only through the operation.

# %% [markdown]
# ### 8.2 Arm B without surgery: a hypothetical strategy by inverse probability of censoring weighting
# The protocol allows surgery in arm B for local progression. To estimate what arm B's survival
# would have been had nobody there been operated, arm-B patients are censored at their
# operation; the patients still unoperated are then weighted by the inverse of their probability
# of remaining unoperated given the baseline factors, so that they also stand for the similar
# patients who were operated (Robins & Finkelstein 2000). The weights come from a discrete
# logistic model of the operation on the minimization factors, stabilized by the overall
# probability of remaining unoperated; the weighted Kaplan-Meier gives the milestone and a
# weighted Cox model with the factors gives the hazard ratio, both with robust variances
# (`trialnb.analysis.hypothetical_no_surgery`). The assumptions:

# %%
for k, a in enumerate(IPCW_ASSUMPTIONS, start=1):
    print(f"{k}. {a}")

# %% [markdown]
# The check: 1,000 trials with 30% of arm B operated at month 6, more often the patients with a
# poor prognosis (`selection=2`), every arm-A patient operated. Beside IPCW: the naive analysis
# (censoring at surgery without weights) and ITT (ignoring arm-B surgery).

# %%
hyp = simulate_hypothetical(n_trials=1000, seed=2025, selection=2.0)
check_table(hyp)

# %% [markdown]
# IPCW recovers the hypothetical difference in two-year survival; naive censoring is biased
# because the arm-B patients left uncensored are the healthier ones, and ITT answers the
# treatment-policy question. For the hazard ratio adjusted for the factors the naive analysis
# is close as well: the operation depends only on factors that are in the Cox model, so within
# the model's strata the censoring is independent. The weights matter for the *marginal*
# milestone, and they would not rescue either analysis if surgery followed something the CRF
# does not record, such as a progression that also predicts death.
#
# On the shipped protocol data:

# %%
print(an.hypothetical_no_surgery(trial).summary())

# %% [markdown]
# > **For reviewers.** The weighted Kaplan-Meier and Cox models and their robust variances equal
# > R `survfit` and `coxph` with `weights`, `id`/`cluster` and `robust = TRUE`; the whole
# > hypothetical-strategy analysis of each shipped file is redone independently in R (the weight
# > model by `glm`, the rows by `survSplit`) and agrees (`tests/reference/ipcw_survival.R`,
# > `tests/test_supplementary.py`). The targets are computed from the model: the complier effect
# > as a mixture over the 12 factor strata weighted by each stratum's probability of being
# > operated, the hypothetical arm B as the design without crossover. The bias is judged against
# > its Monte Carlo SE (SD / √1000) and the coverage against √(0.95 × 0.05 / 1000) ≈ 0.7 points.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# * The protocol's endpoint (2-year survival) and its analysis (Cox HR) are two estimands; they
#   are guaranteed to agree in direction only under proportional hazards, and they can disagree
#   when the survival curves cross (section 3).
# * A hazard ratio is a ratio of instantaneous death rates among patients still alive, not a
#   ratio of 2-year risks nor "how much lower my risk is" (section 1).
# * A systemic-therapy-first design delays any benefit of surgery, and surgery can bring early
#   deaths: both make hazards non-proportional. The "average" HR a Cox model estimates then
#   depends on follow-up and censoring; it is computed exactly here (section 3).
# * No analysis is best under every shape; MaxCombo stays 3.3 to 8.1 points below the best
#   test for benefit under each (more when stratified by 12 sparse strata) and keeps its type-I
#   error, but it is a test, not an estimate, and as a confirmatory test it needs a one-sided
#   rule (section 4).
# * With 30% of arm A not operated and a 6-month delay, 236 patients are far too few
#   (section 5).
# * Pre-specify one confirmatory test, a key secondary tested after it with its own spending
#   boundary at the same looks (a 5% fixed sequence after a group-sequential primary does not
#   control the family-wise error), the estimates that go with them and descriptive labels for
#   the rest (section 6).
# * Supplementary estimands of the operation itself need assumptions randomization does not give:
#   the instrumental variable recovers the effect among the patients who would be operated
#   (exclusion restriction, monotonicity), IPCW the hypothetical arm B without surgery (no
#   unmeasured confounding of the operation); per protocol, as treated and naive censoring do not
#   (section 8).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
# Each exercise starts unanswered. Replace `None` with your answer and run the cell: the check
# says whether it is right and why. Ask for hints in stages: `hint=1`, then `hint=2`.

# %%
from trialnb.exercises.estimands import (check_best_analysis_delayed, check_complier_effect,
                                         check_crossing_directions, check_hypothetical_method,
                                         check_rmst_difference)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1
# Under the delayed-benefit shape (no effect for 6 months, then HR 0.5), which of `"logrank"`,
# `"fh01"`, `"rmst"` and `"milestone"` has the most power for benefit?

# %%
answer = None
check_best_analysis_delayed(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2
# Under the protocol's own assumptions (one population, proportional HR 0.5, control 2-year
# survival exp(−0.5)), what is the true RMST difference A − B at 24 months, in months?

# %%
answer = None
check_rmst_difference(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3
# Under the crossing shape, do the true 2-year survival difference and the true RMST
# difference favour the same arm? Answer yes or no.

# %%
answer = None
check_crossing_directions(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 4
# On the shipped protocol data (`trial`), what complier-average effect of surgery on 2-year
# survival does the instrumental variable give? (A proportion or percentage points.)

# %%
answer = None
check_complier_effect(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 5
# When the sicker arm-B patients are the ones operated, which analysis recovers the
# hypothetical "no arm-B surgery" difference in 2-year survival: `"ITT"`, `"naive censoring"`
# or `"IPCW"`?

# %%
answer = None
check_hypothetical_method(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Glossary
# - **Estimand**: the quantity a trial sets out to estimate: treatment, population, variable,
#   handling of intercurrent events and population-level summary (ICH E9(R1)).
# - **Intercurrent event**: an event after randomization that changes what the outcome means
#   (not being operated, being operated in the control arm); **treatment policy** analyses the
#   outcome whatever happens.
# - **Milestone survival**: S(t) at a fixed time, here 24 months (Kaplan-Meier, Greenwood SE).
# - **RMST**: restricted mean survival time, the area under the survival curve up to τ; the
#   difference between arms is in months of life.
# - **Hazard ratio**: the ratio of the instantaneous death rates of two groups among those still
#   alive; the Cox model's "average" HR under non-proportional hazards is the limit of its
#   estimate, which depends on follow-up and censoring.
# - **Fleming-Harrington FH(ρ, γ)**: a log-rank test weighting each death by S(t−)^ρ (1 −
#   S(t−))^γ; FH(0,1) emphasizes late differences, FH(1,0) early ones, FH(0,0) weighs all
#   deaths equally (the log-rank test).
# - **MaxCombo**: the largest |Z| of several FH tests, with its p-value from their joint
#   normal distribution.
# - **Non-proportional hazards**: a hazard ratio that changes over time (delay, early harm,
#   crossing curves).
# - **Family-wise error**: the probability of rejecting at least one true hypothesis among
#   several tests; with a group-sequential primary, a hierarchical secondary needs its own
#   alpha-spending boundary to keep it.
# - **Principal stratum**: patients defined by what they would do under each allocation (here: those
#   who would be operated if allocated to arm A, the compliers); their effect is estimated by an
#   instrumental variable under the exclusion restriction and monotonicity.
# - **Hypothetical strategy**: the outcome in a world where an intercurrent event (arm-B surgery) did
#   not happen; estimated here by inverse probability of censoring weighting (IPCW).
