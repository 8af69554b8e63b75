"""Measuring one case: prepare, check against the reference, then time in interleaved rounds.

``measure_case`` is what a timing worker runs (or the run itself, without isolation).
It never raises for a plugin's fault: a plugin that raises, returns a wrong result
or modifies its inputs gets a row saying so, and the others are still measured.
"""

from __future__ import annotations

import collections
import contextlib
import io
import itertools
import os
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from gradrace import _load as _load_mod
from gradrace.bench.agreement import (
    DISAGREES,
    ERROR,
    OK,
    Outcome,
    changed_between_calls,
    copy_inputs,
    failure,
    instead_of_writing,
    judge_call,
    prepare_and_check,
    restore,
    written,
)
from gradrace.bench.explain import describe_exception
from gradrace.bench.grids import Case
from gradrace.bench.interrupt import PLUGIN_RAISES, pass_on_ctrl_c
from gradrace.bench.machine import compute_probe, exp_probe, read_once
from gradrace.bench.reference import reference_gradient
from gradrace.bench.registry import Registry
from gradrace.bench.results import derived
from gradrace.bench.settle import MAX_WAIT_S, held_back, until_quiet
from gradrace.bench.stats import half_width, paired_interval
from gradrace.bench.status import NOT_APPLICABLE
from gradrace.bench.timing import (
    MIN_ROUNDS,
    ROUND_TARGET_S,
    ROUNDS,
    Timing,
    calibrate,
    measure,
    plan_rounds,
)

Report = Callable[..., None]

#: The names the probes are timed under, among the implementations (not valid plugin names):
#: the read of X and Y (the memory floor) and a fixed matrix product (the peak flop rate).
READ = "(read X and Y once)"
COMPUTE = "(matrix-product probe)"
#: For logistic regression: numpy's exp of the case's m·k logits, one thread.
EXP = "(exp probe)"
PROBES = (READ, COMPUTE, EXP)
#: Versions of one implementation whose ratio, paired by round, stays wider than the
#: precision get up to this many times ``Settings.max_rounds``.
PAIRED_ROUNDS = 4


@dataclass(frozen=True)
class Settings:
    """How a run measures: threads, the slow-implementation budget, rounds and their length."""

    threads: int = 1
    budget_s: float = 0.5  # a call slower than this is timed once, and larger sizes are skipped
    round_target_s: float = ROUND_TARGET_S
    rounds: int = ROUNDS
    time_cap_s: float = 1.5  # timing one implementation on one case takes at most about this
    memory: bool = True  # measure peak memory of a call with tracemalloc
    # A median whose 95 % interval is wider than ±precision gets more rounds, up to
    # max_rounds in all and another time_cap_s: precision where it is cheap.
    precision: float = 0.05
    max_rounds: int = 3 * ROUNDS

    def as_dict(self) -> dict:
        return asdict(self)


def _nothing(*event) -> None:
    pass


def case_row(case: Case, name: str, threads: int, outcome: Outcome | None = None, **extra) -> dict:
    """A results row for ``name`` on ``case``; timing columns come in ``extra``."""
    row = {
        "implementation": name,
        "m": case.m,
        "n": case.n,
        "k": case.k,
        "dtype": case.dtype,
        "problem": case.model,
        "threads": threads,
        "lam": case.lam,
        "seed": case.seed,
    }
    if outcome is not None:
        row.update(outcome.row_fields())
    row.update(extra)
    return row


def _peak_bytes(gradient, args) -> int:
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        gradient(*args)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _calibrate(name, gradient, args, row: dict, settings: Settings, report: Report):
    """Peak memory, then calls per round and rounds for one implementation."""
    if settings.memory:
        report("phase", name, "memory")
        row["peak_bytes"] = _peak_bytes(gradient, args)
    report("phase", name, "calibrate")
    number, per_call = calibrate(lambda: gradient(*args), settings.round_target_s)
    if per_call <= settings.budget_s:
        return number, plan_rounds(per_call, number, settings.rounds, settings.time_cap_s)
    note = f"timed once: a call takes {per_call:.2g} s, over the {settings.budget_s:g} s budget"
    row["message"] = f"{row['message']}; {note}" if row.get("message") else note
    return 1, 1


