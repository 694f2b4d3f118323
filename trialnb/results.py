"""The result contract: every result the package returns is a frozen dataclass with

* ``to_frame()``: the numbers as a :class:`pandas.DataFrame` (one row, or one row per arm,
  look, analysis ...);
* ``summary()``: one or a few sentences of text, numbers formatted by :mod:`trialnb.report`;
* ``_repr_html_()``: what Jupyter shows, the summary above the frame.

:class:`Result` is the mixin that gives a result class the parts it does not write itself:
``_repr_html_`` from ``summary()`` and ``to_frame()``, and a default ``to_frame()`` with one
row of the scalar fields (:func:`fields_frame`). A class keeps any part it defines.
"""

from __future__ import annotations

import dataclasses
import html
import numbers
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .report import fmt_sig

__all__ = ["Result", "fields_frame", "frame_html"]


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, numbers.Number, np.generic))


def fields_frame(result: Any, names: Sequence[str] | None = None, *, long: bool = False) -> pd.DataFrame:
    """The dataclass fields ``names`` of ``result`` (default: every scalar field: numbers,
    strings, flags, None) as a one-row DataFrame, or with ``long=True`` as a long frame with
    columns ``quantity`` and ``value`` (one row per field)."""
    if not dataclasses.is_dataclass(result) or isinstance(result, type):
        raise TypeError(f"result must be a dataclass instance, got {type(result).__name__}")
    if names is None:
        names = [f.name for f in dataclasses.fields(result) if _is_scalar(getattr(result, f.name))]
    values = {n: getattr(result, n) for n in names}
    if long:
        return pd.DataFrame({"quantity": list(values), "value": list(values.values())})
    return pd.DataFrame([values], columns=list(values))


class Result:
    """Mixin for the frozen result dataclasses (see the module docstring)."""

    def to_frame(self) -> pd.DataFrame:
        """One row with the result's scalar fields (a class with arrays or tables overrides it)."""
        return fields_frame(self)

    def summary(self) -> str:  # pragma: no cover - every result class writes its own
        raise NotImplementedError(f"{type(self).__name__} must define summary()")

    def _repr_html_(self) -> str:
        body = "<br>".join(html.escape(line) for line in self.summary().splitlines())
        return (f"<div class='trialnb-result'><p><b>{html.escape(type(self).__name__)}</b>: {body}</p>"
                f"{frame_html(self.to_frame())}</div>")


def frame_html(frame: pd.DataFrame, digits: int = 4) -> str:
    """``frame`` as an HTML table for a reader: every non-whole number with ``digits``
    significant digits (:func:`trialnb.report.fmt_sig`: 0.7569, not 0.7569375529), whole
    numbers as counts, missing values as NA; labels and text as they are; at most 60 rows
    shown (pandas elides the middle of a longer table)."""
    def cell(v: Any) -> Any:
        if isinstance(v, (float, np.floating)) and not isinstance(v, bool):
            return fmt_sig(float(v), digits)
        return v

    shown = frame.map(cell)
    return shown.to_html(border=0, na_rep="NA", max_rows=60)
