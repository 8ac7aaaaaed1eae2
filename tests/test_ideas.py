"""Ideas: validation against the strategy, short ids, and matching calls (real SQLite, real matcher)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from pipeline.core.config import load_config, load_strategy
from pipeline.core.db import session_scope
from pipeline.core.errors import NotFoundError, ValidationError
from pipeline.core.inputs import country_codes, parse_id
from pipeline.ideas import create_idea, get_idea, suggest_calls, update_idea
from tests.test_applications import NOW, seed


@pytest.mark.parametrize(("text", "expected"), [("12", 12), ("#12", 12), (" # 7 ", 7), (3, 3)])
def test_short_ids(text: str, expected: int) -> None:
    assert parse_id(text, "idea") == expected


def test_bad_short_id() -> None:
    with pytest.raises(ValidationError) as err:
        parse_id("twelve", "idea")
    assert str(err.value) == "idea id 'twelve' is not a number; give it as 12 or #12"


def test_country_codes() -> None:
    assert country_codes(["se", "DE,dk", "EL", "UK", "SE"]) == ["SE", "DE", "DK", "GR", "GB"]
    with pytest.raises(ValidationError, match="country 'Sweden' is not an ISO 3166 country code"):
        country_codes(["Sweden"])
    with pytest.raises(ValidationError, match="'EU' is not an ISO 3166 country code"):
        country_codes(["EU"])


def test_create_and_edit_validate_everything_first(engine: Engine) -> None:
    strategy = load_strategy()
    with session_scope(engine) as session:
        idea = create_idea(session, title="  Hydrogen   ferries ", strategy=strategy, now=NOW,
                           focus_areas=["green_maritime", "offshore_energy"], target_countries=["se"])
        assert (idea.id, idea.title, idea.status, idea.target_countries) == (1, "Hydrogen ferries", "idea",
                                                                             ["SE"])
    with session_scope(engine) as session, pytest.raises(ValidationError) as err:
        update_idea(session, "#1", strategy=strategy, now=NOW, status="ready", focus_areas=["space"])
    assert str(err.value) == ("unknown focus area 'space'; the strategy has offshore_energy, green_maritime, "
                              "food_bio, digital_industry")
    with Session(engine) as session:
        assert get_idea(session, 1).status == "idea"  # nothing of the rejected edit was applied
    with session_scope(engine) as session:
        with pytest.raises(ValidationError, match="unknown idea status 'done'; use one of idea, maturing"):
            update_idea(session, 1, strategy=strategy, now=NOW, status="done")
        with pytest.raises(ValidationError, match="nothing to change"):
            update_idea(session, 1, strategy=strategy, now=NOW)
        with pytest.raises(ValidationError, match="an idea needs a title"):
            create_idea(session, title="  ", strategy=strategy, now=NOW)
        with pytest.raises(NotFoundError, match="no idea with id 5; see `fundradar ideas list`"):
            get_idea(session, "#5")


def test_suggest_calls_uses_the_matcher_and_the_rules(engine: Engine) -> None:
    ids = seed(engine)
    config = load_config()
    with Session(engine) as session:
        idea = get_idea(session, ids["idea"])
    result = suggest_calls(engine, idea, config, NOW, top=5)
    assert (result.focus_areas, result.scratch) == (["green_maritime"], False)
    found = result.calls
    # the closed call is never suggested; the BSR call on hydrogen bunkering in ports comes first
    assert [s.call_id for s in found][:1] == [ids["bsr"]]
    assert ids["closed"] not in [s.call_id for s in found]
    best = found[0]
    assert 0 < best.score <= 1
    assert best.terms and all(isinstance(term, str) for term, _ in best.terms)
    assert best.passed is not None
    assert best.as_dict()["failed_rules"] == best.failed_rules