def measure_case(
    registry: Registry,
    case: Case,
    names: Sequence[str],
    settings: Settings,
    report: Report = _nothing,
) -> list[dict]:
    """Check and time the implementations ``names`` on ``case``; one row each."""
    load_before, others_before = _load(), _load_mod.others_running()
    report("phase", "", "problem")
    problem = case.problem()
    reference = reference_gradient(*problem.args, problem=case.model)
    pristine = copy_inputs(problem)  # X, Y, W and b as made: no call may change them
    rows, fns, numbers, rounds, prepared, versions = {}, {}, {}, {}, {}, {}
    printed = _Printed()  # what the calls counted and timed print
    for name in names:
        why = registry[name].applies_to(case.model, case.k) if name in registry else ""
        if why:
            rows[name] = case_row(case, name, settings.threads, Outcome(NOT_APPLICABLE, "n/a", why))
            continue
        if name not in registry:  # a plugin that loaded in the parent but not here
            rows[name] = case_row(
                case,
                name,
                settings.threads,
                failure(
                    "not-loaded", "not registered in the timing process (its plugin failed to load)"
                ),
            )
            continue
        impl = versions[name] = registry[name].for_problem(case.model)
        checked = prepare_and_check(impl, problem, reference, report, pristine)
        outcome, args, prepare_s = checked.outcome, checked.args, checked.prepare_s
        rows[name] = case_row(case, name, settings.threads, outcome, prepare_s=prepare_s)
        if outcome.status not in (OK, DISAGREES):
            continue
        printed.now = name
        try:
            with contextlib.redirect_stdout(printed):
                numbers[name], rounds[name] = _calibrate(
                    name, impl.gradient, args, rows[name], settings, report
                )
        except PLUGIN_RAISES as exc:  # sys.exit in a plugin is its failure
            pass_on_ctrl_c(exc)
            rows[name] = case_row(case, name, settings.threads, prepare_s=prepare_s, **_raised(exc))
            continue
        changed = written(problem, pristine, impl.terms)
        if changed:  # while calibrating: this implementation's calls, and only its
            restore(problem, pristine)
            rows[name].update(
                status=ERROR,
                kind="modified-input",
                message=f"a call while its calls were counted wrote into {', '.join(changed)} "
                f"(put back; {instead_of_writing(impl)})",
            )
            continue
        fns[name] = lambda g=impl.gradient, a=args: g(*a)
        prepared[name] = args
    timed = (name for name, count in rounds.items() if count >= MIN_ROUNDS)
    for group in _versions(timed).values():  # versions' rounds pair one to one
        rounds.update(dict.fromkeys(group, min(rounds[name] for name in group)))
    probe_flops = _add_probes(fns, numbers, rounds, problem, settings, case.model) if fns else 0.0

    held = []  # rounds begun beside a thread that never went to sleep

    def on_round(name: str, r: int) -> None:
        printed.now = name
        report("phase", name, "time")
        if held_back(until_quiet()):  # the last round's pool threads asleep: they take cores
            held.append(name)

    with contextlib.redirect_stdout(printed):  # thousands of calls' prints: counted, not shown
        timings, errors = measure(fns, numbers, rounds, on_round)
        timings = _more_rounds(fns, numbers, timings, errors, settings, on_round)
    spoiled = _put_back(problem, pristine, [n for n in timings if n in rows])
    read, compute = timings.pop(READ, None), timings.pop(COMPUTE, None)
    exp = timings.pop(EXP, None)
    peak = compute and probe_flops / compute.median_s / 1e9
    exp_s = exp and exp.median_s / _load_mod.threads_to_use(settings.threads)
    for name, exc in errors.items():
        rows[name].update(_raised(exc))
    for name, timing in timings.items():
        rows[name].update(
            timing.as_dict(),
            compute_s=compute.median_s if compute else float("nan"),
            read_samples=list(read.samples) if read else None,
            compute_samples=list(compute.samples) if compute else None,
            exp_samples=list(exp.samples) if exp else None,
            **derived(
                case.m,
                case.n,
                case.k,
                case.dtype,
                timing.median_s,
                read and read.median_s,
                peak,
                exp_s,
            ),
        )
        for said in (spoiled, printed.said(name), _held_note(held)):
            if said:
                note = rows[name].get("message")
                rows[name]["message"] = f"{said}; {note}" if note else said
        if rows[name]["status"] == OK:
            _judge_too_fast(versions[name], case, rows[name])
        if rows[name]["status"] == OK:
            _judge_last(
                versions[name], prepared[name], problem, reference, rows[name], report, pristine
            )
        fns.pop(name), prepared.pop(name)  # free what prepare made before preparing again
        if rows[name]["status"] == OK:
            _judge_changed_x(versions[name], problem, case.model, rows[name], report)
    load_after, others = _load(), max(others_before, _load_mod.others_running())
    for row in rows.values():
        row.update(load_before=load_before, load_after=load_after, other_threads=others)
    return [rows[name] for name in names]


