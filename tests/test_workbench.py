"""The secretariat's workbench on the recorded EU portal data: preview, suggest, keyword edits, report."""

from __future__ import annotations

import csv
import difflib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipeline.core.config import DEFAULT_STRATEGY

AS_OF = "2026-08-22T12:00+02:00"
QUANTUM = ["quantum", "quantum technologies"]


@pytest.fixture(scope="module")
def synced_db(tmp_path_factory: pytest.TempPathFactory, samples: Path) -> str:
    """The 2026-08-22 recording of the EU portal, synced once for the whole module."""
    from pipeline.cli.main import app

    url = f"sqlite:///{tmp_path_factory.mktemp('workbench') / 'fundradar.db'}"
    result = CliRunner().invoke(app, ["--db", url, "--config", str(DEFAULT_STRATEGY), "sync", "--source",
                                      "eu_ft", "--replay", str(samples / "eu_ft" / "search_2026-08-22")])
    assert result.exit_code == 0, result.output
    return url


@pytest.fixture
def wb(synced_db: str, tmp_path: Path) -> Callable[..., Any]:
    """Run the CLI on the synced database with a copy of the example strategy (tmp_path/strategy.yaml)."""
    from pipeline.cli.main import app

    shutil.copy(DEFAULT_STRATEGY, tmp_path / "strategy.yaml")

    def invoke(*args: str, input: str | None = None) -> Any:
        return CliRunner().invoke(app, ["--db", synced_db, "--config", str(tmp_path / "strategy.yaml"),
                                        "--as-of", AS_OF, *args], input=input, catch_exceptions=False)

    return invoke


def _proposed(tmp_path: Path, area: str, terms: list[str]) -> Path:
    from pipeline.strategy.edit import edit_keywords

    path = tmp_path / "strategy.new.yaml"
    path.write_text(edit_keywords(DEFAULT_STRATEGY.read_text(encoding="utf-8"), area, add=terms),
                    encoding="utf-8")
    return path


def test_preview_adding_a_keyword_brings_the_expected_calls_in(wb, tmp_path: Path) -> None:
    new = _proposed(tmp_path, "digital_industry", QUANTUM)
    result = wb("strategy", "preview", "--config", str(new), "--focus", "digital_industry", "--json")
    assert result.exit_code == 0, result.output
    (area,) = json.loads(result.stdout)
    assert area["focus_area"] == "digital_industry"
    titles = {row["call_id"]: row["title"] for row in [*area["before"], *area["after"]]}
    entering = [titles[c] for c in area["entering"]]
    # the quantum calls of the recording enter the top 10 (with a neighbour that LSA finds close in
    # meaning, e.g. secure computing)
    quantum = [t for t in entering if "quantum" in t.lower()]
    assert len(quantum) >= 3 and len(quantum) > len(entering) / 2, entering
    assert not any("quantum" in row["title"].lower() for row in area["before"])
    assert len(area["leaving"]) == len(area["entering"])
    assert all("quantum" in row["terms"] for row in area["after"]
               if row["call_id"] in area["entering"] and "quantum" in row["title"].lower())
    # the terminal rendering says the same
    text = wb("strategy", "preview", "--config", str(new), "--focus", "digital_industry")
    assert text.exit_code == 0
    assert text.stdout.startswith("digital_industry:\n")
    assert sum(line.startswith("  + #") for line in text.stdout.splitlines()) == len(entering)
    assert sum(line.startswith("  - #") for line in text.stdout.splitlines()) == len(area["leaving"])


