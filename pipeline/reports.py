"""What is due when, and how the applications ended (library, read-only apart from following deadlines).

``upcoming_deadlines`` lists our open applications and the calls we track (the calls the strategy
follows, :mod:`pipeline.follow`, without an open application of ours) whose next deadline falls within
N weeks, soonest first. A *relevant* mark is a judgement for the ranking and tracks nothing.
``pipeline_report`` counts applications per status, our own success rate (granted / decided,
where decided = granted + rejected; withdrawn applications were never decided) and the amounts
requested and granted per year (of the call's deadline, Brussels time) and programme.

Both take ``scope``: with a config folder the selected strategy, whose applications (through their
ideas, see :mod:`pipeline.ideas`) are the only ones counted, with the shared ones; None counts all.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, or_, select

from pipeline.applications import FINAL, GONE_CALL_STATUSES, STATUSES
from pipeline.core.clock import BRUSSELS
from pipeline.core.deadlines import ACTIVE, current_deadline, effective_status, next_deadline
from pipeline.core.errors import ValidationError
from pipeline.core.models import Application, Call, Idea
from pipeline.follow import followed_calls
from pipeline.tenancy import visible


def tracked_call_ids(session: Session, strategy: str) -> list[int]:
    """Ids of the calls the strategy follows (``fundradar calls follow``), in id order."""
    return sorted(followed_calls(session, strategy))


def tracked_calls(session: Session, strategy: str) -> list[Call]:
    """The calls the strategy follows."""
    ids = tracked_call_ids(session, strategy)
    return [call for start in range(0, len(ids), 500)
            for call in session.exec(select(Call).where(col(Call.id).in_(ids[start:start + 500])))]


def upcoming_deadlines(session: Session, now: datetime, *, weeks: float, strategy: str,
                       scope: str | None = None) -> list[dict[str, Any]]:
    """Reads only the columns it shows and the deadlines (no call texts). A call tracked by
    ``strategy`` that only another strategy applied to is shown as a tracked call."""
    if weeks <= 0:
        raise ValidationError(f"--weeks must be more than zero, got {weeks:g}")
    horizon = now + timedelta(weeks=weeks)
    rows: list[dict[str, Any]] = []
    applied: set[int] = set()
    # a call's next deadline is never before its first (the indexed ``call.deadline``), so an
    # application whose call's first deadline is past the horizon cannot be listed: SQL leaves it out
    # and its deadlines are never parsed (nor is it missed in ``applied``: the same call, tracked, is
    # past the horizon too)
    query = visible(select(Application.id, Application.status, Application.deadline_flagged, Idea.title,
                           Call.id, Call.programme, Call.deadlines, Call.deadline, Call.status)
                    .join(Call, Call.id == Application.call_id)
                    .join(Idea, Idea.id == Application.idea_id)
                    .where(col(Application.status).not_in(FINAL),
                           or_(col(Call.deadline).is_(None), col(Call.deadline) <= horizon)),
                    scope)
    for app_id, app_status, flagged, idea_title, call_id, programme, deadlines, first, call_status \
            in session.exec(query):
        applied.add(call_id)
        due = next_deadline(_Deadlines(deadlines, first), now)
        if due is None or due > horizon:
            continue
        gone = call_status in GONE_CALL_STATUSES  # listed, so the team sees the call went away
        rows.append({"kind": "application", "id": app_id, "title": idea_title, "call_id": call_id,
                     "programme": programme, "deadline": due, "days_left": None if gone else (due - now).days,
                     "status": f"call {call_status}" if gone else app_status, "flagged": flagged})
    ids = [cid for cid in tracked_call_ids(session, strategy) if cid not in applied]
    for start in range(0, len(ids), 500):
        for call in session.exec(select(Call.id, Call.title, Call.programme, Call.status, Call.deadlines,
                                        Call.deadline, Call.opening_date)
                                 .where(col(Call.id).in_(ids[start:start + 500]))):
            status = effective_status(call, now)
            if status not in ACTIVE:
                continue
            due = next_deadline(call, now)
            if due is None or due > horizon:
                continue
            rows.append({"kind": "call", "id": call.id, "title": call.title, "call_id": call.id,
                         "programme": call.programme, "deadline": due, "days_left": (due - now).days,
                         "status": status, "flagged": False})
    rows.sort(key=lambda r: (r["deadline"], r["kind"], r["id"]))
    return rows


class _Deadlines:
    """Just the deadline columns, for :mod:`pipeline.core.deadlines`."""

    __slots__ = ("deadline", "deadlines")

    def __init__(self, deadlines: list[dict[str, Any]] | None, deadline: datetime | None) -> None:
        self.deadlines, self.deadline = deadlines, deadline


def _success_rate(granted: int, rejected: int) -> float | None:
    decided = granted + rejected
    return granted / decided if decided else None


def pipeline_report(session: Session, now: datetime, *, scope: str | None = None) -> dict[str, Any]:
    counts = dict.fromkeys(STATUSES, 0)
    groups: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"applications": 0, "requested": 0.0, "granted": 0.0, "granted_count": 0,
                 "rejected_count": 0})
    query = select(Application, Call).join(Call, Call.id == Application.call_id)
    if scope is not None:
        query = visible(query.join(Idea, Idea.id == Application.idea_id), scope)
    for app, call in session.exec(query):
        counts[app.status] = counts.get(app.status, 0) + 1
        deadline = current_deadline(call, now) or app.created_at
        key = (deadline.astimezone(BRUSSELS).strftime("%Y"), call.programme or "unknown")
        group = groups[key]
        group["applications"] += 1
        if app.status != "withdrawn":
            group["requested"] += app.requested_amount or 0.0
        if app.status == "granted":
            group["granted"] += app.granted_amount or 0.0
            group["granted_count"] += 1
        elif app.status == "rejected":
            group["rejected_count"] += 1
    by_year = [{"year": year, "programme": programme, "applications": g["applications"],
                "requested": g["requested"], "granted": g["granted"],
                "success_rate": _success_rate(g["granted_count"], g["rejected_count"])}
               for (year, programme), g in sorted(groups.items())]
    granted, rejected = counts["granted"], counts["rejected"]
    return {"as_of": now, "total": sum(counts.values()), "counts": counts,
            "decided": granted + rejected, "success_rate": _success_rate(granted, rejected),
            "requested": sum(r["requested"] for r in by_year),
            "granted": sum(r["granted"] for r in by_year), "by_year_programme": by_year}
