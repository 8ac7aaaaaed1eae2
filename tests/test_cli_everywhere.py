"""What holds for every command: a read never creates a database, a declined prompt changes nothing and
exits 0, a sync summary names removals as removals, serve's times carry their zone."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from pipeline.cli.main import app
from pipeline.cli.serve_cmd import _when
from pipeline.core.models import Idea
from pipeline.sync import run_row, split_removals
from tests.test_applications import NOW, bsr_call, seed
from watcher.store import begin_run, finish_run

ROOT = Path(__file__).resolve().parent.parent

READS = [("calls", "list"), ("calls", "show", "1"), ("calls", "why", "1"), ("ideas", "list"),
         ("ideas", "show", "1"), ("partners", "list"), ("applications", "list"), ("deadlines",),
         ("pipeline", "report"), ("sources", "status"), ("calls", "mark", "1", "relevant"),
         ("calls", "follow", "1"), ("calls", "mute", "1"), ("db", "status"), ("ideas", "calls", "1"),
         ("strategy", "preview"), ("strategy", "report"), ("export", "ical", "calls.ics"),
         ("digest", "--dry-run"), ("alerts", "--dry-run"), ("score",)]


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_a_mistyped_db_path_is_an_error_and_creates_nothing(tmp_path: Path, args: tuple[str, ...],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # an output file named relative (export ical) would land here
    path = tmp_path / "typo" / "fundradar.db"
    result = CliRunner().invoke(app, ["--db", str(path), *args])
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"Error: no database at {path}; run fundradar sync first\n")
    assert list(tmp_path.iterdir()) == []


def test_sync_summary_tells_removed_from_closed(engine) -> None:
    seed(engine)
    later = NOW + timedelta(days=1)
    run_id = begin_run(engine, "euro_access", later, type_="test")
    # a complete run with a new call but without both old ones: the one whose deadline passed closes,
    # the other is marked missing (the mass-closure guard, tested in test_plausibility, allowed to here)
    other = bsr_call().__class__(**{**bsr_call().__dict__, "external_id": "ea-other", "title": "Other"})
    result = finish_run(engine, run_id, [other], later, complete=True, max_close_share=1.0)
    [row] = split_removals(engine, [run_row(result)])
    assert (row["closed"], row["removed"], row["missing"]) == (1, 0, 1)
    # the next complete answer without it removes it
    then = later + timedelta(days=1)
    result = finish_run(engine, begin_run(engine, "euro_access", then, type_="test"), [other], then,
                        complete=True, max_close_share=1.0)
    [row] = split_removals(engine, [run_row(result)])
    assert (row["closed"], row["removed"], row["missing"]) == (0, 1, 0)


def test_serve_names_the_zone_of_next_run_times() -> None:
    moment = datetime(2026, 8, 23, 6, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))
    assert _when(moment) == "2026-08-23 06:00 Europe/Copenhagen"
    assert _when(None) == "none (paused)"


# Two sources on daily schedules at the strategy's hours, two digests and the alerts: nothing runs in
# the seconds the test serves (no source is fetched), every job is listed.
SERVED = """\
name: zone-cluster
organisation: Zone Cluster
timezone: Europe/Copenhagen
focus_areas:
  energy: {label: Energy, keywords: [offshore wind]}
sources:
  news:
    type: feed
    url: http://127.0.0.1:9/feed/
    schedule: {cron: "0 5 * * *", jitter_seconds: 0}
  calendar:
    type: ical
    url: http://127.0.0.1:9/calendar.ics
    timezone: Europe/Oslo
    schedule: {cron: "30 5 * * *", jitter_seconds: 0}
slack:
  digests:
    - {channel: "#weekly", schedule: {cron: "0 8 * * 1"}}
    - {channel: "#daily", schedule: {cron: "0 8 * * 1-5"}}
  alerts: {channel: "#weekly"}
