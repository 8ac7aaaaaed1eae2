"""The digest's "Our applications": an application still in writing after its call's last deadline
was listed as "_writing_" with no deadline and no word that it was late (the next deadline is none);
it now leads the list flagged overdue, with the deadline it missed."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from pipeline.notify.digest import build_digest, collect_digest
from tests.slack_data import NOW, add_application, add_call, loaded


def _lines(engine) -> list[str]:
    channel = next(d for d in loaded().strategy.slack.digests if d.channel == "#eu-fundraising")
    with Session(engine) as session:
        data = collect_digest(session, loaded().strategy, channel, NOW, NOW - timedelta(days=7))
    texts = [b["text"]["text"] for m in build_digest(data) for b in m.blocks if b.get("type") == "section"]
    start = texts.index("*Our applications*")
    return texts[start + 1].split("\n")


def test_an_overdue_application_is_flagged_first(engine) -> None:
    late = add_call(engine, 1, days=-3, score=0.1)  # closed three days before the digest
    soon = add_call(engine, 2, days=20, score=0.1)
    add_application(engine, soon, status="writing")
    add_application(engine, late, status="writing")
    assert _lines(engine) == [
        "• #2 Floating wind O&amp;M robots → <https://ec.europa.eu/topic/1|Offshore wind call 1>: _writing_, "
        ":warning: *overdue*: the call closed 21 Aug 2026 17:00, not submitted (`fundradar applications "
        "move 2 submitted`, or `withdrawn`)",
        "• #1 Floating wind O&amp;M robots → <https://ec.europa.eu/topic/2|Offshore wind call 2>: _writing_, "
        "closes 13 Sep 2026 17:00 (20 days left)"]


def test_a_submitted_application_past_its_deadline_is_not_overdue(engine) -> None:
    late = add_call(engine, 1, days=-3, score=0.1)
    soon = add_call(engine, 2, days=20, score=0.1)
    add_application(engine, late, status="submitted")  # done: listed only when it moved in the period
    add_application(engine, soon, status="draft")
    assert _lines(engine) == [
        "• #2 Floating wind O&amp;M robots → <https://ec.europa.eu/topic/2|Offshore wind call 2>: _draft_, "
        "closes 13 Sep 2026 17:00 (20 days left)"]
