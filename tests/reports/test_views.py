"""The report's words: the headline sentence and cards say only what the numbers support."""

from gradrace.reports.headline import COMPUTE, READ, Headline, Regime
from gradrace.reports.views import headline_sentence, headline_view, numba_codegen

LARGE = Regime("large", 4e6, float("inf"), "memory bandwidth: X streams from RAM")


def _headline(fraction: float, limit: float = float("nan"), limit_is: str = "") -> Headline:
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
        limit,
        limit_is,
    )


def test_the_headline_gives_the_time_in_times_the_limit():
    h = _headline(0.81, 1.13, READ)
    sentence = headline_sentence([h])
    assert "at m=2,000,000 n=64 k=1 float64 it ran at 1.1 × the limit (reading X and Y once)" in (
        sentence
    )
    assert sentence.endswith("20 ms.")
    view = headline_view(h)
    assert view["at_limit"] == "1.1 × the limit (reading X and Y once)"
    assert view["limit"] == LARGE.limit
    assert "least arithmetic" in headline_view(_headline(0.2, 1.5, COMPUTE))["at_limit"]


def test_a_time_under_the_limit_is_not_quoted_as_one():
    h = _headline(1.3, 0.7, READ)
    sentence = headline_sentence([h])
    assert "× the limit" not in sentence and sentence.endswith(".")
    view = headline_view(h)
    assert view["limit"] == "timing too noisy to say"
    assert "noisy timing" in view["at_limit"]


def test_an_older_file_without_the_limit_gives_the_read_floor_share():
    assert "81% of the speed of the read floor" in headline_sentence([_headline(0.81)])
    assert headline_view(_headline(0.81))["at_limit"] == "not measured"
    sentence = headline_sentence([_headline(35.0)])
    assert "%" not in sentence and sentence.endswith(".")
    assert headline_view(_headline(35.0))["limit"] == "timing too noisy to say"


def test_an_unknown_share_is_left_out():
    assert "reading X" not in headline_sentence([_headline(float("nan"))])
    assert "read floor" not in headline_sentence([_headline(float("nan"))])


def test_the_environment_says_when_the_machine_was_busy(results):
    from gradrace.reports.views import environment_rows

    warning = "the machine was busy: load 2.3 on 2 cores; comparisons are less certain"
    meta = {**results.attrs["metadata"], "busy": {"busy": True, "warning": warning}}
    assert ("machine load", warning) in environment_rows(results, meta, None, None)


def test_the_environment_says_how_numba_compiled():
    meta = {"numba_vectors": "wide", "numba_tuning": "-prefer-256-bit,+prefer-no-gather"}
    assert (
        numba_codegen(meta) == "wide vectors; LLVM flags added: -prefer-256-bit,+prefer-no-gather"
    )
    assert numba_codegen({"numba_vectors": "native", "numba_tuning": "none"}) == "native vectors"
    assert (
        numba_codegen({"numba_vectors": "wide"})
        == "wide vectors; LLVM flags added: -prefer-256-bit"
    )
    assert numba_codegen({}) is None  # not recorded (a pytest-benchmark file)
