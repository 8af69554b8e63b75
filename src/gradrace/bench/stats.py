"""Statistics of timing rounds: the median's 95 % interval, and the ratio of two medians.

Every interval comes from the per-round samples a run keeps (``samples`` in results.json):
a percentile bootstrap with a fixed seed, so the same samples always give the same
interval. Two implementations timed in the same interleaved rounds are compared *paired*
(the ratio within each round, which cancels the machine's drift between rounds); two runs
are compared unpaired (the ratio of the two medians, resampling each run's rounds).
Results files without samples fall back to an interval guessed from the quartiles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Confidence level of every interval, resamples of the bootstrap, and its seed.
LEVEL = 0.95
RESAMPLES = 2000
SEED = 0


@dataclass(frozen=True)
class Interval:
    """A point estimate and its 95 % interval; ``how`` says how it was obtained."""

    point: float
    low: float
    high: float
    how: str  # "paired rounds", "bootstrap" or "quartiles (no samples: less certain)"

    def scaled(self, factor: float) -> Interval:
        """The interval divided by ``factor`` (a drift correction)."""
        return Interval(self.point / factor, self.low / factor, self.high / factor, self.how)

    def widened(self, sigma: float) -> Interval:
        """The interval with another source of error added in quadrature: a log-normal one
        of standard deviation ``sigma`` (how much a ratio moves between runs in itself)."""
        if not sigma > 0:
            return self
        extra = (_Z * sigma) ** 2
        down = math.sqrt(math.log(self.point / self.low) ** 2 + extra)
        up = math.sqrt(math.log(self.high / self.point) ** 2 + extra)
        return Interval(
            self.point, self.point * math.exp(-down), self.point * math.exp(up), self.how
        )


def _clean(samples) -> np.ndarray:
    """The finite, positive samples as a float array (a missing list gives an empty one)."""
    if samples is None or (isinstance(samples, float) and math.isnan(samples)):
        return np.empty(0)
    values = np.asarray(list(samples), dtype=float)
    return values[np.isfinite(values) & (values > 0)]


def _bootstrap_medians(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """RESAMPLES medians of ``values`` resampled with replacement."""
    picks = rng.integers(0, len(values), size=(RESAMPLES, len(values)))
    return np.median(values[picks], axis=1)


def _percentiles(values: np.ndarray) -> tuple[float, float]:
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def median_interval(samples: Sequence[float]) -> Interval | None:
    """The median of ``samples`` and its 95 % bootstrap interval (None without samples)."""
    values = _clean(samples)
    if len(values) == 0:
        return None
    low, high = _percentiles(_bootstrap_medians(values, np.random.default_rng(SEED)))
    return Interval(float(np.median(values)), low, high, "bootstrap")


def half_width(samples: Sequence[float]) -> float:
    """The larger half of the median's 95 % interval, as a fraction of the median (NaN
    without samples): 0.05 means the median is known to ±5 %."""
    interval = median_interval(samples)
    if interval is None or interval.point <= 0:
        return float("nan")
    return max(interval.high - interval.point, interval.point - interval.low) / interval.point


def ratio_interval(old: Sequence[float], new: Sequence[float]) -> Interval | None:
    """median(new) ÷ median(old) with a 95 % bootstrap interval, the two runs' rounds
    resampled independently; None when either side has no samples."""
    a, b = _clean(old), _clean(new)
    if len(a) == 0 or len(b) == 0:
        return None
    rng = np.random.default_rng(SEED)
    ratios = _bootstrap_medians(b, rng) / _bootstrap_medians(a, rng)
    low, high = _percentiles(ratios)
    return Interval(float(np.median(b) / np.median(a)), low, high, "bootstrap")


def paired_interval(old: Sequence[float], new: Sequence[float]) -> Interval | None:
    """The median over rounds of new ÷ old within each round, with a 95 % bootstrap
    interval: for two implementations timed in the same interleaved rounds, where the
    machine's drift between rounds cancels out. Rounds are paired by their order; None
    with fewer than two pairs."""
    a, b = _as_rounds(old), _as_rounds(new)
    pairs = min(len(a), len(b))
    if pairs < 2:
        return None
    per_round = b[:pairs] / a[:pairs]
    per_round = per_round[np.isfinite(per_round) & (per_round > 0)]
    if len(per_round) < 2:
        return None
    low, high = _percentiles(_bootstrap_medians(per_round, np.random.default_rng(SEED)))
    return Interval(float(np.median(per_round)), low, high, "paired rounds")


def _as_rounds(samples) -> np.ndarray:
    """Samples in round order, kept whole (a bad sample becomes NaN, keeping the pairing)."""
    if samples is None or (isinstance(samples, float) and math.isnan(samples)):
        return np.empty(0)
    return np.asarray(list(samples), dtype=float)


#: z of a two-sided 95 % normal interval, and the median's standard error per σ/√n.
_Z = 1.959964
_MEDIAN_SE = math.sqrt(math.pi / 2)


def _relative_se(median: float, iqr: float, rounds: float) -> float:
    """The standard error of a median over its value, from its IQR (σ ≈ IQR ÷ 1.349)."""
    n = rounds if rounds == rounds and rounds >= 1 else 1
    iqr = iqr if iqr == iqr else 0.0
    return _MEDIAN_SE * (iqr / 1.349) / math.sqrt(n) / median


def quartile_interval(old: tuple[float, float, float], new: tuple[float, float, float]) -> Interval:
    """new ÷ old from (median, IQR, rounds) of each (results without samples): a normal
    approximation of each median's spread, so less certain than the samples' bootstrap."""
    ratio = new[0] / old[0]
    spread = math.hypot(_relative_se(*old), _relative_se(*new))
    return Interval(
        ratio,
        ratio * math.exp(-_Z * spread),
        ratio * math.exp(_Z * spread),
        "quartiles (no samples: less certain)",
    )


#: Verdicts of one comparison.
SLOWER, SLOWER_NOISY, FASTER, SAME = "slower", "slower (noisy)", "faster", "same"
#: A parallel implementation slower while a run's machine was busy: its threads may have
#: waited for cores that other work held, so the slowdown may be the machine's.
SLOWER_BUSY = "slower (busy machine)"


def verdict(interval: Interval, threshold: float) -> str:
    """``slower`` when the whole interval lies above ``threshold``; ``faster`` when it lies
    below 1/threshold; ``slower (noisy)`` when the ratio is above the threshold but its
    interval reaches below it, and either the interval lies above 1 (a slowdown shown, its
    size not) or the ratio is past the threshold twice over (a large slowdown in wide rounds:
    flagged, never excused); else ``same``. A ratio just over the threshold whose interval
    holds 1 shows no change at all, so it is ``same``."""
    if interval.low > threshold:
        return SLOWER
    if interval.high < 1 / threshold:
        return FASTER
    if interval.point > threshold and (interval.low > 1 or interval.point > threshold**2):
        return SLOWER_NOISY
    return SAME


def fails_gate(verdict_: str, strict: bool = False) -> bool:
    """Whether a verdict fails ``--fail-on-slowdown``: ``slower``, and with ``strict``
    (``--fail-on-noisy``) ``slower (noisy)`` and ``slower (busy machine)`` too. A noisy slowdown is flagged and printed
    but not proven: its interval reaches below the threshold."""
    return verdict_ == SLOWER or (strict and verdict_ in (SLOWER_NOISY, SLOWER_BUSY))
