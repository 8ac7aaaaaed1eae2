"""A config the stored scores were not computed from (a trial file) never replaces them: `calls why`
scores in a scratch database, says so, and leaves the shared database byte for byte as it was."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from pipeline.core.config import DEFAULT_STRATEGY
from pipeline.strategy.edit import edit_keywords
from tests.scoring_data import insert_calls
from tests.test_scoring import TEXTS

AS_OF = ["--as-of", "2026-08-22T09:00+00:00"]
SCORING_TABLES = ("score", "verdict", "scoring_model", "corpus_model", "mark")


def scratch_note(config: object) -> str:
    """What stderr says when a reading command scored in a scratch database: why, and what stores."""
    return (f"scored with {config} in a scratch database (the stored scores were computed from other "
            "focus areas, rules or marks); stored scores unchanged, `fundradar score` stores new ones\n")


def table_rows(db_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(db_path) as conn:
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY id').fetchall() for t in SCORING_TABLES}


def trial_file(tmp_path: Path) -> Path:
    """The example strategy with the fermentation call's words added to offshore_energy."""
    path = tmp_path / "other.yaml"
    path.write_text(edit_keywords(DEFAULT_STRATEGY.read_text(encoding="utf-8"), "offshore_energy",
                                  add=["precision fermentation", "biorefinery"]), encoding="utf-8")
    return path


def test_calls_why_with_a_trial_config_leaves_stored_scores_unchanged(cli: Any, engine: Any, db_url: str,
                                                                        tmp_path: Path) -> None:
    ids = insert_calls(engine, TEXTS * 4)
    production = ["--config", str(DEFAULT_STRATEGY), *AS_OF]
    assert cli(*production, "score").exit_code == 0
    stored = cli(*production, "calls", "why", str(ids[2]))
    assert (stored.exit_code, stored.stderr) == (0, "")
    db_path = Path(db_url.removeprefix("sqlite:///"))
    before = table_rows(db_path)

    other = trial_file(tmp_path)
    trial = cli("--config", str(other), *AS_OF, "calls", "why", str(ids[2]))
    assert trial.exit_code == 0, trial.output
    assert trial.stderr == scratch_note(other)
    assert trial.stdout != stored.stdout  # the fermentation call now scores for offshore_energy
    assert table_rows(db_path) == before
    # the other readers of scores: ideas calls scores in scratch too, calls list says whose scores it shows
    assert cli(*production, "ideas", "add", "Biorefinery pilot", "--focus", "offshore_energy").exit_code == 0
    ideas = cli("--config", str(other), *AS_OF, "ideas", "calls", "1", "--json")
    assert ideas.exit_code == 0, ideas.output
    assert ideas.stderr == scratch_note(other)
    assert ids[2] in [row["call_id"] for row in json.loads(ideas.stdout)]  # the trial's biorefinery call
    listed = cli("--config", str(other), *AS_OF, "calls", "list", "--focus", "offshore_energy")
    assert listed.exit_code == 0
    assert listed.stderr == (f"note: the stored scores of greentech-dk ({other}) were computed from other "
                             "focus areas, rules or marks than the config has now; `fundradar score` "
                             "stores new ones, `fundradar strategy preview --config FILE` compares a file "
                             "without storing\n")
    assert table_rows(db_path) == before
    # ... so the production config reads the stored scores again, rescoring nothing
    again = cli(*production, "calls", "why", str(ids[2]))
    assert (again.exit_code, again.stdout, again.stderr) == (0, stored.stdout, "")
    assert table_rows(db_path) == before

    # the scratch answer is the one `fundradar score` would store for the trial config
    copy = tmp_path / "copy.db"
    with sqlite3.connect(db_path) as live, sqlite3.connect(copy) as target:
        live.backup(target)  # the WAL's pages too
    assert cli("--db", str(copy), "--config", str(other), *AS_OF, "score").exit_code == 0
    scored = cli("--db", str(copy), "--config", str(other), *AS_OF, "calls", "why", str(ids[2]))
    assert (scored.exit_code, scored.stdout, scored.stderr) == (0, trial.stdout, "")


def test_calls_why_scores_the_database_when_nothing_is_stored_yet(cli: Any, engine: Any,
                                                                   db_url: str) -> None:
    """With no scoring stored for the strategy there is nothing a trial could replace: `calls why`
    scores the database as `fundradar score` would, silently."""
    ids = insert_calls(engine, TEXTS)
    result = cli("--config", str(DEFAULT_STRATEGY), *AS_OF, "calls", "why", str(ids[0]))
    assert (result.exit_code, result.stderr) == (0, "")
    assert table_rows(Path(db_url.removeprefix("sqlite:///")))["score"]


def test_calls_why_after_a_mark_scores_in_scratch(cli: Any, engine: Any, db_url: str) -> None:
    """A mark not scored yet changes the queries: `calls why` shows its effect without storing it."""
    ids = insert_calls(engine, TEXTS * 4)
    production = ["--config", str(DEFAULT_STRATEGY), *AS_OF]
    assert cli(*production, "score").exit_code == 0
    marked = cli(*production, "calls", "mark", str(ids[3]), "relevant", "--focus", "offshore_energy")
    assert marked.exit_code == 0
    db_path = Path(db_url.removeprefix("sqlite:///"))
    before = table_rows(db_path)
    result = cli(*production, "calls", "why", str(ids[3]))
    assert result.exit_code == 0
    assert result.stderr == scratch_note(DEFAULT_STRATEGY.relative_to(Path.cwd()))
    assert table_rows(db_path) == before


def test_a_trial_on_postgresql_is_scored_in_a_scratch_sqlite_copy(pg_url: str, tmp_path: Path) -> None:
    """The scratch copy reads any database: on PostgreSQL the stored rows stay as they were too."""
    import sqlalchemy as sa
    from typer.testing import CliRunner

    from pipeline.cli.main import app
    from pipeline.core.db import open_database

    engine = open_database(pg_url)
    try:
        ids = insert_calls(engine, TEXTS * 4)

        def run(config: Path, *args: str) -> Any:
            return CliRunner().invoke(app, ["--db", pg_url, "--config", str(config), *AS_OF, *args],
                                      catch_exceptions=False)

        def rows() -> dict[str, list[Any]]:
            with engine.connect() as conn:
                return {t: [tuple(r) for r in conn.execute(sa.text(f'SELECT * FROM "{t}" ORDER BY id'))]
                        for t in SCORING_TABLES}

        assert run(DEFAULT_STRATEGY, "score").exit_code == 0
        stored = run(DEFAULT_STRATEGY, "calls", "why", str(ids[2]))
        before = rows()
        other = trial_file(tmp_path)
        trial = run(other, "calls", "why", str(ids[2]))
        assert trial.exit_code == 0, trial.output
        assert trial.stderr == scratch_note(other)
        assert trial.stdout != stored.stdout
        assert rows() == before
    finally:
        engine.dispose()
