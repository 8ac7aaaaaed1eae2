"""The digest: what it selects from the database and the exact Block Kit it builds, within Slack's limits."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from pipeline.notify.actions import payload_problems
from pipeline.notify.blocks import MAX_BLOCKS, MAX_SECTION_CHARS, render_terminal
from pipeline.notify.digest import ChangeLine, DigestData, build_digest, collect_digest
from pipeline.notify.health import SourceHealth
from tests.slack_data import NOW, add_application, add_call, add_event, loaded, move_deadline


def _channel(name: str = "#eu-fundraising"):
    return next(d for d in loaded().strategy.slack.digests if d.channel == name)


def _buttons(call: int) -> dict:
    """The actions block under a top call: Relevant · Not for us · Follow · Mute, overflow Start idea."""
    value = f"greentech-dk:{call}"

    def button(verb: str, label: str) -> dict:
        return {"type": "button", "action_id": f"fr:{verb}:{call}", "value": value,
                "text": {"type": "plain_text", "text": label}}

    return {"type": "actions", "block_id": f"fr_actions:{value}", "elements": [
        {**button("relevant", "Relevant"), "style": "primary"}, button("irrelevant", "Not for us"),
        button("follow", "Follow"), button("mute", "Mute"),
        {"type": "overflow", "action_id": f"fr:more:{call}", "options": [
            {"text": {"type": "plain_text", "text": "Start idea"}, "value": f"idea:{value}"}]}]}


def test_digest_blocks_exactly(engine) -> None:
    first = add_call(engine, 1, title="Floating offshore wind <!channel> & grids", score=0.71)
    add_call(engine, 2, score=0.42, area="green_maritime", first_seen=NOW - timedelta(days=2), days=5)
    add_call(engine, 3, score=0.9, passed=False)  # turned down by the strategy rules
    add_call(engine, 4, score=0.05)  # below min_score 0.35
    app = add_application(engine, first)
    move_deadline(engine, first, NOW + timedelta(days=30, hours=9), NOW - timedelta(days=3))
    add_event(engine, app, NOW - timedelta(days=1), "consortium", "writing")
    with Session(engine) as session:
        data = collect_digest(session, loaded().strategy, _channel(), NOW, NOW - timedelta(days=7))
    messages = build_digest(data)
    assert len(messages) == 1
    message = messages[0]
    assert message.channel == "#eu-fundraising"
    assert message.text == ("Funding digest for GreenTech Cluster Denmark: 2 matching open calls, 1 new, "
                            "1 left out by the strategy rules · 1 change to calls we follow. Top: "
                            "Floating offshore wind &lt;!channel&gt; &amp; grids; Offshore wind call 2")
    link1 = "<https://ec.europa.eu/topic/1|Floating offshore wind &lt;!channel&gt; &amp; grids>"
    assert message.blocks == [
        {"type": "header", "text": {"type": "plain_text", "emoji": True,
                                    "text": "Funding digest for GreenTech Cluster Denmark"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text":
            "17 Aug 2026 – 24 Aug 2026 (Europe/Copenhagen) · 2 matching open calls, 1 new, 1 left out by the "
            "strategy rules · 1 change to calls we follow · deadlines in Brussels time"}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Sources: none configured"}]},
        {"type": "section", "block_id": "heading-top-2-calls",
         "text": {"type": "mrkdwn", "text": "*Top 2 calls*"}},
        {"type": "section", "block_id": "fr_call:1", "text": {"type": "mrkdwn", "text":
            f"*{link1}*\nHorizon Europe · closes 23 Sep 2026 17:00 (30 days left) · up to €3.0M\n"
            "Why: Offshore wind and energy systems: offshore wind"}},
        _buttons(1),
        {"type": "divider"},
        {"type": "section", "block_id": "fr_call:2", "text": {"type": "mrkdwn", "text":
            "*<https://ec.europa.eu/topic/2|Offshore wind call 2>*  :new:\n"
            "Horizon Europe · closes 29 Aug 2026 17:00 (5 days left) · up to €3.0M\n"
            "Why: Green shipping and ports: offshore wind, hydrogen"}},
        _buttons(2),
        {"type": "divider"},
        {"type": "section", "block_id": "heading-changes-to-calls-we-follow",
         "text": {"type": "mrkdwn", "text": "*Changes to calls we follow*"}},
        {"type": "section", "text": {"type": "mrkdwn", "text":
            f"• {link1}: deadline moved 23 Oct 2026 17:00 → 23 Sep 2026 17:00"}},
        {"type": "divider"},
        {"type": "section", "block_id": "heading-our-applications",
         "text": {"type": "mrkdwn", "text": "*Our applications*"}},
        {"type": "section", "text": {"type": "mrkdwn", "text":
            f"• #1 Floating wind O&amp;M robots → {link1}: _writing_, closes 23 Sep 2026 17:00 "
            "(30 days left); consortium → writing (by Mette)"}},
    ]


def test_focus_channel_only_shows_its_focus_areas_and_top_n(engine) -> None:
    for n in range(1, 9):
        add_call(engine, n, score=0.4 + n / 100)
    add_call(engine, 20, score=0.99, area="green_maritime")
    with Session(engine) as session:
        data = collect_digest(session, loaded().strategy, _channel("#energy-projects"), NOW,
                              NOW - timedelta(days=1))
    assert [c.title for c in data.top] == [f"Offshore wind call {n}" for n in (8, 7, 6, 5, 4)]
    assert data.matching == 8


def test_long_digest_is_split_at_50_blocks_and_sections_stay_under_3000_chars(engine) -> None:
    strategy = loaded().strategy
    channel = _channel().model_copy(update={"top": 45})
    for n in range(1, 46):
        cid = add_call(engine, n, title="Very long title " * 40, score=0.5, days=20 + n)
        add_application(engine, cid, idea=f"Idea {n}")
        move_deadline(engine, cid, NOW + timedelta(days=90), NOW - timedelta(days=1))
    with Session(engine) as session:
        data = collect_digest(session, strategy, channel, NOW, NOW - timedelta(days=7))
    messages = build_digest(data)
    assert len(messages) == 4  # 45 calls, each with its buttons and a divider, then changes and applications
    for message in messages:
        assert len(message.blocks) <= MAX_BLOCKS
        assert payload_problems(message.blocks) == []
        assert not message.blocks[-1].get("block_id", "").startswith("heading-")  # kept with its list
        assert message.blocks[-1]["type"] != "section" or not message.blocks[-1].get(
            "block_id", "").startswith("fr_call:")  # a call's buttons are in the message of its line
        for block in message.blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= MAX_SECTION_CHARS
    assert messages[1].blocks[0] == {"type": "context", "elements": [
        {"type": "mrkdwn", "text": "Funding digest for GreenTech Cluster Denmark (part 2 of 4)"}]}
    assert messages[1].text == "Funding digest for GreenTech Cluster Denmark (part 2 of 4)"
    sections = [b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section"]
    assert sum(1 for s in sections if s.startswith("*<https://ec.europa.eu/topic/")) == 45
    # 45 changes: 40 are listed, then "… and 5 more changes"
    assert any(s.endswith("… and 5 more changes") for s in sections)
    assert sum(s.count("deadline moved") for s in sections) == 40


def test_empty_digest_still_says_so() -> None:
    read = SourceHealth("eu_ft", NOW - timedelta(hours=2), 0, None, "ok", 7, 7)  # a source read well
    data = DigestData(channel="#x", organisation="Org", period_start=NOW - timedelta(days=7), period_end=NOW,
                      timezone="Europe/Copenhagen", matching=0, new=0, filtered_by_rules=0, top=[],
                      changes=[], applications=[], sources=[read])
    (message,) = build_digest(data)
    assert message.blocks[3] == {"type": "section", "text": {
        "type": "mrkdwn", "text": "_No open call matches the strategy above the channel's minimum score._"}}


def test_withdrawn_change_and_terminal_rendering() -> None:
    change = ChangeLine(1, "Call & co", "https://x.org/1", "withdrawn", "open", "withdrawn", NOW)
    data = DigestData(channel="#x", organisation="Org", period_start=NOW - timedelta(days=7), period_end=NOW,
                      timezone="Europe/Copenhagen", matching=0, new=0, filtered_by_rules=0, top=[],
                      changes=[change], applications=[])
    text = render_terminal(build_digest(data))
    assert "• Call & co (https://x.org/1): withdrawn (was open)" in text
    assert text.startswith("── #x ")


def test_a_heading_stays_with_its_list_when_the_digest_is_split() -> None:
    from pipeline.notify.blocks import heading, section, split_messages

    blocks = [section(f"call {n}") for n in range(49)] + [heading("*Our applications*"), section("• #1")]
    first, second = split_messages("#x", blocks, "text", "Digest")
    assert len(first.blocks) == 49
    assert [b.get("block_id") for b in second.blocks[1:]] == ["heading-our-applications", None]


def test_phone_lines_all_new_forthcoming_time_assumed_and_matched_phrases() -> None:
    from pipeline.core.config import FocusArea
    from pipeline.notify.digest import TopCall, matched_phrases

    area = FocusArea(label="Digital", keywords=["artificial intelligence", "cybersecurity", "ai"])
    why = matched_phrases(area, "Artificial Intelligence for ports; cybersecurity of grids; maintain")
    assert why == ["artificial intelligence", "cybersecurity"]

    def top(n: int, **kw):
        values = dict(call_id=n, title=f"R&I call {n}", url=f"https://x.org/{n}", programme="Horizon Europe",
                      topic_id=None, deadline=NOW + timedelta(days=235), days_left=235,
                      deadline_time_assumed=True, budget=20e6, max_contribution=7e6, funding_rate=None,
                      success_rate=None, score=0.5, focus_area="Digital", terms=["ai", "intelligence"],
                      new=True, why=why)
        return TopCall(**{**values, **kw})

    data = DigestData(channel="#x", organisation="Org", period_start=NOW - timedelta(days=7), period_end=NOW,
                      timezone="Europe/Copenhagen", matching=2, new=2, filtered_by_rules=0,
                      top=[top(1), top(2, status="forthcoming", opening_date=NOW + timedelta(days=30))],
                      changes=[], applications=[])
    (message,) = build_digest(data)
    assert message.blocks[1]["elements"][0]["text"].endswith(
        "deadlines in Brussels time (2 closing times assumed: the source gives only the day)")
    calls = [b["text"]["text"] for b in message.blocks if b.get("block_id", "").startswith("fr_call:")]
    assert calls == [
        "*<https://x.org/1|R&amp;I call 1>*\nHorizon Europe · closes 16 Apr 2027 (235 days left) · "
        "up to €7.0M\n"
        "Why: Digital: artificial intelligence, cybersecurity",
        "*<https://x.org/2|R&amp;I call 2>*\nHorizon Europe · opens 23 Sep 2026 · "
        "closes 16 Apr 2027 (235 days left) · up to €7.0M\n"
        "Why: Digital: artificial intelligence, cybersecurity"]  # all new: no :new: on each
    assert [b["type"] for b in message.blocks[4:7]] == ["section", "divider", "section"]


def test_the_counts_say_how_many_matching_calls_are_open_and_how_many_not_yet(engine) -> None:
    """The recorded portal's digest said '38 matching open calls' above ten top calls that each 'opens'
    months later: most matching calls were forthcoming. The counts now say which are open; a digest
    whose calls are all open still reads 'N matching open calls'."""
    opens = NOW + timedelta(days=90)
    add_call(engine, 1, score=0.7)
    add_call(engine, 2, score=0.6, status="forthcoming", opening_date=opens, days=200)
    add_call(engine, 3, score=0.5, status="forthcoming", opening_date=opens, days=200)
    with Session(engine) as session:
        data = collect_digest(session, loaded().strategy, _channel(), NOW, NOW - timedelta(days=7))
    (message,) = build_digest(data)
    assert message.text.startswith("Funding digest for GreenTech Cluster Denmark: 3 matching calls "
                                   "(1 open, 2 forthcoming), 0 new · 0 changes to calls we follow. Top: ")
    assert message.blocks[1]["elements"][0]["text"].startswith(
        "17 Aug 2026 – 24 Aug 2026 (Europe/Copenhagen) · 3 matching calls (1 open, 2 forthcoming), 0 new · ")


def test_an_open_application_whose_call_closed_says_when_it_closed(engine) -> None:
    """An application still being written for a call whose deadline passed three days ago was listed
    as '#1 Floating wind O&M robots → Offshore wind call 1: writing', no deadline and no word that the
    call had closed; it now says so, with the day it closed."""
    call = add_call(engine, 1, days=-3)
    add_application(engine, call)
    add_application(engine, call, status="draft", idea="Wind ports")  # a draft cannot be submitted
    with Session(engine) as session:
        data = collect_digest(session, loaded().strategy, _channel(), NOW, NOW - timedelta(days=7))
    (message,) = build_digest(data)
    lines = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert lines[-1].splitlines() == [
        "• #1 Floating wind O&amp;M robots → <https://ec.europa.eu/topic/1|Offshore wind call 1>: _writing_, "
        ":warning: *overdue*: the call closed 21 Aug 2026 17:00, not submitted (`fundradar applications "
        "move 1 submitted`, or `withdrawn`)",
        "• #2 Wind ports → <https://ec.europa.eu/topic/1|Offshore wind call 1>: _draft_, :warning: "
        "*overdue*: the call closed 21 Aug 2026 17:00, not submitted (`fundradar applications move 2 "
        "withdrawn`)"]
