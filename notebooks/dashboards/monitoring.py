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
# plan proposed in notebook `05_interim_monitoring`: one interim look at half of the planned
# deaths, a Lan-DeMets O'Brien-Fleming efficacy boundary (one-sided 0.025), a non-binding
# futility guideline (benefit z at or below 0) and a harm guideline for surgery (benefit z at or
# below -2.326). Pick a calendar cut-off month on a synthetic trial file, or type the deaths
# so far and the log-rank z (negative favours surgery, arm A): the decision, the repeated
# confidence interval and the conditional power under three named hazard ratios follow.
# The interim boundary is recalculated at the deaths actually observed.
#
# *Protocol section:* Statistics, "Interim analysis ;" (blank in the protocol). Synthetic data only.

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.monitoring import build_dashboard
from trialnb.widgets.snapshot import with_snapshot

dashboard = with_snapshot(build_dashboard())  # static copy for hand-outs
dashboard

# %% [markdown]
# **What one change does.** A second panel, built the same way, read twice: as it opens, at the
# planned interim (the month of the 33rd death within 24 months on the protocol-scenario file),
# then at month 28.5, before it. The panel above stays as it opened.

# %%
from trialnb.widgets.lookup import by_class, by_description, text_of

demo = build_dashboard()
cutoff = by_description(demo, "Cut-off month")
decision = by_class(demo, "trialnb-monitor-decision")
print(f"Month {cutoff.value:.2f} (as it opens): {text_of(decision)}")
cutoff.value = 28.5
print(f"Month 28.50:              {text_of(decision)}")
