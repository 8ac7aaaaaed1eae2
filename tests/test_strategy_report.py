"""The board report: counts, money and pipeline per focus area, and the PNG chart."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from pipeline.core.clock import UTC
from pipeline.core.config import load_strategy
from pipeline.core.models import Application, Call, Idea, Score, Verdict
from pipeline.strategy.report import build_report, draw_chart, write_chart

NOW = datetime(2026, 8, 22, 10, 0, tzinfo=UTC)


def _call(session: Session, ref: str, deadline: datetime, budget: float, status: str = "open") -> Call:
    call = Call(source="eu_ft", external_id=ref, title=f"Call {ref}", status=status, budget=budget,
                deadline=deadline, deadlines=[{"at": deadline.isoformat(), "time_assumed": False}],
                first_seen=NOW, last_seen=NOW)
    session.add(call)
    session.flush()
    return call


def test_report_and_chart(engine, tmp_path) -> None:
    strategy = load_strategy()
    with Session(engine) as session:
        a = _call(session, "A", NOW + timedelta(days=40), 4e6)
        b = _call(session, "B", NOW + timedelta(days=100), 2e6)
        past = _call(session, "C", NOW - timedelta(days=1), 9e6)  # deadline passed: not counted
        for call, area, score in [(a, "offshore_energy", 0.6), (b, "offshore_energy", 0.4),
                                  (b, "food_bio", 0.1), (past, "offshore_energy", 0.9)]:
            session.add(Score(call_id=call.id, strategy=strategy.name, focus_area=area, score=score,
                              computed_at=NOW))
        session.add(Verdict(call_id=a.id, strategy=strategy.name, passed=True, expected_value=250_000,
                            computed_at=NOW))
        idea = Idea(title="Hydrogen hub", focus_areas=["offshore_energy"], created_at=NOW, updated_at=NOW)
        session.add(idea)
        session.flush()
        session.add(Application(idea_id=idea.id, call_id=a.id, status="writing", created_at=NOW,
                                updated_at=NOW))
        session.add(Application(idea_id=idea.id, call_id=b.id, status="rejected", created_at=NOW,
                                updated_at=NOW))
        session.commit()
        reports = {r.focus_area: r for r in build_report(session, strategy, NOW)}
    energy = reports["offshore_energy"]
    assert (energy.matching_calls, energy.total_budget, energy.expected_value) == (2, 6e6, 250_000)
    assert energy.applications_in_pipeline == 1
    assert energy.by_month == {"2026-10": 1, "2026-11": 1}
    assert reports["food_bio"].matching_calls == 0  # below the minimum score
    png = write_chart(list(reports.values()), tmp_path / "chart.png", "Matching calls")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
    figure = draw_chart(list(reports.values()), "Matching calls")
    ticks = list(figure.axes[0].get_yticks())
    assert ticks and all(tick == int(tick) for tick in ticks), ticks  # counts: 0, 1, 2, never 0.25


def test_a_shared_call_budget_counts_once_and_only_for_calls_the_rules_pass(engine) -> None:
    strategy = load_strategy()
    with Session(engine) as session:
        due = NOW + timedelta(days=60)
        works, studies = _call(session, "WORKS", due, 600e6), _call(session, "STUDIES", due, 600e6)
        works.call_id = studies.call_id = "CEF-E-2026-PCI-PMI"  # each topic carries the call's budget
        turned_down = _call(session, "LOW", due, 5e6)
        for call in (works, studies, turned_down):
            session.add(Score(call_id=call.id, strategy=strategy.name, focus_area="offshore_energy",
                              score=0.7, computed_at=NOW))
        session.add(Verdict(call_id=works.id, strategy=strategy.name, passed=True,
                            expected_value=10_676_400, computed_at=NOW))
        session.add(Verdict(call_id=turned_down.id, strategy=strategy.name, passed=False,
                            expected_value=99_999, computed_at=NOW))
        session.commit()
        reports = {r.focus_area: r for r in build_report(session, strategy, NOW)}
    energy = reports["offshore_energy"]
    assert (energy.matching_calls, energy.total_budget, energy.expected_value) == (3, 600e6, 10_676_000)
