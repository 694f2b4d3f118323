"""Group-sequential designs: boundaries, spending and characteristics, as R ``rpact``.

``design()`` reproduces ``rpact::getDesignGroupSequential`` followed by
``rpact::getDesignCharacteristics`` (rpact 3.3.4; Wassmer & Brannath 2016, *Group Sequential
and Confirmatory Adaptive Designs in Clinical Trials*, Springer) with rpact's design names:

* ``"OF"``, ``"P"``, ``"WT"``: Wang & Tsiatis (1987, *Biometrics* 43:193-199) boundaries
  ``c_k = C t_k^(delta - 1/2)`` with ``delta = 0`` (O'Brien & Fleming 1979, *Biometrics*
  35:549-556), ``delta = 1/2`` (Pocock 1977, *Biometrika* 64:191-199) or ``delta_wt``;
  ``C`` solves ``P_H0(reject) = alpha``.
* ``"HP"``: Haybittle (1971) - Peto (1976): ``c_k = 3`` at the interims, the last bound
  exhausts alpha.
* alpha spending (Lan & DeMets 1983, *Biometrika* 70:659-663) with rpact's functions, for
  information rate ``t``: ``"asOF"`` ``2 s (1 - Phi(z_{1-alpha/(2 s)} / sqrt(t)))`` (``s`` =
  sided), ``"asP"`` ``alpha log(1 + (e - 1) t)``, ``"asKD"`` ``alpha t^gamma`` (Kim & DeMets
  1987), ``"asHSD"`` ``alpha (1 - exp(-gamma t)) / (1 - exp(-gamma))`` (Hwang, Shih & DeCani
  1990, *Stat Med* 9:1439-1445).
* beta spending for futility (``"bsOF"`` ``2 (1 - Phi(z_{1-beta/2}/sqrt(t)))``, ``"bsP"``,
  ``"bsKD"``, ``"bsHSD"`` with ``gamma_b``): rpact's approach - find the drift at which the
  futility bound spending ``beta(t_k)`` under the alternative meets the critical value at the
  last look; non-binding unless ``binding_futility=True`` (then the critical values are
  recomputed with the futility bounds in force). Futility (given or by beta spending) is
  available for one-sided designs; rpact's two-sided beta spending is not implemented.

Sign conventions: z is oriented so that large values favour the alternative (rpact's
``directionUpper = TRUE`` orientation of the design); for a hazard ratio < 1 as the benefit,
use ``z = -logrank_z`` or :func:`trialnb.monitoring.analyse` with ``direction_upper=False``.
``sided=2`` gives symmetric bounds ``+-c_k`` with ``alpha`` the two-sided level.
``power`` is the cumulative probability of crossing the upper bound under the drift for which
the design has power ``1 - beta`` (rpact's ``getDesignCharacteristics``, ``twoSidedPower =
FALSE``); ``inflation_factor`` is the maximum information over the fixed design's
``(z_{1-alpha/s} + z_{1-beta})^2``.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DesignError
from ..report import fmt_num
from ..plan import ALPHA_SPENDING
from ..validation import check_choice, check_finite, check_int, check_probability, check_real, check_real_array
from ._numerics import pnorm_upper, prefix, qnorm_upper, root, stage_probabilities

__all__ = ["compute_design",
    "ALPHA_SPENDING",
    "BETA_SPENDING",
    "DESIGN_TYPES",
    "GroupSequentialDesign",
    "design",
    "crossing_probabilities",
    "spending",
]

BETA_SPENDING: tuple[str, ...] = ("bsOF", "bsP", "bsKD", "bsHSD")
DESIGN_TYPES: tuple[str, ...] = ("OF", "P", "WT", "HP") + ALPHA_SPENDING
HP_BOUND = 3.0
K_MAX = 20


# ---------------------------------------------------------------------------------------
# spending functions


def spending(kind: str, level: float, t: Any, sided: int = 1, gamma: float | None = None) -> np.ndarray:
    """Cumulative error spent at information rates ``t`` by rpact's spending function ``kind``
    (``"asOF"`` ... ``"bsHSD"``) for total error ``level`` (see module docstring)."""
    t = check_real_array(t, "t", error=DesignError, what="information rates in [0, 1]").reshape(np.shape(t))
    if np.any((t < 0) | (t > 1)):
        raise DesignError(f"t must be information rates in [0, 1], got {t.ravel().tolist()}")
    check_probability(level, "level", lo_open=True, hi_open=True, error=DesignError)
    check_choice(sided, "sided", (1, 2), error=DesignError)
    if kind in ("asP", "bsP"):
        return level * np.log1p((math.e - 1) * t)
    if kind == "asOF":
        nominal = np.array([pnorm_upper(qnorm_upper(level / (2 * sided)) / math.sqrt(x)) for x in t.ravel()])
        return 2 * sided * nominal.reshape(t.shape)
    if kind == "bsOF":
        return 2 * np.array([pnorm_upper(qnorm_upper(level / 2) / math.sqrt(x)) for x in t.ravel()]).reshape(t.shape)
    if kind in ("asKD", "bsKD", "asHSD", "bsHSD"):
        if gamma is None:
            raise DesignError(f"the spending function {kind!r} needs its parameter gamma (a number), got None")
        if kind in ("asKD", "bsKD"):
            return level * t ** float(gamma)
        if gamma == 0:
            return level * t
        return level * np.expm1(-gamma * t) / math.expm1(-gamma)
    raise DesignError(f"unknown spending function {kind!r}; allowed: {', '.join(ALPHA_SPENDING + BETA_SPENDING)}")


# ---------------------------------------------------------------------------------------
# result


@dataclass(frozen=True)
class GroupSequentialDesign:
    """A group-sequential design (see :mod:`trialnb.monitoring.design` for conventions).

    Arrays have one entry per look except ``futility_bounds`` (k - 1 interims). ``shift`` is
    rpact's ``shift``: the maximum information (in units where the drift is 1) at which the
    design has power ``1 - beta``; ``expected_information_h0``/``_h01``/``_h1`` are rpact's
    ``averageSampleNumber0/01/1`` (expected information relative to the fixed design under no
    effect, half the effect and the effect).
    """

    k: int
    alpha: float
    sided: int
    beta: float
    type_of_design: str
    information_rates: np.ndarray
    critical_values: np.ndarray
    alpha_spent: np.ndarray
    stage_levels: np.ndarray
    futility_bounds: np.ndarray | None
    beta_spent: np.ndarray | None
    power: np.ndarray
    inflation_factor: float
    shift: float
    n_fixed: float
    rejection_probabilities: np.ndarray
    futility_probabilities: np.ndarray
    expected_information_h0: float
    expected_information_h01: float
    expected_information_h1: float
    delta_wt: float | None = None
    gamma_a: float | None = None
    type_beta_spending: str | None = None
    gamma_b: float | None = None
    binding_futility: bool = False
    user_futility_bounds: bool = field(default=False, repr=False)

    # -- derived ---------------------------------------------------------------------------
    def lower_bounds(self) -> np.ndarray:
        """Per-look lower stopping bound on the z scale: ``-c_k`` for a two-sided design,
        the futility bound for a one-sided one (``-inf`` at the last look and where none)."""
        if self.sided == 2:
            return -self.critical_values
        out = np.full(self.k, -np.inf)
        if self.futility_bounds is not None:
            out[:-1] = self.futility_bounds
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per look: information rate, bounds, nominal levels, spending, power."""
        fut = np.full(self.k, np.nan)
        if self.futility_bounds is not None:
            fut[:-1] = self.futility_bounds
        frame = pd.DataFrame(
            {
                "look": np.arange(1, self.k + 1),
                "information_rate": self.information_rates,
                "critical_value": self.critical_values,
                "stage_level": self.stage_levels,
                "alpha_spent": self.alpha_spent,
                "futility_bound": fut,
                "beta_spent": self.beta_spent if self.beta_spent is not None else np.full(self.k, np.nan),
                "power": self.power,
            }
        )
        return frame.set_index("look")

    def describe(self) -> str:
        """The design in one phrase, e.g. ``"3 looks, Lan-DeMets O'Brien-Fleming (asOF)"``."""
        names = {
            "OF": "O'Brien-Fleming", "P": "Pocock", "WT": f"Wang-Tsiatis delta={self.delta_wt}",
            "HP": "Haybittle-Peto", "asOF": "Lan-DeMets O'Brien-Fleming spending",
            "asP": "Lan-DeMets Pocock spending", "asKD": f"Kim-DeMets spending gamma={self.gamma_a}",
            "asHSD": f"Hwang-Shih-DeCani spending gamma={self.gamma_a}",
            "asUser": "user-defined alpha spending",
        }
        txt = f"{self.k} look{'s' if self.k > 1 else ''}, {names[self.type_of_design]} ({self.type_of_design})"
        if self.type_beta_spending:
            txt += f", {'binding' if self.binding_futility else 'non-binding'} futility by {self.type_beta_spending}"
        elif self.user_futility_bounds:
            txt += f", {'binding' if self.binding_futility else 'non-binding'} futility bounds"
        return txt

    def summary(self) -> str:
        """Plain-text summary: the design, its levels and its cost."""
        side = "one-sided" if self.sided == 1 else "two-sided"
        lines = [
            f"Group-sequential design: {self.describe()}",
            f"alpha = {fmt_num(self.alpha, 4)} ({side}), power {fmt_num(1 - self.beta, 3)}; "
            f"inflation factor {fmt_num(self.inflation_factor, 4)} "
            f"(expected information under H1: {fmt_num(self.expected_information_h1, 4)} of the fixed design)",
        ]
        for i in range(self.k):
            row = (
                f"look {i + 1}: t = {fmt_num(self.information_rates[i], 3)}, "
                f"z >= {fmt_num(self.critical_values[i], 4)} "
                f"(nominal one-sided p <= {fmt_num(self.stage_levels[i], 5)}), "
                f"cumulative alpha {fmt_num(self.alpha_spent[i], 5)}, cumulative power {fmt_num(self.power[i], 4)}"
            )
            if self.futility_bounds is not None and i < self.k - 1:
                row += f"; futility if z <= {fmt_num(self.futility_bounds[i], 4)}"
            lines.append(row)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        e = html.escape
        frame = self.to_frame()
        head = "".join(f"<th>{e(str(c))}</th>" for c in ["look", *frame.columns])
        body = "".join(
            "<tr>" + f"<td>{idx}</td>" + "".join(f"<td>{e(fmt_num(float(v), 4))}</td>" for v in row) + "</tr>"
            for idx, row in zip(frame.index, frame.to_numpy(), strict=True)
        )
        return (
            f"<div class='trialnb-design'><p><b>{e(self.describe())}</b><br>"
            f"alpha {e(fmt_num(self.alpha, 4))} ({'one' if self.sided == 1 else 'two'}-sided), "
            f"power {e(fmt_num(1 - self.beta, 3))}, inflation factor {e(fmt_num(self.inflation_factor, 4))}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
        )


