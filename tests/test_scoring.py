"""Incremental scoring into Score/Verdict, the refit threshold, marks, and `calls mark` / `calls why`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from classifiers.scoring import REFIT_FRACTION, SCORE_FLOOR, score_pending
from pipeline.core.config import DEFAULT_STRATEGY, load_config
from pipeline.core.db import session_scope
from pipeline.core.models import Call, CorpusModel, Mark, Score, ScoringModel, Verdict
from tests.scoring_data import insert_calls

NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)
CONFIG = ["--config", str(DEFAULT_STRATEGY), "--as-of", "2026-08-22T09:00+00:00"]
TEXTS = [
    ("Offshore wind farms and energy islands", "Floating offshore wind turbines connected to energy islands "
     "and the electricity grid; power-to-X with green hydrogen."),
    ("Zero-emission vessels for short-sea shipping", "Green shipping in ports: alternative fuels for "
     "zero-emission vessels and waterborne transport."),
    ("Alternative proteins from fermentation", "Food systems and agriculture: precision fermentation and "
     "bio-based products in a biorefinery."),
    ("Robotics and artificial intelligence in manufacturing", "Digital twins, data spaces and AI for "
     "robotics on the factory floor."),
    ("Military vessels and weapons", "Shipping of weapons on military vessels."),
]


def add_calls(engine: Any, texts: list[tuple[str, str]], start: int = 0) -> list[int]:
    return insert_calls(engine, texts, start)


def scores(engine: Any, area: str) -> dict[int, Score]:
    with Session(engine) as session:
        return {s.call_id: s for s in session.exec(select(Score).where(Score.focus_area == area))}


def test_first_run_scores_everything_and_stores_explanations(engine: Any) -> None:
    config = load_config(DEFAULT_STRATEGY)
    ids = add_calls(engine, TEXTS)
    result = score_pending(engine, config, NOW)
    assert (result.refitted, result.reason, result.scored_calls, result.verdicts) == (True, "first fit", 5, 5)
    energy = scores(engine, "offshore_energy")
    assert max(energy, key=lambda i: energy[i].score) == ids[0]
    terms = [e["term"] for e in energy[ids[0]].explanation]
    assert "offshore wind" in terms and all(0 < e["weight"] <= 1 for e in energy[ids[0]].explanation)
    maritime = scores(engine, "green_maritime")
    assert maritime[ids[4]].score == 0.0
    assert maritime[ids[4]].explanation == [{"term": "military vessels", "weight": 0.0, "excluded": True}]
    assert maritime[ids[1]].score > 0.1
    with Session(engine) as session:
        verdict = session.exec(select(Verdict).where(Verdict.call_id == ids[0])).one()
    assert verdict.passed and verdict.expected_value == round(0.164 * 3e6, 2)
    assert verdict.priority > 0


def test_only_new_and_changed_calls_are_rescored(engine: Any) -> None:
    config = load_config(DEFAULT_STRATEGY)
    ids = add_calls(engine, TEXTS * 4)  # 20 calls: one changed call stays under the 10 % refit threshold
    first = score_pending(engine, config, NOW)
    later = NOW + timedelta(hours=1)
    assert score_pending(engine, config, later).reason == "up to date"
    with session_scope(engine) as session:
        call = session.get(Call, ids[2])
        call.text += " Offshore wind for food."
        session.add(call)
    result = score_pending(engine, config, later)
    assert (result.refitted, result.reason, result.scored_calls) == (False, "incremental", 1)
    assert result.model_version == first.model_version
    energy = scores(engine, "offshore_energy")
    assert {i for i, s in energy.items() if s.computed_at == later} == {ids[2]}
    assert energy[ids[2]].score > 0
    with Session(engine) as session:
        assert session.exec(select(ScoringModel)).one().drift == 1
        assert session.exec(select(sa.func.count()).select_from(Verdict)).one() == 20


def test_refit_when_more_than_ten_percent_changed(engine: Any) -> None:
    config = load_config(DEFAULT_STRATEGY)
    add_calls(engine, TEXTS * 4)
    score_pending(engine, config, NOW)
    new = int(REFIT_FRACTION * 20)  # 2 new calls: exactly 10 %, still incremental
    add_calls(engine, TEXTS[:new], start=100)
    assert score_pending(engine, config, NOW).reason == "incremental"
    add_calls(engine, TEXTS[:1], start=200)  # 3 since the fit: more than 10 %
    result = score_pending(engine, config, NOW)
    assert result.refitted and result.scored_calls == 23
    assert result.reason == "more than 10% of the calls new or changed since the last fit"
    with Session(engine) as session:
        model = session.exec(select(ScoringModel)).one()
        assert (model.corpus_size, model.drift) == (23, 0)


def test_a_corpus_model_of_another_method_is_refitted(engine: Any) -> None:
    """A database scored by an earlier build (another LSA size, say) is refitted by the next run."""
    from classifiers.corpus import METHOD

    config = load_config(DEFAULT_STRATEGY)
    add_calls(engine, TEXTS * 12)  # 60 calls: enough for a latent space
    first = score_pending(engine, config, NOW)
    with session_scope(engine) as session:
        stored = session.exec(select(CorpusModel)).one()
        assert stored.method == METHOD
        stored.method = "tfidf+lsa100"
        session.add(stored)
    result = score_pending(engine, config, NOW)
    assert (result.refitted, result.reason, result.scored_calls) == (True, "scoring method changed", 60)
    assert result.model_version == first.model_version  # same method and texts: the same model again
    assert score_pending(engine, config, NOW).reason == "up to date"


def test_marks_change_the_queries(engine: Any) -> None:
    config = load_config(DEFAULT_STRATEGY)
    ids = add_calls(engine, TEXTS)
    score_pending(engine, config, NOW)
    row = scores(engine, "offshore_energy").get(ids[3])  # no row: below the floor
    before = row.score if row else 0.0
    with session_scope(engine) as session:
        session.add(Mark(call_id=ids[3], strategy="greentech-dk", focus_area="offshore_energy",
                         label="relevant", marked_at=NOW))
    result = score_pending(engine, config, NOW)
    assert result.refitted and result.reason == "focus areas or marks changed"
    assert scores(engine, "offshore_energy")[ids[3]].score > before


def test_calls_mark(cli: Any, engine: Any) -> None:
    ids = add_calls(engine, TEXTS)
    result = cli(*CONFIG, "calls", "mark", str(ids[0]), "relevant", "--focus", "offshore_energy")
    assert result.exit_code == 0
    assert result.output == (f"Marked call {ids[0]} relevant for offshore_energy; run `fundradar score` "
                             "to update the rankings.\n")
    result = cli(*CONFIG, "calls", "mark", "ref-1", "irrelevant")
    assert result.exit_code == 0
    assert result.output == (f"Marked call {ids[1]} irrelevant for every focus area; run `fundradar score` "
                             "to update the rankings.\n")
    with Session(engine) as session:
        marks = session.exec(select(Mark).order_by(Mark.id)).all()
    assert [(m.call_id, m.focus_area, m.label) for m in marks] == [
        (ids[0], "offshore_energy", "relevant"), (ids[1], None, "irrelevant")]


def test_calls_mark_errors(cli: Any, engine: Any) -> None:
    add_calls(engine, TEXTS)
    result = cli(*CONFIG, "calls", "mark", "999", "relevant")
    assert result.exit_code == 2
    assert result.stderr == "Error: no call with id '999'; see `fundradar calls list`\n"
    result = cli(*CONFIG, "calls", "mark", "1", "maybe")
    assert result.exit_code == 2
    assert result.stderr == "Error: unknown mark 'maybe'; use relevant or irrelevant\n"
    result = cli(*CONFIG, "calls", "mark", "1", "relevant", "--focus", "space")
    assert result.exit_code == 2
    assert result.stderr == ("Error: unknown focus area 'space'; the strategy has offshore_energy, "
                             "green_maritime, food_bio, digital_industry\n")


def test_calls_why(cli: Any, engine: Any) -> None:
    ids = add_calls(engine, TEXTS)
    result = cli(*CONFIG, "calls", "why", str(ids[4]))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Call {ids[4]}: Military vessels and weapons"
    assert lines[1] == "Focus areas (greentech-dk):"
    assert lines[3] == "  green_maritime    0.000  excluded: contains 'military vessels'"
    assert "  food_bio          <0.05  below the floor, not stored" in lines[2:6]
    assert lines[6:] == [
        "Rules: passed",
        "  passed   success_rate     Horizon Europe success rate 16.4 % ≥ minimum 10 %",
        "  passed   funding_rate     funding rate 100 % (funding_rules.yaml: horizon_europe RIA (Horizon "
        "Europe Regulation (EU) 2021/695, art. 34: research and innovation actions up to 100 %)) "
        "≥ minimum 50 %",
        "  passed   deadline         deadline 2027-01-20 is at least 6 weeks away "
        "(21.6 weeks from 2026-08-22)",
        "  passed   action_type      type of action RIA is in RIA, IA, CSA, INTERREG, IE, NATIONAL",
        "  passed   budget           maximum contribution EUR 3,000,000 within EUR 50,000 to EUR 15,000,000",
        "  passed   eligible_country Horizon Europe is open to EU/EEA countries; DK is one",
        "Expected value: about €492k (programme averages); priority 0.000",
    ]
    result = cli(*CONFIG, "calls", "why", str(ids[0]), "--json")
    assert result.exit_code == 0
    import json

    data = json.loads(result.output)
    energy = data["focus_areas"][0]
    assert energy["focus_area"] == "offshore_energy" and energy["score"] > 0
    assert "offshore wind" in [t["term"] for t in energy["terms"]]
    assert [r["rule"] for r in data["rules"]] == ["success_rate", "funding_rate", "deadline", "action_type",
                                                   "budget", "eligible_country"]


def test_calls_why_names_the_funding_rate_origin(cli: Any, engine: Any) -> None:
    """"the call states" only for a rate the call's source gave; a programme's rate names its entry in
    the funding rules and that figure's public source."""
    ids = add_calls(engine, TEXTS[:2])
    with session_scope(engine) as session:
        stated = session.get(Call, ids[1])
        assert stated is not None
        stated.funding_rate = 0.6
        session.add(stated)

    def reason(call_id: int) -> str:
        result = cli(*CONFIG, "calls", "why", str(call_id))
        assert result.exit_code == 0, result.output
        return next(line for line in result.output.splitlines() if " funding_rate " in line)

    assert reason(ids[1]) == "  passed   funding_rate     funding rate 60 % (the call states) ≥ minimum 50 %"
    from_rules = reason(ids[0])
    assert "(the call states)" not in from_rules
    assert from_rules.startswith("  passed   funding_rate     funding rate 100 % (funding_rules.yaml: "
                                 "horizon_europe RIA (Horizon Europe Regulation (EU) 2021/695, art. 34")


