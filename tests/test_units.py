"""One set of units on every page."""

from __future__ import annotations

from gradrace.units import count, format_bytes, format_seconds, times


def test_bytes_are_decimal_with_three_digits():
    assert format_bytes(512) == "512 B"
    assert format_bytes(2**20) == "1.05 MB"
    assert format_bytes(8e9) == "8 GB"


def test_seconds_pick_their_unit():
    assert [format_seconds(x) for x in (2.5, 3e-3, 4.2e-6, 7e-9, None)] == [
        "2.5 s",
        "3 ms",
        "4.2 µs",
        "7 ns",
        "-",
    ]


def test_counts_and_ratios():
    assert count(1000) == "1,000" and count(10**6) == "10⁶"
    assert times(3.744) == "3.74×" and times(1040.2) == "1,040×" and times(float("nan")) == "–"


def test_one_format_bytes_in_the_package():
    import gradrace.bench.problem as problem
    import gradrace.reports.views as views

    assert problem.format_bytes is views.format_bytes is format_bytes
