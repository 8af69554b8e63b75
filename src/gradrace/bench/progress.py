"""Progress of a run: a tqdm bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import TextIO

from gradrace.bench.grids import Case
from gradrace.units import format_seconds

#: The longest reason a progress line gives for an error or a skip; the results file has it all.
REASON_CHARS = 60


def _reason(message: object) -> str:
    """The first clause of a row's message, cut at a word within ``REASON_CHARS``: enough to
    tell a wrong dtype from a timeout while the line stays one line."""
    first = message.split(";")[0].strip() if isinstance(message, str) else ""
    if len(first) <= REASON_CHARS:
        return first
    cut = first[: REASON_CHARS - 1].rsplit(" ", 1)[0]
    if cut.count("(") > cut.count(")"):  # no half of a parenthesis
        cut = cut[: cut.rindex("(")]
    return cut.rstrip(",: ") + "…"


def _brief(row: dict) -> str:
    if row.get("status") in ("ok", "disagrees"):
        flag = "" if row["status"] == "ok" else " DISAGREES"
        return f"{row['implementation']} {format_seconds(row.get('median_s'))}{flag}"
    status = f"{row['implementation']} {row.get('status', '?')}"
    if row.get("status") not in ("error", "skipped"):
        return status
    reason = _reason(row.get("message"))
    return f"{status} ({reason})" if reason else status


class Progress:
    """Reports what is running and what is left."""

    def __init__(self, total_cases: int, stream: TextIO | None = None, bar: bool | None = None):
        self.stream = stream or sys.stderr
        self.total = total_cases
        self.done = 0
        use_bar = self.stream.isatty() if bar is None else bar
        self._bar = None
        if use_bar:
            from tqdm import tqdm

            self._bar = tqdm(total=total_cases, unit="case", file=self.stream, dynamic_ncols=True)

    def message(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def running(self, case: Case, implementation: str, phase: str) -> None:
        if self._bar is not None:
            what = f"{implementation} {phase}" if implementation else phase
            self._bar.set_description_str(f"{case.label} · {what}", refresh=False)
            self._bar.refresh()

    def case_done(self, case: Case, rows: list[dict]) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(1)
        else:
            summary = ", ".join(_brief(r) for r in rows) or "already measured"
            self.message(f"[{self.done}/{self.total}] {case.label}: {summary}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.set_description_str("done", refresh=True)
            self._bar.close()
