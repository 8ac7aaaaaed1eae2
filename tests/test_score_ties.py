"""Calls capped at 1.000 rank by their evidence before the cap, alike in `calls list --focus`, the
digest and the new-call alerts (eval --judged reads the listing: tests/test_judged.py). Calls are 120
real recorded EU topics (enough for the LSA space) and two written for one focus area."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from classifiers.scoring import score_pending
from pipeline.core.config import DEFAULT_STRATEGY, DigestChannel, load_config
from pipeline.core.db import session_scope
from pipeline.core.models import Call
from pipeline.core.ranking import score_order
from tests.scoring_data import NOW, insert_calls

AREA = "offshore_energy"
# both say the area's keywords often enough to reach the cap; the second says all of them
FEW = ("Offshore wind farms and the electricity grid",
       "Offshore wind farms connected to the electricity grid: offshore wind turbines and grid integration.")
MANY = ("Offshore wind, green hydrogen and energy storage on energy islands",
        "Energy islands link offshore wind farms, wind turbines, green hydrogen production by power-to-X, "
        "energy storage and the electricity grid that integrates them; offshore wind and hydrogen at scale.")


def recorded_texts(samples: Path, count: int) -> list[tuple[str, str]]:
    lines = (samples / "eu_ft" / "calls_2026-08-10.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines[:count]]
    return [(r["title"], r["description"]) for r in records]


def scored(engine: Any, samples: Path) -> tuple[int, int]:
    """The two written calls scored; the one saying fewer keywords closes sooner and has the lower id,
    so that a listing ordering equal scores by deadline or id shows it first."""
    *_, few, many = insert_calls(engine, [*recorded_texts(samples, 120), FEW, MANY], hashed=True)
    with session_scope(engine) as session:
        call = session.get(Call, few)
        call.deadlines = [{"at": "2026-12-01T16:00:00+00:00", "time_assumed": False}]
        call.deadline = datetime(2026, 12, 1, 16, tzinfo=UTC)
        session.add(call)
    score_pending(engine, load_config(DEFAULT_STRATEGY), NOW)
    return few, many


def test_equal_capped_scores_rank_by_their_evidence_everywhere(engine: Any, samples: Path, cli: Any) -> None:
    from pipeline.notify.alerts import new_call_alerts
    from pipeline.notify.digest import collect_digest

    few, many = scored(engine, samples)
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT call_id, evidence FROM score WHERE focus_area = :area AND "
                                         "call_id IN (:few, :many)"),
                                 {"area": AREA, "few": few, "many": many}).all())
    assert rows[many] > rows[few] > 1.0

    result = cli("--as-of", NOW.isoformat(), "calls", "list", "--focus", AREA, "--top", "2", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [(row["id"], row["score"]) for row in listed] == [(many, 1.0), (few, 1.0)]
    # across the areas too (read from the verdicts' best scores, then the best area's evidence)
    result = cli("--as-of", NOW.isoformat(), "calls", "list", "--top", "2", "--json")
    assert [row["id"] for row in json.loads(result.stdout)] == [many, few]

    strategy = load_config(DEFAULT_STRATEGY).strategy
    with Session(engine) as session:
        digest = collect_digest(session, strategy, DigestChannel(channel="#test", focus_areas=[AREA], top=10,
                                                                 min_score=0.3), NOW, NOW - timedelta(days=7))
        alerts = new_call_alerts(session, strategy, "#test", NOW, NOW - timedelta(days=1))
    assert [c.call_id for c in digest.top][:2] == [many, few]
    keys = [a.key for a in alerts]
    assert keys.index(f"alert:new:{many}") < keys.index(f"alert:new:{few}")


def test_evidence_is_the_score_where_no_cap_applies(engine: Any, samples: Path) -> None:
    scored(engine, samples)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT score, evidence FROM score WHERE explanation NOT LIKE "
                                    "'%excluded%'")).all()
    assert rows and all(evidence >= score for score, evidence in rows)
    assert any(evidence == score for score, evidence in rows if score < 0.9)
    assert all(evidence > 1.0 for score, evidence in rows if score == 1.0)


def test_a_score_stored_before_evidence_was_kept_ranks_as_its_score() -> None:
    assert score_order(0.8, None, None, 1) == score_order(0.8, 0.8, None, 1)
    keys = sorted([score_order(1.0, None, "2026-10-01", 1), score_order(1.0, 1.7, "2027-01-01", 2),
                   score_order(0.9, 3.0, "2026-09-01", 3), score_order(None, None, None, 4)])
    assert [key[-1] for key in keys] == [2, 1, 3, 4]