def test_calls_why_unknown_id(cli: Any, engine: Any) -> None:
    result = cli(*CONFIG, "calls", "why", "42")
    assert result.exit_code == 2
    assert result.stderr == "Error: no call with id '42'; see `fundradar calls list`\n"


def test_score_command(cli: Any, engine: Any) -> None:
    add_calls(engine, TEXTS)
    result = cli(*CONFIG, "score")
    assert result.exit_code == 0
    assert result.output == ("Scored 5 of 5 calls against 4 focus areas of greentech-dk (first fit); "
                             "rules applied to 5 calls.\n")
    result = cli(*CONFIG, "score", "--json")
    assert result.exit_code == 0 and '"reason": "up to date"' in result.output


def test_block_size_does_not_change_the_stored_scores(engine: Any, tmp_path: Any) -> None:
    """Calls are scored in blocks and written call by call; the rows equal the matcher's own ranking."""
    from classifiers.matcher import focus_area_query, prepare, rank
    from pipeline.core.db import open_database

    config = load_config(DEFAULT_STRATEGY)
    ids = add_calls(engine, TEXTS * 2)
    score_pending(engine, config, NOW)
    other = open_database(f"sqlite:///{tmp_path / 'blocks.db'}")
    add_calls(other, TEXTS * 2)
    score_pending(other, config, NOW, block=3)
    for area_name, area in config.strategy.focus_areas.items():
        one, blocked = scores(engine, area_name), scores(other, area_name)
        assert {i: (s.score, s.explanation) for i, s in one.items()} == \
            {i: (s.score, s.explanation) for i, s in blocked.items()}
        with Session(engine) as session:
            calls = session.exec(select(Call).order_by(Call.id)).all()
        direct = rank(focus_area_query(area_name, area), [prepare(c.id, c.title, c.text) for c in calls])
        for match in direct:
            if match.excluded_by is None and match.score < SCORE_FLOOR:
                assert match.call_id not in one  # below the floor: not stored
                continue
            stored = one[match.call_id]
            assert stored.score == pytest.approx(match.score, abs=1e-6)
            if match.excluded_by is None:
                assert [(e["term"], e["weight"]) for e in stored.explanation] == \
                    [(t, pytest.approx(w, abs=1e-4)) for t, w in match.terms]
    other.dispose()
    assert len(ids) == 10