# ---------------------------------------------------------------------------------------
# validation


_GAMMA_RANGES = {"asKD": (0.4, 8.0), "asHSD": (-10.0, 5.0), "bsKD": (0.4, 8.0), "bsHSD": (-10.0, 5.0)}
"""Allowed shape parameter of the Kim-DeMets (KD) and Hwang-Shih-DeCani (HSD) spending families."""


def _gamma(gamma: Any, name: str, argument: str, family: str) -> float | None:
    """``gamma_a`` / ``gamma_b``: required by, and only allowed with, the KD and HSD families."""
    if family in _GAMMA_RANGES:
        lo, hi = _GAMMA_RANGES[family]
        if gamma is None:
            raise DesignError(f'{argument} "{family}" needs {name} in [{lo:g}, {hi:g}]')
        return check_real(gamma, name, lo=lo, hi=hi, error=DesignError)
    if gamma is not None:
        kd, hsd = (f for f in _GAMMA_RANGES if f[:2] == family[:2])
        raise DesignError(f'{name} is used only with "{kd}" or "{hsd}", not {family!r}')
    return None


def _rates(k: int, rates: Any) -> np.ndarray:
    if rates is None:
        return np.arange(1, k + 1) / k
    arr = check_real_array(rates, "information_rates", error=DesignError).copy()
    if arr.size != k:
        raise DesignError(f"information_rates must have k = {k} values, got {arr.size}")
    if not np.all(np.isfinite(arr)) or arr[0] <= 0 or np.any(np.diff(arr) <= 0):
        raise DesignError(f"information_rates must be finite, > 0 and strictly increasing, got {arr.tolist()}")
    if abs(arr[-1] - 1) > 1e-12:
        raise DesignError(f"information_rates must end at 1 (the last look has all the information), got {arr[-1]}")
    arr[-1] = 1.0
    return arr


