"""One colour and one marker per implementation, the same in every plot of a report and
distinct from every other implementation in it, plugins included.

Looks are handed out by position in the run's registry order (recorded in its results
file), so an installation's implementations keep their looks from one report to the
next; names the order does not know take the next free looks. Colours are the
Okabe–Ito and Tableau palettes, distinguishable in colour-blind vision, with markers
(and, past the palette, dash styles) as a second cue.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Look:
    colour: str
    marker: str
    dashes: str = "-"


COLOURS = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#d55e00",
    "#56b4e9",
    "#7f7f7f",
    "#005a3c",
    "#8c564b",
    "#9467bd",
    "#bcbd22",
    "#17becf",
    "#76b900",
    "#d62728",
    "#1f77b4",
    "#000000",
)
MARKERS = ("o", "s", "^", "D", "v", "P", "x", "*", "h", "<", ">", "p", "d", "X", "H", "8")
DASHES = ("-", "--", ":", "-.")


def palette(count: int) -> list[Look]:
    """``count`` looks, all different: every colour with its own marker first, then again
    with the next dash style and markers shifted, and so on."""
    looks = []
    for round_, dashes in enumerate(itertools.cycle(DASHES)):
        if len(looks) >= count:
            return looks[:count]
        for i, colour in enumerate(COLOURS):
            looks.append(
                Look(colour, marker=MARKERS[(i + round_ * 5) % len(MARKERS)], dashes=dashes)
            )
    raise AssertionError("unreachable")


def looks(names: Iterable[str], order: Sequence[str] = ()) -> dict[str, Look]:
    """The look of every name: by its position in ``order`` when it is there, else the
    next look no other name in ``names`` uses."""
    names = list(dict.fromkeys(names))
    known = {name: i for i, name in enumerate(dict.fromkeys(order))}
    taken = {known[n] for n in names if n in known}
    free = (i for i in itertools.count() if i not in taken)
    slots = {n: known[n] if n in known else next(free) for n in names}
    styles = palette(max(slots.values(), default=-1) + 1)
    return {n: styles[slot] for n, slot in slots.items()}
