"""The strings the report's template shows, from the tables: sentences, cells, rows.

Formatting lives here so that the builder in ``html.py`` only decides what goes on the
page; every value returned is plain text, escaped by jinja2 when it is rendered.
"""

from __future__ import annotations

import pandas as pd

from gradrace.reports.data import size_label
from gradrace.reports.headline import BASELINES, Headline
from gradrace.reports.mismatch import tuning_of
from gradrace.reports.model import MISS, UNDER_LIMIT, explain_miss
from gradrace.units import format_bytes, format_seconds, times

#: The order of a comparison's rows: slowdowns first, the unchanged cases last.
VERDICT_ORDER = {
    "slower": 0,
    "slower (noisy)": 1,
    "slower (busy machine)": 1,
    "faster": 2,
    "same": 3,
}


def speedup_text(values: tuple[float, float, float]) -> str:
    """ "12.3× (9.1–20×)": a geometric-mean speedup and its range, or why there is none."""
    mean, low, high = values
    if mean != mean:
        return "not timed at these sizes"
    if abs(high - low) / max(mean, 1e-12) < 0.05:
        return f"{times(mean)}"
    return f"{times(mean)} ({times(low)[:-1]}–{times(high)})"


def limit_text(h: Headline) -> str:
    """ "1.1 × the limit (reading X and Y once)", or why there is no such figure."""
    ratio = h.limit_ratio
    if ratio != ratio:
        return "not measured"
    if ratio < UNDER_LIMIT:
        return "not meaningful: faster than the limit timed beside it (noisy timing)"
    return f"{ratio:.2g} × the limit ({h.limit_is})"


def _noisy(h: Headline) -> bool:
    """Faster than the floor timed in the same rounds: the timing was disturbed."""
    return h.limit_ratio < UNDER_LIMIT or (
        h.limit_ratio != h.limit_ratio and h.bandwidth_fraction > 1.05
    )


def headline_view(h: Headline) -> dict:
    """One regime's card: winner, wins, speedups, × the limit, time, what limits it."""
    noisy = _noisy(h)
    return {
        "regime": f"{h.problem} · {h.regime.name}" if h.problem else h.regime.name,
        "range": h.regime.describe(),
        "limit": "timing too noisy to say" if noisy else h.regime.limit,
        "fastest": h.fastest,
        "wins": h.wins,
        "cases": h.cases,
        "largest": h.largest,
        "time": format_seconds(h.median_s),
        "speedups": {
            b: "it is the winner" if b == h.fastest else speedup_text(h.speedups[b])
            for b in BASELINES
        },
        "at_limit": limit_text(h),
    }


def headline_sentence(items: list[Headline]) -> str:
    """The answer at a glance, for the largest regime measured (of each problem, when the
    results hold several); it starts with the winner."""
    if not items:
        return "No implementation agreed with the reference on any timed case."
    last = {h.problem: h for h in items}  # each problem's largest regime
    return " ".join(_sentence(h) for h in last.values())


def _sentence(h: Headline) -> str:
    """The headline sentence of one problem's largest regime."""
    text = (
        f"{h.fastest} is the fastest agreeing implementation at the largest sizes measured "
        f"({h.regime.describe()})"
    )
    if h.problem:
        text = f"{h.problem.capitalize()}: {text}"
    speed = [
        f"{times(h.speedups[b][0])} faster than {b}"
        for b in BASELINES
        if h.speedups[b][0] == h.speedups[b][0] and b != h.fastest
    ]
    if speed:
        text += f": {' and '.join(speed)} (geometric mean over {h.cases} size(s))"
    if h.limit_ratio == h.limit_ratio and not _noisy(h):
        ratio = f"{h.limit_ratio:.2g} × the limit ({h.limit_is})"
        return f"{text}; at {h.largest} it ran at {ratio}: {format_seconds(h.median_s)}."
    text += f"; at {h.largest} it takes {format_seconds(h.median_s)}"
    if h.limit_ratio != h.limit_ratio and h.bandwidth_fraction <= 1.05:  # an older results file
        text += f", {h.bandwidth_fraction:.0%} of the speed of the read floor timed beside it"
    return text + "."


def scaling_view(row: dict) -> dict:
    """A scaling-table row with the exponents as text ("–" where they could not be fitted)."""

    def show(x):
        return f"{x:.2f}" if x == x else "–"

    return {**row, "alpha": show(row["alpha_m"]), "beta": show(row["beta_n"])}


def prediction_view(row: dict) -> dict:
    """A row of the model's table: measured and predicted times, their ratio, the verdict."""
    return {
        "name": row["implementation"],
        "size": size_label(row["m"], row["n"]),
        "measured": format_seconds(row["median_s"]),
        "predicted": format_seconds(row["predicted_s"]),
        "ratio": f"{row['miss']:.2g}×",
        "verdict": row["verdict"],
        "bad": "than modelled" in row["verdict"],
    }


def comparison_rows(table: pd.DataFrame) -> list[dict]:
    """A comparison table's rows (``compare.compare`` or ``compare_within``) as the page
    shows them, slowdowns first: the case, both medians, the ratio, its interval."""
    rows = table.assign(order=table["verdict"].map(VERDICT_ORDER))
    rows = rows.sort_values(["order", "ratio"], ascending=[True, False])
    return [
        {
            **r,
            "size": size_label(r["m"], r["n"], r["k"], r["dtype"], True),
            "old": format_seconds(r["old_s"]),
            "new": format_seconds(r["new_s"]),
            "ratio_text": times(r["ratio"]),
            "interval": f"{r['low']:.2f}–{r['high']:.2f}×",
        }
        for r in rows.to_dict("records")
    ]


