"""The report's words: the headline sentence and cards say only what the numbers support."""

from gradrace.reports.headline import Headline, Regime
from gradrace.reports.views import headline_sentence, headline_view

LARGE = Regime("large", 4e6, float("inf"), "memory bandwidth: X streams from RAM")


def _headline(fraction: float) -> Headline:
    nan = float("nan")
    return Headline(
        LARGE,
        2,
        "numba-fused",
        0.02,
        "m=2,000,000 n=64 k=1 float64",
        {"python-loops": (nan, nan, nan), "numpy-dot": (2.4, 2.3, 2.5)},
        fraction,
        2,
        {},
    )


def test_the_read_floor_share_is_given_when_it_makes_sense():
    assert "81% of the speed of reading X once" in headline_sentence([_headline(0.81)])
    assert headline_view(_headline(0.81))["limit"] == LARGE.limit


def test_a_share_beyond_the_read_floor_is_not_quoted_as_one():
    sentence = headline_sentence([_headline(35.0)])
    assert "%" not in sentence and sentence.endswith(".")
    view = headline_view(_headline(35.0))
    assert view["limit"] == "timing too noisy to say"
    assert "%" not in view["bandwidth"] and "noisy timing" in view["bandwidth"]


def test_an_unknown_share_is_left_out():
    assert "reading X" not in headline_sentence([_headline(float("nan"))])


def test_the_environment_says_when_the_machine_was_busy(results):
    from gradrace.reports.views import environment_rows

    warning = "the machine was busy: load 2.3 on 2 cores; comparisons are less certain"
    meta = {**results.attrs["metadata"], "busy": {"busy": True, "warning": warning}}
    assert ("machine load", warning) in environment_rows(results, meta, None, None)
