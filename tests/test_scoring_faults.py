"""Two scorings at once on PostgreSQL (serve's source job and its digest job, two sources finishing
together, or ``fundradar sync`` beside ``serve``): the second waits for the first instead of failing
with a duplicate key, as two SQLite writers already queue."""

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
