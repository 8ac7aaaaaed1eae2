"""euro-access call pages writing their figures in words or another currency: the fixture call page
(tests/fixtures/euro_access/call_detail_2374.html) with its key-data values rewritten, behind the
recorded listing, served by the local server and read through the real client."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from pipeline.core.models import Call
from tests.localserver import LocalServer, Reply
from tests.test_hostile_audit_partial import DETAIL, PATHS
from tests.test_plausibility import NOV, _euro_access, _listing, run

BUDGET = b'<p class="td">\xe2\x82\xac 40,000,000.00</p>'
CONTRIBUTION = b'<p class="td">\xe2\x82\xac 200,000.00 - \xe2\x82\xac 3,000,000.00</p>'


@pytest.mark.parametrize(("budget", "contribution", "expected"), [
    ("€ 40 million", "€ 200,000 - € 3 million", (40_000_000, 200_000, 3_000_000)),
    ("EUR 2.5 million", "EUR 200,000 to EUR 1.5 million", (2_500_000, 200_000, 1_500_000)),
    ("DKK 74,603,800", "€ 200,000.00 - € 3,000,000.00", (10_000_000, 200_000, 3_000_000)),
])
def test_figures_with_a_scale_word_or_another_currency_are_read_in_euros(
        engine, server: LocalServer, samples, budget: str, contribution: str, expected) -> None:
    """"€ 40 million" was a call budget of 40 euros and "EUR 2.5 million" one of 2.5 (the word was
    not read), and "DKK 74,603,800" 74.6 million euros: a funding rule on the budget then failed or
    passed the call on a figure a thousand or a million times off."""
    assert BUDGET in DETAIL and CONTRIBUTION in DETAIL
    page = DETAIL.replace(BUDGET, f'<p class="td">{budget}</p>'.encode()).replace(
        CONTRIBUTION, f'<p class="td">{contribution}</p>'.encode())
    listing = _listing(samples, server)
    server.route("GET", "/en/calls", lambda r: Reply(200, listing, {"Content-Type": "text/html"}))
    for path in PATHS:
        server.route("GET", path, lambda r: Reply(200, page, {"Content-Type": "text/html; charset=utf-8"}))
    result = run(engine, _euro_access(server), NOV)
    assert (result.outcome, result.complete, result.new) == ("ok", True, 2), result.error
    with Session(engine) as session:
        call = session.exec(select(Call).where(Call.external_id == "2374")).one()
    assert (round(call.budget), round(call.min_contribution), round(call.max_contribution)) == expected
