"""Assessing randomization procedures: simulated patients, metrics of one sequence, exact
values by dynamic programming, simulated predictability and bias, and the exercise checks of
notebook 03.

Closed forms: Blackwell & Hodges 1957 (convergence strategy), Efron 1971, Soares & Wu 1983;
bias simulations after Proschan 1994 (selection bias) and Tamm & Hilgers 2014 (chronological
bias), as in randomizeR (Uschner et al. 2018, J Stat Softw 85(8)).
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_FACTOR_FREQUENCIES",
    "EXERCISE_CASE",
    "SELECTION_STRATEGIES",
    "bigstick_long_run",
    "block_correct_guesses_closed_form",
    "chronological_bias_type1",
    "correct_guess_proportion",
    "covariate_balance",
    "deterministic_fraction",
    "efron_long_run",
    "exact_summary",
    "expected_correct_guesses",
    "imbalance_metrics",
    "imbalance_path",
    "run_procedure",
    "selection_bias_type1",
    "simulate_correct_guesses",
    "simulate_patients",
    "simulate_trials",
    "tie_fraction",
]

import math
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

from ..errors import RandomizationError
from ..population import FACTOR_FREQUENCIES
from ..protocol import check_patient_factors
from ..validation import check_int, check_probability, check_real, check_rng
from ._common import _check_arm, as_factors
from .procedures import Assignment, MaximalProcedure, Procedure

# --------------------------------------------------------------------------------------------
# running procedures, patients
# --------------------------------------------------------------------------------------------

DEFAULT_FACTOR_FREQUENCIES: dict[str, dict[str, float]] = {
    # declared once, with sources, in trialnb.population; drawn independently
    factor: dict(levels) for factor, levels in FACTOR_FREQUENCIES.items()
}


def simulate_patients(
    n: int,
    rng: np.random.Generator,
    frequencies: Mapping[str, Mapping[str, float]] | None = None,
) -> list[dict[str, str]]:
    """``n`` patients whose factor levels are drawn independently with ``frequencies``.

    Default :data:`DEFAULT_FACTOR_FREQUENCIES` (:data:`trialnb.population.FACTOR_FREQUENCIES`). Draws one
    vectorised categorical sample per factor, in the mapping's order.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise RandomizationError(f"n must be a non-negative integer, got {n!r}")
    rng = check_rng(rng, error=RandomizationError)
    freqs = DEFAULT_FACTOR_FREQUENCIES if frequencies is None else frequencies
    cols: dict[str, np.ndarray] = {}
    for fname, lv in freqs.items():
        levels = list(lv)
        p = np.array([float(lv[x]) for x in levels])
        if np.any(p < 0) or not math.isclose(p.sum(), 1.0, abs_tol=1e-9):
            raise RandomizationError(f"frequencies[{fname!r}] must be non-negative and sum to 1, got {dict(lv)}")
        cols[fname] = np.array(levels, dtype=object)[rng.choice(len(levels), size=int(n), p=p / p.sum())]
    return [{f: str(cols[f][i]) for f in cols} for i in range(int(n))]


def run_procedure(
    procedure: Procedure, patients: Sequence[Mapping[str, Any]] | int, rng: np.random.Generator
) -> list[Assignment]:
    """Allocate ``patients`` in order (or ``n`` patients without factors if an int is given)."""
    rng = check_rng(rng, error=RandomizationError)
    if isinstance(patients, (int, np.integer)):  # a count (check_int refuses a bool)
        n = check_int(patients, "patients (a number of patients, or a list of them)", error=RandomizationError)
        return [procedure.assign(None, rng) for _ in range(n)]
    return [procedure.assign(p, rng) for p in patients]


# --------------------------------------------------------------------------------------------
# metrics for one finished sequence
# --------------------------------------------------------------------------------------------


def _deltas(arms: Sequence[str] | Iterable[Assignment]) -> np.ndarray:
    out = []
    for a in arms:
        arm = a.arm if isinstance(a, Assignment) else a
        out.append(1 if _check_arm(arm) == "A" else 0)
    return np.asarray(out, dtype=int)


def imbalance_path(arms: Sequence[str] | Iterable[Assignment]) -> np.ndarray:
    """D_1, ..., D_n (D_i = N_A(i) - N_B(i))."""
    d = _deltas(arms)
    return np.cumsum(2 * d - 1)


