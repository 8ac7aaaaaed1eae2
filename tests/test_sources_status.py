"""`fundradar sources status`: last run, duration, counts, consecutive failures and last error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlmodel import Session

from pipeline.core.config import load_config
from pipeline.core.models import FetchRun
from tests.localserver import LocalServer
from tests.test_scheduler import serve_routes, write_config
from watcher.runner import run_source
from watcher.sources import build_adapters
from watcher.store import record_duration

NOW = datetime(2025, 10, 15, 9, 0, tzinfo=UTC)


def _record_runs(config_path: Path, engine) -> None:
    strategy = load_config(config_path).strategy
    adapters = {a.name: a for a in build_adapters(strategy, engine=engine)}
    with httpx.Client(timeout=0.3) as client:
        results = [run_source(engine, adapters["good_feed"], client, NOW),
                   run_source(engine, adapters["broken"], client, NOW),
                   run_source(engine, adapters["good_feed"], client, NOW + timedelta(hours=6)),
                   run_source(engine, adapters["broken"], client, NOW + timedelta(hours=6)),
                   run_source(engine, adapters["garbage"], client, NOW + timedelta(hours=6))]
    with Session(engine) as session:
        runs = [session.get(FetchRun, r.run_id) for r in results]
        # a run is stamped with the (frozen) clock, and its duration is the measured wall time
        assert all(run.finished_at > run.started_at for run in runs)
    for result in results:  # the same duration everywhere, for exact outputs below
        record_duration(engine, result.run_id, 1.5)


# a feed run is partial by nature, and says why (the skipped item is the fixture's conference news)
FEED_PARTIAL = ("a feed lists only recent items, so calls missing from it stay as they are; 2 item(s) "
                "read as calls, 1 skipped as no call announcement (no call phrase), first skipped: "
                "'Meet the projects of the fourth call at the annual conference'")


def test_status_json_and_csv(tmp_path: Path, server: LocalServer, engine, cli) -> None:
    serve_routes(server)
    config = write_config(tmp_path / "strategy.yaml", server)
    _record_runs(config, engine)
    result = cli("--config", str(config), "sources", "status", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows == [
        {"source": "good_feed", "configured": True, "last_run": "2025-10-15T15:00:00+00:00",
         "outcome": "ok", "duration_seconds": 1.5, "complete": False, "seen": 2, "new": 0, "changed": 0,
         "closed": 0, "removed": 0, "consecutive_failures": 0, "last_error": FEED_PARTIAL},
        {"source": "garbage", "configured": True, "last_run": "2025-10-15T15:00:00+00:00",
         "outcome": "failed", "duration_seconds": 1.5, "complete": False, "seen": 0, "new": 0,
         "changed": 0, "closed": 0, "removed": 0, "consecutive_failures": 1,
         "last_error": "the answer is not an RSS or Atom feed; check the URL"},
        {"source": "broken", "configured": True, "last_run": "2025-10-15T15:00:00+00:00",
         "outcome": "failed", "duration_seconds": 1.5, "complete": False, "seen": 0, "new": 0,
         "changed": 0, "closed": 0, "removed": 0, "consecutive_failures": 2,
         "last_error": f"HTTP 500 from {server.url('/500')}; the source is failing, try again later"},
        {"source": "slow", "configured": True, "last_run": None, "outcome": None, "duration_seconds": None,
         "complete": None, "seen": None, "new": None, "changed": None, "closed": None,
         "removed": None, "consecutive_failures": 0, "last_error": None},
    ]
    csv = cli("--config", str(config), "sources", "status", "--csv")
    assert csv.exit_code == 0
    assert csv.stdout.splitlines() == [
        "source,last_run,duration_seconds,seen,new,changed,closed,removed,consecutive_failures,last_error",
        f'good_feed,2025-10-15T17:00:00+02:00,1.5,2,0,0,0,0,0,"{FEED_PARTIAL}"',
        "garbage,2025-10-15T17:00:00+02:00,1.5,0,0,0,0,0,1,the answer is not an RSS or Atom feed; "
        "check the URL",
        f"broken,2025-10-15T17:00:00+02:00,1.5,0,0,0,0,0,2,\"HTTP 500 from {server.url('/500')}; "
        "the source is failing, try again later\"",
        "slow,,,,,,,,0,",
    ]


def test_status_table(tmp_path: Path, server: LocalServer, engine, cli) -> None:
    serve_routes(server)
    config = write_config(tmp_path / "strategy.yaml", server)
    _record_runs(config, engine)
    result = cli("--config", str(config), "sources", "status")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Source", "Last", "run", "Secs", "Seen", "New", "Chg", "Clo", "Rem", "Fails",
                                "Last", "error"]
    assert lines[1].split()[:11] == ["good_feed", "2025-10-15", "17:00", "1.5", "2", "0", "0", "0", "0", "0",
                                     "a"]
    garbage = next(line for line in lines if line.startswith("garbage"))
    assert garbage.split()[:11] == ["garbage", "2025-10-15", "17:00", "1.5", "0", "0", "0", "0", "0", "1",
                                    "the"]
    assert "".join(lines[2:]).count("HTTP 500") == 1
    # the error's URL is on one line, whole, to be copied: the table grows wider than the 80 columns
    # for it (it was cut after 17 characters), and no wider than the URL needs
    url = server.url("/500") + ";"
    assert any(line.rstrip().endswith(url) or f"{url} " in line for line in lines), lines
    assert max(len(line) for line in lines) == len(lines[0]) <= 68 + max(30, len(url))


def test_status_without_runs_and_bad_option(tmp_path: Path, server: LocalServer, cli, engine) -> None:
    config = write_config(tmp_path / "strategy.yaml", server)
    result = cli("--config", str(config), "sources", "status", "--json")
    assert result.exit_code == 0
    assert [row["last_run"] for row in json.loads(result.stdout)] == [None] * 4
    assert cli("--config", str(config), "sources", "status", "--bogus").exit_code == 2


def test_sources_list_never_splits_a_name_or_url(cli) -> None:
    # in an 80-column pipe the table grows wider; a page watch's pages are one URL per line
    result = cli("--config", "config/strategy.example.yaml", "sources", "list")
    assert result.exit_code == 0, result.output
    ufm = "https://ufm.dk/en/research-and-innovation/funding-programmes-for-research-and-innovation"
    rows = [("Source", "Type", "On", "Schedule", "URL"),
            ("eu_ft", "eu_ft", "yes", "cron 0 5 * * *", "https://api.tech.ec.europa.eu/search-api/prod/rest/search"),
            ("euro_access", "euro_access", "yes", "cron 30 5 * * *", "https://www.euro-access.eu/en/calls"),
            ("interreg_bsr_news", "feed", "yes", "every 6h", "https://interreg-baltic.eu/feed/"),
            ("interreg_no_calendar", "ical", "yes", "every 12h",
             "https://interreg.no/?post_type=tribe_events&ical=1&eventDisplay=list"),
            ("innovation_express", "page_watch", "yes", "every 1d", "https://www.bsr-stars.eu/"),
            ("", "", "", "", ufm)]
    widths = (20, 11, 3, 15, len(ufm))
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    assert result.stdout == "".join(line + "\n" for line in lines)
