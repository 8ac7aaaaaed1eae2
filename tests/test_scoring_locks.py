"""A scoring run with nothing to write takes no write lock, and ``calls why`` of a current call neither
scores nor waits: both answer at once while another connection holds SQLite's write lock."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlmodel import Session

from classifiers.freshness import call_is_current
from classifiers.scoring import score_pending
from pipeline.core.config import DEFAULT_STRATEGY, load_config
from pipeline.core.db import session_scope
from pipeline.core.models import Call
from tests.scoring_data import insert_calls
from tests.test_scoring import CONFIG, NOW, TEXTS


def add_calls(engine: Any) -> list[int]:
    """The scoring tests' calls with the content hash a sync gives them (a call without one is always
    looked at again)."""
    return insert_calls(engine, TEXTS, hashed=True)


def hold_write_lock(db_url: str) -> sqlite3.Connection:
    conn = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None, timeout=0)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def test_nothing_to_write_takes_no_write_lock(engine: Any, db_url: str) -> None:
    config = load_config(DEFAULT_STRATEGY)
    add_calls(engine)
    first = score_pending(engine, config, NOW)
    again = score_pending(engine, config, NOW)
    assert (again.reason, again.scored_calls, again.total_calls) == ("up to date", 0, 5)
    assert not again.refitted
    assert again.model_version == first.model_version
    holder = hold_write_lock(db_url)
    try:
        started = time.perf_counter()
        held = score_pending(engine, config, NOW)
        # waiting for the lock would take the 30 s busy timeout; a loaded machine's slow run stays far below
        assert time.perf_counter() - started < 15.0
    finally:
        holder.rollback()
        holder.close()
    assert held == again


def test_calls_why_of_a_current_call_does_not_wait(cli: Any, engine: Any, db_url: str) -> None:
    ids = add_calls(engine)
    assert cli(*CONFIG, "score").exit_code == 0
    expected = cli(*CONFIG, "calls", "why", str(ids[0])).output
    holder = hold_write_lock(db_url)
    try:
        started = time.perf_counter()
        result = cli(*CONFIG, "calls", "why", str(ids[0]))
        assert time.perf_counter() - started < 15.0
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 0 and result.output == expected


def test_a_changed_call_is_not_current_until_scored(engine: Any) -> None:
    config = load_config(DEFAULT_STRATEGY)
    ids = add_calls(engine)
    with Session(engine) as session:
        assert not call_is_current(session, config, ids[0], NOW)
    score_pending(engine, config, NOW)
    with Session(engine) as session:
        assert call_is_current(session, config, ids[0], NOW)
    with session_scope(engine) as session:
        call = session.get(Call, ids[0])
        assert call is not None
        call.text = call.text + " Hydrogen valleys."
        session.add(call)
    with Session(engine) as session:
        assert not call_is_current(session, config, ids[0], NOW)
        assert call_is_current(session, config, ids[1], NOW)
