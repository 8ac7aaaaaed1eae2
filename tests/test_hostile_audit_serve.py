"""serve's source job when the database refuses even the run's first row (a read-only file, a lock
held past the busy timeout): one warning line and the service goes on, not a job traceback."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.core.config import load_config
from pipeline.core.db import open_database
from pipeline.serve import Service

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "strategy.example.yaml"


def test_a_source_job_on_a_read_only_database_logs_one_line(db_url: str, caplog) -> None:
    open_database(db_url).dispose()
    path = db_url.removeprefix("sqlite:///")
    read_only = open_database(f"sqlite:///file:{path}?mode=ro&uri=true")
    service = Service(read_only, load_config(str(EXAMPLE)), digests=False)
    with caplog.at_level(logging.WARNING):
        assert service.run_source("eu_ft") is None
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert line.startswith("source eu_ft could not run: ") and "is read-only" in line
    assert "\n" not in line
