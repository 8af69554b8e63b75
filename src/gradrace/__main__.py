import sys

from gradrace.cli import console_main

sys.exit(console_main())
