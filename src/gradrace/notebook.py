"""gradrace in a notebook: ``check`` and ``race`` return objects that display themselves.

Both run in the notebook's own process — no worker, so a function that hangs or crashes
takes the kernel with it — and write no files: the tables and the plot live in the
returned objects, as HTML for Jupyter (``_repr_html_``) and as text for a terminal.
Everything shown is escaped: names, descriptions and messages come from user code.
"""

from __future__ import annotations

import base64
import io
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numba
import pandas as pd

from gradrace._jit import set_threads
from gradrace.bench import grids, run_arguments
from gradrace.bench.agreement import TOLERANCE
from gradrace.bench.check import failing, format_check, run_check
from gradrace.bench.course import looks_like_course
from gradrace.bench.explain import parameter_names
from gradrace.bench.grids import Case
from gradrace.bench.implementation import Implementation
from gradrace.bench.interrupt import watching_ctrl_c
from gradrace.bench.machine import cpu_count
from gradrace.bench.measure import Settings
from gradrace.bench.problem import PROBLEMS, check_dtype
from gradrace.bench.registry import Registry, as_implementation, load_registry
from gradrace.bench.results import ResultsWriter
from gradrace.bench.runner import RunConfig, Runner, build_cases, check_grid_fits
from gradrace.bench.status import DISAGREES, NOT_APPLICABLE, OK
from gradrace.bench.traits import record
from gradrace.reports.data import problems_of, size_label
from gradrace.units import format_seconds, times

#: The built-ins a race times the learner's functions against by default.
AGAINST = ("numpy-dot", "einsum", "numba-fused")
#: The timing settings of ``gradrace run --quick``: short rounds, a few of them.
QUICK = {"round_target_s": 0.005, "rounds": 5, "time_cap_s": 0.3}
ORIGIN = "notebook"
#: Failures listed in full under the check table; the rest fold into a <details>.
SHOWN_FAILURES = 8

Candidate = Implementation | Callable | str


# -- Turning what the notebook passes into implementations -------------------------------


def _flatten(candidates: Iterable) -> list:
    out = []
    for c in candidates:
        out.extend(_flatten(c) if isinstance(c, list | tuple) else [c])
    return out


def _from_object(obj) -> Implementation:
    if isinstance(obj, Implementation):
        return obj
    name = getattr(obj, "__name__", None)
    if callable(obj) and (not isinstance(name, str) or name == "<lambda>"):
        course = looks_like_course(obj) and parameter_names(obj)[1] == "y"  # not Y (n, k)
        wrap = (
            "gradrace.course(fn, name='mine')"
            if course
            else "gradrace.Implementation(name='mine', gradient=fn)"
        )
        raise ValueError(f"{obj!r:.60} has no usable name; wrap it as {wrap}")
    source = f"the {type(obj).__name__} {name!r}" if name else "the argument"
    return as_implementation(obj, name, source)


def _resolve(candidates: Iterable, builtins: Sequence[str] = ()) -> list[Implementation]:
    """Implementations for functions, Implementations and registered names, in order.

    The registry is loaded only when a name is asked for; two with one name are refused.
    """
    objs = _flatten(candidates)
    names = [o for o in objs if isinstance(o, str)] + list(builtins)
    registry = load_registry() if names else None
    impls = [registry.one(o) if isinstance(o, str) else _from_object(o) for o in objs]
    impls += [registry.one(name) for name in builtins]
    seen: set[str] = set()
    for impl in impls:
        if impl.name in seen:
            raise ValueError(
                f"two implementations are named {impl.name!r}: rename one (a built-in's name "
                f"is taken too), e.g. gradrace.course(fn, name='{impl.name}-v2') for a "
                f"function written the course's way, else gradrace.Implementation("
                f"name='{impl.name}-v2', gradient=fn)"
            )
        seen.add(impl.name)
    if not impls:
        raise ValueError("nothing to run: pass a gradient function, an Implementation or a name")
    return impls


def _values(value, what: str, parse: Callable) -> set | None:
    if value is None:
        return None
    items = list(value) if isinstance(value, Iterable) and not isinstance(value, str) else [value]
    try:
        return {parse(v) for v in items}
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: {exc}") from None


def _positive_int(value) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not float(value).is_integer()
        or value < 1
    ):
        raise ValueError(f"{value!r} is not a positive integer")
    return int(value)


def _dtype(value) -> str:
    return str(check_dtype(value))


def _problems(problem, impls: Sequence[Implementation]) -> tuple[str, ...]:
    """The problems asked for (one name or several), or every problem ``impls`` compute."""
    if problem is None:
        return tuple(p for p in PROBLEMS if any(p in i.problems for i in impls))
    return run_arguments.problems("problem", problem)


