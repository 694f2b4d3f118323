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
# # 08 · What can this trial show? The randomized evidence, the probability of success and Bayesian monitoring
#
# The protocol computes its sample size for a hazard ratio of 0.5 and cites a registry figure of
# 0.61 (Statistics > Sample size calculation; Clinical Trial Summary). Power answers "if the
# hazard ratio were 0.5, how often would the trial succeed?". Investigators, ethics committees
# and a data monitoring committee need another question answered: *given everything already
# known, how likely is this trial to succeed, and what would it take?* Five randomized trials
# have asked the protocol's question (Tata Memorial, MF07-01, ABCSG-28, E2108, JCOG1017). This
# notebook pools them, turns the pooled evidence into priors, computes the probability that the
# protocol's design succeeds, says what a trial would need, and shows the Bayesian view the DMC
# could have at the interim of notebook 05.
#
# *Protocol sections covered:* Clinical Trial Summary (rationale); Statistics > Sample size
# calculation; Statistics > "Interim analysis ;" (blank in the protocol).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Overview
# 1. Recover each trial's log hazard ratio and standard error from its printed interval (90% or
#    95%), and decide which way ABCSG-28's printed hazard ratio points.
# 2. Pool the trials by random-effects meta-analysis, read the prediction interval for a new
#    trial, and compare the trials that randomized at diagnosis with those that randomized
#    after induction therapy.
# 3. Tell power from the probability of success, and compute the probability of success of the
#    protocol's design (fixed and with the interim plan) under five priors.
# 4. Say what a trial would need: deaths, patients and centres, and when no trial could do it.
# 5. Read an interim analysis through the priors (posterior, predictive probability) and judge
#    a futility guideline on the predictive-probability scale by its operating characteristics.
#
# ## Prerequisites
# | Concept | Importance | Time to learn |
# |---|---|---|
# | Hazard ratio, confidence interval, events and power (Schoenfeld) | Necessary | 45 min (notebook 02) |
# | Group-sequential boundaries, conditional power | Necessary | 60 min (notebook 05) |
# | Why registry studies flatter surgery | Helpful | 60 min (notebook 01) |
# | Normal distribution, Bayes' theorem | Helpful | 20 min |
#
# **Time to learn:** 60 minutes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Imports
# The evidence and its meta-analysis come from `trialnb.evidence`, the probability of success and
# the priors from `trialnb.assurance`, the Bayesian monitoring from `trialnb.bayesian`, the interim
# plan from `trialnb.interim`. One seeded generator gives every simulation its seed, in order.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import norm

from trialnb import assurance as A
from trialnb import bayesian as B
from trialnb import evidence as ev
from trialnb import interim, monitoring
from trialnb.data import load_trial
from trialnb.plots import evidence_forest, forest_plot, hr_ticks, use_style
from trialnb.plan import PLAN
from trialnb.protocol import PROTOCOL
from trialnb.report import fmt_hr, fmt_n, fmt_num, fmt_pct
from trialnb.simulation import SeedStream

SEED = 20201120  # the trial's start date
next_seed = SeedStream(SEED)  # a fresh simulation seed at each call, in order
use_style()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Five randomized trials, and how to read their intervals
# Three trials randomized only patients whose disease had not progressed after months of
# systemic therapy (Tata Memorial, E2108, JCOG1017: *after induction*); two randomized at
# diagnosis, as NCT04697043 does (MF07-01, ABCSG-28). The hazard ratio is surgery vs none, below
# 1 favouring surgery; the sources are in `references/clinical_evidence.md` (section 3). Each
# trial's log hazard ratio and standard error (SE) are recovered from the interval it printed:

# %%
trials = ev.trial_inputs()
pd.DataFrame({
    "randomized": trials["randomized_at"].tolist(),
    "HR (interval as printed)": [f"{fmt_num(h, 2)} ({round(lv * 100)}% CI {fmt_num(lo, 2)} to {fmt_num(hi, 2)})"
                                 for h, lo, hi, lv in zip(trials["hazard_ratio"], trials["ci_lower"],
                                                          trials["ci_upper"], trials["ci_level"])],
    "ln HR": [fmt_num(v, 3) for v in trials["log_hr"]],
    "SE": [fmt_num(v, 3) for v in trials["se"]],
    "deaths reported": [fmt_n(int(d)) if pd.notna(d) else "" for d in trials["deaths"]],
    "4 / SE²": [fmt_n(round(v)) for v in trials["implied_deaths"]],
}, index=pd.Index(trials["study"].tolist(), name="trial"))

