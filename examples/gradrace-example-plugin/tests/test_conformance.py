"""The plugin's whole test suite: gradrace's conformance kit, one test per check."""

from gradrace.testing import parametrize_with_checks
from gradrace_example_plugin import IMPLEMENTATION


@parametrize_with_checks([IMPLEMENTATION])
def test_gradrace_conformance(implementation, check):
    check(implementation)
