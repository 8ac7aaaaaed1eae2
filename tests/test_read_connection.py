"""The read queries are written once (pipeline.core.sql): the listing, the deadlines and an explanation
read on a SQLAlchemy session (as digests, evaluation, the strategy preview and serve do) and on the
read-only connection of the CLI give the same rows in the same order, on a real SQLite file and on the
real PostgreSQL server; the CLI's JSON is those rows. A session's pending rows are seen, and opening a
read connection never creates a database."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from pipeline.calls import CallFilter, call_changes, call_text, find_call_id, list_calls
from pipeline.cli.common import jsonable
from pipeline.cli.main import app
from pipeline.core.config import load_config
from pipeline.core.db import open_database
from pipeline.core.errors import NotFoundError
from pipeline.core.models import Application, Call, CallChange, CallFollow, Idea, Score, Verdict
from pipeline.core.sql import at_head, connect, database
from pipeline.due import upcoming_deadlines

NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)
STRATEGY = load_config().strategy.name
AREAS = list(load_config().strategy.focus_areas)[:3]
FILTERS = [
    CallFilter(strategy=STRATEGY, limit=20),
    CallFilter(strategy=STRATEGY),
    CallFilter(strategy=STRATEGY, focus_area=AREAS[0], limit=10),
    CallFilter(strategy=STRATEGY, deadline_within_days=45, sort="deadline"),
    CallFilter(strategy=STRATEGY, min_score=0.3, status="all", sort="opening"),
    CallFilter(strategy=STRATEGY, passing=True, programme="hor", limit=15),
    CallFilter(strategy=STRATEGY, followed=True, status="closed"),
    CallFilter(status="all", source="eu_ft"),
]
# the same listings as command lines
CLI_LISTINGS = [
    (["--top", "20"], FILTERS[0]),
    ([], FILTERS[1]),
    (["--focus", AREAS[0], "--top", "10"], FILTERS[2]),
    (["--within", "45", "--sort", "deadline"], FILTERS[3]),
    (["--min-score", "0.3", "--status", "all", "--sort", "opening"], FILTERS[4]),
    (["--passing", "--programme", "hor", "--top", "15"], FILTERS[5]),
    (["--followed", "--status", "closed"], FILTERS[6]),
]


def fill(engine: Any, count: int = 150) -> None:
    """Calls of every status, some two-stage, scored with ties, judged, followed, applied to."""
    rng = random.Random(11)
    with Session(engine) as session:
        for number in range(count):
            first = NOW + timedelta(days=rng.randint(-60, 150), hours=rng.randint(0, 23),
                                    microseconds=rng.randint(0, 999_999))
            stages = [first] + ([first + timedelta(days=rng.randint(20, 90))] if rng.random() < 0.3 else [])
            session.add(Call(source=rng.choice(["eu_ft", "euro_access"]), external_id=f"R{number}",
                             topic_id=f"TOPIC-{number % 140}", title=f"Call {number} ø",
                             programme=rng.choice(["Horizon Europe", "LIFE", None]),
                             status=rng.choice(["open", "forthcoming", "closed", "announced", "removed"]),
                             deadline=first,
                             deadlines=[{"at": s.isoformat(), "time_assumed": rng.random() < 0.5}
                                        for s in stages],
                             deadline_time_assumed=rng.random() < 0.3, budget=rng.choice([None, 2e6, 1.5e7]),
                             opening_date=rng.choice([None, NOW - timedelta(days=rng.randint(-20, 40))]),
                             first_seen=NOW, last_seen=NOW))
        session.flush()
        for number in (3, 3, 9):
            session.add(CallChange(call_id=number, field=rng.choice(["status", "deadlines"]), old="a",
                                   new="b", changed_at=NOW - timedelta(hours=rng.randint(1, 50))))
        ideas = [Idea(title=f"Idea {n}", strategy=rng.choice([None, STRATEGY, "other"]), created_at=NOW,
                      updated_at=NOW) for n in range(6)]
        session.add_all(ideas)
        session.flush()
        for number in range(1, count + 1):
            if rng.random() < 0.2:
                continue
            for area in AREAS:
                value = round(rng.choice([0.1, 0.25, 0.5, rng.random()]), 6)
                session.add(Score(call_id=number, strategy=STRATEGY, focus_area=area, score=value,
                                  explanation=[{"term": area, "weight": value}], computed_at=NOW))
            passed = rng.random() < 0.6
            session.add(Verdict(call_id=number, strategy=STRATEGY, passed=passed, priority=rng.random(),
                                outcomes=[{"rule": "deadline", "passed": rng.choice([True, None]),
                                           "reason": "r"}], computed_at=NOW))
            if rng.random() < 0.25:
                session.add(CallFollow(call_id=number, strategy=STRATEGY, kind="follow", at=NOW))
            if rng.random() < 0.15:
                session.add(Application(idea_id=rng.choice(ideas).id, call_id=number,
                                        status=rng.choice(["draft", "writing", "submitted", "granted"]),
                                        deadline_flagged=rng.random() < 0.3, created_at=NOW, updated_at=NOW))
        session.commit()


def same_everywhere(url: str) -> None:
    engine = open_database(url)
    try:
        fill(engine)
        with Session(engine) as session:
            listings = [list_calls(session, flt, NOW) for flt in FILTERS]
            due = [upcoming_deadlines(session, NOW, weeks=weeks, strategy=STRATEGY, scope=scope)
                   for weeks in (4, 30) for scope in (None, STRATEGY)]
            found = [find_call_id(session, key) for key in ("7", "#7", "R12", "TOPIC-139")]
            shown = [(call_text(session, n), call_changes(session, n)) for n in (3, 9, 10)]
        db = connect(url)
        assert db is not None and at_head(db)  # the CLI reads on this connection, the engine unused
        try:
            assert [list_calls(db, flt, NOW) for flt in FILTERS] == listings
            assert [upcoming_deadlines(db, NOW, weeks=weeks, strategy=STRATEGY, scope=scope)
                    for weeks in (4, 30) for scope in (None, STRATEGY)] == due
            assert [find_call_id(db, key) for key in ("7", "#7", "R12", "TOPIC-139")] == found
            assert [(call_text(db, n), call_changes(db, n)) for n in (3, 9, 10)] == shown
            with pytest.raises(NotFoundError, match=r"matches several calls \(ids 6, 146\)"):
                find_call_id(db, "TOPIC-5")
            with pytest.raises(Exception, match="(?i)read-?only"):  # it cannot write, by construction
                db.rows("UPDATE call SET title = 'changed' WHERE id = 1")
        finally:
            db.close()
        assert all(listings) and any(due) and len(shown[0][1]) == 2
        runner = CliRunner()
        env = {"FUNDRADAR_NOW": NOW.isoformat(), "FUNDRADAR_CONFIG": None, "FUNDRADAR_STRATEGY": None}
        for args, flt in CLI_LISTINGS:
            result = runner.invoke(app, ["--db", url, "calls", "list", *args, "--json"], env=env,
                                   catch_exceptions=False)
            assert result.exit_code == 0, result.output
            assert json.loads(result.stdout) == jsonable(listings[FILTERS.index(flt)]), args
        result = runner.invoke(app, ["--db", url, "deadlines", "--weeks", "30", "--json"], env=env,
                               catch_exceptions=False)
        assert json.loads(result.stdout) == jsonable(due[2])
    finally:
        engine.dispose()


def test_session_connection_and_cli_agree_on_sqlite(db_url: str) -> None:
    same_everywhere(db_url)


def test_session_connection_and_cli_agree_on_postgresql(pg_url: str) -> None:
    same_everywhere(pg_url)


def test_a_session_sees_its_pending_rows(engine: Any) -> None:
    fill(engine, count=20)
    with Session(engine) as session:
        before = [r["id"] for r in list_calls(session, CallFilter(strategy=STRATEGY, limit=3), NOW)]
        session.add(Score(call_id=before[-1] + 1 if before[-1] < 20 else 1, strategy=STRATEGY,
                          focus_area="brand-new", score=0.99, computed_at=NOW))
        session.add(Call(source="eu_ft", external_id="NEW", title="New", status="open",
                         deadline=NOW + timedelta(days=9), deadlines=[], first_seen=NOW, last_seen=NOW))
        [top] = list_calls(session, CallFilter(strategy=STRATEGY, limit=1), NOW)  # not committed
        assert top["score"] == 0.99 and top["focus_area"] == "brand-new"
        assert find_call_id(session, "NEW") == 21
        assert database(session).first("SELECT count(*) FROM call")[0] == 21


def test_a_read_connection_never_creates_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "fundradar.db"
    assert connect(f"sqlite:///{missing}") is None
    assert not missing.parent.exists()
    plain = tmp_path / "plain.db"
    plain.write_bytes(b"")
    db = connect(f"sqlite:///{plain}")  # an empty file: no tables, the engine says what is wrong
    assert db is not None
    with pytest.raises(Exception, match="no such table"):
        db.rows("SELECT id FROM call")
    db.close()