def imbalance_metrics(arms: Sequence[str] | Iterable[Assignment]) -> dict[str, float]:
    """Final D_n, |D_n|, max_i |D_i|, loss D_n^2 / n and RMS of the path sqrt(mean_i D_i^2)."""
    path = imbalance_path(arms)
    if path.size == 0:
        raise RandomizationError("arms must contain at least one allocation")
    n = path.size
    return {
        "n": int(n),
        "final": int(path[-1]),
        "abs_final": int(abs(path[-1])),
        "max_abs": int(np.max(np.abs(path))),
        "loss": float(path[-1] ** 2 / n),
        "rms": float(np.sqrt(np.mean(path.astype(float) ** 2))),
    }


def correct_guess_proportion(arms: Sequence[str] | Iterable[Assignment]) -> float:
    """Proportion of correct guesses under the convergence strategy (Blackwell & Hodges 1957).

    Before each allocation the observer guesses the arm allocated less often so far; a tie
    scores 1/2.
    """
    d = _deltas(arms)
    if d.size == 0:
        raise RandomizationError("arms must contain at least one allocation")
    before = np.concatenate([[0], np.cumsum(2 * d - 1)[:-1]])
    score = np.where(before == 0, 0.5, np.where(before < 0, d == 1, d == 0).astype(float))
    return float(score.mean())


def deterministic_fraction(assignments: Sequence[Assignment]) -> float:
    """Fraction of allocations where one arm had probability 1 (forced)."""
    if not assignments:
        raise RandomizationError("assignments must not be empty")
    return float(np.mean([a.deterministic for a in assignments]))


def tie_fraction(assignments: Sequence[Assignment]) -> float:
    """tau: fraction of minimization allocations made on tied scores G_A = G_B."""
    if not assignments:
        raise RandomizationError("assignments must not be empty")
    return float(np.mean([a.tie for a in assignments]))


def covariate_balance(
    patients: Sequence[Mapping[str, Any]],
    arms: Sequence[str] | Iterable[Assignment],
    factors: Any = None,
) -> "pd.DataFrame":
    """Arm counts and D = n_A - n_B overall, within each stratum and within each margin.

    Columns: scope ("overall", "stratum", "margin"), group, n_A, n_B, D, abs_D.
    """
    import pandas as pd

    fs = as_factors(factors)
    d = _deltas(arms)
    if len(patients) != d.size:
        raise RandomizationError(f"patients and arms must have the same length, got {len(patients)} and {d.size}")
    levels = [check_patient_factors(p, fs) for p in patients]
    rows = []

    def add(scope: str, group: str, mask: np.ndarray) -> None:
        na = int(np.sum(d[mask] == 1))
        nb = int(np.sum(d[mask] == 0))
        rows.append({"scope": scope, "group": group, "n_A": na, "n_B": nb, "D": na - nb, "abs_D": abs(na - nb)})

    add("overall", "all", np.ones(d.size, bool))
    from ..protocol import strata as _strata

    keys = np.array(["/".join(lv[f.name] for f in fs) for lv in levels], dtype=object)
    for combo in _strata(fs):
        add("stratum", "/".join(combo), keys == "/".join(combo))
    for f in fs:
        col = np.array([lv[f.name] for lv in levels], dtype=object)
        for lvl in f.levels:
            add("margin", f"{f.name}={lvl}", col == lvl)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# exact values
# --------------------------------------------------------------------------------------------


