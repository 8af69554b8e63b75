"""Large results files: plots show a few values of n and m spread over the range, tables a
capped number of rows, each saying what it left out; a file beyond the hard limit is refused."""

from __future__ import annotations

import json
import re

import pytest
from synthetic_results import large_results

from gradrace.reports import limits, plots, write_report
from gradrace.reports.data import agreeing, implementations, numeric, of_combo
from gradrace.reports.inputs import load_any
from gradrace.reports.style import looks


@pytest.fixture(scope="module")
def big():
    """3,000 rows over 200 values of n: beyond every cap, small enough to draw in seconds."""
    return large_results(3_000, 200)


@pytest.fixture(scope="module")
def big_page(big, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("big-report")
    return write_report(big, out).read_text(encoding="utf-8")


def _rows(results):
    return agreeing(of_combo(numeric(results), 1, "float64"))


def test_spread_keeps_the_ends_and_at_most_the_cap():
    values = list(range(1, 1000))
    chosen = limits.spread(values, 6)
    assert len(chosen) == 6 and chosen[0] == 1 and chosen[-1] == 999
    assert chosen == sorted(chosen)
    assert limits.spread([3, 1, 2], 6) == [1, 2, 3]


@pytest.mark.parametrize("plot", [plots.time_vs_m, plots.throughput])
def test_panel_plots_draw_at_most_the_cap_of_n_and_say_so(big, plot):
    rows = _rows(big)
    args = (rows, looks(implementations(rows))) + ((10.0,) if plot is plots.throughput else ())
    fig = plot(*args)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title().startswith("n = ")]
    assert 2 <= len(panels) <= limits.MAX_PANELS
    note = limits.note_of(fig)
    assert (
        note == f"{len(panels)} of {rows['n'].nunique()} values of n shown, spread over the range"
    )
    assert note in fig.get_suptitle()


def test_the_heatmap_shows_at_most_the_cap_of_n_and_m(big):
    rows = _rows(big)
    fig = plots.speedup_heatmap(rows, "numpy-dot")
    sizes = fig.axes[0].get_yticklabels()  # many sizes: sizes down the side
    assert len(sizes) <= limits.MAX_HEATMAP_VALUES**2
    assert f"of {rows['n'].nunique()} values of n shown" in limits.note_of(fig)


def test_a_small_run_has_no_note(results):
    rows = _rows(results)
    assert limits.note_of(plots.time_vs_m(rows, looks(implementations(rows)))) == ""


def test_the_report_caps_the_results_and_prediction_tables_with_notes(big, big_page):
    table = big_page[big_page.index('class="dataframe results"') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr") == limits.MAX_TABLE_ROWS + 1  # the header and the rows listed
    assert f"The first {limits.MAX_TABLE_ROWS:,} of {len(big):,} rows are listed." in big_page
    predictions = big_page[big_page.index('id="prediction-table"') :]
    predictions = predictions[: predictions.index("</table>")]
    assert predictions.count("<tr") == limits.MAX_TABLE_ROWS + 1
    assert re.search(
        r'id="predictions-note">The first 1,000 of [\d,]+ predictions are listed', big_page
    )


def test_the_report_captions_and_crossovers_say_what_was_left_out(big, big_page):
    n = big["n"].nunique()
    assert f"6 of {n} values of n shown, spread over the range." in big_page
    assert f"Crossovers are looked for at {limits.MAX_CROSSOVER_N} of {n} values of n" in big_page


def test_results_beyond_the_row_limit_are_refused(big, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_ROWS", 1_000)
    with pytest.raises(
        limits.TooLarge,
        match="the results table has 3,000 rows: gradrace report draws at most 1,000",
    ):
        write_report(big, tmp_path)
    assert not (tmp_path / "index.html").exists()


def test_a_file_beyond_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch, capsys):
    from gradrace.cli import main

    path = tmp_path / "results.json"
    path.write_text(json.dumps({"metadata": {}, "results": [{"x": "y" * 2000}]}))
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    with pytest.raises(limits.TooLarge, match=r"results\.json is 0 MiB: gradrace report reads"):
        load_any(path)
    assert main(["report", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "gradrace report reads results files of at most 0 MiB" in capsys.readouterr().err


def test_a_file_beyond_the_row_limit_is_refused_naming_it(big, tmp_path, monkeypatch):
    path = tmp_path / "results.csv"
    big.to_csv(path, index=False)
    monkeypatch.setattr(limits, "MAX_ROWS", 1_000)
    with pytest.raises(
        limits.TooLarge, match=r"results\.csv has 3,000 rows: gradrace report draws"
    ):
        load_any(path)