def lost_rows(lost: pd.DataFrame) -> list[dict]:
    """The cases a comparison lost (skipped, failed, disagreeing) as the page lists them."""
    return [
        {
            "implementation": r["implementation"],
            "problem": r["problem"],
            "size": size_label(r["m"], r["n"], r["k"], r["dtype"], True),
            "status": r["status"],
            "message": r["message"] if isinstance(r["message"], str) else "",
        }
        for r in lost.to_dict("records")
    ]


def miss_summary(misses: pd.DataFrame, busy: bool = False) -> list[str]:
    """One sentence per implementation the model misses by more than MISS×, with a reason
    (``busy``: the run recorded a busy machine)."""
    out = []
    for name, own in misses.groupby("implementation", sort=False):
        worst = own.loc[(own["miss"].apply(lambda x: max(x, 1 / x))).idxmax()]
        faster = worst["miss"] < 1
        factor = 1 / worst["miss"] if faster else worst["miss"]
        limit = float(worst.get("limit_ratio", float("nan")))
        at_limit = f", {limit:.2g} × the limit" if limit == limit else ""
        reason = explain_miss(
            faster,
            worst["parallel"],
            worst["x_bytes"],
            worst["iqr_s"] / worst["median_s"],
            limit,
            worst["miss"],
            busy,
        )
        out.append(
            f"{name}: {len(own)} size(s) off by more than {MISS:g}×, worst at "
            f"{size_label(worst['m'], worst['n'])} ({'faster' if faster else 'slower'} than "
            f"predicted by {factor:.1f}×: measured {format_seconds(worst['median_s'])}"
            f"{at_limit}, predicted {format_seconds(worst['predicted_s'])}). Likely: {reason}."
        )
    return out


def numba_codegen(meta: dict) -> str | None:
    """How numba compiled in the run: its vectors and the LLVM flags gradrace added."""
    vectors, tuning = meta.get("numba_vectors"), tuning_of(meta)
    if vectors is None:
        return None
    added = tuning not in (None, "none", "")
    return f"{vectors} vectors; LLVM flags added: {tuning}" if added else f"{vectors} vectors"


def environment_rows(results: pd.DataFrame, meta: dict, bandwidth, peak) -> list[tuple[str, str]]:
    """(label, value) pairs: versions, CPU, threads, BLAS, measured machine, command."""
    config = meta.get("config") or {}
    settings = config.get("settings") or {}
    threads = sorted({int(t) for t in pd.to_numeric(results["threads"], errors="coerce").dropna()})
    blas = "; ".join(
        ", ".join(f"{k}={v}" for k, v in b.items() if v is not None) for b in meta.get("blas") or []
    )
    rows = [
        ("command", meta.get("command")),
        ("date", meta.get("date")),
        ("source", meta.get("source") or "gradrace run"),
        ("gradrace", meta.get("gradrace")),
        ("python", meta.get("python")),
        ("numpy", meta.get("numpy")),
        ("numba", meta.get("numba")),
        ("numba's code generation", numba_codegen(meta)),
        ("pandas", meta.get("pandas")),
        ("pytest-benchmark", meta.get("pytest_benchmark")),
        ("platform", meta.get("platform")),
        ("CPU", meta.get("cpu")),
        ("cores", meta.get("cores")),
        (
            "caches (per core's view)",
            ", ".join(
                f"{level} {format_bytes(size)}"
                for level, size in (meta.get("caches") or {}).items()
            )
            or None,
        ),
        ("threads used", ", ".join(map(str, threads)) or None),
        ("BLAS", blas or None),
        (
            "memory-read bandwidth",
            f"{bandwidth:.3g} GB/s (measured in the run)"
            if bandwidth
            else "unknown: not measured by this source, so no bandwidth floor or roofline ceiling",
        ),
        (
            "BLAS peak",
            f"{peak:.3g} GFLOP/s (float64 matrix product, measured)"
            if peak
            else "unknown: not measured by this source",
        ),
        ("environment", " ".join(f"{k}={v}" for k, v in (meta.get("env") or {}).items()) or None),
        ("timing", ", ".join(f"{k}={v}" for k, v in settings.items()) or None),
        ("commit", (meta.get("commit") or {}).get("id")),
        ("plugins not loaded", "; ".join(meta.get("load_errors") or []) or None),
        ("plugins replaced", _shadowed(meta.get("shadowed"))),
        ("machine load", _load_words(meta.get("busy"))),
    ]
    return [(label, str(value)) for label, value in rows if value not in (None, "", "None")]


def _load_words(busy) -> str | None:
    """The run's busy-machine record in words: its warning, or the load it saw."""
    if not isinstance(busy, dict):
        return None
    if busy.get("warning"):
        return str(busy["warning"])
    load = busy.get("load")
    return f"not busy: load {load:.1f} on {busy.get('cores')} cores" if load is not None else None


def describe(meta: dict, name: str) -> str:
    """An implementation's description and origin, where the run recorded them in its
    metadata (``{"implementations": {name: {"description": …, "origin": …}}}``)."""
    entry = (meta.get("implementations") or {}).get(name)
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        text = str(entry.get("description") or "")
        origin = entry.get("origin")
        return f"{text} [{origin}]" if origin else text
    return ""


def _shadowed(shadowed) -> str | None:
    """Which plugin named by hand took the place of which installed one, or None."""
    if not isinstance(shadowed, dict) or not shadowed:
        return None
    return "; ".join(f"{name}: {how}" for name, how in shadowed.items())
