"""gradrace's pytest plugin, used as a plugin author would: pytest run from a folder outside
the checkout, on ``--pyargs gradrace.benchmarks`` or on the author's own test file.

The installed gradrace registers the plugin through its ``pytest11`` entry point; where
the installed metadata predates it (an older editable install), ``-p`` loads it instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib.util import find_spec
from pathlib import Path

import pytest

from gradrace.pytest_plugin import MODULE, entry_point_installed

ROOT = Path(__file__).resolve().parents[1]
BROKEN = ROOT / "tests" / "plugins" / "broken_import.py"
LOAD_PLUGIN = [] if entry_point_installed() else ["-p", MODULE]
SMALL = ["--gradrace-m", "1000", "--gradrace-n", "10"]

MY_PLUGIN = '''
from gradrace import Implementation


def gradient(X, Y, W, b, lam):
    """My gradient, with numpy."""
    m = X.shape[0]
    r = X @ W + b - Y
    return X.T @ r / m + (lam / m) * W, r.mean(axis=0)


MY_IMPLEMENTATION = Implementation("my-numpy", gradient)
'''

MY_TESTS = """
from my_plugin import MY_IMPLEMENTATION, gradient


def test_mine(gradrace_benchmark):
    gradrace_benchmark(MY_IMPLEMENTATION, m=1000, n=10)


def test_my_function_on_the_grid(gradrace_benchmark, gradrace_case):
    gradrace_benchmark(gradient, gradrace_case)


def test_a_built_in_by_name(gradrace_benchmark):
    gradrace_benchmark("numpy-dot", m=1000, n=10, dtype="float32")


def forgets_lambda(X, Y, W, b, lam):
    return gradient(X, Y, W, b, 0.0)


def test_a_slip(gradrace_benchmark):
    gradrace_benchmark(forgets_lambda, m=50, n=3)
"""


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """An empty folder outside gradrace's checkout, holding a plugin file."""
    assert ROOT not in tmp_path.parents
    (tmp_path / "my_plugin.py").write_text(MY_PLUGIN, encoding="utf-8")
    return tmp_path


def pytest_in(folder: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *LOAD_PLUGIN, *args]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300)


def benchmarks(path: Path) -> dict[str, dict]:
    """extra_info of each benchmark in a --benchmark-json file, by test name."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    return {b["name"]: b["extra_info"] for b in payload["benchmarks"]}


def test_importing_the_plugin_loads_neither_numpy_nor_the_registry():
    code = "import sys, gradrace.pytest_plugin; print(sorted(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(eval(done.stdout))
    assert not loaded & {"numpy", "numba", "pandas", "gradrace.bench", "gradrace.implementations"}


def test_the_shipped_suite_times_a_plugin_and_gradrace_reports_it(outside):
    done = pytest_in(
        outside,
        "--pyargs",
        "gradrace.benchmarks",
        "--benchmark-only",
        "--gradrace-plugin",
        "my_plugin.py:MY_IMPLEMENTATION",
        "--gradrace-impl",
        "my-numpy",
        *SMALL,
        "--benchmark-json",
        "out.json",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    [(name, info)] = benchmarks(outside / "out.json").items()
    assert name == "test_gradient[my-numpy-m1000-n10-k1-float64]"
    assert info["implementation"] == "my-numpy" and info["threads"] >= 1
    assert (info["m"], info["n"], info["k"], info["dtype"]) == (1000, 10, 1, "float64")
    assert info["error"] < 1e-12

    command = [sys.executable, "-m", "gradrace", "report", "out.json", "--out", "rep"]
    report = subprocess.run(command, cwd=outside, capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "my-numpy" in (outside / "rep" / "index.html").read_text(encoding="utf-8")


def test_a_plugin_that_fails_to_load_fails_the_session_naming_it(outside):
    spec = f"{BROKEN}:IMPLEMENTATION"
    done = pytest_in(
        outside,
        "--pyargs",
        "gradrace.benchmarks",
        "--benchmark-only",
        "--gradrace-plugin",
        spec,
        *SMALL,
    )
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert f"--gradrace-plugin {spec} failed to load: ImportError: this plugin needs" in done.stderr
    assert "passed" not in done.stdout


def test_an_unknown_implementation_fails_the_session_naming_it(outside):
    done = pytest_in(
        outside,
        "--pyargs",
        "gradrace.benchmarks",
        "--benchmark-only",
        "--gradrace-impl",
        "my-numpy",
        *SMALL,
    )
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "--gradrace-impl: unknown implementation(s) 'my-numpy'; known: " in done.stderr
    assert "passed" not in done.stdout


@pytest.mark.skipif(find_spec("cupy") is not None, reason="cupy is installed here")
def test_an_unavailable_implementation_fails_the_session_saying_why(outside):
    done = pytest_in(outside, "--pyargs", "gradrace.benchmarks", "--gradrace-impl", "cupy")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "--gradrace-impl: 'cupy' is not available: needs cupy" in done.stderr


def test_a_bad_grid_value_fails_the_session_naming_the_option(outside):
    done = pytest_in(outside, "--pyargs", "gradrace.benchmarks", "--gradrace-n", "10,ten")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "--gradrace-n: 'ten' is not a number" in done.stderr


def test_the_fixture_in_an_authors_own_test_file(outside):
    (outside / "test_mine.py").write_text(MY_TESTS, encoding="utf-8")
    done = pytest_in(
        outside,
        "--benchmark-only",
        *SMALL,
        "--gradrace-dtype",
        "float32",
        "--benchmark-json",
        "out.json",
        "test_mine.py",
    )
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout + done.stderr
    assert "1 failed, 3 passed" in done.stdout
    assert "forgets_lambda on m=50 n=3 k=1 float64 λ=1: dW wrong" in done.stdout
    timed = benchmarks(outside / "out.json")
    assert {name: info["implementation"] for name, info in timed.items()} == {
        "test_mine": "my-numpy",
        "test_my_function_on_the_grid[m1000-n10-k1-float32]": "gradient",
        "test_a_built_in_by_name": "numpy-dot",
    }
    assert timed["test_a_built_in_by_name"]["dtype"] == "float32"
    assert timed["test_mine"]["dtype"] == "float64"


SLIPS = """
from my_plugin import gradient


