"""The only place numbers become strings: hazard ratios, CIs, p-values, counts, percentages.

Notebooks, widgets, the CLI and the reviewer's report all format through these functions, so
a number printed anywhere in ``trialnb`` reads the same way everywhere (and nbval outputs do
not drift with floating-point noise).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["fmt_ci", "fmt_frame", "fmt_hr", "fmt_n", "fmt_num", "fmt_p", "fmt_pct", "fmt_prob", "fmt_months",
           "fmt_rate", "fmt_value"]


def _check_finite(x: float, what: str) -> None:
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        raise ValueError(f"{what} must be a number, got {x!r}")


def fmt_num(x: float, digits: int = 2) -> str:
    """A plain number with ``digits`` decimals (``nan`` and infinities spelled out)."""
    _check_finite(x, "value")
    if math.isnan(x):
        return "NA"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    out = f"{x:.{digits}f}"
    return "0." + "0" * digits if out.startswith("-") and float(out) == 0 else out


def fmt_hr(hr: float, lo: float | None = None, hi: float | None = None, digits: int = 2) -> str:
    """Hazard ratio, optionally with its 95% CI: ``0.61 (95% CI 0.58 to 0.65)``."""
    s = fmt_num(hr, digits)
    if lo is not None and hi is not None:
        s += " " + fmt_ci(lo, hi, digits)
    return s


def fmt_ci(lo: float, hi: float, digits: int = 2, level: float = 0.95) -> str:
    """A confidence interval: ``(95% CI 0.58 to 0.65)``."""
    return f"({round(level * 100):d}% CI {fmt_num(lo, digits)} to {fmt_num(hi, digits)})"


def fmt_p(p: float) -> str:
    """p-value the way journals print it: ``p = 0.043``, ``p = 0.21``, ``p < 0.001``."""
    _check_finite(p, "p")
    if not 0 <= p <= 1:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.3f}"
    return f"p = {p:.2f}" if p >= 0.1 else f"p = {p:.3f}"


def fmt_n(n: float) -> str:
    """A count of patients or events, with thousands separators: ``16,023``."""
    _check_finite(n, "n")
    if float(n) != int(n):
        raise ValueError(f"a count must be whole, got {n}; round it explicitly first")
    return f"{int(n):,}"


def fmt_prob(p: float, digits: int = 3) -> str:
    """A probability as a decimal: ``0.607``."""
    return fmt_num(p, digits)


def fmt_pct(p: float, digits: int = 1) -> str:
    """A proportion as a percentage: ``0.6065 -> 60.7%``."""
    return fmt_num(100 * p, digits) + "%"


def fmt_months(m: float, digits: int = 1) -> str:
    """A duration in months: ``32.6 months``."""
    return fmt_num(m, digits) + " months"


def fmt_rate(p: float, se: float, digits: int = 1) -> str:
    """A simulated rate with its Monte-Carlo standard error: ``80.6% (MC SE 0.6%)``."""
    return f"{fmt_pct(p, digits)} (MC SE {fmt_pct(se, digits)})"


def fmt_frame(frame: "pd.DataFrame", formats: Mapping[str, Callable[[Any], str]]) -> "pd.DataFrame":
    """A table of numbers made ready to show: a copy of ``frame`` whose columns named in
    ``formats`` are mapped, cell by cell, through their formatter (one of the functions above,
    or a lambda around one: ``{"power": fmt_pct, "HR": fmt_hr, "deaths": lambda x: fmt_num(x, 1)}``);
    the other columns and the index are kept as they are. A name that is not a column is
    refused, with the columns there are."""
    missing = [k for k in formats if k not in frame.columns]
    if missing:
        raise ValueError(f"no column {', '.join(map(repr, missing))} to format; columns: "
                         f"{', '.join(map(repr, frame.columns))}")
    bad = [k for k, f in formats.items() if not callable(f)]
    if bad:
        raise ValueError(f"the formats of {', '.join(map(repr, bad))} must be functions of one value returning text")
    out = frame.copy()
    for col, f in formats.items():
        out[col] = [f(v) for v in frame[col].tolist()]
    return out


def fmt_value(x: float, digits: int = 4, *, trim: bool = False) -> str:
    """A number of mixed kind in a table: whole numbers as counts (``2``, ``212``), others with
    ``digits`` decimals (``0.3073``), so a table of protocol values never prints ``212.0000``.
    ``trim=True`` drops trailing zeros (``0.05`` rather than ``0.0500``), for values quoted as
    the protocol printed them."""
    _check_finite(x, "value")
    if math.isfinite(x) and float(x) == int(x):
        return f"{int(x):,}" if abs(x) >= 1e4 else f"{int(x)}"
    out = fmt_num(x, digits)
    return out.rstrip("0").rstrip(".") if trim and "." in out else out
