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
# # What does "two-year survival" estimate? The shape of the effect and the analyses
#
# The protocol's primary endpoint is two-year survival, analysed by the Cox model of the
# plan. Whether surgery helps at once, late, or first harms and then helps changes what each
# analysis sees. Choose a shape of the effect (proportional, the design's hazard ratio 0.5 from
# randomization; no effect for 6 months, then 0.5; harm around surgery, 3 for 3 months, then
# 0.5; or 2 for 6 months, then 0.6, so that the curves cross) and the fraction of arm A never
# operated: the true
# survival curves, the true estimands at 24 months (survival in each arm, the milestone
# difference, the restricted mean survival time) and, on the same simulated trials of the
# plan, how often each analysis finds a benefit of surgery (two-sided 5%) or harm follow at
# once, with the Monte Carlo standard error. The full story is in notebook `07_estimands`.
#
# **Save, load, report, reproduce.** Under the panel, *Save settings (JSON)* downloads its
# settings and *Load settings* restores a saved file (a value the panel does not accept is
# refused, never clamped); *Make report (HTML)* gives one self-contained page of what is on
# screen with its settings; and the same calculation is written out as trialnb Python code
# (rpact simulates the log-rank test only, so there is no R call to show).
#
# *Protocol section:* Primary outcome; Data analysis.

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.estimands import build_dashboard
from trialnb.widgets.snapshot import with_snapshot

dashboard = with_snapshot(build_dashboard())  # static copy for hand-outs
dashboard

# %% [markdown]
# **What one change does.** A second panel, built the same way, read twice: with the
# proportional effect of the design, then with a benefit that starts only after the first
# months. The panel above stays as it opened.

# %%
from trialnb.widgets.lookup import by_class, by_description, table_rows

demo = build_dashboard()
power = by_class(demo, "trialnb-estimands-power")
print("Proportional hazards:", table_rows(power)[1])
by_description(demo, "Hazard shape").value = "delayed benefit"
print("Delayed benefit:     ", table_rows(power)[1])
