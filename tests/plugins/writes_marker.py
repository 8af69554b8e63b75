"""A plugin that writes the file named by ``GRADRACE_TEST_MARKER`` when imported:
proof that its code ran."""

import os
from pathlib import Path

from gradrace.implementations.numpy_dot import gradient

Path(os.environ.get("GRADRACE_TEST_MARKER", os.devnull)).write_text("imported\n")

marker = gradient
