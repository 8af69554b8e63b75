"""``gradrace run`` as a function: check, then time every implementation over a grid.

Cases run smallest first. Before each, an implementation whose time predicted from
a smaller case (growing with m·n·k) exceeds the budget is skipped with the reason,
so the pure-Python loop never stalls a run. Each finished case is written at once
(``results.py``); ``resume=True`` skips the measurements a folder already holds.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from gradrace.bench.cells import neutralised
from gradrace.bench.check import CHECK_CASES, lost_rows
from gradrace.bench.grids import (
    DEFAULT_MAX_ENTRIES,
    QUICK_MAX_ENTRIES,
    Case,
    default_grid,
    grid,
    quick_grid,
)
from gradrace.bench.machine import cpu_count, environment
from gradrace.bench.measure import Settings, case_row
from gradrace.bench.problem import ensure_fits, problem_bytes
from gradrace.bench.progress import Progress
from gradrace.bench.registry import Registry, load_registry
from gradrace.bench.results import KEY, ResultsWriter, load_results
from gradrace.bench.run_arguments import check_run_arguments
from gradrace.bench.status import DISAGREES, ERROR, OK, SKIPPED
from gradrace.bench.timing import ROUND_TARGET_S, ROUNDS
from gradrace.bench.worker import LOST, InProcess, Worker, WorkerFailed, WorkerLost


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides what a run measures; stored in the results to resume."""

    cases: tuple[Case, ...]
    implementations: tuple[str, ...]
    plugins: tuple[str, ...] = ()
    entry_points: bool = True
    settings: Settings = field(default_factory=Settings)
    timeout_s: float = 60.0
    isolate: bool = True

    def as_dict(self) -> dict:
        data = asdict(self)
        data["cases"] = [asdict(c) for c in self.cases]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        return cls(
            cases=tuple(Case(**c) for c in data["cases"]),
            implementations=tuple(data["implementations"]),
            plugins=tuple(data["plugins"]),
            entry_points=data["entry_points"],
            settings=Settings(**data["settings"]),
            timeout_s=data["timeout_s"],
            isolate=data["isolate"],
        )


def build_cases(m=None, n=None, k=(1,), dtype=("float64",), quick=False) -> list[Case]:
    """The grid for the options: explicit ``m``/``n`` lists, or the default or quick grid."""
    k, dtype = tuple(k or (1,)), tuple(dtype or ("float64",))
    if m and n:
        return grid(m, n, k, dtype)
    if m or n:  # one axis given: the other from the default (or quick) grid, with its size cap
        base = (quick_grid if quick else default_grid)(k, dtype)
        cap = QUICK_MAX_ENTRIES if quick else DEFAULT_MAX_ENTRIES
        return grid(
            m or sorted({c.m for c in base}), n or sorted({c.n for c in base}), k, dtype, cap
        )
    return (quick_grid if quick else default_grid)(k, dtype)


def check_grid_fits(cases: Sequence[Case]) -> None:
    """Refuse, before anything runs, a grid whose largest case would not fit in memory."""
    worst = max(cases, key=lambda c: problem_bytes(c.m, c.n, c.k, c.dtype))
    x_bytes = worst.m * worst.n * (4 if worst.dtype == "float32" else 8)
    need = problem_bytes(worst.m, worst.n, worst.k, worst.dtype) + 2 * x_bytes  # + copies
    ensure_fits(need, f"the grid's largest case ({worst.label})")


def _predict_skip(name: str, case: Case, done: list[dict], budget_s: float) -> str:
    """Why ``name`` should be skipped on ``case`` (its predicted call time), or ''."""
    smaller = [
        r for r in done
        if r["implementation"] == name and r["dtype"] == case.dtype
        and r["m"] <= case.m and r["n"] <= case.n and r["k"] <= case.k
        and r.get("status") in (OK, DISAGREES, SKIPPED)
    ]  # fmt: skip
    if not smaller:
        return ""
    base = max(smaller, key=lambda r: r["m"] * r["n"] * r["k"])
    if base["status"] == SKIPPED:
        message = str(base.get("message") or "")
        if message.startswith("skipped at"):
            return message
        return f"skipped at m={base['m']:,} n={base['n']:,} k={base['k']}: {message}"
    work = (case.m * case.n * case.k) / (base["m"] * base["n"] * base["k"])
    predicted = base["median_s"] * work
    if predicted <= budget_s:
        return ""
    return (
        f"over the budget: a call would take about {predicted:.2g} s (from {base['median_s']:.2g} s "
        f"at m={base['m']:,} n={base['n']:,} k={base['k']}, scaled by m·n·k); "
        f"the budget is {budget_s:g} s (--budget)"
    )


