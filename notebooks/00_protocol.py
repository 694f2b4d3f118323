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
# # 00 · The protocol at a glance
#
# NCT04697043 asks one question: in women whose breast cancer is already metastatic when it
# is diagnosed, does surgery of the primary tumour (after systemic therapy, if the disease is
# not progressing) make more of them alive two years later than systemic therapy alone?
# This notebook turns the protocol summary into data you can check: the trial schema, the
# design numbers with the sentence each comes from, the primary analysis, what the protocol
# gets wrong, and the eligibility rules as a screening function. Every later notebook reads
# the protocol from the same object, `trialnb.protocol.PROTOCOL`. The protocol text itself is
# in the repository, `references/NCT04697043-protocol-record.txt` (the ClinicalTrials.gov
# record, with where and when it was retrieved); every quotation below occurs in it verbatim.
#
# *Protocol sections covered:* Clinical Trial Description, Patient selection criteria,
# Randomization, Settings and location, Treatment options, Primary and secondary outcome
# measures, Statistics, Data analysis, and the record's dates.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Overview
# 1. Read the trial schema: population, minimization, the two arms, endpoints and timeline.
# 2. Find where every design number comes from in the protocol text, and what the primary
#    analysis is.
# 3. List what the protocol gets wrong or leaves open (its findings).
# 4. Apply the eligibility criteria to patient records, and see why a malformed record is refused.
# 5. Check that your environment has every package the notebooks need.
#
# ## Prerequisites
# | Concept | Importance | Notes |
# |---|---|---|
# | Randomized controlled trials | Necessary | arms, endpoints, intention to treat |
# | Python dictionaries | Helpful | a patient record is a `dict` |
# | pandas tables | Helpful | tables are shown as DataFrames |
#
# **Time to learn:** 20 minutes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Imports
# One seeded random generator for the whole notebook (used by the screening demo), and the
# house plotting style shared by every figure in the project.

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

from trialnb.protocol import PROTOCOL, FACTORS, strata, check_patient_factors, findings_table
from trialnb.errors import PatientRecordError
from trialnb.plan import OS_ANALYSIS, PLAN
from trialnb.eligibility import screen, criteria_table, example_patient, record_from_row
from trialnb.data import load_screening
from trialnb.plots import use_style, trial_schema
from trialnb import report

use_style()
pd.set_option("display.max_colwidth", None)  # protocol wording is shown whole, never cut at 50 characters

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The trial in one picture
# The schema below is drawn from `PROTOCOL` itself, so if a design number changed there the
# picture would change with it. Patients are randomized 1:1 immediately after diagnosis, with
# minimization on three factors; arm A adds surgery of the primary if the disease is not
# progressing, arm B continues systemic therapy (surgery is still allowed for local progression).

# %%
ax = trial_schema(PROTOCOL)
plt.show()

# %% [markdown]
# The two arms, with the protocol's own words for each:

# %%
pd.DataFrame(
    [{"arm": a.code, "label": a.label, "protocol text": a.source.quote} for a in PROTOCOL.arms]
).set_index("arm")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The minimization factors
# Three factors are recorded at randomization and balanced by minimization; the same three
# enter the Cox model as covariates. Their levels are the vocabulary used everywhere in
# `trialnb` (data columns, randomization, analysis, widgets).

# %%
pd.DataFrame(
    [{"factor": f.name, "label": f.label, "levels": ", ".join(f.levels)} for f in FACTORS]
).set_index("factor")

# %% [markdown]
# Crossing the levels gives the strata a stratified design would have to fill. With 236
# patients, that is about 20 per stratum on average, and far fewer in rare strata such as
# soft-tissue-dominant, receptor-negative disease: one reason the protocol minimizes on the
# margins rather than stratifying.

# %%
all_strata = strata()
print(f"{len(all_strata)} strata, {236 / len(all_strata):.1f} patients per stratum on average for 236 patients")

# %% [markdown]
# A patient, for randomization, is a mapping from factor name to level. The check below
# accepts a valid record and reports every problem of a bad one at once.

# %%
print(check_patient_factors({"dominant_site": "bone", "hormone_receptor": "positive", "her2": "negative"}))
try:
    check_patient_factors({"dominant_site": "liver", "her2": "yes"})
