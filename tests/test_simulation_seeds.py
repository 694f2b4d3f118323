"""A notebook's simulation seeds (``trialnb.simulation.SeedStream``) and the table formatter of
``trialnb.report`` (``fmt_frame``, ``fmt_rate``): one home each for what notebooks 05-08 wrote
themselves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialnb.errors import ScenarioError
from trialnb.report import fmt_frame, fmt_hr, fmt_n, fmt_pct, fmt_rate
from trialnb.simulation import SEED, SeedStream


def test_the_stream_is_the_notebooks_former_helper() -> None:
    """The seeds are default_rng(seed).integers(2**31) in turn: the numbers the notebooks'
    ``next_seed()`` gave, so their outputs do not move."""
    rng = np.random.default_rng(SEED)
    stream = SeedStream(SEED)
    assert [stream() for _ in range(5)] == [int(rng.integers(2**31)) for _ in range(5)]
    assert stream.drawn == 5 and "5 seeds drawn" in repr(stream)


def test_streams_are_reproducible_and_distinct() -> None:
    a, b, c = SeedStream(1), SeedStream(1), SeedStream(2)
    first = [a() for _ in range(50)]
    assert first == [b() for _ in range(50)]
    assert first != [c() for _ in range(50)]
    assert len(set(first)) == 50 and all(0 <= s < 2**31 for s in first)


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True, None])
def test_a_bad_master_seed_is_refused(bad) -> None:
    with pytest.raises(ScenarioError, match="seed"):
        SeedStream(bad)


def test_fmt_frame_formats_the_named_columns_only() -> None:
    df = pd.DataFrame({"power": [0.8061, 0.05], "hr": [0.4987, 1.0], "deaths": [70, 66], "name": ["a", "b"]},
                      index=pd.Index(["x", "y"], name="scenario"))
    out = fmt_frame(df, {"power": fmt_pct, "hr": fmt_hr, "deaths": fmt_n})
    assert out["power"].tolist() == ["80.6%", "5.0%"]
    assert out["hr"].tolist() == ["0.50", "1.00"]
    assert out["deaths"].tolist() == ["70", "66"]
    assert out["name"].tolist() == ["a", "b"] and out.index.equals(df.index)
    assert df["power"].tolist() == [0.8061, 0.05]  # the input is not changed


def test_fmt_frame_refuses_what_it_cannot_format() -> None:
    df = pd.DataFrame({"power": [0.8]})
    with pytest.raises(ValueError, match="no column 'Power'.*columns: 'power'"):
        fmt_frame(df, {"Power": fmt_pct})
    with pytest.raises(ValueError, match="functions"):
        fmt_frame(df, {"power": "pct"})  # type: ignore[dict-item]


def test_fmt_rate() -> None:
    assert fmt_rate(0.8061, 0.0056) == "80.6% (MC SE 0.6%)"
    assert fmt_rate(0.0485, 0.0022, 2) == "4.85% (MC SE 0.22%)"