def _validate(k, alpha, sided, beta, type_of_design, delta_wt, gamma_a, futility_bounds, type_beta_spending, gamma_b,
              binding_futility):
    check_int(k, "k (number of looks)", minimum=1, maximum=K_MAX, error=DesignError)
    sided = check_choice(sided, "sided", (1, 2), error=DesignError)
    alpha = check_real(alpha, "alpha", lo=1e-6, hi=0.5, error=DesignError)
    beta = check_finite(beta, "beta", error=DesignError)
    if not 1e-4 <= beta < 1 - alpha / sided:
        raise DesignError(f"beta must lie in [1e-04, 1 - alpha/sided) = [1e-04, {1 - alpha / sided}), got {beta}")
    check_choice(type_of_design, "type_of_design", DESIGN_TYPES, error=DesignError)
    if type_of_design == "WT":
        if delta_wt is None:
            raise DesignError('type_of_design "WT" needs delta_wt in [-0.5, 1] (0 = O\'Brien-Fleming, 0.5 = Pocock)')
        delta_wt = check_real(delta_wt, "delta_wt", lo=-0.5, hi=1.0, error=DesignError)
    elif delta_wt is not None:
        raise DesignError(f'delta_wt is used only with type_of_design "WT", not {type_of_design!r}')
    gamma_a = _gamma(gamma_a, "gamma_a", "type_of_design", type_of_design)
    if not isinstance(binding_futility, (bool, np.bool_)):
        raise DesignError(f"binding_futility must be True or False, got {binding_futility!r}")
    if type_beta_spending is not None:
        check_choice(type_beta_spending, "type_beta_spending (or None)", BETA_SPENDING, error=DesignError)
        if type_of_design not in ALPHA_SPENDING:
            raise DesignError(
                f"type_beta_spending needs an alpha-spending design ({', '.join(ALPHA_SPENDING)}), "
                f"got {type_of_design!r}"
            )
        if k < 2:
            raise DesignError("type_beta_spending needs k >= 2 looks")
        if futility_bounds is not None:
            raise DesignError("give either futility_bounds or type_beta_spending, not both")
        if sided != 1:
            raise DesignError("type_beta_spending is available for sided = 1 only")
        gamma_b = _gamma(gamma_b, "gamma_b", "type_beta_spending", type_beta_spending)
    elif gamma_b is not None:
        raise DesignError("gamma_b is used only with type_beta_spending")
    fut = None
    if futility_bounds is not None:
        if sided != 1:
            raise DesignError("futility_bounds are available for sided = 1 only")
        if k < 2:
            raise DesignError("futility_bounds need k >= 2 looks")
        fut = check_real_array(futility_bounds, "futility_bounds", allow_neg_inf=True, error=DesignError,
                               what="numbers on the z scale, or -inf (no futility stop)")
        if fut.size != k - 1:
            raise DesignError(f"futility_bounds must have k - 1 = {k - 1} values (one per interim), got {fut.size}")
        fut = np.where(fut < -6, -np.inf, fut)  # rpact treats z <= -6 as "no futility bound"
    elif binding_futility and type_beta_spending is None:
        raise DesignError("binding_futility=True needs futility_bounds or type_beta_spending")
    return alpha, beta, delta_wt, gamma_a, fut, gamma_b, bool(binding_futility)


