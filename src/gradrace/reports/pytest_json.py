"""Reading a ``pytest --benchmark-json`` file as a gradrace results table.

gradrace's benchmark suite stores the implementation and the case in each
benchmark's ``extra_info``; its ``stats`` are per-call seconds. A file saved with
``--benchmark-save-data`` also holds each round's per-call time (``stats.data``): they
become the row's ``samples``, so comparisons of such files decide from the rounds as
they do for ``gradrace run``'s, not from quartiles. The memory bandwidth and BLAS peak
are not measured by pytest-benchmark, so the metadata says they are unknown and the
report omits what depends on them, saying so.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from gradrace.bench import arguments
from gradrace.bench.grids import Case
from gradrace.bench.problem import check_dtype, check_problem
from gradrace.bench.ranking import rank, unranked
from gradrace.bench.results import COLUMNS, FORMAT, MAX_SAMPLES, derived
from gradrace.bench.stats import median_interval

SOURCE = "pytest-benchmark"
NEEDED = ("implementation", "m", "n", "k", "dtype")


def is_pytest_benchmark(payload: object) -> bool:
    """Whether a parsed JSON document is a pytest-benchmark file."""
    return isinstance(payload, dict) and "benchmarks" in payload and "machine_info" in payload


class BadBenchmark(ValueError):
    """A pytest-benchmark file whose benchmark lacks a field gradrace needs or has it of the
    wrong type; the message names the field and the benchmark."""


def _name(bench: dict, index: int) -> str:
    name = bench.get("fullname") or bench.get("name")
    return f"benchmark {name!r}" if isinstance(name, str) else f"benchmark #{index + 1}"


def _object(value: object, field: str, where: str) -> dict:
    """``value`` if it is a JSON object (or absent: an empty one), else a clear error."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadBenchmark(f"{where}: {field} must be a JSON object, got {type(value).__name__}")
    return value


def _stat(stats: dict, key: str, where: str, *, positive: bool = False, required: bool = True):
    """``stats[key]`` as a finite number (> 0 when ``positive``, else ≥ 0); None if optional."""
    value = stats.get(key)
    if value is None:
        if required:
            raise BadBenchmark(f"{where}: stats.{key} is missing")
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (value <= 0 if positive else value < 0):
        rule = "a finite number greater than 0" if positive else "a finite number of at least 0"
        raise BadBenchmark(f"{where}: stats.{key} must be {rule}, got {value!r}")
    return value


def _case(info: dict, where: str) -> Case:
    try:
        m, n, k = (arguments.integer(f"extra_info.{f}", info.get(f, 1)) for f in ("m", "n", "k"))
        dtype = str(check_dtype(info["dtype"]))
        problem = check_problem(info.get("problem", "linear"))  # older files: linear
    except ValueError as exc:
        raise BadBenchmark(f"{where}: {exc}") from None
    return Case(m, n, k, dtype, model=problem)


def _row(bench: dict, where: str) -> dict:
    """One results row from one benchmark; ``where`` names it in any error."""
    info = _object(bench.get("extra_info"), "extra_info", where)
    stats = _object(bench.get("stats"), "stats", where)
    case = _case(info, where)
    median = _stat(stats, "median", where, positive=True)
    row = {
        "implementation": str(info["implementation"]),
        "m": case.m,
        "n": case.n,
        "k": case.k,
        "dtype": case.dtype,
        "problem": case.model,
        "threads": info.get("threads"),
        "status": "ok",
        "median_s": median,
        "min_s": _stat(stats, "min", where, required=False),
        "mean_s": _stat(stats, "mean", where, required=False),
        "iqr_s": _stat(stats, "iqr", where),
        "q1_s": _stat(stats, "q1", where, required=False),
        "q3_s": _stat(stats, "q3", where, required=False),
        "rounds": _stat(stats, "rounds", where, required=False),
        "number": _stat(stats, "iterations", where, required=False),
        "error": info.get("error"),
        "lam": case.lam,
        "seed": case.seed,
        "message": f"pytest-benchmark: {bench.get('fullname', bench.get('name', ''))}",
    }
    row.update(derived(case.m, case.n, case.k, case.dtype, median, None))
    samples = _samples(stats.get("data"), where)
    if samples:
        interval = median_interval(samples)
        row.update(samples=samples, ci_low_s=interval.low, ci_high_s=interval.high)
    return row


