"""A run's verdicts, each rule part computed once per distinct input, equal the rules applied to each call
alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlmodel import Session, select

from classifiers.rules import evaluate_call, recheck_at
from classifiers.scoring import score_pending
from pipeline.core.config import DEFAULT_STRATEGY, load_config
from pipeline.core.db import session_scope
from pipeline.core.models import Call, Verdict

NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)
BRUSSELS_SUMMER = timezone(timedelta(hours=2))
WEEKS = 6  # the example strategy's min_weeks_before_deadline
# the other rules' inputs, varied so that calls share some and differ in others
PROGRAMMES = ["Horizon Europe", "Interreg North Sea", "A programme the funding rules do not know"]
ACTIONS = ["HORIZON  Research and Innovation Actions", "HORIZON  Coordination and Support Actions", None]
AMOUNTS = [3e6, 40_000.0, None, 2e7]
RATES = [None, 0.4]


def deadlines_around(now: datetime) -> list[list[dict[str, Any]]]:
    """Deadlines on both sides of the minimum weeks and of now, several on one day at other times and
    offsets, a call with two deadlines, one with none."""
    edge = now + timedelta(weeks=WEEKS)
    moments = [edge + timedelta(seconds=s) for s in (-3600, -1, 0, 1, 3600)]
    moments += [now - timedelta(days=2), now - timedelta(seconds=1), now + timedelta(seconds=1),
                now + timedelta(days=200), now + timedelta(days=200, hours=5)]
    found: list[list[dict[str, Any]]] = [[{"at": m.isoformat(), "time_assumed": False}] for m in moments]
    found += [[{"at": m.astimezone(BRUSSELS_SUMMER).isoformat()}] for m in moments[:5]]
    found += [[{"at": (m + timedelta(hours=h)).isoformat()}] for m in moments[:2] for h in (14, 15)]
    found.append([{"at": (now - timedelta(days=1)).isoformat()},
                  {"at": (edge + timedelta(days=1)).isoformat()}])
    found.append([])
    return found


def test_verdicts_equal_the_rules_of_each_call_now_and_later(engine: Any) -> None:
    config = load_config(DEFAULT_STRATEGY)
    assert config.strategy.rules.min_weeks_before_deadline == WEEKS
    with session_scope(engine) as session:
        for number, deadlines in enumerate(deadlines_around(NOW)):
            session.add(Call(source="eu_ft", external_id=f"d-{number}",
                             topic_id=f"HORIZON-CL5-2027-{number:03}",
                             programme=PROGRAMMES[number % len(PROGRAMMES)],
                             title="Offshore wind farms",
                             text="Floating offshore wind turbines.", content_hash=f"h{number}",
                             type_of_action=ACTIONS[number % len(ACTIONS)],
                             max_contribution=AMOUNTS[number % len(AMOUNTS)],
                             funding_rate=RATES[number % len(RATES)], deadlines=deadlines,
                             first_seen=NOW, last_seen=NOW))
    outcomes_seen: set[str] = set()
    for now in (NOW, NOW + timedelta(weeks=1), NOW + timedelta(days=200, hours=2)):
        score_pending(engine, config, now)
        with Session(engine) as session:
            pairs = session.exec(select(Call, Verdict).where(Verdict.call_id == Call.id)).all()
            assert len(pairs) == len(deadlines_around(NOW))
            for call, verdict in pairs:
                expected = evaluate_call(call, config.strategy, _funding(config), now)
                assert verdict.outcomes == [o.as_dict() for o in expected.outcomes], call.deadlines
                outcomes_seen.update(f"{o.rule} {o.status}" for o in expected.outcomes)
                assert verdict.passed == expected.passed
                assert (verdict.success_rate, verdict.funding_rate, verdict.expected_value) == \
                    (expected.success_rate, expected.funding_rate, expected.expected_value)
                assert _utc(verdict.recheck_at) == recheck_at(call, config.strategy, now), call.deadlines
    # every rule passed, failed and unknown somewhere: the parts were joined in every combination tried
    assert {f"{rule} {status}" for rule in ("deadline", "funding_rate", "budget")
            for status in ("passed", "failed", "unknown")} <= outcomes_seen


def _funding(config: Any) -> Any:
    from classifiers.funding import FundingRules

    return FundingRules(config.funding_rules)


def _utc(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)