# ---------------------------------------------------------------------------------------
# boundaries


def _alpha_prob(t, crit, lower, sided) -> float:
    """Total probability under H0 of rejecting (upper, and lower if two-sided)."""
    if sided == 2:
        p = stage_probabilities(t, crit, -crit)
        return float(p.upper.sum() + p.lower.sum())
    return float(stage_probabilities(t, crit, lower).upper.sum())


def _wang_tsiatis(t, alpha, sided, delta, lower):
    powers = t ** (delta - 0.5)
    top = 8.0 / powers.min() if delta < 0.5 else 8.0
    scale = root(lambda c: _alpha_prob(t, c * powers, lower, sided) - alpha, 0.0, top, "the Wang-Tsiatis constant")
    return scale * powers


def _haybittle_peto(t, alpha, sided, lower):
    k = t.size
    def f(c):
        crit = np.r_[np.full(k - 1, HP_BOUND), c]
        return _alpha_prob(t, crit, lower, sided) - alpha
    return np.r_[np.full(k - 1, HP_BOUND), root(f, 0.0, 8.0, "the last Haybittle-Peto bound")]


def _spending_bound_at(j, t, crit, lower, cum_alpha, sided, clamp=False) -> float:
    """Critical value at look ``j`` (0-based) spending ``cum_alpha[j]`` given earlier bounds."""
    if j == 0:
        return qnorm_upper(cum_alpha[0] / sided)
    lo = -crit[: j + 1] if sided == 2 else lower[: j + 1]
    pre = prefix(t[: j + 1], crit[: j + 1], lo)
    before = float(pre.probs.upper.sum() + (pre.probs.lower.sum() if sided == 2 else 0.0))
    def f(c):
        return before + pre.above(c) + (pre.below(-c) if sided == 2 else 0.0) - cum_alpha[j]
    return root(f, 0.0, 8.0, f"the critical value at look {j + 1}", clamp=clamp)


