"""gradrace's pytest-benchmark suite: each selected implementation × the grid of sizes.

    pytest --pyargs gradrace.benchmarks --benchmark-only [--gradrace-impl NAME ...]
           [--gradrace-plugin file.py:attr] [--gradrace-m 100,10000] [--gradrace-n 10,100]
           [--benchmark-json out.json]

Each benchmark checks the output against the reference, then times only the
``gradient`` call on prepared data (see ``gradrace.bench.pedantic``), grouped by
problem size; ``gradrace report out.json`` reads the JSON file.
"""

from __future__ import annotations


def test_gradient(gradrace_benchmark, gradrace_implementation, gradrace_case) -> None:
    gradrace_benchmark(gradrace_implementation, gradrace_case)