def test_preview_errors(wb, tmp_path: Path) -> None:
    result = wb("strategy", "preview", "--focus", "space")
    assert (result.exit_code, result.stderr) == (
        2, "Error: unknown focus area 'space'; the strategy has offshore_energy, green_maritime, food_bio, "
           "digital_industry\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\norganisation: Y\nfocus_areas: [\n", encoding="utf-8")
    result = wb("strategy", "preview", "--config", str(broken))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and "broken.yaml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _copy_db(synced_db: str, tmp_path: Path) -> str:
    """A copy of the module's database for a test that marks calls (the WAL's pages included)."""
    import sqlite3

    copy = tmp_path / "marked.db"
    with sqlite3.connect(synced_db.removeprefix("sqlite:///")) as live, sqlite3.connect(copy) as target:
        live.backup(target)
    return f"sqlite:///{copy}"


def _rows(db: str) -> dict[str, list[Any]]:
    import sqlite3

    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY id').fetchall()
                for t in ("score", "verdict", "scoring_model", "corpus_model", "mark")}


def test_preview_shows_the_current_top_list_as_calls_list_ranks_it_with_marks(
        synced_db: str, tmp_path: Path) -> None:
    from pipeline.cli.main import app
    from pipeline.core.text import shorten

    db = _copy_db(synced_db, tmp_path)
    shutil.copy(DEFAULT_STRATEGY, tmp_path / "strategy.yaml")

    def run(*args: str) -> Any:
        result = CliRunner().invoke(app, ["--db", db, "--config", str(tmp_path / "strategy.yaml"),
                                          "--as-of", AS_OF, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    def listed(top: int) -> list[dict[str, Any]]:
        return json.loads(run("calls", "list", "--focus", "food_bio", "--top", str(top), "--json").stdout)

    first = listed(12)
    # the fundraisers disagree with the matcher: the first call is not for them, two lower ones are
    run("calls", "mark", str(first[0]["id"]), "irrelevant", "--focus", "food_bio")
    for row in first[9:11]:
        run("calls", "mark", str(row["id"]), "relevant", "--focus", "food_bio")
    unscored = run("strategy", "preview", "--focus", "food_bio", "--top", "5")
    assert unscored.stderr.startswith("note: the stored scores of greentech-dk (")
    assert unscored.stderr.endswith(" were computed from other focus areas, rules or marks than the config "
                                    "has now; `fundradar score` stores new ones, `fundradar strategy "
                                    "preview --config FILE` compares a file without storing\n")
    run("score")
    assert [r["score"] for r in listed(12)] != [r["score"] for r in first]  # the marks moved scores
    ranked = listed(5)
    preview = json.loads(run("strategy", "preview", "--focus", "food_bio", "--top", "5", "--json").stdout)
    assert [r["call_id"] for r in preview[0]["current"]] == [r["id"] for r in ranked]
    assert [r["score"] for r in preview[0]["current"]] == [round(r["score"], 4) for r in ranked]
    text = run("strategy", "preview", "--focus", "food_bio", "--top", "5")
    marks = {"passed": "✓", "failed": "✗", "unknown": "?"}
    assert (text.stdout, text.stderr) == (
        "food_bio: top 5 as `fundradar calls list --focus food_bio` ranks them\n" + "".join(
            f"  {n}. #{r['id']} {r['score']:.2f} {marks[r['rules']]} {shorten(r['title'], 56)}\n"
            for n, r in enumerate(ranked, 1)), "")
    # every focus area, in the strategy's order
    every = json.loads(run("strategy", "preview", "--top", "3", "--json").stdout)
    assert [a["focus_area"] for a in every] == ["offshore_energy", "green_maritime", "food_bio",
                                                "digital_industry"]

    # a proposed file is scored with the same marks: an edit of another area leaves food_bio as listed,
    # and the stored scores are not touched
    before = _rows(db)
    new = _proposed(tmp_path, "digital_industry", QUANTUM)
    trial = run("strategy", "preview", "--config", str(new), "--top", "5")
    assert "food_bio: no change in the top list\n" in trial.stdout
    assert "digital_industry:\n  + #" in trial.stdout
    assert _rows(db) == before
    assert listed(5) == ranked


def test_suggest_proposes_a_term_the_marked_calls_share(wb, synced_db: str) -> None:
    from sqlmodel import Session, select

    from pipeline.core.db import open_database
    from pipeline.core.models import Call

    engine = open_database(synced_db)
    with Session(engine) as session:
        battery = [c for c in session.exec(select(Call).order_by(Call.id)) if "batter" in c.title.lower()]
    engine.dispose()
    assert len(battery) >= 4
    for call in battery[:4]:
        assert wb("calls", "mark", str(call.id), "relevant", "--focus", "offshore_energy").exit_code == 0
    result = wb("strategy", "suggest", "--focus", "offshore_energy", "--json")
    assert result.exit_code == 0, result.output
    (area,) = json.loads(result.stdout)
    assert area["marked_relevant"] == 4 and area["terms"]
    top = area["terms"][0]
    assert top["term"].startswith("batter"), area["terms"]
    assert top["reach"] == 4  # all four marked calls contain it
    keywords = {"offshore wind", "energy storage", "hydrogen"}
    assert not {t["term"] for t in area["terms"]} & keywords
    text = wb("strategy", "suggest", "--focus", "offshore_energy")
    assert text.stdout.startswith("offshore_energy: 4 marked relevant, 0 irrelevant\n")
    # a focus area without marks says how to give some
    other = wb("strategy", "suggest", "--focus", "food_bio")
    assert "no calls marked relevant yet: `fundradar calls mark ID relevant --focus food_bio`" in other.stdout


def _diff(old: str, new: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.unified_diff(old.splitlines(True), new.splitlines(True), lineterm="", n=0):
        if line.startswith("-") and not line.startswith("---"):
            removed.append(line[1:])
        elif line.startswith("+") and not line.startswith("+++"):
            added.append(line[1:])
    return removed, added


def test_keywords_add_previews_then_writes_keeping_every_other_byte(wb, tmp_path: Path) -> None:
    path = tmp_path / "strategy.yaml"
    before = path.read_bytes()
    # answering no writes nothing
    result = wb("strategy", "keywords", "add", "digital_industry", *QUANTUM, input="n\n")
    assert result.exit_code == 0
    assert result.stdout.startswith("digital_industry:\n  + #")
    assert "Write " in result.stderr and "Nothing changed." in result.stderr
    assert path.read_bytes() == before
    # --yes writes; only the keyword line changed, comments and layout elsewhere byte for byte
    result = wb("strategy", "keywords", "add", "digital_industry", *QUANTUM, "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"{path}: added quantum, quantum technologies to digital_industry\n")
    after = path.read_bytes()
    removed, added = _diff(before.decode(), after.decode())
    # only the lines of digital_industry's keyword list changed (rewrapped with the new terms) ...
    assert removed[0].startswith("    keywords: [artificial intelligence, robotics,")
    assert "".join(added).replace("\n", " ").split() == \
        "".join(removed).replace("]", ", quantum, quantum technologies]").replace("\n", " ").split()
    # ... and every other byte, comments included, is as it was
    assert before.replace("".join(removed).encode(), b"") == after.replace("".join(added).encode(), b"")
    from pipeline.core.config import load_strategy

    assert load_strategy(path).focus_areas["digital_industry"].keywords[-2:] == QUANTUM
    # the same again is no change; removing gives the original strategy back (the list is rewrapped)
    again = wb("strategy", "keywords", "add", "digital_industry", "quantum", "--yes")
    assert again.exit_code == 0 and again.stdout.endswith("(quantum already there)\n")
    assert wb("strategy", "keywords", "remove", "digital_industry", *QUANTUM, "--yes").exit_code == 0
    assert load_strategy(path) == load_strategy(DEFAULT_STRATEGY)
    assert [line for line in path.read_text().splitlines() if "#" in line] == \
        [line for line in before.decode().splitlines() if "#" in line]


def test_keywords_add_to_an_unknown_area_is_a_usage_error(wb, tmp_path: Path) -> None:
    before = (tmp_path / "strategy.yaml").read_bytes()
    result = wb("strategy", "keywords", "add", "space", "satellites", "--yes")
    assert result.exit_code == 2
    assert "unknown focus area 'space'" in result.stderr
    assert (tmp_path / "strategy.yaml").read_bytes() == before


def test_board_report_json_and_png(wb, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    result = wb("strategy", "report", "--png", str(png), "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["focus_area"] for r in rows] == ["offshore_energy", "green_maritime", "food_bio",
                                               "digital_industry"]
    assert any(r["matching_calls"] > 0 for r in rows)
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    table = wb("strategy", "report")
    assert table.stdout.splitlines()[0] == ("Focus area                                 Calls   Budget  "
                                             "Exp. value  Pipeline")
    csv_out = wb("strategy", "report", "--csv")  # a listing: --csv as well as --json
    assert csv_out.exit_code == 0, csv_out.output
    keys = ["focus_area", "label", "matching_calls", "total_budget", "expected_value",
            "unknown_expected_value", "applications_in_pipeline"]
    assert list(csv.reader(io.StringIO(csv_out.stdout))) == [keys, *[[str(r[k]) for k in keys] for r in rows]]
    bad = wb("strategy", "report", "--png", str(tmp_path / "report.jpg"))
    assert bad.exit_code == 2
    assert "the chart is a PNG; give a file name ending in .png" in bad.stderr


def test_board_report_names_each_focus_area_whole(wb, monkeypatch) -> None:
    """The table named the areas by their labels cut at 23 characters ("Offshore wind and ener…"), on
    any terminal: a board could not tell which area a row is."""
    labels = ["Offshore wind and energy systems", "Green shipping and ports",
              "Food, agriculture and bio-based solutions", "Digital industry, AI and robotics"]
    for columns in ("80", "200"):
        monkeypatch.setenv("COLUMNS", columns)
        table = wb("strategy", "report")
        assert table.exit_code == 0, table.output
        lines = table.stdout.splitlines()
        assert lines[0].split() == ["Focus", "area", "Calls", "Budget", "Exp.", "value", "Pipeline"]
        assert [line[:len(label)] for line, label in zip(lines[1:], labels, strict=True)] == labels
        assert max(len(line) for line in lines) <= 80


def test_suggest_proposes_no_word_of_one_letter(wb, synced_db: str) -> None:
    """The SET Plan call says "Plan’s research and innovation priorities": its top suggestions were
    'plan s' and 's research', the rest of a possessive, which no secretariat would add."""
    from sqlmodel import Session, select

    from pipeline.core.db import open_database
    from pipeline.core.models import Call

    engine = open_database(synced_db)
    with Session(engine) as session:
        (wind,) = [c for c in session.exec(select(Call)) if c.topic_id == "HORIZON-CL5-2026-09-D3-03"]
    engine.dispose()
    assert "Plan’s" in wind.text
    # an area no other test marks calls in (the database is the module's)
    assert wb("calls", "mark", str(wind.id), "relevant", "--focus", "green_maritime").exit_code == 0
    result = wb("strategy", "suggest", "--focus", "green_maritime", "--json")
    assert result.exit_code == 0, result.output
    (area,) = json.loads(result.stdout)
    terms = [t["term"] for t in area["terms"]]
    assert area["marked_relevant"] == 1 and "strategic energy" in terms
    assert not [term for term in terms if any(len(part) == 1 for part in term.split())], terms


def test_keywords_add_of_a_danish_keyword_without_a_synonym_warns(wb, tmp_path: Path) -> None:
    """`strategy keywords add AREA "grønne tage"` previewed and wrote the keyword without a word that
    no English call can match it until a synonym translates it."""
    path = tmp_path / "strategy.yaml"
    result = wb("strategy", "keywords", "add", "food_bio", "grønne tage", "vertical farming", input="n\n")
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning")]
    assert warnings == [  # an English keyword needs none
        f"Warning: keyword 'grønne tage' has no English synonym, so English calls cannot match it; add a "
        f"synonym under synonyms: in {path}"]


@pytest.mark.parametrize("verb, term", [("add", "floating wind"), ("remove", "fermentation")])
def test_keywords_edit_never_rewrites_the_example_read_in_place_of_a_missing_strategy_file(
        synced_db: str, verb: str, term: str) -> None:
    """Without config/strategy.yaml the commands read the example; `strategy keywords add|remove
    --yes` (its --help example, on a fresh checkout) then rewrote config/strategy.example.yaml, the
    file every update of fundradar replaces."""
    from pipeline.core.paths import CONFIG_DIR

    if (CONFIG_DIR / "strategy.yaml").exists():
        pytest.skip("this checkout has its own config/strategy.yaml")
    area = "offshore_energy" if verb == "add" else "food_bio"
    before = DEFAULT_STRATEGY.read_bytes()
    from pipeline.cli.main import app

    try:
        result = CliRunner().invoke(app, ["--db", synced_db, "strategy", "keywords", verb, area, term,
                                          "--yes"])
    finally:
        written = DEFAULT_STRATEGY.read_bytes()
        if written != before:  # the checkout stays as it was, whatever the command did
            DEFAULT_STRATEGY.write_bytes(before)
    assert written == before
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: config/strategy.example.yaml: the example strategy, read because config/strategy.yaml "
        "does not exist; copy it to config/strategy.yaml and edit that, or name the file to edit "
        "with --config\n")


def test_preview_of_an_area_no_call_reaches_says_so_rather_than_to_score(synced_db: str, tmp_path: Path,
                                                                        ) -> None:
    """An area whose keyword and label no stored call comes near has no stored score once scored: the
    preview said "no call scored for this focus area (see `fundradar score`)" right after a score."""
    import sqlite3

    from pipeline.cli.main import app

    db = tmp_path / "copy.db"
    with sqlite3.connect(synced_db.removeprefix("sqlite:///")) as source, sqlite3.connect(db) as copy:
        source.backup(copy)  # the write-ahead log's pages too
    strategy = tmp_path / "narrow.yaml"
    strategy.write_text("name: narrow\norganisation: Narrow Cluster\nfocus_areas:\n"
                        "  nothing:\n    label: Qwxzy\n    keywords: [qwxzy]\n", encoding="utf-8")

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, ["--db", f"sqlite:///{db}", "--config", str(strategy), "--as-of",
                                        AS_OF, *args], catch_exceptions=False)

    before = run("strategy", "preview")
    assert before.exit_code == 0
    assert before.stdout == "nothing: no call scored for this focus area (see `fundradar score`)\n"
    assert run("score").exit_code == 0
    after = run("strategy", "preview")
    assert after.exit_code == 0
    assert after.stdout == ("nothing: no stored call scores 0.05 or more (its keywords, label and "
                            "description are far from every call; `fundradar config check` names the "
                            "keywords no call has)\n")


def test_preview_of_a_proposed_file_without_an_area_says_the_area_goes(wb, tmp_path: Path) -> None:
    """A proposed file that drops a focus area listed its calls as "- #id … (was 1)" under the area's
    name, as if they had merely fallen out of its top list."""
    text = DEFAULT_STRATEGY.read_text(encoding="utf-8")
    start, end = text.index("  digital_industry:\n"), text.index("\nrules:")
    new = tmp_path / "strategy.new.yaml"
    new.write_text(text[:start] + text[end:], encoding="utf-8")
    result = wb("strategy", "preview", "--config", str(new), "--focus", "digital_industry", "--top", "2")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "digital_industry: not in the proposed file; its current top 2 go with it:"
    assert [line[:4] for line in lines[1:]] == ["  - ", "  - "]
    data = json.loads(wb("strategy", "preview", "--config", str(new), "--focus", "digital_industry",
                         "--json").stdout)
    assert data[0]["removed"] is True
