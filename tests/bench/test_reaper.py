"""Processes a plugin starts, detached ones included, end with gradrace's worker."""

import os
import signal
from pathlib import Path

from gradrace.cli import main

DETACHES = f"{Path(__file__).resolve().parents[1] / 'plugins' / 'detaches.py'}:starts_sleep"


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_detached_process_started_by_a_plugin_does_not_outlive_check(tmp_path, monkeypatch):
    pidfile = tmp_path / "pids"
    monkeypatch.setenv("GRADRACE_TEST_PIDFILE", str(pidfile))
    code = main(["check", "--no-entry-points", "--plugin", DETACHES, "--impl", "starts_sleep"])
    pids = [int(p) for p in pidfile.read_text().split()]
    alive = [p for p in pids if _running(p)]
    for pid in alive:  # leave nothing behind, whatever the verdict
        os.kill(pid, signal.SIGKILL)
    assert code == 0 and pids
    assert not alive, f"still running after gradrace check returned: {alive}"


def test_a_process_a_plugin_starts_at_import_does_not_outlive_the_command(tmp_path):
    import subprocess
    import sys

    pidfile = tmp_path / "pids"
    plugin = f"{Path(__file__).resolve().parents[1] / 'plugins' / 'detaches_at_import.py'}:IMPLEMENTATION"
    done = subprocess.run(
        [sys.executable, "-m", "gradrace", "list", "--no-entry-points", "--plugin", plugin],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GRADRACE_TEST_PIDFILE": str(pidfile)},
    )
    pids = [int(p) for p in pidfile.read_text().split()]
    alive = [p for p in pids if _running(p)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert done.returncode == 0 and len(pids) == 2  # imported by the probe, then by gradrace
    assert not alive, f"still running after gradrace list returned: {alive}"
