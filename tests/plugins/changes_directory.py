"""A plugin that changes the working directory at import (a correct gradient otherwise)."""

import os
import tempfile

from gradrace.implementations.numpy_dot import gradient

os.chdir(tempfile.gettempdir())

moves_cwd = gradient
