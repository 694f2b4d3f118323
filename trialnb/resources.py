"""Where the package finds the files it ships, in a checkout and in an installed wheel alike.

The example trial data (``data/``: the synthetic CRF files, their dictionary and manifest) and
the committed outputs of the R reference scripts (``tests/reference/*.json``: what rpact and R
survival computed) are package data (``trialnb/_shipped/``, links to those folders in the
repository, copied into the wheel), found with :mod:`importlib.resources`. Commands and
functions that read a file take its path; these are only the defaults.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .errors import ScenarioError
from .validation import check_choice

__all__ = ["EXAMPLES", "checkout_root", "data_dir", "example_trial", "reference_dir"]

_SHIPPED = files("trialnb") / "_shipped"
EXAMPLES: tuple[str, ...] = ("protocol", "null", "realistic")


def data_dir() -> Path:
    """The folder of the shipped synthetic data (``data/`` of the repository)."""
    return Path(str(_SHIPPED / "data"))


def reference_dir() -> Path:
    """The folder of the committed R reference values (``tests/reference/`` of the repository;
    in a wheel only the JSON outputs, not the R scripts)."""
    return Path(str(_SHIPPED / "reference"))


def example_trial(name: str = "protocol") -> Path:
    """The shipped trial file of scenario ``name`` (``"protocol"``, ``"null"`` or
    ``"realistic"``): ``data/trial_<name>.csv``."""
    name = check_choice(name, "example", EXAMPLES, error=ScenarioError)
    return data_dir() / f"trial_{name}.csv"


def checkout_root() -> Path | None:
    """The repository checkout this package is imported from (it has ``notebooks/`` and
    ``pyproject.toml`` beside ``trialnb/``), or None for an installed wheel."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "notebooks").is_dir() and (root / "pyproject.toml").is_file() else None