def exact_summary(procedure_factory: Callable[[], Procedure], n: int) -> dict[str, Any]:
    """EXACT summary of the first n allocations by dynamic programming over the procedure state.

    The distribution of the procedure's finite state (imbalance D; plus the position in the
    current block for permuted blocks; plus the step for the maximal procedure) is propagated
    one allocation at a time. Returns

    * ``correct_guess``: expected proportion of correct convergence-strategy guesses, the
      mean over steps of sum_state P(state) * (1/2 if D = 0, else P(arm allocated less often));
    * ``deterministic``: expected fraction of forced allocations (P(A) in {0, 1});
    * ``imbalance_distribution``: ``{d: P(D_n = d)}``;
    * ``expected_abs_imbalance``: E|D_n|.

    Works for :class:`CompleteRandomization`, :class:`PermutedBlock` (fixed and random
    sizes), :class:`EfronBiasedCoin`, :class:`BigStick` and :class:`MaximalProcedure`.
    """
    if not callable(procedure_factory):
        raise RandomizationError("procedure_factory must be a zero-argument callable returning a fresh procedure")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise RandomizationError(f"n must be an integer >= 1, got {n!r}")
    n = int(n)
    proc = procedure_factory()
    if not isinstance(proc, Procedure):
        raise RandomizationError(f"procedure_factory must return a Procedure, got {type(proc).__name__}")
    if proc.uses_factors:
        raise RandomizationError(
            f"{proc.name} depends on the patients' covariates; no exact value — use simulate_correct_guesses"
        )
    if proc.n:
        raise RandomizationError("procedure_factory must return a fresh procedure (no allocations yet)")
    if isinstance(proc, MaximalProcedure) and n > proc.total:
        raise RandomizationError(f"n must be <= the maximal procedure's n = {proc.total}, got {n}")
    try:
        proc._state_key()
    except NotImplementedError as exc:
        raise RandomizationError(str(exc)) from None
    correct = 0.0
    forced = 0.0
    if hasattr(proc, "_p_a_of_d"):
        # Markov chain over D alone: vectorised over all reachable imbalances -n..n
        d = np.arange(-n, n + 1)
        w = np.zeros(d.size)
        w[n] = 1.0
        for _ in range(n):
            pa = proc._p_a_of_d(d)
            correct += float(np.sum(w * np.where(d == 0, 0.5, np.where(d < 0, pa, 1.0 - pa))))
            forced += float(np.sum(w * ((pa == 0.0) | (pa == 1.0))))
            nw = np.zeros_like(w)
            nw[1:] += (w * pa)[:-1]
            nw[:-1] += (w * (1.0 - pa))[1:]
            w = nw
        dist = {int(k): float(v) for k, v in zip(d, w, strict=True) if v > 0}
    else:
        states: dict[Any, tuple[float, Procedure]] = {proc._state_key(): (1.0, proc)}
        for _ in range(n):
            new: dict[Any, tuple[float, Procedure]] = {}
            for wt, pr in states.values():
                p_a = pr._p_a(None)
                dd = pr.imbalance
                correct += wt * (0.5 if dd == 0 else (p_a if dd < 0 else 1.0 - p_a))
                forced += wt * (p_a in (0.0, 1.0))
                for q, nxt in pr._branches():
                    k = nxt._state_key()
                    if k in new:
                        new[k] = (new[k][0] + wt * q, new[k][1])
                    else:
                        new[k] = (wt * q, nxt)
            states = new
        dist = {}
        for wt, pr in states.values():
            dist[pr.imbalance] = dist.get(pr.imbalance, 0.0) + wt
    dist = dict(sorted(dist.items()))
    return {
        "n": n,
        "correct_guess": correct / n,
        "deterministic": forced / n,
        "imbalance_distribution": dist,
        "expected_abs_imbalance": float(sum(abs(k) * v for k, v in dist.items())),
    }


def expected_correct_guesses(procedure_factory: Callable[[], Procedure], n: int) -> float:
    """EXACT expected proportion of correct convergence-strategy guesses over the first n allocations.

    ``procedure_factory`` is a zero-argument callable returning a fresh procedure, e.g.
    ``lambda: EfronBiasedCoin(p=2/3)``. Computed by :func:`exact_summary` (a Markov chain over
    the imbalance, or dynamic programming over the procedure state).
    """
    return float(exact_summary(procedure_factory, n)["correct_guess"])


def block_correct_guesses_closed_form(block_size: int) -> float:
    """E_m = m + 2^(2m-1) / C(2m, m) - 1/2: expected correct guesses in one block of 2m."""
    if (isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer))
            or block_size < 2 or block_size % 2):
        raise RandomizationError(f"block_size must be an even integer >= 2, got {block_size!r}")
    m = int(block_size) // 2
    return m + 2 ** (2 * m - 1) / math.comb(2 * m, m) - 0.5


def efron_long_run(p: float = 2 / 3) -> float:
    """Long-run correct-guess proportion of Efron's coin: (4p - 1) / (4p)."""
    p = check_real(p, "p", lo=0.5, hi=1.0, error=RandomizationError)
    return (4 * p - 1) / (4 * p)


def bigstick_long_run(max_imbalance: int = 3) -> float:
    """Long-run correct-guess proportion of the big stick design: 1/2 + 1/(4b)."""
    if isinstance(max_imbalance, bool) or not isinstance(max_imbalance, (int, np.integer)) or max_imbalance < 1:
        raise RandomizationError(f"max_imbalance must be an integer >= 1, got {max_imbalance!r}")
    return 0.5 + 1 / (4 * int(max_imbalance))


# --------------------------------------------------------------------------------------------
# simulations
# --------------------------------------------------------------------------------------------


