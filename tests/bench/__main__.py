"""`python -m tests.bench`: measure, print the table, exit 0 unless the harness itself failed."""

from __future__ import annotations

import sys

from tests.bench.harness import main

if __name__ == "__main__":
    sys.exit(main())
