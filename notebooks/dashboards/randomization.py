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
# **Allocate** draws the arm and writes it durably to an allocation log whose lines are chained
# with a secret key, so any edit is detected. The console never throws a log away: changing
# *p* or the imbalance measure leaves the current log as it is, says so, and a new log starts
# only when you press **Start a new log** (the old file stays). This teaching console uses a
# demonstration key written here in the open, so that the same patients always get the same
# arms; a real trial keeps its key away from the sites (with the independent statistician),
# because whoever holds the key can predict every allocation.
#
# **Save, load, report, reproduce.** Under the panel, *Save settings (JSON)* downloads its
# settings and *Load settings* restores a saved file (a value the panel does not accept is
# refused, never clamped); *Make report (HTML)* gives one self-contained page of what is on
# screen with its settings; and the same calculation is written out as trialnb Python code
# and, as rpact has no minimization, the note says so (the log's secret key is never saved).
#
# *Protocol section:* Randomization. The methods are explained in notebook `03_randomization`.

# %% tags=["nbval-ignore-output"]
from trialnb.widgets.randomization import build_dashboard
from trialnb.widgets.snapshot import with_snapshot

dashboard = with_snapshot(build_dashboard(seed=2026, key=b"demonstration key, not secret"))  # static copy for hand-outs
dashboard

# %% [markdown]
# **What a few allocations look like.** Three patients allocated through the **Allocate** button
# of a second console, built the same way (its own log); the console above stays empty, as it
# opened. Moving *p* afterwards does not touch the log: the console says that the log keeps its
# settings until **Start a new log** is pressed, which starts a new file and keeps the old one.

# %%
from trialnb.widgets.lookup import by_class, by_description, text_of

demo = build_dashboard(seed=2026, key=b"demonstration key, not secret")
allocate = by_description(demo, "Allocate")
site = by_description(demo, "Dominant")
p_minimizing = by_description(demo, "p (minimizing arm)")
for level in ("bone", "visceral", "bone"):
    site.value = level
    allocate.click()
    print(text_of(by_class(demo, "trialnb-allocation")).split(" G_A")[0])
p_minimizing.value = 0.85
print(text_of(by_class(demo, "trialnb-settings-note")))
by_description(demo, "Start a new log").click()
print(text_of(by_class(demo, "trialnb-settings-note")))
