"""Reading calls: listing with filters and finding one by id, topic identifier or reference (library)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from pipeline.core.deadlines import ACTIVE, days_until, effective_status, next_deadline
from pipeline.core.errors import NotFoundError, ValidationError
from pipeline.core.ranking import score_order
from pipeline.core.sql import Database, chunks, database, flag, json_value, utc

if TYPE_CHECKING:
    from sqlmodel import Session

    from pipeline.core.models import Call

STATUS_CHOICES = ("active", "announced", "forthcoming", "open", "closed", "removed", "withdrawn", "all")
# score: best score first (calls without a score after the scored ones), equal scores by their
# evidence before the cap at 1, then by next deadline (pipeline.core.ranking);
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


class CallRow:
    """A call as :func:`call_dict` and :mod:`pipeline.core.deadlines` read it, without its text and
    extra fields: every column of :data:`CALL_COLUMNS`, valued as the ORM's :class:`Call` has them."""

    __slots__ = CALL_COLUMNS = (
        "id", "source", "external_id", "programme", "call_id", "topic_id", "title", "url", "status",
        "opening_date", "deadline", "deadlines", "deadline_time_assumed", "budget", "expected_grants",
        "min_contribution", "max_contribution", "type_of_action", "funding_rate", "first_seen",
        "last_seen", "closed_at", "removed_at", "missing_since")
    _TIMES = frozenset({"opening_date", "deadline", "first_seen", "last_seen", "closed_at", "removed_at",
                        "missing_since"})

    def __init__(self, values: Sequence[Any]) -> None:
        for name, value in zip(self.CALL_COLUMNS, values, strict=True):
            if name in self._TIMES:
                value = utc(value)
            elif name == "deadlines":
                value = json_value(value)
            elif name == "deadline_time_assumed":
                value = flag(value)
            setattr(self, name, value)


def read_calls(source: Database | Session, ids: Sequence[int]) -> dict[int, CallRow]:
    """The calls with these ids (those that exist), by id."""
    db = database(source)
    found: dict[int, CallRow] = {}
    columns = ", ".join(f"c.{name}" for name in CallRow.CALL_COLUMNS)
    for chunk in chunks(list(ids)):
        for values in db.rows(f"SELECT {columns} FROM call c WHERE c.id IN :ids", {"ids": chunk}):
            found[values[0]] = CallRow(values)
    return found


class _Light:
    """The columns the status and deadline filters need (:mod:`pipeline.core.deadlines`): listing reads
    these for the candidates and the whole row only for the calls it shows."""

    __slots__ = ("status", "deadlines", "deadline", "opening_date")
    SQL = "c.status, c.deadlines, c.deadline, c.opening_date"

    def __init__(self, status: str, deadlines: Any, deadline: Any, opening_date: Any) -> None:
        self.status, self.deadlines = status, json_value(deadlines)
        self.deadline, self.opening_date = utc(deadline), utc(opening_date)


@dataclass
class _Pick:
    call_id: int
    next_deadline: str | None  # ISO UTC
    score: float | None = None
    focus_area: str | None = None
    opening: str | None = None  # ISO
    evidence: float | None = None  # the score before its caps (pipeline.core.ranking)


def _sql_filters(db: Database, flt: CallFilter, params: dict[str, Any]) -> list[str]:
    """What SQL can decide alone (on ``call c``): source, programme, the stored status, the verdict and
    following. Adds the parameters it uses to ``params``."""
    where: list[str] = []
    params.update(strategy=flt.strategy, active=ACTIVE)
    if not flt.source:  # another source's copy of a listed call (pipeline.core.duplicates) is not listed
        where.append("c.duplicate_of IS NULL")
    if flt.passing:
        where.append("c.id IN (SELECT v.call_id FROM verdict v WHERE v.strategy = :strategy "
                     "AND v.passed = :passed)")
        params["passed"] = True
    if flt.followed:
        # a call followed through another source's copy of it (pipeline.core.duplicates) is followed
        where.append("c.id IN (SELECT f.call_id FROM call_follow f WHERE f.strategy = :strategy "
                     "AND f.kind = 'follow' UNION SELECT d.duplicate_of FROM call d JOIN call_follow f "
                     "ON f.call_id = d.id WHERE f.strategy = :strategy AND f.kind = 'follow')")
    if flt.source:
        where.append("c.source = :source")
        params["source"] = flt.source
    if flt.programme:
        where.append(db.ilike("c.programme", "programme"))
        params["programme"] = f"%{flt.programme}%"
    if flt.status in ACTIVE or flt.status == "active":
        where.append("c.status IN :active")
    elif flt.status == "closed":
        where.append("c.status IN :closed")
        params["closed"] = ("closed", *ACTIVE)
    elif flt.status != "all":
        where.append("c.status = :status")
        params["status"] = flt.status
    return where


