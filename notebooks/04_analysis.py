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
# # 04 · The statistical analysis plan, run on synthetic data
#
# The protocol says what will be done when the trial ends: "Data will be presented for the
# complete intent-to-treat population. The primary endpoint will be analyzed in a Cox
# regression model, with the minimization factors as covariables." This notebook runs that
# plan from start to finish, on a **synthetic** dataset that looks like the real
# case-report forms will: the CONSORT flow, the baseline table, Kaplan-Meier curves, the
# 2-year survival as the protocol defines it, the log-rank test, the primary Cox model
# (checked against R), its assumptions, subgroups, the analysis populations and the
# secondary endpoints. Sections 1-9, 11 and 12 read three files named in the loading cell
# (`trial_protocol.csv`, `screening_log.csv`, `qol_protocol.csv`); real case-report forms in
# the same format (`data_dictionary.csv`) could be loaded there instead, but sections 10 and
# 13 use the synthetic `null` and `realistic` scenarios and make sense only on simulated data.
#
# *Protocol sections covered:* Primary and secondary outcome measures; Data analysis;
# Randomization (minimization factors); Clinical Trial Description (treatment in each arm).
#
# > The data in `data/` are simulated (`trialnb build-data`, seed 20201120; see
# > `data/README.md`). No number here is evidence about surgery in metastatic breast cancer.
#
# **Which analysis is primary.** The protocol's primary endpoint is "the percentage of
# patients who survive two years after randomization", analysed "in a Cox regression model,
# with the minimization factors as covariables"; overall survival is listed separately as a
# secondary endpoint. So the **primary analysis** is the Cox model of death *within 24 months*
# (every patient's follow-up censored at 24 months after randomization), intention to treat,
# adjusted for the three minimization factors; the **secondary** overall-survival analysis is
# the same model on all follow-up to the data cut-off. Both are defined once, in the trial's
# plan (`trialnb.plan.PLAN.analysis` and `trialnb.plan.OS_ANALYSIS`), and used by
# `analysis.primary`, `analysis.overall_survival`, the simulations of notebook 06, the audit
# and the R cross-check. Every table below says which one it shows. Section 15 separates the
# estimand's **summary measure** (the difference in two-year survival, which the protocol
# names) from the **test** (the adjusted Cox model's Wald test) and estimates the summary with
# the same covariates.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Overview
# 1. Load trial data so that every error in the file is reported, not silently repaired.
# 2. Draw the CONSORT flow and the baseline table, and say what they are for.
# 3. Estimate 2-year survival per arm with confidence intervals (the primary endpoint as
#    worded) and run the log-rank test, by hand, with the library and by re-randomization.
# 4. Fit the primary Cox model (death within 24 months) and the secondary overall-survival
#    model, check them against R `survival::coxph`, and check proportional hazards.
# 5. Explain why intention to treat is the primary analysis, with per-protocol and
#    as-treated analyses on data where the truth is known to be "no effect".
# 6. Name the estimand's summary measure and the test, see why the adjusted hazard ratio is
#    conditional while the whole population's is not the design's 0.5, and estimate the
#    two-year survival difference with the minimization factors (standardization), its gain
#    over Kaplan-Meier measured by simulation under minimization.
# 7. Ask how robust the result is: to patients lost to follow-up (a tipping-point analysis)
#    and to sparse strata (a rule fixed before unblinding).
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | Notebook 00 (the protocol) | Necessary | arms, factors, endpoints |
# | Survival data: time, event, censoring | Necessary | `os_months`, `death` |
# | Kaplan-Meier and hazard ratios | Helpful | shown step by step here |
# | pandas | Helpful | tables are DataFrames |
#
# | Notebook 03 (minimization) | Helpful | sections 6, 14 and 15 |
#
# **Time to learn:** 90-120 minutes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Imports
# The analysis functions live in `trialnb.analysis` (a thin DataFrame layer over the survival
# engine `trialnb.survival`, which R `survival` checks), the plan in `trialnb.plan`, the
# figures in `trialnb.plots`, and every printed number goes through `trialnb.report`.
# `lifelines` appears where a Python user would reach for it in their own work, beside the
# package's result; no reported number comes from it. One seeded generator is used by the
# permutation check of the log-rank test, and one seed stream gives each simulation its seed.

# %%
import json
from pathlib import Path

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import proportional_hazard_test

from trialnb import analysis as an
from trialnb import review
from trialnb.plan import PLAN, OS_ANALYSIS
from trialnb.randomization import PocockSimon
from trialnb.simulation import SeedStream, simulate, true_estimands
from trialnb.survival import logrank
from trialnb.data import load_trial, load_qol, load_screening, data_dictionary
from trialnb.errors import TrialDataError
from trialnb.plots import use_style, ARM_COLORS
from trialnb.plots import cif_plot, consort_diagram, km_plot, subgroup_forest, tipping_point_heatmap
from trialnb.resources import reference_dir
from trialnb.report import fmt_hr, fmt_ci, fmt_p, fmt_n, fmt_num, fmt_pct, fmt_prob, fmt_months

SEED = 20201120
rng = np.random.default_rng(SEED)
next_seed = SeedStream(SEED)  # one seed for each simulation, in order
use_style()
DATA = Path("../data")
pd.set_option("display.max_colwidth", None)  # show protocol wording and notes whole

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Loading the data, strictly
# The case-report form (CRF) has a fixed schema: each column's type, unit, allowed values and
# meaning. Here are the first rows of the data dictionary.

# %%
data_dictionary().query("file == 'trial_*.csv'").head(8)[["column", "type", "unit", "allowed"]]

# %% [markdown]
# `load_trial` checks every cell and the rules that connect columns (a patient operated on
# must have a surgery date, nobody can be followed past the data cut-off, ...). If anything
# is wrong it raises **one** error that lists every problem with its line in the file, its
# column and the rule it breaks. Here we damage three cells of a copy of the file to see the
# message (line 1 is the header, so the first patient is on line 2).

# %%
lines = (DATA / "trial_protocol.csv").read_text().splitlines()
header = lines[0].split(",")
bad = [line.split(",") for line in lines[1:]]
bad[0][header.index("death")] = "2"
bad[4][header.index("arm")] = "C"
bad[9][header.index("os_months")] = "-3.00"
bad_path = Path("bad_trial.csv")
bad_path.write_text("\n".join([lines[0]] + [",".join(r) for r in bad]) + "\n")
try:
    load_trial(bad_path)
except TrialDataError as err:
    for p in err.problems:
        print(p)
finally:
    bad_path.unlink()

# %% [markdown]
# The shipped file passes. We load the screening log, the trial data and the quality-of-life
# visits of the scenario built on the protocol's assumptions (true hazard ratio 0.5). Given
# the screening log, `load_trial` also checks that every randomized patient was screened, with
# the same minimization factors, and that the CONSORT counts add up; given the trial data,
# `load_qol` checks that no visit falls after a patient's death or end of follow-up. Each
# shipped file is also checked against `data/manifest.csv` (its rows and SHA-256), so a file
# cut short is refused even at a row boundary.

# %%
screening = load_screening(DATA / "screening_log.csv")
df = load_trial(DATA / "trial_protocol.csv", screening=screening)
qol = load_qol(DATA / "qol_protocol.csv", trial=df)
print(f"{fmt_n(len(df))} randomized patients, {fmt_n(int(df['death'].sum()))} deaths, "
      f"{fmt_n(len(screening))} screened, {fmt_n(len(qol))} QoL visits")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. CONSORT flow
