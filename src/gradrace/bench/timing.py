"""Timing built on the standard library's ``timeit``: calibrated rounds, interleaved.

``calibrate`` picks how many calls make one round last ``target`` seconds, well above
the timer's resolution, the way ``timeit.Timer.autorange`` does. ``measure`` then times
several implementations in interleaved rounds (A B C A B C …, the order rotated each
round) so that the machine's speed drift hits them alike, which keeps the ratios
between them honest. ``timeit`` turns the garbage collector off while it times.
"""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

from gradrace.bench.interrupt import PLUGIN_RAISES, pass_on_ctrl_c
from gradrace.bench.stats import median_interval

#: Default seconds per round; the clock resolves ~100 ns, so rounds are 10⁵× longer.
ROUND_TARGET_S = 0.02
#: Default rounds per implementation and the fewest kept when an implementation is slow.
ROUNDS = 15
MIN_ROUNDS = 3


@dataclass(frozen=True)
class Timing:
    """Per-call statistics over the rounds of one implementation on one case."""

    min_s: float
    median_s: float
    mean_s: float
    iqr_s: float
    q1_s: float  # first and third quartiles of the per-call times over the rounds
    q3_s: float
    rounds: int
    number: int  # calls per round
    ci_low_s: float = float("nan")  # the median's 95 % interval (bootstrap of the rounds)
    ci_high_s: float = float("nan")
    samples: tuple[float, ...] = ()  # the per-call time of each round, in round order

    @classmethod
    def from_rounds(cls, per_call: list[float], number: int) -> Timing:
        if len(per_call) >= 2:
            q1, _, q3 = statistics.quantiles(per_call, n=4, method="inclusive")
        else:
            q1 = q3 = per_call[0]
        interval = median_interval(per_call)
        return cls(
            min_s=min(per_call),
            median_s=statistics.median(per_call),
            mean_s=statistics.fmean(per_call),
            iqr_s=q3 - q1,
            q1_s=q1,
            q3_s=q3,
            rounds=len(per_call),
            number=number,
            ci_low_s=interval.low if interval else float("nan"),
            ci_high_s=interval.high if interval else float("nan"),
            samples=tuple(per_call),
        )

    def as_dict(self) -> dict:
        data = asdict(self)
        data["samples"] = list(self.samples)
        return data

    def extended(self, per_call: list[float]) -> Timing:
        """This timing with more rounds (of the same calls per round) appended."""
        return Timing.from_rounds([*self.samples, *per_call], self.number)


def calibrate(fn: Callable[[], object], target: float = ROUND_TARGET_S) -> tuple[int, float]:
    """(calls per round, seconds per call) so that a round lasts at least ``target``.

    Like ``timeit.Timer.autorange`` (1, 2, 5, 10, 20, 50, … calls) but with our target;
    the first call doubles as the warm-up.
    """
    timer = timeit.Timer(fn)
    i = 1
    while True:
        for factor in (1, 2, 5):
            number = i * factor
            elapsed = timer.timeit(number)
            if elapsed >= target:
                return number, elapsed / number
        i *= 10


def plan_rounds(per_call_s: float, number: int, rounds: int, time_cap_s: float) -> int:
    """Rounds for one implementation: ``rounds``, fewer (≥ MIN_ROUNDS) if they would
    take longer than ``time_cap_s``."""
    fit = int(time_cap_s // max(per_call_s * number, 1e-12))
    return max(MIN_ROUNDS, min(rounds, fit)) if fit >= 1 else 1


def measure(
    fns: Mapping[str, Callable[[], object]],
    numbers: Mapping[str, int],
    rounds: Mapping[str, int],
    on_round: Callable[[str, int], None] | None = None,
) -> tuple[dict[str, Timing], dict[str, BaseException]]:
    """Time each ``fns[name]`` in interleaved rounds of ``numbers[name]`` calls.

    Returns the timings and, for any function that raised in a round, its exception
    (it then leaves the rotation; the others go on).
    """
    timers = {name: timeit.Timer(fn) for name, fn in fns.items()}
    samples: dict[str, list[float]] = {name: [] for name in fns}
    errors: dict[str, BaseException] = {}
    order = list(fns)
    for r in range(max(rounds.values(), default=0)):
        shift = r % len(order)
        for name in order[shift:] + order[:shift]:
            if name in errors or len(samples[name]) >= rounds[name]:
                continue
            if on_round is not None:  # before the round: a crash in it is charged to ``name``
                on_round(name, r)
            try:
                samples[name].append(timers[name].timeit(numbers[name]) / numbers[name])
            except PLUGIN_RAISES as exc:  # sys.exit in a plugin is its failure
                pass_on_ctrl_c(exc)
                errors[name] = exc
    timings = {
        name: Timing.from_rounds(s, numbers[name])
        for name, s in samples.items()
        if s and name not in errors
    }
    return timings, errors
