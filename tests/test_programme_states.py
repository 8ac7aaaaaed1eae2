"""Every programme of interest in the digest, also without an open call, and the sources a replay
leaves out: the recorded euro-access listing (Interreg calls whose deadlines passed before the digest's
day) replayed with the example strategy through the real sync and digest, and the section's lines
exactly, in Block Kit and as the terminal shows them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from pipeline.core.config import DEFAULT_STRATEGY, DigestChannel, load_config
from pipeline.core.db import session_scope
from pipeline.core.models import Call, FetchRun
from pipeline.notify.blocks import SlackMessage, render_terminal
from pipeline.notify.digest import build_digest, collect_digest
from pipeline.notify.health import health_line, source_health
from pipeline.notify.programmes import (
    CLOSED,
    FAILING,
    NONE_SEEN,
    NOT_RECORDED,
    NOT_RUN,
    OPEN,
    UNWATCHED,
    ProgrammeCall,
    ProgrammeState,
    programme_blocks,
    ready_made_programmes,
    short_title,
)
from pipeline.sources_status import source_status
from pipeline.sync import sync

DIGEST_DAY = datetime(2026, 8, 22, 10, 0, tzinfo=UTC)  # the demo's digest moment
BSR = "https://www.euro-access.eu/en/calls/2193/Interreg-Baltic-Sea-Region-Project-Platforms-2025"
DE_DK = "https://www.euro-access.eu/en/calls/2374/Interreg-DE-DK-Application-of-project-proposals-2025"
LEFT_OUT = ("eu_ft", "interreg_bsr_news", "interreg_no_calendar", "innovation_express")


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


PROGRAMMES_HEADING = {**_section("*Programmes we follow*"), "block_id": "heading-programmes-we-follow"}


def test_a_replay_lists_every_programme_of_interest_with_its_state(engine, samples: Path) -> None:
    config = load_config(DEFAULT_STRATEGY)
    result = sync(engine, config, replay=samples / "euro_access")  # as of the recording's month
    assert [r.source for r in result.runs] == ["euro_access"]
    assert [line.split(":")[0] for line in result.skipped] == list(LEFT_OUT)

    with Session(engine) as session:
        # listing-only calls (their pages are not recorded), stored open as of October 2025
        stored = {c.url: c.status for c in session.exec(select(Call))}
        assert stored[BSR] == "open"
        skips = session.exec(select(FetchRun).where(FetchRun.outcome == "skipped")
                             .order_by(FetchRun.id)).all()
        assert [(r.source, r.error) for r in skips] == [(s, f"no recording in {samples / 'euro_access'}")
                                                        for s in LEFT_OUT]
        data = collect_digest(session, config.strategy, DigestChannel(channel="#eu"), DIGEST_DAY,
                              DIGEST_DAY - timedelta(days=7))
    assert data.programmes == []  # every deadline passed by the digest's day: none is open
    (message,) = build_digest(data)
    assert message.blocks[2] == {"type": "context", "elements": [{"type": "mrkdwn", "text": (
        "Sources: 1 of 1 fine · 4 live-only sources not in the recording "
        "(eu_ft, interreg_bsr_news, interreg_no_calendar, innovation_express)")}]}
    start = message.blocks.index(PROGRAMMES_HEADING)
    assert message.blocks[start - 1] == {"type": "divider"}
    assert message.blocks[start + 1:] == [_section("\n".join([
        f"• _Interreg Baltic Sea Region_ — no open call; last call closed 20 Nov 2025 "
        f"(<{BSR}|Project Platforms 2025>)",
        "• _BSR Innovation Express_ — no data: live-only source, not in the recording (innovation_express)",
        "• _Interreg North Sea_ — no open call; none seen yet by euro_access",
        "• _Interreg Öresund-Kattegat-Skagerrak_ — no open call; none seen yet by euro_access",
        f"• _Interreg Germany-Denmark_ — no open call; last call closed 10 Nov 2025 "
        f"(<{DE_DK}|Interreg DE-DK - Application of project proposals 2025>)",
        "• _Innovationsfonden_ — not watched by any source: add one from "
        "config/sources/innovationsfonden.yaml",
        "• _EUDP_ — not watched by any source: add one from config/sources/eudp.yaml",
        "• _MUDP_ — not watched by any source: add one from config/sources/mudp.yaml",
        "• _GUDP_ — not watched by any source: add one from config/sources/gudp.yaml",
        "• _Nordic Innovation_ — not watched by any source: add one from "
        "config/sources/nordic_innovation.yaml",
        "• _Danmarks Erhvervsfremmebestyrelse_ — not watched by any source: add one from "
        "config/sources/erhvervsfremmebestyrelsen.yaml",
        "• _ECCP_ — not watched by any source: add one from config/sources/eccp.yaml"]))]
    terminal = render_terminal([message])
    assert terminal.endswith(
        "Programmes we follow\n\n"
        f"• Interreg Baltic Sea Region — no open call; last call closed 20 Nov 2025 "
        f"(Project Platforms 2025 ({BSR}))\n"
        "• BSR Innovation Express — no data: live-only source, not in the recording (innovation_express)\n"
        "• Interreg North Sea — no open call; none seen yet by euro_access\n"
        "• Interreg Öresund-Kattegat-Skagerrak — no open call; none seen yet by euro_access\n"
        f"• Interreg Germany-Denmark — no open call; last call closed 10 Nov 2025 "
        f"(Interreg DE-DK - Application of project proposals 2025 ({DE_DK}))\n"
        "• Innovationsfonden — not watched by any source: add one from "
        "config/sources/innovationsfonden.yaml\n"
        "• EUDP — not watched by any source: add one from config/sources/eudp.yaml\n"
        "• MUDP — not watched by any source: add one from config/sources/mudp.yaml\n"
        "• GUDP — not watched by any source: add one from config/sources/gudp.yaml\n"
        "• Nordic Innovation — not watched by any source: add one from "
        "config/sources/nordic_innovation.yaml\n"
        "• Danmarks Erhvervsfremmebestyrelse — not watched by any source: add one from "
        "config/sources/erhvervsfremmebestyrelsen.yaml\n"
        "• ECCP — not watched by any source: add one from config/sources/eccp.yaml\n")

    rows = {row["source"]: row for row in source_status(engine, list(config.sources))}
    assert (rows["innovation_express"]["outcome"], rows["innovation_express"]["last_error"],
            rows["innovation_express"]["seen"]) == ("skipped", f"no recording in {samples / 'euro_access'}",
                                                    None)
    assert rows["euro_access"]["outcome"] == "ok"


def _run(engine, source: str, at: datetime, outcome: str, error: str | None = None) -> None:
    with session_scope(engine) as session:
        session.add(FetchRun(source=source, started_at=at, finished_at=at, outcome=outcome,
                             complete=outcome == "ok", seen=5 if outcome == "ok" else 0, error=error))


def test_outside_a_replay_a_source_without_runs_has_not_run_yet_and_a_skip_hides_no_failure(engine) -> None:
    now = DIGEST_DAY
    _run(engine, "eu_ft", now - timedelta(days=3), "ok")
    _run(engine, "feed", now - timedelta(days=3), "ok")
    _run(engine, "feed", now - timedelta(days=2), "failed", "connection refused")
    _run(engine, "feed", now - timedelta(days=1), "failed", "connection refused")
    with Session(engine) as session:
        health = source_health(session, ["eu_ft", "feed", "ical"], now - timedelta(days=7))
    assert health_line(health, "Europe/Copenhagen") == (
        "Sources: 1 of 3 fine · feed failing since 20 Aug 12:00 (2 runs; last good 19 Aug 12:00) · "
        "ical has not run yet")

    # a replay that had no recording of either: the feed is left out, its failures stay counted
    _run(engine, "feed", now, "skipped", "no recording in samples")
    _run(engine, "ical", now, "skipped", "no recording in samples")
    _run(engine, "eu_ft", now, "failed", "HTTP 503")
    with Session(engine) as session:
        health = source_health(session, ["eu_ft", "feed", "ical"], now - timedelta(days=7))
    assert [(h.source, h.bad_runs, h.skipped) for h in health] == [
        ("eu_ft", 1, None), ("feed", 2, "no recording in samples"), ("ical", 0, "no recording in samples")]
    assert health_line(health, "Europe/Copenhagen") == (
        "Sources: 0 of 1 fine · 2 live-only sources not in the recording (feed, ical) · "
        "eu_ft failing since 22 Aug 12:00 (1 run; last good 19 Aug 12:00)")
    rows = {row["source"]: row for row in source_status(engine, ["eu_ft", "feed", "ical"])}
    assert (rows["feed"]["outcome"], rows["feed"]["consecutive_failures"], rows["feed"]["seen"],
            rows["feed"]["last_error"]) == ("skipped", 2, 0, "no recording in samples")

    # the next live run counts again
    _run(engine, "ical", now + timedelta(hours=1), "ok")
    with Session(engine) as session:
        health = source_health(session, ["ical"], now - timedelta(days=7))
    assert health_line(health, "Europe/Copenhagen") == "Sources: 1 of 1 fine"


def test_each_state_of_a_programme_in_one_line_and_its_calls_under_it() -> None:
    deadline = datetime(2027, 3, 2, 11, 0, tzinfo=UTC)
    calls = [ProgrammeCall(call_id=7, programme="Innovationsfonden", title="Grand Solutions 2027 <!here>",
                           url="https://x.dk/gs", status="open", deadline=deadline, days_left=90,
                           passed=True, score=0.12),
             ProgrammeCall(call_id=8, programme="Innovationsfonden", title="Innobooster", url=None,
                           status="forthcoming", deadline=None, days_left=None, passed=False,
                           failed=("budget below 50000",))]
    states = [
        ProgrammeState("Interreg Baltic Sea Region", CLOSED, ("euro_access", "feed"),
                       last_title="Interreg Baltic Sea Region – Small projects *3rd call*",
                       last_url="https://x.eu/3", last_deadline=datetime(2025, 1, 15, 15, 0, tzinfo=UTC)),
        ProgrammeState("Innovationsfonden", OPEN, ("innovationsfonden_grand_solutions",)),
        ProgrammeState("Interreg North Sea", NONE_SEEN, ("euro_access",)),
        ProgrammeState("EUDP", FAILING, ("eudp",)),
        ProgrammeState("BSR Innovation Express", NOT_RECORDED, ("innovation_express", "bsr_news")),
        ProgrammeState("MUDP", NOT_RUN, ("mudp",)),
        ProgrammeState("Nordic Innovation", UNWATCHED, ready_made=("nordic.yaml", "nordic_extra.yaml")),
        ProgrammeState("ECCP <b>", UNWATCHED),
    ]
    blocks = [b.to_dict() for b in programme_blocks(calls, states)]
    assert blocks == [{"type": "divider"}, PROGRAMMES_HEADING, _section("\n".join([
        "• _Interreg Baltic Sea Region_ — no open call; last call closed 15 Jan 2025 "
        "(<https://x.eu/3|Small projects ∗3rd call∗>)",
        "• _Innovationsfonden_: <https://x.dk/gs|Grand Solutions 2027 &lt;!here&gt;> · closes 2 Mar 2027 "
        "12:00 (90 days left) · passes the rules · score 0.12",
        "• _Innovationsfonden_: Innobooster · forthcoming, deadline not announced · left out by the rules: "
        "budget below 50000",
        "• _Interreg North Sea_ — no open call; none seen yet by euro_access",
        "• _EUDP_ — no data: source eudp failing (see the Sources line)",
        "• _BSR Innovation Express_ — no data: live-only sources, not in the recording "
        "(innovation_express, bsr_news)",
        "• _MUDP_ — no data: source mudp not run yet",
        "• _Nordic Innovation_ — not watched by any source: add one from config/sources/nordic.yaml or "
        "config/sources/nordic_extra.yaml",
        "• _ECCP &lt;b&gt;_ — not watched by any source: add one in config/sources/"]))]
    assert programme_blocks([], []) == []
    assert short_title("INTERREG north sea: Call 4", "Interreg North Sea") == "Call 4"
    assert short_title("Call 4 of Interreg North Sea", "Interreg North Sea") == "Call 4 of Interreg North Sea"


def test_the_ready_made_configs_are_read_by_programme_and_a_broken_one_is_left_out(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("sources:\n  one: {type: html_list, programme: EUDP}\n"
                                     "  two: {type: html_list}\n", encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("sources: [unclosed\n", encoding="utf-8")
    (tmp_path / "list.yaml").write_text("sources: [1, 2]\n", encoding="utf-8")
    assert ready_made_programmes(tmp_path) == {"a.yaml": ["EUDP"]}
    assert ready_made_programmes(tmp_path / "missing") == {}


def test_the_terminal_drops_slack_italics_but_keeps_underscores_inside_words() -> None:
    text = "• _Interreg North Sea_ — none seen yet by euro_access; *bold* &amp; snake_case_name"
    message = SlackMessage("#c", "t", [{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
    assert render_terminal([message]) == ("── #c " + "─" * 58 + "\n"
                                          "• Interreg North Sea — none seen yet by euro_access; bold & "
                                          "snake_case_name\n")


def test_a_programme_line_never_calls_a_live_only_source_failing_or_not_run() -> None:
    """Interreg Baltic Sea Region is watched by euro_access and the live-only interreg_bsr_news feed: a
    replay whose euro-access recording is broken said 'sources euro_access, interreg_bsr_news failing',
    while the Sources line above it called the feed live only, not in the recording."""
    from pipeline.core.db import open_database

    config = load_config(DEFAULT_STRATEGY)
    wanted = "Interreg Baltic Sea Region"
    for outcome, said in (("failed", "source euro_access failing (see the Sources line)"),
                          (None, "source euro_access not run yet")):
        engine = open_database("sqlite://")
        try:
            if outcome:
                _run(engine, "euro_access", DIGEST_DAY - timedelta(days=1), outcome, "no table")
            _run(engine, "interreg_bsr_news", DIGEST_DAY, "skipped", "no recording in samples")
            with Session(engine) as session:
                data = collect_digest(session, config.strategy, DigestChannel(channel="#eu"), DIGEST_DAY,
                                      DIGEST_DAY - timedelta(days=7))
        finally:
            engine.dispose()
        (line,) = [b["text"]["text"] for m in build_digest(data) for b in m.blocks
                   if b["type"] == "section" and f"_{wanted}_" in b["text"]["text"]][0].splitlines()[:1]
        assert line == (f"• _{wanted}_ — no data: {said}; interreg_bsr_news is live only, "
                        "not in the recording")


def test_a_muted_call_of_a_programme_we_follow_leaves_the_digest_and_its_line_says_so(engine) -> None:
    """Mute hides a call from the strategy's digests, yet an open Interreg call muted with `fundradar
    calls mute` was still listed under 'Programmes we follow'; it is left out, and a programme whose
    only open calls are muted says so rather than 'no open call'."""
    from pipeline.follow import set_state

    config = load_config(DEFAULT_STRATEGY)
    due = DIGEST_DAY + timedelta(days=60)
    with session_scope(engine) as session:
        for n, programme in enumerate(["Interreg North Sea"] * 2 + ["Interreg Germany-Denmark"]):
            session.add(Call(source="euro_access", external_id=f"IR-{n}", programme=programme,
                             title=f"{programme} call {n}", status="open", deadline=due,
                             deadlines=[{"at": due.isoformat(), "time_assumed": False}],
                             first_seen=DIGEST_DAY, last_seen=DIGEST_DAY))
    _run(engine, "euro_access", DIGEST_DAY - timedelta(days=1), "ok")
    with session_scope(engine) as session:
        ids = {c.external_id: c.id for c in session.exec(select(Call))}
        for muted in ("IR-1", "IR-2"):
            set_state(session, config.strategy.name, ids[muted], "mute", DIGEST_DAY, "mette")
    with Session(engine) as session:
        data = collect_digest(session, config.strategy, DigestChannel(channel="#eu"), DIGEST_DAY,
                              DIGEST_DAY - timedelta(days=7))
    assert [c.call_id for c in data.programmes] == [ids["IR-0"]]
    lines = [line for m in build_digest(data) for b in m.blocks if b["type"] == "section"
             for line in b["text"]["text"].splitlines() if "North Sea" in line or "Germany-Denmark" in line]
    assert lines == [
        "• _Interreg North Sea_: Interreg North Sea call 0 · closes 21 Oct 2026 12:00 (60 days left) · "
        "rules not checked yet",
        f"• _Interreg Germany-Denmark_ — its open call is muted (`fundradar calls unmute {ids['IR-2']}`)"]
    from pipeline.notify.programmes import MUTED, state_line

    assert state_line(ProgrammeState("EUDP", MUTED, ("eudp",), muted=(4, 9))) == (
        "• _EUDP_ — its 2 open calls are muted (`fundradar calls unmute ID`: 4, 9)")


def test_a_programme_with_many_open_calls_leaves_room_for_the_next_and_says_how_many_more(engine) -> None:
    """A strategy following a broad programme (Horizon Europe, hundreds of open topics) before a small
    one: the small one's calls are still listed, not "none seen yet", and the broad one's lines end
    with how many more there are instead of stopping without a word."""
    from pipeline.core.config import Strategy
    from pipeline.notify.programmes import MAX_CALLS_PER_PROGRAMME

    now = DIGEST_DAY
    _run(engine, "eu_ft", now - timedelta(hours=3), "ok")
    many = MAX_CALLS_PER_PROGRAMME + 25
    with session_scope(engine) as session:
        for n in range(many):
            session.add(Call(source="eu_ft", external_id=f"he-{n}", programme="Horizon Europe",
                             title=f"Topic {n}", status="open", deadline=now + timedelta(days=60 + n),
                             first_seen=now, last_seen=now))
        session.add(Call(source="eu_ft", external_id="dep-1", programme="Digital Europe Programme",
                         title="Cloud-edge pilots", status="open", deadline=now + timedelta(days=90),
                         first_seen=now, last_seen=now))
    strategy = Strategy.model_validate({
        "name": "ls-dk", "organisation": "Life Science DK",
        "focus_areas": {"cancer": {"label": "Cancer", "keywords": ["cancer"]}},
        "programmes_of_interest": ["Horizon Europe", "Digital Europe"],
        "sources": {"eu_ft": {"type": "eu_ft", "schedule": {"every": "12h"},
                              "programmes": {"Horizon Europe": "43108390", "Digital Europe": "43152860"}}}})
    with Session(engine) as session:
        data = collect_digest(session, strategy, DigestChannel(channel="#ls"), now, now - timedelta(days=7))
    (message,) = build_digest(data)
    start = message.blocks.index(PROGRAMMES_HEADING)
    lines = "\n".join(b["text"]["text"] for b in message.blocks[start + 1:]).split("\n")
    he = [line for line in lines if line.startswith("• _Horizon Europe_: Topic ")]
    assert len(he) == MAX_CALLS_PER_PROGRAMME
    assert he[0].startswith("• _Horizon Europe_: Topic 0 · closes ")
    assert lines[MAX_CALLS_PER_PROGRAMME] == "• _Horizon Europe_: … and 25 more open or forthcoming calls"
    assert lines[MAX_CALLS_PER_PROGRAMME + 1].startswith("• _Digital Europe_: Cloud-edge pilots · closes ")
    assert len(lines) == MAX_CALLS_PER_PROGRAMME + 2


def test_the_programmes_heading_never_ends_a_message_without_its_lines() -> None:
    """A digest whose calls fill a message up to the "Programmes we follow" heading: the heading went out
    as the last block of part 1 and its lines alone in part 2."""
    from pipeline.notify.blocks import MAX_BLOCKS, section, split_messages

    states = [ProgrammeState("Interreg North Sea", NONE_SEEN, ("euro_access",))]
    blocks = [section(f"call {n}") for n in range(MAX_BLOCKS - 2)] + programme_blocks([], states)
    first, second = split_messages("#byg", blocks, "digest", "Funding digest for Byg")
    assert first.blocks[-1] == {"type": "divider"}
    assert [b.get("text", {}).get("text") for b in second.blocks[1:]] == [
        "*Programmes we follow*", "• _Interreg North Sea_ — no open call; none seen yet by euro_access"]


def test_a_call_in_the_top_calls_and_in_programmes_we_follow_says_it_is_both(engine) -> None:
    """An Interreg call that scored among the top calls was listed again under 'Programmes we follow',
    the same title twice in one digest with nothing saying it is one call; its second line says it is
    in the top calls above."""
    from pipeline.core.models import Score, Verdict

    config = load_config(DEFAULT_STRATEGY)
    due = DIGEST_DAY + timedelta(days=60)
    with session_scope(engine) as session:
        call = Call(source="euro_access", external_id="IR-1", programme="Interreg North Sea",
                    title="Green ports of the North Sea", status="open", deadline=due,
                    deadlines=[{"at": due.isoformat(), "time_assumed": False}], first_seen=DIGEST_DAY,
                    last_seen=DIGEST_DAY)
        session.add(call)
        session.flush()
        session.add(Score(call_id=call.id, strategy=config.strategy.name, focus_area="green_maritime",
                          score=0.8, explanation=[], computed_at=DIGEST_DAY))
        session.add(Verdict(call_id=call.id, strategy=config.strategy.name, passed=True, outcomes=[],
                            best_score=0.8, computed_at=DIGEST_DAY))
        call_id = call.id
    _run(engine, "euro_access", DIGEST_DAY - timedelta(days=1), "ok")
    with Session(engine) as session:
        data = collect_digest(session, config.strategy, DigestChannel(channel="#eu"), DIGEST_DAY,
                              DIGEST_DAY - timedelta(days=7))
    assert [c.call_id for c in data.top] == [c.call_id for c in data.programmes] == [call_id]
    lines = [line for m in build_digest(data) for b in m.blocks if b["type"] == "section"
             for line in b["text"]["text"].splitlines() if line.startswith("• _Interreg North Sea_")]
    assert lines == ["• _Interreg North Sea_: Green ports of the North Sea · closes 21 Oct 2026 12:00 "
                     "(60 days left) · passes the rules · score 0.80 · in the top calls above"]


def test_a_programme_call_whose_rules_could_not_all_be_checked_does_not_pass_them(
        cli, samples: Path) -> None:
    """The Interreg call (no success rate is published for Interreg, the listing gives no budget) was
    said to pass the rules, while calls list marks it "?"."""
    config = ["--config", str(DEFAULT_STRATEGY)]
    at = ["--as-of", "2025-10-02T06:00Z"]
    synced = cli(*config, "sync", "--source", "euro_access", "--replay", str(samples / "euro_access"))
    assert synced.exit_code == 0
    digest = cli(*config, *at, "digest", "--dry-run", "--channel", "#eu-fundraising")
    assert digest.exit_code == 0, digest.output
    (line,) = [line for line in digest.stdout.splitlines()
               if line.startswith("• Interreg Baltic Sea Region:")]
    assert line.endswith("· closes 20 Nov 2025 16:00 (49 days left) · no rule fails; not known: success "
                         "rate, budget · score 0.00"), line
    listed = cli(*config, *at, "calls", "list", "--programme", "Baltic Sea", "--csv")
    assert listed.stdout.splitlines()[1].split(",")[8] == "unknown"


def test_an_open_calls_line_leaves_out_the_programme_name_its_title_repeats(cli, samples: Path) -> None:
    """"• Interreg Baltic Sea Region: Interreg Baltic Sea Region - Project Platforms 2025", while the
    line of a closed call already read "last call closed … (Project Platforms 2025)"."""
    config = ["--config", str(DEFAULT_STRATEGY)]
    synced = cli(*config, "sync", "--source", "euro_access", "--replay", str(samples / "euro_access"))
    assert synced.exit_code == 0
    digest = cli(*config, "--as-of", "2025-10-02T06:00Z", "digest", "--dry-run", "--channel",
                 "#eu-fundraising", "--json")
    (message,) = json.loads(digest.stdout)
    section = message["blocks"][-1]["text"]["text"]
    assert f"• _Interreg Baltic Sea Region_: <{BSR}|Project Platforms 2025> · closes" in section