def _held_note(held: list[str]) -> str:
    """What rows say when rounds began beside a thread of the worker that never slept."""
    if not held:
        return ""
    return (
        f"{len(held)} of the case's rounds began with another thread of the worker still "
        f"running after {MAX_WAIT_S * 1e3:.0f} ms of waiting (a thread that never sleeps "
        "takes a core from every timing beside it)"
    )


class _Printed(io.TextIOBase):
    """stdout while the rounds run: the lines each implementation's calls print, counted
    (``now`` is the one whose round runs), not shown."""

    def __init__(self) -> None:
        self.now, self.lines = "", collections.Counter()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.lines[self.now] += str(text).count("\n")
        return len(text)

    def said(self, name: str) -> str:
        """A note for ``name``'s row where its timed calls printed ('' where not)."""
        if not self.lines[name]:
            return ""
        return (
            f"its timed calls printed {self.lines[name]:,} line(s), counted and not shown: "
            "a print in the gradient is timed with it"
        )


def _put_back(problem, pristine: tuple, timed: list[str]) -> str:
    """After the interleaved rounds: X, Y, W and b as made, and if a call had changed them
    (which one cannot be told: the rounds interleave them), a note for each timed row."""
    changed = written(problem, pristine)
    if not changed:
        return ""
    restore(problem, pristine)
    return (
        f"{', '.join(changed)} changed during the timing rounds: a call of one of "
        f"{', '.join(timed)} wrote into its inputs; put back before the judging calls, "
        "but the timings after the change were on other data"
    )