@pytest.mark.postgres
def test_scoring_on_postgresql(pg_url: str) -> None:
    """The same rows, explanations and exclusions on the PostgreSQL server (SQLAlchemy's executemany
    there, the driver's own on SQLite)."""
    from pipeline.core.db import open_database

    config = load_config(DEFAULT_STRATEGY)
    engine = open_database(pg_url)
    try:
        ids = add_calls(engine, TEXTS * 4)  # one changed call later stays under the refit threshold
        with engine.begin() as conn:  # the content hashes a sync gives
            conn.execute(sa.update(Call).values(content_hash=sa.func.concat("hash-", Call.id)))
        result = score_pending(engine, config, NOW)
        assert (result.refitted, result.scored_calls) == (True, 20)
        energy = scores(engine, "offshore_energy")
        assert energy[ids[0]].score == max(s.score for s in energy.values()) > 0
        assert "offshore wind" in [e["term"] for e in energy[ids[0]].explanation]
        assert energy[ids[0]].computed_at == NOW
        maritime = scores(engine, "green_maritime")
        assert maritime[ids[4]].explanation == [{"term": "military vessels", "weight": 0.0, "excluded": True}]
        with session_scope(engine) as session:
            call = session.get(Call, ids[2])
            call.text += " Offshore wind for food."
            session.add(call)
        assert score_pending(engine, config, NOW).reason == "incremental"
        assert scores(engine, "offshore_energy")[ids[2]].score > 0
        # the due calls found by the same join: only the edited call (its content hash is empty, so
        # it is always looked at), then every call once its deadline is under 6 weeks away
        later = score_pending(engine, config, NOW + timedelta(days=1))
        assert (later.reason, later.verdicts, later.total_calls) == ("up to date", 1, 20)
        due = score_pending(engine, config, datetime(2026, 12, 10, tzinfo=UTC))
        assert (due.reason, due.verdicts) == ("up to date", 20)
        with Session(engine) as session:
            assert {v.passed for v in session.exec(select(Verdict))} == {False}
    finally:
        engine.dispose()


