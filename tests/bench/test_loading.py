"""Plugins that hang or end the interpreter at import are load errors; the rest runs."""

import os
from pathlib import Path

from gradrace import run
from gradrace.bench.loading import load_registry_safely
from gradrace.cli import main

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
HANGS = f"{PLUGINS / 'hangs_at_import.py'}:anything"
EXITS = f"{PLUGINS / 'exits_at_import.py'}:anything"
GOOD = f"{PLUGINS / 'misbehaving.py'}:plain_gradient"


def test_hanging_and_exiting_imports_are_load_errors_and_the_rest_loads():
    registry = load_registry_safely([HANGS, EXITS, GOOD], entry_points=False, timeout=2)
    errors = {e.source: e.message for e in registry.errors}
    assert errors == {
        f"--plugin {HANGS}": "hung at import (no answer in 2 s)",
        f"--plugin {EXITS}": "exited with code 3 at import",
    }
    assert "plain_gradient" in registry and "numpy-dot" in registry


def test_list_reports_a_plugin_that_hangs_at_import(capsys):
    assert main(["list", "--no-entry-points", "--timeout", "1", "--plugin", HANGS]) == 1
    captured = capsys.readouterr()
    assert f"plugin not loaded: --plugin {HANGS}: hung at import (no answer in 1 s)" in captured.err
    assert "numpy-dot" in captured.out


