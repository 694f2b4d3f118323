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
# # What can this trial show? The randomized evidence and the probability of success
#
# Five randomized trials have asked the protocol's question since it was written (Tata
# Memorial, MF07-01, ABCSG-28, E2108, JCOG1017). Tick the trials to pool and choose a prior for
# the true hazard ratio: the pooled hazard ratio with its prediction interval for a new trial,
# the probability that the protocol's design (66 deaths, fixed or with the interim plan of
# notebook 05) shows a benefit of surgery, and the deaths, patients and centres a trial would
# need follow at once. The pooled prior is the predictive distribution of a new trial's hazard
# ratio from the trials ticked; the sceptical and enthusiastic priors are Spiegelhalter's,
# around the protocol's hazard ratio 0.5. Sources: `references/clinical_evidence.md`; the full
# story is in notebook `08_evidence`.
#
# **Save, load, report, reproduce.** Under the panel, *Save settings (JSON)* downloads its
# settings and *Load settings* restores a saved file (a value the panel does not accept is
# refused, never clamped); *Make report (HTML)* gives one self-contained page of what is on
# screen with its settings; and the same calculation is written out as trialnb Python code
# and, as rpact has no meta-analysis, the note names R metafor.
#
# *Protocol section:* Clinical Trial Summary (rationale); Statistics, sample size calculation.

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.evidence import build_dashboard
from trialnb.widgets.snapshot import with_snapshot

dashboard = with_snapshot(build_dashboard())  # static copy for hand-outs
dashboard

# %% [markdown]
# **What one change does.** A second panel, built the same way, read twice: with the five trials
# pooled, then without MF07-01, the one trial that found a benefit. The panel above stays as it
# opened.

# %%
from trialnb.widgets.lookup import by_class, by_description, text_of

demo = build_dashboard()
pos = by_class(demo, "trialnb-evidence-pos")
mf0701 = by_description(demo, "MF07-01")
print(f"Five trials:       {text_of(pos)}")
mf0701.value = False
print(f"Without MF07-01:   {text_of(pos)}")