def test_a_new_label_rescores_every_call(engine: Any, tmp_path: Any) -> None:
    """The gate reads an area's label: a label edited by the secretariat rescores the stored calls, as
    an edited keyword does."""
    add_calls(engine, TEXTS)
    score_pending(engine, load_config(DEFAULT_STRATEGY), NOW)
    text = DEFAULT_STRATEGY.read_text(encoding="utf-8")
    old = "label: Green shipping and ports"
    assert old in text
    edited = tmp_path / "strategy.yaml"
    edited.write_text(text.replace(old, "label: Green shipping, ports and ferries"), encoding="utf-8")
    result = score_pending(engine, load_config(edited), NOW + timedelta(hours=1))
    assert (result.reason, result.scored_calls) == ("focus areas or marks changed", 5)


def test_a_verdict_computed_for_a_later_day_is_redone_for_an_earlier_one(cli: Any, engine: Any) -> None:
    """`--as-of` an earlier day after a run on a later one: the deadline rule judges the earlier day (a
    verdict holds from its computed_at to its recheck_at), and the earlier run then leaves it as stored."""
    ids = insert_calls(engine, TEXTS, hashed=True)  # hashed as a sync stores them: not due on every run
    # on 2027-02-01 the deadline 2027-01-20 has passed, which no later day changes (no recheck)
    later = ["--config", str(DEFAULT_STRATEGY), "--as-of", "2027-02-01T09:00+00:00"]
    assert cli(*later, "score").exit_code == 0
    with Session(engine) as session:
        assert session.exec(select(Verdict).where(Verdict.call_id == ids[4])).one().passed is False
    result = cli(*CONFIG, "calls", "why", str(ids[4]))
    assert result.exit_code == 0, result.output
    assert "  passed   deadline         deadline 2027-01-20 is at least 6 weeks away " \
           "(21.6 weeks from 2026-08-22)" in result.output.splitlines()
    with Session(engine) as session:
        verdict = session.exec(select(Verdict).where(Verdict.call_id == ids[4])).one()
        assert verdict.passed is True and verdict.computed_at == NOW
    result = cli(*CONFIG, "score")
    assert result.exit_code == 0, result.output
    assert result.output == ("Scored 0 of 5 calls against 4 focus areas of greentech-dk (up to date); rules "
                             "checked for 0 calls (the other verdicts still hold).\n")


def test_a_block_of_calls_none_of_which_reaches_the_floor_scores(cli: Any, engine: Any,
                                                                 tmp_path: Any) -> None:
    """A narrow strategy (one area whose keyword no call has) over more calls than one explaining pass
    takes: no (area, call) pair is kept, and `fundradar score` scores (it failed with 'IndexError: index
    0 is out of bounds for axis 0 with size 0')."""
    from classifiers.score_blocks import ONE_PASS_ROWS

    strategy = tmp_path / "narrow.yaml"
    strategy.write_text("name: narrow\norganisation: Narrow Cluster\nfocus_areas:\n"
                        "  nothing:\n    label: Qwxzy\n    keywords: [qwxzy]\n", encoding="utf-8")
    add_calls(engine, (TEXTS * (ONE_PASS_ROWS // len(TEXTS) + 1))[:ONE_PASS_ROWS + 1])
    result = cli("--config", str(strategy), "--as-of", "2026-08-22T09:00+00:00", "score")
    assert result.exit_code == 0
    count = ONE_PASS_ROWS + 1
    assert result.output == (f"Scored {count} of {count} calls against 1 focus area of narrow (first fit); "
                             f"rules applied to {count} calls.\n")
    assert scores(engine, "nothing") == {}