# A CONSORT diagram (Schulz et al., BMJ 2010;340:c332) accounts for every patient: how many
# were screened, why some were excluded, how many were randomized to each arm, what treatment
# they actually received, who was lost, and who is analysed. The counts come from the
# screening log and the trial data.

# %%
counts = an.consort_counts(screening, df)
ax = consort_diagram(counts)
plt.show()

# %% [markdown]
# In arm A, not every patient is operated on: the protocol operates only "if the disease is
# not progressive". Those patients still belong to arm A in the primary analysis (section 10).

# %%
a = counts["arm_A"]
print(f"arm A: {fmt_n(a['operated'])} of {fmt_n(a['allocated'])} operated ({fmt_pct(a['operated'] / a['allocated'])}); "
      f"not operated: " + ", ".join(f"{k} {fmt_n(v)}" for k, v in a["not_operated"].items()))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Baseline table
# The baseline table describes who was randomized. It is **not** a test of balance:
# with randomization any difference is chance by construction, so no p-values are shown.
# Minimization keeps the three factors (site, receptor, HER2) nearly equal between arms.

# %%
an.baseline_table(df)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Kaplan-Meier curves with numbers at risk
# The Kaplan-Meier estimate multiplies, at each death time, the fraction of patients at risk
# who survive it. Tick marks are censored patients; shaded bands are 95% confidence
# intervals; the table under the axis gives the patients still at risk. The curves use all
# follow-up (overall survival, secondary); the primary analysis looks only at the first
# 24 months.

# %%
ax = km_plot(df)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The primary endpoint as written: 2-year survival
# The protocol defines the primary endpoint as "the percentage of patients who survive two
# years after randomization". With censoring, the right estimate is the Kaplan-Meier
# survival at 24 months. First **by hand** for arm B: the product over death times
# t ≤ 24 of (1 − d/n), and Greenwood's variance S² Σ d/(n(n − d)).

# %%
b = df[df["arm"] == "B"]
t, d = b["os_months"].to_numpy(), b["death"].to_numpy()
s_hand, acc = 1.0, 0.0
for tj in np.unique(t[(d == 1) & (t <= 24)]):
    n_j, d_j = int((t >= tj).sum()), int(((t == tj) & (d == 1)).sum())
    s_hand *= 1 - d_j / n_j
    acc += d_j / (n_j * (n_j - d_j))
se_hand = s_hand * np.sqrt(acc)
print(f"arm B by hand: S(24) = {fmt_prob(s_hand, 4)}, Greenwood SE = {fmt_prob(se_hand, 4)}")

# %% [markdown]
# The package gives the same numbers (`an.milestone`, on the survival engine), adds log-log
# 95% intervals (which stay inside 0-1) and the difference A − B with its Wald interval, in
# percentage points.

# %%
ms = an.milestone(df, 24.0)
for arm, r in ms.table.iterrows():
    print(f"arm {arm}: 2-year survival {fmt_pct(r['survival'])} {fmt_ci(100 * r['ci_lower'], 100 * r['ci_upper'], 1)} "
          f"(SE {fmt_prob(r['se'], 4)}; {fmt_n(r['at_risk_at_time'])} still at risk)")
print(f"difference A - B: {fmt_num(100 * ms.difference, 1)} percentage points "
      f"{fmt_ci(100 * ms.diff_lower, 100 * ms.diff_upper, 1)}, {fmt_p(ms.p_value)}")

# %% [markdown]
# In your own work you may meet `lifelines`, a Python survival library. Its
# `KaplanMeierFitter` gives the same curve; here it is beside the package's value (the tests
# hold the two equal; the reported numbers above come from the package).

