"""The report's A/B section: versions of one implementation timed in one run, as printed."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape
from synthetic_results import EVIL, make_results

from gradrace.bench.results import ResultsWriter
from gradrace.cli import main
from gradrace.reports import compare, write_report
from gradrace.units import count

#: numba@new's time ÷ numba@old's per m, round by round (n = 1, 10 and 100 alike).
SLOWER_AT, FASTER_AT, NOISY_AT = 10_000, 10, 1_000
#: The cases numba@new lost: (m, n) → (status, message).
LOST = {
    (100_000, 1): ("error", "gradient raised <b>MemoryError</b>"),
    (100_000, 10): ("skipped", "over the budget: a call would take about 2 s"),
}


def _samples(median: float, rng) -> list[float]:
    return list(median * np.exp(rng.normal(0.0, 0.02, 15)))


def _new_version(row: dict, rng) -> dict:
    """numba@new's row from numba@old's: slower, faster, noisy, lost or the same."""
    new = {**row, "implementation": row["implementation"].replace("@old", "@new")}
    lost = LOST.get((row["m"], row["n"]))
    if lost:
        return {**new, "status": lost[0], "message": lost[1], "median_s": None, "samples": None}
    factors = np.ones(len(row["samples"]))
    if row["m"] == SLOWER_AT:
        factors *= 1.5
    elif row["m"] == FASTER_AT:
        factors *= 0.5
    elif row["m"] == NOISY_AT:
        factors *= 1.6 * np.exp(rng.permutation(np.linspace(-1.0, 1.0, len(factors))))
    samples = list(np.asarray(row["samples"]) * factors)
    return {**new, "samples": samples, "median_s": float(np.median(samples))}


def versions(name: str = "numba") -> pd.DataFrame:
    """The synthetic run with 15 rounds of samples per row and ``name`` timed as two
    versions, NAME@old and NAME@new (fixed seeds)."""
    results = make_results()
    results["problem"] = "linear"
    rng = np.random.default_rng(11)
    results["samples"] = [_samples(m, rng) if m == m else None for m in results["median_s"]]
    own = results["implementation"] == name
    old = results[own].assign(implementation=f"{name}@old")
    new = [_new_version(r, rng) for r in old.to_dict("records")]
    out = pd.concat([results[~own], old, pd.DataFrame(new)], ignore_index=True)
    out.attrs = results.attrs
    return out


def _section(page: str) -> str:
    found = re.search(r'<section id="a-b">(.*?)</section>', page, re.S)
    assert found, "no A/B section"
    return found.group(1)


def _rows(section: str, table_id: str) -> list[list[str]]:
    """The text of each body row's cells in the table ``table_id``."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', section, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
    ]


def _verdict(cell: str) -> str:
    """A verdict cell's verdict, without the gate's mark."""
    return cell.removesuffix(" (would fail --fail-on-slowdown)")


def _report(tmp_path, results, baseline: str, names: list[str]) -> tuple[str, compare.WithinRun]:
    within = compare.within_run(results, baseline, names, threshold=1.2)
    path = write_report(results, tmp_path, baseline=baseline, threshold=1.2, within=within)
    return path.read_text(encoding="utf-8"), within


