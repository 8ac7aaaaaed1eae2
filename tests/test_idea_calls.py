"""`ideas calls` ranks the calls of the idea's focus areas (the scores behind `calls list --focus`),
blended with the idea's own words, on the 2026-08-22 recording of the EU portal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipeline.core.config import DEFAULT_STRATEGY

AS_OF = "2026-08-22T12:00+02:00"
FERMENTATION = ["Precision fermentation pilot", "--description",
                "Scale up precision fermentation of dairy proteins and alternative proteins with food "
                "producers"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, samples: Path) -> Any:
    from pipeline.cli.main import app

    url = f"sqlite:///{tmp_path_factory.mktemp('ideas') / 'fundradar.db'}"

    def invoke(*args: str) -> Any:
        result = CliRunner().invoke(app, ["--db", url, "--config", str(DEFAULT_STRATEGY), "--as-of", AS_OF,
                                          *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    invoke("sync", "--source", "eu_ft", "--replay", str(samples / "eu_ft" / "search_2026-08-22"))
    return invoke


def test_a_fermentation_idea_gets_the_calls_of_its_focus_area(run: Any) -> None:
    run("ideas", "add", *FERMENTATION, "--focus", "food_bio")
    result = run("ideas", "calls", "1", "--top", "10", "--json")
    assert result.stderr == ""
    suggested = json.loads(result.stdout)
    assert len(suggested) == 10
    food = [r["id"] for r in json.loads(run("calls", "list", "--focus", "food_bio", "--top", "20",
                                            "--json").stdout)]
    # every call suggested is among the area's top 20, as calls list --focus food_bio ranks them
    assert all(r["call_id"] in food for r in suggested), [r["title"] for r in suggested]
    assert [r["score"] for r in suggested] == sorted((r["score"] for r in suggested), reverse=True)
    assert all(r["terms"] for r in suggested)

    # the same words without a focus area match on text alone: pilot calls of other programmes and
    # areas come first, which is what the focus areas keep out
    run("ideas", "add", *FERMENTATION)
    text_only = json.loads(run("ideas", "calls", "2", "--top", "10", "--json").stdout)
    assert sum(r["call_id"] not in food for r in text_only) > 5, [r["title"] for r in text_only]


def test_the_why_terms_lead_with_the_ideas_own_words(run: Any) -> None:
    """The latent half of the idea's text match spreads its score over the call's words, and the
    largest of those led the Why column: "1, increased" for an idea titled "Floating wind O&M robots"."""
    from classifiers.text import analyse

    idea = ["Floating wind O&M robots", "--description", "Robots for operation and maintenance of "
            "floating offshore wind turbines"]
    said = set(analyse(" ".join(idea[::2])))
    run("ideas", "add", *idea, "--focus", "offshore_energy")
    number = json.loads(run("ideas", "list", "--json").stdout)[-1]["id"]
    with_area = json.loads(run("ideas", "calls", str(number), "--json").stdout)
    run("ideas", "add", *idea)
    text_only = json.loads(run("ideas", "calls", str(number + 1), "--json").stdout)
    assert with_area and text_only
    # on its text alone the terms shown are the idea's words, or, for a call that matches in meaning
    # only, none of them is; with an area the idea's words come first, then the area's explanation as
    # calls why shows it
    for row in text_only:
        own = {set(analyse(term)) <= said for term in row["terms"]}
        assert len(own) == 1, row
    assert sum(all(set(analyse(term)) <= said for term in row["terms"]) for row in text_only) >= 5
    for row in with_area:
        own = [set(analyse(term)) <= said for term in row["terms"]]
        assert own == sorted(own, reverse=True), row
