"""The boundary table of a group-sequential survival design: gsDesign's ``gsBoundSummary`` view.

Per look: the deaths (information), the z bound, the nominal p, the hazard ratio at the bound,
the cumulative probability of crossing under H0 and H1 and the alpha spent; for a two-sided
design also the bound in the reverse direction, for a one-sided design with futility bounds
the futility bound and its crossing probabilities.

The crossing probabilities use the canonical joint distribution of the z statistics (Jennison
& Turnbull 2000, ch. 3) with information ``I_k = r D_k / (1 + r)^2`` at ``D_k`` deaths
(Schoenfeld 1981, *Biometrika* 68:316-319) and drift ``|log HR|`` (recursive integration,
:mod:`trialnb.monitoring._numerics`), every stopping bound in force, as rpact's
``getPowerSurvival`` (``rejectPerStage``, ``futilityPerStage``, ``expectedNumberOfEvents``).
The alpha spent is the design's: for a non-binding futility bound it ignores the bound (the
type-I error the design controls), so it exceeds the H0 crossing probability when futility
stops are obeyed. Hazard ratios at the bounds are ``exp(-+ z (1 + r) / sqrt(r D_k))``, the
log-rank scale of rpact's ``criticalValuesEffectScale`` (for a Cox Wald statistic the HR at
the bound depends on the SE observed, so the table shows the planning value).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DesignError
from ..report import fmt_num
from ..results import Result
from ..validation import check_hazard_ratio, check_positive, check_real_array
from ._numerics import stage_probabilities
from .design import GroupSequentialDesign

__all__ = ["BoundaryTable", "boundary_table", "bound_hazard_ratio"]


def bound_hazard_ratio(z: Any, events: Any, *, allocation_ratio: float = 1.0,
                       direction_upper: bool = False) -> np.ndarray:
    """Hazard ratio at which a z bound is crossed with ``events`` deaths (log-rank/Schoenfeld
    scale): ``exp(z (1 + r) / sqrt(r D))`` when large z means HR > 1 (``direction_upper``),
    ``exp(-z (1 + r) / sqrt(r D))`` when the benefit is HR < 1."""
    zz = np.asarray(z, dtype=float)
    d = np.asarray(events, dtype=float)
    r = float(allocation_ratio)
    sign = 1.0 if direction_upper else -1.0
    return np.exp(sign * zz * (1 + r) / np.sqrt(r * d))


@dataclass(frozen=True)
class BoundaryTable(Result):
    """The boundary table (see :mod:`trialnb.monitoring.boundary_table`). Arrays have one entry
    per look; cumulative probabilities; ``reverse_*`` only for a two-sided design and
    ``futility_*`` only for a one-sided design with futility bounds (else ``None``)."""

    design: GroupSequentialDesign
    hazard_ratio: float
    allocation_ratio: float
    deaths: np.ndarray
    information_rates: np.ndarray
    z_bound: np.ndarray
    nominal_p: np.ndarray
    hr_bound: np.ndarray
    alpha_spent: np.ndarray
    efficacy_h0: np.ndarray
    efficacy_h1: np.ndarray
    reverse_hr_bound: np.ndarray | None
    reverse_h0: np.ndarray | None
    reverse_h1: np.ndarray | None
    futility_z: np.ndarray | None
    futility_hr: np.ndarray | None
    futility_h0: np.ndarray | None
    futility_h1: np.ndarray | None
    expected_deaths_h0: float
    expected_deaths_h1: float

    @property
    def reject_h0(self) -> np.ndarray:
        """Cumulative probability of rejecting H0 (either side for a two-sided design) under H0."""
        return self.efficacy_h0 if self.reverse_h0 is None else self.efficacy_h0 + self.reverse_h0

    @property
    def reject_h1(self) -> np.ndarray:
        """Cumulative probability of rejecting H0 (either side) under H1: the power, rpact's
        ``overallReject`` at the last look."""
        return self.efficacy_h1 if self.reverse_h1 is None else self.efficacy_h1 + self.reverse_h1

    def to_frame(self) -> pd.DataFrame:
        """One row per look."""
        cols: dict[str, Any] = {
            "look": np.arange(1, self.deaths.size + 1), "deaths": self.deaths,
            "information_rate": self.information_rates, "z_bound": self.z_bound, "nominal_p": self.nominal_p,
            "hr_bound": self.hr_bound, "alpha_spent": self.alpha_spent,
            "efficacy_h0": self.efficacy_h0, "efficacy_h1": self.efficacy_h1,
        }
        if self.reverse_h0 is not None:
            cols.update(reverse_z=-self.z_bound, reverse_hr_bound=self.reverse_hr_bound,
                        reverse_h0=self.reverse_h0, reverse_h1=self.reverse_h1)
        if self.futility_h0 is not None:
            cols.update(futility_z=self.futility_z, futility_hr=self.futility_hr,
                        futility_h0=self.futility_h0, futility_h1=self.futility_h1)
        return pd.DataFrame(cols).set_index("look")

    def summary(self) -> str:
        d = self.design
        side = "two-sided" if d.sided == 2 else "one-sided"
        lines = [f"Boundaries of {d.describe()}, alpha {fmt_num(d.alpha, 3)} ({side}); H1: HR "
                 f"{fmt_num(self.hazard_ratio, 2)}; cumulative crossing probabilities under H0 and H1"]
        cmp = "<=" if self.hazard_ratio < 1 else ">="
        fz, fhr, f0, f1 = self.futility_z, self.futility_hr, self.futility_h0, self.futility_h1
        for i in range(self.deaths.size):
            row = (f"look {i + 1}, {fmt_num(self.deaths[i], 1)} deaths (t = {fmt_num(self.information_rates[i], 3)}): "
                   f"{'|z|' if d.sided == 2 else 'z'} >= {fmt_num(self.z_bound[i], 3)} "
                   f"(nominal p {fmt_num(self.nominal_p[i], 4)}), "
                   f"HR {cmp} {fmt_num(self.hr_bound[i], 3)}; efficacy H0 {fmt_num(self.efficacy_h0[i], 4)}, "
                   f"H1 {fmt_num(self.efficacy_h1[i], 4)}; alpha spent {fmt_num(self.alpha_spent[i], 4)}")
            if (fz is not None and fhr is not None and f0 is not None and f1 is not None
                    and i < self.deaths.size - 1 and np.isfinite(fz[i])):
                row += (f"; futility z <= {fmt_num(fz[i], 3)} (HR {fmt_num(fhr[i], 3)}): "
                        f"H0 {fmt_num(f0[i], 4)}, H1 {fmt_num(f1[i], 4)}")
            lines.append(row)
        lines.append(f"power {fmt_num(float(self.reject_h1[-1]), 4)}; "
                     f"expected deaths {fmt_num(self.expected_deaths_h0, 1)} under H0, "
                     f"{fmt_num(self.expected_deaths_h1, 1)} under H1")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _deaths(design: GroupSequentialDesign, events: Any) -> np.ndarray:
    ev = check_real_array(events, "events", error=DesignError,
                          what="the maximum number of deaths or one number per look")
    if ev.size == 1:
        ev = ev[0] * np.asarray(design.information_rates, dtype=float)
    if ev.size != design.k:
        raise DesignError(f"events must be the maximum number of deaths or k = {design.k} numbers (one per look), "
                          f"got {ev.size}")
    if not np.all(np.isfinite(ev)) or np.any(ev <= 0) or np.any(np.diff(ev) <= 0):
        raise DesignError(f"events must be finite, > 0 and strictly increasing, got {ev.tolist()}")
    return ev


def boundary_table(design: GroupSequentialDesign, events: Any, *, hazard_ratio: float,
                   allocation_ratio: float = 1.0) -> BoundaryTable:
    """The boundary table of ``design`` (``trialnb.monitoring.design``) held at ``events``
    deaths (the maximum, spread by the design's information rates, or one number per look),
    with H1 the hazard ratio ``hazard_ratio`` (its side of 1 is the efficacy direction) and
    allocation ratio ``r`` (treatment : control). Equal to rpact ``getDesignGroupSequential``
    (bounds, alpha spent) and ``getPowerSurvival(design, hazardRatio = c(1, HR),
    maxNumberOfEvents = ...)`` (crossing probabilities, hazard ratios at the bounds, expected
    deaths); see the module docstring."""
    if not isinstance(design, GroupSequentialDesign):
        raise DesignError("design must be a GroupSequentialDesign from trialnb.monitoring.design(), "
                          f"got {type(design).__name__}")
    hr = check_hazard_ratio(hazard_ratio, allow_one=False, error=DesignError)
    r = check_positive(allocation_ratio, "allocation_ratio", error=DesignError)
    ev = _deaths(design, events)
    upper = hr > 1
    info = r * ev / (1 + r) ** 2
    delta = abs(math.log(hr))
    crit = np.asarray(design.critical_values, dtype=float)
    lower = design.lower_bounds()
    k = design.k
    p0 = stage_probabilities(info, crit, lower, theta=0.0)
    p1 = stage_probabilities(info, crit, lower, theta=delta)

    def expected(p) -> float:
        stop = p.stop[:-1]
        return float(np.sum(stop * ev[:-1]) + (1 - np.sum(stop)) * ev[-1])

    two = design.sided == 2
    fut = design.futility_bounds is not None and design.sided == 1 and k > 1 and np.any(np.isfinite(lower[:-1]))
    fut_z = np.where(np.isfinite(lower), lower, np.nan) if fut else None
    return BoundaryTable(
        design=design, hazard_ratio=hr, allocation_ratio=r, deaths=ev, information_rates=ev / ev[-1],
        z_bound=crit, nominal_p=np.asarray(design.stage_levels, dtype=float),
        hr_bound=bound_hazard_ratio(crit, ev, allocation_ratio=r, direction_upper=upper),
        alpha_spent=np.asarray(design.alpha_spent, dtype=float),
        efficacy_h0=np.cumsum(p0.upper), efficacy_h1=np.cumsum(p1.upper),
        reverse_hr_bound=bound_hazard_ratio(-crit, ev, allocation_ratio=r, direction_upper=upper) if two else None,
        reverse_h0=np.cumsum(p0.lower) if two else None, reverse_h1=np.cumsum(p1.lower) if two else None,
        futility_z=fut_z,
        futility_hr=bound_hazard_ratio(fut_z, ev, allocation_ratio=r, direction_upper=upper) if fut else None,
        futility_h0=np.cumsum(p0.lower) if fut else None, futility_h1=np.cumsum(p1.lower) if fut else None,
        expected_deaths_h0=expected(p0), expected_deaths_h1=expected(p1),
    )