@pytest.fixture(scope="module")
def a_b(tmp_path_factory) -> tuple[str, compare.WithinRun]:
    """The report of the two numba versions, and the comparison it was given."""
    out = tmp_path_factory.mktemp("a-b")
    page, within = _report(out, versions(), "numba@old", ["numba@new"])
    assert (out / "a-b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return page, within


def test_each_case_shows_the_ratio_interval_and_verdict_of_the_printed_table(a_b):
    page, within = a_b
    shown = {(r[0], r[1]): r for r in _rows(_section(page), "a-b-table")}
    assert len(shown) == len(within.table) == 13  # 15 cases, two of them lost
    verdicts = {SLOWER_AT: "slower", FASTER_AT: "faster", NOISY_AT: "slower (noisy)"}
    for row in within.table.itertuples():
        cells = shown[("numba@new", f"m={count(row.m)} n={count(row.n)} k=1 float64")]
        assert cells[5] == f"{row.low:.2f}–{row.high:.2f}×"
        assert _verdict(cells[6]) == row.verdict
        assert row.verdict == verdicts.get(row.m, "same")
    assert "(would fail --fail-on-slowdown)" in shown[("numba@new", "m=10,000 n=10 k=1 float64")][6]
    assert compare.summarize(within.table, 1.2) in page


def test_the_lost_cases_are_listed_with_their_status_and_reason(a_b):
    page, _ = a_b
    lost = _rows(_section(page), "a-b-lost")
    assert sorted(lost) == [
        ["numba@new", "m=10⁵ n=1 k=1 float64", "error", "gradient raised <b>MemoryError</b>"],
        [
            "numba@new",
            "m=10⁵ n=10 k=1 float64",
            "skipped",
            "over the budget: a call would take about 2 s",
        ],
    ]
    assert "<b>MemoryError</b>" not in page  # escaped, shown as text


def test_the_section_is_linked_and_has_its_plot(a_b):
    page, _ = a_b
    assert '<a href="#a-b">A/B</a>' in page
    assert '<figure id="fig-a-b">' in _section(page)  # the fixture checked a-b.png beside it
    assert "A/B in one run, each against numba@old (paired by round)" in page


def test_the_report_shows_the_comparison_it_is_given_and_computes_none(tmp_path, monkeypatch):
    results = versions()
    within = compare.within_run(results, "numba@old", ["numba@new"])
    same = within.table.index[within.table["verdict"] == "same"][0]
    within.table.loc[same, "verdict"] = "faster"  # the page must show this table as it is

    def recompute(*args, **kwargs):
        raise AssertionError("the A/B comparison was computed a second time")

    monkeypatch.setattr(compare, "compare_within", recompute)
    monkeypatch.setattr(compare, "lost_within", recompute)
    page = write_report(results, tmp_path, within=within).read_text(encoding="utf-8")
    verdicts = [r[6] for r in _rows(_section(page), "a-b-table")]
    assert verdicts.count("faster") == (within.table["verdict"] == "faster").sum() == 4


def test_no_section_without_an_a_b_comparison(report_dir, tmp_path):
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    assert 'id="a-b"' not in page and 'href="#a-b"' not in page
    run = tmp_path / "run"
    results = versions()
    ResultsWriter(run, results.attrs["metadata"], results.to_dict("records")).write()
    assert main(["report", str(run), "--out", str(tmp_path / "plain")]) == 0
    assert 'id="a-b"' not in (tmp_path / "plain" / "index.html").read_text(encoding="utf-8")


def test_report_baseline_at_old_puts_the_printed_comparison_in_the_page(tmp_path, capsys):
    run = tmp_path / "run"
    results = versions()
    ResultsWriter(run, results.attrs["metadata"], results.to_dict("records")).write()
    assert main(["report", str(run), "--baseline", "numba@old"]) == 0
    printed = capsys.readouterr()
    section = _section((run / "index.html").read_text(encoding="utf-8"))
    rows = _rows(section, "a-b-table")
    assert len(rows) == 13
    for verdict, size in [(_verdict(r[6]), r[1]) for r in rows]:
        if verdict != "same":
            assert f"{verdict}: numba@new m=" in printed.err, size
    assert len(_rows(section, "a-b-lost")) == 2
    assert "not timed: numba@new m=100000 n=1" in printed.err


def test_hostile_names_and_messages_are_escaped(tmp_path):
    page, within = _report(tmp_path, versions(EVIL), f"{EVIL}@old", [f"{EVIL}@new"])
    section = _section(page)
    assert len(within.table) > 0 and len(within.lost) == 2
    assert "<script" not in page.lower() and "<b>MemoryError" not in page
    assert str(escape(f"{EVIL}@new")) in section
    assert "&lt;b&gt;MemoryError&lt;/b&gt;" in section


def test_two_problems_get_a_problem_column_and_the_threshold_is_the_comparisons(tmp_path):
    results = versions()
    ab = results[results["implementation"].str.startswith("numba@")]
    both = pd.concat([results, ab.assign(problem="logistic")], ignore_index=True)
    both.attrs = results.attrs
    within = compare.within_run(both, "numba@old", ["numba@new"], threshold=1.1)
    page = write_report(both, tmp_path, within=within).read_text(encoding="utf-8")
    section = _section(page)
    assert "<th>problem</th>" in section and "lies above 1.1×" in section
    rows = _rows(section, "a-b-table")
    assert sorted({r[1] for r in rows}) == ["linear", "logistic"] and len(rows) == 26
    assert sorted(r[1] for r in _rows(section, "a-b-lost")) == ["linear"] * 2 + ["logistic"] * 2
