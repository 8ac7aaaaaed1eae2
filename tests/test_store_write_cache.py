"""A run's write sets SQLite's page cache to the store's smaller size and gives the connection its own
size back, so scoring later on the same connection keeps the large cache its indexes need."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.core.db import SQLITE_CACHE_KIB
from watcher.records import CallRecord
from watcher.store import begin_run, finish_run

NOW = datetime(2026, 8, 21, 10, tzinfo=UTC)


def test_the_connection_has_its_own_cache_size_after_a_write(engine) -> None:
    run_id = begin_run(engine, "eu_ft", NOW)
    records = [CallRecord(external_id=f"T{n}", title=f"Topic {n}", text="x" * 500) for n in range(50)]
    result = finish_run(engine, run_id, records, NOW, complete=True)
    assert (result.outcome, result.new) == ("ok", 50)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
