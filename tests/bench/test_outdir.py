"""--out never overwrites an earlier run's files unless told to, and must be a folder."""

import pytest

from gradrace import run
from gradrace.cli import main

FAST = dict(
    m=[10], n=[2], impl=["numpy-dot"], isolate=False, entry_points=False, threads=1, quick=True
)
RUN = ["run", "--m", "10", "--n", "2", "--impl", "numpy-dot", "--no-isolate", "--no-entry-points"]


def test_a_folder_holding_report_files_is_refused_naming_them(tmp_path):
    for name in ("index.html", "results.csv", "summary.txt"):
        (tmp_path / name).write_text("earlier")
    with pytest.raises(
        FileExistsError, match=r"already holds results\.csv, summary\.txt, index\.html"
    ):
        run(out=tmp_path, **FAST)
    assert (tmp_path / "results.csv").read_text() == "earlier"


def test_force_overwrites_them(tmp_path, capsys):
    (tmp_path / "summary.txt").write_text("earlier")
    assert main([*RUN, "--out", str(tmp_path)]) == 2
    assert "holds summary.txt from an earlier run; overwrite them with --force" in (
        capsys.readouterr().err
    )
    assert main([*RUN, "--out", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "summary.txt").read_text() != "earlier"


def test_an_out_under_a_file_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "afile").write_text("")
    assert main([*RUN, "--out", str(tmp_path / "afile" / "sub")]) == 2
    err = capsys.readouterr().err
    assert f"lies under {tmp_path / 'afile'}, which is a file" in err and "Traceback" not in err
