"""Reading calls: listing with filters and finding one by id, topic identifier or reference (library)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import defer
from sqlmodel import Session, col, or_, select

from pipeline.core.deadlines import ACTIVE, effective_status, next_deadline
from pipeline.core.errors import NotFoundError, ValidationError
from pipeline.core.models import Call, CallChange, CallFollow, Score, Verdict

STATUS_CHOICES = ("active", "announced", "forthcoming", "open", "closed", "removed", "withdrawn", "all")
# score: best score first (calls without a score after the scored ones), ties by next deadline;
# deadline: soonest next deadline first; opening: earliest opening date first. Calls without the date
# sorted on come last; the call id breaks every remaining tie.
SORT_CHOICES = ("score", "deadline", "opening")


@dataclass(frozen=True)
class CallFilter:
    """Which calls to list and in what order. ``passing``: only calls that pass the strategy's rules
    (no rule failed; an unknown outcome is not a failure). ``followed``: only calls the strategy
    follows (:mod:`pipeline.follow`)."""

    source: str | None = None
    status: str = "active"
    focus_area: str | None = None
    strategy: str | None = None
    deadline_within_days: int | None = None
    programme: str | None = None
    min_score: float | None = None
    limit: int | None = None
    sort: str = "score"
    passing: bool = False
    followed: bool = False


# The columns the status and deadline filters need: listing reads these for the candidates and the
# whole row only for the calls it shows.
_LIGHT = (Call.id, Call.status, Call.deadlines, Call.deadline, Call.opening_date)


@dataclass
class _Pick:
    call_id: int
    next_deadline: str | None  # ISO UTC
    score: float | None = None
    focus_area: str | None = None
    opening: str | None = None  # ISO


def _sql_filters(flt: CallFilter) -> list[Any]:
    """What SQL can decide alone: source, programme, the stored status, the verdict and following."""
    where: list[Any] = []
    if flt.passing:
        where.append(col(Call.id).in_(select(Verdict.call_id).where(
            Verdict.strategy == flt.strategy, Verdict.passed == True)))  # noqa: E712
    if flt.followed:
        where.append(col(Call.id).in_(select(CallFollow.call_id).where(
            CallFollow.strategy == flt.strategy, CallFollow.kind == "follow")))
    if flt.source:
        where.append(Call.source == flt.source)
    if flt.programme:
        where.append(Call.programme.ilike(f"%{flt.programme}%"))
    if flt.status in ACTIVE or flt.status == "active":
        where.append(Call.status.in_(ACTIVE))
    elif flt.status == "closed":
        where.append(Call.status.in_(("closed", *ACTIVE)))
    elif flt.status != "all":
        where.append(Call.status == flt.status)
    return where


def _within(horizon: datetime | None) -> list[Any]:
    """With a horizon, the calls whose first deadline is after it cannot have their next one before it
    (index on ``call.deadline``); calls without a first deadline are left to :func:`_upcoming`."""
    if horizon is None:
        return []
    return [or_(col(Call.deadline).is_(None), col(Call.deadline) <= horizon)]


def _upcoming(row: Any, flt: CallFilter, now: datetime, horizon: datetime | None) -> tuple[bool, str | None]:
    """Whether a call (any object with the _LIGHT attributes) passes the clock-dependent filters, and
    its next deadline as ISO text."""
    status = effective_status(row, now)
    if flt.status == "active" and status not in ACTIVE:
        return False, None
    if flt.status in ACTIVE and status != flt.status:
        return False, None
    if flt.status == "closed" and status != "closed":
        return False, None
    upcoming = next_deadline(row, now)
    if horizon is not None and (upcoming is None or upcoming > horizon):
        return False, None
    return True, upcoming.isoformat() if upcoming else None


def _score_where(flt: CallFilter) -> list[Any]:
    where = [Score.strategy == flt.strategy]
    if flt.focus_area:
        where.append(Score.focus_area == flt.focus_area)
    return where


def _score_key(pick: _Pick) -> tuple[Any, ...]:
    return -(pick.score or 0), pick.next_deadline or datetime.max.isoformat(), pick.call_id


def _deadline_key(pick: _Pick) -> tuple[Any, ...]:
    return pick.next_deadline is None, pick.next_deadline or "", pick.call_id


def _opening_key(pick: _Pick) -> tuple[Any, ...]:
    return pick.opening is None, pick.opening or "", *_deadline_key(pick)


def list_calls(session: Session, flt: CallFilter, now: datetime) -> list[dict[str, Any]]:
    """Calls as dicts (with ``score``/``priority`` when a strategy has scored them, and ``rules``:
    passed, failed, unknown or None when not yet judged), in the order ``flt.sort`` names
    (:data:`SORT_CHOICES`; the other filters never change it).

    Filtering, ordering and the limit happen in SQL as far as SQL can decide them: ranked by score with
    a limit, the calls are read best score first (indexes ``ix_score_rank``, ``ix_score_area_rank``)
    until the limit is certain; ranked by a date, only the few columns the clock-dependent filters
    need are read for the candidates. Whole rows are read only for the calls returned.

    Scores below the floor (``classifiers.scoring.SCORE_FLOOR``, 0.05) are not stored: a call without a
    Score row for the strategy has ``score`` None and ranks after the scored calls, by deadline; under
    ``focus_area`` a call below the floor for that area is not listed (as with a minimum score)."""
    if flt.status not in STATUS_CHOICES:
        raise ValidationError(f"unknown status {flt.status!r}; use one of {', '.join(STATUS_CHOICES)}")
    if flt.sort not in SORT_CHOICES:
        raise ValidationError(f"unknown sort {flt.sort!r}; use one of {', '.join(SORT_CHOICES)}")
    horizon = now + timedelta(days=flt.deadline_within_days) if flt.deadline_within_days is not None else None
    # Without any score, score order is deadline order (every call ranks as unscored).
    by_score = flt.sort == "score" and (bool(flt.focus_area) or (
        flt.strategy is not None
        and session.exec(select(Score.id).where(*_score_where(flt)).limit(1)).first() is not None))
    picks = None
    if by_score and flt.limit:
        picks = _top_by_score(session, flt, now, horizon)
    if picks is None:
        picks = _all_picks(session, flt, now, horizon, by_score)
    return _rows(session, flt, picks, now)


def _top_by_score(session: Session, flt: CallFilter, now: datetime,
                  horizon: datetime | None) -> list[_Pick] | None:
    """The best ``flt.limit`` calls, reading score rows best first and stopping once no unread call can
    enter the top; None when calls without a score might (then everything is read)."""
    assert flt.limit
    where = [*_score_where(flt), *_sql_filters(flt), *_within(horizon)]
    query = select(Score.call_id, Score.score, Score.focus_area, *_LIGHT[1:]) \
        .join(Call, Call.id == Score.call_id).where(*where) \
        .order_by(Score.score.desc(), Score.call_id.desc(), Score.focus_area.desc())
    seen: set[int] = set()
    kept: list[_Pick] = []
    offset, batch = 0, max(4 * flt.limit, 200)
    while True:
        rows = session.exec(query.offset(offset).limit(batch)).all()
        for row in rows:
            if kept and len(kept) >= flt.limit and row.score < kept[flt.limit - 1].score:
                return sorted(kept, key=_score_key)[: flt.limit]
            if flt.min_score is not None and row.score < flt.min_score:
                return sorted(kept, key=_score_key)[: flt.limit]
            if row.call_id in seen:
                continue
            seen.add(row.call_id)
            ok, upcoming = _upcoming(row, flt, now, horizon)
            if ok:
                kept.append(_Pick(row.call_id, upcoming, row.score, row.focus_area))
        if len(rows) < batch:  # every scored call read
            break
        offset, batch = offset + batch, batch * 4
    if flt.focus_area or flt.min_score is not None or (
            len(kept) >= flt.limit and (kept[flt.limit - 1].score or 0) > 0):
        return sorted(kept, key=_score_key)[: flt.limit]
    return None  # calls without scores rank with the zero scores: read everything


def _all_picks(session: Session, flt: CallFilter, now: datetime, horizon: datetime | None,
               by_score: bool) -> list[_Pick]:
    picks = []
    for row in session.exec(select(*_LIGHT).where(*_sql_filters(flt), *_within(horizon))):
        ok, upcoming = _upcoming(row, flt, now, horizon)
        if ok:
            opening = row.opening_date.isoformat() if row.opening_date else None
            picks.append(_Pick(row.id, upcoming, opening=opening))
    if by_score or flt.focus_area or flt.min_score is not None:
        best = _best_scores(session, flt) if flt.strategy else {}
        for pick in picks:
            pick.score, pick.focus_area = best.get(pick.call_id, (None, None))
        if flt.focus_area:
            picks = [p for p in picks if p.score is not None]
        if flt.min_score is not None:
            picks = [p for p in picks if p.score is not None and p.score >= flt.min_score]
    if by_score:
        picks.sort(key=_score_key)
    else:
        picks.sort(key=_opening_key if flt.sort == "opening" else _deadline_key)
    return picks[: flt.limit] if flt.limit else picks


def _best_scores(session: Session, flt: CallFilter, ids: list[int] | None = None
                 ) -> dict[int, tuple[float, str]]:
    """Each call's best score for the strategy (or the focus area) and the area it is for."""
    best: dict[int, tuple[float, str]] = {}
    query = select(Score.call_id, Score.score, Score.focus_area).where(*_score_where(flt))
    chunks = [ids[i:i + 500] for i in range(0, len(ids), 500)] if ids is not None else [None]
    for chunk in chunks:
        scoped = query if chunk is None else query.where(Score.call_id.in_(chunk))
        for call_id, score, area in session.exec(scoped.order_by(Score.call_id, Score.score.desc(),
                                                                 Score.focus_area)):
            best.setdefault(call_id, (score, area))
    return best


