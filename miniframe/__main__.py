"""``python -m miniframe``: the same program as the ``miniframe`` console script."""

import sys

from miniframe.cli import main

if __name__ == "__main__":
    sys.exit(main())
