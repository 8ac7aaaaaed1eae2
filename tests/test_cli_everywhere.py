"""What holds for every command: a read never creates a database, a declined prompt changes nothing and
exits 0, a sync summary names removals as removals, serve's times carry their zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from pipeline.cli.main import app
from pipeline.cli.serve_cmd import _when
from pipeline.sync import run_row, split_removals
from tests.test_applications import NOW, bsr_call, seed
from watcher.store import begin_run, finish_run

READS = [("calls", "list"), ("calls", "show", "1"), ("calls", "why", "1"), ("ideas", "list"),
         ("ideas", "show", "1"), ("partners", "list"), ("applications", "list"), ("deadlines",),
         ("pipeline", "report"), ("sources", "status"), ("calls", "mark", "1", "relevant"),
         ("calls", "follow", "1")]


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_a_mistyped_db_path_is_an_error_and_creates_nothing(tmp_path: Path, args: tuple[str, ...]) -> None:
    path = tmp_path / "typo" / "fundradar.db"
    result = CliRunner().invoke(app, ["--db", str(path), *args])
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"Error: no database at {path}; run fundradar sync first\n")
    assert not path.parent.exists()


def test_sync_summary_tells_removed_from_closed(engine) -> None:
    seed(engine)
    later = NOW + timedelta(days=1)
    run_id = begin_run(engine, "euro_access", later, type_="test")
    # a complete run with a new call but without both old ones: the one whose deadline passed closes,
    # the other is removed (the mass-closure guard, tested in test_plausibility, allowed to here)
    other = bsr_call().__class__(**{**bsr_call().__dict__, "external_id": "ea-other", "title": "Other"})
    result = finish_run(engine, run_id, [other], later, complete=True, max_close_share=1.0)
    [row] = split_removals(engine, [run_row(result)])
    assert (row["closed"], row["removed"]) == (1, 1)


def test_serve_names_the_zone_of_next_run_times() -> None:
    moment = datetime(2026, 8, 23, 6, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))
    assert _when(moment) == "2026-08-23 06:00 Europe/Copenhagen"
    assert _when(None) == "none (paused)"


def test_deadlines_track_followed_calls_not_marks(cli, engine) -> None:
    ids = seed(engine)
    at = ("--as-of", "2026-08-22T09:00+02:00")
    horizon = str(ids["horizon"])
    assert cli(*at, "calls", "mark", horizon, "relevant").exit_code == 0
    result = cli(*at, "deadlines", "--weeks", "12")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "Nothing due within 12 weeks.\n")
    assert cli(*at, "calls", "follow", horizon).exit_code == 0
    result = cli(*at, "deadlines", "--weeks", "12", "--csv")
    assert (result.exit_code, result.stdout.splitlines()[1:]) == (
        0, [f"call,{horizon},Zero-emission waterborne transport demonstrators,2026-11-04T16:00:00+00:00,"
            "74,open"])
    help_text = " ".join(cli("deadlines", "--help").stdout.split())
    assert ("Rows are the open applications (draft to submitted) of the strategy's ideas and the calls the "
            "strategy follows (`fundradar calls follow ID`) that are open or forthcoming and have no open "
            "application of ours. An idea without an application, or a call marked relevant but not "
            "followed, is not listed.") in help_text


def test_ideas_calls_reports_unknown_rules_as_unknown(cli, engine) -> None:
    import json

    ids = seed(engine)
    result = cli("--as-of", "2026-08-22T09:00+02:00", "ideas", "calls", "1", "--json")
    assert result.exit_code == 0
    [bsr] = [row for row in json.loads(result.stdout) if row["call_id"] == ids["bsr"]]
    assert bsr["passed"] is True and bsr["failed_rules"] == []
    assert bsr["unknown_rules"] and all(":" in rule for rule in bsr["unknown_rules"])
