"""What reading X from beyond the caches costs a serial loop (a script, not a test).

    PYTHONPATH=src python benchmarks/serial_stalls.py [--impl numba] [--problem logistic]
        [--m 1000000] [--n 10] [--parts 10] [--flush-mib 64] [--rounds 7]

Times one implementation on the whole of X, on X in ``--parts`` consecutive slices (the
same rows, each slice a call of its own), on the first slice called ``--parts`` times (it
stays in the caches), and on that slice with a read of ``--flush-mib`` MiB before each call
(it does not). A serial loop of dependent additions keeps few reads in flight: where the
first two agree and the third is far faster, its time at this size is reading from memory,
not arithmetic, at a rate well below a plain read's.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gradrace import make_problem
from gradrace.bench.registry import load_registry


def median_ms(call, rounds: int) -> float:
    """The median of ``rounds`` timings of ``call()`` in milliseconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", default="numba")
    parser.add_argument("--problem", default="logistic")
    parser.add_argument("--m", type=int, default=1_000_000)
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--parts", type=int, default=10)
    parser.add_argument("--flush-mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    impl = load_registry().one(args.impl).for_problem(args.problem)
    if impl is None:
        parser.error(f"{args.impl} does not implement {args.problem}")
    p = make_problem(args.m, args.n, 1, seed=0, problem=args.problem)
    rows = args.m // args.parts
    slices = [slice(i * rows, (i + 1) * rows) for i in range(args.parts)]
    whole = impl.prepare_args(p.X, p.Y, p.W, p.b, p.lam)
    parts = [impl.prepare_args(p.X[s], p.Y[s], p.W, p.b, p.lam) for s in slices]
    flush = np.ones(args.flush_mib * 2**20 // 8)

    def after_flush() -> float:
        """Seconds of ``--parts`` calls on the first slice, each after the flush (untimed)."""
        total = 0.0
        for _ in slices:
            flush.sum()
            start = time.perf_counter()
            impl.call(parts[0])
            total += time.perf_counter() - start
        return total

    flushed = float(np.median([after_flush() for _ in range(args.rounds)])) * 1e3
    print(f"{args.impl} ({args.problem}) at m = {args.m}, n = {args.n}, in ms:")
    print(
        f"  the whole of X, one call:          {median_ms(lambda: impl.call(whole), args.rounds):8.2f}"
    )
    print(
        f"  {args.parts} consecutive slices:             {median_ms(lambda: [impl.call(a) for a in parts], args.rounds):8.2f}"
    )
    print(
        f"  the first slice {args.parts} times (cached):  {median_ms(lambda: [impl.call(parts[0]) for _ in slices], args.rounds):8.2f}"
    )
    print(f"  the same after a {args.flush_mib} MiB read each:  {flushed:8.2f}")


if __name__ == "__main__":
    main()
