"""``python -m eval``: the evaluation's command line."""

import sys

from eval.cli import main

sys.exit(main())