def _spending_bounds(t, cum_alpha, sided, lower, clamp=False):
    """Critical values spending ``cum_alpha`` (cumulative) at each look, stage by stage."""
    crit = np.full(t.size, np.inf)
    for j in range(t.size):
        crit[j] = _spending_bound_at(j, t, crit, lower, cum_alpha, sided, clamp=clamp)
    return crit


def _futility_at(j, t, crit, fut, cum_beta, theta) -> float:
    """Futility bound at look ``j`` spending ``cum_beta[j]`` under drift ``theta``
    (``E[Z_k] = theta sqrt(t_k)``), given the earlier futility and critical values."""
    if j == 0:
        return -qnorm_upper(cum_beta[0]) + math.sqrt(t[0]) * theta
    pre = prefix(t[: j + 1], crit[: j + 1], fut[: j + 1], theta=theta)
    before = float(pre.probs.lower.sum())
    def f(b):
        return before + pre.below(b) - cum_beta[j]
    span = 8.0 + abs(theta)
    # no continuation mass left to spend (extreme drifts during the search): clamp, as
    # rpact's bisection does, so that the outer search on the drift stays monotone
    return root(f, -span, span, f"the futility bound at look {j + 1}", clamp=True)


def _beta_spending(t, cum_alpha, cum_beta, crit, binding):
    """rpact's beta-spending search: the drift at which the last futility bound equals the last
    critical value. Returns (critical values, futility bounds incl. the last, drift)."""
    k = t.size
    state = {}

    def gap(theta):
        cr = crit.copy()
        fu = np.full(k, -np.inf)
        for j in range(k):
            if binding:
                cr[j] = _spending_bound_at(j, t, cr, fu, cum_alpha, 1, clamp=True)
            fu[j] = _futility_at(j, t, cr, fu, cum_beta, theta)
        state["crit"], state["fut"] = cr, fu
        return cr[-1] - fu[-1]

    theta = root(gap, -4.0, 10.0, "the drift at which the beta-spending futility bound meets the last critical value")
    gap(theta)
    return state["crit"], state["fut"], theta