def forgets_lambda(X, Y, W, b, lam):
    return gradient(X, Y, W, b, 0.0)


def test_a_slip(gradrace_benchmark):
    gradrace_benchmark(forgets_lambda, m=50, n=3)
"""


@pytest.mark.parametrize("where", ["suite", "own-test"])
def test_a_disagreement_fails_with_its_message_and_no_unused_fixture_warning(outside, where):
    (outside / "slips.py").write_text(SLIPS, encoding="utf-8")
    if where == "suite":  # the shipped suite on a --gradrace-plugin
        args = ["--pyargs", "gradrace.benchmarks", "--gradrace-plugin", "slips.py:forgets_lambda"]
        args += ["--gradrace-impl", "forgets_lambda", *SMALL]
    else:  # the fixture in the author's own test file
        (outside / "test_slips.py").write_text(SLIPS, encoding="utf-8")
        args = ["test_slips.py"]
    done = pytest_in(outside, "--benchmark-only", *args)
    output = done.stdout + done.stderr
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, output
    assert "DisagreementError: forgets_lambda on m=" in output
    assert "looks like: regularization term missing" in output
    assert "PytestBenchmarkWarning" not in output
    assert "Benchmark fixture was not used at all" not in output


def test_a_session_without_gradrace_tests_is_left_as_it_was(outside):
    (outside / "test_other.py").write_text(
        textwrap.dedent("""
        import sys


        def test_timed_as_pytest_benchmark_would(benchmark):
            assert not benchmark.disabled
            benchmark(sum, [1, 2, 3])


        def test_gradrace_loaded_nothing():
            assert "gradrace.bench.registry" not in sys.modules
            assert "numba" not in sys.modules
    """),
        encoding="utf-8",
    )
    done = pytest_in(outside, "test_other.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_a_plugin_reusing_a_registered_name_fails_the_session_naming_both(outside):
    spec = "gradrace.implementations.numpy_dot:IMPLEMENTATION"
    done = pytest_in(outside, "--pyargs", "gradrace.benchmarks", "--gradrace-plugin", spec)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert (
        f"--gradrace-plugin {spec}: duplicate implementation name 'numpy-dot': "
        "already registered by built-in" in done.stderr
    )
