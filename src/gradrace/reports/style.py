"""One colour and one marker per implementation, the same in every plot of every report.

Built-ins have fixed entries so that numba is the same colour in this week's report
as in last week's; plugins take the remaining colours in the order they appear.
Colours are the Okabe–Ito and Tableau palettes: distinguishable in colour-blind
vision and in greyscale print, with the markers as a second cue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gradrace.reports.data import KNOWN_ORDER


@dataclass(frozen=True)
class Look:
    colour: str
    marker: str
    dashes: str = "-"


FIXED: dict[str, Look] = {
    "python-loops": Look("#7f7f7f", "x", ":"),
    "numpy-dot": Look("#0072b2", "o"),
    "einsum": Look("#e69f00", "s"),
    "reshaped-mn1": Look("#cc79a7", "D"),
    "numba": Look("#009e73", "^"),
    "numba-fused": Look("#005a3c", "v"),
    "numpy-blocked": Look("#56b4e9", "P"),
    "gram": Look("#d55e00", "*"),
    "jax-grad": Look("#8c564b", "h"),
    "torch-autograd": Look("#9467bd", "<"),
    "torch-manual": Look("#bcbd22", ">"),
    "dask": Look("#17becf", "p"),
    "cupy": Look("#76b900", "d"),
}
assert set(FIXED) == set(KNOWN_ORDER)

SPARE = [
    Look("#d62728", "X", "--"), Look("#1f77b4", "d", "--"), Look("#2ca02c", "8", "--"),
    Look("#ff7f0e", "H", "--"), Look("#000000", "1", "--"), Look("#e377c2", "2", "--"),
]  # fmt: skip


def looks(names: Iterable[str]) -> dict[str, Look]:
    """The look of every name: fixed for built-ins, spare ones (cycled) for the others."""
    result, spare = {}, 0
    for name in names:
        if name in FIXED:
            result[name] = FIXED[name]
        else:
            result[name] = SPARE[spare % len(SPARE)]
            spare += 1
    return result
