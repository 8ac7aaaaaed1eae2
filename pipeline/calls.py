"""Reading calls: listing with filters and finding one by id, topic identifier or reference (library)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from pipeline.clock import as_utc
from pipeline.errors import NotFoundError, ValidationError
from pipeline.models import Call, CallChange, Score, Verdict

ACTIVE = ("announced", "forthcoming", "open")
STATUS_CHOICES = ("active", "announced", "forthcoming", "open", "closed", "removed", "withdrawn", "all")


def last_deadline(call: Call) -> datetime | None:
    values = [as_utc(datetime.fromisoformat(d["at"])) for d in call.deadlines or []]
    return max(values) if values else as_utc(call.deadline)


def next_deadline(call: Call, now: datetime) -> datetime | None:
    """The first deadline still ahead of ``now`` (the next stage of a two-stage call)."""
    values = sorted(as_utc(datetime.fromisoformat(d["at"])) for d in call.deadlines or [])
    return next((v for v in values if v >= now), None)


def effective_status(call: Call, now: datetime) -> str:
    """The stored status, corrected by the clock: an active call past its last deadline is closed,
    a forthcoming one past its opening date is open."""
    if call.status in ACTIVE:
        last = last_deadline(call)
        if last is not None and last < now:
            return "closed"
        if call.status == "forthcoming" and call.opening_date and as_utc(call.opening_date) <= now:
            return "open"
    return call.status


@dataclass(frozen=True)
class CallFilter:
    source: str | None = None
    status: str = "active"
    focus_area: str | None = None
    strategy: str | None = None
    deadline_within_days: int | None = None
    programme: str | None = None
    min_score: float | None = None
    limit: int | None = None


def list_calls(session: Session, flt: CallFilter, now: datetime) -> list[dict[str, Any]]:
    """Calls as dicts (with ``score``/``priority`` when a strategy has scored them), sorted by score
    when a focus area is given, else by next deadline."""
    if flt.status not in STATUS_CHOICES:
        raise ValidationError(f"unknown status {flt.status!r}; use one of {', '.join(STATUS_CHOICES)}")
    query = select(Call)
    if flt.source:
        query = query.where(Call.source == flt.source)
    if flt.programme:
        query = query.where(Call.programme.ilike(f"%{flt.programme}%"))
    if flt.status in ACTIVE or flt.status == "active":
        query = query.where(Call.status.in_(ACTIVE))
    elif flt.status != "all":
        query = query.where(Call.status.in_((flt.status, *ACTIVE)) if flt.status == "closed"
                            else Call.status == flt.status)
    scores: dict[int, tuple[float, list[Any]]] = {}
    verdicts: dict[int, Verdict] = {}
    if flt.strategy:
        score_query = select(Score.call_id, sa.func.max(Score.score), Score.focus_area, Score.explanation) \
            .where(Score.strategy == flt.strategy).group_by(Score.call_id)
        if flt.focus_area:
            score_query = select(Score.call_id, Score.score, Score.focus_area, Score.explanation).where(
                Score.strategy == flt.strategy, Score.focus_area == flt.focus_area)
        for call_id, score, area, explanation in session.exec(score_query):
            scores[call_id] = (score, [area, explanation])
        for verdict in session.exec(select(Verdict).where(Verdict.strategy == flt.strategy)):
            verdicts[verdict.call_id] = verdict
    rows = []
    horizon = now + timedelta(days=flt.deadline_within_days) if flt.deadline_within_days is not None else None
    for call in session.exec(query):
        status = effective_status(call, now)
        if flt.status == "active" and status not in ACTIVE:
            continue
        if flt.status in ACTIVE and status != flt.status:
            continue
        if flt.status == "closed" and status != "closed":
            continue
        upcoming = next_deadline(call, now)
        if horizon is not None and (upcoming is None or upcoming > horizon):
            continue
        score, (area, explanation) = scores.get(call.id, (None, [None, []]))  # type: ignore[arg-type]
        if flt.focus_area and score is None:
            continue
        if flt.min_score is not None and (score is None or score < flt.min_score):
            continue
        verdict = verdicts.get(call.id)  # type: ignore[arg-type]
        row = call_dict(call, now)
        row.update(score=score, focus_area=area, explanation=explanation,
                   passed=verdict.passed if verdict else None,
                   priority=verdict.priority if verdict else None)
        rows.append(row)
    if flt.focus_area or (flt.strategy and scores and flt.deadline_within_days is None):
        rows.sort(key=lambda r: (-(r["score"] or 0), r["next_deadline"] or datetime.max.isoformat()))
    else:
        rows.sort(key=lambda r: (r["next_deadline"] is None, r["next_deadline"] or "", r["id"]))
    return rows[: flt.limit] if flt.limit else rows


def call_dict(call: Call, now: datetime) -> dict[str, Any]:
    upcoming = next_deadline(call, now)
    return {
        "id": call.id, "source": call.source, "external_id": call.external_id,
        "topic_id": call.topic_id, "call_id": call.call_id, "programme": call.programme,
        "title": call.title, "url": call.url, "status": effective_status(call, now),
        "source_status": call.status,
        "opening_date": call.opening_date.isoformat() if call.opening_date else None,
        "deadlines": call.deadlines, "next_deadline": upcoming.isoformat() if upcoming else None,
        "days_left": (upcoming - now).days if upcoming else None,
        "deadline_time_assumed": call.deadline_time_assumed, "budget": call.budget,
        "expected_grants": call.expected_grants, "min_contribution": call.min_contribution,
        "max_contribution": call.max_contribution, "type_of_action": call.type_of_action,
        "funding_rate": call.funding_rate,
        "first_seen": call.first_seen.isoformat(), "last_seen": call.last_seen.isoformat(),
        "closed_at": call.closed_at.isoformat() if call.closed_at else None,
        "removed_at": call.removed_at.isoformat() if call.removed_at else None,
    }


def find_call(session: Session, key: str) -> Call:
    """A call by numeric id, topic identifier or source reference."""
    key = key.strip()
    if key.isdigit():
        call = session.get(Call, int(key))
        if call is not None:
            return call
    matches = session.exec(select(Call).where(sa.or_(Call.topic_id == key, Call.external_id == key))).all()
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        ids = ", ".join(str(m.id) for m in matches)
        raise NotFoundError(f"{key!r} matches several calls (ids {ids}); give the numeric id")
    raise NotFoundError(f"no call with id {key!r}; see `fundradar calls list`")


def call_changes(session: Session, call_id: int) -> list[CallChange]:
    return list(session.exec(select(CallChange).where(CallChange.call_id == call_id)
                             .order_by(CallChange.changed_at, CallChange.id)))
