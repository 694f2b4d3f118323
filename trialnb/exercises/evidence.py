"""Self-checks for notebook 08 (what this trial can show, given the randomized evidence), written
with the one verdict helper :mod:`trialnb.exercises._verdict`. The right answers are computed
with :mod:`trialnb.evidence`, :mod:`trialnb.assurance` and :mod:`trialnb.bayesian`, never typed
in; the inputs each question states are the rounded numbers printed in the notebook."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from scipy import stats

from ._verdict import close, exercise, parse_number, parse_proportion
from ..errors import AnswerError

__all__ = ["INTERIM_LOG_HR", "INTERIM_SE", "check_assurance_ceiling", "check_interim_posterior",
           "check_probability_of_success", "check_se_from_90_ci"]

INTERIM_LOG_HR = -1.36
"""The interim estimate exercise 08.4 states: ln HR -1.36 (HR 0.26), close to the synthetic interim
of notebook 08 (the question states its own numbers, so it does not depend on the data file)."""
INTERIM_SE = 0.41
"""Its standard error, rounded."""


@lru_cache(maxsize=None)
def _truths() -> dict[str, float]:
    from .. import assurance as A
    from .. import bayesian as B
    from ..evidence import study

    e = study("e2108_2022")
    priors = A.named_priors()
    pooled = priors["pooled"]
    a66 = A.assurance(events=66, prior=pooled)
    post = B.posterior(priors["after_induction"], INTERIM_LOG_HR, INTERIM_SE)
    z90, z95 = float(stats.norm.ppf(0.95)), float(stats.norm.ppf(0.975))
    width = math.log(e.ci_upper) - math.log(e.ci_lower)
    return {"se": e.se, "se_196": width / (2 * z95), "se_no2": width / z90, "width": width,
            "pos": a66.probability_of_success, "power": a66.power_at_prior_mean,
            "power_two": float(stats.norm.cdf(-math.log(pooled.hazard_ratio) * math.sqrt(66) / 2 - z95)
                               + stats.norm.cdf(math.log(pooled.hazard_ratio) * math.sqrt(66) / 2 - z95)),
            "ceiling": pooled.probability_benefit,
            "post_hr": post.hazard_ratio, "prior_hr": priors["after_induction"].hazard_ratio,
            "observed_hr": math.exp(INTERIM_LOG_HR)}


@exercise(
    "08.1",
    "E2108 reported HR 1.11 with a 90% CI 0.82 to 1.52: what is the standard error of its log hazard ratio?",
    ("A 90% interval is narrower than a 95% one: which normal quantile belongs to it?",
     "On the log scale the interval is ln HR ∓ z·SE: divide the width, ln 1.52 − ln 0.82, by twice"
     " the 95th percentile of the standard normal (`ev.log_hr_se` does it)."),
)
def check_se_from_90_ci(answer: Any) -> tuple[bool, str]:
    """Exercise 08.1: SE of E2108's log HR from its 90% interval; within 0.0025 (0.19 is right)."""
    x = parse_number(answer, "a standard error", allowed="give the SE of the log hazard ratio, e.g. 0.15")
    t = _truths()
    if close(x, t["se"], 0.0025):
        return True, (f"SE = {t['se']:.3f}: (ln 1.52 - ln 0.82) / (2 x 1.645). With 1.96 the SE would be "
                      f"{t['se_196']:.3f}, too small, and E2108 would weigh about 40% more than its deaths allow.")
    if close(x, t["se_196"], 0.002):
        return False, "1.96 belongs to a 95% interval; this one is a 90% interval, so the SE comes out too small."
    if close(x, t["se_no2"], 0.003):
        return False, "the width spans two SEs on each side of the estimate: divide by 2 z, not by z."
    if close(x, t["width"], 0.003):
        return False, "that is the width of the interval on the log scale, not the SE."
    return False, f"{x:g} is not the SE recovered from a 90% interval."