def _rows(session: Session, flt: CallFilter, picks: list[_Pick], now: datetime) -> list[dict[str, Any]]:
    """The listed calls as dicts, in the order of ``picks``, with their score and verdict."""
    ids = [p.call_id for p in picks]
    calls: dict[int, Call] = {}
    explanations: dict[tuple[int, str], list[Any]] = {}
    verdicts: dict[int, tuple[bool, float | None, str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for call in session.exec(select(Call).where(Call.id.in_(chunk))
                                 .options(defer(Call.text), defer(Call.extra))):
            calls[call.id] = call
        if flt.strategy:
            for call_id, area, explanation in session.exec(
                    select(Score.call_id, Score.focus_area, Score.explanation)
                    .where(*_score_where(flt), Score.call_id.in_(chunk))):
                explanations[(call_id, area)] = explanation
            for call_id, passed, priority, outcomes in session.exec(
                    select(Verdict.call_id, Verdict.passed, Verdict.priority, Verdict.outcomes)
                    .where(Verdict.strategy == flt.strategy, Verdict.call_id.in_(chunk))):
                verdicts[call_id] = (passed, priority, rules_status(passed, outcomes))
    if flt.strategy and any(p.score is None for p in picks):
        best = _best_scores(session, flt, [p.call_id for p in picks if p.score is None])
        for pick in picks:
            if pick.score is None and pick.call_id in best:
                pick.score, pick.focus_area = best[pick.call_id]
    rows = []
    for pick in picks:
        row = call_dict(calls[pick.call_id], now)
        passed, priority, rules = verdicts.get(pick.call_id, (None, None, None))
        explanation = explanations.get((pick.call_id, pick.focus_area), []) if pick.focus_area else []
        row.update(score=pick.score, focus_area=pick.focus_area, explanation=explanation, passed=passed,
                   rules=rules, priority=priority)
        rows.append(row)
    return rows


def rules_status(passed: bool, outcomes: list[dict[str, Any]] | None) -> str:
    """A verdict in one word: failed when a rule failed, unknown when none failed but one could not be
    checked (its value is missing), else passed."""
    if not passed:
        return "failed"
    return "unknown" if any(o.get("passed") is None for o in outcomes or []) else "passed"


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
    """A call by numeric id (``411`` or ``#411``, as tables and messages show it), topic identifier or
    source reference."""
    key = key.strip()
    number = key.removeprefix("#")
    if number.isdigit() and len(number) <= 18:  # beyond a 64-bit id no call can have it
        call = session.get(Call, int(number))
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
