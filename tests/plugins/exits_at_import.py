"""A plugin whose import ends the interpreter with exit code 3, as a crash in compiled code would."""

import os

os._exit(3)