def check_cases(m=None, n=None, k=None, dtype=None, problem=("linear",)) -> list[Case]:
    """The agreement check's cases with the given m, n, k and dtype (each one value or
    several), chosen as ``gradrace check --m --n --k --dtype`` chooses them, for each
    of ``problem``."""
    wanted = {
        "m": _values(m, "m", _positive_int),
        "n": _values(n, "n", _positive_int),
        "k": _values(k, "k", _positive_int),
        "dtype": _values(dtype, "dtype", _dtype),
    }
    chosen = {axis: tuple(sorted(values)) if values else None for axis, values in wanted.items()}
    return list(grids.check_cases(**chosen, problem=problem))


# -- The agreement check -----------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """How one implementation fared: cases that agree out of those that apply to it."""

    agreeing: int
    applicable: int
    not_applicable: int = 0
    kinds: tuple[str, ...] = ()  # what each failing case did: disagrees, raised, wrong-dtype…

    @property
    def agrees(self) -> bool:
        return self.applicable > 0 and self.agreeing == self.applicable

    def __str__(self) -> str:
        if self.applicable == 0:
            return f"no applicable case ({self.not_applicable} n/a)"
        na = f"{self.not_applicable} n/a" if self.not_applicable else ""
        if self.agrees:
            return f"agrees ({self.agreeing}/{self.applicable} cases{'; ' + na if na else ''})"
        wrong = self.applicable - self.agreeing  # the count of failures, so it cannot misread
        text = failing(wrong, self.applicable, "cases", self.kinds or ["disagrees"] * wrong)
        return f"{text}{' (' + na + ')' if na else ''}"


def verdicts(results: pd.DataFrame) -> dict[str, Verdict]:
    """Each implementation's verdict from check rows; n/a cases count for nothing."""
    out = {}
    for name in pd.unique(results["implementation"]):
        rows = results[results["implementation"] == name]
        status = rows["status"]
        na = int((status == NOT_APPLICABLE).sum())
        failed = rows.loc[~status.isin([OK, NOT_APPLICABLE])]
        kinds = tuple(failed["kind"].astype(str)) if "kind" in rows else ()
        out[str(name)] = Verdict(int((status == OK).sum()), len(status) - na, na, kinds)
    return out


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _check_cell(row: Mapping) -> tuple[str, str]:
    """The text and CSS class of one case × implementation cell of the check table."""
    status = row.get("status")
    if status == OK:
        errors = [float(row[c]) for c in ("err_dW", "err_db") if _finite(row.get(c))]
        return (f"ok {max(errors):.0e}" if errors else "ok"), "ok"
    if status == NOT_APPLICABLE:
        return "n/a", "na"
    return str(row.get("kind") or status).upper(), "bad"


def _failure_text(row: Mapping) -> str:
    message = str(row.get("message") or "")
    diagnosis = str(row.get("diagnosis") or "")
    if diagnosis and diagnosis not in message:
        message = f"{message}; looks like: {diagnosis}" if message else f"looks like: {diagnosis}"
    return message


@dataclass(frozen=True, eq=False, repr=False)
class CheckResult:
    """The agreement check of some implementations: ``results`` has one row per
    implementation × case (the columns of ``gradrace check``); ``descriptions`` maps
    names to what each implementation says it is."""

    results: pd.DataFrame
    descriptions: Mapping[str, str] | None = None

    @property
    def verdicts(self) -> dict[str, Verdict]:
        return verdicts(self.results)

    @property
    def agrees(self) -> bool:
        """Whether every implementation agrees on every case that applies to it."""
        found = self.verdicts
        return bool(found) and all(v.agrees for v in found.values())

    @property
    def failures(self) -> pd.DataFrame:
        """The rows that neither agree nor are n/a."""
        return self.results[~self.results["status"].isin([OK, NOT_APPLICABLE])]

    def __str__(self) -> str:
        if self.results.empty:
            return "Agreement check: no case was run."
        return format_check(self.results)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return _render("check", **self._context())

    def _context(self) -> dict:
        names = _names(self.results)
        cells: dict[tuple[str, str], tuple[str, str, str]] = {}
        for row in self.results.to_dict("records"):
            text, css = _check_cell(row)
            cells[(row["case"], str(row["implementation"]))] = (text, css, _failure_text(row))
        rows = [
            (case, [cells.get((case, name), ("", "", "")) for name in names])
            for case in pd.unique(self.results["case"])
        ]
        descriptions = self.descriptions or {}
        return {
            "names": names,
            "rows": rows,
            "tolerances": ", ".join(f"{dt}: {tol:.0e}" for dt, tol in TOLERANCE.items()),
            "verdicts": [(n, v, descriptions.get(n, "")) for n, v in self.verdicts.items()],
            "failures": [
                (str(r["implementation"]), r["case"], r["kind"], _failure_text(r))
                for r in self.failures.to_dict("records")
            ],
            "shown": SHOWN_FAILURES,
        }