# %% [markdown]
# A level-c interval is exp(ln HR ± z·SE) with z the (1 + c)/2 quantile of the normal
# distribution, so SE = (ln U − ln L) / (2z). E2108 and JCOG1017 printed **90%** intervals, for
# which z = 1.645, not 1.96. Once by hand for E2108, then the library:

# %%
e2108 = ev.study("e2108_2022")
width = math.log(e2108.ci_upper) - math.log(e2108.ci_lower)
z90, z95 = norm.ppf(0.95), norm.ppf(0.975)
print(f"z for a 90% interval: {fmt_num(z90, 4)}; SE = {fmt_num(width, 4)} / (2 x {fmt_num(z90, 4)}) = "
      f"{fmt_num(width / (2 * z90), 4)}")
print(f"trialnb.evidence.log_hr_se: SE = {fmt_num(ev.log_hr_se(1.11, 0.82, 1.52, 0.90)[1], 4)}")
print(f"with 1.96 (a 95% interval's z): SE = {fmt_num(width / (2 * z95), 4)}, which would give E2108 "
      f"{fmt_pct((z95 / z90) ** 2 - 1, 0)} more weight than its deaths allow")

# %% [markdown]
# The last column checks the recovery: 4/SE² is the number of deaths a 1:1 trial needs for
# that SE (Schoenfeld), and it lies close to the deaths the trials reported.
#
# **ABCSG-28 printed its hazard ratio the other way round.** It printed "HR 0.691 (95% CI
# 0.358-1.333)" for overall survival, but its median survival was *shorter* with surgery. With
# exponential survival the hazard is ln 2 / median, so the medians imply a hazard ratio of
# surgery vs none of median(none) / median(surgery):

# %%
printed_hr, printed_lo, printed_hi = ev.ABCSG28_PRINTED
median_surgery, median_none = ev.ABCSG28_MEDIANS
abcsg = ev.study("abcsg28")
print(f"printed: {fmt_hr(printed_hr, printed_lo, printed_hi, digits=3)}; medians {fmt_num(median_surgery, 1)} months "
      f"with surgery, {fmt_num(median_none, 1)} without")
print(f"HR implied by the medians: {fmt_num(ev.median_ratio_hazard_ratio(median_surgery, median_none), 2)}; "
      f"1 / printed HR: {fmt_num(1 / printed_hr, 2)}")
print(f"used (surgery vs none): {fmt_hr(abcsg.hazard_ratio, abcsg.ci_lower, abcsg.ci_upper)}")

# %% [markdown]
# A hazard ratio of surgery vs none below 1 cannot come with shorter survival under surgery; the
# inverted ratio agrees with the medians, and the paper's distant-progression result is printed
# the same way (`references/clinical_evidence.md`, section 3). We read the printed ratios as no
# surgery vs surgery: our decision, not the authors' statement.
#
# Two other reports are not pooled. JCOG1017's ASCO 2023 abstract is superseded by the full
# paper. MF07-01's 10-year update prints an interval too narrow for its patients:

# %%
ten = ev.study("mf0701_2021")
print(f"{ten.study}: {fmt_hr(ten.hazard_ratio, ten.ci_lower, ten.ci_upper)}, SE {fmt_num(ten.se, 3)}: "
      f"4 / SE² = {fmt_n(round(ten.implied_deaths))} deaths among {fmt_n(ten.n)} patients")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The observational studies the protocol relies on
# The protocol's rationale rests on registry analyses (Clinical Trial Summary). Beside the
# randomized trials they look very different: every observational estimate lies near 0.6.
# Notebook 01 shows why: selection of fitter patients, immortal time before surgery, stage
# migration, co-treatment and coding errors each push a registry's estimate below the truth.

# %%
obs = ev.studies_table(in_forest=True)
obs = obs[obs["design"].str.startswith("observational")]
rct = ev.pool_trials()
labels = [*obs["study"], "Randomized trials pooled (section 3)"]
fig, ax = plt.subplots(figsize=(9.5, 4.6))
forest_plot(labels, [*obs["hazard_ratio"], rct.hazard_ratio], [*obs["ci_lower"], rct.ci_lower],
            [*obs["ci_upper"], rct.ci_upper], ax=ax, colors=["#2e4057"] * len(obs) + ["#1b6ca8"],
            xlabel="Hazard ratio of death, surgery vs none (log scale; 95% CI)",
            title="Observational estimates vs the randomized trials pooled")
