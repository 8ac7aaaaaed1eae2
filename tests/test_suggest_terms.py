"""`strategy suggest` proposes terms that single out the marked calls, never the EU topic template's
language nor a term common to much of the stored corpus."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.core.config import DEFAULT_STRATEGY
from tests.scoring_data import insert_calls

CONFIG = ["--config", str(DEFAULT_STRATEGY), "--as-of", "2026-08-22T09:00+00:00"]
# the fixed sentences of a Horizon Europe topic page ("Expected Outcome:", "Scope:", "Expected Impact:")
TEMPLATE = ("Expected Outcome: Project results are expected to contribute to some of the following "
            "outcomes: {outcome}. Scope: Proposals should address {scope}. Expected Impact: the green "
            "transition of European industry.")
BATTERIES = ["solid-state battery cells for electric ferries", "battery recycling of lithium and cobalt",
             "second-life battery packs for harbour storage", "sodium battery chemistry at pilot scale"]
OTHER_TOPICS = ["quantum sensing for navigation", "soil health in organic farming",
                "museum collections and cultural heritage", "pandemic preparedness of hospitals",
                "space weather forecasting", "urban air quality monitoring"]


def corpus(other_topics_templated: bool = True) -> list[tuple[str, str]]:
    """Four battery topics (to be marked), six calls of other areas (EU topics, or national calls) and
    twelve national calls: the template is in a minority of the stored calls but in every marked one."""
    texts = [(f"Batteries: {topic}", TEMPLATE.format(outcome=topic, scope=f"{topic} and battery testing"))
             for topic in BATTERIES]
    texts += [(topic.capitalize(), TEMPLATE.format(outcome=topic, scope=topic) if other_topics_templated
               else f"A national grant for {topic}.") for topic in OTHER_TOPICS]
    texts += [(f"Innovation voucher round {n}", f"Danish SMEs apply for a voucher to buy research services "
               f"from a university, round {n}; the green transition of European industry.")
              for n in range(12)]
    return texts


@pytest.mark.parametrize("other_topics_templated", [True, False], ids=["template-common", "template-rare"])
def test_suggest_leaves_out_template_language_and_corpus_wide_terms(cli: Any, engine: Any,
                                                                    other_topics_templated: bool) -> None:
    """Whether the template is in nearly half the stored calls (the corpus share keeps it out) or only
    in the marked ones (the template's words do)."""
    ids = insert_calls(engine, corpus(other_topics_templated))
    for call_id in ids[:4]:
        marked = cli(*CONFIG, "calls", "mark", str(call_id), "relevant", "--focus", "offshore_energy")
        assert marked.exit_code == 0
    result = cli(*CONFIG, "strategy", "suggest", "--focus", "offshore_energy", "--limit", "20", "--json")
    assert result.exit_code == 0, result.output
    (area,) = json.loads(result.stdout)
    terms = [t["term"] for t in area["terms"]]
    assert terms[0].startswith("batter") and area["terms"][0]["reach"] == 4, terms
    # the topic template, in every marked call, and the phrase found in every stored call
    for boilerplate in ("expected outcome", "project result", "expected contribute", "contribute",
                        "following outcome", "expected impact", "scope", "proposal", "green transition",
                        "european industry", "transition", "address"):
        assert boilerplate not in terms, terms
    assert not any("expected" in t or "outcome" in t for t in terms), terms
    assert all(t["corpus_share"] <= 0.25 for t in area["terms"])
    text = cli(*CONFIG, "strategy", "suggest", "--focus", "offshore_energy", "--limit", "1")
    assert text.stdout == ("offshore_energy: 4 marked relevant, 0 irrelevant\n"
                           f"  {terms[0]:<32} weight {area['terms'][0]['weight']:.3f}  in 4 marked calls, "
                           "18.2% of all stored calls\n"
                           "  exclude term never fires: nuclear power\n"
                           "  exclude term never fires: nuclear energy\n"
                           "  exclude term never fires: nuclear reactors\n"
                           "  exclude term never fires: small modular reactors\n"
                           "  exclude term never fires: nuclear fusion\n"
                           "  exclude term never fires: nuclear fission\n")


def test_suggest_counts_one_marked_call_in_the_singular(cli: Any, engine: Any) -> None:
    """With one call marked, each term read 'in 1 marked calls'."""
    ids = insert_calls(engine, corpus())
    assert cli(*CONFIG, "calls", "mark", str(ids[0]), "relevant", "--focus", "offshore_energy").exit_code == 0
    result = cli(*CONFIG, "strategy", "suggest", "--focus", "offshore_energy", "--limit", "1", "--json")
    assert result.exit_code == 0, result.output
    ((term,),) = [area["terms"] for area in json.loads(result.stdout)]
    text = cli(*CONFIG, "strategy", "suggest", "--focus", "offshore_energy", "--limit", "1")
    assert text.exit_code == 0
    assert text.stdout.splitlines()[:2] == [
        "offshore_energy: 1 marked relevant, 0 irrelevant",
        f"  {term['term']:<32} weight {term['weight']:.3f}  in 1 marked call, "
        f"{term['corpus_share']:.1%} of all stored calls"]
