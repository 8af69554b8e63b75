"""How much where X lands in memory moves one implementation's time (a script, not a test).

    PYTHONPATH=src python benchmarks/placement.py [--impl numba-fused] [--problem logistic]
        [--m 100000] [--n 10] [--copies 4] [--rounds 25] [--plugin path.py:ATTR@old]

Prepares the implementation on ``--copies`` copies of the same X (the same values, each a
fresh allocation) and times them in interleaved rounds, the order shuffled every round, in
this one process. "copy 0 again" is copy 0 under a second name: its ratio to copy 0 is what
timing alone scatters. A spread between copies well beyond it is the placement of X (its
pages, its offset from the kernel's buffers), which differs from run to run as well: a
comparison of two runs carries it; an A/B comparison in one run, on one X, does not.
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

from gradrace import make_problem
from gradrace.bench.registry import load_registry


def time_rounds(calls: dict, rounds: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Per-call seconds of each of ``calls`` in ``rounds`` shuffled, interleaved rounds."""
    rng = np.random.default_rng(seed)
    names = list(calls)
    numbers = {name: timeit.Timer(calls[name]).autorange()[0] for name in names}
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for i in rng.permutation(len(names)):
            name = names[i]
            times[name].append(timeit.timeit(calls[name], number=numbers[name]) / numbers[name])
    return {name: np.array(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", default="numba-fused")
    parser.add_argument("--problem", default="logistic")
    parser.add_argument("--m", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--plugin", action="append", default=[], help="as gradrace run's")
    options = parser.parse_args()
    impl = load_registry(options.plugin).one(options.impl).for_problem(options.problem)
    if impl is None:
        parser.error(f"{options.impl} does not implement {options.problem}")
    p = make_problem(options.m, options.n, 1, seed=0, problem=options.problem)
    calls = {}
    for c in range(options.copies):
        args = impl.prepare_args(p.X.copy(), p.Y, p.W, p.b, p.lam)
        calls[f"copy {c}"] = lambda args=args: impl.call(args)
    calls["copy 0 again"] = calls["copy 0"]
    times = time_rounds(calls, options.rounds)
    base = times["copy 0"]
    print(f"{options.impl} ({options.problem}), m = {options.m}, n = {options.n}:")
    for name, t in times.items():
        ratio = t / base  # paired by round
        print(f"  {name:13s} median {np.median(t) * 1e3:8.3f} ms  ÷ copy 0: {np.median(ratio):.2f}")
    medians = [np.median(t) for name, t in times.items() if name != "copy 0 again"]
    print(f"  slowest ÷ fastest copy: {max(medians) / min(medians):.2f}")


if __name__ == "__main__":
    main()
