"""Defects found on a third cluster's judged file (creative industries and tourism,
tests/fixtures/judged/creative_2026-08-22.json)."""

from __future__ import annotations

from classifiers.matcher import Query, TfidfModel, match_query, prepare, query_features, query_vector
from classifiers.text import words


def _weights(query: Query, calls: list[tuple[int, str, str]]) -> dict[str, float]:
    model, _ = TfidfModel.fit([prepare(*call) for call in calls], keep=query_features(query))
    vector = query_vector(model, query)
    names = model.terms()
    return {names[i]: float(x) for i, x in zip(vector.indices, vector.data, strict=True)}


TOURISM_CALLS = [
    (1, "Sustainable tourism", "Tourism businesses in coastal regions adopt sustainable practices."),
    (2, "Circular economy in cities", "A circular economy for the economy of cities and their visitor "
                                      "centres: economy, economy."),
    (3, "Hydrogen valleys", "Hydrogen production for industry."),
    (4, "Visitor data", "Counting visitors in museums."),
]


def test_a_keyword_phrase_no_call_writes_does_not_ask_for_its_loose_words_as_a_whole_keyword() -> None:
    """'visitor economy' is written by no call of 2026-08-22: its unit held "visitor" and "economy"
    alone at a whole keyword's weight, and the circular-economy calls came 3rd and 4th of the
    tourism area. Its words now weigh in the unit what they weigh beside a written phrase."""
    ranked = match_query("tourism, visitor economy", TOURISM_CALLS)
    scores = {m.call_id: m.score for m in ranked}
    assert [m.call_id for m in ranked][:2] == [1, 2]
    assert scores[2] < 0.5 * scores[1]
    weights = _weights(Query("q", ("tourism", "visitor economy")), TOURISM_CALLS)
    assert weights["economy"] < 0.5 * weights["tourism"]


def test_a_keyword_phrase_some_call_writes_and_a_keyword_in_no_calls_words_keep_their_weight() -> None:
    written = [*TOURISM_CALLS, (5, "The visitor economy", "The visitor economy of islands.")]
    weights = _weights(Query("q", ("tourism", "visitor economy")), written)
    assert weights["visitor economy"] > weights["economy"] > 0
    # a Danish keyword the English calls never write leaves its unit's English synonym as it was
    danish = Query("q", ("tourism", "oplevelsesøkonomi", "cirkulær økonomi", "circular economy"),
                   groups=(("tourism",), ("cirkulær økonomi", "circular economy")))
    english = Query("q", ("tourism", "circular economy"), groups=(("tourism",), ("circular economy",)))
    assert _weights(danish, written) == _weights(english, written)


def test_news_is_not_the_plural_of_new() -> None:
    """The plural stemmer read "news" as "new" (in most calls: "new approaches"), so the keyword
    `news media` asked for "new media" and a call on news media freedom was explained by "new".
    "news" is one of the words Snowball's English stemmer keeps as they are."""
    assert words("news media") != words("new media")
    assert words("News and newsrooms") == ["news", "newsroom"]
    assert words("new approaches") == ["new", "approache"]