def unranked(metadata: dict) -> dict[str, str]:
    """Implementations timed but never the reference of a ranking, and why: those whose
    prepare precomputes from X (their per-call time does not read X) and those that
    failed the agreement check (a timing counts only for an implementation that agrees)."""
    from gradrace.implementations import PRECOMPUTED

    out = {name: "its untimed prepare precomputes from X" for name in PRECOMPUTED}
    for row in metadata.get("check") or []:
        if row.get("status") != OK:
            out[row["implementation"]] = "failed the agreement check"
    return out


def rank(rows: list[dict], excluded=()) -> None:
    """Set ``ratio_to_fastest`` (median ÷ the fastest agreeing median) on one case's rows.

    ``excluded`` implementations (see ``unranked``) get a ratio but are not the reference.
    """
    medians = [r["median_s"] for r in rows
               if r.get("status") == OK and r["implementation"] not in excluded]  # fmt: skip
    fastest = min(medians, default=None)
    for r in rows:
        ratio = r["median_s"] / fastest if fastest and r.get("status") == OK else float("nan")
        r["ratio_to_fastest"] = ratio


class Runner:
    """Carries out one RunConfig, writing into ``out`` as it goes."""

    def __init__(self, config: RunConfig, registry: Registry, writer: ResultsWriter, progress):
        self.config, self.registry, self.writer, self.progress = config, registry, writer, progress
        self.quarantine: dict[str, str] = {  # implementations that hung or crashed the worker
            r["implementation"]: f"lost the worker at m={r['m']:,} n={r['n']:,}: {r['message']}"
            for r in writer.rows if r.get("status") == ERROR and LOST in str(r.get("message"))
        } if writer is not None else {}  # fmt: skip
        if config.isolate:
            self.backend = Worker(config.plugins, config.entry_points,
                                  config.settings.threads, config.timeout_s)  # fmt: skip
        else:
            self.backend = InProcess(registry, config.settings.threads)

    def machine(self) -> dict:
        return self.backend.machine()

    def check(self) -> pd.DataFrame:
        names, frames = list(self.config.implementations), []
        while names:
            try:
                frames.append(self.backend.check(names, CHECK_CASES))
                break
            except WorkerFailed as failed:
                last = str(failed).strip().splitlines()[-1]
                frames.append(lost_rows(names[0], CHECK_CASES, f"gradrace failed: {last}"))
                names.pop(0)
            except WorkerLost as lost:
                culprit = lost.implementation or names[0]
                reason = f"{lost.reason} (in {lost.phase})"
                self.quarantine[culprit] = f"hung or crashed in the agreement check: {reason}"
                frames.append(lost_rows(culprit, CHECK_CASES, reason))
                names.remove(culprit)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def _measure(self, case: Case, names: list[str]) -> list[dict]:
        rows, names = [], list(names)
        while names:
            on_event = lambda name, phase: self.progress.running(case, name, phase)  # noqa: E731
            try:
                return rows + self.backend.measure(case, names, self.config.settings, on_event)
            except WorkerLost as lost:
                culprit = lost.implementation or names[0]
                message = f"{lost.reason} (in {lost.phase})"
                rows.append(case_row(case, culprit, self.config.settings.threads,
                                     status=ERROR, message=message))  # fmt: skip
                self.quarantine[culprit] = f"lost the worker at {case.label}: {message}"
                names.remove(culprit)
            except WorkerFailed as failed:
                last = str(failed).strip().splitlines()[-1]
                return rows + [case_row(case, n, self.config.settings.threads, status=ERROR,
                                        message=f"gradrace failed on this case: {last}")
                               for n in names]  # fmt: skip
        return rows

    def run_case(self, case: Case) -> list[dict]:
        threads, budget = self.config.settings.threads, self.config.settings.budget_s
        done = {tuple(r[k] for k in KEY) for r in self.writer.rows}
        todo = [n for n in self.config.implementations
                if (n, case.m, case.n, case.k, case.dtype, threads) not in done]  # fmt: skip
        skipped, measure = [], []
        for name in todo:
            why = self.quarantine.get(name) or _predict_skip(name, case, self.writer.rows, budget)
            if why:
                skipped.append(case_row(case, name, threads, status=SKIPPED, message=why))
            else:
                measure.append(name)
        rows = (self._measure(case, measure) if measure else []) + skipped
        rank(rows, unranked(self.writer.metadata))
        return rows

    def close(self) -> None:
        self.backend.close()


