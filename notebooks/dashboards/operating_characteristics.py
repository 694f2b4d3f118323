# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # What power does the trial really have? Operating characteristics
#
# The sample-size formula assumes the planned effect, exponential survival and every patient
# treated as allocated. This panel simulates thousands of complete trials instead: choose the
# true hazard ratio, the control arm's 2-year survival, the number of patients, how many arm-A
# patients are not operated on and how many arm-B patients are, the accrual period and a delay
# before surgery can act. It shows the proportion of trials that reach p < 0.05 with the
# estimate favouring surgery (the power, or the type-I error when the true hazard ratio is 1),
# its Monte-Carlo interval, and the spread of the estimated hazard ratios. Simulations are
# seeded, so the same settings always give the same answer; the panel opens with the 5,000
# trials notebook 06 reports for the plan as written.
#
# Each simulated trial is analysed with the trial's **primary analysis**, defined once in the
# trial plan (`trialnb.plan.PLAN.analysis`): deaths within 24 months (every patient's follow-up
# censored at 24 months after randomization), intention to treat, Cox model adjusted for the
# three minimization factors, two-sided 5% Wald test ("Cox (planned)"), at the calendar-driven
# final analysis; "Log-rank" is the unadjusted test on the same follow-up.
#
# **Save, load, report, reproduce.** Under the panel, *Save settings (JSON)* downloads its
# settings and *Load settings* restores a saved file (a value the panel does not accept is
# refused, never clamped); *Make report (HTML)* gives one self-contained page of what is on
# screen with its settings; and the same calculation is written out as trialnb Python code
# and, where rpact can draw the same trials, as rpact's `getSimulationSurvival` call (the
# log-rank test in one exponential population: the same power within Monte-Carlo error).
#
# *Protocol section:* Statistics (sample size, analysis). The simulation engine is explained in
# notebook `06_operating_characteristics`.

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.oc import build_dashboard
from trialnb.widgets.snapshot import with_snapshot

dashboard = with_snapshot(build_dashboard())  # static copy for hand-outs
dashboard

# %% [markdown]
# **The planned effect and a more modest one.** A second panel, built the same way, read at its
# starting hazard ratio and at 0.7; the panel above stays as it opened.

# %%
from trialnb.widgets.lookup import by_class, by_description, text_of

demo = build_dashboard()
hazard_ratio = by_description(demo, "True hazard ratio")
power = by_class(demo, "trialnb-power")
print(f"True HR {hazard_ratio.value:.2f}: {text_of(power)}")
hazard_ratio.value = 0.70
print(f"True HR 0.70: {text_of(power)}")
