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


def median_ms(calls, rounds: int, before=None) -> float:
    """The median over ``rounds`` of the milliseconds ``calls`` take one after another,
    ``before()`` run untimed ahead of each call."""
    totals = []
    for _ in range(rounds):
        total = 0.0
        for call in calls:
            if before:
                before()
            start = time.perf_counter()
            call()
            total += time.perf_counter() - start
        totals.append(total)
    return float(np.median(totals)) * 1e3


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
    first = [lambda: impl.call(parts[0])] * args.parts
    cases = {
        "the whole of X, one call": ([lambda: impl.call(whole)], None),
        f"{args.parts} consecutive slices": ([lambda a=a: impl.call(a) for a in parts], None),
        f"the first slice {args.parts} times (cached)": (first, None),
        f"the same after a {args.flush_mib} MiB read each": (first, flush.sum),
    }
    print(f"{args.impl} ({args.problem}) at m = {args.m}, n = {args.n}, in ms:")
    for label, (calls, before) in cases.items():
        print(f"  {label + ':':42s} {median_ms(calls, args.rounds, before):8.2f}")


if __name__ == "__main__":
    main()
