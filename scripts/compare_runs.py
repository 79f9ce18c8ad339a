"""Compare runs in one HTML page: learning curves, final metrics, config differences, diagnostics figures.

    python scripts/compare_runs.py outputs/runs/<lstm run> outputs/runs/<gru run> --out compare.html

See `seqlab.analysis.compare_runs` (the run folders are only read; only `--out` is written).
"""

import sys

from seqlab.analysis.compare_runs import main

if __name__ == "__main__":
    sys.exit(main())
