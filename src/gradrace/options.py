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
