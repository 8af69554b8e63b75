"""The example plugin package, installed as a user would, appears in all five places.

CI installs it (``pip install -e examples/gradrace-example-plugin``); elsewhere these
tests skip, saying so.
"""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gradrace import load_registry, run
from gradrace.cli import main
from gradrace.reports import write_report
from gradrace.testing import CHECKS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "gradrace-example-plugin"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("gradrace_example_plugin") is None,
    reason="the example plugin is not installed (CI installs it: "
    "pip install -e examples/gradrace-example-plugin)",
)


def test_it_is_registered_through_its_entry_point():
    entry = load_registry().entries["example-dot"]
    assert entry.origin == "entry point 'example-dot' from gradrace-example-plugin 0.1.0"


def test_it_appears_in_gradrace_list(capsys):
    main(["list"])
    out = capsys.readouterr().out
    assert re.search(r"example-dot +\[entry point 'example-dot' from gradrace-example-plugin", out)


def test_it_agrees_in_gradrace_check(capsys):
    assert main(["check", "--impl", "example-dot", "--no-isolate"]) == 0
    assert "example-dot: agrees (24/24 cases)" in capsys.readouterr().out


def test_it_is_timed_by_gradrace_run_and_in_the_report(tmp_path):
    frame = run(
        m=[100, 1000], n=[5], impl=["example-dot", "numpy-dot"], threads=1, quick=True, out=tmp_path
    )
    mine = frame[frame.implementation == "example-dot"]
    assert len(mine) == 2 and (mine["status"] == "ok").all()
    page = write_report(frame, tmp_path)
    assert "example-dot" in page.read_text(encoding="utf-8")


def test_it_is_benchmarked_by_pytest_benchmark(tmp_path):
    out = tmp_path / "bench.json"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "tests/benchmarks",
        "--benchmark-only",
        "-q",
        "-p",
        "no:cacheprovider",
        "--gradrace-impl",
        "example-dot",
        "--gradrace-m",
        "100",
        "--gradrace-n",
        "5",
        f"--benchmark-json={out}",
    ]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    names = {b["extra_info"]["implementation"] for b in json.loads(out.read_text())["benchmarks"]}
    assert names == {"example-dot"}


def test_its_own_conformance_suite_passes():
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")]
    result = subprocess.run(cmd, cwd=EXAMPLE, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(CHECKS)} passed" in result.stdout