def test_check_reports_a_plugin_that_exits_at_import(capsys):
    code = main(
        [
            "check",
            "--problem",
            "linear",
            "--no-entry-points",
            "--no-isolate",
            "--timeout",
            "1",
            "--plugin",
            EXITS,
            "--impl",
            "numpy-dot",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert f"NOT LOADED: --plugin {EXITS}: exited with code 3 at import" in captured.out
    assert "numpy-dot: agrees (24/24 cases)" in captured.out


def test_run_goes_on_without_a_plugin_that_hangs_at_import(tmp_path):
    frame = run(
        m=[10],
        n=[2],
        impl=["numpy-dot"],
        plugins=[HANGS],
        timeout=1,
        out=tmp_path,
        isolate=False,
        entry_points=False,
        threads=1,
        quick=True,
    )
    assert list(frame["status"]) == ["ok"]
    assert frame.attrs["metadata"]["load_errors"] == [
        f"--plugin {HANGS}: hung at import (no answer in 1 s)"
    ]


def test_a_plugin_changing_directory_at_import_moves_neither_out_nor_its_worker(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    plugin = f"{os.path.relpath(PLUGINS / 'changes_directory.py', tmp_path)}:moves_cwd"
    other = f"{os.path.relpath(PLUGINS / 'misbehaving.py', tmp_path)}:plain_gradient"
    frame = run(
        m=[10],
        n=[2],
        impl=["moves_cwd", "plain_gradient"],
        plugins=[plugin, other],
        timeout=20,
        out="relative-out",
        entry_points=False,
        threads=1,
        quick=True,
    )
    assert (tmp_path / "relative-out" / "results.json").exists()
    assert frame.attrs["out"] == str(tmp_path / "relative-out")
    assert list(frame["status"]) == ["ok", "ok"] and not frame.attrs["metadata"]["load_errors"]


def test_the_trial_call_that_detects_a_course_function_runs_in_the_probe_only(tmp_path):
    import os
    import subprocess
    import sys

    pidfile = tmp_path / "pids"
    spec = f"{PLUGINS / 'course_pid.py'}:compute_gradient_linear_reg"
    done = subprocess.Popen(
        [sys.executable, "-m", "gradrace", "list", "--no-entry-points", "--plugin", spec],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "GRADRACE_TEST_PIDFILE": str(pidfile)},
    )
    out, _ = done.communicate(timeout=120)
    assert done.returncode == 0 and "course convention" in out
    callers = {int(p) for p in pidfile.read_text().split()}
    assert callers and done.pid not in callers  # detected in the probe, not in gradrace itself


def test_a_plugin_that_hangs_only_in_gradraces_own_process_is_stopped_there_too():
    import time

    from gradrace.bench import loading

    start = time.perf_counter()
    registry = load_registry_safely(
        [f"{PLUGINS / 'hangs_in_main_process.py'}:IMPLEMENTATION"], entry_points=False, timeout=1
    )
    (error,) = registry.errors
    assert "hung at import in gradrace's own process" in str(error)
    assert "numpy-dot" in registry and "hides-from-the-probe" not in registry
    assert time.perf_counter() - start < loading.PROBE_STARTUP_FLOOR_S


MARKER = "loading-marker-5c1"
PRINTS_AT_IMPORT = f"""
print("{MARKER}")


def gradient(X, Y, W, b, lam):
    R = X @ W + b - Y
    return X.T @ R / X.shape[0] + lam / X.shape[0] * W, R.mean(axis=0)


def again(X, Y, W, b, lam):
    print("in-call-marker")
    return gradient(X, Y, W, b, lam)
"""


def _gradrace(*args: str) -> str:
    """stdout and stderr of the gradrace command in a process of its own, as a user sees
    them: the probe's and the worker's output reaches the same terminal."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "gradrace", *args, "--no-entry-points"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout + done.stderr


def _prints_at_import(tmp_path: Path) -> Path:
    path = tmp_path / "prints_at_import.py"
    path.write_text(PRINTS_AT_IMPORT, encoding="utf-8")
    return path


def test_a_plugin_that_prints_at_import_prints_once_in_list(tmp_path):
    path = _prints_at_import(tmp_path)
    out = _gradrace("list", "--plugin", f"{path}:gradient", "--plugin", f"{path}:again")
    assert out.count(MARKER) == 1


def test_a_plugin_that_prints_at_import_prints_once_in_check(tmp_path):
    path = _prints_at_import(tmp_path)
    out = _gradrace(
        "check",
        *("--plugin", f"{path}:gradient", "--plugin", f"{path}:again"),
        *("--impl", "gradient", "--m", "5", "--n", "2", "--dtype", "float64"),
    )
    assert out.count(MARKER) == 1
    assert "gradient: agrees (2/2 cases)" in out and "again: agrees (2/2 cases)" in out


def test_a_plugins_output_during_its_calls_still_shows_from_the_worker(tmp_path):
    path = _prints_at_import(tmp_path)
    out = _gradrace(
        "check", "--plugin", f"{path}:again", "--m", "5", "--n", "2", "--dtype", "float64"
    )
    assert out.count("in-call-marker") == 4  # 2 cases, each called twice


def test_a_plain_function_that_hangs_when_called_is_named_in_its_trial_call_not_import():
    trial = f"{PLUGINS / 'hangs_in_trial_call.py'}:compute_gradient_linear_reg"
    registry = load_registry_safely([trial, GOOD], entry_points=False, timeout=2)
    (error,) = registry.errors
    assert error.message == (
        "hung in the trial call that tells its convention, after its import (no answer in 2 s)"
    )
    assert "plain_gradient" in registry


def test_a_plugin_path_that_is_not_a_file_says_so(tmp_path):
    registry = load_registry_safely([f"{tmp_path}:g"], entry_points=False, timeout=10)
    (error,) = registry.errors
    assert "is not a regular file" in error.message


def test_a_plugin_ended_in_the_probe_by_anothers_thread_is_probed_again_first_and_loads():
    sniper = f"{PLUGINS / 'snipes_in_trial.py'}:gradient"
    registry = load_registry_safely([sniper, GOOD, EXITS], entry_points=False, timeout=10)
    errors = {e.source: e.message for e in registry.errors}
    assert errors == {f"--plugin {EXITS}": "exited with code 3 at import"}  # its own, charged
    assert "plain_gradient" in registry and "gradient" in registry
