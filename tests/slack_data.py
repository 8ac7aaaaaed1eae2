"""Rows for the Slack tests, inserted with the models into the test's real SQLite file."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from pipeline.core.clock import UTC
from pipeline.core.config import LoadedConfig, load_config
from pipeline.core.db import session_scope
from pipeline.core.models import Application, ApplicationEvent, Call, CallChange, Idea, Score, Verdict

CONFIG = Path(__file__).resolve().parent / "fixtures" / "config" / "slack_strategy.yaml"
NOW = datetime(2026, 8, 24, 6, 0, tzinfo=UTC)  # Monday 08:00 in Copenhagen
STRATEGY = "greentech-dk"
TOKEN = "xoxb-1234-secret-token-do-not-log"


def loaded() -> LoadedConfig:
    return load_config(CONFIG)


def deadline(at: datetime) -> list[dict[str, Any]]:
    return [{"at": at.isoformat(), "time_assumed": False}]


def add_call(engine: Engine, n: int, *, title: str | None = None, score: float = 0.5,
             area: str = "offshore_energy", first_seen: datetime | None = None, days: int = 60,
             passed: bool | None = True, url: str | None = None, **fields: Any) -> int:
    """A Horizon Europe call with a score (and a verdict unless ``passed`` is None); returns its id."""
    due = NOW + timedelta(days=days, hours=9)  # 17:00 Brussels time
    seen = first_seen or NOW - timedelta(days=30)
    call = Call(source="eu_ft", external_id=f"REF-{n}", programme="Horizon Europe",
                topic_id=f"HORIZON-CL5-2027-03-D3-{n:02d}", title=title or f"Offshore wind call {n}",
                url=url if url is not None else f"https://ec.europa.eu/topic/{n}",
                deadline=due, deadlines=deadline(due), budget=12_000_000, max_contribution=3_000_000,
                funding_rate=1.0, type_of_action="RIA", first_seen=seen, last_seen=seen,
                **{"status": "open", **fields})
    with session_scope(engine) as session:
        session.add(call)
        session.flush()
        session.add(Score(call_id=call.id, strategy=STRATEGY, focus_area=area, score=score,
                          explanation=[{"term": "offshore wind", "weight": 0.4},
                                       {"term": "hydrogen", "weight": 0.2}], computed_at=seen))
        if passed is not None:
            session.add(Verdict(call_id=call.id, strategy=STRATEGY, passed=passed, success_rate=0.16,
                                funding_rate=1.0, expected_value=480_000, priority=0.5, computed_at=seen,
                                outcomes=[] if passed else [{"rule": "min_success_rate", "passed": False,
                                                             "reason": "8% < 10%"}]))
        return call.id


def add_application(engine: Engine, call_id: int, *, status: str = "writing", owner: str | None = "Mette",
                    idea: str = "Floating wind O&M robots") -> int:
    with session_scope(engine) as session:
        row = Idea(title=idea, created_at=NOW - timedelta(days=40), updated_at=NOW - timedelta(days=40))
        session.add(row)
        session.flush()
        app = Application(idea_id=row.id, call_id=call_id, status=status, owner=owner,
                          created_at=NOW - timedelta(days=20), updated_at=NOW - timedelta(days=20))
        session.add(app)
        session.flush()
        return app.id


def add_event(engine: Engine, app_id: int, at: datetime, old: str, new: str, by: str = "Mette") -> None:
    with session_scope(engine) as session:
        session.add(ApplicationEvent(application_id=app_id, at=at, by=by, from_status=old, to_status=new))


def move_deadline(engine: Engine, call_id: int, new: datetime, at: datetime) -> int:
    """Move a call's deadline the way watcher.store records it; returns the CallChange id."""
    with session_scope(engine) as session:
        call = session.get(Call, call_id)
        assert call is not None
        change = CallChange(call_id=call_id, field="deadlines",
                            old=json.dumps(call.deadlines, sort_keys=True),
                            new=json.dumps(deadline(new), sort_keys=True), changed_at=at)
        call.deadline, call.deadlines = new, deadline(new)
        session.add(call)
        session.add(change)
        session.flush()
        return change.id


def change_status(engine: Engine, call_id: int, new: str, at: datetime) -> int:
    with session_scope(engine) as session:
        call = session.get(Call, call_id)
        assert call is not None
        change = CallChange(call_id=call_id, field="status", old=call.status, new=new, changed_at=at)
        call.status = new
        session.add(call)
        session.add(change)
        session.flush()
        return change.id


def run_alerts(engine: Engine, slack: Any, at: datetime) -> list[Any]:
    """One alerts run of the test strategy against the local Slack server ``slack``
    (:class:`tests.slack_server.SlackServer`), without pauses between posts."""
    from pipeline.notify.delivery import Pacer
    from pipeline.notify.jobs import send_alerts

    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    return send_alerts(engine, loaded(), at, environ=env, pacer=Pacer(sleep=lambda s: None))