def crossing_probabilities(design: GroupSequentialDesign, drift: float, *,
                           futility: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of first stopping at each look above the efficacy bound (first array) and
    below the lower bound (second array: the futility bound of a one-sided design, ``-c_k`` of a
    two-sided one) when ``E[Z_k] = drift sqrt(t_k)``.

    ``drift`` is per unit of maximum information (rpact's ``shift`` scale): for a survival trial
    with ``D`` events and allocation ratio ``r``, ``drift = -ln(HR) sqrt(r D) / (1 + r)`` when
    large z favours the treatment. ``futility=True`` lets a one-sided design stop at its
    futility bounds (a trial that follows its futility rule, as the simulations and rpact's
    power do); ``False`` ignores them. The efficacy probabilities sum to the power at that drift.
    Recursive numerical integration (Armitage, McPherson & Rowe 1969, *J R Stat Soc A*
    132:235-244)."""
    if not isinstance(design, GroupSequentialDesign):
        raise DesignError(f"design must be a GroupSequentialDesign (trialnb.monitoring.design), got "
                          f"{type(design).__name__}")
    theta = check_finite(drift, "drift", error=DesignError)
    if not isinstance(futility, (bool, np.bool_)):
        raise DesignError(f"futility must be True or False, got {futility!r}")
    lower = design.lower_bounds()
    if design.sided == 1 and not futility:
        lower = np.full(design.k, -np.inf)
    p = stage_probabilities(design.information_rates, design.critical_values, lower, theta=theta)
    return p.upper, p.lower


def design(
    k: int,
    *,
    alpha: float = 0.025,
    sided: int = 1,
    beta: float = 0.2,
    type_of_design: str = "asOF",
    information_rates: Any = None,
    delta_wt: float | None = None,
    gamma_a: float | None = None,
    futility_bounds: Any = None,
    type_beta_spending: str | None = None,
    gamma_b: float | None = None,
    binding_futility: bool = False,
) -> GroupSequentialDesign:
    """Group-sequential design as ``rpact::getDesignGroupSequential`` +
    ``getDesignCharacteristics`` (see the module docstring for types and conventions).

    >>> d = design(2, type_of_design="OF")
    >>> [round(c, 4) for c in d.critical_values]
    [2.7965, 1.9774]
    """
    alpha, beta, delta_wt, gamma_a, fut_in, gamma_b, binding = _validate(
        k, alpha, sided, beta, type_of_design, delta_wt, gamma_a, futility_bounds, type_beta_spending, gamma_b,
        binding_futility,
    )
    return compute_design(int(k), alpha, int(sided), beta, type_of_design, _rates(int(k), information_rates), delta_wt,
                   gamma_a, fut_in, type_beta_spending, gamma_b, binding, check_overlap=True)


def compute_design(k, alpha, sided, beta, type_of_design, t, delta_wt=None, gamma_a=None, fut_in=None,
            type_beta_spending=None, gamma_b=None, binding=False, *, characteristics=True, user_alpha=None, clamp=False,
            check_overlap=False):
    """:func:`design` on validated arguments. ``characteristics=False`` skips the power search
    (power and expected information are NaN); ``user_alpha`` (cumulative alpha per look, type
    ``"asUser"``) is rpact's ``userAlphaSpending``, used for recalculated boundaries;
    ``clamp=True`` returns the end of the search interval where a spending bound has no root
    (rpact's bisection; used inside the repeated p-value search over levels); ``check_overlap``
    (the user's design only) refuses a futility bound at or above its look's efficacy bound."""
    n_fixed = (qnorm_upper(alpha / sided) + qnorm_upper(beta)) ** 2
    lower_user = np.full(k, -np.inf)
    if fut_in is not None:
        lower_user[:-1] = fut_in
    lower_alpha = lower_user if binding else np.full(k, -np.inf)

    beta_spent = None
    fut = fut_in
    theta = None
    if k == 1 and (t[0] == 1 or type_of_design not in ALPHA_SPENDING + ("asUser",)):
        crit = np.array([qnorm_upper(alpha / sided)])
    elif type_of_design in ("OF", "P", "WT"):
        delta = {"OF": 0.0, "P": 0.5}.get(type_of_design, delta_wt)
        crit = _wang_tsiatis(t, alpha, sided, delta, lower_alpha)
    elif type_of_design == "HP":
        crit = _haybittle_peto(t, alpha, sided, lower_alpha)
    else:
        if type_of_design == "asUser":
            cum_alpha = np.asarray(user_alpha, float)
        else:
            cum_alpha = spending(type_of_design, alpha, t, sided, gamma_a)
        crit = _spending_bounds(t, cum_alpha, sided, lower_alpha, clamp=clamp)
        if type_beta_spending is not None:
            cum_beta = spending(type_beta_spending, beta, t, 1, gamma_b)
            crit, full, theta = _beta_spending(t, cum_alpha, cum_beta, crit, binding)
            fut = full[:-1]
            beta_spent = np.cumsum(stage_probabilities(t, crit, full, theta=theta).lower)

    if check_overlap and fut_in is not None and np.any(np.asarray(fut_in) >= crit[:-1]):
        i = int(np.argmax(np.asarray(fut_in) >= crit[:-1]))
        raise DesignError(f"futility_bounds[{i}] = {fut_in[i]:g} is at or above the efficacy bound {crit[i]:.4f} of "
                          f"look {i + 1}: the futility and efficacy regions would overlap; allowed: a futility bound "
                          f"below the efficacy bound of its look (z < {crit[i]:.4f}), or -inf for none")
    lower_h0 = -crit if sided == 2 else (np.r_[fut, -np.inf] if (fut is not None and binding) else np.full(k, -np.inf))
    p0 = stage_probabilities(t, crit, lower_h0)
    alpha_spent = np.cumsum(p0.upper + (p0.lower if sided == 2 else 0.0))
    stage_levels = np.array([pnorm_upper(c) for c in crit])

    # characteristics: drift giving power 1 - beta (futility bounds in force, one-sided)
    if sided == 2:
        lower_char = -np.minimum(crit, 7.5)
    else:
        lower_char = np.r_[fut, -np.inf] if fut is not None else np.full(k, -np.inf)
    crit_char = np.minimum(crit, 7.5)

    def power_at(th: float):
        return stage_probabilities(t, crit_char, lower_char, theta=th)

    if not characteristics:
        nan = np.full(k, np.nan)
        return GroupSequentialDesign(
            k=k, alpha=alpha, sided=sided, beta=beta, type_of_design=type_of_design, information_rates=t,
            critical_values=crit, alpha_spent=alpha_spent, stage_levels=stage_levels,
            futility_bounds=None if fut is None else np.asarray(fut, dtype=float), beta_spent=beta_spent,
            power=nan, inflation_factor=math.nan, shift=math.nan, n_fixed=n_fixed, rejection_probabilities=nan,
            futility_probabilities=nan[:-1], expected_information_h0=math.nan, expected_information_h01=math.nan,
            expected_information_h1=math.nan, delta_wt=delta_wt, gamma_a=gamma_a,
            type_beta_spending=type_beta_spending, gamma_b=gamma_b, binding_futility=binding,
            user_futility_bounds=fut_in is not None,
        )
    if k == 1:
        shift = n_fixed
    elif theta is not None:
        shift = theta**2
    else:
        hi = 2 * (qnorm_upper(alpha / sided) + qnorm_upper(beta))
        th = root(lambda x: power_at(x).upper.sum() - (1 - beta), 0.0, hi, "the drift giving the design its power")
        shift = th**2
    th = math.sqrt(shift)
    p1 = power_at(th)
    power = np.cumsum(p1.upper)
    if k == 1:
        power = np.array([1 - beta])
    fut_prob = p1.lower[:-1] if sided == 1 else np.zeros(k - 1)

    def asn(drift: float) -> float:
        if k == 1:
            return 1.0
        p = stage_probabilities(t, crit_char, lower_char, theta=drift)
        return float((shift - np.sum(p.stop[:-1] * (t[-1] - t[:-1]) * shift)) / n_fixed)

    return GroupSequentialDesign(
        k=k,
        alpha=alpha,
        sided=int(sided),
        beta=beta,
        type_of_design=type_of_design,
        information_rates=t,
        critical_values=crit,
        alpha_spent=alpha_spent,
        stage_levels=stage_levels,
        futility_bounds=None if fut is None else np.asarray(fut, dtype=float),
        beta_spent=beta_spent,
        power=power,
        inflation_factor=shift / n_fixed,
        shift=shift,
        n_fixed=n_fixed,
        rejection_probabilities=np.diff(np.r_[0.0, power]),
        futility_probabilities=fut_prob,
        expected_information_h0=asn(0.0),
        expected_information_h01=asn(th / 2),
        expected_information_h1=asn(th),
        delta_wt=delta_wt,
        gamma_a=gamma_a,
        type_beta_spending=type_beta_spending,
        gamma_b=gamma_b,
        binding_futility=binding,
        user_futility_bounds=fut_in is not None,
    )
