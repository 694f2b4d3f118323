"""trialnb.randomization: exact values against closed forms and independent brute force,
minimization semantics, reproducibility, metrics (the allocation log: test_allocation_log.py)."""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialnb.protocol import FACTORS
from trialnb.errors import PatientRecordError
from trialnb.randomization import (
    AllocationLog,
    BigStick,
    CompleteRandomization,
    EfronBiasedCoin,
    MaximalProcedure,
    PermutedBlock,
    PocockSimon,
    StratifiedPermutedBlock,
    bigstick_long_run,
    block_correct_guesses_closed_form,
    chronological_bias_type1,
    correct_guess_proportion,
    covariate_balance,
    efron_long_run,
    exact_summary,
    expected_correct_guesses,
    imbalance_metrics,
    imbalance_path,
    minimization_scores,
    run_procedure,
    selection_bias_type1,
    simulate_correct_guesses,
    simulate_patients,
    simulate_trials,
)

PAT = {"dominant_site": "bone", "hormone_receptor": "positive", "her2": "negative"}


# ------------------------------------------------------------------------------------------
# independent brute force: all sequences with their probabilities (exact fractions)
# ------------------------------------------------------------------------------------------


def _guess_score(seq: tuple[int, ...]) -> Fraction:
    """Correct convergence guesses in a 0/1 sequence (1 = A), ties score 1/2."""
    d, score = 0, Fraction(0)
    for x in seq:
        if d == 0:
            score += Fraction(1, 2)
        elif (d < 0 and x == 1) or (d > 0 and x == 0):
            score += 1
        d += 1 if x else -1
    return score


def _brute_force(phi, n: int) -> tuple[Fraction, dict[int, Fraction]]:
    """Expected correct-guess proportion and law of D_n, phi(history) = P(A | history)."""
    exp_score, dist = Fraction(0), {}
    for seq in itertools.product((0, 1), repeat=n):
        prob = Fraction(1)
        for i, x in enumerate(seq):
            pa = phi(seq[:i])
            prob *= pa if x else 1 - pa
            if prob == 0:
                break
        if prob == 0:
            continue
        exp_score += prob * _guess_score(seq)
        d = 2 * sum(seq) - n
        dist[d] = dist.get(d, Fraction(0)) + prob
    return exp_score / n, dist


def _D(h) -> int:
    return 2 * sum(h) - len(h)


def phi_complete(h):
    return Fraction(1, 2)


def phi_efron(p):
    def f(h):
        d = _D(h)
        return Fraction(1, 2) if d == 0 else (p if d < 0 else 1 - p)

    return f


def phi_bigstick(b):
    def f(h):
        d = _D(h)
        return Fraction(0) if d >= b else Fraction(1) if d <= -b else Fraction(1, 2)

    return f


