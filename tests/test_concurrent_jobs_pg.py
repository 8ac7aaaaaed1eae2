"""serve's jobs writing the same rows at once on PostgreSQL, each in its thread (a source job and the
digest job, two sources finishing together, ``fundradar sync`` beside ``serve``): two scorings, two
followings of a moved deadline. The second waits for the first, as two SQLite writers already queue,
instead of failing on a duplicate key or recording the same move twice."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, select

from classifiers.scoring import score_pending
from pipeline.core.config import DEFAULT_STRATEGY, load_config
from pipeline.core.db import open_database
from pipeline.core.models import Score, Verdict
from tests.scoring_data import insert_calls
from tests.test_scoring import NOW, TEXTS


@pytest.mark.postgres
def test_two_scorings_at_once_on_postgresql_both_finish(pg_url: str) -> None:
    engine = open_database(pg_url)
    config = load_config(DEFAULT_STRATEGY)
    insert_calls(engine, TEXTS, hashed=True)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def score() -> None:
        start.wait()
        try:
            score_pending(engine, config, NOW)
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=score) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    try:
        assert failures == []
        with Session(engine) as session:
            verdicts = session.exec(select(Verdict)).all()
            assert len(verdicts) == len(TEXTS)
            assert session.exec(select(Score)).all()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_two_jobs_following_a_moved_deadline_at_once_record_it_once(pg_url: str) -> None:
    """serve follows call deadlines in its source job, before each digest and alerts job and before
    writing the calendars, each in its own thread: on PostgreSQL two at once both saw a move as new and
    an application's history said "call deadline moved" twice."""
    from datetime import timedelta

    from pipeline import applications as apps
    from pipeline.core.db import session_scope
    from pipeline.core.models import ApplicationEvent
    from tests.test_applications import NOW as DAY
    from tests.test_applications import bsr_call, seed
    from tests.test_applications import sync as store

    engine = open_database(pg_url)
    try:
        ids = seed(engine)
        with session_scope(engine) as session:
            app = apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]), now=DAY,
                                          by="anna")
            app_id = app.id
        for n, deadline in enumerate(("2026-10-20T12:00", "2026-10-27T12:00", "2026-11-03T12:00",
                                      "2026-11-10T12:00", "2026-11-17T12:00"), start=1):
            later = DAY + timedelta(days=n)
            store(engine, "euro_access", [bsr_call(deadline)], later)
            start = threading.Barrier(2)

            def follow(later=later, start=start) -> None:
                start.wait()
                with session_scope(engine) as session:
                    apps.follow_call_deadlines(session, later)

            workers = [threading.Thread(target=follow) for _ in range(2)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(timeout=60)
        with Session(engine) as session:
            notes = [e.note for e in session.exec(select(ApplicationEvent).where(
                ApplicationEvent.application_id == app_id)) if "deadline moved" in (e.note or "")]
            sequence = session.get(apps.Application, app_id).deadline_sequence
        assert len(notes) == 5, notes
        assert sequence == 5
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_ten_sources_due_at_once_on_postgresql_all_run(pg_url: str, server, tmp_path) -> None:
    """serve runs up to ten jobs at once, each holding a connection for its job lock and one for its
    run lock while it fetches, beside its session's: with ten sources due together (every source on
    `every: 6h` from the same start) SQLAlchemy's pool of 15 ran out, and three runs failed with
    "QueuePool limit of size 5 overflow 10 reached" and a traceback."""
    import logging
    import time
    from datetime import UTC, datetime

    from pipeline.serve import Service
    from tests.localserver import Reply
    from tests.test_serve_faults import FEED

    # each source's answer waits until all ten are being fetched: every run holds its connections at
    # once, however the scheduler's threads are spread over a loaded machine's time
    together = threading.Barrier(10, timeout=120)

    def slow(request):
        together.wait()
        return Reply(200, FEED.read_bytes(), {"Content-Type": "application/rss+xml"})

    server.route("GET", "/feed/", slow)
    sources = "".join(f"  s{n}: {{type: feed, url: '{server.url('/feed/')}?n={n}', programme: X, "
                      "schedule: {every: 1h, jitter_seconds: 0}}\n" for n in range(10))
    path = tmp_path / "strategy.yaml"
    path.write_text("name: t\norganisation: Test Cluster\nfocus_areas:\n"
                    "  energy: {label: Energy, keywords: [offshore wind]}\nsources:\n" + sources,
                    encoding="utf-8")
    engine = open_database(pg_url)
    service = Service(engine, load_config(path), digests=False, reload_seconds=0)
    errors: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.ERROR)
    handler.emit = errors.append  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    service.start()
    try:
        for n in range(10):
            service.scheduler.modify_job(f"source:s{n}", next_run_time=datetime.now(UTC))
        deadline = time.monotonic() + 120
        while len(server.requests) < 10 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        service.stop()
        logging.getLogger().removeHandler(handler)
        engine.dispose()
    assert len(server.requests) == 10
    assert [r.getMessage() for r in errors] == []