hr_ticks(ax)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Pooling the trials
# A **random-effects** meta-analysis lets each trial estimate its own true effect, drawn around a
# mean μ with between-trial variance τ²: ln HR_i ~ N(μ, SE_i² + τ²). The DerSimonian-Laird
# estimate of τ² is a formula; computed once by hand from the table above, then by the library:

# %%
y, se = trials["log_hr"].to_numpy(), trials["se"].to_numpy()
w = 1 / se**2
mu_fixed = np.sum(w * y) / np.sum(w)
q = np.sum(w * (y - mu_fixed) ** 2)
tau2 = max(0.0, (q - (len(y) - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
w_re = 1 / (se**2 + tau2)
mu_dl = np.sum(w_re * y) / np.sum(w_re)
dl = ev.meta_analysis(y, se, method="DL")
print(f"by hand: Q = {fmt_num(q, 3)}, tau² = {fmt_num(tau2, 4)}, pooled HR {fmt_num(math.exp(mu_dl), 4)}")
print(f"library: Q = {fmt_num(dl.q, 3)}, tau² = {fmt_num(dl.tau2, 4)}, pooled HR {fmt_num(dl.hazard_ratio, 4)}")

# %% [markdown]
# The companion's default estimator of τ² is restricted maximum likelihood (REML), as in R
# `metafor`. The pooled result of the five trials:

# %%
rct

# %% [markdown]
# The forest plot redraws every trial with a 95% interval from its log HR and SE, so E2108 and
# JCOG1017 look wider than their printed 90% intervals; the weights are in brackets:

# %%
evidence_forest(rct, design_hr=PROTOCOL.design.hazard_ratio)
plt.show()

# %% [markdown]
# The diamond is the *mean* effect; the dashed line, the **prediction interval**, is where a new
# trial's true hazard ratio is expected to lie (μ ± z·√(SE² + τ²)). It is the prediction, not the
# mean, that says what NCT04697043 can expect. How much the choice of method, the Knapp-Hartung
# adjustment and the timing of randomization matter:

# %%
rows = []
for label, kw in [("all five, REML", {}), ("all five, DerSimonian-Laird", dict(method="DL")),
                  ("all five, Paule-Mandel", dict(method="PM")), ("all five, fixed effect", dict(method="FE")),
                  ("all five, REML + Knapp-Hartung", dict(hksj=True)),
                  ("randomized at diagnosis (2)", dict(randomized_at=ev.AT_DIAGNOSIS)),
                  ("randomized after induction (3)", dict(randomized_at=ev.AFTER_INDUCTION))]:
    m = ev.pool_trials(**kw)
    rows.append({"analysis": label, "pooled HR (95% CI)": fmt_hr(m.hazard_ratio, m.ci_lower, m.ci_upper),
                 "tau²": fmt_num(m.tau2, 3), "I²": fmt_pct(m.i2 / 100, 0),
                 "95% prediction interval": f"{fmt_num(m.pi_lower, 2)} to {fmt_num(m.pi_upper, 2)}"})
pd.DataFrame(rows).set_index("analysis")

# %% [markdown]
# Every analysis puts the mean effect near 0.9-1.0 with an interval that includes 1. The two
# at-diagnosis trials disagree with each other (MF07-01 favours surgery, ABCSG-28 does not), so
# their prediction interval is very wide; the three after-induction trials agree, so theirs is
# narrow. None comes near the protocol's 0.5.
#
# > **For reviewers** — the meta-analysis (`trialnb.evidence.meta_analysis`: FE, DL, REML, PM,
# > with and without Knapp-Hartung) equals R `metafor::rma` 3.8 to 1e-6 in every estimate, SE,
# > interval, τ², I², H², Q, p-value, prediction interval and weight, on six data sets (k = 2,
# > 3, 4, 5, 13; heterogeneous, and homogeneous with τ² = 0 on the boundary), from
# > `tests/reference/metafor_meta.R`, which CI re-runs; REML and Paule-Mandel are solved to
# > machine precision there and here. The BCG data reproduce the published REML values
# > (Viechtbauer 2010). The R script recovers the five trials' log HR and SE independently from
# > the printed intervals (`tests/test_evidence.py`).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Power is not the probability of success
# **Power** is the probability of a significant benefit *if* the hazard ratio has one value.
# The **probability of success** (or *assurance*) averages that power over a *prior* for the
# true hazard ratio. Five priors for ln HR, each a normal distribution: the predictive
# distribution of a new trial from the meta-analysis of all five trials, of the at-diagnosis
# trials, of the after-induction trials, and Spiegelhalter's sceptical prior (centred on no
# effect, 5% chance of HR below the protocol's 0.5) and enthusiastic prior (centred on 0.5, 5%
# chance of HR above 1):

# %%
priors = A.named_priors()
pd.DataFrame([{"prior": p.label, "median HR": fmt_num(p.hazard_ratio, 2),
               "95% prior interval": f"{fmt_num(p.interval()[0], 2)} to {fmt_num(p.interval()[1], 2)}",
               "SD of ln HR": fmt_num(p.sd, 3), "P(HR < 1)": fmt_pct(p.probability_benefit)}
              for p in priors.values()]).set_index("prior")

# %% [markdown]
# With D deaths the benefit z is about N(−ln HR·√D/2, 1) (Schoenfeld). If ln HR ~ N(m, s²), the
# benefit z is N(−m·c, 1 + c²s²) with c = √D/2, so the probability of success of a two-sided 5%
# test is Φ((−m·c − 1.96) / √(1 + c²s²)). Once by hand for the protocol's 66 deaths and the pooled
# prior, then the library:

# %%
deaths = monitoring.plan_max_events(PLAN)
pooled = priors["pooled"]
c = math.sqrt(deaths) / 2
power_at_pooled = norm.cdf(-pooled.mean_log_hr * c - z95)
pos_by_hand = norm.cdf((-pooled.mean_log_hr * c - z95) / math.sqrt(1 + c**2 * pooled.sd**2))
print(f"{deaths} deaths, pooled prior (HR {fmt_num(pooled.hazard_ratio, 2)}, SD of ln HR {fmt_num(pooled.sd, 3)})")
print(f"power at the pooled HR (a significant benefit): {fmt_pct(power_at_pooled)}")
print(f"probability of success by hand: {fmt_pct(pos_by_hand, 2)}; library: "
      f"{fmt_pct(A.assurance(events=deaths, prior=pooled).probability_of_success, 2)}")

# %% [markdown]
# The probability of success is higher than the power at the pooled hazard ratio: the prior
# leaves some chance of a large benefit, which 66 deaths would detect. It is still far from the
# 80% the protocol aims at. Under every prior, for the fixed design and for the interim plan of
# notebook 05 (a success at either look), with the split between a success with a true
# benefit and a false positive (true HR 1 or above):

# %%
plan = monitoring.plan_benefit_design(PLAN)  # the plan's looks and spending, benefit side
rows = []
for name, p in priors.items():
    fixed = A.assurance(events=deaths, prior=p)
    seq = A.assurance(events=deaths, prior=p, design=plan)
    rows.append({"prior": p.label, "power at the median HR": fmt_pct(fixed.power_at_prior_mean),
                 "P(success), fixed": fmt_pct(fixed.probability_of_success),
                 "with a true benefit": fmt_pct(fixed.success_with_benefit),
                 "false positive": fmt_pct(fixed.success_without_benefit),
                 "P(success), interim plan": fmt_pct(seq.probability_of_success)})
pd.DataFrame(rows).set_index("prior")

# %% [markdown]
# Only the enthusiastic prior, which assumes the protocol's effect, comes near the design's
# power; the evidence-based priors give a few percent to about a quarter. How the probability of
# success grows with the number of deaths, with each prior's ceiling P(HR < 1) dashed: no number
# of deaths lifts it above the prior probability that surgery helps at all.

# %%
grid = np.geomspace(20, 100_000, 200)
fig, ax = plt.subplots(figsize=(8.5, 4.8))
colors = dict(zip(priors, ["#1b6ca8", "#d1495b", "#66a182", "#2e4057", "#edae49"]))
for name, p in priors.items():
    curve = [A.assurance(events=d, prior=p).probability_of_success for d in grid]
    ax.plot(grid, curve, color=colors[name], label=p.label)
    ax.axhline(p.probability_benefit, color=colors[name], ls="--", lw=0.8)
ax.axvline(deaths, color="grey", ls=":", lw=1)
ax.text(deaths * 1.05, 0.02, f"protocol: {deaths} deaths", fontsize=8, color="grey")
ax.axhline(PROTOCOL.design.power, color="black", lw=0.6)
ax.set_xscale("log")
ticks = [30, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000]
ax.set_xticks(ticks, [fmt_n(t) for t in ticks])
ax.set_xticks([], minor=True)
ax.set_xlabel("Deaths at the analysis (log scale)")
ax.set_ylabel("Probability of success")
ax.set_ylim(0, 1)
ax.set_title("Probability of success by number of deaths (fixed design, two-sided 5%)")
ax.legend(fontsize=8, loc="upper left")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. What it would take
# For each prior: the deaths for 80% power at the prior's median hazard ratio (Schoenfeld), and
# the deaths for a 50% and an 80% probability of success. Patients follow the protocol's own
# chain (everyone followed two years, its control survival, 10% loss;
# `trialnb.sample_size`); centres randomize at the protocol's one-centre rate, 236 patients in
# 36 months (Statistics > Sample size calculation).

# %%
def _need(t: A.WhatItWouldTake) -> str:
    if not t.reachable:
        return f"unreachable (ceiling {fmt_pct(t.assurance_ceiling, 0)})"
    return (f"{fmt_n(t.events_for_assurance)} deaths, {fmt_n(t.patients_for_assurance)} patients, "
            f"{A.centres_text(t.centres_for_assurance)}")


rows = []
for name, p in priors.items():
    half, most = A.what_it_would_take(p, assurance_target=0.5), A.what_it_would_take(p, assurance_target=0.8)
    power80 = ("no benefit to detect" if not math.isfinite(half.events_for_power) else
               f"{fmt_n(half.events_for_power)} deaths, {fmt_n(half.patients_for_power)} patients, "
               f"{A.centres_text(half.centres_for_power)}")
    rows.append({"prior": p.label, "80% power at the median HR": power80, "50% probability of success": _need(half),
                 "80% probability of success": _need(most)})
pd.DataFrame(rows).set_index("prior")

# %% [markdown]
# At the pooled hazard ratio, 80% power needs thousands of deaths and dozens of centres; an 80%
# probability of success is out of reach under every evidence-based prior. A different question
# fits the protocol's 236 patients: can surgery be shown *not to be much worse*? The margin a
# trial of 236 patients excludes with 80% power (one-sided 2.5%), if the truth is no effect or
# the pooled hazard ratio:

# %%
for h in (1.0, pooled.hazard_ratio):
    print(A.rule_out_harm(true_hazard_ratio=h).summary())

# %% [markdown]
# Ruling out a hazard ratio near 1.7-1.8 is a modest, but reachable, question; whether it is
# worth asking is the investigators' decision.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Checking the probability of success by simulation
# The closed form rests on Schoenfeld's normal approximation. The trial simulator (the protocol's
# plan: 236 patients, minimization, 10% drop-out, the planned adjusted Cox analysis when 66 deaths
# within 24 months of randomization have been seen) can
# check it: draw a true hazard ratio from the pooled prior, simulate 20 trials at it, repeat 300
# times, and count successes, for the fixed design and for the interim plan.

# %%
for sequential in (False, True):
    sim = A.simulate_assurance(pooled, plan=PLAN, sequential=sequential, n_draws=300, trials_per_draw=20,
                               seed=next_seed())
    print(sim.summary(), end="\n\n")

# %% [markdown]
# > **For reviewers** — the fixed-design probability of success equals its closed form, an
# > independent integral of the power over the prior, the bivariate normal for the split, and a
# > Monte-Carlo draw of the normal model; the interim plan's value (recursive integration over
# > the boundaries, `trialnb.monitoring.crossing_probabilities`) equals a simulation of the
# > canonical group-sequential statistics; both agree with the trial simulator within
# > Monte-Carlo error, as above (`tests/test_assurance.py`). Patients reuse
# > `trialnb.sample_size` (`sample_size`, `patients_for_events`), the margin
# > `detectable_hazard_ratio`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The Bayesian view at the interim
# Notebook 05 cuts the synthetic trial file `data/trial_protocol.csv` (simulated under the
# protocol's assumptions, not real patients) for its interim look at the month of the 33rd death
# within 24 months of randomization (`trialnb.interim.death_month`). The frequentist
# report's decision, then each prior's view of the planned Cox model's estimate: the posterior
# hazard ratio, P(HR < 1), P(HR < 0.8) and the **predictive probability** of success at the final
# analysis (the conditional power averaged over the posterior).

# %%
df = load_trial("../data/trial_protocol.csv")
look_month = interim.death_month(df, monitoring.plan_interim_events(PLAN)[0])
report = interim.interim_report(df, look_month, predict=False)
log_hr, se_interim = report.primary.log_hr, report.primary.se
print(f"month {fmt_num(look_month, 2)}: {report.primary.events} primary-endpoint deaths; Cox HR "
      f"{fmt_num(report.primary.hazard_ratio, 2)} (ln HR {fmt_num(log_hr, 3)}, SE {fmt_num(se_interim, 3)}); "
      f"decision: {report.decision}")
view = B.bayesian_interim(log_hr, se_interim, report.primary.events, report.max_events, report.inference.design)
pd.DataFrame([{"prior": r.prior_label, "posterior HR (95% credible)":
               fmt_hr(r.posterior_hazard_ratio, r.credible_lower, r.credible_upper).replace("CI", "CrI"),
               "P(HR < 1)": fmt_pct(r.probability_benefit), "P(HR < 0.8)": fmt_pct(r.probability_below_threshold),
               "predictive probability": fmt_pct(r.predictive_probability)}
              for r in view.posteriors]).set_index("prior")

# %% [markdown]
# The synthetic data were generated with the protocol's hazard ratio 0.5. Every prior is moved
# towards the interim estimate, but not equally: the after-induction prior is so precise (an SD
# of ln HR below 0.1, worth hundreds of deaths) that the interim's few dozen deaths barely shift
# it, and its posterior still leaves a good chance that the true effect is small. A DMC that saw
# this table would see how far a decision rests on the interim data outweighing the randomized
# trials before it; the report names its prior each time.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. A futility guideline on the predictive-probability scale
# Notebook 05's futility guideline stops when the benefit z is 0 or below at the interim. An
# alternative: stop when the predictive probability of success under the pooled prior is below
# 10%. The predictive probability rises with the interim z, so the rule is a z bound; its
# operating characteristics, against the design with no futility stop:

# %%
guideline = B.pp_futility(plan, max_events=deaths, prior=pooled, threshold=0.10)
print(guideline.summary())

# %% [markdown]
# The same guideline simulated with the trial simulator (2,000 trials per hazard ratio, the
# interim at 33 and the final analysis at 66 deaths; the log-rank test on all deaths, so that the
# looks fall exactly on the information fractions the analytic values assume, and patients
# without prognostic differences, so that the log-rank's hazard ratio is the design's —
# notebook 05 simulates the plan as written), beside the analytic values:

# %%
oc = B.futility_operating_characteristics(guideline, n_trials=2000, seed=next_seed())
pd.DataFrame({
    "hazard ratio": [fmt_num(v, 2) for v in oc["hazard_ratio"]],
    "rejection, analytic": [fmt_pct(v) for v in oc["rejection"]],
    "rejection, simulated (MC SE)": [f"{fmt_pct(p)} ({fmt_pct(s)})" for p, s in
                                     zip(oc["simulated_rejection"], oc["rejection_mc_se"])],
    "stop for futility, analytic": [fmt_pct(v) for v in oc["futility_stop"]],
    "stop for futility, simulated (MC SE)": [f"{fmt_pct(p)} ({fmt_pct(s)})" for p, s in
                                             zip(oc["simulated_futility_stop"], oc["futility_mc_se"])],
}, index=pd.Index(oc["scenario"].tolist(), name="scenario"))

# %% [markdown]
# The guideline never adds type-I error (it only stops trials), costs a few points of power at
# the design's 0.5, and, if the truth is the pooled hazard ratio, stops most trials at half their
# deaths. It is stricter than notebook 05's z ≤ 0 rule because the pooled prior expects little.
# gsDesign's `gsPPFutilitySpending` sets futility bounds from predictive-probability targets in
# the same way and then enlarges the trial to keep its power; here the guideline is non-binding
# and its cost is reported instead. Which prior a futility rule uses is a decision for the
# investigators and the DMC, to be written in the plan before any data are seen.
#
# > **For reviewers** — the posterior equals numerical Bayes on a grid; the predictive
# > probability equals the conditional power integrated over the posterior and a Monte-Carlo
# > draw; the conditional power equals `trialnb.monitoring.conditional_power` (rpact's) when the
# > interim falls on the design's information rate; the guideline's bound has exactly the
# > promised predictive probability, and its analytic operating characteristics agree with the
# > simulator within Monte-Carlo error (`tests/test_bayesian.py`).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. The explorer
# Tick the trials to pool and choose a prior and a design: the pooled hazard ratio, the
# probability of success of the protocol's design and the deaths a trial would need follow. The
# same panel is the dashboard `notebooks/dashboards/evidence`.

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.evidence import EvidenceExplorer

explorer = EvidenceExplorer()
explorer.root

# %% [markdown]
# Setting controls from code works like ticking them by hand. Here the two at-diagnosis trials
# alone are pooled, then the explorer is set back to all five:

# %%
from trialnb.widgets.lookup import text_of

for key in ("tata2015", "e2108_2022", "jcog1017"):
    explorer.trials[key].value = False
print(text_of(explorer.pooled))
print(text_of(explorer.pos))
for key in ("tata2015", "e2108_2022", "jcog1017"):
    explorer.trials[key].value = True

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# * Five randomized trials pool to a hazard ratio near 0.93, with a prediction interval for a new
#   trial that includes both a useful benefit and harm (section 3); none of them supports the
#   protocol's 0.5.
# * A 90% interval gives the SE with z = 1.645; ABCSG-28's printed hazard ratio points the other
#   way and is inverted (section 1).
# * Under the pooled evidence the protocol's 66 deaths have about 5% power and about a 10%
#   probability of success; no number of deaths reaches 80% under any evidence-based prior
#   (sections 4-5).
# * Answering the protocol's question would take thousands of deaths and dozens of centres; a
#   trial of 236 patients could rule out a large harm instead (section 5).
# * At an interim, a Bayesian report shows how much each prior is moved by the data, and a
#   futility guideline on the predictive-probability scale has operating characteristics that
#   can be computed and simulated before the trial starts (sections 7-8).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
# Each exercise starts unanswered. Replace `None` with your answer and run the cell: the check
# says whether it is right and why. Ask for hints in stages: `hint=1`, then `hint=2`.

# %%
from trialnb.exercises.evidence import (check_assurance_ceiling, check_interim_posterior,
                                        check_probability_of_success, check_se_from_90_ci)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1
# E2108 reported HR 1.11 with a **90%** CI of 0.82 to 1.52. What is the standard error of its
# log hazard ratio?

# %%
answer = None
check_se_from_90_ci(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2
# With the protocol's 66 deaths, what is the probability of success under the pooled predictive
# prior (fixed two-sided 5% test; success = a significant benefit of surgery)?

# %%
answer = None
check_probability_of_success(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3
# However many deaths a trial waits for, what is the highest probability of success it can
# reach under the pooled predictive prior?

# %%
answer = None
check_assurance_ceiling(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 4
# An interim Cox estimate is ln HR −1.36 with SE 0.41 (HR 0.26, about what section 7 found).
# What is the posterior median hazard ratio under the after-induction prior?

# %%
answer = None
check_interim_posterior(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Glossary
# - **Random-effects meta-analysis**: pooling in which each trial has its own true effect, spread
#   around a mean with between-trial variance τ²; **REML**, **DerSimonian-Laird** and
#   **Paule-Mandel** estimate τ²; **I²** is the share of the variability due to it.
# - **Knapp-Hartung adjustment**: a wider interval for the mean effect, from the trials' own
#   scatter and a t distribution.
# - **Prediction interval**: where the true effect of a new trial is expected to lie.
# - **Prior**: a distribution for the true effect before the trial; **predictive prior**: the
#   distribution of a new trial's effect from a meta-analysis; **sceptical** and **enthusiastic
#   priors**: Spiegelhalter's priors centred on no effect and on the hoped-for effect.
# - **Probability of success (assurance)**: power averaged over a prior.
# - **Posterior**: the distribution of the true effect after combining the prior with the data.
# - **Predictive probability**: the probability that the final analysis succeeds, given the data
#   so far, averaged over the posterior.
# - **Non-inferiority margin**: the largest harm a trial sets out to exclude.
