"""How much of a large results file a report draws and lists, and the file it refuses.

A run over many sizes must not make a report of a thousand plot panels or a page of
a million table rows: plots show at most ``MAX_PANELS`` values of n (or m), spread over
the range; tables list at most ``MAX_TABLE_ROWS`` rows; each says what it left out. A
file beyond ``MAX_ROWS`` rows (or ``MAX_FILE_BYTES``) is refused before it is drawn.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

#: At most this many panels (values of n or m) in one plot.
MAX_PANELS = 6
#: At most this many values of n, and of m, in the speedup heatmap.
MAX_HEATMAP_VALUES = 6
#: At most this many rows in one HTML table (the results, the model's predictions, …).
MAX_TABLE_ROWS = 1_000
#: At most this many values of n get a line of crossovers.
MAX_CROSSOVER_N = 20
#: A results file with more rows than this is refused.
MAX_ROWS = 100_000
#: A results file larger than this is refused before it is parsed.
MAX_FILE_BYTES = 128 * 2**20


class TooLarge(ValueError):
    """A results file beyond what a report can draw in reasonable time and memory."""


def check_file_size(path: str | os.PathLike) -> None:
    """Refuse, before parsing it, a file larger than ``MAX_FILE_BYTES``."""
    size = Path(path).stat().st_size
    if size > MAX_FILE_BYTES:
        raise TooLarge(
            f"{path} is {size / 2**20:,.0f} MiB: gradrace report reads results files of at "
            f"most {MAX_FILE_BYTES / 2**20:,.0f} MiB (about {MAX_ROWS:,} rows); report a "
            "part of the run (filter its rows into a smaller file)"
        )


def check_rows(results: pd.DataFrame, source: str = "the results table") -> None:
    """Refuse results with more than ``MAX_ROWS`` rows."""
    if len(results) > MAX_ROWS:
        raise TooLarge(
            f"{source} has {len(results):,} rows: gradrace report draws at most {MAX_ROWS:,}; "
            "report a part of the run (filter its rows into a smaller file)"
        )


def spread(values: Sequence, at_most: int) -> list:
    """At most ``at_most`` of the sorted distinct ``values``, evenly spread over their order
    (the smallest and the largest always kept)."""
    ordered = sorted(set(values))
    if len(ordered) <= at_most:
        return ordered
    picks = np.unique(np.linspace(0, len(ordered) - 1, at_most).round().astype(int))
    return [ordered[i] for i in picks]


def left_out(shown: int, total: int, what: str) -> str:
    """'8 of 999 values of n shown, spread over the range' or '' when nothing is left out."""
    if shown >= total:
        return ""
    return f"{shown:,} of {total:,} {what} shown, spread over the range"


def panel_values(values: Sequence, name: str, at_most: int = MAX_PANELS) -> tuple[list, str]:
    """The values of ``name`` (n or m) that get a panel, and a note on those left out."""
    total = len(set(values))
    chosen = spread(values, at_most)
    return chosen, left_out(len(chosen), total, f"values of {name}")


def heatmap_rows(rows: pd.DataFrame, at_most: int = MAX_HEATMAP_VALUES) -> tuple[pd.DataFrame, str]:
    """``rows`` at no more than ``at_most`` values of n and, at each, of the m measured there,
    and a note on the rest."""
    ns, n_note = panel_values(rows["n"], "n", at_most)
    at_n = rows[rows["n"].isin(ns)]
    sizes = at_n[["n", "m"]].drop_duplicates()
    keep = sizes.groupby("n")["m"].agg(lambda ms: spread(ms, at_most)).explode()
    kept = at_n.merge(keep.rename("m").reset_index().astype({"m": rows["m"].dtype}), on=["n", "m"])
    total_m, shown_m = rows["m"].nunique(), kept["m"].nunique()
    m_note = left_out(shown_m, total_m, "values of m") if len(kept) < len(at_n) else ""
    return kept, "; ".join(note for note in (n_note, m_note) if note)


def head(rows: list | pd.DataFrame, what: str, at_most: int = MAX_TABLE_ROWS) -> tuple:
    """The first ``at_most`` rows of a table and a note on the rest ('' if none left out)."""
    if len(rows) <= at_most:
        return rows, ""
    note = f"the first {at_most:,} of {len(rows):,} {what} are listed"
    return rows[:at_most], note


def with_note(text: str, note: str) -> str:
    """``text`` followed by ``note`` (capitalised, as its own sentence) when there is one."""
    if not note:
        return text
    return f"{text} {note[0].upper()}{note[1:]}."


def noted(fig, note: str):
    """Attach ``note`` (what a plot left out) to ``fig``, under its title too; return ``fig``."""
    fig.gradrace_note = note
    return fig


def note_of(fig) -> str:
    """The note ``noted`` attached to ``fig`` ('' if none)."""
    return getattr(fig, "gradrace_note", "")


def crossover_rows(rows: pd.DataFrame, at_most: int = MAX_CROSSOVER_N) -> tuple[pd.DataFrame, str]:
    """``rows`` at no more than ``at_most`` values of n (crossovers are listed per n), and a
    sentence saying so when some are left out."""
    ns = spread(rows["n"], at_most)
    total = rows["n"].nunique()
    if len(ns) >= total:
        return rows, ""
    kept = rows[rows["n"].isin(ns)]
    return (
        kept,
        f"Crossovers are looked for at {len(ns):,} of {total:,} values of n, spread over the range.",
    )
