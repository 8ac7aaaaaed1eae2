"""Property: a run either stores exactly the parsable records it read or closes nothing.

After a complete sync of 30 real SEDIA results (2026-08-21, page 1), the search API answers with a
mutation: results dropped, duplicated or made malformed (absurd counts, references as lists, NUL
bytes, deadlines outside datetime's range), a ``totalResults`` that does or does not match, or every
``pageNumber`` answered with the first page. Whatever it is, the run never fails or raises, and
either closes nothing or leaves exactly the parsable records it read active, and never takes away
more than the mass-closure guard allows."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel, select

from pipeline.core.config import EuFtSource
from pipeline.core.models import Call, FetchRun
from tests.hostile import EXAMPLES
from tests.test_plausibility import with_grants, with_meta
from watcher.http import make_client
from watcher.runner import run_source
from watcher.sedia import parse_page
from watcher.sources import BuildContext
from watcher.sources.eu_ft import EuFtAdapter

URL = "https://api.tech.ec.europa.eu/search-api/prod/rest/search"
SIZE = 10
BEFORE = datetime(2026, 8, 21, 10, 0, tzinfo=UTC)
AFTER = datetime(2026, 8, 22, 10, 0, tzinfo=UTC)
GONE = ("closed", "removed", "withdrawn")
SAMPLES_PAGE = Path("eu_ft") / "search_2026-08-21" / "page_001.json"

MUTATIONS = [
    lambda r: with_grants(r, 10**30),
    lambda r: {**r, "reference": ["A", "B"]},
    lambda r: {**r, "reference": {"id": r["reference"]}},
    lambda r: with_meta(r, title=["a\x00b"]),
    lambda r: with_meta(r, deadlineDate=["9999-12-31T23:00:00.000-2300"]),
    lambda r: with_meta(r, deadlineDate=["not a date"]),
    lambda r: with_meta(r, deadlineDate=["9999-12-31"]),
    lambda r: "not an object",
]


def answers(results: list[Any], total: int, ignore_page: bool) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        number = 1 if ignore_page else int(request.url.params["pageNumber"])
        size = int(request.url.params["pageSize"])
        page = results[(number - 1) * size:number * size]
        return httpx.Response(200, json={"totalResults": total, "pageNumber": number, "results": page})
    return httpx.MockTransport(handle)


def adapter() -> EuFtAdapter:
    return EuFtAdapter("eu_ft", EuFtSource(type="eu_ft", url=URL, programmes={}, page_size=SIZE),
                       BuildContext())


def sync(engine, results: list[Any], total: int, ignore_page: bool, now: datetime):
    with make_client(transport=answers(results, total, ignore_page), retries=0) as client:
        return run_source(engine, adapter(), client, now)


def active(engine) -> set[str]:
    with Session(engine) as session:
        return {c.external_id for c in session.exec(select(Call)) if c.status not in GONE}


@pytest.fixture(scope="module")
def good(samples: Path) -> list[dict[str, Any]]:
    return json.loads((samples / SAMPLES_PAGE).read_bytes())["results"][:30]


@st.composite
def answer(draw: st.DrawFn, good: list[dict[str, Any]]) -> tuple[list[Any], int, bool]:
    kept = [r for i, r in enumerate(good) if i not in draw(st.sets(st.integers(0, len(good) - 1)))]
    served: list[Any] = []
    for result in kept:
        if draw(st.integers(0, 9)) == 0:
            served.append(draw(st.sampled_from(MUTATIONS))(result))
        else:
            served.append(result)
        if draw(st.integers(0, 19)) == 0:
            served.append(result)  # a repeated result
    total = draw(st.one_of(st.just(len(served)), st.integers(0, len(served) + 30)))
    return served, total, draw(st.booleans())


@settings(max_examples=max(1, EXAMPLES // 2), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_a_run_stores_the_parsable_records_or_closes_nothing(engine, good, data) -> None:
    with engine.begin() as conn:  # every example starts from the same complete sync
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(sa.delete(table))
    first = sync(engine, good, len(good), False, BEFORE)
    assert (first.outcome, first.complete, first.new) == ("ok", True, 30)
    served, total, ignore_page = data.draw(answer(good))

    result = sync(engine, served, total, ignore_page, AFTER)

    assert result.outcome in ("ok", "suspicious"), result.error
    with Session(engine) as session:
        assert session.get(FetchRun, result.run_id).outcome == result.outcome  # never left "running"
    now_active = active(engine)
    if ignore_page:
        read = served[:SIZE]
    else:
        read = served[:max(1, math.ceil(min(total, 10_000) / SIZE)) * SIZE]
    parsable = {r.external_id for r in parse_page({"totalResults": total, "results": read}).records}
    assert parsable <= now_active  # every parsable record read is stored
    if result.closed:
        assert now_active == parsable, result.error  # closed only what a whole, plausible answer lacked
        with Session(engine) as session:
            removed = [c for c in session.exec(select(Call)) if c.status == "removed"]
        assert len(removed) <= max(1, 0.2 * len(good)), result.error  # never a mass closure
    else:
        assert now_active >= {r["reference"] for r in good}  # nothing closed
