"""One reading of the changes of followed calls: the digest lists them all, the alerts the deadline
moves and withdrawals of the same reading."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session

from pipeline.core.db import session_scope
from pipeline.core.models import CallChange
from pipeline.notify.alerts import change_alerts
from pipeline.notify.digest import change_line, collect_changes
from pipeline.notify.followed import followed_changes
from tests.slack_data import NOW, add_application, add_call, change_status, deadline, move_deadline

SINCE = NOW - timedelta(days=7)


def test_followed_changes_read_once_for_digest_and_alerts(engine) -> None:
    moved, same, closed, gone, other = (add_call(engine, n) for n in range(1, 6))
    for call_id in (moved, same, closed, gone):
        add_application(engine, call_id)
    early = move_deadline(engine, moved, NOW + timedelta(days=70), NOW - timedelta(days=9))  # before since
    move = move_deadline(engine, moved, NOW + timedelta(days=80), NOW - timedelta(days=2))
    with session_scope(engine) as session:  # a stored value that changed, but shows the same time
        at = NOW + timedelta(days=60, hours=9)
        session.add(CallChange(call_id=same, field="deadlines", changed_at=NOW - timedelta(days=1),
                               old=json.dumps([{"at": at.isoformat(), "time_assumed": True}]),
                               new=json.dumps(deadline(at))))
    status = change_status(engine, closed, "closed", NOW - timedelta(days=1))
    withdrawal = change_status(engine, gone, "withdrawn", NOW - timedelta(hours=1))
    change_status(engine, other, "withdrawn", NOW - timedelta(hours=2))  # nobody follows it

    followed = {moved, same, closed, gone}
    with Session(engine) as session:
        found = followed_changes(session, followed, SINCE, NOW)
        assert [(f.change.id, f.kind, f.old, f.new) for f in found] == [
            (move, "deadline", "2 Nov 2026 07:00", "12 Nov 2026 07:00"),  # Brussels time
            (status, "status", "open", "closed"),
            (withdrawal, "withdrawn", "open", "withdrawn"),
        ]
        assert early not in {f.change.id for f in found}
        assert followed_changes(session, set(), SINCE, NOW) == []
        lines = collect_changes(session, followed, SINCE, NOW)
        assert [(c.call_id, c.kind, c.old, c.new, c.at) for c in lines] == [
            (f.call.id, f.kind, f.old, f.new, f.at) for f in found]
        alerts = change_alerts(session, "#alerts", NOW, SINCE)
    assert [a.key for a in alerts] == [f"alert:change:{move}", f"alert:change:{withdrawal}"]


def test_a_call_listed_again_after_its_removal_reads_as_back(engine) -> None:
    """The digest said "status removed → open" of a call the alerts had reported removed."""
    call = add_call(engine, 1)
    add_application(engine, call)
    removed = change_status(engine, call, "removed", NOW - timedelta(days=2))
    back = change_status(engine, call, "open", NOW - timedelta(days=1))
    with Session(engine) as session:
        lines = collect_changes(session, {call}, SINCE, NOW)
        alerts = change_alerts(session, "#alerts", NOW, SINCE)
    assert [(c.kind, c.old, c.new) for c in lines] == [("withdrawn", "open", "removed"),
                                                        ("back", "removed", "open")]
    assert [change_line(c) for c in lines] == [
        "• <https://ec.europa.eu/topic/1|Offshore wind call 1>: *removed* (was open)",
        "• <https://ec.europa.eu/topic/1|Offshore wind call 1>: listed again, now *open* (was removed)"]
    assert [a.key for a in alerts] == [f"alert:change:{removed}", f"alert:change:{back}"]