@watching_ctrl_c()  # a plugin raising KeyboardInterrupt is its failure
def check(
    implementations: Candidate | Sequence[Candidate],
    *,
    m: int | Iterable[int] | None = None,
    n: int | Iterable[int] | None = None,
    k: int | Iterable[int] | None = None,
    dtype: str | Iterable[str] | None = None,
    problem: str | Iterable[str] | None = None,
) -> CheckResult:
    """Check gradient functions against the float64 reference, here in this process.

    ``implementations``: a function ``gradient(X, Y, W, b, lam) -> (dW, db)``, a
    ``gradrace.Implementation``, a registered name such as ``"numpy-dot"``, or a list of
    them. ``m``, ``n``, ``k`` and ``dtype`` keep only the check cases with those values;
    ``problem`` ('linear', 'logistic' or both) chooses the problems (default: every one
    the implementations compute; a function's problem comes from its name, see
    ``gradrace.course``).
    No worker process protects the notebook: a function that hangs or crashes stops the
    kernel (``gradrace check`` on the command line runs in a worker). No file is written.
    """
    impls = _resolve([implementations])
    cases = check_cases(m, n, k, dtype, _problems(problem, impls))
    results = run_check(impls, cases)
    return CheckResult(results, {i.name: i.description for i in impls})


# -- The race ----------------------------------------------------------------------------


class _Memory(ResultsWriter):
    """A results writer that keeps the rows in memory and writes no file."""

    def __init__(self, metadata: dict):  # no folder: ResultsWriter.__init__ would make one
        self.out = None
        self.metadata = metadata
        self.rows = []

    def write(self) -> None:
        pass


class _Silent:
    """Progress that shows nothing: the result displays itself when the race is over."""

    def running(self, *args) -> None:
        pass

    def message(self, text: str) -> None:
        pass


def _timing_cell(row: Mapping) -> tuple[str, str, str]:
    """Text, CSS class and tooltip of one size × implementation cell of the race table."""
    status, message = row.get("status"), str(row.get("message") or "")
    if status in (OK, DISAGREES) and _finite(row.get("median_s")):
        text = format_seconds(float(row["median_s"]))
        ratio = row.get("ratio_to_fastest")
        if status == DISAGREES:
            return f"{text} ≠ ref", "bad", message
        if _finite(ratio):
            text += f" ({times(float(ratio))})"
            return text, "best" if float(ratio) <= 1.0 + 1e-9 else "ok", message
        return text, "ok", message
    css = "na" if status in (NOT_APPLICABLE, "skipped") else "bad"
    return str(status or "-"), css, message


def _names(results: pd.DataFrame) -> list[str]:
    """The implementations of ``results`` in the order they were given."""
    return [str(n) for n in pd.unique(results["implementation"])]


def _size(row: Mapping) -> tuple:
    problem = row.get("problem")
    problem = problem if isinstance(problem, str) else "linear"
    return (
        problem != "linear",
        problem,
        int(row["m"]),
        int(row["n"]),
        int(row["k"]),
        str(row["dtype"]),
    )


@dataclass(frozen=True, eq=False, repr=False)
class RaceResult:
    """A race's timings (``results``: one row per implementation × size, the columns of a
    results file) and the agreement check of the same implementations (``check``)."""

    results: pd.DataFrame
    check: CheckResult
    note: str = ""

    @property
    def names(self) -> list[str]:
        return _names(self.results)

    def table(self) -> tuple[list[str], list[tuple[str, list[tuple[str, str, str]]]]]:
        """(implementation names, [(size label, [(text, css, tooltip) per name])])."""
        names = self.names
        by_size: dict[tuple, dict[str, Mapping]] = {}
        for row in self.results.to_dict("records"):
            by_size.setdefault(_size(row), {})[str(row["implementation"])] = row
        rows = []
        for size in sorted(by_size):
            at = by_size[size]
            label = size_label(*size[2:], full=True)
            label = label if size[1] == "linear" else f"{size[1]} {label}"
            rows.append((label, [_timing_cell(at[n]) if n in at else ("", "", "") for n in names]))
        return names, rows

    def plot_png(self) -> bytes | None:
        """Time per gradient against m, one panel per n, as PNG bytes (None if nothing was timed)."""
        return _plot(self.results)

    def __str__(self) -> str:
        names, rows = self.table()
        if not rows:
            return "Race: nothing was timed."
        frame = pd.DataFrame(
            [[text for text, _, _ in cells] for _, cells in rows],
            index=[label for label, _ in rows],
            columns=names,
        )
        lines = [
            "Median time per gradient (× the fastest agreeing implementation at that size)",
            "",
            frame.to_string(),
            "",
            "Agreement check:",
        ]
        lines += [f"  {name}: {verdict}" for name, verdict in self.check.verdicts.items()]
        return "\n".join(lines + ([self.note] if self.note else []))

    __repr__ = __str__

    def _repr_html_(self) -> str:
        names, rows = self.table()
        png = self.plot_png()
        image = f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}" if png else ""
        return _render(
            "race",
            names=names,
            rows=rows,
            verdicts=self.check._context()["verdicts"],
            image=image,
            note=self.note,
        )


