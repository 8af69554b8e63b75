"""The verdicts a case can get, one enum for every module that writes or reads them."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """What happened to one implementation on one case (stored as its string value)."""

    OK = "ok"  # agrees with the reference (and, when timed, has a timing)
    DISAGREES = "disagrees"  # computed something else; timed, never ranked
    ERROR = "error"  # raised, broke the contract, hung or crashed
    SKIPPED = "skipped"  # not measured: over the budget, or lost the worker at a smaller size
    NOT_APPLICABLE = "n/a"  # the implementation does not handle this case (e.g. k > 1)


OK, DISAGREES, ERROR, SKIPPED, NOT_APPLICABLE = Status
