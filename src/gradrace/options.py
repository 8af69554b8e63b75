"""Parsing of command-line option values, shared by every subcommand."""

from __future__ import annotations

import argparse


def positive(kind, zero_allowed: bool = False):
    """An argparse type: a number of ``kind`` greater than zero (or at least zero)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (value >= 0 if zero_allowed else value > 0):
            bound = "at least 0" if zero_allowed else "greater than 0"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    return parse


def convention_option(parser: argparse.ArgumentParser) -> None:
    """``--convention``: how plain functions from --plugin and entry points are called."""
    from gradrace.bench.course import CONVENTIONS

    parser.add_argument("--convention", choices=CONVENTIONS, default="auto",
                        help="how a plain function is called: gradrace's gradient(X, Y, W, b, lam) "
                             "-> (dW, db); the course's (X, y, w, b, lambda_) -> (dj_db, dj_dw) "
                             "(course) or -> (dj_dw, dj_db) (course-dw-first); auto (default) "
                             "tells them apart by parameter names and a trial call")  # fmt: skip