def _plot(results: pd.DataFrame) -> bytes | None:
    """The race's plot, drawn on a bare Figure: no pyplot, so the notebook's own
    matplotlib backend and figures are left alone."""
    timed = results[results["status"].isin([OK, DISAGREES]) & results["median_s"].notna()]
    if timed.empty:
        return None
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    from gradrace.reports.style import looks

    look = looks(_names(results))
    timed = timed.assign(problem=problems_of(timed))
    pairs = zip(timed["problem"], timed["n"], strict=True)
    panels = sorted({(p != "linear", p, n) for p, n in pairs})
    fig = Figure(figsize=(1.5 + 3.6 * len(panels), 3.2), layout="constrained", facecolor="white")
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    for ax, (_, problem, n) in zip(axes, panels, strict=True):
        at = timed[(timed["n"] == n) & (timed["problem"] == problem)]
        for name in _names(at):
            line = at[at["implementation"] == name].sort_values("m")
            wrong = (line["status"] == DISAGREES).any()
            style = look[name]
            ax.plot(
                line["m"],
                line["median_s"],
                color=style.colour,
                marker=style.marker,
                linestyle=":" if wrong else style.dashes,
                label=str(name).replace("$", r"\$") + (" (≠ ref)" if wrong else ""),
            )
        title = f"n = {n:,}" if problem == "linear" else f"{problem}, n = {n:,}"
        ax.set(xscale="log", yscale="log", title=title, xlabel="m (samples, log)")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_seconds(v)))
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("median time per gradient")
    axes[-1].legend(loc="upper left", fontsize=8, frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, facecolor="white")
    return buffer.getvalue()


def _sizes(value, what: str) -> tuple[int, ...]:
    found = _values(value, what, _positive_int)
    if not found:
        raise ValueError(f"{what}: give at least one size")
    return tuple(sorted(found))


@watching_ctrl_c()  # a plugin raising KeyboardInterrupt is its failure
def race(
    *functions: Candidate | Sequence[Candidate],
    against: Sequence[str] = AGAINST,
    m: int | Iterable[int] = (100, 1_000, 10_000),
    n: int | Iterable[int] = (10,),
    k: int | Iterable[int] = (1,),
    dtype: str | Iterable[str] = ("float64",),
    threads: int | None = None,
    budget: float = 0.5,
    quick: bool = True,
    problem: str | Iterable[str] | None = None,
) -> RaceResult:
    """Time gradient functions against built-ins over every (m, n, k, dtype), in this process.

    ``functions`` are gradient functions, Implementations or registered names; ``against``
    names the built-ins to race (``()`` for none). The agreement check runs first, as in
    ``gradrace run``; a call slower than ``budget`` seconds is timed once and larger sizes
    are skipped. ``quick`` uses the short rounds of ``gradrace run --quick``. ``problem``
    chooses the problems timed (default: every one ``functions`` compute). No worker
    process protects the notebook and no file is written: the result holds everything.
    """
    if isinstance(against, str):
        against = (against,)
    impls = _resolve(list(functions), tuple(against))
    own = impls[: len(impls) - len(against)] or impls
    cases = build_cases(
        _sizes(m, "m"),
        _sizes(n, "n"),
        _sizes(k, "k"),
        sorted(_values(dtype, "dtype", _dtype) or {"float64"}),
        problem=_problems(problem, own),
    )
    check_grid_fits(cases)
    threads = threads or cpu_count()
    if threads > cpu_count():
        raise ValueError(f"threads={threads} is more than the {cpu_count()} cores available")
    if not budget > 0:
        raise ValueError(f"budget must be a number of seconds greater than 0, got {budget!r}")
    settings = Settings(threads=threads, budget_s=budget, **(QUICK if quick else {}))
    registry = Registry()
    for impl in impls:
        registry.add(impl, ORIGIN)
    config = RunConfig(
        tuple(cases), tuple(registry.names()), entry_points=False, settings=settings, isolate=False
    )
    traits = {i.name: record(i, ORIGIN, cases) for i in impls}  # gram is timed, not ranked
    writer = _Memory({"config": config.as_dict(), "implementations": traits})
    numba_threads = numba.get_num_threads()  # the run sets its own; the notebook keeps its
    runner = Runner(config, registry, writer, _Silent())
    try:
        checked = runner.check()
        applicable = checked[checked["status"] != NOT_APPLICABLE]  # n/a is no failure
        writer.metadata["check"] = (
            applicable.astype(object).where(applicable.notna(), None).to_dict("records")
        )
        for case in cases:
            writer.add(runner.run_case(case))
    finally:
        runner.close()
        set_threads(numba_threads)
    descriptions = {i.name: i.description for i in impls}
    rounds = f"{settings.rounds} rounds of ~{settings.round_target_s * 1e3:g} ms"
    note = (
        f"Timed in this process with {threads} thread(s), {rounds} per implementation and "
        "size; the ratio is to the fastest implementation that agrees with the reference."
    )
    return RaceResult(writer.frame(), CheckResult(checked, descriptions), note)


