"""A date that is no day of the calendar ("31.02.2026") on euro-access: the call is never stored as
having no deadline (the site never said so), nor does a stored call lose the deadline it has."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from pipeline.core.models import Call, CallChange
from tests.localserver import LocalServer, Reply
from tests.test_plausibility import NOV, _euro_access, _listing, run

DETAIL = (Path(__file__).parent / "fixtures" / "euro_access" / "call_detail_2374.html").read_text(
    encoding="utf-8")
PATHS = ("/en/calls/2374/Interreg-DE-DK-Application-of-project-proposals-2025",
         "/en/calls/2193/Interreg-Baltic-Sea-Region-Project-Platforms-2025")
HTML = {"Content-Type": "text/html; charset=utf-8"}


def _serve(server: LocalServer, pages: dict[str, object]) -> None:
    server.route("GET", "/en/calls", lambda r: Reply(200, str(pages["listing"]), HTML))
    for path in PATHS:
        server.route("GET", path, lambda r: Reply(int(str(pages["status"])), str(pages["detail"]), HTML))


def _stored(engine) -> dict[str, Call]:
    with Session(engine) as session:
        return {c.external_id: c for c in session.exec(select(Call))}


def _impossible_listing_date(listing: str) -> str:
    """The listing with the Baltic Sea Region row's deadline "20.11.2025 16:00" made 31 February."""
    row = listing.index("/calls/2193/")
    cell = listing.index("20.11.2025 16:00", row)
    return listing[:cell] + "31.02.2026 16:00" + listing[cell + len("20.11.2025 16:00"):]


def test_an_impossible_listing_date_is_a_malformed_row_not_a_call_without_deadline(
        engine, server: LocalServer, samples: Path) -> None:
    pages: dict[str, object] = {"listing": _impossible_listing_date(_listing(samples, server)),
                                "status": 500, "detail": "down"}
    _serve(server, pages)
    result = run(engine, _euro_access(server), NOV)
    assert (result.outcome, result.complete, result.new) == ("ok", False, 1)
    assert "1 listing row(s) skipped" in result.error and "2193" in result.error
    assert "'31.02.2026 16:00' is not a date" in result.error
    assert set(_stored(engine)) == {"2374"}


def test_an_impossible_listing_date_is_fine_when_the_call_page_gives_the_deadlines(
        engine, server: LocalServer, samples: Path) -> None:
    pages: dict[str, object] = {"listing": _impossible_listing_date(_listing(samples, server)),
                                "status": 200, "detail": DETAIL}
    _serve(server, pages)
    result = run(engine, _euro_access(server), NOV)
    assert (result.outcome, result.complete, result.new, result.error) == ("ok", True, 2, None)
    assert _stored(engine)["2193"].deadline is not None


def test_an_impossible_date_on_a_call_page_keeps_the_stored_deadline(engine, server: LocalServer,
                                                                    samples: Path) -> None:
    pages: dict[str, object] = {"listing": _listing(samples, server), "status": 200, "detail": DETAIL}
    _serve(server, pages)
    first = run(engine, _euro_access(server), NOV)
    assert (first.complete, first.new) == (True, 2)
    before = {key: call.deadlines for key, call in _stored(engine).items()}
    pages["detail"] = DETAIL.replace("10.11.2025 17:00", "31.02.2026 17:00")
    second = run(engine, _euro_access(server), NOV)
    assert (second.outcome, second.complete, second.closed) == ("ok", False, 0)
    assert "gives the deadline '31.02.2026 17:00', which is not a date" in second.error
    assert {key: call.deadlines for key, call in _stored(engine).items()} == before
    with Session(engine) as session:
        assert session.exec(select(CallChange)).all() == []
