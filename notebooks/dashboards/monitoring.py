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
# # Interim analysis: what the data monitoring committee sees
#
# The protocol ends with "Interim analysis ;" and nothing after it. This dashboard applies the
# monitoring part of the trial plan argued in notebook `05_interim_monitoring`: one interim look
# at half of the planned deaths within 24 months of randomization (33 of 66), monitored with
# the primary analysis itself (the adjusted Cox model's Wald z), two-sided symmetric Lan-DeMets
# O'Brien-Fleming-type boundaries (5% in all: an efficacy boundary and its mirror, a harm
# boundary), a non-binding futility guideline (benefit z at or below 0), a harm guideline for
# surgery (benefit z at or below -2.326) and a calendar-driven final analysis when the last
# patient has completed 24 months. Pick a calendar cut-off month on a synthetic trial file, or
# type the deaths so far and a z (negative favours surgery, arm A; the hazard ratio and its
# repeated confidence interval then come from the log-rank approximation, and the panel says
# so): the recommendation to consider, the repeated confidence interval and the conditional
# power under three named hazard ratios follow. The boundary is recalculated at the deaths
# actually observed.
#
# A second tab, **Plan and boundaries**, explores other plans: the number and
# timing of the looks and the spending function, with gsDesign's boundary table (z, nominal
# p, hazard ratio at the bound, cumulative crossing probabilities under H0 and H1) and when
# each look's deaths are expected. Both tabs show the plan's expected months of the looks.
#
# **Save, load, report, reproduce.** Under the panel, *Save settings (JSON)* downloads its
# settings and *Load settings* restores a saved file (a value the panel does not accept is
# refused, never clamped); *Make report (HTML)* gives one self-contained page of what is on
# screen with its settings; and the same calculation is written out as trialnb Python code
# and, as the R rpact call (with R survival for the file's Cox model) that gives the same numbers.
#
# *Protocol section:* Statistics, "Interim analysis ;" (blank in the protocol). Synthetic data only.

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.monitoring import build_dashboard
from trialnb.widgets.snapshot import with_snapshot

dashboard = with_snapshot(build_dashboard())  # static copy for hand-outs
dashboard

# %% [markdown]
# **What one change does.** A second panel, built the same way, read twice: as it opens, at the
# planned interim (the month of the 33rd death within 24 months on the protocol-scenario file,
# where the z misses the boundary by 0.0002), then at month 30, one death later: an unscheduled
# look whose recalculated boundary the z crosses (notebook 05, section 4, says why a DMC charter
# rules such a look out). The panel above stays as it opened.

# %%
from trialnb.widgets.lookup import by_class, by_description, text_of

demo = build_dashboard()
cutoff = by_description(demo, "Cut-off month")
decision = by_class(demo, "trialnb-monitor-decision")
print(f"Month {cutoff.value:.2f} (as it opens): {text_of(decision)}")
cutoff.value = 30.0
print(f"Month 30.00:              {text_of(decision)}")