# %%
kmf = KaplanMeierFitter().fit(b["os_months"], b["death"])
print(f"arm B S(24): trialnb {fmt_prob(ms.survival_b, 6)}, lifelines {fmt_prob(float(kmf.predict(24.0)), 6)}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Log-rank test
# The log-rank test compares observed with expected deaths in each arm if the arms had the
# same hazard at every time. Here it is the unadjusted companion of the primary analysis, so it
# uses the primary's follow-up: deaths within 24 months (`an.primary_data` censors every patient
# at 24 months). First **by hand**: at each death time, U adds arm A's deaths minus the deaths
# expected from its share of the patients at risk, d·n_A/n, and the variance
# V adds d (n_A/n)(1 − n_A/n)(n − d)/(n − 1); chi-square = U²/V.

# %%
df24 = an.primary_data(df)
time_, event_, is_a = df24["os_months"].to_numpy(), df24["death"].to_numpy(), (df24["arm"] == "A").to_numpy()
U = V = 0.0
for tj in np.unique(time_[event_ == 1]):
    at_risk = time_ >= tj
    n, n_a = int(at_risk.sum()), int((at_risk & is_a).sum())
    dead = (time_ == tj) & (event_ == 1)
    d_all, d_a = int(dead.sum()), int((dead & is_a).sum())
    U += d_a - d_all * n_a / n
    if n > 1:
        V += d_all * (n_a / n) * (1 - n_a / n) * (n - d_all) / (n - 1)
chi_hand = U ** 2 / V
print(f"by hand: observed - expected in arm A = {fmt_num(U, 2)}, variance {fmt_num(V, 2)}, "
      f"chi-square = {fmt_num(chi_hand, 6)}")

# %% [markdown]
# The package's test (`an.logrank_test`, on the engine, equal to R `survdiff`) gives the same
# statistic, with observed and expected deaths per arm.

# %%
lr = an.logrank_test(df24)
for arm in ("A", "B"):
    print(f"arm {arm}: observed {fmt_n(lr.observed[arm])}, expected {fmt_num(lr.expected[arm], 1)}")
print(f"chi-square = {fmt_num(lr.statistic, 6)} (1 df), {fmt_p(lr.p_value)}; by hand {fmt_num(chi_hand, 6)}")

# %% [markdown]
# A permutation check needs no distribution theory: under the null hypothesis the arm does
# not matter, so we redo the allocation many times and count how often the statistic is at
# least as large as observed. *Which* re-allocation is the right null depends on how the
# trial allocated. Shuffling the labels freely pretends that every split of the patients was
# equally likely; but the trial used minimization, which makes the arms far more alike on the
# three factors than free shuffles are. The right null is the **re-randomization test**: re-run
# the trial's own procedure, `PocockSimon()` (the one that built these data), on the same
# patients in the same order, with new random draws (Rosenberger & Lachin, *Randomization in
# Clinical Trials*, 2016, chapter 6). Both are shown, 1,000 re-allocations each (Monte Carlo
# standard error of a p-value at most about 0.016); the engine computes the 1,000 log-rank
# statistics of the shuffles at once.

# %%
shuffles = np.array([rng.permutation(is_a) for _ in range(1000)])
null_free = np.asarray(logrank(np.broadcast_to(time_, shuffles.shape), np.broadcast_to(event_, shuffles.shape),
                               shuffles).chisq)
p_free = (1 + int((null_free >= chi_hand).sum())) / (1 + len(null_free))
rr = an.rerandomization_test(df24, PocockSimon, 1000, rng)
print(f"free label permutation (ignores minimization): {fmt_p(p_free)}")
print(f"re-randomization by minimization (PocockSimon re-run): {fmt_p(rr.p_value)}")
print(f"chi-square approximation: {fmt_p(lr.p_value)}")
crit = 3.841  # chi-square(1) 5% critical value
for name, null in (("free permutation", null_free), ("re-randomization", rr.null)):
    share = float((null > crit).mean())
    print(f"{name:17s}: mean statistic {fmt_num(null.mean(), 2)} (chi-square(1): 1); above 3.84 in "
          f"{fmt_pct(share)} (Monte Carlo SE {fmt_pct(np.sqrt(share * (1 - share) / len(null)))})")

# %% [markdown]
# What to expect: when the minimization factors are prognostic (visceral and
# receptor-negative disease shorten survival in these data), balancing them makes the arms'
# death counts more alike than free shuffling does, so under re-randomization the unadjusted
# log-rank statistic is a little smaller than chi-square(1) predicts, and the usual 5% test
# rejects less than 5% of the time: it is conservative (Kahan & Morris, Stat Med
# 2012;31:328). With three factors of moderate strength and 1,000 re-randomizations the
# difference on these 236 patients is within Monte Carlo error, as the shares above show. The
# remedy is the one the protocol chose: adjust for the minimization factors (next section;
# section 15 measures the effect on thousands of simulated trials).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The primary analysis: Cox model with the minimization factors
# The primary analysis, item by item, with the protocol sentence each rests on and what the
# project decided where the protocol is silent (`PLAN.analysis`, the one definition every part
# of the package reads):

# %%
PLAN.analysis.table()

# %% [markdown]
# The model is h(t) = h₀(t) exp(β_A·[arm A] + β_soft·[soft tissue] + β_visc·[visceral] +
# β_HR−·[receptor negative] + β_HER2+·[HER2 positive]), reference levels arm B, bone,
# receptor positive, HER2 negative; ties by Efron's method. exp(β_A) is the hazard ratio of
# arm A vs arm B for patients with the same factors. Adjusting for factors used in the
# randomization is what the protocol asks for, and it gives correct type I error for
# minimized trials (ICH E9; Kahan & Morris, Stat Med 2012;31:328).

# %%
res = an.primary(df)
print(f"PRIMARY ({PLAN.analysis.endpoint}):")
print(f"  hazard ratio, arm A vs arm B: {fmt_hr(res.hazard_ratio, res.ci_lower, res.ci_upper)}, {fmt_p(res.p_value)}")
print(f"  {fmt_n(res.n)} patients, {fmt_n(res.events)} deaths within 24 months")

# %% [markdown]
# The secondary overall-survival analysis fits the same model to all follow-up (up to
# 60 months for the first patients). It has more deaths, so a narrower interval, but it is
# not the analysis the trial was designed and powered for, and no claim should rest on it.

# %%
res_os = an.overall_survival(df)
print(f"SECONDARY ({OS_ANALYSIS.endpoint}, all follow-up):")
print(f"  hazard ratio, arm A vs arm B: {fmt_hr(res_os.hazard_ratio, res_os.ci_lower, res_os.ci_upper)}, "
      f"{fmt_p(res_os.p_value)}; {fmt_n(res_os.events)} deaths")

# %% [markdown]
# The full coefficient table of the **primary** model: one hazard ratio per covariate, each
# adjusted for the others (the engine's result keeps the covariate names).

# %%
coefs = res.coefficients()
pd.DataFrame({
    "HR (95% CI)": [fmt_hr(r["exp(coef)"], r["hr_lower_95"], r["hr_upper_95"]) for _, r in coefs.iterrows()],
    "coef (SE)": [f"{fmt_num(r['coef'], 3)} ({fmt_num(r['se(coef)'], 3)})" for _, r in coefs.iterrows()],
    "p": [fmt_p(r["p"]) for _, r in coefs.iterrows()],
}, index=coefs.index)

# %% [markdown]
# What a Python user would write in their own work: the same model with `lifelines`'
# `CoxPHFitter` on the data censored at 24 months, with the factors as 0/1 columns named as
# the package names them. The coefficients agree to the last digits shown (the tests hold them
# equal); the reported analysis is the package's.

# %%
design = pd.DataFrame({
    "arm_A": df24["arm"].eq("A"), "dominant_site_soft_tissue": df24["dominant_site"].eq("soft_tissue"),
    "dominant_site_visceral": df24["dominant_site"].eq("visceral"),
    "hormone_receptor_negative": df24["hormone_receptor"].eq("negative"), "her2_positive": df24["her2"].eq("positive"),
}).astype(float)
cph = CoxPHFitter().fit(design.assign(os_months=df24["os_months"], death=df24["death"]), "os_months", "death")
pd.DataFrame({"coef (trialnb)": [fmt_num(v, 6) for v in coefs["coef"]],
              "coef (lifelines)": [fmt_num(cph.params_[k], 6) for k in coefs.index]}, index=coefs.index)

# %% [markdown]
# > **For reviewers: cross-check against R `survival`.** `tests/reference/survival_coxph.R`
# > fits `coxph(Surv(os_months, death) ~ arm + dominant_site + hormone_receptor + her2,
# > ties = "efron")` with the same reference levels on every shipped trial file (survival
# > 3.5-3, R 4.2) - the primary model on follow-up censored at 24 months (the script's
# > `PRIMARY_CENSOR_MONTHS`, checked against `PLAN.analysis.censor_months` by the tests) and the
# > secondary model on all follow-up - plus `survfit` at 24 months, `survdiff` and `cox.zph`,
# > and commits the values to `survival_coxph.json`; CI re-runs the script. The table below is
# > computed by the package (`review.crosscheck_frame("survival")`, the audit's own
# > comparison): for each file and model the hazard ratio and its SE, ours and R's, and the
# > largest relative difference over every coefficient and SE of the model (tolerance 1e-6).

# %%
xc = review.crosscheck_frame("survival")
rows = []
for scen in ("protocol", "null", "realistic"):
    for model, tag in (("primary", "(primary, death within 24 months)"),
                       ("secondary OS", "(secondary, overall survival, all follow-up)")):
        hr_row = xc[xc["quantity"] == f"trial_{scen}: Cox HR arm A vs B {tag}"].iloc[0]
        if model == "primary":
            terms = xc[xc["quantity"].str.startswith(f"trial_{scen}: Cox coef ")
                       | xc["quantity"].str.startswith(f"trial_{scen}: Cox SE ")]
            se_row = xc[xc["quantity"] == f"trial_{scen}: Cox SE arm_A"].iloc[0]
        else:
            se_row = xc[xc["quantity"] == f"trial_{scen}: Cox SE arm_A (secondary, overall survival)"].iloc[0]
            terms = pd.concat([hr_row.to_frame().T, se_row.to_frame().T])
        worst = float(terms["difference"].max())
        rows.append({"file": f"trial_{scen}.csv", "analysis": model, "HR (trialnb)": fmt_num(hr_row["trialnb"], 6),
                     "HR (R coxph)": fmt_num(hr_row["reference"], 6), "SE (trialnb)": fmt_num(se_row["trialnb"], 6),
                     "SE (R)": fmt_num(se_row["reference"], 6), "within 1e-6 (tested)": bool(terms["passed"].all()),
                     "largest relative difference": "below 1e-9" if worst < 1e-9 else f"{worst:.0e}"})
pd.DataFrame(rows)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Checking proportional hazards
# The Cox model assumes the hazard ratio is constant over time. Two checks: a picture
# (log(−log S(t)) against log t should give roughly parallel curves) and the scaled
# Schoenfeld residual test of Grambsch & Therneau (Biometrika 1994;81:515).

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
for arm, k in an.km_by_arm(df).items():
    keep = (k.time > 0) & (k.survival > 0) & (k.survival < 1)
    ax.step(np.log(k.time[keep]), np.log(-np.log(k.survival[keep])), where="post", color=ARM_COLORS[arm],
            label=f"Arm {arm}")
ax.set_xlabel("log(months since randomization)")
ax.set_ylabel("log(-log S(t))")
ax.set_title("Parallel curves are consistent with proportional hazards")
ax.legend()
plt.show()

# %% [markdown]
# The residual tests of the **primary** model, one per covariate, with time on the
# Kaplan-Meier scale. `an.ph_tests` computes the score test exactly as R's `cox.zph` does
# since survival 3.0 (2019); R's values are the audit's reference. lifelines'
# `proportional_hazard_test` uses the older approximation of Grambsch & Therneau (1994), which
# R itself replaced: its chi-squares are not "a little" different, they can differ by large
# factors (printed below the table). Read `ph_tests`/`cox.zph`: a small p-value flags a hazard
# ratio that changes with time.

# %%
zph = an.ph_tests(df, transform="km")
zref = xc[xc["quantity"].str.startswith("trial_protocol: cox.zph")].set_index("quantity")["reference"]
ph = proportional_hazard_test(cph, design.assign(os_months=df24["os_months"], death=df24["death"]),
                              time_transform="km").summary
pd.DataFrame({"chi-square (trialnb)": [fmt_num(v, 3) for v in zph["chisq"]],
              "chi-square (R cox.zph)": [fmt_num(zref[f"trial_protocol: cox.zph chi-square (km), {k}"], 3)
                                         for k in zph.index],
              "p (trialnb)": [fmt_p(v) for v in zph["p"]],
              "chi-square (lifelines approx.)": [fmt_num(ph.loc[k, "test_statistic"], 3) if k in ph.index else ""
                                                 for k in zph.index]}, index=zph.index)

# %% [markdown]
# How far apart the two are, covariate by covariate (lifelines' chi-square divided by
# `cox.zph`'s):

# %%
ratio = ph["test_statistic"] / zph.loc[ph.index, "chisq"]
print(f"lifelines / cox.zph chi-square ratio: {fmt_num(ratio.min(), 2)} to {fmt_num(ratio.max(), 2)}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. Subgroups (exploratory)
# Hazard ratios of arm A vs B within each level of each factor, with a likelihood-ratio test
# of interaction per factor, all on the primary's follow-up (deaths within 24 months). The
# "All patients" row is the primary model itself (adjusted for the minimization factors);
# within a subgroup the model has the arm only. The protocol plans no subgroup analysis: the
# three minimization factors are the only subgroups it names at all (as factors), and age and
# ECOG are not in the protocol. Every row below is **exploratory**. The trial is not powered
# for subgroups: read the interaction p-values, not whether each subgroup's interval crosses 1.

# %%
sg = an.subgroup_hrs(df)
ax = subgroup_forest(sg)
plt.show()

# %% [markdown]
# The interaction tests, one per factor. Five tests at the 5% level: if surgery worked the
# same in everyone, the chance that at least one of them is "significant" anyway is
# 1 − 0.95⁵ (treating them as independent).

# %%
for f, g in sg[sg["factor"] != "all"].groupby("factor", sort=False):
    tag = "protocol factor" if bool(g["in_protocol"].iloc[0]) else "not in the protocol"
    print(f"{f:18s} interaction {fmt_p(g['p_interaction'].iloc[0])}  ({tag}; exploratory)")
k_tests = int(sg.loc[sg["factor"] != "all", "factor"].nunique())
print(f"{k_tests} interaction tests: chance of at least one false alarm = 1 - 0.95^{k_tests} = "
      f"{fmt_pct(1 - 0.95 ** k_tests)}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 10. Intention to treat, per protocol, as treated — and why ITT is primary
# In arm A about a quarter of patients progress before surgery and are not operated; they
# are the patients with the worst prognosis. Dropping them (per-protocol) or comparing
# operated with non-operated patients (as-treated) compares groups that randomization did
# not make comparable. To see the damage we use the **null** scenario, where surgery has no
# effect at all (true HR = 1). Every row uses the primary's follow-up (deaths within 24 months).

# %%
df_null = load_trial(DATA / "trial_null.csv")
pc = an.population_comparison(df_null)
pd.DataFrame({"comparison": pc["comparison"].tolist(), "patients": [fmt_n(v) for v in pc["n"]],
              "deaths": [fmt_n(v) for v in pc["events"]],
              "HR (95% CI)": [fmt_hr(r.hr, r.ci_lower, r.ci_upper) for r in pc.itertuples()],
              "p": [fmt_p(v) for v in pc["p"]]}, index=pc["population"])

# %% [markdown]
# (The per-protocol, naive and time-varying models are also refitted in R by the reference
# script — `tmerge` for the time-varying covariate — and agree to 1e-6 in the tests.)
#
# Only the ITT estimate is close to the truth. Per-protocol and the naive as-treated
# comparison "find" a benefit of surgery that does not exist; treating surgery as a
# time-varying covariate removes the immortal time (patients must survive to be operated)
# but not the selection of non-progressing patients. These are mechanisms behind the
# registry figure the protocol quotes (HR 0.61 for surgery *with free margins* vs no
# surgery): the biases the protocol names, plus immortal time. ITT answers the question
# the trial can answer without bias: *what happens when surgery is the planned strategy?*

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 11. Secondary endpoints
# The protocol lists quality of life, overall survival, unplanned local therapies,
# axillary dissection or radiotherapy, and margin status. Counts per arm; the last column
# says what each p-value is:
# - **deaths** get no test: patients entered over 36 months, so crude counts cover unequal
#   follow-up; deaths are compared by the survival analyses (sections 5-7);
# - the p beside the **medians** is the log-rank p of the whole curves (all follow-up), not a
#   test of the medians;
# - **free margins** are counted among operated patients only. Who is operated depends on
#   the arm and on the course after randomization (arm-A patients who progressed were not
#   operated), so this comparison is not protected by randomization;
# - the other counts use Fisher's exact test.

# %%
sec = an.secondary_summary(df)


def show(value, n, endpoint):
    if "median" in endpoint:
        return "not reached" if np.isinf(value) else fmt_months(value)
    return f"{fmt_n(value)} / {fmt_n(n)}"


pd.DataFrame({
    "arm A": [show(r.A, r.n_A, r.endpoint) for r in sec.itertuples()],
    "arm B": [show(r.B, r.n_B, r.endpoint) for r in sec.itertuples()],
    "p": ["" if np.isnan(r.p) else fmt_p(r.p) for r in sec.itertuples()],
    "what the p is": sec["test"].tolist(),
}, index=sec["endpoint"])

# %% [markdown]
# **Multiplicity.** The protocol names five secondary endpoints and no adjustment for
# multiplicity. The table holds several tests; if nothing differed between the arms, the
# chance that at least one of them falls below 0.05 grows with their number (computed below
# as if they were independent). So these p-values are descriptive: a secondary endpoint can
# support, never replace, the primary analysis.

# %%
n_tests = int(sec["p"].notna().sum())
print(f"{n_tests} secondary tests: chance of at least one p < 0.05 by chance alone = 1 - 0.95^{n_tests} = "
      f"{fmt_pct(1 - 0.95 ** n_tests)}")

# %% [markdown]
# Quality of life (EORTC QLQ-C30 global health status, 0-100) is measured only in patients
# alive at a visit, so later means describe survivors: "completion" is the share of patients
# still followed who have a score.

# %%
qs = an.qol_summary(qol, df)
fig, ax = plt.subplots(figsize=(7, 4.5))
for arm, g in qs.groupby("arm"):
    ax.errorbar(g["visit_month"], g["mean"], yerr=1.96 * g["sd"] / np.sqrt(g["n"]), marker="o", capsize=3,
                color=ARM_COLORS[arm], label=f"Arm {arm}")
ax.set_xlabel("Months since randomization")
ax.set_ylabel("Mean QoL score (points, 0-100) ± 95% CI")
ax.set_xticks(sorted(qs["visit_month"].unique()))
ax.set_title("Quality of life among patients alive at each visit")
ax.legend()
plt.show()

# %% [markdown]
# The same numbers as a table.

# %%
pd.DataFrame({"arm": qs["arm"], "visit (months)": [fmt_num(v, 0) for v in qs["visit_month"]],
              "patients scored": [fmt_n(v) for v in qs["n"]], "mean (SD)": [f"{fmt_num(m, 1)} ({fmt_num(s_, 1)})" for m, s_ in zip(qs["mean"], qs["sd"])],
              "completion": [fmt_pct(v, 0) for v in qs["completion"]]})

# %% [markdown] slideshow={"slide_type": "slide"}
# %% [markdown] slideshow={"slide_type": "slide"}
# ## 12. Secondary endpoints cut short by death: competing risks
# The protocol counts "unplanned local therapies" (Primary and secondary outcome measures). The
# case-report form also dates the **first** unplanned local therapy and the diagnosis of
# **locoregional progression** (`unplanned_local_therapy_month`, `locoregional_progression_month`
# in the data dictionary). A patient who dies first can never have either: death is a
# *competing event*. Two tempting summaries are wrong:
#
# - one minus a Kaplan-Meier curve with the deaths censored estimates the incidence in a world
#   where nobody dies, and overstates what happened;
# - a crude proportion ignores that follow-up is unequal (patients entered over 36 months).
#
# The summary that answers "what share of patients had the event by month t?" is the
# **cumulative incidence** F(t) = P(event by t, before death), estimated by Aalen-Johansen,
# compared between arms by **Gray's test** and modelled by the **Fine-Gray** subdistribution
# hazard ratio. In ICH E9(R1) terms this is the *competing-risk* strategy for the intercurrent
# event death; the SAP names it, and names the strategy of every other secondary endpoint. The
# E2108 trial reported locoregional progression exactly this way: 16.3% with early local
# therapy vs 39.8% without at 3 years, by Gray's test (`references/clinical_evidence.md`,
# section 3). Our synthetic data used those two figures as the probabilities of progression by
# 3 years in the absence of death (`data/README.md`), so the observed incidences must come out
# lower.
#
# First the counts: each patient ends with the event, with death before it, or censored.

# %%
lrp = an.competing_risks(df, "locoregional_progression", times=(12, 24, 36))
ult = an.competing_risks(df, "unplanned_local_therapy", times=(12, 24, 36))
pd.concat({"locoregional progression": lrp.counts, "first unplanned local therapy": ult.counts}, axis=1)

# %% [markdown]
# **By hand, once.** At each month u with an event of either kind, n(u) patients are still
# free of both; the cumulative incidence grows by S(u-) d_1(u) / n(u), where S(u-) is the
# probability of being free of both just before u and d_1(u) the progressions at u. The
# complement of a Kaplan-Meier curve that censors the deaths instead divides by a risk set from
# which the dead have simply vanished, as if they could still progress later.

# %%
lrp_data = an.competing_data(df, "locoregional_progression")
arm_b = lrp_data[lrp_data["arm"] == "B"]
S, F, F_censoring_deaths = 1.0, 0.0, 0.0
for u in sorted(arm_b.loc[(arm_b["status"] > 0) & (arm_b["time"] <= 36), "time"].unique()):
    n = int((arm_b["time"] >= u).sum())
    d1 = int(((arm_b["time"] == u) & (arm_b["status"] == 1)).sum())
    d = int(((arm_b["time"] == u) & (arm_b["status"] > 0)).sum())
    F += S * d1 / n
    S *= 1 - d / n
    F_censoring_deaths = 1 - (1 - F_censoring_deaths) * (1 - d1 / n)
print(f"arm B, 36 months: Aalen-Johansen by hand {fmt_pct(F)}, trialnb {fmt_pct(lrp.incidence('B', 36))}; "
      f"one minus Kaplan-Meier with deaths censored {fmt_pct(F_censoring_deaths)}")

# %% [markdown]
# The cumulative incidence of locoregional progression by arm (solid), with the cumulative
# incidence of death before it (dashed): at any month the two curves of an arm and the share
# still free of both add up to 1.

# %%
ax = cif_plot(lrp)
plt.show()

# %% [markdown]
# The table at 12, 24 and 36 months (95% intervals on the log-log scale), Gray's test of arm A
# against arm B, and the Fine-Gray model with the minimization factors, like the primary Cox
# model:

# %%
pd.DataFrame({"arm": lrp.table["arm"], "month": [fmt_num(m, 0) for m in lrp.table["time"]],
              "cumulative incidence (95% CI)": [f"{fmt_pct(e)} ({fmt_pct(lo)} to {fmt_pct(hi)})"
                                                for e, lo, hi in lrp.table[["estimate", "lower", "upper"]].to_numpy()]})

# %% [markdown]
# The test and the model, in one sentence each:

# %%
print(lrp.gray.summary())
shr, shr_lo, shr_hi = lrp.subdistribution_hazard_ratio
print(f"Fine-Gray subdistribution HR, arm A vs B (adjusted for the minimization factors): {fmt_hr(shr, shr_lo, shr_hi)}, "
      f"{fmt_p(float(lrp.fine_gray.p[0]))}")

# %% [markdown]
# A subdistribution hazard ratio below 1 says that arm A accumulates progressions more slowly,
# counting the patients who died first as still "at risk" (with a weight) because they can no
# longer progress; it is a summary of the cumulative incidence curves, not the biological rate
# of progression among the living (that is the cause-specific hazard). The same analysis of the
# time to the first unplanned local therapy (arm-B operations, re-excisions and the treatment
# of a progression):

# %%
ax = cif_plot(ult)
plt.show()
print(ult.summary())

# %% [markdown]
# > **For reviewers.** `trialnb.survival.cumulative_incidence`, `gray_test` and `fine_gray` are
# > written from Aalen & Johansen (1978), Gray (1988) and Fine & Gray (1999) and equal R's
# > `cmprsk` (Gray's own code): every curve and its variance (`cuminc`, `timepoints`), Gray's
# > statistic with and without strata, and the Fine-Gray coefficients and robust variance
# > (`crr`), on hand cases with ties, a simulated case and these data
# > (`tests/reference/cmprsk_reference.R`, its JSON committed and re-run in CI;
# > `tests/test_competing.py`). The numbers on this file:

# %%
ref = json.loads((reference_dir() / "cmprsk_reference.json").read_text())["results"]["trial_protocol"]
rows = []
for name, res in (("locoregional", lrp), ("unplanned_therapy", ult)):
    r = ref[name]
    rows.append({"endpoint": res.label, "Gray chi-square (R)": fmt_num(r["gray"]["1"]["stat"], 6),
                 "Gray chi-square (trialnb)": fmt_num(res.gray.statistic, 6),
                 "log sHR arm A (R)": fmt_num(r["crr"]["cause_1"]["coef"][0], 6),
                 "log sHR arm A (trialnb)": fmt_num(float(res.fine_gray.coef[0]), 6)})
pd.DataFrame(rows)

# %% [markdown]
# **Every secondary endpoint names its strategy for death** (ICH E9(R1); the SAP's "Secondary
# outcome measures"):
#
# - time to the first unplanned local therapy and to locoregional progression: *competing risk*
#   (above);
# - locoregional progression-free survival, progression or death whichever comes first: a
#   *composite*, as a supplementary analysis (JCOG1017 reported it, `references/clinical_evidence.md`,
#   section 3);
# - the numbers of unplanned local therapies and axillary treatments: *while alive*, counted over
#   each patient's time alive and followed;
# - quality of life: *while alive*. **Quality of life is truncated by death**: a score exists only
#   for a patient alive at the visit, so the means of section 11 describe the survivors at each
#   visit, not the randomized arms, and a difference between them can come from who survives.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 13. One design, three truths
# The three shipped datasets share the same patients and allocations; only the true effect
# of surgery differs (HR 0.5 as the protocol assumed, 1.0, and 0.90 as randomized trials
# suggest). The primary analysis (death within 24 months) on each, with the Kaplan-Meier
# difference in two-year survival:

# %%
for scen in ("protocol", "null", "realistic"):
    d_ = load_trial(DATA / f"trial_{scen}.csv")
    r_ = an.primary(d_)
    s_ = an.milestone(d_)
    print(f"{scen:10s} primary HR {fmt_hr(r_.hazard_ratio, r_.ci_lower, r_.ci_upper)}, {fmt_p(r_.p_value)}; "
          f"2-year survival A - B {fmt_num(100 * s_.difference, 1)} percentage points")

# %% [markdown]
# One trial per truth is one draw each: notebook 06 repeats the trial thousands of times and
# shows that with 236 patients only the protocol's optimistic effect is detected reliably.
#
# ### Which estimand?
# In these synthetic data the "true effect of surgery" (HR 0.5 or 0.9) is a hazard ratio of
# **allocation** to arm A, acting from randomization on *every* arm-A patient, including the
# patients who progressed and were never operated (see `trialnb.simulation` and
# `data/README.md`). So the data contain the intention-to-treat (treatment-policy) effect of
# *planning* surgery, which is exactly what the ITT primary analysis estimates, and the
# primary HR above should be read against that number. It is not a model of how surgery
# could work in a real trial: an effect of the operation would start at surgery (months after
# randomization) and spare the non-operated patients, which dilutes the ITT hazard ratio
# towards 1. Notebook 06 simulates that dilution (`non_compliance`, `effect_delay_months`).
# The protocol itself is ambiguous here: arm A is "systemic therapy followed by surgery if
# the disease is not progressive", yet another sentence speaks of patients "randomized to
# upfront surgery" (notebook 00 lists this finding).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 14. Pre-specified sensitivity analyses: milestone, RMST, weighted log-rank
# The protocol words its endpoint as 2-year survival but analyses a hazard ratio; if hazards
# are not proportional (surgery months after randomization, early perioperative deaths) the
# two can disagree (notebook 07). We pre-specify four sensitivity analyses of the same
# endpoint, all with follow-up censored at 24 months like the primary analysis: the difference
# in 2-year survival (Kaplan-Meier with Greenwood SE, and on the complementary log-log scale),
# the difference in restricted mean survival time to 24 months, Fleming-Harrington weighted
# log-rank tests stratified by the minimization factors (FH(0,1) weighs late differences,
# FH(1,0) early ones) and MaxCombo, the largest of four FH statistics with a p-value that
# accounts for their correlation. They are descriptive support for the one confirmatory
# test (the primary Cox model), not further chances to find an effect.
#
# The milestone and RMST differences on the protocol-scenario data:

# %%
d24 = an.primary_data(df)
print(an.milestone(d24, tau=24).summary())
print(an.rmst_difference(d24, tau=24).summary())

# %% [markdown]
# **Sparse strata.** The three factors make 12 strata, and several hold only a few patients
# (soft-tissue-dominant disease is rare): a stratum of two patients adds almost nothing to a
# stratified test. The plan fixes a rule before unblinding, using only what a blinded
# statistician sees (patients, and deaths pooled over the arms): while a stratum holds fewer
# than `an.MIN_STRATUM_PATIENTS` patients, merge the two levels of one factor that are closest
# in prognosis, by the design's prognostic hazard ratios (`trialnb.population`); a two-level
# factor merged is dropped. The strata before and after:

# %%
full = df.groupby(["dominant_site", "hormone_receptor", "her2"]).size()
pooled = an.pool_strata(df)
print(f"before: {fmt_n(len(full))} strata, the smallest with {fmt_n(int(full.min()))} patients")
print(pooled.summary())
pooled.table

# %% [markdown]
# The weighted log-rank tests, stratified by the pooled strata, and MaxCombo:

# %%
for rho, gamma in ((0, 0), (0, 1), (1, 0)):
    print(an.weighted_logrank(d24, rho, gamma, strata="pooled").summary())
print(an.maxcombo(d24, strata="pooled").summary())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 15. The estimand's summary measure, and the test
# ICH E9(R1) asks for one population-level summary of the estimand. The protocol names it:
# "the percentage of patients who survive two years after randomization", so the **summary
# measure** is the difference in two-year survival, S_A(24) − S_B(24), a *marginal* quantity
# (what happens to the whole eligible population under each strategy). The **test** is
# another matter: the protocol analyses "in a Cox regression model, with the minimization
# factors as covariables", so the confirmatory test is the Wald test of the adjusted Cox
# model. Its hazard ratio is **conditional**: the ratio for patients with the same dominant
# site, receptor and HER2 status. Hazard ratios are non-collapsible, so the conditional and
# the marginal (whole-population) hazard ratio differ even with no confounding at all, and the
# conditional one is further from 1 when the factors are prognostic (Gail, Wieand &
# Piantadosi, Biometrika 1984;71:431).
#
# In the simulator (and the synthetic data) the design's `hazard_ratio` 0.5 acts within each
# factor stratum: it is the conditional hazard ratio. What the design implies for the whole
# population, computed from the model (no simulation): each arm's two-year survival, their
# difference (the estimand), the conditional hazard ratio and the marginal one (the limit of
# the unadjusted Cox model, which the log-rank test also estimates, for the trial's follow-up
# censored at 24 months; `trialnb.simulation.true_estimands`):

# %%
truth = true_estimands(PLAN.design)
print(f"2-year survival: arm A {fmt_pct(truth['survival_a'])}, arm B {fmt_pct(truth['survival_b'])}; "
      f"difference {fmt_num(100 * truth['milestone_difference'], 1)} percentage points (the estimand)")
print(f"hazard ratio within strata (the design's, conditional): {fmt_hr(PLAN.design.hazard_ratio)}; "
      f"adjusted Cox limit {fmt_num(truth['conditional_hazard_ratio'], 3)}")
print(f"hazard ratio of the whole population (marginal, unadjusted Cox limit): "
      f"{fmt_num(truth['marginal_hazard_ratio'], 3)}")

# %% [markdown]
# So the test and the summary answer related but different questions; both are reported, and
# the summary is estimated with the same covariates the test uses.
#
# **A marginal estimator with the covariates (standardization).** The FDA's 2023 guidance on
# covariate adjustment recommends estimating the unconditional treatment effect with a
# working model: fit the model, predict every randomized patient's outcome under each arm, and
# average over the trial's own patients (G-computation). Here the working model is the plan's
# Cox model. First **by hand**: the coefficients of section 7, a baseline cumulative hazard to
# 24 months written out (Breslow's: at each death time, deaths divided by the sum of exp(x'β)
# over the patients at risk), each patient's predicted S(24) with the arm set to A and to B,
# and the means.

# %%
beta = coefs["coef"]
risk = np.exp(design[beta.index] @ beta)
lam0 = sum(((time_ == u) & (event_ == 1)).sum() / risk[time_ >= u].sum() for u in np.unique(time_[event_ == 1]))
pred = {arm: np.exp(-lam0 * np.exp(design.assign(arm_A=float(arm == "A"))[beta.index] @ beta)).mean()
        for arm in ("A", "B")}
print(f"by hand (Breslow baseline): S_A(24) {fmt_prob(pred['A'], 4)}, S_B(24) {fmt_prob(pred['B'], 4)}, "
      f"difference {fmt_num(100 * (pred['A'] - pred['B']), 2)} percentage points")

# %% [markdown]
# The package's estimator (`an.standardized_milestone`, on the engine's
# `standardized_survival`) uses the baseline of the model's own ties method (Efron's; it
# differs from Breslow's only at the file's two tied death times, in the fourth decimal) and
# adds the standard error from the estimator's influence function: the spread of the
# patients' predictions plus the uncertainty of the fitted model (Ozenne et al., Biom J
# 2020;62:751). It is a closed form, so it is computed for thousands of simulated trials at
# once; a bootstrap would be slower and, resampling patients, would ignore the minimization
# that allocated them. Because the model adjusts for every minimization factor, this
# variance is valid under minimization (Ye, Shao, Yi & Zhao, JASA 2023; Ye, Shao & Yi,
# Biometrika 2024), as the simulation below checks. Beside it, the unadjusted Kaplan-Meier
# difference of section 5:

# %%
std = an.standardized_milestone(df)
print(std.summary())
print(f"Kaplan-Meier (unadjusted): {fmt_num(100 * ms.difference, 1)} percentage points, SE "
      f"{fmt_num(100 * ms.diff_se, 1)}; standardized SE {fmt_num(100 * std.diff_se, 1)} "
      f"({fmt_pct(1 - (std.diff_se / ms.diff_se) ** 2, 0)} less variance)")
std.to_frame()

# %% [markdown]
# > **For reviewers: cross-check against R `riskRegression`.** `tests/reference/riskregression_ate.R`
# > fits the same Cox model in R and runs `riskRegression::ate(fit, treatment = "arm",
# > times = 24)` (G-formula, influence-function SE) on every shipped file, as shipped and with
# > tied death times broken (the k-th of a tied group moved k × 0.001 months); CI re-runs it.
# > Point estimates agree to 1e-6. Without ties the SEs agree to 1e-6 too; with the files' two
# > or three tied pairs riskRegression's influence function counts one death per distinct
# > time, ours is the exact one of the Efron fit (equal to R survival's `dfbeta` residuals,
# > also tested), and the SEs differ by less than 1%. The audit computes this table
# > (`review.crosscheck_frame("riskregression")`):

# %%
xr = review.crosscheck_frame("riskregression")
show = xr[xr["quantity"].str.contains("difference|SE of the difference")]
pd.DataFrame({"R riskRegression": [fmt_num(v, 6) for v in show["reference"]],
              "trialnb": [fmt_num(v, 6) for v in show["trialnb"]],
              "relative difference": [f"{v:.1e}" for v in show["difference"]],
              "tolerance": [f"{v:g}" for v in show["tolerance"]], "within": show["passed"].tolist()},
             index=show["quantity"])

# %% [markdown]
# **The gain, by simulation under minimization.** Forty thousand trials of the plan (236
# patients, minimization on the three prognostic factors, the calendar-driven final analysis)
# with no effect of surgery, and ten thousand with the design's effect; on the same trials,
# the unadjusted Kaplan-Meier difference, the standardized difference and the plan's adjusted
# Cox test, all at two-sided 5%. Monte Carlo standard errors in brackets. The last column is
# the standard deviation of each z statistic under no effect: 1 when the standard error is
# right, below 1 when it is too large (a conservative test), above 1 when it is too small.

# %%
OC_ANALYSES = ["milestone", "standardized_milestone", "cox_wald"]
oc_null = simulate(PLAN, 40_000, seed=next_seed(), truth={"hazard_ratio": 1.0}, analyses=OC_ANALYSES)
oc_design = simulate(PLAN, 10_000, seed=next_seed(), analyses=OC_ANALYSES)
labels = {"milestone": "Kaplan-Meier difference in 2-year survival (unadjusted)",
          "standardized_milestone": "standardized difference in 2-year survival (adjusted)",
          "cox_wald": "adjusted Cox model, Wald test (the plan's test)"}
pd.DataFrame({
    "type-I error, no effect": [f"{fmt_pct(oc_null.rejection(a), 2)} ({fmt_pct(oc_null.mc_se(oc_null.rejection(a), a), 2)})"
                                for a in OC_ANALYSES],
    "power, design effect": [f"{fmt_pct(oc_design.benefit(a))} ({fmt_pct(oc_design.mc_se(oc_design.benefit(a), a))})"
                             for a in OC_ANALYSES],
    "analyses that failed": [fmt_n(oc_null.failed(a) + oc_design.failed(a)) for a in OC_ANALYSES],
    "SD of z, no effect": [fmt_num(float(np.nanstd(oc_null.z[a])), 3) for a in OC_ANALYSES],
}, index=[labels[a] for a in OC_ANALYSES])

# %% [markdown]
# Read the table by column. Under no effect the Kaplan-Meier test rejects less often than its
# nominal 5% and its z varies less than a standard normal: minimization balanced the
# prognostic factors, which its variance does not know, so it is conservative (as the
# re-randomization test of section 6 showed for the log-rank test). The standardized
# difference uses the factors, so minimization no longer makes its variance too large; with
# 236 patients its influence-function variance is instead slightly too small (the SD of its z
# is just above 1), and it rejects a few tenths of a point more often than 5%, a small-sample
# effect that a larger trial would remove. Under the design's effect it has more power than the
# Kaplan-Meier difference on the same trials: the gain a pre-specified covariate adjustment
# buys for the protocol's own summary measure, without changing what is estimated. The gain is
# modest because the three factors explain only part of who dies (the marginal and conditional
# hazard ratios above are close); it would grow with stronger prognostic covariates. The
# adjusted Cox test has similar power, but for a different, conditional quantity, and it stays
# the confirmatory test.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 16. Missing data: how much worse must the lost patients fare?
# The protocol plans for 10% of patients lost to follow-up. The primary analysis censors a
# lost patient at her last contact, which assumes that after the loss her risk of death is
# that of comparable patients still followed (missing at random, MAR). A **tipping-point
# analysis** asks how far that assumption can fail before the conclusion changes (ICH E9(R1),
# sensitivity analysis). For each lost patient, multiple imputation draws a death time after
# her loss from a model of her arm's hazard (piecewise exponential in 6-month pieces, with the
# minimization factors, fitted to the arm's own patients), with that hazard multiplied by
# δ_A in arm A and δ_B in arm B: δ = 1 is MAR, δ = 2 twice the hazard of comparable patients
# still followed, δ = 0 the best case (no lost patient dies before 24 months), δ = ∞ the worst
# (every lost patient dies at her loss). Each of the 50 completed data sets is analysed as
# planned and the results are combined by Rubin's rules (`an.tipping_point`).

# %%
tp = an.tipping_point(df)
print(tp.summary())

# %% [markdown]
# The grid of the primary analysis: each cell is the pooled hazard ratio and p-value for one
# pair (δ_A, δ_B); blue cells still show a benefit of surgery at the plan's 5%, grey ones do
# not; the MAR cell is outlined.

# %%
ax = tipping_point_heatmap(tp, "primary")
plt.show()

# %% [markdown]
# For each δ_B, the δ_A (closest to MAR) at which each analysis's conclusion changes; empty
# where no cell of the grid changes it:

# %%
pd.concat({a: tp.tipping_points(a).iloc[:, 1] for a in ("primary", "milestone", "standardized")}, axis=1).map(
    lambda v: "no change in the grid" if pd.isna(v) else ("∞ (worst case)" if np.isinf(v) else fmt_num(v, 1)))

# %% [markdown]
# On these data only a handful of patients were lost before 24 months (counted in the summary
# above), so the conclusion survives implausibly bad fates for arm A's lost patients; it
# changes only in the corner of the grid where arm A's lost patients fare several times worse
# than those still followed, or die at their loss, while arm B's fare as well or better. A
# reader can now judge the assumption instead of taking it on trust.
#
# > **For reviewers.** Three properties are tested (`tests/test_missing.py`): at δ = 1 the
# > pooled estimates reproduce the ordinary analyses within the multiple-imputation error;
# > estimates move monotonically with each δ; and at δ_A = ∞, δ_B = 0 the imputation is
# > deterministic and the pooled result equals the single analysis of the data written out
# > by hand.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - Load data with `load_trial`: one error lists every problem by line, column and rule; nothing is
#   repaired silently.
# - CONSORT and the baseline table describe the trial; they are not significance tests.
# - The protocol's primary endpoint, 2-year survival, is estimated by Kaplan-Meier with
#   Greenwood intervals; its planned analysis is a Cox model of death within 24 months
#   (follow-up censored at 24 months) of the ITT population with the minimization factors,
#   defined once in the plan (`PLAN.analysis`); the audit holds our coefficients to R's `coxph`
#   within a relative 1e-6. Overall survival on all follow-up is a secondary analysis.
# - The estimand's summary measure is the difference in two-year survival (marginal); the test
#   is the adjusted Cox model's Wald test, whose hazard ratio is conditional on the factors.
#   The summary is estimated with the same factors by standardization, equal to R
#   `riskRegression`, with a variance valid under minimization and more power than the
#   Kaplan-Meier difference.
# - Under minimization, the right permutation null is re-randomization with the trial's own
#   procedure; subgroup and secondary tests are exploratory or descriptive.
# - Per-protocol and as-treated comparisons can show a large "benefit" when there is none;
#   intention to treat is primary because only it compares the groups randomization made.
# - Secondary endpoints that death cuts short are competing risks: report the Aalen-Johansen
#   cumulative incidence (not one minus Kaplan-Meier), Gray's test and the Fine-Gray model (equal
#   to R `cmprsk`); quality of life is truncated by death and describes the living.
# - Two robustness checks are fixed in advance: sparse strata are pooled by a blind rule, and a
#   tipping-point analysis shows how much worse the lost patients would have to fare before the
#   conclusion changes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
# Each exercise starts unanswered. Replace `None` with your answer and run the cell: the check
# says whether it is right and why. Numbers may be rounded, and a proportion may be given as
# `0.8`, `80` or `"80%"` (a difference of two proportions in percentage points: `-5` or
# `"-5%"` for −5 points). Stuck? Ask for help in stages: `hint=1` gives a nudge, `hint=2` the
# method, e.g. `check_deaths_by_24(answer, hint=1)`.

# %%
from trialnb.exercises.analysis import (check_deaths_by_24, check_inverse_hr, check_null_hr, check_pooled_strata,
                                       check_primary_population, check_progression_incidence, check_qol_strategy,
                                       check_standardized_difference, check_survival_difference,
                                       check_tipping_point)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1
# How many patients in arm B died within the first 24 months (protocol data)?

# %%
answer = None
check_deaths_by_24(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2
# What is the hazard ratio of arm **B** vs arm A from the primary model?

# %%
answer = None
check_inverse_hr(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3
# Which analysis population is primary for the protocol's Cox model? Answer in words.

# %%
answer = None
check_primary_population(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 4
# Fit the primary model to `trial_null.csv`. What hazard ratio (A vs B) do you get?

# %%
answer = None
check_null_hr(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 5
# What is the 2-year survival difference A − B in `trial_realistic.csv`, in percentage points
# (or as a difference of proportions)?

# %%
answer = None
check_survival_difference(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 6
# With death as a competing event, what is the cumulative incidence of locoregional progression
# at 36 months in arm B (protocol data)?

# %%
answer = None
check_progression_incidence(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 7
# Which ICH E9(R1) strategy does the SAP draft name for quality of life, whose scores stop at
# death? Answer in words.

# %%
answer = None
check_qol_strategy(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 8
# What is the **standardized** (covariate-adjusted) difference in 2-year survival A − B in
# `trial_protocol.csv`?

# %%
answer = None
check_standardized_difference(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 9
# After the sparse-strata rule, how many strata does the stratified log-rank test use on
# `trial_protocol.csv`?

# %%
answer = None
check_pooled_strata(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 10
# Suppose arm A's lost patients had 8 times the hazard of comparable patients still followed,
# and arm B's lost patients the same hazard as those still followed (δ_B = 1). Would the
# primary analysis still show a benefit of surgery? Answer yes or no.

# %%
answer = None
check_tipping_point(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Glossary
# - **Intention to treat (ITT)**: every randomized patient analysed in the arm allocated, whatever was received.
# - **Per-protocol**: only patients who received the allocated strategy (arm A operated; arm B not operated,
#   or operated only for local progression).
# - **As-treated**: patients grouped by the treatment actually received (operated or not).
# - **Immortal time**: follow-up during which a patient cannot die *and* be counted as treated (before surgery).
# - **Kaplan-Meier estimate**: survival curve from the product of conditional survival fractions at death times.
# - **Greenwood's formula**: variance of the Kaplan-Meier estimate.
# - **Log-rank test**: compares observed with expected deaths per arm over the whole follow-up.
# - **Hazard ratio**: ratio of the instantaneous death rates of two groups (< 1 favours arm A).
# - **Conditional vs marginal hazard ratio**: the ratio for patients with the same factors (the adjusted Cox
#   model's) vs the ratio of the two arms as wholes; they differ because hazard ratios are non-collapsible.
# - **Summary measure**: the single population-level number an estimand is reported as (here the difference in
#   two-year survival).
# - **Standardization (G-computation)**: predict every patient's outcome under each arm from a model and
#   average over the trial's patients; a marginal estimate that uses the covariates.
# - **Influence function**: each patient's contribution to an estimate's error; the sum of their squares is
#   its variance.
# - **Schoenfeld residuals**: per-death residuals used to test whether a hazard ratio changes over time.
# - **CONSORT**: reporting standard for randomized trials, including the patient flow diagram.
# - **Minimization**: allocation that keeps the factor totals balanced between arms (Pocock & Simon 1975).
# - **Sparse stratum**: a combination of factor levels with too few patients to contribute to a stratified test.
# - **Primary analysis**: the one analysis the trial's conclusion rests on, fixed before the data are seen
#   (here: Cox model of death within 24 months, ITT, adjusted for the minimization factors).
# - **Re-randomization test**: a permutation test that re-runs the trial's own allocation procedure on the
#   same patients, so its null distribution respects minimization.
# - **Missing at random (MAR)**: after her loss, a lost patient's risk is that of comparable patients still
#   followed; censoring at the loss assumes it.
# - **Tipping-point analysis**: multiply the lost patients' hazard by δ in each arm, impute, and find the δ at
#   which the conclusion changes.
# - **Rubin's rules**: how the analyses of several imputed data sets are combined (mean estimate; variance
#   within plus between imputations).
# - **Competing event**: an event after which the event of interest can no longer happen (death before
#   an unplanned local therapy).
# - **Cumulative incidence (Aalen-Johansen)**: the probability of having the event by time t, before a
#   competing event; Gray's test compares it between groups, the Fine-Gray model summarizes it by a
#   subdistribution hazard ratio.
# - **While-alive strategy**: an outcome measured only during each patient's lifetime (quality of life),
#   read as a description of the living, not of the randomized arms.
# - **Estimand**: the quantity a trial sets out to estimate, including how events after randomization
#   (such as not being operated) are handled; ITT estimates the effect of the assigned strategy.
