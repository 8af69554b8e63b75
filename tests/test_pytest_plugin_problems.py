"""--gradrace-problem: the benchmark suite parametrized by problem, ids naming it."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from test_pytest_plugin import LOAD_PLUGIN, ROOT, benchmarks, outside, pytest_in  # noqa: F401

TWO = ROOT / "tests" / "plugins" / "two_problems.py"


@pytest.fixture
def with_two(outside):  # noqa: F811
    shutil.copy(TWO, outside / "two_problems.py")
    return outside


def _suite(folder, *args: str) -> subprocess.CompletedProcess:
    return pytest_in(
        folder,
        "--pyargs",
        "gradrace.benchmarks",
        "--gradrace-plugin",
        "two_problems.py:both",
        "--gradrace-impl",
        "two-problems",
        "--gradrace-impl",
        "gram",  # linear only
        "--gradrace-m",
        "200",
        "--gradrace-n",
        "5",
        *args,
    )


def test_both_problems_are_benchmarked_with_ids_naming_logistic(with_two):
    done = _suite(with_two, "--gradrace-problem", "both", "--benchmark-json", "out.json", "-rs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed, 1 skipped" in done.stdout
    assert "gram: implements linear only; it has no logistic version" in done.stdout
    found = benchmarks(with_two / "out.json")
    assert set(found) == {
        "test_gradient[two-problems-m200-n5-k1-float64]",
        "test_gradient[gram-m200-n5-k1-float64]",
        "test_gradient[two-problems-logistic-m200-n5-k1-float64]",
    }
    assert found["test_gradient[two-problems-logistic-m200-n5-k1-float64]"]["problem"] == "logistic"

    command = [sys.executable, "-m", "gradrace", "report", "out.json", "--out", "rep"]
    report = subprocess.run(command, cwd=with_two, capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stdout + report.stderr
    page = (with_two / "rep" / "index.html").read_text(encoding="utf-8")
    assert "gradrace report (linear and logistic regression)" in page


def test_the_default_is_linear_only(with_two):
    done = _suite(with_two, "--collect-only", "-q")
    assert "logistic" not in done.stdout and "2 tests collected" in done.stdout


def test_an_unknown_problem_fails_the_session_naming_the_known_ones(with_two):
    done = _suite(with_two, "--gradrace-problem", "probit")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert (
        "--gradrace-problem: unknown problem 'probit'; use one of linear, logistic" in done.stderr
    )
