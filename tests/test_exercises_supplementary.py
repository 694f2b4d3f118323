"""Self-checks of notebook 07's supplementary-estimands section (07.4, 07.5), in the style of
tests/test_exercises.py: every correct form accepted, known wrong answers explained, "no answer
yet" for None, junk refused, hints staged and free of the answer. The right answer of 07.4 is
re-derived by hand from the CSV (Kaplan-Meier written out, proportions counted)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trialnb.exercises import estimands as ex07

DATA = Path(__file__).resolve().parents[1] / "data"


def _km24(g: pd.DataFrame) -> float:
    s = 1.0
    for t in sorted(g.loc[(g["death"] == 1) & (g["os_months"] <= 24), "os_months"].unique()):
        s *= 1 - ((g["os_months"] == t) & (g["death"] == 1)).sum() / (g["os_months"] >= t).sum()
    return s


def _iv_by_hand() -> tuple[float, float, float]:
    df = pd.read_csv(DATA / "trial_protocol.csv")
    a, b = df[df["arm"] == "A"], df[df["arm"] == "B"]
    itt = _km24(a) - _km24(b)
    return itt / (a["operated"].mean() - b["operated"].mean()), itt, itt / a["operated"].mean()


CACE, ITT, ONLY_A = _iv_by_hand()

CASES = {
    "07.4": dict(fn=ex07.check_complier_effect,
                 right=[round(CACE, 3), f"{100 * CACE:.1f}%", round(100 * CACE, 1)],
                 wrong=[(round(ITT, 3), "ITT difference"), (round(ONLY_A, 3), "arm A only"), (-0.9, "not the")],
                 junk=["x", 250, [0.3]],
                 forbidden=[f"{CACE:.3f}", f"{100 * CACE:.1f}"]),
    "07.5": dict(fn=ex07.check_hypothetical_method,
                 right=["IPCW", "ipcw", "inverse probability of censoring weighting", " weighting "],
                 wrong=[("naive censoring", "healthier ones"), ("ITT", "treatment-policy")],
                 junk=[1, "maybe", None.__class__],
                 forbidden=["IPCW answers", "weighting recovers"]),
}


