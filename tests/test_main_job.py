"""One main job (pipeline.sync) for ``sync``, ``run`` and ``serve``: under serve an application follows
its call's moved deadline (flag, history, iCalendar SEQUENCE), as under ``sync``; read commands never
open a write transaction."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pipeline import applications as apps
from pipeline.core.config import load_config
from pipeline.core.db import session_scope
from pipeline.core.models import Application, Call
from pipeline.ical_export import build_calendar, write_calendar
from pipeline.ideas import create_idea
from pipeline.serve import Service
from tests.localserver import LocalServer
from tests.test_eu_ft_sync import SEARCH_PATH, Portal, as_of

MOVED = "186824PROSPECTSEN"  # its deadline moves from 2026-08-31 to 2026-10-12 between the recordings
STRATEGY = "main-job"


def write_config(path: Path, server: LocalServer) -> Path:
    path.write_text(textwrap.dedent(f"""\
        name: {STRATEGY}
        organisation: Test Cluster
        focus_areas:
          energy:
            label: Energy
            keywords: [offshore wind, hydrogen]
        sources:
          eu_ft:
            type: eu_ft
            url: {server.url(SEARCH_PATH)}
            programmes: {{}}
            schedule: {{every: 1h, jitter_seconds: 0}}
        """), encoding="utf-8")
    return path


def application_to(engine: Engine, external_id: str, now: Any) -> int:
    with session_scope(engine) as session:
        call = session.exec(select(Call).where(Call.external_id == external_id)).one()
        idea = create_idea(session, title="Wind ports", strategy=load_config().strategy, now=now,
                           owner="anna", description="Ports for offshore wind",
                           focus_areas=["offshore_energy"], target_countries=["DE"])
        app = apps.create_application(session, idea_id=idea.id, call_key=str(call.id), now=now, by="anna")
        assert app.id is not None
        return app.id


def ical_event(engine: Engine, path: Path, now: Any, app_id: int) -> icalendar.Event:
    with Session(engine) as session:
        write_calendar(build_calendar(session, now, strategy=STRATEGY), path)
    found = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")}
    return found[f"application-{app_id}-deadline-1@fundradar"]


@pytest.mark.slow
def test_serve_follows_a_moved_deadline_like_sync(tmp_path: Path, server: LocalServer, samples: Path,
                                                 engine: Engine) -> None:
    portal = Portal(server, samples)
    config = load_config(write_config(tmp_path / "strategy.yaml", server))
    clock = {"now": as_of("2026-08-21")}
    service = Service(engine, config, now=lambda: clock["now"], digests=False, reload_seconds=0)
    portal.serve("2026-08-21")
    first = service.run_source("eu_ft")
    assert first is not None and (first.outcome, first.new) == ("ok", 731)
    app_id = application_to(engine, MOVED, clock["now"])
    before = ical_event(engine, tmp_path / "before.ics", clock["now"], app_id)
    assert before["SEQUENCE"] == 0 and before.decoded("DTSTART").date().isoformat() == "2026-08-31"

    portal.serve("2026-08-22")
    clock["now"] = as_of("2026-08-22")
    second = service.run_source("eu_ft")  # the source run of a serve job: the main job of pipeline.sync
    assert second is not None and (second.outcome, second.changed) == ("ok", 2)
    with Session(engine) as session:
        app = session.get(Application, app_id)
        assert app is not None and app.deadline_flagged and app.deadline_sequence == 1
        history = [e.note for e in apps.events(session, app)]
    assert history[-1] == "call deadline moved: 2026-08-31 12:00 -> 2026-10-12 12:00"
    after = ical_event(engine, tmp_path / "after.ics", clock["now"], app_id)
    assert after["SEQUENCE"] == 1 and after.decoded("DTSTART").date().isoformat() == "2026-10-12"


class Statements:
    """Every SQL statement any engine of this process sends (a class-level listener on Engine: the CLI
    opens its own engine)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.seen.append(statement)

    def writes(self) -> list[str]:
        return [s for s in self.seen
                if s.lstrip().upper().startswith(("BEGIN IMMEDIATE", "INSERT", "UPDATE", "DELETE"))]


def test_read_commands_open_no_write_transaction(cli, engine: Engine, tmp_path: Path) -> None:
    from tests.test_applications import NOW, bsr_call, seed, sync

    ids = seed(engine)
    with session_scope(engine) as session:
        apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]), now=NOW, by="anna")
    later = NOW + timedelta(days=1)
    sync(engine, "euro_access", [bsr_call("2026-10-29T12:00")], later)  # a move not followed yet
    at = ["--as-of", later.isoformat()]
    assert cli(*at, "applications", "list").exit_code == 0  # the schema is current: opening writes nothing
    statements = Statements()
    event.listen(Engine, "before_cursor_execute", statements)
    try:
        for command in (["applications", "list"], ["applications", "show", "1"], ["deadlines"],
                        ["export", "ical", str(tmp_path / "d.ics")], ["pipeline", "report"]):
            statements.seen.clear()
            result = cli(*at, *command)
            assert result.exit_code == 0, (command, result.output)
            if command == ["deadlines"]:  # read on a read-only connection of its own: no engine at all
                assert statements.seen == [], command
                continue
            assert statements.seen, command  # the listener sees the CLI's engine
            assert statements.writes() == [], command
    finally:
        event.remove(Engine, "before_cursor_execute", statements)
    with Session(engine) as session:
        app = session.get(Application, 1)
        assert app is not None and not app.deadline_flagged  # flagging is the main job's
    result = cli(*at, "applications", "ack", "1")  # a write command: follows, then acknowledges
    assert result.stdout == "Application #1: deadline change acknowledged\n"
