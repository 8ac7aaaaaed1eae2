"""A listing's pager on its last page: a "Next" link that goes nowhere ends the listing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.localserver import LocalServer, Reply, Request
from tests.test_plausibility import run
from tests.test_symptoms_round4 import HTML, ITEM, _adapter

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

# Bootstrap's pagination component (getbootstrap.com/docs/5.3/components/pagination, "Disabled and
# active states") on the only page of a listing: its "Next" item disabled, the link going nowhere.
PAGER = """<nav aria-label="Page navigation"><ul class="pagination">
<li class="page-item disabled"><a class="page-link" href="{href}">Previous</a></li>
<li class="page-item active" aria-current="page"><a class="page-link" href="#">1</a></li>
<li class="page-item disabled"><a class="page-link" href="{href}">Next</a></li></ul></nav>"""


@pytest.mark.parametrize("href", ["javascript:void(0)", "javascript:;", "#"])
def test_a_disabled_next_link_on_the_only_page_lets_the_listing_be_whole(engine, server: LocalServer,
                                                                         href: str) -> None:
    """A next link that is a script or an anchor read as a page on another host: every run of the
    listing was incomplete ('nothing closed'), so a call the funder took down was never closed."""
    calls = ["Call A", "Call B"]

    def handle(request: Request) -> Reply:
        rows = "".join(ITEM.format(slug=c.lower().replace(" ", "-"), title=c, day=10 + n)
                       for n, c in enumerate(calls))
        return Reply(200, '<!DOCTYPE html><html lang="da"><head><meta charset="utf-8"><title>Opslag</title>'
                     f'</head><body><main><div class="view-content">{rows}</div>{PAGER.format(href=href)}'
                     "</main></body></html>", HTML)

    server.route("GET", "/da/opslag", handle)
    result = run(engine, _adapter(server), NOW)
    assert (result.outcome, result.complete, result.new, result.error) == ("ok", True, 2, None)