def _simulate_deltas(
    procedure_factory: Callable[[], Procedure],
    n: int,
    n_sim: int,
    rng: np.random.Generator,
    frequencies: Mapping[str, Mapping[str, float]] | None = None,
) -> tuple[np.ndarray, list[list[dict[str, str]] | None], list[list[Assignment]]]:
    """(n_sim, n) 0/1 matrix of A allocations; patients from one stream, uniforms from another."""
    rng_pat, rng_alloc = rng.spawn(2)
    out = np.zeros((n_sim, n), dtype=int)
    pats_all: list[list[dict[str, str]] | None] = []
    assigns_all: list[list[Assignment]] = []
    for s in range(n_sim):
        proc = procedure_factory()
        pats = simulate_patients(n, rng_pat, frequencies) if proc.uses_factors else None
        asg = run_procedure(proc, pats if pats is not None else n, rng_alloc)
        out[s] = [1 if a.arm == "A" else 0 for a in asg]
        pats_all.append(pats)
        assigns_all.append(asg)
    return out, pats_all, assigns_all


def simulate_correct_guesses(
    procedure_factory: Callable[[], Procedure], n: int, n_sim: int, rng: np.random.Generator,
    frequencies: Mapping[str, Mapping[str, float]] | None = None,
) -> tuple[float, float]:
    """Simulated counterpart of :func:`expected_correct_guesses`: (mean proportion, its SE)."""
    n, n_sim = check_int(n, "n", minimum=1, error=RandomizationError), check_int(n_sim, "n_sim", minimum=2,
                                                                                 error=RandomizationError)
    rng = check_rng(rng, error=RandomizationError)
    deltas, _, _ = _simulate_deltas(procedure_factory, n, n_sim, rng, frequencies)
    props = np.array([correct_guess_proportion(["A" if x else "B" for x in row]) for row in deltas])
    return float(props.mean()), float(props.std(ddof=1) / math.sqrt(n_sim))


def simulate_trials(
    procedure_factory: Callable[[], Procedure],
    n: int,
    n_sim: int,
    rng: np.random.Generator,
    frequencies: Mapping[str, Mapping[str, float]] | None = None,
    factors: Any = None,
) -> "pd.DataFrame":
    """Per simulated trial: imbalance metrics, worst stratum and worst margin |D|, predictability.

    Columns: abs_final, max_abs, loss, rms, max_abs_stratum, max_abs_margin, correct_guess,
    deterministic, tie. Patients are drawn with ``frequencies`` from a stream independent of
    the allocation uniforms.
    """
    import pandas as pd

    n, n_sim = check_int(n, "n", minimum=1, error=RandomizationError), check_int(n_sim, "n_sim", minimum=1,
                                                                                 error=RandomizationError)
    rng = check_rng(rng, error=RandomizationError)
    fs = as_factors(factors)
    rng_pat, rng_alloc = rng.spawn(2)
    rows = []
    for _ in range(n_sim):
        proc = procedure_factory()
        pats = simulate_patients(n, rng_pat, frequencies)
        asg = run_procedure(proc, pats if proc.uses_factors else n, rng_alloc)
        im = imbalance_metrics(asg)
        cb = covariate_balance(pats, asg, fs)
        rows.append(
            {
                "abs_final": im["abs_final"],
                "max_abs": im["max_abs"],
                "loss": im["loss"],
                "rms": im["rms"],
                "max_abs_stratum": int(cb.loc[cb.scope == "stratum", "abs_D"].max()),
                "max_abs_margin": int(cb.loc[cb.scope == "margin", "abs_D"].max()),
                "correct_guess": correct_guess_proportion(asg),
                "deterministic": deterministic_fraction(asg),
                "tie": tie_fraction(asg),
            }
        )
    return pd.DataFrame(rows)


