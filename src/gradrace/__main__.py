import sys

from gradrace.cli import main

sys.exit(main())
