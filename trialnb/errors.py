"""Every exception of the package, declared once.

Each is a :class:`ValueError` (bad input is a ``ValueError`` whose message says what was wrong
and what is allowed), so ``except ValueError`` catches them all; a named subclass says which
part of the package refused the input. They live here only (no module re-exports them:
``from trialnb.errors import SampleSizeError``). The argument checkers of
:mod:`trialnb.validation` take one of these classes as their ``error``.

This module is a leaf: it imports nothing from the package.
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = [
    "MESSAGE_LIMIT",
    "AllocationLogError",
    "AnswerError",
    "BiasParameterError",
    "DesignError",
    "NoEstimateError",
    "EvidenceError",
    "OutputFolderError",
    "OutsideDataError",
    "PatientRecordError",
    "RandomizationError",
    "ResourceLimitError",
    "SampleSizeError",
    "ScenarioError",
    "SettingsError",
    "SurvivalDataError",
    "TrialAnalysisError",
    "TrialDataError",
]

MESSAGE_LIMIT = 20
"""How many problems a :class:`TrialDataError` message shows in full (all are in ``problems``)."""


class SampleSizeError(ValueError):
    """Raised by :mod:`trialnb.sample_size` and :mod:`trialnb.monitoring.sample_size` when an
    argument of a sample-size or power function is outside its allowed range."""


class ScenarioError(ValueError):
    """Raised by the trial plan (:mod:`trialnb.plan`), the population model
    (:mod:`trialnb.population`) and the simulators (:mod:`trialnb.simulation`) when an assumption,
    a plan field or a run argument is out of range or of the wrong kind; by
    :func:`trialnb.resources.example_trial` for a scenario it has no example file of."""


class BiasParameterError(ValueError):
    """Raised by :mod:`trialnb.bias` when an argument of the registry simulator or of one of its
    analyses is out of range."""


class DesignError(ValueError):
    """Raised by :mod:`trialnb.monitoring` when an argument of a group-sequential design or of
    an interim analysis is outside what is allowed."""


class NoEstimateError(ValueError):
    """Raised by :mod:`trialnb.report` when a value that is not an estimate (missing, NaN or
    infinite) is to be printed without the reason there is no estimate: a number that is not
    one is never printed."""
class EvidenceError(ValueError):
    """Raised by :mod:`trialnb.evidence` (meta-analysis), :mod:`trialnb.assurance` (probability
    of success, priors) and :mod:`trialnb.bayesian` (Bayesian monitoring) when an estimate, a
    prior or a design argument is outside what is allowed."""


class PatientRecordError(ValueError):
    """Raised when a patient record (screening, allocation, CRF row) is malformed: a field is
    missing, has the wrong type or an unknown level."""


class RandomizationError(ValueError):
    """Raised by the randomization procedures and their assessment (:mod:`trialnb.randomization`)
    when an argument is out of range or of the wrong kind: a probability, a block size, the
    factors and their levels, a number of patients or of repetitions."""


class AllocationLogError(ValueError):
    """Raised by :mod:`trialnb.randomization.log` when an allocation log fails verification or
    is used incorrectly.

    ``kind`` names what happened (one of :data:`trialnb.randomization.log.ERROR_KINDS`):
    "edited" (a line changed), "deleted" (a line removed), "reordered", "forged" (a line the
    key never signed), "wrong_key", "truncated" (lines cut from the end: against the head
    witness, a receipt or a published head), "rewritten" (an entry differs from the one a
    receipt or the witness recorded: a rewrite made with the key, or another log), "witness"
    (the head witness is missing, damaged or another log's), "malformed" (not a log line, or
    a bad argument such as a receipt code), "inconsistent" (an arm that the key's stream does
    not give), "duplicate_id", "bypass" (a bound procedure used directly), "exists", "locked"
    (held by this process or another: the message says which), "io" (a write failed: nothing
    was allocated), "closed". ``problems`` lists every finding.
    """

    def __init__(self, message: str, kind: str = "malformed", problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.kind = kind
        self.problems: tuple[str, ...] = tuple(problems) or (message,)


class TrialDataError(ValueError):
    """Raised by the loaders of :mod:`trialnb.data` when a data file does not follow its schema;
    ``problems`` lists every problem found.

    The message names the file and shows the first :data:`MESSAGE_LIMIT` problems, then
    "... and N more", so it stays short however broken the file is.
    """

    def __init__(self, path: Any, problems: Sequence[Any]):
        self.path = str(path)
        self.problems = list(problems)
        head = f"{self.path}: {len(self.problems)} problem(s) found (rows are line numbers in the file):"
        shown = [str(p) for p in self.problems[:MESSAGE_LIMIT]]
        if len(self.problems) > MESSAGE_LIMIT:
            shown.append(f"... and {len(self.problems) - MESSAGE_LIMIT} more (all are listed in .problems)")
        super().__init__("\n  ".join([head] + shown))


class SettingsError(ValueError):
    """Raised by :mod:`trialnb.reproduce` and the dashboards for a settings file that a dashboard
    cannot load: not JSON, not a trialnb settings file, another dashboard's, an unknown setting,
    or a value outside what the panel accepts (refused, never clamped)."""


class OutputFolderError(ValueError):
    """Raised by :mod:`trialnb.files` for an output folder that must not be written: empty
    name, a file, or non-empty without ``force``."""


class AnswerError(ValueError):
    """Raised by the exercise checkers (:mod:`trialnb.exercises`) for an answer that cannot be
    read in the form an exercise expects; the message says what was given and which forms are
    accepted. Checkers turn it into a "Cannot check" verdict."""


class OutsideDataError(ValueError):
    """Raised when an estimate is asked for where the data cannot give one: a Kaplan-Meier
    survival or a restricted mean at a time beyond a group's last follow-up (the curve is
    not defined there unless it has already reached 0), as R survRM2 refuses such a tau."""


class ResourceLimitError(ValueError):
    """Raised by a simulation (:mod:`trialnb.workload`'s rules) that would take longer or need
    more memory than its limits allow, before it starts: the message gives the estimate, the
    limit and how to raise it (``max_seconds=``, ``max_memory_gb=``); ``estimate`` and
    ``limits`` keep them. Also raised for a limit or progress argument that is not one."""

    def __init__(self, message: str, estimate: Any = None, limits: Any = None) -> None:
        super().__init__(message)
        self.estimate = estimate
        self.limits = limits


class SurvivalDataError(ValueError):
    """Raised by the survival engine (:mod:`trialnb.survival`) when its input is not what an
    estimator takes: times, events, groups, covariates, strata or weights of the wrong kind or
    shape, an empty batch, an argument out of range (a ``tau`` or ``alpha`` that is not one)."""


class TrialAnalysisError(ValueError):
    """Raised by the one-trial analysis layer (:mod:`trialnb.analysis`, the interim report) when
    the data cannot be analysed as asked: a missing column, an unknown arm or level, a cut-off
    outside the data."""