def _ttest_reject(y: np.ndarray, deltas: np.ndarray, alpha: float) -> np.ndarray:
    """Row-wise pooled two-sample t-test of A vs B; True where p < alpha (NaN rows: False)."""
    from scipy.special import stdtr  # Student t CDF (lighter import than scipy.stats)

    na = deltas.sum(axis=1)
    nb = deltas.shape[1] - na
    ok = (na >= 2) & (nb >= 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma = (y * deltas).sum(axis=1) / na
        mb = (y * (1 - deltas)).sum(axis=1) / nb
        ssa = (((y - ma[:, None]) ** 2) * deltas).sum(axis=1)
        ssb = (((y - mb[:, None]) ** 2) * (1 - deltas)).sum(axis=1)
        df = na + nb - 2
        sp2 = (ssa + ssb) / df
        t = (ma - mb) / np.sqrt(sp2 * (1 / na + 1 / nb))
        p = 2 * stdtr(df, -np.abs(t))
    return ok & (p < alpha)


SELECTION_STRATEGIES: tuple[str, ...] = ("convergence", "favoured")


def selection_bias_type1(
    procedure_factory: Callable[[], Procedure],
    n: int,
    eta: float,
    n_sim: int,
    rng: np.random.Generator,
    alpha: float = 0.05,
    frequencies: Mapping[str, Mapping[str, float]] | None = None,
    strategy: str | Sequence[str] = "convergence",
) -> float | dict[str, float]:
    """Type-I error of the two-sample t-test under Blackwell-Hodges selection bias (Proschan 1994).

    No treatment effect; the response is N(0, 1) shifted by +eta when the investigator
    expects A, -eta when B is expected, 0 when no arm is expected. ``strategy``:

    * "convergence": expect the arm allocated less often overall so far (ties: none);
    * "favoured": an investigator who knows the procedure's whole state (e.g. the counts in
      the patient's stratum, or the minimization table) expects the arm with P > 1/2.

    A sequence of strategies returns ``{strategy: type-I error}`` computed on the same
    simulated allocations and the same response noise.
    """
    n, n_sim = check_int(n, "n", minimum=4, error=RandomizationError), check_int(n_sim, "n_sim", minimum=1,
                                                                                 error=RandomizationError)
    rng = check_rng(rng, error=RandomizationError)
    eta = float(eta)
    alpha = check_probability(alpha, "alpha", lo_open=True, hi_open=False, error=RandomizationError)
    strategies = [strategy] if isinstance(strategy, str) else list(strategy)
    bad = [x for x in strategies if x not in SELECTION_STRATEGIES]
    if bad or not strategies:
        raise RandomizationError(f"strategy must be one of {', '.join(SELECTION_STRATEGIES)} (or a sequence of them), "
                                 f"got {strategy!r}")
    rng_sim, rng_y = rng.spawn(2)
    deltas, _, assigns = _simulate_deltas(procedure_factory, n, n_sim, rng_sim, frequencies)
    noise = rng_y.standard_normal((n_sim, n))
    out: dict[str, float] = {}
    for strat in strategies:
        if strat == "convergence":
            before = np.concatenate([np.zeros((n_sim, 1), int), np.cumsum(2 * deltas - 1, axis=1)[:, :-1]], axis=1)
            expect = np.sign(-before)
        else:
            pa = np.array([[a.probabilities["A"] for a in row] for row in assigns])
            expect = np.sign(pa - 0.5)
        out[strat] = float(_ttest_reject(eta * expect + noise, deltas, alpha).mean())
    return out[strategy] if isinstance(strategy, str) else out


def chronological_bias_type1(
    procedure_factory: Callable[[], Procedure],
    n: int,
    theta: float,
    n_sim: int,
    rng: np.random.Generator,
    trend: str = "linear",
    alpha: float = 0.05,
    frequencies: Mapping[str, Mapping[str, float]] | None = None,
) -> float:
    """Type-I error of the t-test when a time trend theta * f(i) is added to N(0, 1) responses.

    ``trend``: "linear" f(i) = i/n, "log" f(i) = log(i)/log(n), "step" f(i) = 1 for i > n/2.
    """
    n, n_sim = check_int(n, "n", minimum=4, error=RandomizationError), check_int(n_sim, "n_sim", minimum=1,
                                                                                 error=RandomizationError)
    rng = check_rng(rng, error=RandomizationError)
    alpha = check_probability(alpha, "alpha", lo_open=True, hi_open=False, error=RandomizationError)
    i = np.arange(1, n + 1, dtype=float)
    if trend == "linear":
        f = i / n
    elif trend == "log":
        f = np.log(i) / np.log(n)
    elif trend == "step":
        f = (i > n / 2).astype(float)
    else:
        raise RandomizationError(f"trend must be one of linear, log, step, got {trend!r}")
    rng_sim, rng_y = rng.spawn(2)
    deltas, _, _ = _simulate_deltas(procedure_factory, n, n_sim, rng_sim, frequencies)
    y = float(theta) * f[None, :] + rng_y.standard_normal((n_sim, n))
    return float(_ttest_reject(y, deltas, alpha).mean())


# --------------------------------------------------------------------------------------------
# exercise self-checks (notebook 03)
# --------------------------------------------------------------------------------------------

EXERCISE_CASE: dict[str, Any] = {
    # counts (A, B) already allocated at the newcomer's levels
    "counts": {"dominant_site": (1, 4), "hormone_receptor": (4, 3), "her2": (5, 4)},
    "patient": {"dominant_site": "bone", "hormone_receptor": "positive", "her2": "negative"},
}