except PatientRecordError as exc:
    print(exc)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Design numbers and where they come from
# Every design assumption and every number the protocol states as a result, with its unit
# and the sentence it comes from. Notebook 02 recomputes the stated results; here we only
# collect them.

# %%
table = PROTOCOL.parameters_table()
table[["group", "name", "value", "unit", "protocol text"]]

# %% [markdown]
# > **For reviewers.** Two values for the control arm are kept on purpose: the protocol's
# > cumulative hazard λt = 0.5 at two years implies S(2) = exp(−0.5) = 0.6065, which the text
# > writes as 0.60 (and prints, with a sign typo, as "exp{0.5}"). `PROTOCOL.design` stores both.
# > The project's rule: the sample-size recomputation (notebook 02, `trialnb.sample_size`)
# > follows the protocol's formula from λt = 0.5, so 0.6065; the simulators (notebooks 04 and
# > 06) use the stated design value 0.60. They differ by 0.65 percentage points; wherever one
# > of them is shown, it is named.

# %%
d = PROTOCOL.design
print(f"S(2) stated {report.fmt_prob(d.control_survival, 2)}, exp(-0.5) = {report.fmt_prob(d.control_survival_exact, 4)}; "
      f"implied hazard {report.fmt_prob(d.control_hazard_per_month, 5)} per month, "
      f"median survival {report.fmt_months(np.log(2) / d.control_hazard_per_month)}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Endpoints
# The primary endpoint is survival at two years; the protocol lists five secondary endpoints.

# %%
pd.DataFrame(
    [{"endpoint": e.name, "kind": e.kind, "definition": e.definition} for e in PROTOCOL.endpoints]
).set_index("endpoint")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The primary analysis, defined once
# The protocol says the primary endpoint "will be analyzed in a Cox regression model, with
# the minimization factors as covariables" and is "the percentage of patients who survive
# two years after randomization". It does not say whether deaths after two years enter the
# model, nor the tie method or the test. The trial's plan, `trialnb.plan.PLAN`, fixes each item
# once in its analysis part, with the sentence it rests on or the project's decision where the
# protocol is silent; every notebook, the simulations, the DMC report, the audit, the SAP and the
# R cross-check run this one object.

# %%
print(PLAN.analysis.describe())
PLAN.analysis.table()

# %% [markdown]
# Overall survival, a secondary endpoint, is analysed with the same model on all follow-up:

# %%
print(OS_ANALYSIS.describe())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What the protocol gets wrong or leaves open
# Reading a protocol as a reviewer means checking it against itself and against the world.
# Besides the arithmetic of its sample-size section (recomputed in notebook 02: a sign typo,
# two sample sizes rounded down, two too small), these findings are in its text. Each comes
# with the protocol's sentences, so you can check them in the record.

# %%
findings = findings_table()
print(f"{len(findings)} findings in the protocol's text")
findings[["finding", "statement", "protocol text"]]

# %% [markdown]
# What each one means for the trial or for this project:

# %%
findings[["finding", "section", "consequence"]]

# %% [markdown]
# The feasibility numbers, recomputed from `PROTOCOL`: the record's dates against the design's
# accrual and follow-up, and the accrual rate one hospital would need.

# %%
start, end = pd.Timestamp(PROTOCOL.start_date), pd.Timestamp(PROTOCOL.completion_date)
months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
n_planned = 2 * PROTOCOL.stated.n_per_arm_after_loss
print(f"record: {start.date()} to {end.date()} = {months} months; design: "
      f"{report.fmt_num(d.accrual_months, 0)} months of accrual + {report.fmt_num(d.horizon_months, 0)} of follow-up "
      f"= {report.fmt_num(d.accrual_months + d.horizon_months, 0)} months")
print(f"{n_planned} patients / {report.fmt_num(d.accrual_months, 0)} months = "
      f"{report.fmt_num(n_planned / d.accrual_months, 1)} randomized patients a month at one hospital")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Eligibility as checkable rules
# Each inclusion and exclusion criterion is a rule over named fields of a screening record.
# The table shows the protocol's wording beside the rule the code applies.

# %%
criteria_table()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Screening a few patients
# `screen()` returns *eligible* or *not eligible* with every reason. We screen a typical
# eligible patient, then change one or two fields at a time.

# %%
patients = {
    "typical": example_patient(),
    "T4, not resectable": example_patient(t_stage="T4", t4_resectable=False),
    "17 years old": example_patient(age=17),
    "HER2 unknown, prior breast radiotherapy": example_patient(her2="unknown", prior_breast_local_treatment=True),
    "short expected survival": example_patient(anticipated_survival_months=4),
}
for name, p in patients.items():
    print(f"{name:<42} {screen(p)}")

# %% [markdown]
# The first 40 referred patients of the shipped synthetic screening log
# (`data/screening_log.csv`, generated by `trialnb.simulation.crf`: each referral has a small
# chance of failing a criterion), screened again here. The CONSORT flow in notebook 04 starts
# from this same log, and the loader checks that every logged result is what `screen()` finds.

# %%
screening = load_screening("../data/screening_log.csv")
log = screening.head(40).assign(result=[str(screen(record_from_row(r))) for _, r in screening.head(40).iterrows()])
n_eligible = int(log["result"].eq("eligible").sum())
print(f"{n_eligible} of {len(log)} referred patients eligible ({report.fmt_pct(n_eligible / len(log))}); "
      f"the log's own column agrees: {bool((log['eligible'] == log['result'].eq('eligible')).all())}")
log.loc[log["result"] != "eligible", ["screening_id", "age", "hormone_receptor", "her2", "t_stage", "result"]]

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Malformed records are refused, never guessed
# A record with a missing field, an unknown level or an age typed as text raises an error that
# names each field; screening never fills in a value it does not have.

# %%
bad = example_patient(age="48", her2="equivocal")
del bad["informed_consent"]
try:
    screen(bad)
except PatientRecordError as exc:
    print(exc)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Environment check
# The notebooks need the packages below; `trialnb check-env` prints the same list from a
# terminal and fails if one is missing. (Versions change when the lock file is updated,
# so this cell's output is not compared by nbval.)

# %% tags=["nbval-ignore-output"]
from trialnb.cli import check_env

lines, missing = check_env()
print("\n".join(lines))
print("missing:", ", ".join(missing) or "none")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
# - The protocol is one frozen object, `PROTOCOL`: arms, factors, endpoints, design and stated
#   results, the primary analysis and the protocol's findings, each with the sentence it
#   comes from (in `references/NCT04697043-protocol-record.txt`).
# - The primary analysis is the Cox model of death within 24 months, ITT, adjusted for the
#   minimization factors; overall survival on all follow-up is secondary.
# - The protocol contradicts itself on the timing of surgery, its registered dates cannot
#   hold its design, and its rationale is out of date: a reviewer should ask about each.
# - The eligibility criteria are rules over named fields; `screen()` gives every reason and
#   refuses malformed records.
# - The three minimization factors define 12 strata; the same factors are the Cox covariates.
#

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
# Each exercise starts unanswered. Replace `None` with your answer and run the cell: the check
# says whether it is right and why. Numbers may be rounded, and a proportion may be given as
# `0.8`, `80` or `"80%"`. Stuck? Ask for help in stages: `hint=1` gives a nudge, `hint=2` the
# method, e.g. `check_answer_screen(answer, hint=1)`.

# %%
from trialnb.exercises.protocol import check_answer_screen, check_answer_strata

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1
# Screen a 70-year-old patient with a resectable T4 tumour and N3 nodes. Is she eligible?
# Answer `True` or `False` (or "yes" / "no").

# %%
answer = None
check_answer_screen(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2
# How many strata would there be if age (< 50, ≥ 50) were added as a fourth minimization
# factor?

# %%
answer = None
check_answer_strata(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Glossary
# - **Minimization**: allocation that favours the arm which makes the factor totals most balanced.
# - **Stratum**: one combination of factor levels (e.g. bone, HR-positive, HER2-negative).
# - **Intention to treat (ITT)**: patients are analysed in the arm they were randomized to.
# - **M1**: distant metastases present at diagnosis (TNM).
