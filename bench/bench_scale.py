"""fundradar at national scale: 100,000 calls, 50 strategies of 10 focus areas, 10,000 applications.

    .venv/bin/python bench/bench_scale.py                      # the full size (scoring takes long)
    .venv/bin/python bench/bench_scale.py --calls 10000 --applications 1000 --score-strategies 5
    .venv/bin/python bench/bench_scale.py --db postgresql+psycopg://postgres@127.0.0.1:5432/bench

Builds a database (a SQLite file in a temporary directory by default; ``--db URL`` for an empty
PostgreSQL database) from the real texts in FUNDRADAR_SAMPLES (default ../shared/samples): each call
joins the first paragraphs or sentences of one real EU topic or grant with the last ones of another,
under a varied title, identifier, programme, status and one or two deadlines, so no two calls are the
same. Rows are bulk-inserted (SQLAlchemy core executemany), not through the CLI. Then it prints, each
figure beside a baseline measured in the same run:

(a) sync of the largest SEDIA recording into that database, then the same recording again: the second
    sync must write nothing (rows counted and the calls' content compared before and after), beside
    json-loading the recording's pages;
(b) scoring (classifiers.scoring) of the strategies from scratch (one corpus fit shared by all), then
    incrementally after 100 changed calls, then once more a day later with nothing changed (verdicts
    only; the from-scratch time is the baseline), wall and CPU time; ``--score-strategies K`` scores only
    the first K strategies and extrapolates the per-strategy time to all of them;
(c) ``fundradar calls list --top 20``, ``fundradar deadlines`` and ``fundradar calls why`` (which
    first brings the strategy's scoring up to date) as real subprocesses (best of
    ``--repeat``), beside the bare start-up of the same interpreter (``python -c "import pipeline"``);
(d) the peak memory (maxrss) of every step: each step runs in its own child process, measured with
    os.wait4, beside the bare start-up's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SAMPLES = Path(os.environ.get("FUNDRADAR_SAMPLES", ROOT.parent / "shared" / "samples"))
EVAL = Path(os.environ.get("FUNDRADAR_EVAL", SAMPLES.parent / "eval"))
NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)
CLI_STRATEGY = "bench-01"


def _step_result(data: dict[str, Any]) -> None:
    """A step's figures, as the last line of its stdout."""
    print("STEP-RESULT " + json.dumps(data), flush=True)


def run_step(step: str, args: argparse.Namespace, db_url: str, workdir: Path) -> dict[str, Any]:
    """Run one step in a child process; its figures plus its own peak memory (MB) and wall time."""
    command = [sys.executable, str(Path(__file__).resolve()), "--step", step, "--db", db_url,
               "--workdir", str(workdir), "--calls", str(args.calls), "--strategies", str(args.strategies),
               "--applications", str(args.applications), "--changed", str(args.changed),
               "--score-strategies", str(args.score_strategies or args.strategies), "--seed", str(args.seed)]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"step {step} failed (exit {proc.returncode}):\n{output}")
    line = next(x for x in reversed(output.splitlines()) if x.startswith("STEP-RESULT "))
    data = json.loads(line.removeprefix("STEP-RESULT "))
    data.update(peak_mb=_mb(usage.ru_maxrss), wall=wall)
    return data


