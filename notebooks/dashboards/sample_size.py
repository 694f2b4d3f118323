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
# # How many patients? The sample-size explorer
#
# The protocol plans to detect a hazard ratio of 0.5 (arm A, surgery, against arm B, systemic
# therapy alone) with a two-sided 5% test and 80% power, assuming 60% of control patients are
# alive at two years and 10% are lost to follow-up. Move any assumption and the number of
# events, the number of patients N and the power curve follow at once. The controls start at
# the protocol's design, with every patient followed exactly two years (accrual 0 months), as
# the protocol calculates. The panel then shows N = 240 and control survival 0.607, not the
# protocol's 236 and 0.60: it computes without the protocol's roundings, and the note under
# the controls says step by step where the two part.
#
# **Solve for any one quantity**: the patients N, the power of a number of patients, or the
# hazard ratio they can detect; the control arm as its 2-year survival or its median, the
# accrual as a duration or as patients per month (rpact's `accrualIntensity`). The table
# under the numbers says when the deaths arrive: the expected month of the analysis under
# the design's hazard ratio and under no effect, with the patients randomized by then.
#
# **Save, load, report, reproduce.** Under the panel, *Save settings (JSON)* downloads its
# settings and *Load settings* restores a saved file (a value the panel does not accept is
# refused, never clamped); *Make report (HTML)* gives one self-contained page of what is on
# screen with its settings; and the same calculation is written out as trialnb Python code
# and, where R rpact has it (`getSampleSizeSurvival`, `getPowerSurvival`), as the rpact call that gives the same numbers.
#
# *Protocol section:* Statistics, sample size. The full derivation is in notebook
# `02_sample_size`.

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.sample_size import build_dashboard
from trialnb.widgets.snapshot import with_snapshot

dashboard = with_snapshot(build_dashboard())  # static copy for hand-outs
dashboard

# %% [markdown]
# **What one change does.** A second panel, built the same way, read twice: at the protocol's
# hazard ratio, then at a more modest 0.6. The panel above is not touched: a dashboard always
# opens at the protocol's design.

# %%
from trialnb.widgets.lookup import by_class, by_description, text_of

demo = build_dashboard()
hazard_ratio = by_description(demo, "Hazard ratio")
n_total = by_class(demo, "trialnb-n-total")
print(f"Hazard ratio 0.50 (protocol): {text_of(n_total)}")
hazard_ratio.value = 0.60
print(f"Hazard ratio 0.60:            {text_of(n_total)}")
