"""Units and number formatting: one set of units on every page gradrace writes.

Sizes are decimal (kB, MB, GB: 10³, 10⁶, 10⁹ bytes), as the bandwidths they are divided
by (GB/s); times are s, ms, µs or ns; both with three significant digits.
"""

from __future__ import annotations

import math

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_seconds(seconds: float | None) -> str:
    """``seconds`` in s, ms, µs or ns with three significant digits ('-' when unknown)."""
    if seconds is None or seconds != seconds:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_bytes(nbytes: float) -> str:
    """``nbytes`` in B, kB, MB or GB (decimal) with three significant digits."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(nbytes) >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes:.0f} B"


def count(value: float) -> str:
    """``1,000`` written out; 10⁵ and above as a power of ten when the count is one."""
    value = int(value)
    if value >= 100_000 and math.log10(value) == int(math.log10(value)):
        return "10" + str(int(math.log10(value))).translate(_SUPERSCRIPTS)
    return f"{value:,}"


def times(ratio: float) -> str:
    """A ratio as '3.74×', '589×' or '1,040×': three significant digits, no exponent."""
    if ratio != ratio:
        return "–"
    return f"{ratio:,.0f}×" if ratio >= 100 else f"{ratio:.3g}×"