"""
NEXT_RUN = re.compile(r"  (\S+): next run \d{4}-\d\d-\d\d \d\d:\d\d (\S+)")


def _serve_until_listed(tmp_path: Path, *args: str, served: str = SERVED) -> tuple[int, list[str]]:
    """Start ``fundradar serve``, stop it with SIGTERM once it has listed its jobs: exit code, stderr."""
    config = tmp_path / "strategy.yaml"
    config.write_text(served, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FUNDRADAR_", "SLACK_"))
           or k == "FUNDRADAR_CACHE"}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli.main", "--db", str(tmp_path / "f.db"),
                             "--config", str(config), "serve", "--jitter", "0", *args], cwd=ROOT, env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        while not (lines and NEXT_RUN.match(lines[-1]) and lines[-1].startswith("  config-reload:")):
            line = proc.stderr.readline()
            assert line, lines  # serve ended before listing its jobs
            lines.append(line.rstrip("\n"))
    finally:
        proc.send_signal(signal.SIGTERM)
        out, rest = proc.communicate(timeout=60)
    assert out == ""
    return proc.returncode, lines + rest.splitlines()


@pytest.mark.slow
@pytest.mark.parametrize(("args", "jobs"), [
    ((), {"source:news": "Europe/Copenhagen", "source:calendar": "Europe/Copenhagen",
          "digest:#weekly": "Europe/Copenhagen", "digest:#daily": "Europe/Copenhagen",
          "alerts": "Europe/Copenhagen", "config-reload": "Etc/UTC"}),
    (("--no-digests",), {"source:news": "Europe/Copenhagen", "source:calendar": "Europe/Copenhagen",
                         "config-reload": "Etc/UTC"}),
], ids=["all", "no-digests"])
def test_serve_lists_as_many_jobs_as_it_counts_each_with_its_zone(
        tmp_path: Path, args: tuple[str, ...], jobs: dict[str, str]) -> None:
    code, lines = _serve_until_listed(tmp_path, *args)
    assert code == 0
    assert lines[0] == f"fundradar serve: {len(jobs)} jobs scheduled; stop with Ctrl-C or SIGTERM"
    listed = [NEXT_RUN.match(line) for line in lines[1:1 + len(jobs)]]
    assert {m.group(1): m.group(2) for m in listed if m} == jobs
    assert lines[1 + len(jobs):] == ["stopping: waiting for running jobs to finish their write", "stopped"]


@pytest.mark.slow
def test_serve_lists_a_long_job_name_on_one_line(tmp_path: Path) -> None:
    name = "interreg_baltic_sea_region_programme_news_and_calls_feed"
    code, lines = _serve_until_listed(tmp_path, served=SERVED.replace("  news:", f"  {name}:"))
    assert code == 0
    assert [m.group(2) for m in map(NEXT_RUN.match, lines) if m and m.group(1) == f"source:{name}"] == [
        "Europe/Copenhagen"]


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
        0, [f"call,{horizon},Zero-emission waterborne transport demonstrators,2026-11-04T17:00:00+01:00,"
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


def test_no_to_a_prompt_changes_nothing_and_exits_0(cli, engine, tmp_path: Path) -> None:
    from tests.test_strategy_rename import renamed_folder, stored_under_the_old_name

    stored_under_the_old_name(engine)
    folder = renamed_folder(tmp_path)
    before = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
    declined = cli("--config", str(folder), "strategy", "rename", "greentech-dk", "greentech", input="n\n")
    # what would move on stdout; the prompt and the answer on stderr (the runner echoes the typed "n"
    # to stdout, where a terminal shows it after the prompt)
    assert (declined.exit_code, declined.stdout, declined.stderr) == (
        0, "greentech-dk -> greentech: ideas 1, marks 1, scores 1, verdicts 1, Slack messages sent 1\n n\n",
        "Move them? [y/N]:Nothing changed.\n")
    assert {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()} == before
    with Session(engine) as session:
        assert {idea.strategy for idea in session.exec(select(Idea))} == {"greentech-dk", "foodbio-dk"}


def test_a_prompt_without_standard_input_is_a_usage_error_that_changes_nothing(cli, engine,
                                                                               tmp_path: Path) -> None:
    """A script or cron job without --yes met the [y/N] question with a closed standard input: click
    printed "Aborted!" after the prompt and exited 1, which the README keeps for runtime failures."""
    from tests.test_strategy_rename import renamed_folder, stored_under_the_old_name

    stored_under_the_old_name(engine)
    folder = renamed_folder(tmp_path)
    before = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
    result = cli("--config", str(folder), "strategy", "rename", "greentech-dk", "greentech")
    assert (result.exit_code, result.stderr) == (
        2, "Move them? [y/N]:\nError: strategy rename greentech-dk greentech: no answer, standard input "
           "is closed; nothing changed; pass --yes to move without asking\n")
    assert {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()} == before
    with Session(engine) as session:
        assert {idea.strategy for idea in session.exec(select(Idea))} == {"greentech-dk", "foodbio-dk"}
