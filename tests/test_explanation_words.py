"""Explanations in the call's own words: the matcher's features are stemmed ("processes" → "processe",
"crises" → "crise", "species" → "specy"), and `calls why`, the digest's Why and `ideas calls` showed
those stems to fundraisers."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from classifiers.text import call_forms, spoken, spoken_forms
from pipeline.core.config import DEFAULT_STRATEGY

AS_OF = "2026-08-22T12:00+02:00"


def test_a_stemmed_feature_reads_as_the_text_says_it() -> None:
    forms = spoken_forms("Protecting species and their habitats; species loss. Food crises and processes.")
    assert [spoken(term, forms) for term in ("specy", "crise", "processe", "habitat", "food crise")] == [
        "species", "crises", "processes", "habitats", "food crises"]
    assert spoken("offshore wind", forms) == "offshore wind"  # words the text does not say stay as they are


def test_the_word_said_most_often_wins_and_a_danish_text_keeps_its_forms() -> None:
    assert spoken("battery", spoken_forms("Batteries, a battery, batteries.")) == "batteries"
    danish = "Vi skal bygge energiøer og havvind i Østersøen, og det er med brint"
    forms = call_forms("Energy islands", danish)
    assert spoken("energiø", forms) == "energiøer"
    assert spoken("energy island", forms) == "energy islands"


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory, samples: Path) -> str:
    from pipeline.cli.main import app

    path = tmp_path_factory.mktemp("words") / "fundradar.db"
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{path}", "--config", str(DEFAULT_STRATEGY),
                                      "--as-of", AS_OF, "sync", "--source", "eu_ft", "--replay",
                                      str(samples / "eu_ft" / "search_2026-08-22")])
    assert result.exit_code == 0, result.output
    return str(path)


def test_calls_why_shows_the_calls_words_and_its_json_keeps_the_stored_term(synced: str) -> None:
    from pipeline.cli.main import app

    with sqlite3.connect(synced) as db:
        rows = db.execute("SELECT s.call_id, s.explanation, c.title, c.text FROM score s "
                          "JOIN call c ON c.id = s.call_id").fetchall()
    stemmed = [(call_id, term["term"], spoken(term["term"], call_forms(title, text)))
               for call_id, explanation, title, text in rows for term in json.loads(explanation)
               if not term.get("excluded") and term["term"].split(" ")[-1] in ("processe", "crise", "specy")]
    assert stemmed, "the recording has calls whose explanation holds a stem that is no word"
    call_id, term, words = stemmed[0]
    assert words != term
    args = ["--db", f"sqlite:///{synced}", "--config", str(DEFAULT_STRATEGY), "--as-of", AS_OF,
            "calls", "why", str(call_id)]
    shown = CliRunner().invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert f"{words} 0." in shown.stdout and f"{term} 0." not in shown.stdout
    data = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    entries = [t for area in data["focus_areas"] for t in area["terms"] if t.get("term") == term]
    assert entries and all(t["words"] == words for t in entries)
