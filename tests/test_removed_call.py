"""A call removed from its source (or withdrawn) is flagged on the applications that follow it, like a
moved deadline: `applications list`, `deadlines`, the digest's "our applications" and the iCal export
all say so, and acknowledging clears the flag."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest
from sqlmodel import Session

from pipeline import applications as apps
from pipeline.core.db import session_scope
from pipeline.core.models import Application
from pipeline.ical_export import build_calendar, write_calendar
from pipeline.notify.delivery import Pacer
from pipeline.notify.jobs import send_digests
from tests.slack_data import CONFIG, NOW, STRATEGY, TOKEN, add_application, add_call, change_status, loaded
from tests.slack_server import SlackServer

ARGS = ["--config", str(CONFIG), "--as-of", NOW.isoformat()]


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


@pytest.fixture
def removed(engine) -> tuple[int, int]:
    """An application whose call the latest recording no longer lists (followed once before)."""
    call = add_call(engine, 1, title="Biodiversity & ecosystems", days=396)
    app = add_application(engine, call)
    with session_scope(engine) as session:
        apps.follow_call_deadlines(session, NOW - timedelta(days=2))  # remembers the deadline
        apps.acknowledge(session, app, NOW - timedelta(days=2), by="anna")
    change_status(engine, call, "removed", NOW - timedelta(days=1))
    with session_scope(engine) as session:
        moves = apps.follow_call_deadlines(session, NOW - timedelta(hours=12))
    assert [(m.application_id, m.new, m.sequence) for m in moves] == [(app, [], 2)]
    return call, app


def test_the_application_is_flagged_and_ack_clears_it(engine, removed, cli) -> None:
    _call, app = removed
    result = cli(*ARGS, "applications", "list", "--json")
    assert result.exit_code == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["days_left"], row["call_status"], row["deadline_flagged"]) == (None, "removed", True)
    table = cli(*ARGS, "applications", "list")
    assert "call removed!" in table.stdout
    with session_scope(engine) as session:
        assert apps.follow_call_deadlines(session, NOW) == []  # idempotent
        assert apps.acknowledge(session, app, NOW, by="anna")
    with Session(engine) as session:
        stored = session.get(Application, app)
        assert stored is not None and not stored.deadline_flagged and stored.deadline_sequence == 2


def test_deadlines_show_the_call_status_not_days_left(removed, cli) -> None:
    result = cli(*ARGS, "deadlines", "--weeks", "60", "--json")
    assert result.exit_code == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["status"], row["days_left"], row["flagged"]) == ("call removed", None, True)


def test_the_ical_event_is_cancelled_with_a_raised_sequence(engine, removed, tmp_path: Path) -> None:
    _call, app = removed
    path = tmp_path / "deadlines.ics"
    with Session(engine) as session:
        write_calendar(build_calendar(session, NOW, strategy=STRATEGY), path)
    (event,) = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    assert str(event["UID"]) == f"application-{app}-deadline-1@fundradar"
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == 2
    assert str(event["SUMMARY"]).startswith("Cancelled (call removed): Deadline: Floating wind O&M robots")
    assert event.walk("VALARM") == []


def test_the_digest_says_the_call_is_gone(engine, removed, slack) -> None:
    _call, app = removed
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    send_digests(engine, loaded(), NOW, channel="#eu-fundraising", environ=env,
                 pacer=Pacer(sleep=lambda s: None))
    (posted,) = slack.posted_to("#eu-fundraising")
    sections = [b["text"]["text"] for b in posted.raw["blocks"] if b["type"] == "section"]
    line = next(s for s in sections if s.startswith(f"• #{app} "))
    assert line.endswith(f"_writing_, :warning: *the call is removed* (`fundradar applications ack {app}`)")
    assert "days left" not in line


def test_a_followed_call_back_after_its_removal_has_a_higher_sequence(engine, tmp_path: Path) -> None:
    """A followed call's event went out cancelled with SEQUENCE 1; listed again, it was exported live
    with SEQUENCE 0, which a subscribed calendar takes as older than the cancellation and ignores: the
    deadline stayed cancelled in the calendar."""
    from pipeline.follow import set_state

    call = add_call(engine, 1, title="Biodiversity & ecosystems", days=396)
    with session_scope(engine) as session:
        set_state(session, STRATEGY, call, "follow", NOW - timedelta(days=3))

    def event() -> icalendar.Event:
        path = tmp_path / "deadlines.ics"
        with Session(engine) as session:
            write_calendar(build_calendar(session, NOW, strategy=STRATEGY), path)
        (found,) = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
        return found

    assert (event().get("STATUS"), event()["SEQUENCE"]) == (None, 0)
    change_status(engine, call, "removed", NOW - timedelta(days=2))
    assert (str(event()["STATUS"]), event()["SEQUENCE"]) == ("CANCELLED", 1)
    change_status(engine, call, "open", NOW - timedelta(days=1))
    back = event()
    assert (back.get("STATUS"), back["SEQUENCE"]) == (None, 2)
    assert str(back["SUMMARY"]).startswith("Call deadline: ")
