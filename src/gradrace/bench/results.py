"""Results on disk: ``results.csv`` and ``results.json``, rewritten atomically after each case.

The JSON holds ``{"metadata": {...}, "results": [row, ...]}``; the CSV holds the same
rows for spreadsheets. The metadata is versioned (``FORMAT``) and holds everything a
report needs besides the rows: the machine, the settings and each implementation's
traits (``traits.py``), so reading results never imports an implementation. Each write goes to a temporary file in the same folder and
is renamed over the old one, so an interrupted run never leaves a torn file and
keeps every finished case.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from gradrace.bench.cells import neutralised
from gradrace.bench.problem import PROBLEMS
from gradrace.bench.status import Status

#: The version of the results file's layout. 1: no ``format`` key, no traits, no ``kind``
#: column (read, with fewer report sections); 2: traits and ``kind``. The ``problem``
#: column came within format 2: a file without it holds linear results only.
FORMAT = 2

#: The columns of a results table, in order.
COLUMNS = [
    "implementation",
    "m",
    "n",
    "k",
    "dtype",
    "problem",
    "threads",
    "status",
    "kind",
    "median_s",
    "min_s",
    "mean_s",
    "iqr_s",
    "q1_s",
    "q3_s",
    "ci_low_s",
    "ci_high_s",
    "rounds",
    "number",
    "prepare_s",
    "gflops",
    "bandwidth_gbs",
    "read_s",
    "bandwidth_fraction",
    "compute_s",
    "peak_gflops",
    "exp_s",
    "limit_s",
    "limit_ratio",
    "ratio_to_fastest",
    "error",
    "err_dW",
    "err_db",
    "peak_bytes",
    "lam",
    "seed",
    "load_before",
    "load_after",
    "other_threads",
    "diagnosis",
    "message",
]

#: The measured columns: numbers, NaN where not measured (what a report reads as floats).
MEASURED = tuple(
    c
    for c in COLUMNS[COLUMNS.index("median_s") : COLUMNS.index("peak_bytes") + 1]
    if c not in ("rounds", "number")
)

#: The per-round per-call times (lists) of each row and of the probes timed in its rounds:
#: in results.json only (a CSV cell holds no list). Rows of older files have none.
SAMPLES = ["samples", "read_samples", "compute_samples", "exp_samples"]

#: The most samples a row's list may hold: a run keeps one per timing round (45 at most),
#: and a comparison resamples each list thousands of times.
MAX_SAMPLES = 1000

#: The columns that identify one measurement: a rerun with --resume skips these keys.
KEY = ["implementation", "m", "n", "k", "dtype", "problem", "threads"]

#: The problem of a row that names none: results written before the column existed.
DEFAULT_PROBLEM = "linear"


def least_flops(m: int, n: int, k: int) -> float:
    """The arithmetic any gradient must do: X @ W and Xᵀ @ residual, 2·m·n·k flops each."""
    return 4.0 * m * n * k


def derived(
    m: int,
    n: int,
    k: int,
    dtype: str,
    median_s: float,
    read_s: float | None,
    peak_gflops: float | None = None,
    exp_s: float | None = None,
) -> dict:
    """GFLOP/s, effective bandwidth (X read once), and the distance to the limit.

    The limit is the larger of two floors measured in the same rounds: reading X and Y
    once (``read_s``), and the least arithmetic: 4·m·n·k flops at the peak rate of the
    in-round matrix-product probe, plus, for logistic regression, its m·k exps at the
    rate of the in-round exp probe (``exp_s``), which the same units compute.
    ``limit_ratio`` is the time ÷ the limit (1 = at the limit)."""
    itemsize = np.dtype(dtype).itemsize
    nan = float("nan")
    exps = exp_s if exp_s and math.isfinite(exp_s) else 0.0
    compute_s = least_flops(m, n, k) / (peak_gflops * 1e9) + exps if peak_gflops else nan
    floors = [f for f in (read_s, compute_s) if f and math.isfinite(f)]
    limit_s = max(floors) if floors else nan
    return {
        "gflops": least_flops(m, n, k) / median_s / 1e9,
        "bandwidth_gbs": itemsize * m * n / median_s / 1e9,
        "read_s": read_s if read_s else nan,
        "bandwidth_fraction": read_s / median_s if read_s else nan,
        "peak_gflops": peak_gflops if peak_gflops else nan,
        "exp_s": exp_s if exp_s else nan,
        "limit_s": limit_s,
        "limit_ratio": median_s / limit_s if floors else nan,
    }


def atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; results are not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return _json_safe(value.item())
    return value


def _json_row(row: dict) -> dict:
    """A row as results.json holds it: every column, then the samples it has."""
    out = {c: _json_safe(row.get(c)) for c in COLUMNS}
    for column in SAMPLES:
        values = row.get(column)
        if isinstance(values, list | tuple):
            out[column] = [_json_safe(float(v)) for v in values]
    return out


class ResultsWriter:
    """Collects result rows and rewrites both files atomically on every ``add``."""

    def __init__(self, out: Path, metadata: dict, rows: list[dict] | None = None):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.metadata = metadata
        self.rows: list[dict] = list(rows or [])

    @property
    def json_path(self) -> Path:
        return self.out / "results.json"

    @property
    def csv_path(self) -> Path:
        return self.out / "results.csv"

    def add(self, rows: list[dict]) -> None:
        self.rows.extend(rows)
        self.write()

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows, columns=COLUMNS)
        frame.attrs["metadata"] = self.metadata
        return frame

    def write(self) -> None:
        rows = [_json_row(row) for row in self.rows]
        payload = {"metadata": self.metadata, "results": rows}
        atomic_write(self.json_path, json.dumps(payload, indent=1, default=str))
        atomic_write(self.csv_path, neutralised(self.frame()).to_csv(index=False))


def results_path(path: str | os.PathLike) -> Path:
    """``results.json`` inside a folder, or the file itself."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    if not path.exists():
        raise FileNotFoundError(f"no results at {path}")
    return path


