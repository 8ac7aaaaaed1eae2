"""Run every benchmark in sequence and print their output (``make bench``).

    .venv/bin/python bench/run_all.py [ARGS FOR bench_scale.py ...]

bench_sync.py, bench_dates.py, bench_hostile.py, bench_scoring.py, bench_pipeline_scope.py and
relevance_variants.py run with their defaults; bench_scale.py runs
at a moderate size (10,000 calls, 50 strategies of which 3 are scored, 2,000 applications) unless
arguments are given,
which are passed to it as they are (e.g. ``--calls 100000 --applications 10000 --score-strategies 1``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCALE_DEFAULTS = ["--calls", "10000", "--applications", "2000", "--score-strategies", "3"]


def main() -> int:
    scale_args = sys.argv[1:] or SCALE_DEFAULTS
    runs = [("bench_sync.py", []), ("bench_dates.py", []), ("bench_hostile.py", []), ("bench_scoring.py", []),
            ("bench_pipeline_scope.py", []), ("relevance_variants.py", []), ("bench_scale.py", scale_args)]
    failed = []
    for script, args in runs:
        print(f"\n=== {script} {' '.join(args)}".rstrip(), flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(BENCH / script), *args], cwd=BENCH.parent)
        print(f"=== {script}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True)
        if code != 0:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
