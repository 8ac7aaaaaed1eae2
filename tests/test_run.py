"""``fundradar run``: the main job (sync, follow deadlines, score, digest) on the recorded data."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, func, select

from pipeline.core.models import Call, Score, Verdict

CONFIG = "config/strategy.example.yaml"
NO_SLACK = {"SLACK_BOT_TOKEN": "", "SLACK_WEBHOOK_URL": ""}


def test_run_replays_scores_and_prints_the_digest(cli, samples: Path, engine) -> None:
    result = cli("--config", CONFIG, "run", "--replay", str(samples), env=NO_SLACK)
    assert result.exit_code == 0, result.output
    # the digest is the data (stdout); what happened per source is a log (stderr)
    assert result.stdout.startswith("── #eu-fundraising ")
    assert "FUNDING DIGEST FOR GREENTECH CLUSTER DENMARK" in result.stdout
    assert "Top 10 calls" in result.stdout
    assert "eu_ft: ok, 611 seen, 611 new, 0 changed, 0 closed, 0 removed\n" in result.stderr
    # each left-out source is one whole line, however narrow the terminal (a pipe: 80 columns)
    assert result.stderr.startswith("".join(
        f"{name}: no recording in {samples}; skipped ({kind} source, live only: run it without --replay)\n"
        for name, kind in (("interreg_bsr_news", "feed"), ("interreg_no_calendar", "ical"),
                           ("innovation_express", "page_watch"))))
    assert "digest as of 2026-08-22 10:00 UTC." in result.stderr
    with Session(engine) as session:
        calls = session.exec(select(func.count()).select_from(Call)).one()
        # every call scored (its Verdict names the model); Score rows only where a score reaches the floor
        scored = select(func.count()).select_from(Verdict).where(Verdict.model_version != "")
        assert session.exec(scored).one() == calls
        assert 0 < session.exec(select(func.count(func.distinct(Score.call_id)))).one() <= calls


def test_run_after_a_mark_says_so_on_one_line(cli, samples: Path) -> None:
    assert cli("--config", CONFIG, "run", "--replay", str(samples), env=NO_SLACK).exit_code == 0
    marked = cli("--config", CONFIG, "calls", "mark", "HORIZON-CL5-2026-09-D3-03", "relevant", "--focus",
                 "offshore_energy")
    assert marked.exit_code == 0, marked.output
    result = cli("--config", CONFIG, "run", "--replay", str(samples), env=NO_SLACK)
    assert result.exit_code == 0, result.output
    # longer than the 80 columns of a pipe, and still one line
    assert ("\nScored 615 of 615 calls (focus areas or marks changed); digest as of 2026-08-22 10:00 UTC.\n"
            in result.stderr)


def test_run_twice_changes_nothing_and_json(cli, samples: Path) -> None:
    assert cli("--config", CONFIG, "run", "--replay", str(samples), env=NO_SLACK).exit_code == 0
    result = cli("--config", CONFIG, "run", "--replay", str(samples), "--json", env=NO_SLACK)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["as_of"] == "2026-08-22T10:00:00+00:00"
    eu = next(s for s in data["sources"] if s["source"] == "eu_ft")
    assert (eu["new"], eu["changed"], eu["closed"], eu["unchanged"]) == (0, 0, 0, 611)
    assert data["scoring"]["reason"] == "up to date"
    assert data["digest"] and data["digest"][0]["status"] == "terminal"


def test_run_with_a_missing_replay_folder_is_a_usage_error(cli, tmp_path: Path) -> None:
    result = cli("--config", CONFIG, "run", "--replay", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: --replay {tmp_path / 'nope'}: no such folder; give a recording "
                                  "folder such as samples/eu_ft/search_2026-08-22 or the samples root\n")


def test_sync_prints_each_left_out_source_on_one_line(cli, samples: Path) -> None:
    folder = samples / "euro_access"  # only euro_access is recorded there
    result = cli("--config", CONFIG, "sync", "--replay", str(folder))
    assert result.exit_code == 0, result.output
    assert result.stderr == "".join(
        f"{name}: no recording in {folder}; skipped ({kind} source, live only: run it without --replay)\n"
        for name, kind in (("eu_ft", "eu_ft"), ("interreg_bsr_news", "feed"),
                           ("interreg_no_calendar", "ical"), ("innovation_express", "page_watch")))
