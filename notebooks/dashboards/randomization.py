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
# # Randomization console: minimization, one patient at a time
#
# NCT04697043 allocates patients by minimization (Pocock and Simon) on three factors: dominant
# metastatic site, hormone receptor status and HER2 status. Enter a patient's factors and the
# console shows how many patients with the same levels are already on each arm, how unbalanced
# the trial would become if this patient joined arm A or arm B, and the probability of each arm.
# **Allocate** draws the arm and writes it to a tamper-evident (hash-chained) log. The draw is
# seeded, so the same patients in the same order always get the same arms.
#
# *Protocol section:* Randomization. The methods are explained in notebook `03_randomization`.

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.randomization import build_dashboard
from trialnb.widgets.snapshot import with_snapshot

dashboard = with_snapshot(build_dashboard(seed=2026))  # static copy for hand-outs
dashboard

# %% [markdown]
# **What a few allocations look like.** Three patients allocated through the console's own
# **Allocate** button. Changing *p* starts a new, empty trial, which is how the console is handed
# back for the meeting.

# %%
from trialnb.widgets.lookup import by_class, by_description, text_of

allocate = by_description(dashboard, "Allocate")
site = by_description(dashboard, "Dominant")
p_minimizing = by_description(dashboard, "p (minimizing arm)")
for level in ("bone", "visceral", "bone"):
    site.value = level
    allocate.click()
    print(text_of(by_class(dashboard, "trialnb-allocation")).split(" G_A")[0])
p_minimizing.value = 0.85
p_minimizing.value = 0.80
print("After the reset:", text_of(by_class(dashboard, "trialnb-allocation")))
