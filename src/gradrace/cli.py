"""The ``gradrace`` command: list, check, run, report."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from gradrace.bench.problem import PROBLEMS, ProblemTooLarge
from gradrace.options import convention_option, dtypes, finite, positive, problem_option, sizes

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ENVIRONMENT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

EXIT_CODES = """exit codes:
  0    success: everything loaded, agreed and was measured
  1    an implementation failed or disagreed, or a plugin did not load
  2    usage error (bad option, unknown implementation, --out holding another run's files)
  3    environment or I/O error (disk full, read-only folder, --out in use by another run,
       the measuring worker did not start)
  130  interrupted (Ctrl-C); a run keeps its finished cases (continue with --resume)"""


def _plugin_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="load an implementation from module:attr or path/to/file.py:attr (repeatable)",
    )
    parser.add_argument(
        "--impl",
        action="append",
        default=[],
        metavar="NAME",
        help="select an implementation by name (repeatable; default: all); those of --plugin "
        "are always selected",
    )
    parser.add_argument(
        "--no-entry-points",
        dest="entry_points",
        action="store_false",
        help="ignore implementations installed through entry points",
    )
    convention_option(parser)


def _check_case_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--m",
        type=sizes("--m"),
        help="check only these sample counts, comma-separated (with "
        "--n: build cases of these shapes)",
    )
    parser.add_argument(
        "--n", type=sizes("--n"), help="check only these feature counts, comma-separated"
    )
    parser.add_argument(
        "--k", type=sizes("--k"), help="check only these output counts, comma-separated"
    )
    parser.add_argument("--dtype", type=dtypes(), help="check only float64 or float32")


#: The shortest time limit: below it, a healthy call or a process start looks hung.
MIN_TIMEOUT_S = 0.1


def _timeout_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=finite(minimum=MIN_TIMEOUT_S),
        default=60.0,
        metavar="S",
        help="wall-clock limit without progress (one plugin's import, one call, "
        "one timing round) before the process doing it is killed "
        "(default 60); the measuring worker's start-up gets at least 30 s",
    )


def _isolation_options(parser: argparse.ArgumentParser) -> None:
    _timeout_option(parser)
    parser.add_argument(
        "--no-isolate",
        dest="isolate",
        action="store_false",
        help="measure in this process: no protection against plugins that hang or crash",
    )
    parser.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="run the dask implementation on this dask.distributed scheduler "
        "(default: $GRADRACE_DASK_SCHEDULER, else dask's local scheduler)",
    )


def _plain_problem(args) -> str:
    from gradrace.bench.runner import plain_problem

    return plain_problem(getattr(args, "problem", None) or ["linear"])


def _registry(args):
    from gradrace.bench.loading import load_registry_safely

    registry = load_registry_safely(
        args.plugin,
        entry_points=args.entry_points,
        timeout=args.timeout,
        convention=args.convention,
        plain_problem=_plain_problem(args),
    )
    for error in registry.errors:
        print(f"gradrace: plugin not loaded: {error}", file=sys.stderr)
    for name, how in registry.shadowed.items():
        print(f"gradrace: {name}: {how}", file=sys.stderr)
    return registry


def cmd_list(args) -> int:
    from gradrace.bench.explain import plain

    registry = _registry(args)
    names = {i.name for i in registry.select(args.impl)}
    width = max((len(n) for n in [*names, *registry.unavailable]), default=4)
    for entry in registry:
        if entry.name in names:
            impl = entry.implementation
            problems = ", ".join(impl.problems)
            words = plain(impl.description)  # a plugin's words: no terminal escapes
            print(f"{entry.name:<{width}}  [{plain(entry.origin)}]  {words}  ({problems})")
    for name, why in registry.unavailable.items():
        if not args.impl:
            print(f"{name:<{width}}  [unavailable]  {why}")
    return EXIT_FAILED if registry.errors else EXIT_OK


def _check_cases(args):
    from gradrace.bench.grids import check_cases

    # parsed and checked by argparse
    return check_cases(args.m, args.n, args.k, args.dtype, args.problem or ["linear"])


def cmd_check(args) -> int:
    from gradrace.bench.check import all_agree, conventions, format_check
    from gradrace.bench.loading import absolute_plugin
    from gradrace.bench.runner import RunConfig, Runner

    cases = _check_cases(args)  # a bad size or dtype is refused before plugins load
    registry = _registry(args)
    selected = registry.select(args.impl)
    if args.problem is None:  # every problem a selected implementation computes
        args.problem = [p for p in PROBLEMS if any(p in i.problems for i in selected)]
        cases = _check_cases(args)
    plugins = tuple(dict.fromkeys(map(absolute_plugin, args.plugin)))
    config = RunConfig(
        (),
        tuple(i.name for i in selected),
        plugins,
        args.entry_points,
        timeout_s=args.timeout,
        isolate=args.isolate,
        convention=args.convention,
        plain_problem=_plain_problem(args),
    )
    runner = Runner(config, registry, writer=None, progress=_Quiet())
    try:
        results = runner.check(cases)
    finally:
        runner.close()
    for line in conventions(selected):
        print(line)
    print(format_check(results))
    for error in registry.errors:  # said before the table too; repeated where it is read
        print(f"NOT LOADED: {error}")
    return EXIT_OK if all_agree(results) and not registry.errors else EXIT_FAILED


class _Quiet:
    def running(self, *args) -> None:
        pass

    def message(self, text: str) -> None:
        print(text, file=sys.stderr)


def _resume_command(out: Path, plugins: Sequence[str]) -> str:
    """The command that continues the run in ``out``: its plugins must be named again."""
    from gradrace.bench.loading import absolute_plugin

    words = ["gradrace", "run", "--out", str(out), "--resume"]
    words += [w for spec in plugins for w in ("--plugin", absolute_plugin(spec))]
    return shlex.join(words)


def cmd_run(args) -> int:
    from gradrace.bench.outdir import check_out
    from gradrace.bench.runner import default_out, run
    from gradrace.reports import write_report
    from gradrace.reports.tables import format_summary, format_yours

    if args.resume and args.out is None:
        raise ValueError("--resume needs --out DIR: the folder of the run to continue")
    if args.resume:
        check_out(args.out, resume=True)  # no run there: say so before anything else
    given = [f"--{o}" for o in ("m", "n", "threads", "impl", "force") if getattr(args, o)]
    given += ["--convention"] if args.convention != "auto" else []
    given += ["--problem"] if args.problem is not None else []
    given += ["--budget"] if args.budget != 0.5 else []
    given += ["--timeout"] if args.timeout != 60.0 else []
    given += ["--no-isolate"] if not args.isolate else []
    if args.resume and (given or args.quick or args.k != [1] or args.dtype != ["float64"]):
        raise ValueError(
            "--resume continues with the settings stored in --out; drop "
            f"{', '.join(given) or 'the grid options'}"
        )
    out = Path(args.out).absolute() if args.out else default_out()
    reports: list = []
    try:
        results = run(
            m=args.m,
            n=args.n,
            k=args.k,
            dtype=args.dtype,
            impl=args.impl,
            plugins=args.plugin,
            entry_points=args.entry_points,
            threads=args.threads,
            budget=args.budget,
            timeout=args.timeout,
            quick=args.quick,
            out=out,
            resume=args.resume,
            isolate=args.isolate,
            convention=args.convention,
            force=args.force,
            then=lambda frame: reports.append(write_report(frame, out)),  # out still held
            problem=args.problem,
        )
    except KeyboardInterrupt:
        if (out / "results.json").is_file():
            said = f"the finished cases are saved in {out} (continue with: "
            said += f"{_resume_command(out, args.plugin)})"
        else:
            said = "no case had finished, so nothing was saved"
        print(f"gradrace: interrupted; {said}", file=sys.stderr)
        return EXIT_INTERRUPTED
    (report,) = reports
    print(format_summary(results))
    mine = format_yours(results)
    if mine:
        print(mine)
    print(f"\nResults: {out / 'results.csv'}  {out / 'results.json'}")
    print(f"Report:  {report}")
    checked = results.attrs["metadata"].get("check", [])
    failed = any(r.get("status") not in ("ok", "n/a") for r in checked) or results.attrs[
        "metadata"
    ].get("load_errors")
    flagged = results["status"].isin(["disagrees", "error"]).any()
    return EXIT_FAILED if failed or flagged else EXIT_OK


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gradrace")
    except PackageNotFoundError:
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradrace",
        description="Check and time implementations of the ridge-regression gradient "
        "(and of the logistic-regression gradient, --problem logistic).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gradrace {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "list", help="list every implementation, its origin, description and problems"
    )
    _plugin_options(p)
    problem_option(p, "the problem a plain function is read as")
    _timeout_option(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("check", help="compare every implementation with the reference")
    _plugin_options(p)
    _isolation_options(p)
    _check_case_options(p)
    problem_option(p, "the problems to check", default=None)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("run", help="check, time over a grid of sizes, write results and report")
    _plugin_options(p)
    _isolation_options(p)
    p.add_argument(
        "--m", type=sizes("--m"), help="sample counts, comma-separated (e.g. 100,1e4,1e6)"
    )
    p.add_argument("--n", type=sizes("--n"), help="feature counts, comma-separated")
    p.add_argument(
        "--k", type=sizes("--k"), default="1", help="output counts, comma-separated (default 1)"
    )
    p.add_argument(
        "--dtype",
        type=dtypes(),
        default="float64",
        help="float64, float32 or both, comma-separated",
    )
    p.add_argument(
        "--threads", type=positive(int), help="BLAS and numba threads (default: all cores)"
    )
    p.add_argument(
        "--budget",
        type=positive(float),
        default=0.5,
        metavar="S",
        help="skip an implementation at sizes where a call would take longer than S "
        "seconds (default 0.5)",
    )
    problem_option(
        p, "the problems to time", None, "those your --plugin implementations compute, else linear"
    )
    p.add_argument("--quick", action="store_true", help="a small grid that runs in about a minute")
    p.add_argument(
        "--out",
        help="output folder (default: a new reports/<timestamp>-<pid>); "
        "one run at a time may use a folder",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite the results and report files of an earlier run in --out",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted run in --out, keeping its finished cases; give "
        "its --plugin options again (no code is loaded from a results file)",
    )
    p.set_defaults(func=cmd_run)

    from gradrace.reports.command import add_report_parser

    add_report_parser(sub)
    from gradrace.fit import add_fit_parser

    add_fit_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from gradrace.bench.errors import WorkerStartError
    from gradrace.bench.interrupt import watching_ctrl_c
    from gradrace.bench.lock import FolderInUse
    from gradrace.bench.registry import RegistryError

    if getattr(args, "dask_scheduler", None):
        os.environ["GRADRACE_DASK_SCHEDULER"] = args.dask_scheduler  # read by the dask plugin
    try:
        with watching_ctrl_c():  # a plugin raising KeyboardInterrupt is its own failure
            return args.func(args)
    except (
        RegistryError,
        ValueError,
        TypeError,
        FileNotFoundError,
        FileExistsError,
        ProblemTooLarge,
    ) as exc:
        print(f"gradrace: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (FolderInUse, WorkerStartError) as exc:
        print(f"gradrace: error: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except OSError as exc:
        print(f"gradrace: error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except KeyboardInterrupt:
        print("gradrace: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def describe_os_error(exc: OSError) -> str:
    """An I/O failure in words: what could not be done to which file, and why."""
    why = exc.strerror or str(exc)
    where = f": {exc.filename}" if exc.filename else ""
    hint = {
        28: " (the disk is full)",
        30: " (the folder is read-only)",
        13: " (no permission: is the folder read-only?)",
    }.get(exc.errno or 0, "")
    return f"{why}{where}{hint}"


def console_main() -> int:
    """The ``gradrace`` command: ``main``, after which nothing a plugin started (at import
    in this process, too) outlives it, on Linux (see ``gradrace.bench.reaper``), and no
    thread a plugin left running keeps the command from exiting."""
    import threading

    from gradrace.bench.reaper import become_subreaper, end_descendants

    become_subreaper()
    ours = set(threading.enumerate())
    code = 1
    try:
        code = main()
        return code
    finally:
        end_descendants(os.getpid())
        if any(not t.daemon and t not in ours for t in threading.enumerate()):
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os._exit(code)  # Python would wait for a plugin's thread that may never end


if __name__ == "__main__":
    sys.exit(console_main())
