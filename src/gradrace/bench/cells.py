"""The one rule for text cells in the CSV and text files gradrace writes: a cell that a
spreadsheet would read as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) gets a leading ``'``, so a plugin's name or message cannot run as one.
Only ``str`` cells change: numbers, negative ones included, stay numbers.
"""

from __future__ import annotations

import pandas as pd

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: object) -> object:
    """``value`` with a ``'`` in front if it is a str a spreadsheet would run; else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with ``text_cell`` applied to every text column (attrs kept)."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(text_cell)
    out.attrs = frame.attrs
    return out