def _load() -> float:
    """The machine's load average over the last minute (NaN where the system has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return float("nan")


def _more_rounds(
    fns, numbers, timings: dict[str, Timing], errors, settings: Settings, on_round
) -> dict[str, Timing]:
    """More rounds, interleaved as before (the probes too, so drift stays known per round),
    for each implementation whose median's 95 % interval is wider than ±``settings.precision``:
    up to ``settings.max_rounds`` in all, within another ``time_cap_s`` each. Versions of one
    implementation whose ratio, paired by round, is still that imprecise get further rounds,
    up to ``PAIRED_ROUNDS`` times as many: an A/B comparison reads that ratio."""
    wide = {
        name
        for name, t in timings.items()
        if name not in PROBES
        and t.rounds >= MIN_ROUNDS
        and half_width(t.samples) > settings.precision
    }
    wide |= _imprecise_pairs(timings, settings.precision)
    _extend(fns, numbers, timings, errors, _with_versions(wide, timings), settings, on_round)
    cap = PAIRED_ROUNDS * settings.max_rounds
    while pairs := _imprecise_pairs(timings, settings.precision):
        most = max(timings[name].rounds for name in pairs)
        if most >= cap:
            break
        limit = replace(settings, max_rounds=min(cap, most + settings.max_rounds))
        group = _with_versions(pairs, timings)
        if not _extend(fns, numbers, timings, errors, group, limit, on_round):
            break
    return timings


def _extend(fns, numbers, timings, errors, names, settings: Settings, on_round) -> bool:
    """Up to ``settings.max_rounds`` rounds in all for ``names`` (and the probes), within
    another ``time_cap_s`` each; the versions of one implementation get as many rounds as
    each other, so their rounds stay paired. False where none could be added."""
    extra = {}
    for name in [*sorted(names), *PROBES] if names else []:
        timing = timings.get(name)
        want = settings.max_rounds - timing.rounds if timing else 0
        if want > 0:
            fit = plan_rounds(timing.median_s, timing.number, want, settings.time_cap_s)
            extra[name] = min(want, fit)
    for group in _versions(extra).values():
        fewest = min(extra[name] for name in group)
        extra.update(dict.fromkeys(group, fewest))
    if not any(extra.get(name) for name in names):
        return False
    more, failed = measure({n: fns[n] for n in extra if extra[n]}, numbers, extra, on_round)
    errors.update(failed)
    for name, timing in more.items():
        timings[name] = timings[name].extended(list(timing.samples))
    for name in failed:
        timings.pop(name, None)
    return True


def _versions(names) -> dict[str, list[str]]:
    """The versions of each implementation among ``names`` (``mine``, ``mine@old``,
    ``mine@new``), keyed by its name before the ``@``; only those with two or more."""
    groups = collections.defaultdict(list)
    for name in names:
        if name not in PROBES:
            groups[name.partition("@")[0]].append(name)
    return {base: group for base, group in groups.items() if len(group) > 1}


def _with_versions(names: set[str], timings: dict[str, Timing]) -> set[str]:
    """``names`` and every other version of each that was timed in rounds (not one timed
    once, over the budget): versions gain rounds together."""
    timed = (name for name, t in timings.items() if t.rounds >= MIN_ROUNDS)
    return names | {
        name for group in _versions(timed).values() if names & set(group) for name in group
    }


def _imprecise_pairs(timings: dict[str, Timing], precision: float) -> set[str]:
    """Versions of one implementation (``mine@old``, ``mine@new``) whose ratio, paired by
    round, is known to worse than ±``precision``: an A/B comparison reads that ratio, and
    two medians each known to ±5 % can still leave it uncertain."""
    imprecise = set()
    for names in _versions(timings).values():
        for a, b in itertools.combinations(names, 2):
            ratio = paired_interval(timings[a].samples, timings[b].samples)
            if ratio is not None and ratio.point > 0:
                spread = max(ratio.high - ratio.point, ratio.point - ratio.low) / ratio.point
                imprecise |= {a, b} if spread > precision else set()
    return imprecise


def _add_probes(fns, numbers, rounds, problem, settings: Settings, model: str) -> float:
    """Add the floors to the rounds: the read of X and Y, the matrix-product probe and,
    for logistic regression, the exp probe, timed interleaved with the implementations;
    return the matrix product's flops."""
    fns[READ] = read_once(problem.X, settings.threads, problem.Y)
    fns[COMPUTE], flops = compute_probe(problem.dtype)
    if model == "logistic":
        fns[EXP] = exp_probe(problem.X, problem.W, problem.b)
    for probe in (p for p in PROBES if p in fns):
        numbers[probe], per_call = calibrate(fns[probe], settings.round_target_s)
        rounds[probe] = plan_rounds(per_call, numbers[probe], settings.rounds, settings.time_cap_s)
    return flops


#: A call this much faster than the read of X and Y timed beside it cannot have read them
#: here ...
TOO_FAST = 0.2
#: ... nor on a device that holds them (a GPU launches and synchronises in more than this)
TOO_FAST_S = 10e-6
#: ... judged where X and Y hold at least this many bytes, so that the read is the data's
#: time and not the probe's call overhead (at m = 8 a compiled kernel beats ``np.sum``).
TOO_FAST_MIN_BYTES = 1 << 18


