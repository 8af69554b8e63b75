"""The comparison gate's targets, measured: false alarms on a busy machine, a +50 % plugin
caught between two runs, A/B (+10 %) and A/A in one run. Prints a small table of outcomes.

    python benchmarks/gate_targets.py [--repetitions 3] [--out DIR]

Each repetition makes three ``gradrace run --quick`` runs (about 1½ minutes each on a
2-core machine), each with the plugins of ``gate_plugins/``:
  OLD     the normal plugin (``my_gradient``), plus ``my_gradient@old`` (normal),
          ``my_gradient@new`` (+10 %) and ``my_gradient@same`` (normal) for A/B and A/A;
  BUSY    the same code while ``python -c 'while True: pass'`` keeps one core busy;
  PLUS50  as OLD but ``my_gradient`` does one extra pass over X (about +50 % of its work).
Then: ``report BUSY --compare OLD --fail-on-slowdown`` (target: exit 0),
``report PLUS50 --compare OLD --fail-on-slowdown`` (target: exit 1, my_gradient flagged at
≥ 90 % of the sizes where a call takes ≥ 10 µs: the median, per size, of the unchanged
code's three timings in OLD), ``report OLD --baseline my_gradient@old
--impl my_gradient@new --threshold 1.05`` (target: ≥ 90 % of those sizes flagged) and
``--impl my_gradient@same`` (A/A, target: none flagged).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLUGINS = HERE / "gate_plugins"
#: Sizes where the old call takes at least this long count for the detection targets.
LEAST_CALL_S = 10e-6
AB_THRESHOLD = 1.05


def plugins(main: str) -> list[str]:
    """The --plugin options of a run whose my_gradient comes from ``main``."""
    specs = [
        f"{PLUGINS / main}:my_gradient",
        f"{PLUGINS / 'normal.py'}:my_gradient@old",
        f"{PLUGINS / 'plus10.py'}:my_gradient@new",
        f"{PLUGINS / 'normal.py'}:my_gradient@same",
    ]
    return [arg for spec in specs for arg in ("--plugin", spec)]


def gradrace(*args: str) -> int:
    """Run the gradrace command (this interpreter's), its output to this one's stderr."""
    command = [sys.executable, "-m", "gradrace", *args]
    print("$ gradrace " + " ".join(args), file=sys.stderr, flush=True)
    return subprocess.run(command, stdout=sys.stderr, check=False).returncode


def run(out: Path, main: str, busy: bool = False) -> Path:
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        code = gradrace("run", "--quick", "--out", str(out), "--force", *plugins(main))
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    if code not in (0, 1):
        raise SystemExit(f"gradrace run failed with exit code {code}")
    return out


#: The same unchanged code, timed three times in OLD's rounds.
UNCHANGED = ("my_gradient", "my_gradient@old", "my_gradient@same")
CASE = ["m", "n", "k", "dtype", "problem"]


def call_times(old):
    """Per case, how long the unchanged call takes in OLD: the median of its three timings
    there, so that one slow timing cannot move a size across the 10 µs cut."""
    unchanged = old[old["implementation"].isin(UNCHANGED)]
    return unchanged.groupby(CASE)["median_s"].median().rename("call_s").reset_index()


def flagged(table, name: str, calls) -> tuple[int, int, int]:
    """(flagged slower or slower (noisy), of which slower, sizes) of ``name`` among the
    sizes where the unchanged call takes ≥ 10 µs."""
    own = table[table["implementation"] == name].merge(calls, on=CASE)
    own = own[own["call_s"] >= LEAST_CALL_S]
    hit = int(own["verdict"].str.startswith("slower").sum())
    return hit, int((own["verdict"] == "slower").sum()), len(own)


def repetition(folder: Path) -> list[tuple[str, str, str]]:
    """One repetition of the protocol: (target, measured, met?) rows."""
    from gradrace.bench.results import load_results
    from gradrace.reports.compare import compare, compare_within

    old = run(folder / "old", "normal.py")
    busy = run(folder / "busy", "normal.py", busy=True)
    plus50 = run(folder / "plus50", "plus50.py")
    calls = call_times(load_results(old))
    rows = []
    code = gradrace("report", str(busy), "--compare", str(old), "--fail-on-slowdown")
    table = compare(load_results(old), load_results(busy))
    counts = table["verdict"].value_counts()
    rows.append(
        (
            "busy NEW vs OLD: gate exits 0",
            f"exit {code}; of {len(table)}: {counts.get('slower', 0)} slower, "
            f"{counts.get('slower (noisy)', 0)} noisy; drift {table.attrs['drift']:.2f}",
            str(code == 0),
        )
    )
    code = gradrace("report", str(plus50), "--compare", str(old), "--fail-on-slowdown")
    hit, sure, sizes = flagged(
        compare(load_results(old), load_results(plus50)), "my_gradient", calls
    )
    rows.append(
        (
            "+50 % plugin: ≥ 90 % flagged, exit 1",
            f"exit {code}; {hit} of {sizes} sizes ≥ 10 µs flagged ({sure} slower)",
            str(code == 1 and hit >= 0.9 * sizes),
        )
    )
    for name, label in (("my_gradient@new", "A/B +10 %"), ("my_gradient@same", "A/A")):
        threshold = str(AB_THRESHOLD)
        options = ["--impl", name, "--threshold", threshold, "--fail-on-slowdown"]
        code = gradrace("report", str(old), "--baseline", "my_gradient@old", *options)
        table = compare_within(load_results(old), "my_gradient@old", [name], AB_THRESHOLD)
        hit, sure, sizes = flagged(table, name, calls)
        met = hit >= 0.9 * sizes if name.endswith("new") else hit == 0 and code == 0
        target = "≥ 90 % flagged" if name.endswith("new") else "none flagged"
        rows.append(
            (
                f"{label} in one run (threshold {threshold}): {target}",
                f"exit {code}; {hit} of {sizes} sizes ≥ 10 µs flagged ({sure} slower)",
                str(met),
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--out", help="folder for the runs (default: a temporary folder)")
    args = parser.parse_args()
    base = Path(args.out or tempfile.mkdtemp(prefix="gate-targets-"))
    results = []
    for i in range(args.repetitions):
        for target, measured, met in repetition(base / f"rep{i + 1}"):
            results.append((i + 1, target, measured, met))
    width = max(len(r[1]) for r in results)
    print(f"{'rep':<4}{'target':<{width + 2}}{'met':<6}measured")
    for rep, target, measured, met in results:
        print(f"{rep:<4}{target:<{width + 2}}{met:<6}{measured}")
    return 0 if all(r[3] == "True" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
