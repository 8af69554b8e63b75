"""Fixtures for the report tests: synthetic results, a real pytest-benchmark file, reports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from synthetic_results import make_results

from gradrace.reports import write_report

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def results() -> pd.DataFrame:
    """A fresh synthetic results table (tests may modify it)."""
    return make_results()


@pytest.fixture(scope="session")
def report_dir(tmp_path_factory) -> Path:
    """The report of the synthetic results, built once for the session."""
    out = tmp_path_factory.mktemp("report")
    path = write_report(make_results(), out)
    assert path == out / "index.html"
    return out


@pytest.fixture(scope="session")
def benchmark_json(tmp_path_factory) -> Path:
    """A real pytest-benchmark JSON file, written by gradrace's benchmark suite in this run."""
    out = tmp_path_factory.mktemp("pytest-benchmark") / "bench.json"
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO / "tests" / "benchmarks"),
        "--benchmark-only",
        "--gradrace-m",
        "50,400",
        "--gradrace-n",
        "3,20",
        "--gradrace-impl",
        "numpy-dot",
        "--gradrace-impl",
        "einsum",
        "--gradrace-impl",
        "python-loops",
        f"--benchmark-json={out}",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def benchmark_report(tmp_path_factory, benchmark_json) -> Path:
    """The report of the real pytest-benchmark file, built once for the session."""
    from gradrace.reports.inputs import load_any

    out = tmp_path_factory.mktemp("benchmark-report")
    write_report(load_any(benchmark_json), out)
    return out
