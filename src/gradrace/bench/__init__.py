"""The benchmark engine: problem and reference, registry, agreement, timing, grids, runs."""