def _judge_too_fast(impl, case: Case, row: dict) -> None:
    """A time far below the read of its inputs, and too short for a device's launch, by an
    implementation that declares no precomputation: it did not compute the gradient in the
    call (a result reused between calls, work left running after it returned), so its
    timing is kept but not ranked."""
    size = np.dtype(case.dtype).itemsize * case.m * (case.n + case.k)
    read = row.get("read_s")
    if impl.precomputes or size < TOO_FAST_MIN_BYTES or not (read and read > 0):
        return
    ratio = row["median_s"] / read
    if ratio < TOO_FAST and row["median_s"] < TOO_FAST_S:
        row.update(
            status=ERROR,
            kind="too-fast",
            message=f"each call took {ratio:.2g}× the time of reading X and Y once, timed "
            "beside it: a call that computes the gradient from its inputs cannot be that "
            "fast (a result reused between calls? work still running after it returned? "
            "a precomputation in prepare, undeclared?); its timing is kept, not ranked",
        )


def _judge_last(impl, args, problem, reference, row: dict, report: Report, pristine) -> None:
    """One more call after the timed ones, judged: a result that drifted over many calls
    (a buffer never reset, a counter, a cache) makes the case disagree."""
    report("phase", impl.name, "check after timing")
    when = " on a call after the timed calls"
    last = judge_call(impl, args, problem, reference, pristine, when)
    if last.status == OK:
        return
    if last.status == ERROR:  # it raised or wrote into its inputs: said as such
        outcome = last
    else:
        outcome = changed_between_calls(last, "the call after the timed calls")
    note = row.get("message")
    row.update(outcome.row_fields())
    if note:
        row["message"] = f"{outcome.message}; {note}"


#: How X is changed in place for the last check: exact in binary floating point, and undone.
_SCALE = 2.0


def _judge_changed_x(impl, problem, model: str, row: dict, report: Report) -> None:
    """Calls after X was changed in place (the same array): first all of it doubled, then
    only the middle half of its rows. An implementation that returns a result stored by
    its inputs' identity, or by a few of their entries (its corners, say), returns the old
    gradient, and its timings measured a lookup, not the computation; the case then
    disagrees."""
    m = problem.X.shape[0]
    changes = [("X was doubled in place", slice(None))]
    if m >= 4:
        changes.append(
            ("the middle half of X's rows were doubled in place", slice(m // 4, m - m // 4))
        )
    for words, rows in changes:
        last = _after_change(impl, problem, model, rows, f" after {words}", report)
        if last.status != OK:
            break
    if last.status == OK:
        return
    if last.status == DISAGREES:
        last = Outcome(
            DISAGREES,
            "stale",
            f"after {words} (the same array), the result did not follow: it reuses a "
            "result stored for its inputs (by their identity, or by a few of their "
            f"entries?), so its timings measured that, not the gradient: {last.message}",
            last.err_dW,
            last.err_db,
            last.diagnosis,
        )
    note = row.get("message")
    row.update(last.row_fields())
    if note:
        row["message"] = f"{last.message}; {note}"


def _after_change(impl, problem, model: str, rows: slice, when: str, report: Report) -> Outcome:
    """One prepared and judged call with ``rows`` of X scaled by ``_SCALE`` in place (exact
    in binary floating point), undone after."""
    report("phase", impl.name, "check after X changed")
    X = problem.X[rows]  # (rows, n)  a view: the very array the implementation was given
    X *= _SCALE
    try:
        reference = reference_gradient(*problem.args, problem=model)
        try:
            args = impl.prepare_args(*problem.args)
        except PLUGIN_RAISES as exc:  # sys.exit in a plugin is its failure
            pass_on_ctrl_c(exc)
            return failure("raised", f"prepare raised {describe_exception(exc)}{when}")
        return judge_call(impl, args, problem, reference, copy_inputs(problem), when)
    finally:
        X /= _SCALE


def _raised(exc: BaseException) -> dict:
    """Row fields for a gradient that raised on a repeated (not the first) call."""
    return {
        "status": ERROR,
        "kind": "raised",
        "message": f"gradient raised {describe_exception(exc)} on a repeated call",
    }
