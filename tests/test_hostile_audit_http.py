"""A server asking for a longer wait than a run gives it (429 or 503 with a long Retry-After): the
failure says so, instead of claiming retries that were never made."""

from __future__ import annotations

import pytest

from pipeline.core.errors import FetchError
from tests.localserver import LocalServer, Reply
from watcher.http import fetch_text, make_client


@pytest.mark.parametrize("status", [429, 503])
def test_a_long_retry_after_is_reported_as_asked(server: LocalServer, status: int) -> None:
    server.route("GET", "/feed", lambda request: Reply(status, "slow down", {"Retry-After": "3600"}))
    with make_client(timeout=5) as client, pytest.raises(FetchError) as caught:
        fetch_text(client, server.url("/feed"), source="news")
    assert len(server.requests) == 1
    assert str(caught.value) == (f"source 'news': HTTP {status} from {server.url('/feed')}, asking to wait "
                                 "3600 s (Retry-After), longer than the 120 s a run waits; try again later")
