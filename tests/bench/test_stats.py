"""The statistics of timing rounds, on synthetic samples with fixed seeds (no timing)."""

from __future__ import annotations

import numpy as np
import pytest

from gradrace.bench import stats


def rounds(median: float, spread: float, n: int = 15, seed: int = 1) -> list[float]:
    """``n`` per-call times around ``median``, spread by a fraction ``spread`` (lognormal)."""
    rng = np.random.default_rng(seed)
    return list(median * np.exp(rng.normal(0.0, spread, n)))


def test_a_known_50_percent_slowdown_is_slower():
    interval = stats.ratio_interval(rounds(1e-4, 0.03), rounds(1.5e-4, 0.03, seed=2))
    assert interval.low > 1.2 and interval.point == pytest.approx(1.5, rel=0.05)
    assert stats.verdict(interval, 1.2) == "slower"
    assert stats.fails_gate("slower")


def test_identical_distributions_are_the_same():
    interval = stats.ratio_interval(rounds(1e-4, 0.05), rounds(1e-4, 0.05, seed=2))
    assert interval.low < 1 < interval.high
    assert stats.verdict(interval, 1.2) == "same"


def test_a_wide_sevenfold_slowdown_is_flagged_slower_noisy_never_excused():
    old = rounds(1e-4, 0.05, n=5)
    new = [1e-4, 1.1e-4, 7.2e-4, 7.5e-4, 9e-4]  # most rounds 7× slower, two not at all
    interval = stats.ratio_interval(old, new)
    assert interval.point > 7 and interval.low < 1.2
    assert stats.verdict(interval, 1.2) == "slower (noisy)"
    assert stats.fails_gate("slower (noisy)", strict=True)


def test_a_ratio_at_the_threshold_with_an_interval_holding_1_is_the_same():
    interval = stats.Interval(1.052, 0.99, 1.12, "paired rounds")  # an A/A pair, T = 1.05
    assert stats.verdict(interval, 1.05) == "same"


def test_a_shown_slowdown_whose_size_is_unproven_is_slower_noisy():
    interval = stats.Interval(1.3, 1.1, 1.5, "bootstrap")
    assert stats.verdict(interval, 1.2) == "slower (noisy)"


def test_a_noisy_slowdown_fails_the_gate_only_when_strict():
    assert not stats.fails_gate("slower (noisy)") and not stats.fails_gate("same", strict=True)


def test_widening_adds_the_scatter_of_the_references():
    interval = stats.Interval(1.5, 1.4, 1.6, "bootstrap")
    wide = interval.widened(0.2)
    assert wide.point == 1.5 and wide.low < 1.5 * np.exp(-1.96 * 0.2) + 1e-9
    assert stats.verdict(interval, 1.2) == "slower" and stats.verdict(wide, 1.2) != "slower"
    assert interval.widened(0.0) == interval


def test_a_clear_speedup_is_faster():
    interval = stats.ratio_interval(rounds(1e-4, 0.03), rounds(0.5e-4, 0.03, seed=2))
    assert stats.verdict(interval, 1.2) == "faster"


def test_the_bootstrap_is_reproducible():
    a, b = rounds(1e-4, 0.2), rounds(1.1e-4, 0.2, seed=2)
    assert stats.ratio_interval(a, b) == stats.ratio_interval(a, b)


def test_paired_rounds_cancel_a_drift_shared_by_both():
    drift = np.linspace(1.0, 3.0, 15)  # the machine slows down threefold during the rounds
    a, b = list(1e-4 * drift), list(1.1e-4 * drift * np.exp(np.linspace(-0.01, 0.01, 15)))
    paired = stats.paired_interval(a, b)
    unpaired = stats.ratio_interval(a, b)
    assert paired.low > 1.05 and paired.high < 1.15
    assert paired.how == "paired rounds"
    assert unpaired.high - unpaired.low > 5 * (paired.high - paired.low)


def test_paired_rounds_need_two_pairs():
    assert stats.paired_interval([1e-4], [1e-4, 2e-4]) is None


def test_without_samples_there_is_no_interval():
    assert stats.ratio_interval(float("nan"), [1.0]) is None
    assert stats.median_interval([]) is None
    assert np.isnan(stats.half_width(None))


def test_quartiles_give_a_less_certain_interval():
    narrow = stats.quartile_interval((1e-4, 1e-6, 15), (1.5e-4, 1.5e-6, 15))
    wide = stats.quartile_interval((1e-4, 1e-4, 15), (1.5e-4, 1.5e-4, 15))
    assert narrow.low > 1.4 and wide.low < 1.2 < 1.5 < wide.high
    assert "less certain" in narrow.how


def test_half_width_of_a_tight_median():
    assert stats.half_width(rounds(1e-4, 0.01, n=30)) < 0.05
    assert stats.half_width(rounds(1e-4, 0.5, n=5)) > 0.05
