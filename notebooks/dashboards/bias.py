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
# # Why registries flatter surgery: the bias explorer
#
# Registry studies found that women operated on for their primary tumour lived longer; the
# randomized trials mostly did not. This panel simulates a registry in which surgery has the
# true effect you choose (no effect to start with) and lets you switch on, one by one, the
# mechanisms that make it look beneficial: selection of fitter patients, immortal time before
# surgery, stage migration, extra treatment of surgical candidates and coding errors. The forest
# plot compares the naive and adjusted registry analyses, the landmark and time-varying analyses,
# and a randomized comparison of the same patients.
#
# **Save, load, report, reproduce.** Under the panel, *Save settings (JSON)* downloads its
# settings and *Load settings* restores a saved file (a value the panel does not accept is
# refused, never clamped); *Make report (HTML)* gives one self-contained page of what is on
# screen with its settings; and the same calculation is written out as trialnb Python code
# and, as rpact has no registry simulator, the note says so.
#
# *Protocol section:* Background (rationale for a randomized trial). The mechanisms are explained
# in notebook `01_rationale`.

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.bias import build_dashboard
from trialnb.widgets.snapshot import with_snapshot

dashboard = with_snapshot(build_dashboard())  # static copy for hand-outs
dashboard

# %% [markdown]
# **With every mechanism off, and with the notebook's defaults.** A second panel, built the same
# way, driven by its own buttons and read twice; the panel above stays as it opened.

# %%
from trialnb.widgets.lookup import by_class, by_description, table_rows

demo = build_dashboard()
result = by_class(demo, "trialnb-bias-result")
by_description(demo, "All mechanisms off").click()
print("All mechanisms off:", *table_rows(result)[1:], sep="\n  ")
by_description(demo, "Notebook defaults").click()
print("Notebook defaults:", *table_rows(result)[1:], sep="\n  ")
