"""Errors of the measuring machinery that the command line turns into exit codes.

Apart from the modules that raise them so that catching one imports no numba.
"""

from __future__ import annotations


class WorkerStartError(RuntimeError):
    """The worker hung or died before it was ready: nothing can be measured."""
