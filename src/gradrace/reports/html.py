"""The self-contained HTML report: a jinja2 template with autoescaping, plots inlined.

Everything the page needs is in the one file: CSS inline, plots as base64 PNG (each
also written beside the page), no script, no font and no request to the network.
Every string that comes from a results file (implementation names, messages) is
escaped by jinja2, so a plugin cannot inject markup.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from gradrace.bench.busy import busy_warning, cores_held
from gradrace.bench.cells import neutralised
from gradrace.reports import (
    agreement,
    compare,
    crossover,
    drift,
    limits,
    plots,
    scaling,
    tables,
    tradeoffs,
    views,
)
from gradrace.reports.data import (
    agreeing,
    combo_words,
    combos,
    implementations,
    machine,
    metadata,
    numeric,
    of_combo,
    size_label,
)
from gradrace.reports.headline import headlines
from gradrace.reports.model import MISS, NOT_DECLARED, declared, predict, streamed_units
from gradrace.reports.style import looks as make_looks
from gradrace.units import count, format_bytes, format_seconds

INDEX = "index.html"


@dataclass
class Figure:
    """One plot: its anchor, caption, PNG file name and the data URI shown in the page."""

    id: str
    title: str
    caption: str
    file: str = ""
    src: str = ""  # empty: nothing to draw, the caption says why


@dataclass
class Options:
    """What a report shows beyond the results: the baseline, and an older run to compare."""

    baseline: str = "numpy-dot"
    previous: pd.DataFrame | None = None
    previous_label: str = "the previous run"
    threshold: float = compare.THRESHOLD
    gated: tuple[str, ...] = ()  # the implementations the comparison's gate is limited to
    correct: bool = True  # divide the machine's drift out of the comparison
    sources: list[str] = field(default_factory=list)
    within: compare.WithinRun | None = None  # A/B in one run, as ``gradrace report`` printed it


class Builder:
    """Draws the figures into ``out`` and gathers the template's context."""

    def __init__(self, results: pd.DataFrame, out: Path, options: Options):
        self.meta = metadata(results)
        self.results, self.out, self.options = numeric(results), out, options
        self.looks = make_looks(implementations(results), self.meta.get("order") or ())
        self.bandwidth, self.peak = machine(self.meta)
        self.cores = int(self.meta.get("cores") or 1)

    def figure(self, fig, id: str, title: str, caption: str) -> Figure:
        caption = limits.with_note(caption, limits.note_of(fig))
        data = plots.png(fig, self.out / f"{id}.png")
        src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        return Figure(id, title, caption, f"{id}.png", src)

    # -- 1. headline -----------------------------------------------------------------------

    def headline(self) -> dict:
        items = headlines(self.results, self.meta)
        panels = [
            (
                f"{h.problem + ', ' if h.problem else ''}{h.regime.name}: "
                f"{h.regime.describe()}, {h.cases} size(s)",
                h.slowdowns,
            )
            for h in items
        ]
        fig = None
        if panels:
            fig = self.figure(
                plots.headline_bars(panels, self.looks),
                "headline",
                "How far each implementation is from the fastest, per regime",
                "Each bar: the implementation's median time ÷ the fastest median at "
                "the same size, as a geometric mean over the regime's sizes; 1× "
                "means fastest everywhere. Hatched: timed on fewer sizes than the "
                "others (skipped or failed at some). An implementation whose "
                "prepare precomputes from X is not ranked and can be below 1×.",
            )
        timed = set(self.results["implementation"])
        precomputed = sorted(
            n
            for n, e in (self.meta.get("implementations") or {}).items()
            if n in timed and isinstance(e, dict) and e.get("precomputes")
        )
        return {
            "items": [views.headline_view(h) for h in items],
            "sentence": views.headline_sentence(items),
            "figure": fig,
            "correct": self.correctness(),
            "precomputed": precomputed,
            "floors_known": self.floors_known(),
            "busy": busy_warning(self.meta),
        }

    def correctness(self) -> str:
        fails = agreement.failures(self.results, self.meta)
        names = implementations(self.results)
        if not fails:
            source = (
                "the agreement check and every timed case"
                if self.meta.get("check")
                else "every timed case"
            )
            return f"All {len(names)} implementations agree with the reference on {source}."
        bad = sorted({f.implementation for f in fails})
        return (
            f"{len(bad)} of {len(names)} implementations disagree with the reference or "
            f"fail somewhere: {', '.join(bad)} (see Agreement)."
        )

    # -- 2–5. plots per (k, dtype) -----------------------------------------------------------

    def several_problems(self) -> bool:
        return len(set(self.results["problem"])) > 1

    def combo_figures(self, problem: str, k: int, dtype: str, suffix: str) -> list[Figure]:
        all_rows = of_combo(self.results, k, dtype, problem)
        rows = agreeing(all_rows)
        if rows.empty:
            return []
        what = combo_words(problem, k, dtype, self.several_problems())
        baseline = self.baseline()
        return [
            self.figure(
                plots.time_vs_m(rows, self.looks),
                f"time-vs-m{suffix}",
                f"Time per gradient against m ({what})",
                "Log–log; one panel per n. A slope of 1 is linear growth in m; a flat "
                "start is the fixed per-call overhead. The band is the "
                "interquartile range (first to third quartile) of the timing rounds.",
            )
            if _varies(rows, "m", "n")
            else _nothing(f"time-vs-m{suffix}", "m", "n", what),
            self.figure(
                plots.time_vs_n(rows, self.looks),
                f"time-vs-n{suffix}",
                f"Time per gradient against n at fixed m ({what})",
                "Log–log; one panel per m.",
            )
            if _varies(rows, "n", "m")
            else _nothing(f"time-vs-n{suffix}", "n", "m", what),
            self.figure(
                plots.throughput(rows, self.looks, self.bandwidth),
                f"throughput{suffix}",
                f"Throughput against data size: a roofline view ({what})",
                "Effective bandwidth = bytes of X and Y ÷ time, i.e. as if each were read "
                "exactly once. "
                + (
                    "The solid black line is the read of X and Y timed in the "
                    "same rounds, the dashed one the least arithmetic (4·m·n·k flops) at the "
                    "matrix-product rate timed there: the lower of the two is the limit, and a "
                    "point's distance below it is its time in × the limit. Older results "
                    "files show the run's measured read bandwidth instead."
                    if self.floors_known()
                    else "No limit is drawn: this file holds no read or matrix product timed "
                    "beside the implementations (pytest-benchmark does not time them)."
                ),
            ),
            self.figure(
                plots.speedup_heatmap(all_rows, baseline),
                f"speedup{suffix}",
                f"Speedup over {baseline} ({what})",
                f"Each cell: {baseline}'s median ÷ the implementation's median at that "
                "size; blue is faster, red slower. 'skip', 'error' and '≠ ref' mark "
                "cases not timed or not agreeing.",
            )
            if len(implementations(all_rows)) > 1
            else Figure(
                f"speedup{suffix}",
                f"Speedup over {baseline} ({what})",
                "No plot: one implementation only, so nothing to compare it with.",
            ),
        ]

    def floors_known(self) -> bool:
        """Whether the results hold a limit to draw and divide by: floors timed in the
        rounds (``read_s``), or the run's one measurement of the bandwidth."""
        read = self.results.get("read_s")
        return bool(self.bandwidth) or (read is not None and read.notna().any())

    def baseline(self) -> str:
        names = implementations(self.results)
        wanted = self.options.baseline
        return wanted if wanted in names else (names[0] if names else wanted)

    # -- 6, 10. scaling and the model ----------------------------------------------------------

    def model_section(self, problem: str, k: int, dtype: str) -> dict:
        rows = agreeing(of_combo(self.results, k, dtype, problem))
        table, fits = predict(rows, self.meta, self.bandwidth, self.peak, self.cores)
        scale = scaling.scaling_table(rows, fits, self.meta)
        shown, note = limits.head(table, "predictions")
        some_n, n_note = limits.crossover_rows(rows)
        misses = table[table["verdict"].astype(str).str.contains("than modelled")]
        fig = None
        if not table.empty:
            fig = self.figure(
                plots.model_fit(table, self.looks, MISS),
                "model",
                "The cost model against the measurements "
                f"({combo_words(problem, k, dtype, self.several_problems())})",
                "Each point is one implementation at one size. On the diagonal the "
                f"model is exact; in the grey band it is within {MISS:g}×.",
            )
        return {
            "scaling": [views.scaling_view(r) for r in scale.to_dict("records")],
            "construction": [
                self._construction_view(n, fits.get(n), problem) for n in implementations(rows)
            ],
            "predictions": [views.prediction_view(r) for r in shown.to_dict("records")],
            "predictions_note": limits.with_note("", note).strip(),
            "misses": views.miss_summary(misses, cores_held(self.meta.get("busy"))),
            "miss_count": len(misses),
            "total": len(table),
            "figure": fig,
            "crossovers": crossover.in_words(crossover.crossovers(some_n))
            + [n_note][: bool(n_note)],
            "machine_known": bool(self.bandwidth and self.peak),
        }

    def _construction_view(self, name: str, fit, problem: str) -> dict:
        view = self._construction(name, fit, problem)
        view["description"] = views.describe(self.meta, name)
        return view

    def _construction(self, name: str, fit, problem: str = "linear") -> dict:
        entry = declared(self.meta, name, problem)
        overhead = format_seconds(fit.overhead_s) if fit else "–"
        streamed = streamed_units(self.meta, name, problem)
        fitted = [
            f"{s:.2g} × {unit}" if unit in streamed else f"{format_seconds(s)} {unit}"
            for unit, s in (fit.per_unit_s.items() if fit else ())
            if s > 0
        ]
        if entry is None:
            return {
                "name": name,
                "declared": False,
                "passes": NOT_DECLARED,
                "temporaries": NOT_DECLARED,
                "flops": NOT_DECLARED,
                "overhead": "– (not modelled: an implementation that declares a gradrace.Cost gets a prediction; see docs/plugins.md)",
                "fitted": "",
                "cores": "?",
            }
        cost = entry["cost"]
        return {
            "name": name,
            "declared": True,
            "passes": cost["passes"],
            "temporaries": cost["temporaries"],
            "flops": cost["flops"],
            "overhead": f"{overhead} fitted ({cost['overhead']})",
            "fitted": "; ".join(fitted),
            "cores": "all" if cost["parallel"] else "one",
        }

    # -- 8. preparation, skipped and failed --------------------------------------------------

    def preparation(self) -> dict:
        summary = tables.prepare_summary(self.results)
        not_timed, note = limits.head(tables.not_timed(self.results), "cases not timed")
        rows = agreeing(self.results)
        fig = None
        if len(rows) and rows["prepare_s"].gt(0).any():
            fig = self.figure(
                plots.prepare_times(rows, self.looks),
                "prepare",
                "Preparation time per case",
                "The untimed prepare step: layout changes and, on its first call "
                "for a dtype, JIT compilation (or loading it from numba's cache).",
            )
        return {
            "table": [
                {
                    "name": r["implementation"],
                    "first": format_seconds(r["first_s"]),
                    "median": format_seconds(r["median_rest_s"]),
                    "max": format_seconds(r["max_s"]),
                    "compiles": r["compiles"],
                }
                for r in summary.to_dict("records")
            ],
            "figure": fig,
            "not_timed": [
                {**r, "size": size_label(r["m"], r["n"], r["k"], r["dtype"], True)}
                for r in not_timed.to_dict("records")
            ],
            "not_timed_note": limits.with_note("", note).strip(),
        }

    def with_metadata(self) -> pd.DataFrame:
        """The results with the run's metadata (its traits, origins and busy record), for
        what reads them as the command line does."""
        frame = self.results.copy()
        frame.attrs = {"metadata": self.meta}
        return frame

    # -- comparison with an older run ------------------------------------------------------

    def comparison(self) -> dict | None:
        previous = self.options.previous
        if previous is None:
            return None
        threshold = self.options.threshold
        table = compare.compare(
            previous, self.with_metadata(), threshold, self.options.gated, self.options.correct
        )
        fig = None
        if not table.empty:
            fig = self.figure(
                plots.comparison(table, self.looks, threshold),
                "compare",
                f"This run against {self.options.previous_label}",
                "One point per implementation and size: this run's median ÷ the "
                "other run's. Above the grey band: slower by more than the "
                "threshold.",
            )
        return {
            "summary": compare.summarize(table, threshold),
            "drift": drift.describe(table.attrs.get("drift", 1.0), self.options.correct),
            "figure": fig,
            "threshold": threshold,
            "label": self.options.previous_label,
            "rows": views.comparison_rows(table),
            "missing": len(compare.only_in(previous, self.results)),
            "added": len(compare.only_in(self.results, previous)),
            "busy": [
                f"{label}: {said}"
                for label, said in (
                    (self.options.previous_label, busy_warning(previous.attrs.get("metadata"))),
                    ("this run", busy_warning(self.meta)),
                )
                if said
            ],
        }

    # -- A/B: versions of one implementation timed in this run ------------------------------

    def within_run(self) -> dict | None:
        """The A/B section from the comparison ``gradrace report`` printed (not recomputed)."""
        within = self.options.within
        if within is None:
            return None
        table, threshold = within.table, within.threshold
        fig = None
        if not table.empty:
            how = "the ratio taken round by round" if within.paired else "the ratio of medians"
            fig = self.figure(
                plots.comparison(table, self.looks, threshold),
                "a-b",
                f"Each version against {within.baseline}"
                + (", in the same rounds" if within.paired else ""),
                f"One point per version and size: its median ÷ {within.baseline}'s, "
                f"{how}. Above the grey band: slower by more than the threshold.",
            )
        return {
            "baseline": within.baseline,
            "paired": within.paired,
            "how": within.how,
            "names": list(within.names),
            "summary": compare.summarize(table, threshold),
            "threshold": threshold,
            "figure": fig,
            "problems": len(set(table["problem"]) | set(within.lost["problem"])) > 1,
            "rows": views.comparison_rows(table),
            "lost": views.lost_rows(within.lost),
        }

    # -- everything -------------------------------------------------------------------------

    def context(self) -> dict:
        meta = self.meta
        found = combos(agreeing(self.results))
        sets = []
        for i, (problem, k, dtype) in enumerate(found):
            suffix = "" if i == 0 else f"-k{k}-{dtype}"
            suffix = suffix if i == 0 or problem == "linear" else f"-{problem}{suffix}"
            figures = self.combo_figures(problem, k, dtype, suffix)
            sets.append({"problem": problem, "k": k, "dtype": dtype, "figures": figures})
        problem, k, dtype = found[0] if found else ("linear", 1, "float64")
        what = combo_words(problem, k, dtype, self.several_problems())
        check_names, check_rows = agreement.check_table(meta)
        return {
            "title": title(self.results),
            "meta": meta,
            "sources": self.options.sources,
            "from_pytest": meta.get("source") == "pytest-benchmark",
            "headline": self.headline(),
            "yours": tables.standings(self.with_metadata()),
            "yours_heading": tables.YOURS,
            "comparison": self.comparison(),
            "within": self.within_run(),
            "sets": sets,
            "main": {"problem": problem, "k": k, "dtype": dtype, "what": what},
            "model": self.model_section(problem, k, dtype),
            "check_names": check_names,
            "check_rows": check_rows,
            "failures": agreement.failures(self.results, meta),
            "timed_errors": agreement.timed_errors(self.results).to_dict("records"),
            "precision": tradeoffs.precision(self.results),
            "gram": tradeoffs.gram_break_even(self.results),
            "prepare": self.preparation(),
            "environment": views.environment_rows(self.results, meta, self.bandwidth, self.peak),
            "results_table": Markup(tables.results_html(self.results)),
            "csv_uri": _csv_uri(self.results),
            "baseline": self.baseline(),
            "miss": MISS,
        }


