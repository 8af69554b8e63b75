"""Looks: one per implementation, distinct within a report, stable by registry order."""

from __future__ import annotations

from gradrace.reports.style import looks, palette


def test_every_implementation_of_a_report_gets_its_own_look():
    names = [f"plugin-{i}" for i in range(40)]
    styles = looks(names)
    assert len({(s.colour, s.marker, s.dashes) for s in styles.values()}) == 40
    assert len({s.colour for s in list(styles.values())[:16]}) == 16  # colours first


def test_looks_follow_the_registry_order_whatever_subset_is_shown():
    order = ["python-loops", "numpy-dot", "einsum", "numba", "mine"]
    full = looks(order, order)
    subset = looks(["numba", "mine"], order)
    assert subset == {"numba": full["numba"], "mine": full["mine"]}


def test_a_name_outside_the_order_takes_a_look_nobody_else_uses():
    order = ["numpy-dot", "einsum"]
    styles = looks(["numpy-dot", "einsum", "a-plugin", "another"], order)
    assert len(set(styles.values())) == 4


def test_palette_is_as_long_as_asked():
    assert len(palette(0)) == 0 and len(set(palette(70))) == 70