def phi_block(size):
    def f(h):
        k = len(h) % size
        a = sum(h[len(h) - k :])
        return Fraction(size // 2 - a, size - k)

    return f


def brute_maximal(n: int, b: int) -> Fraction:
    ok = [
        s
        for s in itertools.product((0, 1), repeat=n)
        if all(abs(2 * sum(s[:i]) - i) <= b for i in range(1, n + 1)) and sum(s) * 2 == n
    ]
    return sum((_guess_score(s) for s in ok), Fraction(0)) / len(ok) / n, len(ok)


def brute_random_blocks(sizes, weights, n: int) -> Fraction:
    """Enumerate block-size sequences and, within each block, all balanced arrangements."""
    total = Fraction(0)

    def rec(prefix_prob, seqs_so_far_len, size_seq):
        nonlocal total
        if seqs_so_far_len >= n:
            # all arrangements of each block, equally likely within the block
            per_block = []
            for s in size_seq:
                arr = [c for c in itertools.product((0, 1), repeat=s) if sum(c) == s // 2]
                per_block.append(arr)
            combos = list(itertools.product(*per_block))
            for c in combos:
                seq = tuple(x for blk in c for x in blk)[:n]
                total += prefix_prob / len(combos) * _guess_score(seq)
            return
        for s, w in zip(sizes, weights, strict=True):
            rec(prefix_prob * w, seqs_so_far_len + s, size_seq + [s])

    rec(Fraction(1), 0, [])
    return total / n


@pytest.mark.parametrize(
    "factory,phi",
    [
        (lambda: CompleteRandomization(), phi_complete),
        (lambda: EfronBiasedCoin(p=2 / 3), phi_efron(Fraction(2, 3))),
        (lambda: EfronBiasedCoin(p=0.75), phi_efron(Fraction(3, 4))),
        (lambda: BigStick(max_imbalance=2), phi_bigstick(2)),
        (lambda: BigStick(max_imbalance=3), phi_bigstick(3)),
        (lambda: PermutedBlock((4,)), phi_block(4)),
        (lambda: PermutedBlock((6,)), phi_block(6)),
    ],
)
@pytest.mark.parametrize("n", [1, 5, 10])
def test_exact_matches_brute_force_enumeration(factory, phi, n):
    want, dist = _brute_force(phi, n)
    got = exact_summary(factory, n)
    assert got["correct_guess"] == pytest.approx(float(want), abs=1e-12)
    assert expected_correct_guesses(factory, n) == pytest.approx(float(want), abs=1e-12)
    assert set(got["imbalance_distribution"]) == set(dist)
    for d, pr in dist.items():
        assert got["imbalance_distribution"][d] == pytest.approx(float(pr), abs=1e-12)


@pytest.mark.parametrize("n,b", [(6, 1), (8, 2), (10, 3), (12, 2)])
def test_maximal_procedure_exact_vs_enumeration(n, b):
    want, count = brute_maximal(n, b)
    assert MaximalProcedure(n, b).n_sequences == count
    assert expected_correct_guesses(lambda: MaximalProcedure(n, b), n) == pytest.approx(float(want), abs=1e-12)


def test_maximal_procedure_sequences_equally_likely():
    """Every admissible sequence has probability 1 / (number of admissible sequences)."""
    n, b = 8, 2
    proc0 = MaximalProcedure(n, b)
    for seq in itertools.product("AB", repeat=n):
        proc, prob = MaximalProcedure(n, b), 1.0
        for arm in seq:
            prob *= proc.probabilities()[arm]
            if prob == 0:
                break
            proc.record(None, arm)
        if prob:
            assert prob == pytest.approx(1 / proc0.n_sequences, rel=1e-12)


@pytest.mark.parametrize(
    "sizes,weights,n", [((2, 4), (Fraction(1, 2), Fraction(1, 2)), 8), ((2, 4), (Fraction(1, 4), Fraction(3, 4)), 7)]
)
def test_random_block_sizes_exact_vs_enumeration(sizes, weights, n):
    want = brute_random_blocks(sizes, weights, n)
    got = expected_correct_guesses(lambda: PermutedBlock(sizes, [float(w) for w in weights]), n)
    assert got == pytest.approx(float(want), abs=1e-12)


# ------------------------------------------------------------------------------------------
# closed forms (Blackwell & Hodges 1957; Efron 1971; Soares & Wu 1983; see trialnb.randomization)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("m", [1, 2, 3, 4, 5])
def test_block_formula_and_forced_fraction(m):
    size = 2 * m
    e_m = m + 2 ** (2 * m - 1) / math.comb(2 * m, m) - 0.5
    assert block_correct_guesses_closed_form(size) == pytest.approx(e_m, rel=1e-14)
    res = exact_summary(lambda: PermutedBlock((size,)), 3 * size)
    assert res["correct_guess"] * 3 * size == pytest.approx(3 * e_m, rel=1e-12)
    assert res["deterministic"] == pytest.approx(1 / (m + 1), rel=1e-12)
    assert res["imbalance_distribution"] == {0: pytest.approx(1.0)}


def test_block_formula_known_value():
    # blocks of 4: E_2 = 2 + 8/6 - 1/2 = 17/6 correct guesses per block
    assert block_correct_guesses_closed_form(4) == pytest.approx(17 / 6)


def test_random_block_long_run():
    sizes, w = (2, 4, 6), (0.2, 0.5, 0.3)
    limit = sum(wi * block_correct_guesses_closed_form(s) for s, wi in zip(sizes, w, strict=True)) / sum(
        wi * s for s, wi in zip(sizes, w, strict=True)
    )
    n = 600
    got = expected_correct_guesses(lambda: PermutedBlock(sizes, w), n)
    assert abs(got - limit) < 3 / n  # renewal-reward: O(1/n) boundary effect


@pytest.mark.parametrize("p", [0.6, 2 / 3, 0.75, 0.9])
def test_efron_long_run(p):
    assert efron_long_run(p) == pytest.approx((4 * p - 1) / (4 * p))
    n = 400
    e1 = expected_correct_guesses(lambda: EfronBiasedCoin(p), n)
    e2 = expected_correct_guesses(lambda: EfronBiasedCoin(p), 2 * n)
    # proportion over allocations n+1..2n is already at the stationary value
    assert (2 * n * e2 - n * e1) / n == pytest.approx((4 * p - 1) / (4 * p), abs=1e-7)


@pytest.mark.parametrize("b", [1, 2, 3, 5])
def test_bigstick_long_run(b):
    assert bigstick_long_run(b) == pytest.approx(0.5 + 1 / (4 * b))
    n = 400
    e1 = expected_correct_guesses(lambda: BigStick(b), n)
    e2 = expected_correct_guesses(lambda: BigStick(b), 2 * n)
    assert (2 * n * e2 - n * e1) / n == pytest.approx(0.5 + 1 / (4 * b), abs=1e-6)


@pytest.mark.parametrize("n", [2, 10, 50, 236])
def test_complete_randomization_closed_forms(n):
    res = exact_summary(lambda: CompleteRandomization(), n)
    assert res["expected_abs_imbalance"] == pytest.approx(n * math.comb(n, n // 2) / 2**n, rel=1e-10)
    assert res["imbalance_distribution"][0] == pytest.approx(math.comb(n, n // 2) / 2**n, rel=1e-10)
    assert res["correct_guess"] == pytest.approx(0.5, abs=1e-12)
    assert res["deterministic"] == 0


def test_simulated_counterparts_agree_with_exact():
    rng = np.random.default_rng(11)
    for factory in (lambda: EfronBiasedCoin(), lambda: PermutedBlock((4,)), lambda: BigStick(2)):
        mean, se = simulate_correct_guesses(factory, 40, 400, rng)
        exact = expected_correct_guesses(factory, 40)
        assert abs(mean - exact) < 4 * se + 1e-9


# ------------------------------------------------------------------------------------------
# minimization
# ------------------------------------------------------------------------------------------


def _ps_with_counts(counts, **kw) -> PocockSimon:
    """A PocockSimon whose counts at PAT's levels are ``counts[factor] = (n_A, n_B)``."""
    ps = PocockSimon(**kw)
    for f, (a, b) in counts.items():
        ps.counts[f][PAT[f]] = [a, b]
    return ps


# site: A ahead by 3; HR: B ahead by 1; HER2: B ahead by 1
DISAGREE = {"dominant_site": (5, 2), "hormone_receptor": (3, 4), "her2": (2, 3)}


def test_range_and_variance_disagree_on_constructed_case():
    rng = _ps_with_counts(DISAGREE, imbalance="range")
    var = _ps_with_counts(DISAGREE, imbalance="variance")
    # range: G_A = 4 + 0 + 0 = 4, G_B = 2 + 2 + 2 = 6 -> A favoured
    t = rng.table(PAT)
    assert [r["d_if_A"] for r in t] == [4, 0, 0, 4]
    assert [r["d_if_B"] for r in t] == [2, 2, 2, 6]
    assert rng.probabilities(PAT) == pytest.approx({"A": 0.8, "B": 0.2})
    # variance (ddof=1, two arms: diff^2 / 2): G_A = 8 + 0 + 0 = 8, G_B = 2 + 2 + 2 = 6 -> B
    t = var.table(PAT)
    assert t[-1]["d_if_A"] == pytest.approx(8) and t[-1]["d_if_B"] == pytest.approx(6)
    assert var.probabilities(PAT) == pytest.approx({"A": 0.2, "B": 0.8})
    # sd agrees with range, taves with variance
    assert _ps_with_counts(DISAGREE, imbalance="sd").probabilities(PAT)["A"] == pytest.approx(0.8)
    assert _ps_with_counts(DISAGREE, imbalance="taves").probabilities(PAT)["A"] == pytest.approx(0.2)


counts_st = st.tuples(st.integers(0, 30), st.integers(0, 30))


def _choice(scores):
    ga, gb = scores["A"], scores["B"]
    if math.isclose(ga, gb, rel_tol=1e-9, abs_tol=1e-9):
        return "tie"
    return "A" if ga < gb else "B"


@settings(max_examples=300, deadline=None)
@given(
    c=st.lists(counts_st, min_size=3, max_size=3),
    w=st.lists(st.sampled_from([1.0, 2.0, 0.5, 3.0]), min_size=3, max_size=3),
)
def test_range_sd_always_agree_and_variance_taves_always_agree(c, w):
    counts = {f.name: {lv: [0, 0] for lv in f.levels} for f in FACTORS}
    for f, ab in zip(FACTORS, c, strict=True):
        counts[f.name][PAT[f.name]] = list(ab)
    weights = {f.name: wi for f, wi in zip(FACTORS, w, strict=True)}
    ch = {m: _choice(minimization_scores(counts, PAT, m, weights)[0]) for m in ("range", "sd", "variance", "taves")}
    assert ch["range"] == ch["sd"]
    assert ch["variance"] == ch["taves"]


def test_sd_keeps_range_ties():
    # range tie: G_A = G_B = 3 with integer scores; sd scores are irrational multiples
    counts = {"dominant_site": (1, 1), "hormone_receptor": (2, 0), "her2": (0, 2)}
    r = _ps_with_counts(counts, imbalance="range")
    s = _ps_with_counts(counts, imbalance="sd")
    assert r.probabilities(PAT) == {"A": 0.5, "B": 0.5}
    assert s.probabilities(PAT) == {"A": 0.5, "B": 0.5}
    a = s.assign(PAT, np.random.default_rng(0))
    assert a.tie


def test_tie_rules_and_random_element():
    assert PocockSimon(tie_rule="A").probabilities(PAT) == pytest.approx({"A": 0.8, "B": 0.2})
    assert PocockSimon(tie_rule="B", p=0.75).probabilities(PAT) == pytest.approx({"A": 0.25, "B": 0.75})
    ps = PocockSimon(tie_rule="overall")
    assert ps.probabilities(PAT) == {"A": 0.5, "B": 0.5}
    ps.record({"dominant_site": "visceral", "hormone_receptor": "negative", "her2": "positive"}, "A")
    # PAT's levels are untouched (tie on G) but overall A leads -> B gets p
    assert ps.probabilities(PAT) == pytest.approx({"A": 0.2, "B": 0.8})
    # random element r: the minimizing arm gets (1 - r) p + r / 2, not 1 - r
    re = _ps_with_counts(DISAGREE, p=1.0, random_element=0.2)
    assert re.effective_p == pytest.approx(0.9)
    assert re.probabilities(PAT)["A"] == pytest.approx(0.9)
    assert "effective p = 0.9" in re.assign(PAT, np.random.default_rng(1)).explanation


def test_weights_change_the_choice():
    # unweighted range favours A (see DISAGREE); weighting HR and HER2 by 3 flips it:
    # G_A = 4 + 0 + 0 = 4, G_B = 2 + 6 + 6 = 14 -> still A; weight site 0.1 instead:
    ps = _ps_with_counts(DISAGREE, weights={"dominant_site": 0.1, "hormone_receptor": 1, "her2": 1})
    # G_A = 0.4, G_B = 0.2 + 2 + 2 = 4.2 -> A
    assert ps.probabilities(PAT)["A"] == pytest.approx(0.8)
    ps = _ps_with_counts(DISAGREE, imbalance="variance", weights=[3, 1, 1])
    # G_A = 24, G_B = 6 + 2 + 2 = 10 -> B
    assert ps.probabilities(PAT)["A"] == pytest.approx(0.2)


def test_minimization_generic_factors_and_taves_p1():
    ps = PocockSimon(factors={"centre": ["x", "y"], "sex": ["f", "m"]}, p=1.0, imbalance="range")
    rng = np.random.default_rng(3)
    a1 = ps.assign({"centre": "x", "sex": "f"}, rng)
    a2 = ps.assign({"centre": "x", "sex": "f"}, rng)
    assert a1.tie and not a2.tie and a2.deterministic and a2.arm != a1.arm
    with pytest.raises(PatientRecordError, match="sex: missing"):
        ps.assign({"centre": "x"}, rng)


def test_minimization_balances_margins_better_than_complete():
    rng = np.random.default_rng(5)
    ps = simulate_trials(lambda: PocockSimon(), 120, 20, rng)
    cr = simulate_trials(lambda: CompleteRandomization(), 120, 20, rng)
    assert ps["max_abs_margin"].mean() < cr["max_abs_margin"].mean()
    assert ps["max_abs_margin"].max() <= 6
    assert 0 < ps["tie"].mean() < 1 and cr["tie"].mean() == 0


def test_minimization_guess_formula():
    """Knowing counts and factors, the observer is right with prob 1/2 + (p - 1/2)(1 - tau)."""
    rng = np.random.default_rng(8)
    pats = simulate_patients(236, rng)
    ps = PocockSimon(p=0.8)
    right = []
    for p in pats:
        probs = ps.probabilities(p)
        right.append(max(probs.values()))  # guess the favoured arm: right with its probability
        ps.assign(p, rng)
    taus = [r == 0.5 for r in right]
    tau = np.mean(taus)
    assert np.mean(right) == pytest.approx(0.5 + (0.8 - 0.5) * (1 - tau), abs=1e-12)


# ------------------------------------------------------------------------------------------
# interface, reproducibility, errors
# ------------------------------------------------------------------------------------------

ALL_FACTORIES = [
    lambda: CompleteRandomization(),
    lambda: PermutedBlock((4,)),
    lambda: PermutedBlock((2, 4, 6), (0.2, 0.5, 0.3)),
    lambda: StratifiedPermutedBlock(),
    lambda: StratifiedPermutedBlock(block_sizes=(2, 4)),
    lambda: EfronBiasedCoin(),
    lambda: BigStick(3),
    lambda: MaximalProcedure(40, 3),
    lambda: PocockSimon(),
    lambda: PocockSimon(imbalance="variance", random_element=0.1),
]


@pytest.mark.parametrize("factory", ALL_FACTORIES)
def test_same_seed_same_allocations_and_one_uniform_per_call(factory):
    pats = simulate_patients(40, np.random.default_rng(1))
    runs = []
    for _ in range(2):
        rng = np.random.default_rng(2026)
        runs.append([a.arm for a in run_procedure(factory(), pats, rng)])
        # exactly one uniform per assign: the generator is now 40 draws ahead
        ref = np.random.default_rng(2026)
        ref.random(40)
        assert rng.random() == ref.random()
    assert runs[0] == runs[1]


@pytest.mark.parametrize("factory", ALL_FACTORIES)
def test_arm_is_a_iff_uniform_below_p_a_and_replay(factory):
    pats = simulate_patients(40, np.random.default_rng(4))
    proc, replay = factory(), factory()
    rng = np.random.default_rng(9)
    for p in pats:
        before = proc.probabilities(p)
        assert before["A"] + before["B"] == pytest.approx(1.0)
        a = proc.assign(p, rng)
        assert a.probabilities == before
        assert (a.arm == "A") == (a.u < a.probabilities["A"])
        assert replay.probabilities(p) == pytest.approx(before)
        kw = {}
        if isinstance(replay, PermutedBlock) and replay.block_size is None:
            kw = {"block_size": proc.block_log[len(replay.block_log)]}
        if isinstance(replay, StratifiedPermutedBlock):
            key = replay.stratum(p)
            done = len(replay.blocks[key].block_log) if key in replay.blocks else 0
            inner = replay.blocks.get(key)
            if inner is None or inner.block_size is None:
                kw = {"block_size": proc.blocks[key].block_log[done]}
        replay.record(p, a.arm, **kw)
    assert replay.arms == proc.arms


def test_stratified_blocks_bound_stratum_imbalance():
    rng = np.random.default_rng(12)
    pats = simulate_patients(236, rng)
    asg = run_procedure(StratifiedPermutedBlock(block_sizes=(4,)), pats, rng)
    cb = covariate_balance(pats, asg)
    assert cb.loc[cb.scope == "stratum", "abs_D"].max() <= 2
    assert len(cb[cb.scope == "stratum"]) == 12
    assert abs(imbalance_metrics(asg)["final"]) <= 12 * 2


def test_permuted_block_stays_within_block_bound():
    rng = np.random.default_rng(3)
    arms = run_procedure(PermutedBlock((2, 4, 6)), 300, rng)
    assert np.max(np.abs(imbalance_path(arms))) <= 3


def test_bigstick_and_maximal_bounds():
    rng = np.random.default_rng(6)
    assert np.max(np.abs(imbalance_path(run_procedure(BigStick(2), 500, rng)))) <= 2
    path = imbalance_path(run_procedure(MaximalProcedure(50, 3), 50, rng))
    assert np.max(np.abs(path)) <= 3 and path[-1] == 0
    proc = MaximalProcedure(4, 1)
    run_procedure(proc, 4, rng)
    with pytest.raises(ValueError, match="all are allocated"):
        proc.assign(None, rng)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: EfronBiasedCoin(p=0.3), "p must lie in"),
        (lambda: BigStick(0), "max_imbalance must be an integer >= 1"),
        (lambda: MaximalProcedure(7), "n must be an even integer"),
        (lambda: PermutedBlock((3,)), "block_sizes must be even"),
        (lambda: PermutedBlock((2, 4), (1,)), "block_weights must be 2"),
        (lambda: PocockSimon(imbalance="entropy"), "imbalance must be one of range, variance, sd, taves"),
        (lambda: PocockSimon(p=0.5), r"p must lie in \(0.5, 1\]"),
        (lambda: PocockSimon(tie_rule="coin"), "tie_rule must be one of"),
        (lambda: PocockSimon(weights={"her2": 1}), "weights must name exactly the factors"),
        (lambda: PocockSimon(weights=[1, 1]), "weights must have one number per factor"),
        (lambda: PocockSimon(weights=[1, 0, 1]), "weights must be positive"),
        (lambda: PocockSimon(random_element=1.5), "random_element must lie in"),
        (lambda: PocockSimon(factors={"x": []}), r"factors\['x'\]: levels must be distinct"),
        (lambda: CompleteRandomization().assign(None, rng=42), "rng must be a numpy Generator"),
        (lambda: CompleteRandomization().record(None, "C"), "arm must be one of A, B"),
        (lambda: expected_correct_guesses(lambda: PocockSimon(), 10), "depends on the patients' covariates"),
        (lambda: expected_correct_guesses(lambda: CompleteRandomization(), 0), "n must be an integer >= 1"),
        (lambda: expected_correct_guesses(lambda: MaximalProcedure(10), 12), "n must be <= the maximal"),
        (lambda: PermutedBlock((2, 4)).record(None, "A"), "block_size is required"),
    ],
)
def test_argument_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_forced_arm_cannot_be_recorded_for_blocks():
    pb = PermutedBlock((2,))
    pb.record(None, "A")
    with pytest.raises(ValueError, match="probability 0"):
        pb.record(None, "A")


@pytest.mark.parametrize(
    "bad,match",
    [
        ({"dominant_site": "lung", "hormone_receptor": "positive", "her2": "negative"}, "'lung' is not a known level"),
        ({"hormone_receptor": "positive", "her2": "negative"}, "dominant_site: missing"),
        ({"dominant_site": "bone", "hormone_receptor": "positive", "her2": None}, "her2: None is not a known level"),
        ("bone", "must be a mapping"),
    ],
)
def test_bad_patient_records_refused_nothing_changed(bad, match):
    ps = PocockSimon()
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    with pytest.raises(PatientRecordError, match=match):
        ps.assign(bad, rng)
    assert ps.n == 0 and rng.bit_generator.state == state
    log = AllocationLog.in_memory(CompleteRandomization(), seed=1, key=b"k" * 32)
    log.allocate(PAT, patient_id="P1")
    with pytest.raises(PatientRecordError, match=match):
        log.allocate(bad, patient_id="P2")
    assert len(log) == 1 and log.procedure.n == 1 and log.verify()


# ------------------------------------------------------------------------------------------
# metrics
# ------------------------------------------------------------------------------------------


def test_imbalance_metrics_and_guess_by_hand():
    arms = list("AABABBBB")  # D: 1 2 1 2 1 0 -1 -2
    m = imbalance_metrics(arms)
    assert m == {"n": 8, "final": -2, "abs_final": 2, "max_abs": 2, "loss": 0.5,
                 "rms": pytest.approx(math.sqrt((1 + 4 + 1 + 4 + 1 + 0 + 1 + 4) / 8))}
    # guesses before each: tie(1/2), B(wrong), B(right), B(wrong), B(right), B(right), tie(1/2), A(wrong)
    assert correct_guess_proportion(arms) == pytest.approx((0.5 + 0 + 1 + 0 + 1 + 1 + 0.5 + 0) / 8)


def test_covariate_balance_table():
    pats = [PAT, PAT, dict(PAT, her2="positive")]
    cb = covariate_balance(pats, ["A", "B", "A"])
    row = lambda scope, g: cb[(cb.scope == scope) & (cb.group == g)].iloc[0]  # noqa: E731
    assert row("overall", "all").D == 1
    assert row("stratum", "bone/positive/negative").D == 0
    assert row("stratum", "bone/positive/positive").D == 1
    assert row("margin", "her2=negative").D == 0 and row("margin", "dominant_site=bone").D == 1
    assert row("margin", "dominant_site=visceral").n_A == 0


def test_simulate_patients_frequencies():
    pats = simulate_patients(4000, np.random.default_rng(2))
    site = np.mean([p["dominant_site"] == "soft_tissue" for p in pats])
    hr = np.mean([p["hormone_receptor"] == "positive" for p in pats])
    her2 = np.mean([p["her2"] == "positive" for p in pats])
    assert abs(site - 0.10) < 0.02 and abs(hr - 0.75) < 0.025 and abs(her2 - 0.25) < 0.025


def test_selection_bias_inflates_blocks_not_when_eta_zero():
    rng = np.random.default_rng(21)
    blocks = selection_bias_type1(lambda: PermutedBlock((4,)), 40, 1.0, 300, rng)
    null = selection_bias_type1(lambda: PermutedBlock((4,)), 40, 0.0, 300, rng)
    assert blocks > 0.4
    assert abs(null - 0.05) < 0.04


def test_selection_bias_strategies():
    rng = np.random.default_rng(23)
    # complete randomization: P(A) is always 1/2 -> the informed investigator has nothing to go on
    cr = selection_bias_type1(lambda: CompleteRandomization(), 40, 1.0, 200, rng, strategy=["favoured"])
    assert abs(cr["favoured"] - 0.05) < 0.04
    # stratified blocks: tracking each stratum beats guessing from the overall counts
    both = selection_bias_type1(lambda: StratifiedPermutedBlock(), 60, 1.0, 200, rng,
                                strategy=("convergence", "favoured"))
    assert both["favoured"] > both["convergence"] + 0.2
    # permuted blocks: the favoured arm is the convergence guess, same noise -> same result
    same = selection_bias_type1(lambda: PermutedBlock((4,)), 40, 1.0, 100, rng, strategy=("convergence", "favoured"))
    assert same["convergence"] == same["favoured"]
    with pytest.raises(ValueError, match="strategy must be one of convergence, favoured"):
        selection_bias_type1(lambda: PermutedBlock((4,)), 40, 1.0, 10, rng, strategy="psychic")


def test_chronological_bias_step_trend():
    rng = np.random.default_rng(22)
    # blocks balance the arms over time -> conservative; complete randomization near nominal
    blocks = chronological_bias_type1(lambda: PermutedBlock((4,)), 40, 2.0, 300, rng, trend="step")
    complete = chronological_bias_type1(lambda: CompleteRandomization(), 40, 2.0, 300, rng, trend="step")
    assert blocks < 0.03 and abs(complete - 0.05) < 0.04
    with pytest.raises(ValueError, match="trend must be one of"):
        chronological_bias_type1(lambda: CompleteRandomization(), 40, 1.0, 10, rng, trend="cubic")


# ------------------------------------------------------------------------------------------
# the allocation log: tests/test_allocation_log.py
# ------------------------------------------------------------------------------------------


# ------------------------------------------------------------------------------------------
# cross-check against an independent R implementation (tests/reference/randomization_exact.R)
# ------------------------------------------------------------------------------------------

from pathlib import Path  # noqa: E402

REF_R = Path(__file__).parent / "reference" / "randomization_exact.R"
REF_JSON = Path(__file__).parent / "reference" / "randomization_exact.json"
REF = json.loads(REF_JSON.read_text())


def _factory(proc: str, param):
    if proc == "complete":
        return lambda: CompleteRandomization()
    if proc == "efron":
        return lambda: EfronBiasedCoin(param)
    return lambda: BigStick(int(param))


@pytest.mark.parametrize("row", REF["d_based"], ids=lambda r: f"{r['procedure']}-{r['param']}-{r['n']}")
def test_d_based_procedures_match_r(row):
    ex = exact_summary(_factory(row["procedure"], row["param"]), row["n"])
    assert ex["correct_guess"] == pytest.approx(row["correct_guess"], rel=1e-12)
    assert ex["expected_abs_imbalance"] == pytest.approx(row["expected_abs_imbalance"], rel=1e-10, abs=1e-13)
    assert ex["imbalance_distribution"].get(0, 0.0) == pytest.approx(row["p_zero"], rel=1e-10, abs=1e-13)


@pytest.mark.parametrize("row", REF["fixed_blocks"], ids=lambda r: f"{r['block_size']}-{r['n']}")
def test_fixed_blocks_match_r(row):
    got = expected_correct_guesses(lambda: PermutedBlock((row["block_size"],)), row["n"])
    assert got == pytest.approx(row["correct_guess"], rel=1e-12)


@pytest.mark.parametrize("row", REF["random_blocks"], ids=lambda r: f"{r['sizes']}-{r['n']}")
def test_random_blocks_match_r(row):
    sizes = tuple(int(s) for s in row["sizes"])
    got = expected_correct_guesses(lambda: PermutedBlock(sizes, row["weights"]), row["n"])
    assert got == pytest.approx(row["correct_guess"], rel=1e-12)


@pytest.mark.parametrize("row", REF["maximal"], ids=lambda r: f"{r['n']}-{r['max_imbalance']}")
def test_maximal_matches_r(row):
    n, b = int(row["n"]), int(row["max_imbalance"])
    assert MaximalProcedure(n, b).n_sequences == pytest.approx(row["n_sequences"], rel=1e-12)
    assert expected_correct_guesses(lambda: MaximalProcedure(n, b), n) == pytest.approx(row["correct_guess"], rel=1e-10)


@pytest.mark.parametrize("row", REF["minimization"], ids=lambda r: r["measure"])
def test_minimization_scores_match_r(row):
    ps = _ps_with_counts(
        {f: (a, b) for f, a, b in zip(("dominant_site", "hormone_receptor", "her2"), row["counts_A"], row["counts_B"],
                                      strict=True)},
        imbalance=row["measure"],
    )
    g = ps.table(PAT)[-1]
    assert g["d_if_A"] == pytest.approx(row["G_A"], rel=1e-12)
    assert g["d_if_B"] == pytest.approx(row["G_B"], rel=1e-12)