@exercise(
    "08.2",
    "With the protocol's 66 deaths, what is the probability of success under the pooled predictive prior "
    "(fixed two-sided 5% test, success = significant benefit of surgery)?",
    ("This is not the power at one hazard ratio: the true HR is uncertain, and the prior says how.",
     "Call `A.assurance(events=66, prior=A.named_priors()['pooled'])` and read its probability of "
     "success; by hand, Φ((−m·c − 1.96) / √(1 + c²s²)) with c = √66 / 2 and the prior's mean m and"
     " SD s."),
)
def check_probability_of_success(answer: Any) -> tuple[bool, str]:
    """Exercise 08.2: probability of success of 66 deaths under the pooled prior; within 1
    percentage point (proportion or percent)."""
    x = parse_proportion(answer, "the probability of success")
    t = _truths()
    if close(x, t["pos"], 0.01):
        return True, (f"about {t['pos']:.0%}: the uncertainty about the HR (some chance of a large benefit) "
                      f"lifts it above the {t['power']:.0%} power at the pooled HR itself, but it stays far from 80%.")
    if close(x, t["power"], 0.005) or close(x, t["power_two"], 0.005):
        return False, "that is the power at the pooled hazard ratio alone; average the power over the prior."
    if close(x, 0.80, 0.01):
        return False, "80% is the power if the true HR were 0.5; the evidence says it is probably near 0.93."
    if close(x, t["ceiling"], 0.01):
        return False, ("that is P(true HR < 1) under the prior, the ceiling no trial can exceed; "
                       "66 deaths reach far less.")
    return False, f"{x:.1%} is not the probability of success of 66 deaths under the pooled prior."


@exercise(
    "08.3",
    "However many deaths a trial waits for, what is the highest probability of success it can reach under "
    "the pooled predictive prior?",
    ("With unlimited deaths the trial detects any benefit, however small; it still cannot detect "
     "one that is not there.",
     "Let the number of deaths grow in the closed form: the probability of success tends to the "
     "prior probability that the true HR is below 1, Φ(−m / s)."),
)
def check_assurance_ceiling(answer: Any) -> tuple[bool, str]:
    """Exercise 08.3: the ceiling of the probability of success under the pooled prior,
    P(true HR < 1); within 1 percentage point."""
    x = parse_proportion(answer, "the highest probability of success")
    t = _truths()
    if close(x, t["ceiling"], 0.01):
        return True, (f"{t['ceiling']:.0%} = P(true HR < 1) under the prior: no number of deaths gives an 80% "
                      "probability of success, because the evidence leaves a good chance that surgery does not help.")
    if close(x, 1.0, 0.005):
        return False, ("a large trial detects a benefit only if there is one; "
                       "the prior gives a real chance there is none.")
    if close(x, 0.80, 0.01):
        return False, "80% is the power the protocol aims at, not what unlimited deaths give under this prior."
    if close(x, t["pos"], 0.01):
        return False, "that is the probability of success with the protocol's 66 deaths, not with unlimited deaths."
    return False, f"{x:.1%} is not the limit of the probability of success."


@exercise(
    "08.4",
    "An interim Cox estimate is ln HR -1.36 (SE 0.41), i.e. HR 0.26: what is the posterior median hazard ratio "
    "under the after-induction prior?",
    ("The posterior is a precision-weighted average of the prior and the interim estimate, on the "
     "log scale.",
     "Weights 1/SD²: the posterior log HR is (m0/s0² + y/se²) / (1/s0² + 1/se²) with the prior's "
     "m0 and s0 (`A.named_priors()['after_induction']`); "
     "`B.posterior(A.named_priors()['after_induction'], -1.36, 0.41)` does it."),
)
def check_interim_posterior(answer: Any) -> tuple[bool, str]:
    """Exercise 08.4: posterior median HR under the after-induction prior given ln HR -1.36, SE
    0.41; within 0.01."""
    x = parse_number(answer, "a hazard ratio", allowed="give the posterior median hazard ratio, e.g. 0.75")
    t = _truths()
    if close(x, math.log(t["post_hr"]), 0.01):
        return False, "that is the posterior mean of the LOG hazard ratio; exponentiate it."
    if x <= 0:
        raise AnswerError(f"a hazard ratio is positive, got {x:g}; give the posterior median hazard ratio, e.g. 0.75")
    if close(x, t["post_hr"], 0.01):
        return True, (f"HR {t['post_hr']:.2f}: the after-induction prior (SD below 0.1 on the log scale) holds as much "
                      "information as hundreds of deaths, so 33 deaths barely move it from its "
                      f"{t['prior_hr']:.2f}, however striking the interim HR.")
    if close(x, t["observed_hr"], 0.01):
        return False, "that is the interim estimate itself; the posterior combines it with the prior."
    if close(x, t["prior_hr"], 0.005):
        return False, "that is the prior's median; the interim data move it a little."
    return False, f"{x:g} is not the posterior median hazard ratio under the after-induction prior."
