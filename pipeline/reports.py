"""What is due when, and how the applications ended (library, read-only apart from following deadlines).

``upcoming_deadlines`` (:mod:`pipeline.due`) lists our open applications and the calls we track whose
next deadline falls within N weeks, soonest first. ``pipeline_report`` counts applications per status,
our own success rate (granted / decided, where decided = granted + rejected; withdrawn applications
were never decided), the ids of the overdue ones (not submitted by their call's last deadline) and
the amounts requested and granted per year (of the call's deadline, Brussels time) and programme.

Both take ``scope``: with a config folder the selected strategy, whose applications (through their
ideas, see :mod:`pipeline.ideas`) are the only ones counted, with the shared ones; None counts all.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from pipeline.applications import STATUSES
from pipeline.core.clock import BRUSSELS
from pipeline.core.deadlines import GONE, current_deadline
from pipeline.core.models import Application, Call, Idea
from pipeline.due import tracked_call_ids, upcoming_deadlines  # noqa: F401 (the report's listings)
from pipeline.tenancy import visible
from pipeline.workflow import is_overdue


def tracked_calls(session: Session, strategy: str) -> list[Call]:
    """The calls the strategy follows."""
    ids = tracked_call_ids(session, strategy)
    return [call for start in range(0, len(ids), 500)
            for call in session.exec(select(Call).where(col(Call.id).in_(ids[start:start + 500])))]


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
    overdue: list[int] = []
    for app, call in session.exec(query.order_by(Application.id)):
        counts[app.status] = counts.get(app.status, 0) + 1
        due = current_deadline(call, now)
        if is_overdue(app.status, due is not None and due < now and call.status not in GONE):
            overdue.append(app.id)
        deadline = due or app.created_at
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
            "overdue": overdue,
            "requested": sum(r["requested"] for r in by_year),
            "granted": sum(r["granted"] for r in by_year), "by_year_programme": by_year}
