"""trialnb: a protocol companion for NCT04697043 (surgery of the primary tumour in de novo
metastatic breast cancer).

The names a user starts with, from their homes (imported on first use, so ``import trialnb``
stays fast)::

    import trialnb as tn
    print(tn.PLAN.summary())                        # the trial plan: design, analysis, monitoring
    tn.required_size()                              # the plan's deaths and patients (Schoenfeld)
    tn.simulate(tn.PLAN, 2000, seed=1).power        # operating characteristics by simulation
    tn.primary(tn.load_trial("data/trial_protocol.csv"))   # the plan's primary analysis of a file

``required_size`` is :func:`trialnb.sample_size.sample_size` (the module keeps its name).
Every submodule is reachable as an attribute too (``tn.monitoring.design(2)``); ARCHITECTURE.md
says which does what.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_HOMES: dict[str, str] = {
    "PLAN": "trialnb.plan",
    "TrialPlan": "trialnb.plan",
    "required_size": "trialnb.sample_size:sample_size",
    "simulate": "trialnb.simulation",
    "simulate_sequential": "trialnb.simulation",
    "design": "trialnb.monitoring",
    "analyse": "trialnb.monitoring",
    "conditional_power": "trialnb.monitoring",
    "load_trial": "trialnb.data",
    "primary": "trialnb.analysis",
    "cut_at": "trialnb.analysis",
    "interim_report": "trialnb.interim",
    "fit_cox": "trialnb.survival",
    "logrank": "trialnb.survival",
    "kaplan_meier": "trialnb.survival",
}

__all__ = ["__version__", *sorted(_HOMES)]


def __getattr__(name: str) -> Any:
    """The facade's names, each imported from its home module on first use (PEP 562); a
    submodule's name imports the submodule."""
    home = _HOMES.get(name)
    if home is None:
        try:
            return import_module(f"trialnb.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"trialnb.{name}":
                raise
            raise AttributeError(f"module 'trialnb' has no attribute {name!r}") from None
    module, _, attr = home.partition(":")
    value = getattr(import_module(module), attr or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
