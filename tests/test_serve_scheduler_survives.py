"""serve's scheduler thread when the database fails between reading the due jobs and storing their next
run times (APScheduler's ``update_job`` and ``get_next_run_time`` run outside its own error handling):
a full disk there ended the scheduler's thread, and serve went on "running" with no job ever run again
and nothing in its log but a thread traceback. The job store now reports such a failure in one line and
rests ten seconds before the scheduler tries again, so the jobs run once the disk has room. A real full
file system (a tmpfs filled up; skipped where it cannot be mounted), a feed served by the local server."""

from __future__ import annotations

import logging
import textwrap
import time
from pathlib import Path

from pipeline.core.config import load_config
from pipeline.core.db import open_database
from pipeline.serve import Service
from tests.localserver import LocalServer, Reply
from tests.test_disk_full_wal import _fill, small_disk  # noqa: F401 (the fixture)
from tests.test_serve_faults import FEED


def _config(tmp_path: Path, url: str):
    path = tmp_path / "strategy.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: faults
        organisation: Test Cluster
        focus_areas:
          energy: {{label: Energy, keywords: [offshore wind, hydrogen]}}
        sources:
          bsr_news: {{type: feed, url: '{url}', programme: X, schedule: {{every: 1s, jitter_seconds: 0}}}}
        """), encoding="utf-8")
    return load_config(path)


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_full_disk_under_serve_does_not_end_its_scheduler(
        small_disk: Path, tmp_path: Path, server: LocalServer, caplog) -> None:  # noqa: F811
    rss = {"Content-Type": "application/rss+xml"}
    server.route("GET", "/feed/", lambda r: Reply(200, FEED.read_bytes(), rss))
    engine = open_database(f"sqlite:///{small_disk / 'fundradar.db'}")
    service = Service(engine, _config(tmp_path, server.url("/feed/")), digests=False, reload_seconds=0)
    caplog.set_level(logging.WARNING)
    service.start()
    try:
        assert _wait(lambda: len(server.requests) >= 2, 60)
        _fill(small_disk)

        def stored() -> list[str]:
            return [r.getMessage() for r in caplog.records if "could not be stored" in r.getMessage()]

        # runs due meanwhile fail to store anything, and then their next run times fail too
        assert _wait(lambda: stored(), 60), "the job store never met the full disk"
        (small_disk / "fill").unlink()
        before = len(server.requests)
        assert _wait(lambda: len(server.requests) >= before + 2, 60), "no job ran after the disk had room"
        assert service.scheduler._thread.is_alive()
        lines = stored()
        assert 1 <= len(lines) <= 3, len(lines)  # resting between tries, not handing the job out in a loop
        assert all("is full" in line and "\n" not in line for line in lines)
    finally:
        service.stop()
        engine.dispose()
