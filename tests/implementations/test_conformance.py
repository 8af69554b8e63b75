"""Every registered implementation — built-ins, optional ones installed here, and any
plugin installed through an entry point — passes the conformance kit. A plugin
installed later joins this parametrization by itself."""

from gradrace import load_registry
from gradrace.testing import parametrize_with_checks


@parametrize_with_checks(load_registry().select(None))
def test_conformance(implementation, check):
    check(implementation)
