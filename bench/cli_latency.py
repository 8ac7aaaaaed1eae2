"""How fast the CLI answers, beside the bare start-up of the same interpreter (``python -c pass``).

    .venv/bin/python bench/cli_latency.py [--calls 100000] [--pairs 7] [--db URL --config PATH]

Builds a database the way bench/bench_scale.py does (real texts from FUNDRADAR_SAMPLES, ``--calls``
calls, a tenth as many applications, one strategy scored once so that ``calls why`` explains a current
call), unless ``--db`` and ``--config`` name an existing one. Then each command runs as a child process
paired with ``python -c pass`` (bench/pairs.py: alternating pairs, medians) and one table row is printed
per command: its median, the floor's, and the median ratio with the range of the pairs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pairs import alternating, process  # noqa: E402

SAMPLES = Path(os.environ.get("FUNDRADAR_SAMPLES", ROOT.parent / "shared" / "samples"))
EVAL = Path(os.environ.get("FUNDRADAR_EVAL", SAMPLES.parent / "eval"))
STRATEGY = "bench-01"


def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "fundradar"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline.cli.main"]


def build(calls: int, workdir: Path) -> tuple[str, Path]:
    """A database of ``calls`` calls and ``calls // 10`` applications, scored for one strategy."""
    from datetime import UTC, datetime

    from scale_steps import build as build_rows
    from scale_steps import loaded, strategies

    from classifiers.scoring import score_pending
    from pipeline.core.db import open_database

    now = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)
    db = f"sqlite:///{workdir / 'cli.db'}"
    args = SimpleNamespace(db=db, calls=calls, applications=max(1, calls // 10), strategies=1, seed=20260822)
    build_rows(args, now, workdir, SAMPLES, EVAL, STRATEGY)
    engine = open_database(db)
    score_pending(engine, loaded(strategies(1, args.seed, EVAL)[0]), now)
    engine.dispose()
    return db, workdir / f"{STRATEGY}.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--db", default=None, metavar="URL")
    parser.add_argument("--config", default=None, metavar="PATH")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="fundradar-cli-"))
    try:
        if args.db:
            if not args.config:
                raise SystemExit("--db needs --config (the strategy the database was scored for)")
            db, config = args.db, Path(args.config)
        else:
            db, config = build(args.calls, workdir)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FUNDRADAR_", "SLACK_"))}
        env.update(FUNDRADAR_DB=db, FUNDRADAR_CONFIG=str(config), FUNDRADAR_NOW="2026-08-22T11:00+02:00")
        floor = process([sys.executable, "-c", "pass"], env=env, cwd=str(ROOT))
        base = cli_command()
        commands = [("`fundradar --version`", ["--version"]),
                    (f"`calls list --top 20`, {args.calls:,} calls", ["calls", "list", "--top", "20"]),
                    (f"`calls why ID`, {args.calls:,} calls", ["calls", "why", "1"]),
                    (f"`deadlines`, {args.calls:,} calls", ["deadlines"])]
        print("| what | median | floor (median) | ratio [pair range] |")
        print("|---|---|---|---|")
        for label, extra in commands:
            measure = process([*base, *extra], env=env, cwd=str(ROOT))
            measure()  # warm the file cache and bring the scoring up to date outside the timing
            print(alternating(measure, floor, args.pairs).row(label, "`python -c pass`"), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
