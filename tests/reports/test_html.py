"""The HTML report: self-contained, escaped, all ten parts, from every kind of input."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from synthetic_results import EVIL, make_results

from gradrace.reports import write_report
from gradrace.reports.html import Figure

SECTIONS = [
    "headline",
    "time-m",
    "time-n",
    "roofline",
    "heatmap",
    "scaling",
    "agreement",
    "preparation",
    "environment",
    "why",
    "results",
]


@pytest.fixture(scope="module")
def page(report_dir) -> str:
    return (report_dir / "index.html").read_text(encoding="utf-8")


def test_report_has_every_part(page):
    for section in SECTIONS:
        assert f'<section id="{section}">' in page, section


def test_every_plot_is_inlined_and_saved_beside_the_page(report_dir, page):
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) >= 7
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    for name in ("headline", "time-vs-m", "time-vs-n", "throughput", "speedup", "model", "prepare"):
        assert (report_dir / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_page_fetches_nothing_and_runs_no_script(page):
    assert "<script" not in page.lower()
    assert not re.search(r'(src|href)="(https?:|//)', page)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page  # the CSP forbids any fetch even if something slipped


def test_names_and_messages_are_escaped(page):
    assert EVIL not in page
    assert "&lt;script&gt;alert(" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<i>8</i>" not in page
    assert "My plugin &lt;img src=y onerror=alert(2)&gt; [plugin]" in page  # its description


def test_headline_names_the_fastest_implementation(page):
    sentence = re.search(r'<p class="lead" id="headline-sentence">(.*?)</p>', page, re.S).group(1)
    assert sentence.startswith("numpy-dot is the fastest agreeing implementation")
    assert "faster than python-loops" not in sentence  # python-loops was skipped at large sizes
    assert "of the speed of the read floor timed beside it" in sentence  # no limit in the file
    cards = re.findall(r'<div class="winner">(.*?)</div>', page)
    assert cards == ["numba", "numpy-dot", "numpy-dot"]  # small, medium, large: m·n ≷ 2,500


def test_disagreement_is_red_with_its_diagnosis(page):
    assert 'class="num bad"' in page
    assert "λ/(2m) instead of λ/m in the regularization term" in page
    assert "dW transposed &lt;b&gt;bold&lt;/b&gt;" in page
    assert "implementations disagree with the reference" in page


def test_skipped_and_failed_cases_are_listed_with_reasons(page):
    table = page[page.index('id="not-timed"') :]
    assert "over the budget: a call would take about 0.6 s" in table
    assert "MemoryError(&#39;synthetic&#39;)" in table


def test_environment_and_measured_machine_are_shown(page):
    env = page[page.index('id="environment-table"') :]
    for text in (
        "gradrace run --m 10,1e5",
        "openblas",
        "10 GB/s",
        "50 GFLOP/s",
        "OMP_NUM_THREADS=2",
    ):
        assert text in env, text


def test_why_section_has_model_misses_and_crossovers(page):
    why = page[page.index('<section id="why">') :]
    assert "2 through BLAS" in why  # numpy-dot's construction
    assert "not declared" in why  # the plugin has none
    assert 'id="model-misses"' in why
    assert "numba beats numpy-dot below m ≈" in why


def test_results_table_and_csv_download(page):
    assert re.search(r'<table[^>]* class="dataframe results">', page)
    assert 'download="results.csv" href="data:text/csv;base64,' in page


def test_report_of_pytest_benchmark_says_bandwidth_is_unknown(benchmark_report):
    page = (benchmark_report / "index.html").read_text(encoding="utf-8")
    assert "From a pytest-benchmark file" in page
    assert "bandwidth is unknown for this source" in page
    assert re.search(r'id="headline-sentence">(numpy-dot|einsum|python-loops) is the fastest', page)
    assert (benchmark_report / "time-vs-m.png").exists()


def test_write_report_writes_summary_beside_the_page(report_dir):
    # report_dir's fixture asserts that write_report returned report_dir / "index.html"
    assert (report_dir / "index.html").exists()
    assert "Fastest agreeing implementation" in (report_dir / "summary.txt").read_text()


def test_report_without_metadata_or_agreeing_rows(tmp_path, results):
    failed = results.assign(status="error", median_s=None)
    failed.attrs["metadata"] = {}
    page = write_report(failed, tmp_path).read_text(encoding="utf-8")
    assert "No implementation agreed with the reference on any timed case." in page
    assert "No agreeing measurement to plot." in page


def test_single_m_leaves_a_note_instead_of_an_empty_plot(tmp_path, results):
    one_m = make_results([r for r in results.to_dict("records") if r["m"] == 1_000])
    page = write_report(one_m, tmp_path).read_text(encoding="utf-8")
    assert "every n was measured at a single m" in page
    assert not (tmp_path / "time-vs-m.png").exists()


def test_figure_without_source_is_a_note():
    assert Figure("x", "t", "why").src == ""


def test_the_not_ranked_note_names_precomputing_implementations_only_when_timed(page, tmp_path):
    assert "Not ranked here" not in page  # no gram among the synthetic results
    results = make_results()
    gram = results[results["implementation"] == "numpy-dot"].assign(implementation="gram")
    with_gram = type(results)(pd.concat([results, gram], ignore_index=True))
    with_gram.attrs = results.attrs
    with_gram.attrs["metadata"]["implementations"]["gram"] = {"precomputes": "XᵀX"}
    text = write_report(with_gram, tmp_path).read_text(encoding="utf-8")
    assert re.search(r"Not ranked here:[^<]*\(gram\)", text)


def test_report_files_replace_a_planted_link_instead_of_writing_through_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "report"
    out.mkdir()
    for name in ("index.html", "summary.txt"):
        (out / name).symlink_to(victim)
    write_report(make_results(), out)
    assert victim.read_text() == "keep me"
    assert not (out / "index.html").is_symlink() and not (out / "summary.txt").is_symlink()


def test_an_implementation_given_by_hand_gets_its_standings_on_the_page(tmp_path, results):
    import copy
    import html

    mine = results.copy()
    meta = copy.deepcopy(results.attrs["metadata"])
    meta["implementations"]["numba"]["origin"] = "--plugin lab.py:numba"
    mine.attrs["metadata"] = meta
    page = html.unescape(write_report(mine, tmp_path).read_text(encoding="utf-8"))
    section = page[page.index('<section id="yours">') :]
    section = section[: section.index("</section>")]
    assert "Yours (given with --plugin)" in section and "<td>numba</td>" in section
    assert re.search(r"\d+ of \d+", section)
    plain = html.unescape(write_report(results, tmp_path / "plain").read_text(encoding="utf-8"))
    assert 'id="yours"' not in plain