def title(results: pd.DataFrame) -> str:
    """'gradrace report', naming the problems when any is not linear."""
    problems = list(dict.fromkeys(results["problem"]))
    if problems in ([], ["linear"]):
        return "gradrace report"
    return f"gradrace report ({' and '.join(problems)} regression)"


def _varies(rows: pd.DataFrame, along: str, fixed: str) -> bool:
    """Whether some value of ``fixed`` has two or more values of ``along``: a line to draw."""
    return bool((rows.groupby(fixed)[along].nunique() > 1).any())


def _nothing(id: str, along: str, fixed: str, what: str) -> Figure:
    return Figure(
        id,
        f"Time against {along} ({what})",
        f"No plot: every {fixed} was measured at a single {along}, so there is no line to draw.",
    )


def _csv_uri(results: pd.DataFrame) -> str:
    data = neutralised(results).to_csv(index=False).encode("utf-8")
    return "data:text/csv;base64," + base64.b64encode(data).decode("ascii")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gradrace.reports", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["count"] = count
    env.filters["bytes"] = format_bytes
    env.filters["seconds"] = format_seconds
    return env


def render(results: pd.DataFrame, out: str | Path, options: Options | None = None) -> Path:
    """Write ``out/index.html`` and its PNGs for ``results``; return the page's path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    context = Builder(results, out, options or Options()).context()
    page = _environment().get_template("report.html.j2").render(**context)
    path = out / INDEX
    plots.write_atomically(path, page.encode("utf-8"))  # replaces a planted link, never follows it
    return path
