"""The plugin's whole test suite: gradrace's conformance kit, one test per check."""

from gradrace_example_plugin import IMPLEMENTATION

from gradrace.testing import parametrize_with_checks


@parametrize_with_checks([IMPLEMENTATION])
def test_gradrace_conformance(implementation, check):
    check(implementation)