def _read_csv(path: Path) -> pd.DataFrame:
    """A results.csv, its text columns as written: 'n/a' is a status and a kind there,
    not a missing value (pandas reads it as NaN)."""
    frame = pd.read_csv(path)
    text = [c for c in ("status", "kind") if c in frame]
    if text:
        raw = pd.read_csv(path, usecols=text, keep_default_na=False, dtype=str)
        frame[text] = raw[text].replace("", np.nan)
    return frame


def load_results(path: str | os.PathLike) -> pd.DataFrame:
    """Load a run's results (its folder, results.json or results.csv) as a DataFrame.

    The run's metadata is in ``frame.attrs["metadata"]`` (empty for a CSV file).
    """
    path = results_path(path)
    if path.suffix == ".csv":
        frame, metadata = _read_csv(path), {}
    else:
        with open(path, encoding="utf-8") as f:
            try:
                payload = json.load(f)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ValueError(
                    f"{path} is not readable JSON (cut short or damaged?): {exc}"
                ) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
            raise ValueError(f"{path} is not a gradrace results file (no list of 'results')")
        frame, metadata = pd.DataFrame(payload["results"]), payload.get("metadata", {})
        if not isinstance(metadata, dict):
            raise ValueError(f"{path}: 'metadata' must be an object, not {type(metadata).__name__}")
        version = metadata.get("format", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ValueError(
                f"{path}: metadata 'format' must be a whole number, not {version!r:.40}"
            )
        if version > FORMAT:
            raise ValueError(
                f"{path} has results format {version!r}, newer than this gradrace reads "
                f"(format {FORMAT}): upgrade gradrace to read it"
            )
    missing = [c for c in KEY + ["status", "median_s"] if c not in frame and c != "problem"]
    if missing and len(frame):
        raise ValueError(
            f"{path} is not a gradrace results file: no column(s) {', '.join(missing)}"
        )
    frame = frame.reindex(columns=COLUMNS + [c for c in SAMPLES if c in frame])
    _check_metadata(metadata, path)
    _check_cells(frame, path)
    _check_samples(frame, path)
    frame["problem"] = [  # older files: linear only
        p if isinstance(p, str) else DEFAULT_PROBLEM for p in frame["problem"]
    ]
    frame.attrs["metadata"] = metadata
    return frame


#: Metadata fields that, where a file has them, must be objects (a report or a resumed run
#: reads into them).
_OBJECTS = ("machine", "busy", "config", "implementations", "env", "commit", "shadowed", "apart")
#: Columns that must hold whole numbers of at least 1 (sizes and threads); the sizes in
#: every row.
_COUNTS = ("m", "n", "k", "threads")
_SIZES = ("m", "n", "k")
#: Columns of seconds: numbers, never negative.
_SECONDS = tuple(c for c in MEASURED if c.endswith("_s"))


def _check_metadata(metadata: dict, path: Path) -> None:
    """Refuse metadata whose fields a report or a resumed run reads into are of the wrong
    type, naming it."""
    for key in _OBJECTS:
        value = metadata.get(key)
        if value is not None and not isinstance(value, dict):
            raise ValueError(
                f"{path}: metadata {key!r} must be an object, not {type(value).__name__} "
                f"{value!r:.40}"
            )


def _bad_cell(
    frame: pd.DataFrame, column: str, ok: pd.Series, path: Path, wanted: str, required=False
) -> None:
    """Raise naming the first row of ``column`` that is not ``ok``: among the cells
    present, or among all where the column is ``required`` (True, or a tuple holding it)."""
    needed = required is True or (isinstance(required, tuple) and column in required)
    bad = ~ok if needed else frame[column].notna() & ~ok
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        name, value = frame["implementation"].iloc[i], frame[column].iloc[i]
        value = value.item() if isinstance(value, np.generic) else value
        raise ValueError(
            f"{path}: row {i + 1} ({name}): {column!r} must be {wanted}, not {value!r:.40}"
        )


def _check_cells(frame: pd.DataFrame, path: Path) -> None:
    """Refuse cells a report cannot read (a hand-edited or damaged file), naming the row
    and the column: sizes that are not whole numbers, an unknown dtype or problem, times
    that are not numbers or are negative."""
    if frame.empty:
        return
    is_text = frame["implementation"].map(lambda v: isinstance(v, str) and v != "")
    if not is_text.all():
        i = int(np.flatnonzero(~is_text.to_numpy())[0])
        value = frame["implementation"].iloc[i]
        value = value.item() if isinstance(value, np.generic) else value
        raise ValueError(f"{path}: row {i + 1}: 'implementation' must be a name, not {value!r:.40}")
    for column in _COUNTS:
        numbers = frame[column].map(lambda v: _is_number(v) and float(v).is_integer() and v >= 1)
        _bad_cell(frame, column, numbers, path, "a whole number of at least 1", _SIZES)
    dtypes = frame["dtype"].isin(["float64", "float32"])
    _bad_cell(frame, "dtype", dtypes, path, "float64 or float32", required=True)
    statuses = frame["status"].isin(list(Status))
    _bad_cell(frame, "status", statuses, path, f"one of {', '.join(Status)}", required=True)
    problems = frame["problem"].isin(PROBLEMS)
    _bad_cell(frame, "problem", problems, path, f"one of {', '.join(PROBLEMS)}")
    for column in MEASURED:
        numbers = frame[column].map(_is_number)
        _bad_cell(frame, column, numbers, path, "a number")
    for column in _SECONDS:
        values = pd.to_numeric(frame[column], errors="coerce")
        _bad_cell(frame, column, ~(values < 0), path, "a time of at least 0 seconds")
    twice = frame.duplicated([c for c in KEY if c in frame], keep="first")
    if twice.any():
        i = int(np.flatnonzero(twice.to_numpy())[0])
        name = frame["implementation"].iloc[i]
        raise ValueError(
            f"{path}: row {i + 1} ({name}) measures the same case as an earlier row "
            "(implementation, m, n, k, dtype, problem and threads): a file holds one row per case"
        )


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _check_samples(frame: pd.DataFrame, path: Path) -> None:
    """Refuse a samples cell that is neither missing nor a list of at most MAX_SAMPLES
    numbers (or nulls: a non-finite round), naming the row and the column (a comparison
    would fail on it, or resample a huge list)."""
    for column in (c for c in SAMPLES if c in frame):
        for i, (name, cell) in enumerate(zip(frame["implementation"], frame[column], strict=True)):
            if cell is None or (isinstance(cell, float) and math.isnan(cell)):
                continue
            if not isinstance(cell, list) or not all(v is None or _is_number(v) for v in cell):
                problem = f"must be a list of numbers (seconds per call), not {cell!r:.60}"
            elif len(cell) > MAX_SAMPLES:
                problem = (
                    f"holds {len(cell):,} samples; at most {MAX_SAMPLES:,} "
                    "(a run keeps one per timing round)"
                )
            else:
                continue
            raise ValueError(f"{path}: row {i + 1} ({name}): {column!r} {problem}")
