"""Each cluster's pipeline at national scale: what the per-strategy filter costs and saves.

    .venv/bin/python bench/bench_pipeline_scope.py
    .venv/bin/python bench/bench_pipeline_scope.py --strategies 50 --ideas 10000 --applications 10000
    .venv/bin/python bench/bench_pipeline_scope.py --db postgresql+psycopg://postgres@127.0.0.1:5432/bench

Builds a database (a SQLite file in a temporary directory unless ``--db`` names an empty one) with
``--calls`` calls (short synthetic texts: the pipeline queries never read call texts' words), ideas
spread over ``--strategies`` strategies plus 2 % shared ones (no strategy), and applications of them.
Then, best of ``--repeat``, each beside its baseline measured in the same run:

(a) one strategy's ``ideas list``, ``applications list``, ``deadlines`` and ``pipeline report`` queries
    (pipeline.ideas / applications / reports with ``scope``) beside the same queries unfiltered, as a
    single strategy file runs them (every idea and application);
(b) the scoped idea filter alone (``SELECT id``, no objects built) with ix_idea_strategy beside the
    same query with the index dropped;
(c) application reminders and followed-call changes collected for every strategy (the alerts job of a
    folder config), scoped beside unscoped (once each: unscoped builds every message 50 times): the
    work, and the messages that would go out.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.applications import list_applications  # noqa: E402
from pipeline.core.db import open_database  # noqa: E402
from pipeline.core.models import Application, Call, CallChange, Idea  # noqa: E402
from pipeline.ideas import list_ideas  # noqa: E402
from pipeline.notify.alerts import change_alerts, reminders  # noqa: E402
from pipeline.reports import pipeline_report, upcoming_deadlines  # noqa: E402
from pipeline.tenancy import visible  # noqa: E402

NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)
STATUSES = ["draft", "consortium", "writing", "submitted", "granted", "rejected", "withdrawn"]
CHUNK = 5000


def insert(conn: sa.Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(sa.insert(table), rows[start:start + CHUNK])


def build(engine: sa.Engine, args: argparse.Namespace) -> list[str]:
    rng = random.Random(args.seed)
    names = [f"cluster-{n:02d}" for n in range(1, args.strategies + 1)]
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(Idea)).scalar_one():
            raise SystemExit("the database already holds ideas; give an empty database")
        calls = []
        for n in range(args.calls):
            due = NOW + timedelta(days=rng.randint(-60, 200), hours=15)
            calls.append({"source": "bench", "external_id": f"B-{n}", "title": f"Call {n}", "text": "",
                          "status": "open", "programme": rng.choice(["Horizon Europe", "LIFE", "Interreg"]),
                          "deadline": due, "deadlines": [{"at": due.isoformat(), "time_assumed": False}],
                          "extra": {}, "first_seen": NOW, "last_seen": NOW})
        insert(conn, Call.__table__, calls)
        insert(conn, Idea.__table__, [
            {"strategy": None if rng.random() < 0.02 else rng.choice(names), "title": f"Idea {i}",
             "description": "", "focus_areas": [], "target_countries": [], "status": "idea",
             "created_at": NOW, "updated_at": NOW} for i in range(args.ideas)])
        apps = []
        for _ in range(args.applications):
            call_id = rng.randint(1, args.calls)
            apps.append({"idea_id": rng.randint(1, args.ideas), "call_id": call_id, "role": "coordinator",
                         "requested_amount": 500_000.0, "status": rng.choice(STATUSES),
                         "deadline_sequence": 0, "seen_deadlines": calls[call_id - 1]["deadlines"],
                         "deadline_flagged": False, "created_at": NOW, "updated_at": NOW})
        insert(conn, Application.__table__, apps)
        moved = rng.sample(range(1, args.calls + 1), min(args.calls, 200))
        insert(conn, CallChange.__table__, [
            {"call_id": cid, "field": "deadlines", "old": '[{"at": "2026-09-01T15:00:00+00:00"}]',
             "new": '[{"at": "2026-10-01T15:00:00+00:00"}]', "changed_at": NOW - timedelta(hours=1)}
            for cid in moved])
    return names


def size(result: Any) -> int:
    return result["total"] if isinstance(result, dict) else len(result)


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def row(label: str, value: float, baseline: float, baseline_label: str, extra: str = "") -> None:
    print(f"{label:<44}{value * 1000:>9.1f} ms   {baseline_label} {baseline * 1000:>9.1f} ms   "
          f"ratio {value / baseline if baseline else float('nan'):5.2f}{extra}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategies", type=int, default=50)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--ideas", type=int, default=10_000)
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20260822)
    parser.add_argument("--db", default=None, metavar="URL",
                        help="an empty database (default: temporary SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_database(args.db or f"sqlite:///{Path(tmp) / 'scope.db'}")
        started = time.perf_counter()
        names = build(engine, args)
        print(f"built {args.calls:,} calls, {args.ideas:,} ideas of {args.strategies} strategies "
              "(2 % shared), "
              f"{args.applications:,} applications in {time.perf_counter() - started:.1f} s "
              f"({engine.dialect.name}); best of {args.repeat}")
        one = names[len(names) // 2]
        with Session(engine) as session:
            print(f"\n(a) one strategy ({one}) beside every idea/application (a single strategy file)")
            for label, fn in [
                ("ideas list", lambda s: list_ideas(session, scope=s)),
                ("applications list", lambda s: list_applications(session, NOW, scope=s)),
                ("deadlines --weeks 8", lambda s: upcoming_deadlines(session, NOW, weeks=8, strategy=one,
                                                                     scope=s)),
                ("pipeline report", lambda s: pipeline_report(session, NOW, scope=s)),
            ]:
                scoped, rows = best(lambda fn=fn: fn(one), args.repeat)
                unscoped, all_rows = best(lambda fn=fn: fn(None), args.repeat)
                row(label, scoped, unscoped, "all", f"   rows {size(rows):,} of {size(all_rows):,}")

            print("\n(b) the idea filter alone (SELECT id) with ix_idea_strategy beside the index dropped")
            filtered = visible(select(Idea.id), one)
            with_index, _ = best(lambda: session.exec(filtered).all(), args.repeat * 4)
            session.commit()
        with engine.begin() as conn:
            conn.execute(sa.text("DROP INDEX ix_idea_strategy"))
        with Session(engine) as session:
            without, _ = best(lambda: session.exec(filtered).all(), args.repeat * 4)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE INDEX ix_idea_strategy ON idea (strategy)"))
        row("idea filter (scoped)", with_index, without, "no index")

        print(f"\n(c) the alerts job over all {len(names)} strategies: scoped beside every application "
              "for every strategy")
        since = NOW - timedelta(days=1)
        with Session(engine) as session:
            def job(scoped: bool) -> int:
                return sum(len(reminders(session, "#c", (14, 7, 2), NOW, scope=n if scoped else None))
                           + len(change_alerts(session, "#c", NOW, since, scope=n if scoped else None))
                           for n in names)

            scoped_t, scoped_n = best(lambda: job(True), 1)
            all_t, all_n = best(lambda: job(False), 1)
        row("reminders + change alerts, all strategies", scoped_t, all_t, "unscoped",
            f"   messages {scoped_n:,} instead of {all_n:,}")
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