# -- HTML --------------------------------------------------------------------------------

_STYLE = """<style>
.gradrace table { border-collapse: collapse; margin: 0.4em 0; font-size: 0.9em; }
.gradrace th, .gradrace td { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
.gradrace th { background: #f5f5f5; }
.gradrace td.ok { color: #1a7f37; } .gradrace td.best { color: #1a7f37; font-weight: bold; }
.gradrace td.bad { color: #b42318; font-weight: bold; } .gradrace td.na { color: #888; }
.gradrace .verdict-bad { color: #b42318; font-weight: bold; }
.gradrace .verdict-ok { color: #1a7f37; font-weight: bold; }
</style>"""

_VERDICTS = """<ul>{% for name, verdict, description in verdicts %}
<li><code>{{ name }}</code>: <span class="{{ 'verdict-ok' if verdict.agrees else 'verdict-bad' }}">{{ verdict }}</span>{% if description %} — {{ description }}{% endif %}</li>{% endfor %}
</ul>"""

_TEMPLATES = {
    "check": _STYLE
    + """<div class="gradrace gradrace-check">
<p><b>Agreement with the float64 reference</b>: normwise relative error of dW and db, the larger
shown (tolerance {{ tolerances }}). Checked in this process.</p>
<table><thead><tr><th>case</th>{% for name in names %}<th>{{ name }}</th>{% endfor %}</tr></thead>
<tbody>{% for case, cells in rows %}<tr><th>{{ case }}</th>{% for text, css, tip in cells %}<td class="{{ css }}" title="{{ tip }}">{{ text }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
"""
    + _VERDICTS
    + """
{% if failures %}<p><b>Failures</b></p><ul>{% for name, case, kind, message in failures[:shown] %}
<li><code>{{ name }}</code> on {{ case }}: <b>{{ kind }}</b>: {{ message }}</li>{% endfor %}
</ul>{% if failures|length > shown %}<details><summary>{{ failures|length - shown }} more</summary><ul>
{% for name, case, kind, message in failures[shown:] %}<li><code>{{ name }}</code> on {{ case }}: <b>{{ kind }}</b>: {{ message }}</li>
{% endfor %}</ul></details>{% endif %}{% endif %}</div>""",
    "race": _STYLE
    + """<div class="gradrace gradrace-race">
<p><b>Median time per gradient</b> (× the fastest agreeing implementation at that size; bold: the fastest)</p>
<table><thead><tr><th>size</th>{% for name in names %}<th>{{ name }}</th>{% endfor %}</tr></thead>
<tbody>{% for label, cells in rows %}<tr><th>{{ label }}</th>{% for text, css, tip in cells %}<td class="{{ css }}" title="{{ tip }}">{{ text }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
<p><b>Agreement check</b></p>"""
    + _VERDICTS
    + """
{% if image %}<img src="{{ image }}" alt="median time per gradient against m">{% else %}<p>Nothing was timed: no plot.</p>{% endif %}
{% if note %}<p><small>{{ note }}</small></p>{% endif %}</div>""",
}


def _render(template: str, **context) -> str:
    """Render one of the templates with every value HTML-escaped."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(_TEMPLATES[template]).render(**context)
