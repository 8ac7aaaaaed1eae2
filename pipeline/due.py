"""What is due when: our open applications and the calls we track, by next deadline (library, reads only).

``upcoming_deadlines`` lists our open applications and the calls we track (the calls the strategy
follows, :mod:`pipeline.follow`, without an open application of ours) whose next deadline falls within
N weeks, soonest first. A *relevant* mark is a judgement for the ranking and tracks nothing. With a
config folder ``scope`` is the selected strategy, whose applications (through their ideas, see
:mod:`pipeline.tenancy`) are the only ones listed, with the shared ones; None lists all.

Written as SQL text (:mod:`pipeline.core.sql`), so ``fundradar deadlines`` answers without the ORM;
callers holding a session pass it and see the same rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pipeline.core.deadlines import ACTIVE, GONE, days_until, effective_status, last_deadline, next_deadline
from pipeline.core.errors import ValidationError
from pipeline.core.sql import Database, chunks, database, flag, json_value, utc
from pipeline.follow import followed_calls
from pipeline.tenancy import visible_sql
from pipeline.workflow import FINAL, is_overdue

if TYPE_CHECKING:
    from sqlmodel import Session


def tracked_call_ids(source: Database | Session, strategy: str) -> list[int]:
    """Ids of the calls the strategy follows (``fundradar calls follow``), in id order."""
    return sorted(followed_calls(source, strategy))


class _Deadlines:
    """A call's status and deadline columns, for :mod:`pipeline.core.deadlines`."""

    __slots__ = ("deadline", "deadlines", "opening_date", "status")

    def __init__(self, status: str, deadlines: Any, deadline: Any, opening_date: Any = None) -> None:
        self.status, self.deadlines = status, json_value(deadlines)
        self.deadline, self.opening_date = utc(deadline), utc(opening_date)


def upcoming_deadlines(source: Database | Session, now: datetime, *, weeks: float, strategy: str,
                       scope: str | None = None) -> list[dict[str, Any]]:
    """Reads only the columns it shows and the deadlines (no call texts). A call tracked by
    ``strategy`` that only another strategy applied to is shown as a tracked call."""
    if weeks < 0:  # 0 weeks ahead: only what is overdue
        raise ValidationError(f"--weeks must be 0 or more, got {weeks:g}")
    db = database(source)
    horizon = now + timedelta(weeks=weeks)
    rows: list[dict[str, Any]] = []
    applied: set[int] = set()
    # a call's next deadline is never before its first (the indexed ``call.deadline``), so an
    # application whose call's first deadline is past the horizon cannot be listed: SQL leaves it out
    # and its deadlines are never parsed (nor is it missed in ``applied``: the same call, tracked, is
    # past the horizon too)
    params: dict[str, Any] = {"final": FINAL, "horizon": db.moment(horizon)}
    where = ["a.status NOT IN :final", "(c.deadline IS NULL OR c.deadline <= :horizon)",
             *visible_sql(scope, "i", params)]
    query = ("SELECT a.id, a.status, a.deadline_flagged, i.title, c.id, c.programme, c.status, c.deadlines, "
             "c.deadline FROM application a JOIN call c ON c.id = a.call_id JOIN idea i ON i.id = a.idea_id "
             f"WHERE {' AND '.join(where)}")
    for app_id, app_status, flagged, idea_title, call_id, programme, call_status, *deadlines \
            in db.rows(query, params):
        applied.add(call_id)
        call = _Deadlines(call_status, *deadlines)
        due = next_deadline(call, now)
        gone = call_status in GONE  # listed, so the team sees the call went away
        # not submitted when the last deadline passed: listed until it is submitted or withdrawn
        overdue = due is None and not gone and is_overdue(app_status, last_deadline(call) is not None)
        if overdue:
            due = last_deadline(call)
            days_left = days_until(due, now)
        elif due is None or due > horizon:
            continue
        else:
            days_left = None if gone else days_until(due, now)
        rows.append({"kind": "application", "id": app_id, "title": idea_title, "call_id": call_id,
                     "programme": programme, "deadline": due, "days_left": days_left,
                     "status": f"call {call_status}" if gone else app_status, "flagged": flag(flagged),
                     "overdue": overdue})
    ids = [cid for cid in tracked_call_ids(db, strategy) if cid not in applied]
    for chunk in chunks(ids):
        for call_id, title, programme, *columns in db.rows(
                "SELECT c.id, c.title, c.programme, c.status, c.deadlines, c.deadline, c.opening_date "
                "FROM call c WHERE c.id IN :ids", {"ids": chunk}):
            call = _Deadlines(*columns)
            status = effective_status(call, now)
            if status not in ACTIVE:
                continue
            due = next_deadline(call, now)
            if due is None or due > horizon:
                continue
            rows.append({"kind": "call", "id": call_id, "title": title, "call_id": call_id,
                         "programme": programme, "deadline": due, "days_left": days_until(due, now),
                         "status": status, "flagged": False, "overdue": False})
    rows.sort(key=lambda r: (r["deadline"], r["kind"], r["id"]))
    return rows
