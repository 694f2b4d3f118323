"""The shipped files are found (trialnb.resources), and an unknown example is refused by name."""

from __future__ import annotations

import pytest

from trialnb.errors import ScenarioError
from trialnb.resources import EXAMPLES, data_dir, example_trial, reference_dir


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_is_a_shipped_trial_file(name):
    path = example_trial(name)
    assert path.is_file() and path.parent == data_dir() and path.name == f"trial_{name}.csv"


def test_the_reference_values_are_shipped():
    assert any(p.suffix == ".json" for p in reference_dir().iterdir())


@pytest.mark.parametrize("bad", ["Protocol", "trial_null", "", None, 1, True])
def test_an_unknown_example_is_refused_with_the_allowed_names(bad):
    with pytest.raises(ScenarioError, match=r"^example must be one of protocol, null, realistic, got "):
        example_trial(bad)
