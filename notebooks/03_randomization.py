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
# # 03 · Randomization: from a coin to minimization
#
# The protocol says randomization is "centralized", "computer-generated" and made immediately
# after diagnosis, with the dominant metastatic site, hormone receptor status and HER2 status
# recorded, and that the primary endpoint is analysed "in a Cox regression model, with the
# minimization factors as covariables". This notebook builds the allocation rule step by step:
# a fair coin, permuted blocks, biased coins, and finally Pocock–Simon minimization on the
# three factors. For each rule we compute **exact** probabilities where they exist, simulate
# 236 patients with realistic factor frequencies, and weigh balance against predictability.
#
# *Protocol sections covered:* Randomization; Data analysis (Cox model with the minimization
# factors); Statistics (236 patients = 2 × 118).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Overview
# 1. Compute the exact chance imbalance of a fair coin and of permuted blocks, and how
#    predictable each rule is (the convergence guessing strategy).
# 2. Compare seven procedures side by side on 236 simulated patients: overall, stratum and
#    margin balance; forced allocations; selection and chronological bias.
# 3. Work one minimization step by hand, then check it against `trialnb.randomization`.
# 4. See that "range" and "variance" minimization can send the same patient to different arms,
#    so the measure must be named in the protocol.
# 5. Keep an allocation log that survives a killed process, names every kind of tampering and
#    does not reveal the next allocation; allocate with the console.
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | Notebook 00 (protocol, factors, strata) | Necessary | the three factors and 12 strata |
# | Binomial distribution | Helpful | the fair coin's imbalance |
# | Cox regression | Helpful | why the factors are covariates |
#
# **Time to learn:** 45 minutes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Imports
# One seeded generator for the whole notebook; every allocation below draws exactly one
# uniform from a generator, so the same seed always gives the same allocations.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from trialnb import report
from trialnb.plots import use_style
from trialnb import population
from trialnb.plan import PLAN
from trialnb.protocol import PROTOCOL
from trialnb.survival import fit_cox
from trialnb.randomization import (AllocationLog, BigStick, CompleteRandomization, EfronBiasedCoin,
                                   MaximalProcedure, PermutedBlock, PocockSimon, StratifiedPermutedBlock,
                                   block_correct_guesses_closed_form, bigstick_long_run,
                                   chronological_bias_type1, covariate_balance, efron_long_run, exact_summary,
                                   imbalance_path, run_procedure, selection_bias_type1, simulate_patients,
                                   simulate_trials)
from trialnb.errors import AllocationLogError

SEED = 20201120  # the trial's start date
rng = np.random.default_rng(SEED)
use_style()
N = 2 * PROTOCOL.stated.n_per_arm_after_loss  # 236 patients
print(f"Trial size: {report.fmt_n(N)} patients (2 × {report.fmt_n(PROTOCOL.stated.n_per_arm_after_loss)})")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. A fair coin
# With complete randomization every patient goes to A with probability 1/2, whatever happened
# before. The imbalance after n patients, $D_n = N_A - N_B$, is then $2\,\mathrm{Bin}(n, 1/2) - n$.
# By hand: $P(D_n = 0) = \binom{n}{n/2} / 2^n$ and $E|D_n| = n\binom{n}{n/2}/2^n$.

