"""``list_calls`` reads only what it shows (best scores first, a limit decided in SQL), and lists exactly
what reading every call into Python and filtering there lists: compared on a real SQLite file and on
the real PostgreSQL server, over many filter combinations, with ties, unscored calls, two-stage calls
and calls whose stored status the clock has overtaken."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from pipeline.calls import CallFilter, call_dict, list_calls
from pipeline.core.db import open_database
from pipeline.core.deadlines import ACTIVE, effective_status, next_deadline
from pipeline.core.models import Call, CallFollow, Score, Verdict

NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)
AREAS = ("wind", "ports", "food")


def reference(session: Session, flt: CallFilter, now: datetime) -> list[tuple[int, float | None]]:
    """The listing computed the slow way: every call, score, verdict and follow in Python."""
    best: dict[int, tuple[float, str]] = {}
    for score in session.exec(select(Score).where(Score.strategy == flt.strategy)):
        if flt.focus_area and score.focus_area != flt.focus_area:
            continue
        if score.call_id not in best or score.score > best[score.call_id][0]:
            best[score.call_id] = (score.score, score.focus_area)
    horizon = now + timedelta(days=flt.deadline_within_days) if flt.deadline_within_days is not None else None
    rows = []
    for call in session.exec(select(Call)):
        status = effective_status(call, now)
        if flt.source and call.source != flt.source:
            continue
        if flt.programme and flt.programme.lower() not in (call.programme or "").lower():
            continue
        if flt.status not in ("active", "all", *ACTIVE, "closed") and call.status != flt.status:
            continue
        if flt.status == "active" and status not in ACTIVE:
            continue
        if flt.status in ACTIVE and status != flt.status:
            continue
        if flt.status == "closed" and status != "closed":
            continue
        upcoming = next_deadline(call, now)
        if horizon is not None and (upcoming is None or upcoming > horizon):
            continue
        score = best.get(call.id, (None, None))[0]
        if flt.focus_area and score is None:
            continue
        if flt.min_score is not None and (score is None or score < flt.min_score):
            continue
        verdict = session.exec(select(Verdict).where(Verdict.call_id == call.id,
                                                     Verdict.strategy == flt.strategy)).first()
        if flt.passing and not (verdict and verdict.passed):
            continue
        followed = session.exec(select(CallFollow).where(CallFollow.call_id == call.id,
                                                         CallFollow.strategy == flt.strategy)).first()
        if flt.followed and followed is None:
            continue
        rows.append(dict(call_dict(call, now), score=score))

    def by_deadline(r: dict[str, Any]) -> tuple[Any, ...]:
        return r["next_deadline"] is None, r["next_deadline"] or "", r["id"]

    if flt.sort == "score" and (flt.focus_area or (flt.strategy and best)):
        rows.sort(key=lambda r: (-(r["score"] or 0), r["next_deadline"] or datetime.max.isoformat(), r["id"]))
    elif flt.sort == "opening":
        rows.sort(key=lambda r: (r["opening_date"] is None, r["opening_date"] or "", *by_deadline(r)))
    else:
        rows.sort(key=by_deadline)
    rows = rows[: flt.limit] if flt.limit else rows
    return [(r["id"], r["score"]) for r in rows]


def fill(engine: Any, count: int = 400) -> None:
    rng = random.Random(7)
    with Session(engine) as session:
        for number in range(count):
            status = rng.choice(["open", "open", "forthcoming", "closed", "announced"])
            first = NOW + timedelta(days=rng.randint(-90, 200), hours=rng.randint(0, 23))
            stages = [first] + ([first + timedelta(days=rng.randint(20, 120))] if rng.random() < 0.3 else [])
            session.add(Call(source=rng.choice(["eu_ft", "euro_access"]), external_id=f"X{number}",
                             title=f"Call {number}", text="text", programme=rng.choice(["Horizon", "LIFE"]),
                             status=status, deadline=stages[0] if stages else None,
                             deadlines=[] if rng.random() < 0.05 else
                             [{"at": s.isoformat(), "time_assumed": False} for s in stages],
                             opening_date=NOW + timedelta(days=rng.randint(-30, 30)),
                             first_seen=NOW, last_seen=NOW))
        session.flush()
        for number in range(1, count + 1):
            if rng.random() < 0.15:
                continue  # not scored
            values = []
            for area in AREAS:
                value = round(rng.choice([0.0, 0.1, 0.25, 0.5, rng.random()]), 6)  # many ties
                values.append(value)
                session.add(Score(call_id=number, strategy="s", focus_area=area, score=value,
                                  explanation=[{"term": area, "weight": value}], computed_at=NOW))
            # as scoring stores it: the call's best score over the areas
            session.add(Verdict(call_id=number, strategy="s", passed=rng.random() < 0.5,
                                priority=rng.random(), best_score=max(values), computed_at=NOW))
            if rng.random() < 0.2:
                session.add(CallFollow(call_id=number, strategy="s", kind="follow", at=NOW))
        session.commit()


FILTERS = [
    CallFilter(strategy="s", limit=20),
    CallFilter(strategy="s", limit=1),
    CallFilter(strategy="s", limit=390),
    CallFilter(strategy="s"),
    CallFilter(strategy="s", focus_area="wind", limit=20),
    CallFilter(strategy="s", focus_area="ports"),
    CallFilter(strategy="s", focus_area="food", limit=5, source="eu_ft"),
    CallFilter(strategy="s", deadline_within_days=30, limit=20),
    CallFilter(strategy="s", deadline_within_days=30, focus_area="wind", limit=10),
    CallFilter(strategy="s", min_score=0.3, limit=20),
    CallFilter(strategy="s", min_score=0.3),
    CallFilter(strategy="s", status="closed", limit=20),
    CallFilter(strategy="s", status="forthcoming", limit=20, programme="hor"),
    CallFilter(strategy="s", status="all", limit=50),
    CallFilter(strategy="s", status="open", limit=300),
    CallFilter(strategy="nobody", limit=20),
    CallFilter(limit=20),
    CallFilter(status="all"),
    CallFilter(strategy="s", sort="deadline", limit=20),
    CallFilter(strategy="s", sort="deadline", focus_area="wind", deadline_within_days=60),
    CallFilter(strategy="s", sort="opening", limit=30),
    CallFilter(strategy="s", sort="opening", status="all"),
    CallFilter(strategy="s", passing=True, limit=20),
    CallFilter(strategy="s", passing=True, focus_area="ports", min_score=0.2),
    CallFilter(strategy="s", followed=True),
    CallFilter(strategy="s", followed=True, passing=True, sort="deadline", limit=5),
]


def check_all(engine: Any) -> None:
    with Session(engine) as session:
        for flt in FILTERS:
            rows = list_calls(session, flt, NOW)
            assert [(r["id"], r["score"]) for r in rows] == reference(session, flt, NOW), flt
            for row in rows:
                if row["score"] is not None and flt.strategy == "s":
                    assert row["focus_area"] in AREAS and row["explanation"][0]["term"] == row["focus_area"]
                    assert row["passed"] is not None and row["rules"] in ("passed", "failed")


def test_listing_matches_reading_everything(engine: Any) -> None:
    fill(engine)
    check_all(engine)


def test_top_by_score_without_positive_scores_includes_unscored_calls(engine: Any) -> None:
    """When the limit reaches the zero scores, unscored calls rank with them by deadline."""
    fill(engine, count=40)
    with Session(engine) as session:
        for score in session.exec(select(Score)):
            score.score = 0.0
            session.add(score)
        for verdict in session.exec(select(Verdict)):
            verdict.best_score = 0.0
            session.add(verdict)
        session.commit()
    check_all(engine)


def test_listing_matches_on_postgresql(pg_url: str) -> None:
    engine = open_database(pg_url)
    try:
        fill(engine, count=200)
        check_all(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize("status", ["active", "open"])
def test_a_past_two_stage_call_lists_its_next_stage(engine: Any, status: str) -> None:
    with Session(engine) as session:
        past, later = NOW - timedelta(days=3), NOW + timedelta(days=40)
        session.add(Call(source="eu_ft", external_id="TWO", title="Two stages", status="open", deadline=past,
                         deadlines=[{"at": past.isoformat()}, {"at": later.isoformat()}],
                         first_seen=NOW, last_seen=NOW))
        session.commit()
        session.add(Score(call_id=1, strategy="s", focus_area="wind", score=0.5, computed_at=NOW))
        session.commit()
        [row] = list_calls(session, CallFilter(strategy="s", status=status, limit=5), NOW)
        assert row["next_deadline"] == later.isoformat() and row["score"] == 0.5
