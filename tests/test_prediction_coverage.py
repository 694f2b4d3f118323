"""Does the next-look prediction's interval cover the truth as often as it says?

Replicate synthetic trials whose whole future is known are cut at an interim; from each cut the
month of the 40th primary-endpoint death (death within 24 months of randomization) is predicted
with the default models (blinded, averaged by AIC weight), and compared with the month it
actually happened in that trial. Over R = 400 trials the share of intervals that contain the
true month must be the nominal level within 3 Monte-Carlo standard errors,
3 sqrt(level (1 - level) / R): 80% +- 6.0 points (and each tail 10% +- 4.5 points), 50% +- 7.5
and 95% +- 3.3. The 50% and 95% intervals come from the same simulations: an interval too narrow
or too wide by one of these steps fails. Seeded: the verdict does not change from run to run.

Two generators:

* the prediction's own assumptions, written here: Poisson enrollment (6.5 a month) up to 236
  patients, 1:1 coin allocation, exponential deaths with control 2-year survival 0.60 and
  hazard ratio 0.50 (so the pooled hazard is a mixture, which no candidate model is exactly),
  exponential drop-out (10% by 2 years); cut at month 20;
* the package's trial simulator (``trialnb.simulation.simulate_trials`` of the plan's design:
  236 patients uniform over 36 months, minimization, the same survival): enrollment is not a
  Poisson process there (a fixed number in a fixed period); cut at month 24.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from trialnb.plan import PLAN
from trialnb.simulation import simulate_trials
from trialnb.monitoring import predict_deaths

R = 400
TARGET = 40
N_PATIENTS = 236


def _as_of(entry: np.ndarray, t_death: np.ndarray, t_loss: np.ndarray, cutoff: float) -> pd.DataFrame:
    """The trial as known at ``cutoff`` (randomized by then; follow-up to death, loss or cut-off)."""
    keep = entry <= cutoff
    e, td, tl = entry[keep], t_death[keep], t_loss[keep]
    dead = (td <= tl) & (e + td <= cutoff)
    os_ = np.where(dead, td, np.minimum(np.minimum(td, tl), cutoff - e))
    return pd.DataFrame({"entry_month": e, "os_months": os_, "death": dead.astype(int)})


def _true_month(entry: np.ndarray, t_death: np.ndarray, t_loss: np.ndarray) -> float:
    """Calendar month of the TARGET-th death within 24 months and before loss (inf if never)."""
    primary = (t_death <= t_loss) & (t_death <= 24.0)
    dates = np.sort(entry[primary] + t_death[primary])
    return float(dates[TARGET - 1]) if dates.size >= TARGET else math.inf


def _own_trials(seed: int) -> list[tuple[pd.DataFrame, float, int]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(R):
        entry = np.cumsum(rng.standard_exponential(N_PATIENTS) / 6.5)
        arm_a = rng.random(N_PATIENTS) < 0.5
        hazard = -math.log(0.60) / 24 * np.where(arm_a, 0.50, 1.0)
        t_death = rng.standard_exponential(N_PATIENTS) / hazard
        t_loss = rng.standard_exponential(N_PATIENTS) / (-math.log(0.90) / 24)
        truth = _true_month(entry, t_death, t_loss)
        out.append((_as_of(entry, t_death, t_loss, 20.0), truth, int((entry <= truth).sum())))
    return out


def _protocol_trials(seed: int) -> list[tuple[pd.DataFrame, float, int]]:
    """The plan's simulated trials: latent death and loss times (the future is in the arrays),
    cut here at month 24."""
    data = simulate_trials(PLAN.design, R, np.random.default_rng(seed))
    out = []
    for e, t_death, t_loss in zip(data.entry, data.t_death, data.t_loss, strict=True):
        truth = _true_month(e, t_death, t_loss)
        out.append((_as_of(e, t_death, t_loss, 24.0), truth, int((e <= truth).sum())))
    return out


def _coverage(trials: list[tuple[pd.DataFrame, float, int]], cutoff: float) -> dict[str, float]:
    rows = []
    for i, (df, truth, n_by_then) in enumerate(trials):
        if ((df["death"] == 1) & (df["os_months"] <= 24)).sum() >= TARGET:
            continue  # already reached at the cut-off: nothing to predict
        p = predict_deaths(df, cutoff, TARGET, n_planned=N_PATIENTS, n_sims=500, seed=i)
        row = {}
        for level in (0.5, 0.8, 0.95):
            lo, hi = p.interval(level)
            row[f"below{level}"], row[f"above{level}"] = truth < lo, truth > hi
        lo, hi = p.randomized_interval(0.8)
        row["randomized"] = lo <= n_by_then <= hi
        rows.append(row)
    frame = pd.DataFrame(rows).astype(float)
    out = {f"cover{lv}": 1 - frame[f"below{lv}"].mean() - frame[f"above{lv}"].mean() for lv in (0.5, 0.8, 0.95)}
    out.update(below=frame["below0.8"].mean(), above=frame["above0.8"].mean(),
               randomized=frame["randomized"].mean(), n=len(frame))
    return out


def _check(c: dict[str, float]) -> None:
    n = c["n"]
    assert n >= 0.95 * R
    for level in (0.5, 0.8, 0.95):
        assert abs(c[f"cover{level}"] - level) <= 3 * math.sqrt(level * (1 - level) / n), (level, c)
    for tail in ("below", "above"):
        assert abs(c[tail] - 0.1) <= 3 * math.sqrt(0.1 * 0.9 / n), (tail, c)
    # patients randomized by the true month: a discrete count, so the interval is at least nominal
    assert c["randomized"] >= 0.8 - 3 * math.sqrt(0.16 / n), c


def test_interval_covers_the_true_month_on_trials_with_the_models_assumptions() -> None:
    _check(_coverage(_own_trials(2026), 20.0))


def test_interval_covers_the_true_month_on_the_package_simulators_trials() -> None:
    _check(_coverage(_protocol_trials(2026), 24.0))
