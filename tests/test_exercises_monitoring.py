"""Self-checks of notebook 05 (trialnb.exercises.monitoring): right answers in every accepted
form, wrong answers explained, unanswered and junk answers handled, staged hints that never
state the answer; the right answers re-derived independently here."""

from __future__ import annotations

import numpy as np
import pytest

from trialnb.exercises import monitoring as ex
from trialnb.sequential_sim import Boundaries, simulate_sequential
from trialnb import fastsim as fs

CHECKERS = {"05.1": ex.check_naive_peeking, "05.2": ex.check_first_look_bound, "05.3": ex.check_conditional_power}
RIGHT = {"05.1": [0.0709, "7.1%", 7.09, "0.071", np.float64(0.0708)],
         "05.2": [2.963, 2.96, "2.96", np.float64(2.9626)],
         "05.3": [0.582, "58.2%", 58.2, "0.58"]}
WRONG = {"05.1": [(0.025, "ONE look"), (0.125, "independent"), (0.20, "not the type-I")],
         "05.2": [(1.96, "final bound"), (0.0015, "p-value"), (2.5, "not the first-look")],
         "05.3": [(0.2165, "OBSERVED"), (0.037, "NO effect"), (0.9, "not the conditional")]}


@pytest.mark.parametrize("key", CHECKERS)
def test_unanswered(key):
    msg = CHECKERS[key](None)
    assert msg.startswith(f"Exercise {key}. No answer yet") and "Hint 1:" in msg and "Hint 2:" not in msg


@pytest.mark.parametrize("key", CHECKERS)
def test_right_in_every_form(key):
    for a in RIGHT[key]:
        msg = CHECKERS[key](a)
        assert "Right:" in msg, (a, msg)
        assert "Hint" not in msg


@pytest.mark.parametrize("key", CHECKERS)
def test_wrong_is_explained(key):
    for a, why in WRONG[key]:
        msg = CHECKERS[key](a)
        assert "Not yet:" in msg and why in msg and "Hint 1:" in msg, (a, msg)


@pytest.mark.parametrize("key", CHECKERS)
def test_junk_does_not_raise(key):
    for a in ("abc", True, [1, 2], float("nan"), -5):
        msg = CHECKERS[key](a)
        assert "Cannot check:" in msg or "Not yet:" in msg, (a, msg)


@pytest.mark.parametrize("key", CHECKERS)
def test_hints_are_staged_and_do_not_state_the_answer(key):
    msg = CHECKERS[key](None, hint=2)
    assert "Hint 1:" in msg and "Hint 2:" in msg
    for h in ex.HINTS[key]:
        for a in RIGHT[key]:
            if isinstance(a, str):
                assert a not in h
    with pytest.raises(ValueError):
        CHECKERS[key](None, hint=3)


def test_naive_type_one_error_agrees_with_simulation():
    # 5 naive looks at one-sided 1.96: Armitage, McPherson & Rowe (1969) give 0.142 two-sided,
    # i.e. 0.071 one-sided; and a simulation of log-rank trials agrees within MC error
    assert ex.naive_type_one_error(5) == pytest.approx(0.0709, abs=0.001)
    assert ex.naive_type_one_error(1) == pytest.approx(0.025, abs=1e-6)
    sc = fs.Scenario(hazard_ratio=1.0, target_events=150, allocation="blocks", loss_to_follow_up=0.0)
    res = simulate_sequential(sc, Boundaries((0.2, 0.4, 0.6, 0.8, 1.0), (1.959964,) * 5), 4000, seed=21)
    assert abs(res.power - ex.naive_type_one_error(5)) <= 4 * np.sqrt(0.071 * 0.929 / 4000)