def _samples(data: object, where: str) -> list[float] | None:
    """The per-call time of each round (``stats.data``, saved with --benchmark-save-data),
    at most MAX_SAMPLES of them, evenly spread; None when the file has none."""
    if data is None:
        return None
    ok = isinstance(data, list) and all(
        isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) and x > 0
        for x in data
    )
    if not ok:
        raise BadBenchmark(f"{where}: stats.data must be a list of times greater than 0")
    if len(data) > MAX_SAMPLES:
        step = len(data) / MAX_SAMPLES
        data = [data[int(i * step)] for i in range(MAX_SAMPLES)]
    return [float(x) for x in data] or None


def _metadata(payload: dict, path: Path, ignored: int) -> dict:
    info = _object(payload.get("machine_info"), "machine_info", str(path))
    cpu = info.get("cpu", {}) if isinstance(info.get("cpu"), dict) else {}
    return {
        "source": SOURCE,
        "date": payload.get("datetime"),
        "command": f"pytest --benchmark-only --benchmark-json={path.name}",
        "pytest_benchmark": payload.get("version"),
        "python": info.get("python_version"),
        "platform": " ".join(str(info.get(k, "")) for k in ("system", "release", "machine")),
        "cpu": cpu.get("brand_raw") or info.get("processor"),
        "cores": cpu.get("count"),
        "commit": _object(payload.get("commit_info"), "commit_info", str(path)),
        "machine": {"bandwidth_gbs": None, "peak_gflops": None},
        "ignored_benchmarks": ignored,
        "format": FORMAT,
        "implementations": _traits(payload),
    }


def _traits(payload: dict) -> dict:
    """Each implementation's traits as the benchmarks recorded them, their counts merged."""
    out: dict[str, dict] = {}
    for bench in payload.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        traits = info.get("traits")
        if not isinstance(traits, dict) or "implementation" not in info:
            continue
        entry = out.setdefault(str(info["implementation"]), {**traits, "counts": {}})
        entry["counts"].update(traits.get("counts") or {})
    return out


def from_pytest_benchmark(payload: dict, path: str | Path = "benchmark.json") -> pd.DataFrame:
    """The results table of a parsed pytest-benchmark document; benchmarks without gradrace's
    ``extra_info`` (other suites' tests) are left out and counted in the metadata."""
    benches = payload.get("benchmarks") or []
    if not isinstance(benches, list):
        raise BadBenchmark(f"{path}: benchmarks must be a JSON list, got {type(benches).__name__}")
    for index, bench in enumerate(benches):
        if not isinstance(bench, dict):
            got = type(bench).__name__
            raise BadBenchmark(f"{path}: benchmark #{index + 1} must be a JSON object, got {got}")
        _object(bench.get("extra_info"), "extra_info", f"{path}: {_name(bench, index)}")
    ours = [
        (f"{path}: {_name(b, i)}", b)
        for i, b in enumerate(benches)
        if all(k in (b.get("extra_info") or {}) for k in NEEDED)
    ]
    if benches and not ours:
        raise ValueError(
            f"{path}: no benchmark carries gradrace's extra_info ({', '.join(NEEDED)})"
        )
    rows = [_row(bench, where) for where, bench in ours]
    metadata = _metadata(payload, Path(path), len(benches) - len(ours))
    by_case: dict[tuple, list[dict]] = {}
    for row in rows:
        key = (row["m"], row["n"], row["k"], row["dtype"], row["problem"])
        by_case.setdefault(key, []).append(row)
    for key, case_rows in by_case.items():
        rank(case_rows, unranked(metadata, key[-1]))  # ratio_to_fastest, as gradrace run sets it
    sampled = ["samples"] if any("samples" in row for row in rows) else []
    frame = pd.DataFrame(rows, columns=[*COLUMNS, *sampled])
    frame.attrs["metadata"] = metadata
    return frame
