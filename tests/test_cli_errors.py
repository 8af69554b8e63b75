"""The environment failing under gradrace: clear messages and exit code 3, never a traceback."""

import errno

import pytest

from gradrace.bench import results
from gradrace.cli import build_parser, main

RUN = ["run", "--m", "10", "--n", "2", "--impl", "numpy-dot", "--no-isolate", "--no-entry-points"]


def _failing_write(code: int, text: str):
    def write(path, data):
        raise OSError(code, text, str(path))

    return write


@pytest.mark.parametrize(
    ("code", "text", "hint"),
    [
        (errno.ENOSPC, "No space left on device", "the disk is full"),
        (errno.EROFS, "Read-only file system", "the folder is read-only"),
    ],
)
def test_a_failing_disk_is_exit_code_3_with_a_clear_message(
    tmp_path, monkeypatch, capsys, code, text, hint
):
    monkeypatch.setattr(results, "atomic_write", _failing_write(code, text))
    assert main([*RUN, "--out", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    assert f"gradrace: error: {text}: {tmp_path / 'out' / 'results.json'} ({hint})" in err
    assert "Traceback" not in err


def test_a_read_only_folder_is_exit_code_3(tmp_path, monkeypatch, capsys):
    from gradrace.bench import lock

    def refuse(path):  # what opening the lock file in a read-only folder does (as non-root)
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(lock, "_acquire_flock", refuse)
    assert main([*RUN, "--out", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert f"Permission denied: {tmp_path / '.gradrace.lock'} (no permission" in err


def test_help_lists_the_exit_codes():
    text = build_parser().format_help()
    for line in (
        "0    success",
        "1    an implementation failed or disagreed",
        "2    usage error",
        "3    environment or I/O error",
        "130  interrupted",
    ):
        assert line in text


@pytest.mark.parametrize("command", ["check", "run", "list", "fit"])
def test_an_unknown_problem_is_a_usage_error_naming_the_known_ones(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--problem", "probit"])
    assert exit_.value.code == 2
    assert "unknown problem 'probit'; use one of linear, logistic" in capsys.readouterr().err
