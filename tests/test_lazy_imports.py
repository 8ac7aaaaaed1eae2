"""Commands that do not score never import scikit-learn (nor matplotlib): each one runs in a fresh
interpreter against a small real SQLite database, and the modules it loaded are checked afterwards.

``fundradar score`` is the control: it must import scikit-learn, or the check would prove nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from pipeline.core.config import load_config
from pipeline.core.db import open_database
from pipeline.core.models import Application, Call, Idea, Partner, Score, Verdict

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)
HEAVY = ("sklearn", "matplotlib")

# Runs each command line given as a JSON list through the CLI's entry point, one after the other in
# this interpreter, and records after each which heavy modules are loaded. sys.modules only grows, so
# the first command after which a heavy module shows up is the one that imported it.
RUNNER = """
import json, sys
out, commands = sys.argv[1], json.loads(sys.argv[2])
roots = tuple(json.loads(sys.argv[3])) if len(sys.argv) > 3 else ("sklearn", "matplotlib")
from pipeline.cli.main import run
results = []
for args in commands:
    sys.argv = ["fundradar", *args]
    code = 0
    try:
        run()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    results.append({"args": args, "code": code, "modules": sorted(
        m for m in sys.modules if m.split(".")[0] in roots or m in roots)})
with open(out, "w") as handle:
    json.dump(results, handle)
