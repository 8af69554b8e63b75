"""Formula injection: text cells a spreadsheet would run get a leading ' in every CSV and
text file gradrace writes; numbers never change."""

import json

import pandas as pd
import pytest

from gradrace import run
from gradrace.bench.cells import neutralised, text_cell
from gradrace.bench.results import ResultsWriter
from gradrace.bench.runner import Runner


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_text_cell_that_a_spreadsheet_would_run_gets_a_quote(text):
    assert text_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["numpy-dot", "a=b", "", None, -1.5, -3, float("nan")])
def test_other_cells_and_numbers_are_unchanged(value):
    result = text_cell(value)
    assert result is value or (result != result and value != value)


def test_neutralised_changes_text_columns_only_and_keeps_attrs():
    frame = pd.DataFrame({"name": ["=evil", "ok"], "median_s": [-1.5, 2.0], "m": [-3, 4]})
    frame.attrs["metadata"] = {"x": 1}
    out = neutralised(frame)
    assert list(out["name"]) == ["'=evil", "ok"]
    assert list(out["median_s"]) == [-1.5, 2.0] and list(out["m"]) == [-3, 4]
    assert out.attrs["metadata"] == {"x": 1}
    assert list(frame["name"]) == ["=evil", "ok"]  # the original is left as it was


def test_results_csv_neutralises_names_and_messages_but_not_numbers(tmp_path):
    row = {
        "implementation": "@evil",
        "m": 10,
        "n": 2,
        "k": 1,
        "dtype": "float64",
        "threads": 1,
        "status": "error",
        "median_s": -1.5,
        "message": '=HYPERLINK("http://x")',
        "diagnosis": "+1",
    }
    writer = ResultsWriter(tmp_path, {}, [row])
    writer.write()
    csv = (tmp_path / "results.csv").read_text()
    assert "'@evil" in csv and "'=HYPERLINK" in csv and ",'+1," in csv
    assert ",-1.5," in csv and ",'-1.5" not in csv
    stored = json.loads((tmp_path / "results.json").read_text())["results"][0]
    assert stored["message"].startswith("=HYPERLINK")  # the JSON keeps the text as it was


def test_check_csv_neutralises_messages(tmp_path, monkeypatch):
    def check(self):
        return pd.DataFrame(
            [
                {
                    "implementation": "numpy-dot",
                    "case": "m=1 n=3",
                    "status": "ok",
                    "err_dW": -0.0,
                    "message": "-cmd|' /C calc'!A0",
                }
            ]
        )

    monkeypatch.setattr(Runner, "check", check)
    run(
        m=[10],
        n=[2],
        impl=["numpy-dot"],
        out=tmp_path,
        isolate=False,
        entry_points=False,
        threads=1,
        quick=True,
    )
    text = (tmp_path / "check.csv").read_text()
    assert "'-cmd|" in text and ",-0.0," in text
