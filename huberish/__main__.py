"""``python -m huberish``: check every installed array library against the float64 reference."""

import sys

from ._report import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
