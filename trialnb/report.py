"""The only place numbers become strings: hazard ratios, CIs, p-values, counts, percentages.

Notebooks, widgets, the CLI and the reviewer's report all format through these functions, so
a number printed anywhere in ``trialnb`` reads the same way everywhere (and nbval outputs do
not drift with floating-point noise).
"""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from .errors import NoEstimateError
from .validation import is_number

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["fmt_ci", "fmt_estimate", "fmt_frame", "fmt_hr", "fmt_interval", "fmt_n", "fmt_num", "fmt_p", "fmt_pct",
           "fmt_prob", "fmt_months", "fmt_rate", "fmt_sig", "fmt_value", "text_table", "wrap_text"]

TEXT_WIDTH = 80
"""Columns of the package's plain-text reports: lines are wrapped at words to fit, so neither a
terminal nor a notebook (which breaks long output lines anywhere, mid-word) has to."""


def _check_finite(x: float, what: str) -> None:
    if not is_number(x):  # numpy's scalars are numbers; a bool is not
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


def _is_estimate(x: float | None) -> bool:
    if x is None:
        return False
    _check_finite(x, "estimate")
    return math.isfinite(x)


def fmt_estimate(x: float | None, digits: int = 2, *, unavailable: str | None = None) -> str:
    """An estimate as text, never a number that is not one: ``x`` with ``digits`` decimals, or
    ``"no estimate: <why>"`` when there is none.

    ``unavailable`` is why there is no estimate (for example "the Cox fit did not converge");
    give it whenever ``x`` is not an estimate, even when it is a finite number (a diverged fit's
    coefficient prints as a plausible-looking 0.000). A missing (``None``), NaN or infinite
    ``x`` without a reason raises :class:`~trialnb.errors.NoEstimateError`: the caller must say
    why, the reader is never left with "NA" or a made-up number."""
    if unavailable:
        return f"no estimate: {unavailable}"
    if not _is_estimate(x):
        raise NoEstimateError(f"{x!r} is not an estimate and no reason was given: pass "
                              "unavailable='why there is no estimate' (a number that is not one is never printed)")
    return fmt_num(float(x), digits)  # type: ignore[arg-type]


def fmt_interval(lo: float | None, hi: float | None, digits: int = 2, *, label: str = "95% CI",
                 unavailable: str | None = None) -> str:
    """An interval as text: ``"95% CI 0.58 to 0.65"`` (``label`` names it), or
    ``"no 95% CI: <why>"`` when there is none. As :func:`fmt_estimate`, a missing or
    non-finite bound without the reason ``unavailable`` raises
    :class:`~trialnb.errors.NoEstimateError`."""
    if unavailable:
        return f"no {label}: {unavailable}"
    if not (_is_estimate(lo) and _is_estimate(hi)):
        raise NoEstimateError(f"the {label} ({lo!r}, {hi!r}) has a bound that is not a number and no reason "
                              "was given: pass unavailable='why there is no interval'")
    return f"{label} {fmt_num(float(lo), digits)} to {fmt_num(float(hi), digits)}"  # type: ignore[arg-type]


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


def fmt_sig(x: float, digits: int = 4) -> str:
    """A number of unknown scale in a table, with ``digits`` significant digits: ``0.7569``
    (not 0.7569375529), ``212.6``, ``-0.155``, ``1.235e-05``; whole numbers as counts (``2``,
    ``16,023``); trailing zeros dropped (``0.5``); ``NA`` and ``∞`` spelled out. Used where a
    table holds quantities of every kind (the result contract's HTML); a quantity with a
    precision of its own (a p-value, a hazard ratio) has its own formatter above."""
    _check_finite(x, "value")
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a whole number of at least 1, got {digits!r}")
    x = float(x)
    if not math.isfinite(x):
        return fmt_num(x)
    if x.is_integer() and abs(x) < 1e15:
        return f"{int(x):,}" if abs(x) >= 1e4 else f"{int(x)}"
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    if abs(x) < 1e-4:
        mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
        return (mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa) + "e" + exponent
    decimals = max(digits - 1 - math.floor(math.log10(abs(x))), 0)
    out = f"{x:.{decimals}f}"
    out = out.rstrip("0").rstrip(".") if "." in out else out
    return "0" if out in ("-0", "") else out


def wrap_text(text: str, width: int = TEXT_WIDTH, indent: str = "") -> str:
    """``text`` wrapped at word boundaries to ``width`` columns (a word longer than a line is
    left whole), continuation lines indented by ``indent``."""
    return textwrap.fill(text, width=width, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False)


def text_table(rows: Sequence[tuple[str, str]], width: int = TEXT_WIDTH, label_width: int = 30) -> str:
    """Label/value rows as plain text within ``width`` columns: labels in a column (at most
    ``label_width`` wide; a longer label is wrapped, its continuation indented two spaces), each
    value beside its label and wrapped at words, its continuation lines aligned under the value
    column."""
    col = min(max((len(k) for k, _ in rows), default=0), label_width)
    value_width = max(width - col - 2, 20)
    out = []
    for label, value in rows:
        labels = textwrap.wrap(label, col, subsequent_indent="  ", break_long_words=False) or [""]
        values = textwrap.wrap(value, value_width, break_long_words=False, break_on_hyphens=False) or [""]
        for i in range(max(len(labels), len(values))):
            k = labels[i] if i < len(labels) else ""
            v = values[i] if i < len(values) else ""
            out.append(f"{k:<{col}}  {v}".rstrip())
    return "\n".join(out)