def _mb(maxrss: int) -> float:
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def measured_process(command: list[str], env: dict[str, str], repeat: int) -> dict[str, Any]:
    """Best wall time of ``repeat`` runs and the peak memory of one run (os.wait4 on that child)."""
    times, peak, lines = [], 0.0, 0
    for _ in range(repeat):
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        out = proc.stdout.read() if proc.stdout else b""
        err = proc.stderr.read() if proc.stderr else b""
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - started)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise SystemExit(f"{' '.join(command)} failed (exit {code}): {err.decode().strip()}")
        peak = max(peak, _mb(usage.ru_maxrss))
        lines = len(out.decode().splitlines())
    return {"best": min(times), "median": sorted(times)[len(times) // 2], "peak_mb": peak, "lines": lines}


def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "fundradar"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline.cli.main"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--strategies", type=int, default=50)
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=100, help="calls changed before incremental scoring")
    parser.add_argument("--score-strategies", type=int, default=None, metavar="K",
                        help="score only the first K strategies and extrapolate (default: all)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each CLI command (best is shown)")
    parser.add_argument("--db", default=None, metavar="URL",
                        help="an empty database to build in (default: a SQLite file in a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (printed)")
    parser.add_argument("--seed", type=int, default=20260822)
    parser.add_argument("--step", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        from scale_steps import run

        _step_result(run(args.step, args, NOW, Path(args.workdir), SAMPLES, EVAL, CLI_STRATEGY))
        return
    if args.score_strategies is not None and not 0 < args.score_strategies <= args.strategies:
        raise SystemExit("--score-strategies must be between 1 and --strategies")
    if not (SAMPLES / "eu_ft").is_dir():
        raise SystemExit(f"no recorded samples in {SAMPLES}; set FUNDRADAR_SAMPLES")
    workdir = Path(tempfile.mkdtemp(prefix="fundradar-scale-"))
    try:
        report(args, workdir)
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


def report(args: argparse.Namespace, workdir: Path) -> None:
    db_url = args.db or f"sqlite:///{workdir / 'scale.db'}"
    scored = args.score_strategies or args.strategies
    print(f"fundradar scale benchmark: {args.calls:,} calls, {args.strategies} strategies x 10 focus areas, "
          f"{args.applications:,} applications; database {db_url.split('://')[0]}; python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs", flush=True)

    build = run_step("build", args, db_url, workdir)
    print(f"\nbuild: {build['rows']} in {build['seconds']:.1f} s "
          f"({build['text_mb']:.0f} MB of call text); database {build.get('db_mb', 0):.0f} MB", flush=True)

    sync = run_step("sync", args, db_url, workdir)
    print(f"\n(a) sync of the largest SEDIA recording ({sync['recording']}, {sync['results']} results, "
          f"{sync['pages']} pages) into the {args.calls:,}-call database", flush=True)
    base = sync["json_baseline"]
    for label, seconds in (("json.loads of the pages (baseline)", base),
                           ("first sync (new calls written)", sync["first"]),
                           ("second sync of the same recording", sync["second"])):
        print(f"    {label:<40} {seconds:8.3f} s  {seconds / base:7.1f}x baseline")
    print(f"    first sync: {sync['first_result']}")
    print(f"    second sync: {sync['second_result']}")
    print(f"    rows before/after the second sync: {sync['rows_before']} -> {sync['rows_after']}; "
          f"calls' content {'identical' if sync['content_same'] else 'CHANGED'}; "
          f"{'wrote nothing' if sync['wrote_nothing'] else 'WROTE SOMETHING'} "
          "(apart from its fetch_run row)")

    scratch = run_step("score", args, db_url, workdir)
    incremental = run_step("rescore", args, db_url, workdir)
    per = scratch["seconds"] / scored
    print(f"\n(b) scoring {scored} of {args.strategies} strategies (10 focus areas each) over "
          f"{scratch['calls']:,} calls", flush=True)
    print(f"    from scratch (baseline)        {scratch['seconds']:9.1f} s   {per:7.1f} s per strategy "
          f"(CPU {scratch['cpu']:.1f} s); {scratch['score_rows']:,} score rows")
    inc_per = incremental["seconds"] / scored
    print(f"    incremental, {args.changed} changed calls {incremental['seconds']:9.1f} s   "
          f"{inc_per:7.1f} s per strategy   {incremental['seconds'] / scratch['seconds']:.3f}x from scratch "
          f"(CPU {incremental['cpu']:.1f} s; {incremental['scored']} calls rescored, "
          f"refitted: {incremental['refitted']})")
    soon = incremental["hour_later"]
    print(f"    up to date, an hour later      {soon:9.1f} s   {soon / scored:7.1f} s per strategy   "
          f"{soon / scratch['seconds']:.3f}x from scratch (CPU {incremental['hour_later_cpu']:.1f} s; "
          "verdicts only)")
    idle_per = incremental["up_to_date"] / scored
    print(f"    up to date, a day later        {incremental['up_to_date']:9.1f} s   "
          f"{idle_per:7.1f} s per strategy   "
          f"{incremental['up_to_date'] / scratch['seconds']:.3f}x from scratch "
          f"(CPU {incremental['up_to_date_cpu']:.1f} s; verdicts only)")
    print(f"    per strategy: {', '.join(f'{s:.1f}' for s in scratch['per_strategy'])} s from scratch")
    if scored < args.strategies:
        times = scratch["per_strategy"]
        # the first strategy fits the corpus model the others reuse (one `score --all` over a folder),
        # so the rest are extrapolated from the strategies after it
        later = sum(times[1:]) / (len(times) - 1) if len(times) > 1 else times[0]
        whole = times[0] + later * (args.strategies - 1)
        basis = (f"the first, with the corpus fit, plus {args.strategies - 1} x the mean of the next "
                 f"{len(times) - 1}" if len(times) > 1 else "every strategy counted with the corpus fit: "
                 "an overestimate, score 2 or more to extrapolate from the later ones")
        print(f"    extrapolated to all {args.strategies} strategies: "
              f"{whole / 60:.1f} min from scratch ({basis}), "
              f"{inc_per * args.strategies:.0f} s incrementally, "
              f"{idle_per * args.strategies:.0f} s up to date")

    env = dict(os.environ, FUNDRADAR_DB=db_url, FUNDRADAR_CONFIG=str(workdir / f"{CLI_STRATEGY}.yaml"),
               FUNDRADAR_NOW=NOW.isoformat())
    env.pop("FUNDRADAR_FUNDING_RULES", None)
    bare = measured_process([sys.executable, "-c", "import pipeline"], env, args.repeat)
    cli = cli_command()
    commands = {"calls list --top 20": [*cli, "calls", "list", "--top", "20"],
                "deadlines": [*cli, "deadlines"],
                "deadlines --json": [*cli, "deadlines", "--json"],
                "calls list --top 20 --within 30": [*cli, "calls", "list", "--top", "20", "--within", "30"],
                "calls why 1": [*cli, "calls", "why", "1"],  # brings the strategy's scoring up to date first
                "--help": [*cli, "--help"]}
    print(f"\n(c) CLI wall time against that database, best of {args.repeat} "
          f"(strategy {CLI_STRATEGY}, as of {NOW:%Y-%m-%d})", flush=True)
    label = 'python -c "import pipeline" (baseline)'
    print(f"    {label:<40} {bare['best']:7.3f} s   peak {bare['peak_mb']:6.0f} MB")
    cli_figures = {}
    for label, command in commands.items():
        figures = measured_process(command, env, args.repeat)
        cli_figures[label] = figures
        print(f"    {'fundradar ' + label:<40} {figures['best']:7.3f} s   "
              f"peak {figures['peak_mb']:6.0f} MB   "
              f"{figures['best'] / bare['best']:5.1f}x start-up ({figures['lines']} lines out)", flush=True)

    print(f"\n(d) peak memory (maxrss of each step's own process; bare start-up {bare['peak_mb']:.0f} MB)")
    for label, step in (("build", build), ("sync twice + json baseline", sync),
                        (f"scoring {scored} strategies from scratch", scratch),
                        (f"scoring {scored} strategies incrementally", incremental)):
        ratio = step["peak_mb"] / bare["peak_mb"]
        print(f"    {label:<40} {step['peak_mb']:7.0f} MB   {ratio:5.1f}x start-up")
    for label, figures in cli_figures.items():
        print(f"    {'fundradar ' + label:<40} {figures['peak_mb']:7.0f} MB   "
              f"{figures['peak_mb'] / bare['peak_mb']:5.1f}x start-up")


if __name__ == "__main__":
    main()
