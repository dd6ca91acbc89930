"""`python -m blockstore`: the console script, for environments without the entry point.

Owns nothing of its own. Rule: it only calls `blockstore.cli.main`, so both ways in
run the same commands and exit codes.
"""

import sys

from blockstore.cli import main

sys.exit(main())