"""

LIGHT_COMMANDS = [
    ["--help"],
    ["calls", "list"],
    ["calls", "list", "--top", "20", "--json"],
    ["calls", "show", "1"],
    ["deadlines"],
    ["ideas", "list"],
    ["ideas", "show", "1"],
    ["partners", "list"],
    ["partners", "show", "1"],
    ["applications", "list"],
    ["applications", "show", "1"],
    ["pipeline", "report"],
    ["sources", "list"],
    ["sources", "status"],
    ["db", "upgrade"],
    ["db", "status"],
    ["config", "check"],
    ["digest", "--dry-run"],
]


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file with one scored call, one idea, one partner and one application."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('lazy') / 'fundradar.db'}"
    engine = open_database(db_url)
    strategy = load_config().strategy.name
    deadline = NOW + timedelta(days=30)
    with Session(engine) as session:
        call = Call(source="eu_ft", external_id="REF-1", title="Offshore wind energy islands",
                    text="Energy islands and offshore wind integration in the North Sea grid.",
                    programme="Horizon Europe", topic_id="HORIZON-CL5-2027-03-D3-01", status="open",
                    deadline=deadline, deadlines=[{"at": deadline.isoformat(), "time_assumed": False}],
                    first_seen=NOW, last_seen=NOW)
        idea = Idea(title="Energy island pilot", created_at=NOW, updated_at=NOW)
        partner = Partner(organisation="Baltic Wind Lab", country="SE", type="rto", created_at=NOW,
                          updated_at=NOW)
        session.add_all([call, idea, partner])
        session.flush()
        session.add(Score(call_id=call.id, strategy=strategy, focus_area="offshore_energy", score=0.4,
                          explanation=[{"term": "offshore wind", "weight": 0.3}], computed_at=NOW))
        session.add(Verdict(call_id=call.id, strategy=strategy, passed=True, priority=0.5, computed_at=NOW))
        session.add(Application(idea_id=idea.id, call_id=call.id, status="draft", created_at=NOW,
                                updated_at=NOW, seen_deadlines=[deadline.isoformat()]))
        session.commit()
    engine.dispose()
    return db_url


def run_cli(commands: list[list[str]], db_url: str, tmp_path: Path,
            roots: tuple[str, ...] = HEAVY) -> list[dict[str, Any]]:
    out = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FUNDRADAR_", "SLACK_"))
           or k == "FUNDRADAR_CACHE"}
    env.update(FUNDRADAR_DB=db_url, FUNDRADAR_NOW=NOW.isoformat(), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(out), json.dumps(commands), json.dumps(roots)],
                          cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert out.exists(), f"the commands did not finish: {proc.stderr[-2000:]}"
    results: list[dict[str, Any]] = json.loads(out.read_text())
    for result in results:
        result["stderr"] = proc.stderr
    return results


@pytest.fixture(scope="module")
def light_results(small_db: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("lazy_run")
    commands = [*LIGHT_COMMANDS, ["export", "ical", str(tmp / "deadlines.ics")]]
    return {" ".join(r["args"][:2]) if r["args"][0] == "export" else " ".join(r["args"]): r
            for r in run_cli(commands, small_db, tmp)}


@pytest.mark.parametrize("command", [" ".join(a) for a in LIGHT_COMMANDS] + ["export ical"])
def test_command_does_not_import_heavy_libraries(command: str,
                                                 light_results: dict[str, dict[str, Any]]) -> None:
    result = light_results[command]
    assert result["code"] == 0, f"fundradar {command} failed: {result['stderr'][-2000:]}"
    assert result["modules"] == [], f"fundradar {command} imported {result['modules'][:5]}"


def test_score_imports_scikit_learn(small_db: str, tmp_path: Path) -> None:
    """The control: the check does see scikit-learn when a command needs it."""
    [result] = run_cli([["score"]], small_db, tmp_path)
    assert result["code"] == 0, result["stderr"][-2000:]
    assert "sklearn" in result["modules"]


def test_calls_why_when_nothing_is_due_does_not_import_scikit_learn(small_db: str, tmp_path: Path) -> None:
    """`calls why` brings the scoring up to date first; when nothing is new, changed or due, that is a
    query, not a model: scikit-learn stays unloaded."""
    import sqlite3

    copy = tmp_path / "copy.db"
    with sqlite3.connect(small_db.removeprefix("sqlite:///")) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    url = f"sqlite:///{copy}"
    [scored] = run_cli([["score", "--all"]], url, tmp_path)  # a full rescore: the model is loaded
    assert scored["code"] == 0 and "sklearn" in scored["modules"], scored["stderr"][-2000:]
    [why] = run_cli([["calls", "why", "1"]], url, tmp_path)
    assert why["code"] == 0, why["stderr"][-2000:]
    assert why["modules"] == []


# The read commands answer on a read-only connection of their own (pipeline.core.sql): neither
# SQLAlchemy, SQLModel nor the table models are imported; nor the stemmers, once the focus areas'
# analysis is cached.
ORM = ("sqlalchemy", "sqlmodel", "alembic", "pipeline.core.models")
READ_COMMANDS = [
    ["calls", "list"],
    ["calls", "list", "--top", "20"],
    ["calls", "list", "--top", "20", "--json"],
    ["calls", "list", "--csv", "--sort", "deadline", "--within", "60"],
    ["calls", "list", "--passing", "--followed", "--sort", "opening"],
    ["calls", "why", "1"],
    ["calls", "why", "1", "--json"],
    ["deadlines"],
    ["deadlines", "--json", "--weeks", "12"],
    ["deadlines", "--csv"],
    ["calls", "show", "1"],
    ["calls", "show", "1", "--json"],
]


def test_read_commands_do_not_import_the_orm(small_db: str, tmp_path: Path) -> None:
    import sqlite3

    copy = tmp_path / "copy.db"
    with sqlite3.connect(small_db.removeprefix("sqlite:///")) as source, sqlite3.connect(copy) as target:
        source.backup(target)
        target.execute("UPDATE call SET content_hash = 'as-the-watcher-sets-it'")
    url = f"sqlite:///{copy}"
    [scored] = run_cli([["score", "--all"]], url, tmp_path)  # so that `calls why 1` explains a current call
    assert scored["code"] == 0, scored["stderr"][-2000:]
    [warm] = run_cli([["calls", "list"]], url, tmp_path)  # the focus areas analysed once (data/cache/queries)
    assert warm["code"] == 0, warm["stderr"][-2000:]
    results = run_cli(READ_COMMANDS, url, tmp_path, (*ORM, "snowballstemmer"))
    for result in results:
        assert result["code"] == 0, f"fundradar {' '.join(result['args'])}: {result['stderr'][-2000:]}"
        assert result["modules"] == [], f"{' '.join(result['args'])} imported {result['modules'][:5]}"
    [control] = run_cli([["applications", "list"]], url, tmp_path, ORM)  # the check sees the ORM when used
    assert "sqlalchemy" in control["modules"]
