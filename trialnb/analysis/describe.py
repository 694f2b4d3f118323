"""What a trial's report describes before it tests: baseline, CONSORT, Kaplan-Meier curves, the
log-rank table, the secondary endpoints and quality of life, on the survival engine.

* :func:`baseline_table` -- characteristics by arm (counts and percentages, age).
* :func:`km_by_arm` -- the engine's Kaplan-Meier estimate of each arm (Kaplan & Meier 1958),
  with Greenwood SEs and log-log CIs (:class:`trialnb.survival.KaplanMeier`);
  :func:`numbers_at_risk`.
* :func:`logrank_test` -- the log-rank test with observed and expected deaths per arm (Mantel
  1966; :func:`trialnb.survival.logrank`, equal to R ``survdiff``).
* :func:`secondary_summary`, :func:`qol_summary` -- the protocol's secondary endpoints.
* :func:`consort_counts` -- the numbers of a CONSORT flow diagram.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence, cast

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import TrialAnalysisError
from ..validation import is_number
from ..protocol import ARM_CODES, FACTORS
from ..report import fmt_n, fmt_num, fmt_p, fmt_pct
from ..results import Result
from ..survival import KaplanMeier, kaplan_meier, logrank
from ._frame import REQUIRED, SURV, arrays, check_df

__all__ = ["LogrankByArm", "baseline_table", "consort_counts", "km_by_arm", "logrank_test", "numbers_at_risk",
           "qol_summary", "secondary_summary"]




def baseline_table(df: pd.DataFrame) -> pd.DataFrame:
    """Baseline characteristics by arm: n (%) for categories, median (range) and mean (SD) for age.

    Returns a DataFrame of strings indexed by (characteristic, level) with columns
    ``Arm A``, ``Arm B``, ``Total`` (the header row ``N`` gives the arm sizes).
    """
    df = check_df(df)
    groups = {"Arm A": df[df["arm"] == "A"], "Arm B": df[df["arm"] == "B"], "Total": df}
    rows: list[tuple[str, str, dict[str, str]]] = [("N", "", {k: fmt_n(len(g)) for k, g in groups.items()})]
    if "age" in df:
        rows.append(("Age, years", "median (range)", {k: f"{fmt_num(float(g['age'].median()), 0)} "
                     f"({fmt_num(float(g['age'].min()), 0)} to {fmt_num(float(g['age'].max()), 0)})"
                     for k, g in groups.items()}))
        rows.append(("Age, years", "mean (SD)", {k: f"{fmt_num(float(g['age'].mean()), 1)} "
                     f"({fmt_num(float(g['age'].std()), 1)})" for k, g in groups.items()}))
    cats: list[tuple[str, str, tuple[Any, ...]]] = [(f.name, f.label, f.levels) for f in FACTORS]
    for col, label, levels in (("ecog", "ECOG performance status", (0, 1, 2)),
                               ("t_stage", "Clinical T stage", ("T1", "T2", "T3", "T4")),
                               ("n_stage", "Clinical N stage", ("N0", "N1", "N2", "N3"))):
        if col in df:
            cats.append((col, label, levels))
    for col, label, levels in cats:
        for lvl in levels:
            rows.append((label, str(lvl), {k: f"{fmt_n(int((g[col] == lvl).sum()))} "
                                              f"({fmt_pct((g[col] == lvl).mean(), 0)})" for k, g in groups.items()}))
    idx = pd.MultiIndex.from_tuples([(a, b) for a, b, _ in rows], names=["characteristic", "level"])
    return pd.DataFrame([r for _, _, r in rows], index=idx, columns=list(groups))


# ---------------------------------------------------------------- Kaplan-Meier

def km_by_arm(df: pd.DataFrame) -> dict[str, KaplanMeier]:
    """The Kaplan-Meier estimate of each arm (keys "A", "B"; :func:`trialnb.survival.kaplan_meier`:
    the curve, Greenwood SEs and :meth:`~trialnb.survival.KaplanMeier.confidence_interval`)."""
    df = check_df(df, SURV)
    out = {}
    for arm in ARM_CODES:
        g = df[df["arm"] == arm]
        if len(g) == 0:
            raise TrialAnalysisError(f"df has no patient in arm {arm}")
        out[arm] = kaplan_meier(g["os_months"].to_numpy(float), g["death"].to_numpy().astype(int))
    return out


def numbers_at_risk(df: pd.DataFrame, times: Sequence[float]) -> pd.DataFrame:
    """Patients still at risk (os_months >= t) per arm at each time; rows A, B; columns the times."""
    df = check_df(df, SURV)
    if isinstance(times, (str, bytes)) or not hasattr(times, "__iter__") \
            or not all(is_number(t) and math.isfinite(t) for t in times):
        raise TrialAnalysisError(f"times must be a list of months (finite numbers >= 0; a bool is not a number), got "
                                 f"{times!r}")
    times = [float(t) for t in times]
    if any(t < 0 for t in times):
        raise TrialAnalysisError(f"times must be non-negative months, got {times}")
    data = {t: [int((df.loc[df["arm"] == a, "os_months"] >= t).sum()) for a in ARM_CODES] for t in times}
    return pd.DataFrame(data, index=pd.Index(list(ARM_CODES), name="arm"))


@dataclass(frozen=True)
class LogrankByArm(Result):
    """Log-rank test of arm A vs B as a report shows it: chi-square (1 df), p-value, observed and
    expected deaths per arm (computed by :func:`trialnb.survival.logrank`)."""

    statistic: float
    p_value: float
    observed: dict[str, int]
    expected: dict[str, float]

    def to_frame(self) -> pd.DataFrame:
        """Observed and expected deaths per arm."""
        return pd.DataFrame({"observed": self.observed, "expected": self.expected}).rename_axis("arm")

    def summary(self) -> str:
        oe = "; ".join(f"{arm} {fmt_n(self.observed[arm])} observed, {fmt_num(self.expected[arm], 1)} expected"
                       for arm in self.observed)
        return f"Log-rank chi-square {fmt_num(self.statistic, 2)} (1 df), {fmt_p(self.p_value)}; deaths: {oe}"


def logrank_test(df: pd.DataFrame) -> LogrankByArm:
    """Unstratified log-rank test of A vs B on all follow-up of ``df`` (:func:`trialnb.survival.
    logrank`, equal to R ``survdiff``) with O and E per arm: E_A = sum over death times of
    d_j n_Aj / n_j (Mantel 1966); E_B = total deaths - E_A. For the plan's endpoint use
    :func:`trialnb.analysis.primary` with ``statistic="logrank"``."""
    df = check_df(df, SURV, both_arms=True)
    t, e, is_a = arrays(df)
    res = logrank(t, e, is_a)
    if not (float(res.variance) > 0):
        raise TrialAnalysisError(f"the log-rank test needs a death at a time when both arms are at risk: its variance "
                                 f"is 0 in these data ({fmt_n(int(e.sum()))} deaths)")
    exp_a = float(res.expected)
    total = int(e.sum())
    return LogrankByArm(float(res.chisq), float(res.p),
                        {"A": int(e[is_a == 1].sum()), "B": int(e[is_a == 0].sum())},
                        {"A": exp_a, "B": float(total - exp_a)})


# ---------------------------------------------------------------- secondary endpoints

def secondary_summary(df: pd.DataFrame) -> pd.DataFrame:
    """The protocol's secondary endpoints (except QoL) by arm, as numbers (not strings).

    Rows: deaths; median overall survival (KM, months); operated on the primary; free
    margins among operated; axillary dissection; axillary radiotherapy; axillary dissection
    or radiotherapy; patients with >= 1 unplanned local therapy; total unplanned local
    therapies. Columns ``A``, ``B`` and, for counts, Fisher's exact p-value (two-sided) of
    the proportion of patients, and ``test``, which says what the p-value is:

    * deaths: no p-value - crude counts over unequal follow-up (patients entered over 36
      months) are not comparable; the survival analyses compare deaths properly;
    * median overall survival: the p-value is the log-rank test of the whole curves (all
      follow-up), not a test of the medians;
    * free margins: among operated patients only, a group selected after randomization
      (operated arm-A patients are those who did not progress), so not a randomized comparison.

    None of these tests is adjusted for multiplicity; they are descriptive.
    """
    needed = REQUIRED + ("operated", "margin_status", "axillary_dissection", "axillary_radiotherapy",
                          "unplanned_local_therapies")
    df = check_df(df, needed)
    km = km_by_arm(df)
    rows = []

    def count_row(name: str, mask: pd.Series, denom: pd.Series | None = None, test: str = "Fisher exact") -> None:
        base = df if denom is None else df[denom]
        ks = {a: int(mask[base.index][base["arm"] == a].sum()) for a in ARM_CODES}
        ns = {a: int((base["arm"] == a).sum()) for a in ARM_CODES}
        table = [[ks["A"], ns["A"] - ks["A"]], [ks["B"], ns["B"] - ks["B"]]]
        fisher = min(ns.values()) > 0 and test.startswith("Fisher")
        p = float(stats.fisher_exact(np.array(table))[1]) if fisher else math.nan
        rows.append({"endpoint": name, "A": ks["A"], "B": ks["B"], "n_A": ns["A"], "n_B": ns["B"], "p": p,
                     "test": test})

    count_row("deaths", df["death"] == 1,
              test="none: crude counts over unequal follow-up; see the survival analyses")
    rows.append({"endpoint": "median overall survival (months)", "A": _median(km["A"]),
                 "B": _median(km["B"]), "n_A": int((df["arm"] == "A").sum()),
                 "n_B": int((df["arm"] == "B").sum()), "p": logrank_test(df).p_value,
                 "test": "log-rank (whole curves, all follow-up), not a test of medians"})
    count_row("operated on the primary", df["operated"] == 1)
    count_row("free margins (of operated)", df["margin_status"] == "free", df["operated"] == 1,
              test="Fisher exact, among operated patients only: selected after randomization, not randomized")
    count_row("axillary lymph node dissection", df["axillary_dissection"] == 1)
    count_row("axillary radiotherapy", df["axillary_radiotherapy"] == 1)
    count_row("axillary dissection or radiotherapy",
              (df["axillary_dissection"] == 1) | (df["axillary_radiotherapy"] == 1))
    count_row("patients with >= 1 unplanned local therapy", df["unplanned_local_therapies"] >= 1)
    rows.append({"endpoint": "unplanned local therapies (total)",
                 "A": int(df.loc[df["arm"] == "A", "unplanned_local_therapies"].sum()),
                 "B": int(df.loc[df["arm"] == "B", "unplanned_local_therapies"].sum()),
                 "n_A": int((df["arm"] == "A").sum()), "n_B": int((df["arm"] == "B").sum()), "p": math.nan,
                 "test": "none (counts of events, several per patient possible)"})
    return pd.DataFrame(rows)


def qol_summary(qol: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """QoL score by arm and visit: patients with a score, mean, SD, and alive-and-followed patients.

    ``qol`` is long format (patient_id, visit_month, qol_score); ``df`` gives the arms. The
    column ``completion`` = scored / followed shows the informative missingness (deaths).
    """
    if not isinstance(qol, pd.DataFrame) or not {"patient_id", "visit_month", "qol_score"} <= set(qol.columns):
        raise TrialAnalysisError("qol must be a DataFrame with columns patient_id, visit_month, qol_score")
    df = check_df(df, REQUIRED + ("patient_id",))
    unknown = set(qol["patient_id"]) - set(df["patient_id"])
    if unknown:
        raise TrialAnalysisError(f"qol has patient_id(s) not in df: {sorted(unknown)[:5]}")
    m = qol.merge(df[["patient_id", "arm", "os_months"]], on="patient_id")
    rows = []
    for key, g in m.groupby(["arm", "visit_month"]):
        arm, v = cast(tuple[str, float], key)
        followed = int(((df["arm"] == arm) & (df["os_months"] >= v)).sum())
        rows.append({"arm": arm, "visit_month": float(v), "n": len(g), "mean": float(g["qol_score"].mean()),
                     "sd": float(g["qol_score"].std()), "followed": followed, "completion": len(g) / followed})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- CONSORT

def consort_counts(screening: pd.DataFrame, df: pd.DataFrame) -> dict[str, Any]:
    """The numbers of a CONSORT 2010 flow diagram from the screening log and the trial data.

    Keys: assessed, excluded, excluded_by_criterion (criterion id -> patients failing it; a
    patient may fail several), randomized, and per arm ``arm_<X>``: allocated, operated,
    not_operated (reason -> n), lost, analysed_itt, per_protocol.
    """
    if not isinstance(screening, pd.DataFrame) or not {"eligible", "failed_criteria"} <= set(screening.columns):
        raise TrialAnalysisError("screening must be the screening log (columns eligible, failed_criteria, ...)")
    df = check_df(df, REQUIRED + ("operated", "not_operated_reason", "surgery_reason", "lost_to_follow_up",
                                    "per_protocol"))
    by_crit: dict[str, int] = {}
    for f in screening.loc[screening["eligible"] == 0, "failed_criteria"]:
        for c in str(f).split(";"):
            by_crit[c] = by_crit.get(c, 0) + 1
    out: dict[str, Any] = {
        "assessed": len(screening), "excluded": int((screening["eligible"] == 0).sum()),
        "excluded_by_criterion": dict(sorted(by_crit.items())), "randomized": len(df),
    }
    for arm in ARM_CODES:
        g = df[df["arm"] == arm]
        reasons = g["not_operated_reason"].dropna().value_counts().to_dict() if arm == "A" else \
            g["surgery_reason"].dropna().value_counts().to_dict()
        out[f"arm_{arm}"] = {"allocated": len(g), "operated": int(g["operated"].sum()),
                             ("not_operated" if arm == "A" else "surgery_reasons"):
                                 {k: int(v) for k, v in sorted(reasons.items())},
                             "lost": int(g["lost_to_follow_up"].sum()), "analysed_itt": len(g),
                             "per_protocol": int(g["per_protocol"].sum())}
    return out





def _median(km: KaplanMeier) -> float:
    """Median survival: the first time the curve is at or below 0.5 (inf when it never is, as
    R ``survfit`` prints NA)."""
    below = np.flatnonzero(km.survival <= 0.5)
    return float(km.time[below[0]]) if below.size else math.inf