def _within(db: Database, horizon: datetime | None, params: dict[str, Any]) -> list[str]:
    """With a horizon, the calls whose first deadline is after it cannot have their next one before it
    (index on ``call.deadline``); calls without a first deadline are left to :func:`_upcoming`."""
    if horizon is None:
        return []
    params["horizon"] = db.moment(horizon)
    return ["(c.deadline IS NULL OR c.deadline <= :horizon)"]


def _upcoming(row: Any, flt: CallFilter, now: datetime, horizon: datetime | None) -> tuple[bool, str | None]:
    """Whether a call (any object with the _Light attributes) passes the clock-dependent filters, and
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


def _score_where(flt: CallFilter, params: dict[str, Any]) -> list[str]:
    """The strategy's (or the focus area's) rows of ``score s``."""
    params["strategy"] = flt.strategy
    where = ["s.strategy = :strategy"]
    if flt.focus_area:
        where.append("s.focus_area = :focus_area")
        params["focus_area"] = flt.focus_area
    return where


def _score_key(pick: _Pick) -> tuple[Any, ...]:
    return score_order(pick.score, pick.evidence, pick.next_deadline, pick.call_id)


def _deadline_key(pick: _Pick) -> tuple[Any, ...]:
    return pick.next_deadline is None, pick.next_deadline or "", pick.call_id


def _opening_key(pick: _Pick) -> tuple[Any, ...]:
    return pick.opening is None, pick.opening or "", *_deadline_key(pick)


def list_calls(source: Database | Session, flt: CallFilter, now: datetime) -> list[dict[str, Any]]:
    """Calls as dicts (with ``score``/``priority`` when a strategy has scored them, and ``rules``:
    passed, failed, unknown or None when not yet judged), in the order ``flt.sort`` names
    (:data:`SORT_CHOICES`; the other filters never change it). ``source`` is a read connection
    (:mod:`pipeline.core.sql`) or a SQLAlchemy session, whose pending rows are seen.

    Filtering, ordering and the limit happen in SQL as far as SQL can decide them: ranked by score with
    a limit, the calls are read best score first (indexes ``ix_verdict_rank``, ``ix_score_area_rank``)
    until the limit is certain; ranked by a date, only the few columns the clock-dependent filters
    need are read for the candidates. Whole rows are read only for the calls returned.

    Scores below the floor (``classifiers.scoring.SCORE_FLOOR``, 0.05) are not stored: a call without a
    Score row for the strategy has ``score`` None and ranks after the scored calls, by deadline; under
    ``focus_area`` a call below the floor for that area is not listed (as with a minimum score)."""
    if flt.status not in STATUS_CHOICES:
        raise ValidationError(f"unknown status {flt.status!r}; use one of {', '.join(STATUS_CHOICES)}")
    if flt.sort not in SORT_CHOICES:
        raise ValidationError(f"unknown sort {flt.sort!r}; use one of {', '.join(SORT_CHOICES)}")
    db = database(source)
    horizon = now + timedelta(days=flt.deadline_within_days) if flt.deadline_within_days is not None else None
    # Without any score, score order is deadline order (every call ranks as unscored).
    by_score = flt.sort == "score" and (
        bool(flt.focus_area) or (flt.strategy is not None and _any_score(db, flt)))
    picks = None
    if by_score and flt.limit:
        picks = _top_by_score(db, flt, now, horizon)
    if picks is None:
        picks = _all_picks(db, flt, now, horizon, by_score)
    return _rows(db, flt, picks, now)


def _any_score(db: Database, flt: CallFilter) -> bool:
    params: dict[str, Any] = {}
    where = " AND ".join(_score_where(flt, params))
    return db.first(f"SELECT s.id FROM score s WHERE {where} LIMIT 1", params) is not None


def _top_by_score(db: Database, flt: CallFilter, now: datetime,
                  horizon: datetime | None) -> list[_Pick] | None:
    """The best ``flt.limit`` calls, reading score rows best first and stopping once no unread call can
    enter the top; None when calls without a score might (then everything is read)."""
    assert flt.limit
    params: dict[str, Any] = {}
    filters = [*_sql_filters(db, flt, params), *_within(db, horizon, params)]
    if flt.focus_area:
        where = " AND ".join([*_score_where(flt, params), *filters])
        query = (f"SELECT s.call_id, s.score, s.focus_area, s.evidence, {_Light.SQL} FROM score s "
                 f"JOIN call c ON c.id = s.call_id WHERE {where} "
                 "ORDER BY s.score DESC, s.call_id DESC LIMIT :batch OFFSET :offset")
    else:
        # a call's best score over the areas is its verdict's best_score (index ix_verdict_rank): one
        # row per call instead of one per area, so the score table needs no cross-area index (its
        # entries were most of the pages a scoring run wrote). Below the floor a call has no Score row
        # and ranks as unscored, as in _all_picks; its best area is looked up for the calls returned.
        from classifiers.freshness import SCORE_FLOOR

        params["floor"] = SCORE_FLOOR
        where = " AND ".join(["v.strategy = :strategy", "v.best_score >= :floor", *filters])
        query = (f"SELECT v.call_id, v.best_score, NULL, NULL, {_Light.SQL} FROM verdict v "
                 f"JOIN call c ON c.id = v.call_id WHERE {where} "
                 "ORDER BY v.best_score DESC, v.call_id DESC LIMIT :batch OFFSET :offset")
    seen: set[int] = set()
    kept: list[_Pick] = []
    offset, batch = 0, max(4 * flt.limit, 200)
    while True:
        rows = db.rows(query, {**params, "batch": batch, "offset": offset})
        for call_id, score, area, evidence, *light in rows:
            if kept and len(kept) >= flt.limit and score < kept[flt.limit - 1].score:
                return _ranked(db, flt, kept)
            if flt.min_score is not None and score < flt.min_score:
                return _ranked(db, flt, kept)
            if call_id in seen:
                continue
            seen.add(call_id)
            ok, upcoming = _upcoming(_Light(*light), flt, now, horizon)
            if ok:
                kept.append(_Pick(call_id, upcoming, score, area, evidence=evidence))
        if len(rows) < batch:  # every scored call read
            break
        offset, batch = offset + batch, batch * 4
    if flt.focus_area or flt.min_score is not None or (
            len(kept) >= flt.limit and (kept[flt.limit - 1].score or 0) > 0):
        return _ranked(db, flt, kept)
    return None  # calls without scores rank with the zero scores: read everything


def _ranked(db: Database, flt: CallFilter, kept: list[_Pick]) -> list[_Pick]:
    """The first ``flt.limit`` of ``kept`` in score order; read from the verdicts (no area), a call's
    best area and its evidence are looked up first, as equal best scores rank by that evidence."""
    missing = [p.call_id for p in kept if p.focus_area is None]
    if flt.strategy and missing:
        best = _best_scores(db, flt, missing)
        for pick in kept:
            if pick.focus_area is None and pick.call_id in best:
                _, pick.focus_area, pick.evidence = best[pick.call_id]
    return sorted(kept, key=_score_key)[: flt.limit]


def _all_picks(db: Database, flt: CallFilter, now: datetime, horizon: datetime | None,
               by_score: bool) -> list[_Pick]:
    params: dict[str, Any] = {}
    where = [*_sql_filters(db, flt, params), *_within(db, horizon, params)]
    picks = []
    for call_id, *light in db.rows(f"SELECT c.id, {_Light.SQL} FROM call c"
                                   + (f" WHERE {' AND '.join(where)}" if where else ""), params):
        row = _Light(*light)
        ok, upcoming = _upcoming(row, flt, now, horizon)
        if ok:
            opening = row.opening_date.isoformat() if row.opening_date else None
            picks.append(_Pick(call_id, upcoming, opening=opening))
    if by_score or flt.focus_area or flt.min_score is not None:
        best = _best_scores(db, flt) if flt.strategy else {}
        for pick in picks:
            pick.score, pick.focus_area, pick.evidence = best.get(pick.call_id, (None, None, None))
        if flt.focus_area:
            picks = [p for p in picks if p.score is not None]
        if flt.min_score is not None:
            picks = [p for p in picks if p.score is not None and p.score >= flt.min_score]
    if by_score:
        picks.sort(key=_score_key)
    else:
        picks.sort(key=_opening_key if flt.sort == "opening" else _deadline_key)
    return picks[: flt.limit] if flt.limit else picks


def _best_scores(db: Database, flt: CallFilter,
                 ids: list[int] | None = None) -> dict[int, tuple[float, str, float | None]]:
    """Each call's best score for the strategy (or the focus area), the area it is for and its evidence
    (of equal scores, the area with the most)."""
    best: dict[int, tuple[float, str, float | None]] = {}
    params: dict[str, Any] = {}
    where = _score_where(flt, params)
    if ids is not None:
        where.append("s.call_id IN :ids")
    query = (f"SELECT s.call_id, s.score, s.focus_area, s.evidence FROM score s WHERE {' AND '.join(where)} "
             "ORDER BY s.call_id, s.score DESC, COALESCE(s.evidence, s.score) DESC, s.focus_area")
    for chunk in chunks(ids) if ids is not None else [None]:
        for call_id, score, area, evidence in db.rows(query, params if chunk is None
                                                      else {**params, "ids": chunk}):
            best.setdefault(call_id, (score, area, evidence))
    return best


def _rows(db: Database, flt: CallFilter, picks: list[_Pick], now: datetime) -> list[dict[str, Any]]:
    """The listed calls as dicts, in the order of ``picks``, with their score and verdict."""
    ids = [p.call_id for p in picks]
    calls = read_calls(db, ids)
    explanations: dict[tuple[int, str], list[Any]] = {}
    verdicts: dict[int, tuple[bool, float | None, str]] = {}
    if flt.strategy:
        params: dict[str, Any] = {}
        score_where = " AND ".join(_score_where(flt, params))
        for chunk in chunks(ids):
            for call_id, area, explanation in db.rows(
                    f"SELECT s.call_id, s.focus_area, s.explanation FROM score s WHERE {score_where} "
                    "AND s.call_id IN :ids", {**params, "ids": chunk}):
                explanations[(call_id, area)] = json_value(explanation)
            for call_id, passed, priority, outcomes in db.rows(
                    "SELECT v.call_id, v.passed, v.priority, v.outcomes FROM verdict v "
                    "WHERE v.strategy = :strategy AND v.call_id IN :ids",
                    {"strategy": flt.strategy, "ids": chunk}):
                passed = bool(passed)
                verdicts[call_id] = (passed, priority, rules_status(passed, json_value(outcomes)))
    if flt.strategy and any(p.focus_area is None for p in picks):
        best = _best_scores(db, flt, [p.call_id for p in picks if p.focus_area is None])
        for pick in picks:
            if pick.focus_area is None and pick.call_id in best:
                pick.score, pick.focus_area, pick.evidence = best[pick.call_id]
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


def call_dict(call: Call | CallRow, now: datetime) -> dict[str, Any]:
    upcoming = next_deadline(call, now)
    return {
        "id": call.id, "source": call.source, "external_id": call.external_id,
        "topic_id": call.topic_id, "call_id": call.call_id, "programme": call.programme,
        "title": call.title, "url": call.url, "status": effective_status(call, now),
        "source_status": call.status,
        "opening_date": call.opening_date.isoformat() if call.opening_date else None,
        "deadlines": call.deadlines, "next_deadline": upcoming.isoformat() if upcoming else None,
        "days_left": days_until(upcoming, now) if upcoming else None,
        "deadline_time_assumed": call.deadline_time_assumed, "budget": call.budget,
        "expected_grants": call.expected_grants, "min_contribution": call.min_contribution,
        "max_contribution": call.max_contribution, "type_of_action": call.type_of_action,
        "funding_rate": call.funding_rate,
        "first_seen": call.first_seen.isoformat(), "last_seen": call.last_seen.isoformat(),
        "closed_at": call.closed_at.isoformat() if call.closed_at else None,
        "removed_at": call.removed_at.isoformat() if call.removed_at else None,
        # missing from a complete answer of its source: removed if the next complete one lacks it too
        "missing_since": call.missing_since.isoformat() if call.missing_since else None,
    }


def find_call_id(source: Database | Session, key: str) -> int:
    """The id of a call given by numeric id (``411`` or ``#411``, as tables and messages show it), topic
    identifier or source reference, in any case when none is written exactly so."""
    db = database(source)
    key = key.strip()
    number = key.removeprefix("#")
    if number.isdecimal() and len(number) <= 18:  # beyond a 64-bit id no call can have it
        if db.first("SELECT c.id FROM call c WHERE c.id = :id", {"id": int(number)}) is not None:
            return int(number)
    matches = [row[0] for row in db.rows("SELECT c.id FROM call c WHERE c.topic_id = :key "
                                         "OR c.external_id = :key ORDER BY c.id", {"key": key})]
    if not matches:  # the portal's own links write topic ids in lower case
        matches = [row[0] for row in db.rows("SELECT c.id FROM call c WHERE upper(c.topic_id) = :key "
                                             "OR upper(c.external_id) = :key ORDER BY c.id",
                                             {"key": key.upper()})]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise NotFoundError(f"{key!r} matches several calls (ids {', '.join(map(str, matches))}); "
                            "give the numeric id")
    raise NotFoundError(f"no call with id {key!r}; see `fundradar calls list`")


def find_call(session: Session, key: str) -> Call:
    """The call :func:`find_call_id` finds, as the session's row (to show its text or change it)."""
    from pipeline.core.models import Call

    found = session.get(Call, find_call_id(session, key))
    assert found is not None
    return found


class ChangeRow(NamedTuple):
    """A stored change of a call (the columns of :class:`CallChange` that are shown)."""

    field: str
    old: str | None
    new: str | None
    changed_at: datetime


def call_changes(source: Database | Session, call_id: int) -> list[ChangeRow]:
    """The call's stored changes, oldest first."""
    rows = database(source).rows(
        "SELECT h.field, h.old, h.new, h.changed_at FROM call_change h WHERE h.call_id = :call_id "
        "ORDER BY h.changed_at, h.id", {"call_id": call_id})
    return [ChangeRow(field, old, new, utc(changed_at)) for field, old, new, changed_at in rows]


def call_copies(source: Database | Session, call_id: int) -> list[dict[str, Any]]:
    """The other sources' copies of the call (pipeline.core.duplicates), by id: each one's id, source
    and whether it is the copy listed (``listed``)."""
    db = database(source)
    kept = db.first("SELECT COALESCE(c.duplicate_of, c.id) FROM call c WHERE c.id = :id", {"id": call_id})
    if kept is None:
        return []
    rows = db.rows("SELECT c.id, c.source, c.duplicate_of FROM call c WHERE (c.id = :kept OR "
                   "c.duplicate_of = :kept) AND c.id <> :id ORDER BY c.id", {"kept": kept[0], "id": call_id})
    return [{"id": id_, "source": name, "listed": duplicate_of is None} for id_, name, duplicate_of in rows]


def call_text(source: Database | Session, call_id: int) -> str:
    """The call's cleaned description (which listings never read)."""
    found = database(source).first("SELECT c.text FROM call c WHERE c.id = :call_id", {"call_id": call_id})
    if found is None:
        raise NotFoundError(f"no call with id {call_id}")
    return found[0]
