"""Reading a ``pytest --benchmark-json`` file as a gradrace results table.

gradrace's benchmark suite stores the implementation and the case in each
benchmark's ``extra_info``; its ``stats`` are per-call seconds. The memory
bandwidth and BLAS peak are not measured by pytest-benchmark, so the metadata says
they are unknown and the report omits what depends on them, saying so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from gradrace.bench.grids import Case
from gradrace.bench.ranking import rank, unranked
from gradrace.bench.results import COLUMNS, FORMAT, derived

SOURCE = "pytest-benchmark"
NEEDED = ("implementation", "m", "n", "k", "dtype")


def is_pytest_benchmark(payload: object) -> bool:
    """Whether a parsed JSON document is a pytest-benchmark file."""
    return isinstance(payload, dict) and "benchmarks" in payload and "machine_info" in payload


def _row(bench: dict) -> dict:
    info, stats = bench["extra_info"], bench["stats"]
    case = Case(int(info["m"]), int(info["n"]), int(info.get("k", 1)), str(info["dtype"]))
    row = {
        "implementation": str(info["implementation"]), "m": case.m, "n": case.n, "k": case.k,
        "dtype": case.dtype, "threads": info.get("threads"), "status": "ok",
        "median_s": stats["median"], "min_s": stats["min"], "mean_s": stats["mean"],
        "iqr_s": stats["iqr"], "q1_s": stats.get("q1"), "q3_s": stats.get("q3"), "rounds": stats["rounds"], "number": stats.get("iterations"),
        "error": info.get("error"), "lam": case.lam, "seed": case.seed,
        "message": f"pytest-benchmark: {bench.get('fullname', bench.get('name', ''))}",
    }  # fmt: skip
    row.update(derived(case.m, case.n, case.k, case.dtype, stats["median"], None))
    return row


def _metadata(payload: dict, path: Path, ignored: int) -> dict:
    info = payload.get("machine_info", {})
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
        "commit": payload.get("commit_info", {}),
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
    benches = payload.get("benchmarks", [])
    ours = [b for b in benches if all(k in (b.get("extra_info") or {}) for k in NEEDED)]
    if benches and not ours:
        raise ValueError(
            f"{path}: no benchmark carries gradrace's extra_info ({', '.join(NEEDED)})"
        )
    rows = [_row(b) for b in ours]
    metadata = _metadata(payload, Path(path), len(benches) - len(ours))
    by_case: dict[tuple, list[dict]] = {}
    for row in rows:
        by_case.setdefault((row["m"], row["n"], row["k"], row["dtype"]), []).append(row)
    for case_rows in by_case.values():
        rank(case_rows, unranked(metadata))  # ratio_to_fastest, as gradrace run sets it
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame.attrs["metadata"] = metadata
    return frame


def load_pytest_benchmark(path: str | Path) -> pd.DataFrame:
    with open(path, encoding="utf-8") as f:
        return from_pytest_benchmark(json.load(f), path)
