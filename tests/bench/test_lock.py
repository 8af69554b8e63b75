"""One run per output folder, and unique default folders."""

import os
import subprocess
import sys

import pytest

from gradrace import run
from gradrace.bench.lock import LOCK_NAME, FolderInUse, locked
from gradrace.bench.outdir import new_run_folder
from gradrace.cli import main

FAST = dict(
    m=[10], n=[2], impl=["numpy-dot"], isolate=False, entry_points=False, threads=1, quick=True
)


def test_a_second_run_on_a_folder_in_use_is_refused_naming_the_holder(tmp_path):
    in_use = rf"is in use by gradrace process {os.getpid()}"
    with locked(tmp_path), pytest.raises(FolderInUse, match=in_use):
        run(out=tmp_path, **FAST)
    assert not (tmp_path / "results.json").exists()
    run(out=tmp_path, **FAST)  # free again once the holder is done
    assert (tmp_path / "results.json").exists() and not (tmp_path / LOCK_NAME).exists()


def test_the_command_refuses_a_folder_in_use_with_exit_code_3(tmp_path, capsys):
    with locked(tmp_path):
        code = main(
            [
                "run",
                "--m",
                "10",
                "--n",
                "2",
                "--impl",
                "numpy-dot",
                "--no-isolate",
                "--no-entry-points",
                "--out",
                str(tmp_path),
            ]
        )
    assert code == 3
    assert f"is in use by gradrace process {os.getpid()}" in capsys.readouterr().err


def test_a_stale_lock_from_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / LOCK_NAME).write_text(dead.stdout)
    frame = run(out=tmp_path, **FAST)
    assert list(frame["status"]) == ["ok"]


def test_default_folders_started_in_the_same_second_differ(tmp_path):
    first, second = new_run_folder(tmp_path), new_run_folder(tmp_path)
    assert first != second and first.is_dir() and second.is_dir()
    assert first.name.endswith(f"-{os.getpid()}")


def test_a_link_planted_as_the_lock_file_is_never_written_through(tmp_path):
    import pytest

    from gradrace.bench.lock import locked

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".gradrace.lock").symlink_to(victim)
    with pytest.raises(OSError), locked(out):
        pass
    assert victim.read_text() == "keep me"


def test_a_folder_with_results_that_a_run_holds_is_said_in_use_not_finished(tmp_path):
    run(out=tmp_path, **FAST)
    with locked(tmp_path), pytest.raises(FolderInUse, match="is in use by gradrace process"):
        run(out=tmp_path, **FAST)  # not "already holds a run's results; --resume"
