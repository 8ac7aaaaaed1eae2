"""`fundradar strategy rename OLD NEW`: a strategy renamed in its file keeps its ideas, marks, scores
and Slack history."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from pipeline.core.db import session_scope
from pipeline.core.models import Application, Idea, Mark, Score, ScoringModel, SlackDelivery, Verdict
from tests.slack_data import NOW, add_call

FOLDER = Path(__file__).resolve().parent / "fixtures" / "strategies"


def renamed_folder(tmp_path: Path) -> Path:
    """The two-strategy folder with greentech-dk renamed to greentech in its file."""
    folder = tmp_path / "strategies"
    shutil.copytree(FOLDER, folder)
    path = folder / "greentech.yaml"
    path.write_text(path.read_text().replace("name: greentech-dk", "name: greentech"))
    return folder


def sent(key: str) -> SlackDelivery:
    return SlackDelivery(key=key, channel="C1", kind=key.split(":")[1], status="sent", created_at=NOW)


def stored_under_the_old_name(engine: Any) -> dict[str, int]:
    call_id = add_call(engine, 1)  # a score and a verdict of greentech-dk
    with session_scope(engine) as session:
        idea = Idea(title="Floating wind O&M", strategy="greentech-dk", created_at=NOW, updated_at=NOW)
        other = Idea(title="Fermented protein", strategy="foodbio-dk", created_at=NOW, updated_at=NOW)
        session.add_all([idea, other])
        session.flush()
        session.add(Application(idea_id=idea.id, call_id=call_id, status="drafting", created_at=NOW,
                                updated_at=NOW))
        session.add(Mark(call_id=call_id, strategy="greentech-dk", focus_area="offshore_energy",
                         label="relevant", marked_at=NOW))
        session.add(ScoringModel(strategy="greentech-dk", version="v1", vocabulary=b"", fitted_at=NOW))
        session.add_all([sent(f"greentech-dk:alert:{call_id}"), sent("foodbio-dk:digest:2026-08-24")])
        return {"call": call_id, "idea": idea.id, "other": other.id}


def test_rename_moves_ideas_marks_scores_and_slack_history(cli: Any, engine: Any, tmp_path: Path) -> None:
    ids = stored_under_the_old_name(engine)
    folder = renamed_folder(tmp_path)
    result = cli("--config", str(folder), "strategy", "rename", "greentech-dk", "greentech", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout == ("greentech-dk -> greentech: ideas 1, marks 1, scores 1, verdicts 1, "
                             "Slack messages sent 1\nMoved greentech-dk's data to greentech.\n")
    with Session(engine) as session:
        assert session.get(Idea, ids["idea"]).strategy == "greentech"
        assert session.get(Idea, ids["other"]).strategy == "foodbio-dk"
        for model in (Mark, Score, Verdict, ScoringModel):
            assert {row.strategy for row in session.exec(select(model))} == {"greentech"}, model
        keys = sorted(row.key for row in session.exec(select(SlackDelivery)))
    assert keys == ["foodbio-dk:digest:2026-08-24", f"greentech:alert:{ids['call']}"]
    # the renamed strategy sees its idea and the application through it
    listed = cli("--config", str(folder), "--strategy", "greentech", "applications", "list", "--json")
    assert listed.exit_code == 0 and f'"idea_id": {ids["idea"]}' in listed.stdout


def test_rename_after_the_new_name_was_scored_drops_the_old_scores(cli: Any, engine: Any,
                                                                    tmp_path: Path) -> None:
    ids = stored_under_the_old_name(engine)
    with session_scope(engine) as session:  # serve reloaded the edit and scored under the new name
        session.add(ScoringModel(strategy="greentech", version="v2", vocabulary=b"", fitted_at=NOW))
        session.add(sent(f"greentech:alert:{ids['call']}"))
    folder = renamed_folder(tmp_path)
    result = cli("--config", str(folder), "strategy", "rename", "greentech-dk", "greentech", "--yes")
    assert result.exit_code == 0, result.output
    assert "(greentech is already scored: greentech-dk's scores are deleted, not moved)" in result.stdout
    with Session(engine) as session:
        for model in (Score, Verdict):
            assert session.exec(select(sa.func.count()).select_from(model)).one() == 0
        assert [m.version for m in session.exec(select(ScoringModel))] == ["v2"]
        assert [m.strategy for m in session.exec(select(Mark))] == ["greentech"]
        keys = sorted(row.key for row in session.exec(select(SlackDelivery)))
    assert keys == ["foodbio-dk:digest:2026-08-24", f"greentech:alert:{ids['call']}"]  # sent once


def test_rename_asks_first_and_refuses_mistakes(cli: Any, engine: Any, tmp_path: Path) -> None:
    ids = stored_under_the_old_name(engine)
    folder = renamed_folder(tmp_path)
    args = ("--config", str(folder), "strategy", "rename")
    declined = cli(*args, "greentech-dk", "greentech", input="n\n")
    assert declined.exit_code == 0 and "Nothing changed." in declined.stderr
    with Session(engine) as session:
        assert session.get(Idea, ids["idea"]).strategy == "greentech-dk"
    for old, new, message in [
        ("greentech-dk", "greentec", "Error: strategy 'greentec' is not in the config (foodbio-dk, "
                                     "greentech); rename it in its file first, then move its data\n"),
        ("foodbio-dk", "greentech", "Error: strategy 'foodbio-dk' is still in the config; rename it in its "
                                    "file first (two strategies in use are never merged)\n"),
        ("greentek", "greentech", "Error: nothing is stored under strategy 'greentek'; check the old name "
                                  "(`fundradar ideas list --json` shows each idea's strategy)\n"),
        ("greentech", "greentech", "Error: old and new strategy name are both 'greentech'; give the name it "
                                   "had before\n"),
    ]:
        result = cli(*args, old, new, "--yes")
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", message), (old, new)