def absolute_plugin(spec: str) -> str:
    """A ``path/to/file.py:attr`` spec with an absolute path, so a resumed run (from another
    folder) and the worker load the same file; module specs are left as they are."""
    target, sep, attr = spec.rpartition(":")
    if sep and (target.endswith(".py") or "/" in target or "\\" in target):
        return f"{Path(target).expanduser().resolve()}:{attr}"
    return spec


def default_out() -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("reports") / stamp


def run(
    *,
    m: Sequence[int] | None = None,
    n: Sequence[int] | None = None,
    k: Sequence[int] = (1,),
    dtype: Sequence[str] = ("float64",),
    impl: Sequence[str] | None = None,
    plugins: Sequence[str] = (),
    entry_points: bool = True,
    threads: int | None = None,
    budget: float = 0.5,
    timeout: float = 60.0,
    quick: bool = False,
    out: str | Path | None = None,
    resume: bool = False,
    isolate: bool = True,
    report: bool = True,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Check, then time implementations over a grid; return the results as a DataFrame.

    Results are written to ``out`` (default ``reports/<timestamp>``) after every case.
    With ``resume=True`` the run continues the one stored in ``out`` with its config.
    """
    m, n, k, dtype, threads, budget, timeout = check_run_arguments(
        m, n, k, dtype, threads, budget, timeout
    )
    if threads is not None and threads > cpu_count():
        raise ValueError(
            f"--threads {threads} is more than the {cpu_count()} cores this process may use"
        )
    out = Path(out) if out is not None else default_out()
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} is a file, not a folder: choose another --out")
    if not resume and (out / "results.json").exists():
        raise FileExistsError(
            f"{out} already holds a run's results; continue it with --resume (resume=True "
            "in Python), or choose another --out (out=)"
        )
    previous = load_results(out) if resume else None
    if previous is not None:
        config = RunConfig.from_dict(previous.attrs["metadata"]["config"])
    else:
        registry = load_registry(plugins, entry_points=entry_points)
        names = tuple(i.name for i in registry.select(impl))
        cases = tuple(build_cases(m, n, k, dtype, quick))
        settings = Settings(
            threads=threads or cpu_count(), budget_s=budget,
            round_target_s=0.005 if quick else ROUND_TARGET_S, rounds=5 if quick else ROUNDS,
            time_cap_s=0.3 if quick else 1.5,
        )  # fmt: skip
        config = RunConfig(cases, names, tuple(map(absolute_plugin, plugins)), entry_points,
                           settings, timeout, isolate)  # fmt: skip
    return execute(config, out, previous, report=report, progress=progress)


def execute(config: RunConfig, out: Path, previous: pd.DataFrame | None = None,
            report: bool = True, progress: Progress | None = None) -> pd.DataFrame:  # fmt: skip
    """Carry out ``config`` into ``out``, keeping the rows of ``previous``."""
    check_grid_fits(config.cases)
    registry = load_registry(config.plugins, entry_points=config.entry_points)
    progress = progress or Progress(len(config.cases))
    for error in registry.errors:
        progress.message(f"plugin not loaded: {error}")
    metadata = previous.attrs["metadata"] if previous is not None else {
        **environment(), "config": config.as_dict(),
        "load_errors": [str(e) for e in registry.errors],
        "implementations": {e.name: {"description": e.implementation.description, "origin": e.origin}
                            for e in registry if e.name in config.implementations},
        "unavailable": dict(registry.unavailable),
    }  # fmt: skip
    rows = previous.to_dict("records") if previous is not None else []
    writer = ResultsWriter(out, metadata, rows)
    runner = Runner(config, registry, writer, progress)
    try:
        if "machine" not in metadata:
            writer.write()  # the folder holds a resumable run from the start
            progress.message("measuring memory bandwidth and BLAS peak ...")
            metadata["machine"] = runner.machine()
            metadata["env"] = metadata["machine"].pop("env")  # as the timing process sees it
            progress.message("agreement check ...")
            check = runner.check()
            neutralised(check).to_csv(out / "check.csv", index=False)
            metadata["check"] = check.astype(object).where(check.notna(), None).to_dict("records")
            writer.write()
        for case in config.cases:
            rows = runner.run_case(case)
            if rows:
                writer.add(rows)
            progress.case_done(case, rows)
    finally:
        runner.close()
        progress.close()
    frame = writer.frame()
    frame.attrs["out"] = str(out)
    if report:
        from gradrace.reports import write_report

        frame.attrs["report"] = str(write_report(frame, out))
    return frame