# %%
p0_hand = math.comb(N, N // 2) / 2**N
eabs_hand = N * p0_hand
print(f"By hand: P(D = 0) = {report.fmt_prob(p0_hand, 4)}, E|D| = {report.fmt_num(eabs_hand, 2)} patients")

# %% [markdown]
# The library propagates the exact distribution of $D$ one patient at a time (a Markov chain
# over the imbalance) and gives the same numbers:

# %%
cr = exact_summary(lambda: CompleteRandomization(), N)
print(f"Library: P(D = 0) = {report.fmt_prob(cr['imbalance_distribution'][0], 4)}, "
      f"E|D| = {report.fmt_num(cr['expected_abs_imbalance'], 2)} patients")
p_big = sum(v for d, v in cr["imbalance_distribution"].items() if abs(d) >= 20)
print(f"P(|D| >= 20), i.e. 128:108 or worse: {report.fmt_pct(p_big)}")

# %% [markdown]
# A coin is perfectly unpredictable, but an imbalance of about 12 patients is typical and one of
# 20 or more happens in roughly one trial in five. The rules below trade a little
# predictability for balance.
#
# ## 2. Permuted blocks and the guessing investigator
# In a block of $2m$ patients, $m$ get A and $m$ get B in random order. An investigator who
# knows past allocations guesses the arm allocated less often so far (the *convergence
# strategy*, ties scored 1/2). For blocks of 4 ($m = 2$) the expected number of correct
# guesses per block is $E_m = m + 2^{2m-1}/\binom{2m}{m} - 1/2$, and a fraction
# $1/(m+1)$ of allocations are forced. By hand:

# %%
m = 2
e_hand = m + 2 ** (2 * m - 1) / math.comb(2 * m, m) - 0.5
print(f"By hand: E_2 = {report.fmt_num(e_hand, 4)} correct guesses per block of 4 "
      f"= {report.fmt_pct(e_hand / 4)}; forced fraction 1/(m+1) = {report.fmt_pct(1 / (m + 1))}")

# %% [markdown]
# The exact dynamic programme over the block state agrees (236 = 59 blocks of 4):

# %%
pb = exact_summary(lambda: PermutedBlock((4,)), N)
print(f"Library: correct guesses {report.fmt_pct(pb['correct_guess'])}, "
      f"forced {report.fmt_pct(pb['deterministic'])}; closed form per block "
      f"{report.fmt_num(block_correct_guesses_closed_form(4), 4)}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Every non-covariate procedure, exactly
# The same exact computation covers permuted blocks with random sizes (2, 4 or 6), Efron's
# biased coin ($p = 2/3$: the lagging arm gets 2/3), the big stick (coin until $|D| = 3$, then
# forced back) and the maximal procedure (all sequences with $|D_i| \le 3$ ending balanced
# equally likely). The long-run limits from the literature are shown for comparison.

# %%
exact_procs = {
    "Complete": (lambda: CompleteRandomization(), 0.5),
    "Blocks of 4": (lambda: PermutedBlock((4,)), block_correct_guesses_closed_form(4) / 4),
    "Blocks of 2/4/6": (lambda: PermutedBlock((2, 4, 6)),
                        sum(block_correct_guesses_closed_form(s) for s in (2, 4, 6)) / 12),
    "Efron p = 2/3": (lambda: EfronBiasedCoin(2 / 3), efron_long_run(2 / 3)),
    "Big stick b = 3": (lambda: BigStick(3), bigstick_long_run(3)),
    "Maximal b = 3": (lambda: MaximalProcedure(N, 3), float("nan")),
}
rows = []
for name, (factory, limit) in exact_procs.items():
    ex = exact_summary(factory, N)
    rows.append({"procedure": name, "correct guesses": report.fmt_pct(ex["correct_guess"]),
                 "long-run limit": "—" if math.isnan(limit) else report.fmt_pct(limit),
                 "forced": report.fmt_pct(ex["deterministic"]),
                 "E|D_236| (patients)": report.fmt_num(ex["expected_abs_imbalance"], 2)})
pd.DataFrame(rows).set_index("procedure")

# %% [markdown]
# > **For reviewers.** Exact values come from `exact_summary` (state-space dynamic
# > programming). Tests check them against (i) the closed forms above — $E_m$, $1/(m+1)$,
# > Efron's $(4p-1)/(4p)$, the big stick's $1/2 + 1/(4b)$, the binomial $E|D_n|$ and
# > $P(D_n = 0)$ — to $10^{-7}$ or better, and (ii) an independent brute-force enumeration of
# > all $2^n$ sequences with exact fractions for $n \le 10$ (and of all admissible sequences for
# > the maximal procedure), to $10^{-12}$. References: Blackwell & Hodges 1957; Efron 1971;
# > Soares & Wu 1983; Berger, Ivanova & Knoll 2003; Rosenberger & Lachin, *Randomization in
# > Clinical Trials* (2016).
#
# ## 4. 236 realistic patients
# Factor frequencies follow `references/clinical_evidence.md` section 5 (the package's
# `trialnb.population`): dominant site bone 45%,
# visceral 45%, soft tissue 10%; hormone receptor positive 75%; HER2 positive 25%, drawn
# independently. One simulated trial population:

# %%
patients = simulate_patients(N, rng)
pop = pd.DataFrame(patients)
for col in pop.columns:
    shares = pop[col].value_counts(normalize=True).sort_index()
    print(f"{col}: " + ", ".join(f"{k} {report.fmt_pct(v)}" for k, v in shares.items()))

# %% [markdown]
# Seven procedures allocate these same patients, each fed the *same* stream of uniforms
# (a new generator from one drawn seed), so differences come from the rules alone.

# %%
procedures = {
    "Complete": lambda: CompleteRandomization(),
    "Blocks of 4": lambda: PermutedBlock((4,)),
    "Stratified blocks of 4": lambda: StratifiedPermutedBlock(block_sizes=(4,)),
    "Efron p = 2/3": lambda: EfronBiasedCoin(2 / 3),
    "Big stick b = 3": lambda: BigStick(3),
    "Maximal b = 3": lambda: MaximalProcedure(N, 3),
    "Minimization (range, p = 0.8)": lambda: PocockSimon(p=0.8, imbalance="range"),
}
uniform_seed = int(rng.integers(2**32))
one_trial = {name: run_procedure(f(), patients, np.random.default_rng(uniform_seed))
             for name, f in procedures.items()}
fig, ax = plt.subplots(figsize=(9, 4.5))
for name, asg in one_trial.items():
    ax.plot(np.arange(1, N + 1), imbalance_path(asg), label=name, lw=1.4)
ax.axhline(0, color="grey", lw=0.8)
ax.set_xlabel("Patients randomized")
ax.set_ylabel("Imbalance $N_A - N_B$ (patients)")
ax.set_title("Overall imbalance along one simulated trial (same patients, same uniforms)")
ax.legend(fontsize=8, ncol=2)
plt.show()

# %% [markdown]
# Overall balance is only half the story: the protocol wants the arms balanced *within each
# factor level* (the margins). The margin table of the same trial, complete randomization vs
# minimization:

# %%
margins = {}
for name in ("Complete", "Stratified blocks of 4", "Minimization (range, p = 0.8)"):
    cb = covariate_balance(patients, one_trial[name])
    margins[name] = cb[cb.scope == "margin"].set_index("group")["D"]
pd.DataFrame(margins).rename_axis("margin (factor = level)")

# %% [markdown]
# Over 50 simulated trials per procedure (new patients each time), the distribution of the
# worst margin imbalance and the predictability measures:

# %%
sims = {name: simulate_trials(f, N, 50, rng) for name, f in procedures.items()}
fig, ax = plt.subplots(figsize=(9, 4.2))
ax.boxplot([s["max_abs_margin"] for s in sims.values()], orientation="horizontal")
ax.set_yticks(range(1, len(sims) + 1), list(sims))
ax.set_xlabel("Worst |N_A − N_B| over the 7 factor levels (patients)")
ax.set_title("Margin balance, 50 simulated trials of 236 patients each")
plt.show()

# %% [markdown]
# The summary table: mean final |D|, 95th percentile of the worst stratum and worst margin
# imbalance, proportion of correct convergence guesses, forced allocations, and ties (the
# fraction $\tau$ of minimization allocations made on equal scores).

# %%
summary = pd.DataFrame({
    name: {
        "mean |D_236| (patients)": report.fmt_num(s["abs_final"].mean(), 1),
        "95% worst stratum |D|": report.fmt_num(s["max_abs_stratum"].quantile(0.95), 1),
        "95% worst margin |D|": report.fmt_num(s["max_abs_margin"].quantile(0.95), 1),
        "correct guesses": report.fmt_pct(s["correct_guess"].mean()),
        "forced": report.fmt_pct(s["deterministic"].mean()),
        "ties (tau)": report.fmt_pct(s["tie"].mean()),
    }
    for name, s in sims.items()
}).T
summary

# %% [markdown]
# Minimization and stratified blocks both keep the worst margin within a few patients here;
# stratified blocks of 4 force about a third of their allocations (the last of each block,
# the "forced" column) while minimization forces none.
# With 50 trials per procedure these are estimates: the next cell gives the mean worst margin
# and final |D| with their Monte Carlo standard errors (SD / √50) for the two, so that only
# differences larger than about two standard errors are read as differences.

# %%
mc = pd.DataFrame({
    name: {
        "mean worst margin |D|": f"{report.fmt_num(s['max_abs_margin'].mean(), 2)} ± "
                                 f"{report.fmt_num(s['max_abs_margin'].std(ddof=1) / math.sqrt(len(s)), 2)}",
        "mean final |D|": f"{report.fmt_num(s['abs_final'].mean(), 2)} ± "
                          f"{report.fmt_num(s['abs_final'].std(ddof=1) / math.sqrt(len(s)), 2)}",
    }
    for name, s in sims.items() if name in ("Stratified blocks of 4", "Minimization (range, p = 0.8)")
}).T
mc

# %% [markdown]
# The mean worst margins of the two designs agree within their Monte Carlo errors, so these
# trials do not show stratified blocks leaving the margins looser. The mean final |D| is about
# one patient larger with stratified blocks, a difference of several standard errors: the
# blocks left open in the 12 strata add up. Minimization's price is predictability: an
# observer who knows all counts and the newcomer's factors guesses right with probability
# $1/2 + (p - 1/2)(1 - \tau)$.

# %%
tau = sims["Minimization (range, p = 0.8)"]["tie"].mean()
print(f"tau = {report.fmt_pct(tau)}: an informed observer is right "
      f"{report.fmt_pct(0.5 + (0.8 - 0.5) * (1 - tau))} of the time")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Selection and chronological bias
# *Selection bias* (Blackwell–Hodges): an investigator who expects A enrols a patient with a
# better prognosis (+η), and a worse one (−η) when expecting B. With no treatment effect, how
# often does the two-sample t-test reject at 5%? η = 0.5 SD, 200 simulated trials each, for
# two investigators: one who guesses from the overall counts (convergence), and one who knows
# the procedure's whole state — the counts in the patient's stratum, or the minimization
# table — and expects the arm with probability above 1/2 (favoured).

# %%
N_SB = 200
sb = {name: selection_bias_type1(f, N, 0.5, N_SB, rng, strategy=("convergence", "favoured"))
      for name, f in procedures.items()}
pd.DataFrame({name: {f"type-I error, {k} guess (nominal 5%)":
                     f"{report.fmt_pct(v)} ± {report.fmt_pct(math.sqrt(v * (1 - v) / N_SB))}"
                     for k, v in r.items()} for name, r in sb.items()}).T

# %% [markdown]
# *Chronological bias*: a step change in prognosis halfway through accrual (θ = 2 SD, e.g. a
# new systemic therapy becoming standard). With a fair coin the arms may differ in how many
# patients they have before and after the step, and the t-test still has about its nominal
# size because that difference is part of the chance it accounts for. Restricted designs
# keep the arms balanced over time, so the step cancels out of the difference between arms
# but still inflates the variance estimate: the test becomes conservative (200 trials each):

# %%
cb_res = {name: chronological_bias_type1(procedures[name], N, 2.0, 200, rng, trend="step")
          for name in ("Complete", "Blocks of 4", "Minimization (range, p = 0.8)")}
pd.Series({k: report.fmt_pct(v) for k, v in cb_res.items()}, name="type-I error (nominal 5%)").to_frame()

# %% [markdown]
# Each rate is given with its Monte Carlo standard error ($\sqrt{\hat p (1 - \hat p) / 200}$).
# Against the overall-count guesser, stratified blocks do far better than plain blocks of 4,
# but they are not safe: their type-I error is several standard errors above the nominal 5%.
# Against someone who tracks each stratum they are nearly as exposed as plain blocks.
# Minimization with p = 0.8 stays predictable to anyone who can rebuild its table, which is
# why the protocol's "centralized" randomization (counts hidden from recruiting sites)
# matters.
#
# ## 6. Why the factors matter for the Cox model
# Dominant site, receptor status and HER2 status are strongly prognostic. Two things follow.
# First, a chance imbalance in a factor (say, more visceral patients on one arm) shifts a
# crude comparison; minimization keeps such imbalances to a few patients.
#
# Second, the two Cox models estimate different quantities. The model with the factors as covariates — the
# protocol's analysis — estimates a *conditional* hazard ratio: arm A vs B among patients with
# the same factors. The crude model estimates a *marginal* hazard ratio: arm A vs B over the
# whole population. With prognostic factors the marginal HR is closer to 1 than the
# conditional one even when the arms are perfectly balanced (non-collapsibility), so the
# difference between the two is not a bias of either. The protocol's HR of 0.5 is a marginal
# quantity: its sample size step 2 applies it to each whole arm, going from the control arm's
# two-year survival $S_1(2) = \exp(-0.5) = 0.60$ (the protocol's $S_1$ is arm B) to the surgery
# arm's $S_2(2) = \exp(-0.5 \times 0.5) = 0.78$. The draw below instead *assumes* a conditional HR
# of 0.5 given the factors, as the package's simulations do (so the marginal HR it generates is
# closer to 1 than the protocol's 0.5).
#
# Adjusting for the factors also keeps the test's nominal size when
# they were used for allocation. One illustrative draw, with the prognostic hazard ratios the
# package's simulations assume (`trialnb.population.PROGNOSTIC_HR`, with their sources:
# visceral vs bone 1.6, soft tissue 1.1, receptor-negative 2.0, HER2-positive 0.8), the
# baseline calibrated so that the control arm's 2-year survival is the protocol's exp(−0.5)
# (`population.calibrate_baseline`), a conditional arm HR of 0.5, and administrative censoring at
# 24 months; both designs see the same patients and the same survival uniforms. The Cox models
# are the package's engine (`trialnb.survival.fit_cox`, the fit R's `coxph` gives):

# %%
u_surv = rng.random(N)  # one survival uniform per patient, shared by both designs
x = pd.DataFrame({
    "visceral": (pop.dominant_site == "visceral").astype(int),
    "soft_tissue": (pop.dominant_site == "soft_tissue").astype(int),
    "hr_negative": (pop.hormone_receptor == "negative").astype(int),
    "her2_positive": (pop.her2 == "positive").astype(int),
})
lin = population.linear_predictor(pop.dominant_site.to_numpy(), pop.hormone_receptor.to_numpy(), pop.her2.to_numpy())
H0 = population.calibrate_baseline(np.full(N, 1 / N), lin, PLAN.design.control_survival)  # at 24 months
cox_rows = []
for name in ("Complete", "Minimization (range, p = 0.8)"):
    arm_a = np.array([a.arm == "A" for a in one_trial[name]], dtype=int)
    hazard = H0 / 24.0 * np.exp(lin + np.log(PLAN.design.hazard_ratio) * arm_a)
    t = -np.log(u_surv) / hazard
    time_, event = np.minimum(t, 24.0), (t <= 24.0).astype(int)
    crude = fit_cox(time_, event, arm_a[:, None].astype(float), names=("arm_A",))
    adj = fit_cox(time_, event, np.column_stack([arm_a, x.to_numpy()]).astype(float), names=("arm_A", *x.columns))
    visc = covariate_balance(patients, one_trial[name])
    dv = int(visc.loc[visc.group == "dominant_site=visceral", "D"].iloc[0])
    cox_rows.append({"design": name, "visceral A − B (patients)": dv,
                     **{f"{kind} HR (A vs B)": report.fmt_hr(*f.to_frame().loc["arm_A", ["exp(coef)", "hr_lower_95",
                                                                                        "hr_upper_95"]])
                        for kind, f in (("crude", crude), ("adjusted", adj))}})
pd.DataFrame(cox_rows).set_index("design")

# %% [markdown]
# One draw is one draw: the point is which quantity each model estimates (here the adjusted
# HR targets the *assumed* conditional 0.5, the crude HR a marginal HR closer to 1) and that
# under minimization the visceral margin is balanced, so chance imbalance is not part of the
# difference between the two columns. Sizing the trial for a marginal HR of 0.5, as the
# protocol does, and analysing a conditional HR are two different estimands.
#
# ## 7. One minimization step, by hand
# Take the minimization trial above and the first patient after the 30th whose allocation was
# not a tie. We count, for each of her three levels, how many earlier patients with that
# level are on A and on B.

# %%
mini = one_trial["Minimization (range, p = 0.8)"]
k = next(i for i in range(30, N) if not mini[i].tie)
hist = pd.DataFrame(patients[:k]).assign(arm=[a.arm for a in mini[:k]])
newcomer = patients[k]
print(f"Patient {k + 1}:", newcomer)
hand = []
for f, lvl in newcomer.items():
    n_a = int(((hist[f] == lvl) & (hist.arm == "A")).sum())
    n_b = int(((hist[f] == lvl) & (hist.arm == "B")).sum())
    hand.append({"factor": f, "level": lvl, "n_A": n_a, "n_B": n_b,
                 "range if A": abs(n_a + 1 - n_b), "range if B": abs(n_a - n_b - 1)})
hand = pd.DataFrame(hand)
g_a, g_b = hand["range if A"].sum(), hand["range if B"].sum()
print(f"By hand: G_A = {g_a}, G_B = {g_b}")
hand

# %% [markdown]
# The arm with the smaller total G gets probability p = 0.8 (a tie gives 1/2). Replaying the
# first 30 allocations into a fresh `PocockSimon` with `record` and asking for the table gives
# the same counts and scores:

# %%
ps = PocockSimon(p=0.8, imbalance="range")
for pat, a in zip(patients[:k], mini[:k]):
    ps.record(pat, a.arm)
lib = pd.DataFrame(ps.table(newcomer))
assert lib["d_if_A"].iloc[-1] == g_a and lib["d_if_B"].iloc[-1] == g_b
print("Library probabilities:", {arm: report.fmt_prob(p) for arm, p in ps.probabilities(newcomer).items()})
print("Allocation made in the trial:", mini[k].explanation, "->", mini[k].arm)
lib

# %% [markdown]
# > **For reviewers.** The table above is the whole minimization computation (Pocock & Simon
# > 1975, range measure, equal weights, p = 0.8, random ties): counts at the newcomer's levels,
# > the range $|n_A - n_B|$ after adding the newcomer to each arm, and $G_t = \sum_i d_{it}$.
# > `tests/test_randomization.py` rebuilds such tables for constructed counts, checks the
# > informed-observer formula $1/2 + (p-1/2)(1-\tau)$ exactly on 236 patients, and checks that
# > one uniform is drawn per allocation (same seed, same allocations).
#
# ## 8. Range and variance can disagree on the same patient
# With two arms the range and the SD always pick the same arm, and the variance picks the same
# arm as Taves' marginal totals; but the two groups can disagree. Construct the counts at a
# newcomer's levels: site A 5 / B 2, receptor A 3 / B 4, HER2 A 2 / B 3.

# %%
newp = {"dominant_site": "bone", "hormone_receptor": "positive", "her2": "negative"}
setup = {"dominant_site": (5, 2), "hormone_receptor": (3, 4), "her2": (2, 3)}
rows = []
for measure in ("range", "sd", "variance", "taves"):
    proc = PocockSimon(p=0.8, imbalance=measure)
    for f, (a, b) in setup.items():
        proc.counts[f][newp[f]] = [a, b]
    tab = proc.table(newp)[-1]
    probs = proc.probabilities(newp)
    rows.append({"measure": measure, "G_A": report.fmt_num(tab["d_if_A"], 3),
                 "G_B": report.fmt_num(tab["d_if_B"], 3),
                 "favoured arm": max(probs, key=probs.get), "P(A)": report.fmt_prob(probs["A"])})
pd.DataFrame(rows).set_index("measure")

# %% [markdown]
# Range: adding the patient to A makes the site margin 6:2 (range 4) but evens the other two
# (0 + 0), total 4; adding to B gives 2 + 2 + 2 = 6, so A is favoured. Variance squares the
# differences, so the single large site imbalance (4² = 16 vs 2² = 4) dominates and B is
# favoured. A protocol that says only "minimization" does not define the allocation.
#
# ## 9. An allocation log that keeps its promises
# "Centralized, computer-generated" randomization needs a record that survives a crash, that
# nobody can quietly change, and that tells the sites nothing about the next arm.
# `AllocationLog.create(path, procedure, seed, key=...)` writes one JSON line per allocation
# and `allocate` returns only once the line is on disk (`fsync`). Each line carries an
# HMAC-SHA256 (a keyed hash) of its content and of the previous line's HMAC, made with a secret
# key kept *outside* the log; the uniform that decides each arm is also derived from that key.
# This notebook uses a demonstration key written in the open; a real trial draws one with
# `secrets.token_bytes(32)` and keeps it with the independent statistician. Eight patients,
# then three records the log refuses before drawing anything: an unknown level with a missing
# factor, a patient id already used once its spaces are removed, and an id a spreadsheet would
# run as a formula (the trial's ids are letters, digits, `-` and `_`, starting with a letter or
# digit: `trialnb.protocol.PATIENT_ID_PATTERN`). Each allocation returns a *receipt* for the
# patient's CRF:

# %%
import json
import tempfile
from pathlib import Path

workdir = tempfile.TemporaryDirectory(prefix="nb03-allocation-log-")  # removed when the kernel stops
log_dir = Path(workdir.name)
KEY = b"demonstration key of notebook 03"  # a real key: secrets.token_bytes(32), kept off-site
log = AllocationLog.create(log_dir / "allocations.jsonl", PocockSimon(p=0.8), seed=SEED, key=KEY)
receipts = []  # written on each patient's CRF, outside the log keeper's reach
for i, pat in enumerate(patients[:8], start=1):
    entry = log.allocate(pat, patient_id=f"P{i:03d}", timestamp="2026-01-05T09:00:00+00:00")
    receipts.append(entry.receipt.code)
head = log.head  # published outside the log, e.g. sent to the trial statistician
print("entries:", report.fmt_n(len(log)), "| chain intact:", log.verify(), "| receipt of P008:", receipts[-1])
for bad, pid in (({"dominant_site": "lung", "hormone_receptor": "positive"}, "P009"), (patients[8], " P003 "),
                 (patients[8], '=HYPERLINK("http://example.invalid","P009")')):
    try:
        log.allocate(bad, patient_id=pid)
    except ValueError as exc:
        print("refused:", exc)
print("entries after the refused records:", report.fmt_n(len(log)))

# %% [markdown]
# One line of the file, without its two hashes (`prev`, `mac`): the patient, the arm, the
# exact probabilities and why. No random number is stored, and the procedure itself refuses to
# allocate or record behind the log's back:

# %%
line = json.loads((log_dir / "allocations.jsonl").read_text().splitlines()[1])
print({k: v for k, v in line.items() if k not in ("prev", "mac")})
try:
    log.procedure.record(patients[8], "A")
except AllocationLogError as exc:
    print(f"refused ({exc.kind}):", str(exc).split(":")[0])

# %% [markdown]
# **The kill test.** A separate Python process allocates patients in a loop and prints each
# allocation only after `allocate` has returned. We kill it three times with `SIGKILL` (no
# chance to clean up, as in a power cut of the process), reopen the log each time and check
# that every printed ("acknowledged") allocation is in it. A line torn by the kill was never
# acknowledged; `open` reports it with a warning and drops it. (The suite repeats this with ten
# kills at random moments: `tests/test_allocation_log.py`.)

# %%
import os
import signal
import subprocess
import sys
import time
import warnings

import trialnb

CHILD = """
import sys
from pathlib import Path
from trialnb.randomization import AllocationLog, PocockSimon, simulate_patients
import numpy as np
path, key = Path(sys.argv[1]), bytes.fromhex(sys.argv[2])
pats = simulate_patients(50, np.random.default_rng(1))
log = AllocationLog.open(path, key=key) if path.exists() else AllocationLog.create(path, PocockSimon(), 1, key=key)
print("READY", flush=True)
while True:
    i = len(log)
    e = log.allocate(pats[i % 50], patient_id=f"K{i + 1:05d}")
    print("ACK", e["patient_id"], e["arm"], flush=True)
"""
env = dict(os.environ, PYTHONPATH=str(Path(trialnb.__file__).resolve().parents[1]))
killed = log_dir / "killed.jsonl"
acknowledged, lost, intact = 0, 0, True
for wait in (0.3, 0.6, 0.9):  # seconds of allocating before the kill
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(killed), KEY.hex()],
                             stdout=subprocess.PIPE, text=True, env=env)
    child.stdout.readline()  # READY
    time.sleep(wait)
    child.send_signal(signal.SIGKILL)
    out, _ = child.communicate()
    # an acknowledgement is a whole printed line: the kill can tear the last one mid-print
    acks = [ln.split()[1:] for ln in out.split("\n")[:-1] if ln.startswith("ACK ")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a torn last line is expected now and then
        reopened = AllocationLog.open(killed, key=KEY)
    in_log = {e["patient_id"]: e["arm"] for e in reopened.entries}
    lost += sum(in_log.get(pid) != arm for pid, arm in acks)
    acknowledged += len(acks)
    intact = intact and reopened.verify()
    reopened.close()
print(f"kills: {report.fmt_n(3)} | some allocations acknowledged: {acknowledged > 0} | "
      f"acknowledged allocations lost: {report.fmt_n(lost)} | log verifies after each kill: {intact}")

# %% [markdown]
# **The tamper tests.** Copies of the eight-entry log, each with a copy of its *head witness*
# (a second small file, `allocations.jsonl.witness`, rewritten after every allocation with the
# number of entries and the last HMAC), are damaged in eight ways and checked three times: with
# the key alone (the chain and the witness), with the CRFs' receipts, and with the published
# head. Each damage is detected and *named* by at least one column; the last two rows show the
# limits: a cut whose witness is rolled back with it, and a log rewritten by someone holding
# the key (here: patient 5's date changed, every line and the witness re-made), are seen only
# against what was recorded outside the log.

# %%
good = (log_dir / "allocations.jsonl").read_text().splitlines(keepends=True)
witness_now = (log_dir / "allocations.jsonl.witness").read_bytes()


def rewritten(text, **changes):
    """The line with some fields changed, written as the log writes lines (without the key)."""
    r = json.loads(text)
    r.update(changes)
    return json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def rewritten_with_the_key():
    """What the key holder can do: a new log, same patients, patient 5 on another date."""
    path = log_dir / "rewrite" / "allocations.jsonl"
    path.parent.mkdir()
    again = AllocationLog.create(path, PocockSimon(p=0.8), seed=SEED, key=KEY)
    for i, pat in enumerate(patients[:8], start=1):
        again.allocate(pat, patient_id=f"P{i:03d}", timestamp="2026-01-0{}T09:00:00+00:00".format(6 if i == 5 else 5))
    again.close()
    return path.read_text().splitlines(keepends=True), (path.parent / "allocations.jsonl.witness").read_bytes()


last = json.loads(good[-1])
damage = {
    "edit one arm": (good[:4] + [rewritten(good[4], arm="B" if json.loads(good[4])["arm"] == "A" else "A")]
                     + good[5:], KEY, witness_now),
    "delete entry 3": (good[:3] + good[4:], KEY, witness_now),
    "swap entries 3 and 4": (good[:3] + [good[4], good[3]] + good[5:], KEY, witness_now),
    "append a forged entry": (good + [rewritten(good[-1], seq=9, patient_id="P999", prev=last["mac"],
                                                mac="f" * 64)], KEY, witness_now),
    "open with another key": (good, b"someone else's key, 32 bytes....", witness_now),
    "cut the last two entries": (good[:-2], KEY, witness_now),
}
rows = []
for what, (lines, key, witness) in damage.items():
    path = log_dir / (what.replace(" ", "_") + ".jsonl")
    path.write_text("".join(lines))
    path.with_name(path.name + ".witness").write_bytes(witness)
    found = {}
    for label, extra in (("key + witness", {}), ("+ CRF receipts", {"receipts": receipts}),
                         ("+ published head", {"head": head})):
        try:
            AllocationLog.verify_file(path, key=key, **extra)
            found[label] = "not detected"
        except AllocationLogError as exc:
            found[label] = exc.kind
    rows.append({"damage": what, **found})
pd.DataFrame(rows).set_index("damage")

# %% [markdown]
# The two limits, checked the same way: the last two entries cut *and* the witness replaced by
# the one saved when the log had six entries (a restore from an old backup of both files), and
# the log rewritten with the key. A head names no entry number, so the published head reports
# any missing head as a cut; a receipt names its entry and says "rewritten":

# %%
six = log_dir / "six" / "allocations.jsonl"
six.parent.mkdir()
with AllocationLog.create(six, PocockSimon(p=0.8), seed=SEED, key=KEY) as short_log:
    for i, pat in enumerate(patients[:6], start=1):
        short_log.allocate(pat, patient_id=f"P{i:03d}", timestamp="2026-01-05T09:00:00+00:00")
    six_witness = (six.parent / "allocations.jsonl.witness").read_bytes()
    for i, pat in enumerate(patients[6:8], start=7):
        short_log.allocate(pat, patient_id=f"P{i:03d}", timestamp="2026-01-05T09:00:00+00:00")
    six_receipts, six_head = [short_log.receipt(s).code for s in range(1, 9)], short_log.head
six_lines = six.read_text().splitlines(keepends=True)
limits = {"cut the last two, old witness put back": (six_lines[:-2], six_witness, six_receipts, six_head),
          "rewritten with the key": (*rewritten_with_the_key(), receipts, head)}
rows = []
for what, (lines, witness, crf, published) in limits.items():
    path = log_dir / (what.replace(" ", "_").replace(",", "") + ".jsonl")
    path.write_text("".join(lines))
    path.with_name(path.name + ".witness").write_bytes(witness)
    found = {}
    for label, extra in (("key + witness", {}), ("+ CRF receipts", {"receipts": crf}),
                         ("+ published head", {"head": published})):
        try:
            AllocationLog.verify_file(path, key=KEY, **extra)
            found[label] = "not detected"
        except AllocationLogError as exc:
            found[label] = exc.kind
    rows.append({"damage": what, **found})
pd.DataFrame(rows).set_index("damage")

# %% [markdown]
# One log, one writer: the file is locked while a log object holds it, and a second `open`
# says who holds it, here this very process (another object must be closed first):

# %%
holder = AllocationLog.open(six, key=KEY)
try:
    AllocationLog.open(six, key=KEY)
except AllocationLogError as exc:
    print(f"refused ({exc.kind}): ...{str(exc).split(six.name)[1].split(', by')[0]}")
holder.close()

# %% [markdown]
# **Concealment.** The earlier version of this log stored the seed and each uniform, so anyone
# holding it could replay numpy's generator and predict every next arm. The file still names
# the seed, but each uniform is now an HMAC of the key, the trial, the seed and the entry
# number. Replaying `default_rng(seed)` against 200 allocations by a fair coin predicts about
# half of them, as guessing would:

# %%
coin = AllocationLog.in_memory(CompleteRandomization(), seed=SEED, key=KEY)
for i in range(200):
    coin.allocate(patients[i], patient_id=f"C{i:03d}", timestamp="2026-01-05T09:00:00+00:00")
replayed = np.random.default_rng(coin.header["seed"]).random(200) < 0.5
hits = int(sum(g == (e["arm"] == "A") for g, e in zip(replayed, coin.entries)))
print(f"replaying the stored seed predicts {report.fmt_pct(hits / 200)} of 200 arms "
      f"(a coin: 50% ± {report.fmt_pct(math.sqrt(0.25 / 200))})")

# %% [markdown]
# **What each promise rests on, and what it does not protect against.**
#
# | Promise | Rests on | Does not protect against |
# |---|---|---|
# | No acknowledged allocation is lost | `allocate` returns after `write` and `fsync`; a torn last line was never acknowledged | a disk or OS that ignores `fsync`; losing the disk (keep copies) |
# | A failed write allocates nothing | checks before the draw; the file cut back, the procedure unchanged | — (if the cut fails too, the log stops until reopened) |
# | Edits, deletions, reorderings, forged lines, a wrong key: detected and named | HMAC-SHA256 chain, key outside the log; checks bounded by the file's size, whatever its bytes | **anyone holding the key** (valid HMACs for any rewrite) |
# | The next arm cannot be predicted from the log or the sites' list | each uniform is an HMAC of the key | **the key holder**; what the procedure makes predictable (minimization's favoured arm, a block's last patient) |
# | No export runs as a spreadsheet formula | ids of the trial's form; text cells starting `=`, `+`, `-`, `@`, tab or CR prefixed with `'` | a spreadsheet told to evaluate text |

# %% [markdown]
# And a cut at the end, which the chain alone cannot see (a prefix of a valid chain is valid):
#
# | Detected by | Rests on | Does not protect against |
# |---|---|---|
# | the head witness, without a published head | a second keyed file (`witness_dir=`, best on another disk) that `open` checks, refusing a missing one | a cut whose witness is rolled back with it; the key holder |
# | the receipts on the CRFs | `entry.receipt`, checked with `receipts=[...]`; also exposes a replaced or rewritten log | allocations after the last receipt checked; receipts never written down |
# | a published head | `head=`, sent outside the log | entries written after that head |
#
# A reviewer receives `log.export(path)` (every line, every field) or `log.to_csv()` and
# re-verifies it with the key; sites receive `log.site_list()`:

# %%
exported = log.export(log_dir / "for_review.jsonl")
print("export verifies:", report.fmt_n(AllocationLog.verify_file(exported, key=KEY, head=head)), "entries")
print("\n".join(log.site_list().splitlines()[:3]))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 10. The randomization console
# Enter a patient's factors, see the counts per arm, the imbalance table for each candidate arm
# and the probabilities, then allocate. The console writes its own log (with the demonstration
# key) and never discards it: changing p or the measure starts a new log only when asked.
# (Widget display: output not compared by nbval.)

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.randomization import RandomizationConsole

console = RandomizationConsole(seed=SEED, key=KEY, log_dir=log_dir / "console")
console.root

# %% [markdown]
# Driving the console from code: two visceral, HR-negative, HER2-positive patients in a row.
# The first is a tie (1/2); the second is pushed toward the other arm with probability 0.8.

# %%
console.dropdowns["dominant_site"].value = "visceral"
console.dropdowns["hormone_receptor"].value = "negative"
console.dropdowns["her2"].value = "positive"
first = console.allocate()
print(f"patient 1 -> arm {first.arm} with P(A) = {report.fmt_prob(first.probabilities['A'])}")
print(f"preview for the same factors: P(A) = {report.fmt_prob(console.preview['A'])}")
second = console.allocate()
print(f"patient 2 -> arm {second.arm}; log entries {len(console.log)}, chain intact {console.log.verify()}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - A fair coin leaves a typical imbalance of about 12 patients in 236; restricted designs cut
#   it to a few, at the cost of predictability (exact values in section 3).
# - Minimization on the three factors keeps every margin within a few patients without forced
#   allocations; its predictability is $1/2 + (p-1/2)(1-\tau)$.
# - The imbalance measure (range or variance), p, the tie rule and any random element must be
#   named: they change allocations.
# - The factors used for minimization belong in the Cox model, as the protocol says.
# - Allocations are written durably to a keyed log: a killed process loses no acknowledged
#   allocation, every kind of tampering is detected and named, and without the key the log
#   does not predict the next arm. A cut at its end is caught by the head witness (a second
#   file) and by the receipts written on the CRFs. The key holder is not protected against,
#   except by what was recorded outside the log (receipts, published heads).
#

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
# Each exercise starts unanswered. Replace `None` with your answer and run the cell: the check
# says whether it is right and why. Numbers may be rounded, and a proportion may be given as
# `0.8`, `80` or `"80%"`. Stuck? Ask for help in stages: `hint=1` gives a nudge, `hint=2` the
# method, e.g. `check_block_formula(answer, hint=1)`.

# %%
from trialnb.exercises.randomization import (check_block_formula, check_efron_limit, check_minimization_range,
                                            check_minimization_variance)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1
# For the exercise case `EXERCISE_CASE` (counts at the newcomer's levels: site A 1 / B 4,
# receptor A 4 / B 3, HER2 A 5 / B 4), which arm does *range* minimization favour (`"A"`,
# `"B"` or `"tie"`)?

# %%
answer = None
check_minimization_range(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2
# For the same case, which arm does *variance* minimization favour?

# %%
answer = None
check_minimization_variance(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3
# How many correct guesses does the convergence strategy expect in one block of 4?

# %%
answer = None
check_block_formula(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 4
# What proportion of guesses are right in the long run against Efron's coin with p = 2/3?

# %%
answer = None
check_efron_limit(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Glossary
# - **Complete randomization**: each patient's arm decided by a fair coin.
# - **Permuted block**: a group of 2m consecutive patients with exactly m per arm, in random order.
# - **Convergence strategy**: guess the arm allocated less often so far (ties: either, scored 1/2).
# - **Forced (deterministic) allocation**: one arm has probability 1 given the history.
# - **Minimization**: give probability p to the arm that minimizes a named imbalance score over
#   the newcomer's factor levels (Pocock & Simon 1975; Taves 1974 when p = 1).
# - **Margin**: all patients with one level of one factor (e.g. HER2-positive).
# - **Stratum**: one combination of all factor levels (12 here).
# - **Selection bias**: enrolment influenced by a guess of the next arm.
# - **Chronological bias**: a time trend in prognosis that the allocation does not balance.
