import sys

from blockstore.cli import main

sys.exit(main())
