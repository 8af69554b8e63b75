"""What ``gradrace report`` reads: a gradrace run or a pytest-benchmark file, detected."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from gradrace.bench.results import load_results, results_path
from gradrace.reports import limits
from gradrace.reports.pytest_json import from_pytest_benchmark, is_pytest_benchmark


def load_any(path: str | os.PathLike) -> pd.DataFrame:
    """A results table from a run folder, ``results.json``/``.csv``, or a pytest-benchmark JSON.

    The format is told by the content, not the name: a JSON object with ``benchmarks``
    and ``machine_info`` is pytest-benchmark's.
    """
    file = results_path(path)
    limits.check_file_size(file)
    frame = _load(file)
    limits.check_rows(frame, str(file))
    return frame


def _load(file: Path) -> pd.DataFrame:
    if file.suffix == ".json":
        with open(file, encoding="utf-8") as f:
            try:
                payload = json.load(f)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{file} is not JSON: {exc}") from None
        if is_pytest_benchmark(payload):
            return from_pytest_benchmark(payload, file)
    return load_results(file)


def default_out(path: str | os.PathLike) -> Path:
    """Where a report goes by default: the run's folder, or ``<name>-report`` beside a file
    that is not a run's ``results.json``."""
    path = Path(path)
    if path.is_dir():
        return path
    if path.name in ("results.json", "results.csv"):
        return path.resolve().parent
    return path.resolve().parent / f"{path.stem}-report"
