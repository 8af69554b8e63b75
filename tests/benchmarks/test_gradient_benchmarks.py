"""gradrace's benchmark suite, collected from the checkout: ``pytest tests/benchmarks``.

The suite itself ships in the package (``pytest --pyargs gradrace.benchmarks``); a plain
``pytest`` runs each benchmark once as a test, ``pytest --benchmark-only`` times them.
"""

from gradrace.benchmarks import test_gradient

__all__ = ["test_gradient"]
