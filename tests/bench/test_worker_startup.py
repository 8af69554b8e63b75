"""A worker that cannot start is reported cleanly, within a limit derived from --timeout."""

from pathlib import Path

import pytest

from gradrace import run
from gradrace.bench import worker
from gradrace.bench.worker import WorkerStartError, startup_limit
from gradrace.cli import main

WORKER_ONLY = f"{Path(__file__).resolve().parents[1] / 'plugins' / 'worker_only.py'}:fine_elsewhere"
ARGS = dict(
    m=[10],
    n=[2],
    impl=["numpy-dot"],
    plugins=[WORKER_ONLY],
    entry_points=False,
    threads=1,
    quick=True,
)


def test_startup_limit_is_the_larger_of_timeout_and_the_floor():
    assert startup_limit(5) == worker.STARTUP_FLOOR_S
    assert startup_limit(worker.STARTUP_FLOOR_S + 10) == worker.STARTUP_FLOOR_S + 10


def test_a_worker_hanging_at_start_up_is_stopped_by_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADRACE_TEST_WORKER_IMPORT", "hang")
    monkeypatch.setattr(worker, "STARTUP_FLOOR_S", 2.0)
    with pytest.raises(WorkerStartError, match=r"did not start: no answer within 2 s"):
        run(**ARGS, timeout=1, out=tmp_path)


def test_a_worker_dying_at_start_up_ends_the_run_with_a_message_and_exit_code_3(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("GRADRACE_TEST_WORKER_IMPORT", "exit")
    code = main(
        [
            "run",
            "--m",
            "10",
            "--n",
            "2",
            "--impl",
            "numpy-dot",
            "--no-entry-points",
            "--plugin",
            WORKER_ONLY,
            "--threads",
            "1",
            "--out",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err
    assert code == 3
    assert "gradrace: error: the measuring worker did not start: the worker process died " in err
    assert "(exit code 3)" in err and "Traceback" not in err
