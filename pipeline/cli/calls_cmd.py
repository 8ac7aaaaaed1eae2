"""``fundradar calls list|show|why|mark``: the calls found by the watchers, why they score as they do,
and marking them relevant or irrelevant.

scikit-learn is imported only by ``why`` when the scoring is not up to date, never at import time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import typer

from pipeline.calls import (
    SORT_CHOICES,
    STATUS_CHOICES,
    CallFilter,
    call_changes,
    call_copies,
    call_dict,
    call_text,
    find_call,
    find_call_id,
    list_calls,
    read_calls,
)
from pipeline.cli.common import (
    Column,
    echo,
    fmt_date,
    fmt_money,
    fmt_pct,
    known_focus,
    new_app,
    note_scratch_scores,
    note_view_scores,
    print_json,
    print_rows,
    state,
    stdout,
)
from pipeline.core import clock
from pipeline.core.errors import ValidationError
from pipeline.core.text import money_eur, money_short, percent_precise, printable
from pipeline.follow import clear_state, set_state

MAX_WITHIN_DAYS = 36_500  # a century; further ahead the horizon leaves the dates a datetime holds

calls_app = new_app("Calls for proposals found by the watchers.\n\n"
                    "Example: fundradar calls list --focus offshore_energy --top 20")


def _one_line(value: object) -> str:
    """A scraped value on one line: a newline in a programme or reference ("…\nURL: http://…") would
    print a line of its own, read as another field by a person and by `grep URL`."""
    return " ".join(printable(value).split())


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


RULE_MARKS = {"passed": "✓", "failed": "✗", "unknown": "?"}  # not yet judged: "?" too
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _brussels(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso).astimezone(clock.BRUSSELS) if iso else None


def _day(iso: str | None) -> str:
    """``2026-09-30``, the date in Brussels."""
    moment = _brussels(iso)
    return moment.strftime("%Y-%m-%d") if moment else ""


def _moment(iso: str | None) -> str:
    """``30 Sep 2026 17:00`` in Brussels time (month names in English whatever the locale)."""
    moment = _brussels(iso)
    return f"{_day_words(iso)} {moment:%H:%M}" if moment else ""


def _day_words(iso: str | None) -> str:
    """``22 Sep 2026``, the date in Brussels: opening dates are days (sources give no time of day, and
    a stored midnight UTC would read as 02:00)."""
    moment = _brussels(iso)
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment:%Y}" if moment else ""


def _status(row: dict[str, Any]) -> str:
    """``open``, or ``forthcoming 2026-10-01`` for a call not open yet with its opening date."""
    if row["status"] in ("forthcoming", "announced") and row.get("opening_date"):
        return f"{row['status']} {_day(row['opening_date'])}"
    return row["status"]


LIST_COLUMNS = [
    Column("id", "ID", justify="right", no_wrap=True),
    Column("topic_id", "Topic", no_wrap=True),
    Column("title", "Title"),
    Column("programme", "Programme", narrow_width=18),
    Column("focus_area", "Focus", no_wrap=True),
    Column("score", "Score", _score, justify="right", no_wrap=True),
    Column("rules", "Rules", lambda v: RULE_MARKS.get(v, "?"), justify="center", no_wrap=True),
    Column("status_shown", "Status", narrow_width=11),  # "forthcoming" over its opening date
    Column("deadline_shown", "Deadline", _day, no_wrap=True),
]
# The export: the listed rows in the listed order, deadlines in Brussels time as the table shows them.
CSV_COLUMNS = [Column(key, key) for key in (
    "id", "topic_id", "title", "programme", "status", "opening_date_brussels", "focus_area", "score",
    "rules", "deadline_brussels", "url")]


@calls_app.command("list")
def list_cmd(
    source: str = typer.Option(None, "--source", help="Only calls of this source."),
    status: str = typer.Option("active", "--status",
                               help=f"One of {', '.join(STATUS_CHOICES)} (active = announced, "
                                    "forthcoming or open)."),
    focus: str = typer.Option(None, "--focus",
                              help="Only calls scored for this focus area (its score shown)."),
    within: int = typer.Option(None, "--within", metavar="DAYS", help="Next deadline within DAYS days."),
    programme: str = typer.Option(None, "--programme", help="Programme name contains this text."),
    min_score: float = typer.Option(None, "--min-score", min=0.0, max=1.0,
                                    help="Only calls scoring at least this (0 to 1)."),
    passing: bool = typer.Option(False, "--passing",
                                 help="Only calls that fail none of the strategy's rules (✓, or ? when a "
                                      "rule could not be checked)."),
    followed: bool = typer.Option(False, "--followed", help="Only calls the strategy follows."),
    sort: str = typer.Option("score", "--sort", metavar="score|deadline|opening",
                             help="score: best first, unscored calls after by deadline (the default); "
                                  "deadline: soonest first; opening: earliest opening date first."),
    top: int = typer.Option(None, "--top", min=1, help="Show only the first N."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (all fields)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV: the same calls, in the same order."),
) -> None:
    """List calls: open and forthcoming by default, best score first (--sort changes the order; no
    other option does).

    Rules: ✓ passes the strategy's rules, ✗ fails one, ? none fails but one could not be checked (or
    not scored yet; `calls why ID` says which). Deadlines are Brussels dates.

    Example: fundradar calls list --focus offshore_energy --within 90 --passing --top 20
    """
    st = state()
    strategy = st.strategy_view()
    if focus and focus not in strategy.focus_areas:
        known_focus(focus)
    if within is not None and not 0 <= within <= MAX_WITHIN_DAYS:
        raise ValidationError(f"--within must be 0 to {MAX_WITHIN_DAYS:,} days, got {within:,}")
    if sort not in SORT_CHOICES:
        raise ValidationError(f"unknown --sort {sort!r}; use one of {', '.join(SORT_CHOICES)}")
    flt = CallFilter(source=source, status=status, focus_area=focus, strategy=strategy.name,
                     deadline_within_days=within, programme=programme, limit=top, min_score=min_score,
                     passing=passing, followed=followed, sort=sort)
    from pipeline.trial import empty_area_note, view_scoring  # (note_view_scores imports them too)

    with st.reading() as db:
        note_view_scores(db, strategy, by_score=bool(focus) or min_score is not None)
        rows = list_calls(db, flt, st.now())
        if source and not rows:
            _known_source(db, source, lambda: st.config().sources)
        note = empty_area_note(db, strategy.name, focus, view_scoring(db, strategy)) if focus and not rows \
            else None
    if note:
        echo(note, err=True)
    if not as_json:  # JSON keeps the stored fields (UTC); the table and CSV show Brussels time
        for row in rows:
            # a call with no deadline ahead (closed, or past its last) shows the one it closed on
            shown = row["next_deadline"] or max((d["at"] for d in row["deadlines"] or []),
                                                key=datetime.fromisoformat, default=None)
            deadline = _brussels(shown)
            row.update(status_shown=_status(row), opening_date_brussels=_day(row["opening_date"]),
                       deadline_shown=shown,
                       deadline_brussels=f"{deadline:%Y-%m-%d %H:%M}" if deadline else None)
    # under --focus every row's area is that one: its column would only take the title's room
    columns = [c for c in LIST_COLUMNS if not (focus and c.key == "focus_area")]
    print_rows(rows, CSV_COLUMNS if as_csv else columns, as_json=as_json, as_csv=as_csv,
               empty=_NO_FOLLOWED if followed else "No calls match.")


def _known_source(db: Any, source: str, configured: Callable[[], Any]) -> None:
    """Refuse a --source that is neither configured nor the source of a stored call (a typo): "No calls
    match." would read as a source with nothing open. The config is read only on this path."""
    if db.first("SELECT 1 FROM call c WHERE c.source = :source", {"source": source}) is not None:
        return
    names = set(configured()) | {row[0] for row in db.rows("SELECT DISTINCT c.source FROM call c")}
    if source not in names:
        known = ", ".join(sorted(names)) or "none"
        raise ValidationError(f"no source named {source!r} is configured or has stored calls; the sources "
                              f"are {known} (see `fundradar sources list`)")


# what --followed shows is what someone chose: an empty list says how to choose one
_NO_FOLLOWED = "No followed call matches; follow one with `fundradar calls follow ID` (or Follow in Slack)."


def _deadlines_text(deadlines: list[dict[str, Any]]) -> str:
    return ", ".join(_moment(d["at"]) + (" (time assumed)" if d.get("time_assumed") else "")
                     for d in deadlines)


def _deadlines_line(deadlines: list[dict[str, Any]]) -> str:
    """``15 Sep 2026 17:00 Brussels time``, the time's assumption said once when it is every deadline's."""
    if not deadlines:
        return ""
    if all(d.get("time_assumed") for d in deadlines):
        return (", ".join(_moment(d["at"]) for d in deadlines)
                + " Brussels time (time assumed: the source gives only the day)")
    return _deadlines_text(deadlines) + " Brussels time"


# stored as plain numbers (floats: "3000000.0"); the history shows them as the call does, exactly
MONEY_FIELDS: dict[str, Callable[[float], str]] = {
    "budget": money_eur, "min_contribution": money_eur, "max_contribution": money_eur,
    "funding_rate": percent_precise}


def _number(value: str, shown: Callable[[float], str]) -> str:
    try:
        number = float(value)
    except ValueError:
        return _one_line(value)
    return shown(number) if math.isfinite(number) else _one_line(value)


def change_text(field: str, old: str | None, new: str | None) -> str:
    """One stored change in words: ``deadline moved 19 Jan 2027 17:00 → 30 Sep 2026 17:00`` (Brussels
    time), ``status: open → closed``, ``budget: EUR 3,000,000 → EUR 6,000,000``, ``funding rate: 65 % →
    80 %``; a changed text is named, not printed."""
    def parsed(value: str | None) -> Any:
        try:
            return json.loads(value) if value else None
        except ValueError:
            return value

    if field == "deadlines":
        before, after = parsed(old) or [], parsed(new) or []
        if not before:
            return f"deadline set: {_deadlines_text(after)}"
        if not after:
            return f"deadline removed: {_deadlines_text(before)}"
        if [_moment(d["at"]) for d in before] == [_moment(d["at"]) for d in after]:
            # the same moments: only whether the source gave the time changed, nothing moved
            given = "assumed" if any(d.get("time_assumed") for d in after) else "given"
            return f"deadline time {given}: {_deadlines_text(after)}"
        word = "deadline moved" if len(before) == len(after) == 1 else "deadlines changed"
        return f"{word} {_deadlines_text(before)} → {_deadlines_text(after)}"
    if field == "text":
        return "text changed"
    if field == "opening_date":
        return f"opening date {_day_words(old) or 'none'} → {_day_words(new) or 'none'}"
    shown = MONEY_FIELDS.get(field)
    before, after = ("none" if v is None else _number(v, shown) if shown else _one_line(v)
                     for v in (old, new))
    return f"{field.replace('_', ' ')}: {before} → {after}"


@calls_app.command("show")
def show_cmd(
    call: str = typer.Argument(..., help="Call id, topic identifier or source reference."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one call with its deadlines, money, text and change history; times are Brussels time.

    Every field is one line, so `fundradar calls show 411 | grep URL` prints the URL whole.

    Example: fundradar calls show HORIZON-CL5-2027-03-D5-05
    """
    st = state()
    now = st.now()
    with st.reading() as db:
        call_id = find_call_id(db, call)
        found = read_calls(db, [call_id])[call_id]
        data = call_dict(found, now)
        data["text"] = call_text(db, call_id)
        data["copies"] = call_copies(db, call_id)
        data["changes"] = [{"field": c.field, "old": c.old, "new": c.new, "changed_at": c.changed_at}
                           for c in call_changes(db, call_id)]
    if as_json:
        print_json(data)
        return
    from rich.text import Text  # rich only where a styled line is printed: list and why print plain text

    stdout().print(Text(_one_line(data["title"]), style="bold"), soft_wrap=True)
    status = data["status"]
    if data["opening_date"] and status in ("forthcoming", "announced"):
        status += f" (opens {_day_words(data['opening_date'])})"
    deadlines = _deadlines_line(data["deadlines"])
    lines = [
        ("ID", data["id"]), ("Source", f"{data['source']} ({data['external_id']})"),
        ("Topic", data["topic_id"]), ("Programme", data["programme"]), ("Status", status),
        ("Type of action", data["type_of_action"]),
        ("Deadlines", deadlines),
        ("Budget", fmt_money(data["budget"])), ("Max per project", fmt_money(data["max_contribution"])),
        ("Funding rate", fmt_pct(data["funding_rate"])), ("URL", data["url"]),
        ("First seen", fmt_date(found.first_seen)),
        ("Also on", _copies_line(data["copies"])),
        ("Missing since", f"{fmt_date(found.missing_since)} (not in its source's complete answer; removed "
                          "if the next one lacks it too)" if found.missing_since else None),
    ]
    width = max(len(label) for label, _ in lines) + 2
    echo("\n".join(f"{label + ':':<{width}}{_one_line(value)}" for label, value in lines
                   if value not in (None, "")))
    if data["text"]:
        echo("")
        echo(data["text"])
    if data["changes"]:
        echo("")
        echo("Changes (Brussels time):")
        for change in data["changes"]:
            echo(f"  {fmt_date(change['changed_at'])}  "
                 f"{change_text(change['field'], change['old'], change['new'])}")


def _copies_line(copies: list[dict[str, Any]]) -> str | None:
    """The other sources' copies of a call: 'eu_ft #2 (listed instead of this one)', 'euro_access #1'."""
    return ", ".join(f"{printable(c['source'])} #{c['id']}"
                     + (" (listed instead of this one)" if c["listed"] else "") for c in copies) or None


@calls_app.command("mark")
def mark_cmd(
    call: str = typer.Argument(..., help="Call id, topic identifier or source reference."),
    label: str = typer.Argument(..., metavar="relevant|irrelevant", help="Your judgement."),
    focus: str = typer.Option(None, "--focus", help="The focus area the mark is for (default: all)."),
    by: str = typer.Option(None, "--by", help="Who marks (a name or initials)."),
) -> None:
    """Mark a call relevant or irrelevant; the next `fundradar score` ranks similar calls accordingly.

    Example: fundradar calls mark 42 relevant --focus offshore_energy
    """
    from classifiers.feedback import LABELS, record_mark
    from pipeline.core.db import session_scope

    st = state()
    strategy = st.config().strategy
    if label not in LABELS:
        raise ValidationError(f"unknown mark {label!r}; use relevant or irrelevant")
    known_focus(focus)
    with session_scope(st.read_engine()) as session:
        found = find_call(session, call)
        record_mark(session, found.id, strategy.name, label, focus, st.now(), by)
        call_id = found.id
    where = f"for {focus}" if focus else "for every focus area"
    echo(f"Marked call {call_id} {label} {where}; run `fundradar score` to update the rankings.")


@calls_app.command("why")
def why_cmd(
    call: str = typer.Argument(..., help="Call id, topic identifier or source reference."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Explain a call's scores (top terms per focus area) and its rule outcomes with reasons.

    With a config the stored scores were not computed from (a trial file, an edit or marks not scored
    yet) the call is scored in a scratch database and stderr says so: the stored scores stay as they
    are (`fundradar score` stores new ones).

    Example: fundradar calls why HORIZON-CL5-2027-03-D5-05
    """
    from classifiers.freshness import SCORE_FLOOR
    from pipeline.explain import explain_call

    st = state()
    config = st.config()
    with st.reading() as db:
        data = explain_call(db, config, call, st.now(), st.read_engine)
    if data.pop("scratch"):
        note_scratch_scores(config)
    name, areas, weeks = data["strategy"], data["focus_areas"], data["weeks_to_deadline"]
    if as_json:
        print_json(data)
        return
    lines = [f"Call {data['id']}: {_one_line(data['title'])}", f"Focus areas ({name}):"]
    width = max(len(a) for a in config.strategy.focus_areas)
    for area in areas:
        terms = area["terms"]
        if terms and terms[0].get("excluded"):
            detail = f"excluded: contains {terms[0]['term']!r}"
        else:
            detail = ", ".join(f"{t.get('words', t['term'])} {t['weight']:.3f}" for t in terms) \
                or "no matching terms"
        if area["below_floor"]:
            detail = "below the floor, not stored"
        score = f"<{SCORE_FLOOR:.2f}" if area["score"] is None else f"{area['score']:.3f}"
        lines.append(f"  {area['focus_area']:<{width}}  {score}  {detail}")
    failed = [o["rule"] for o in data["rules"] if o["passed"] is False]
    unknown = [o["rule"] for o in data["rules"] if o["passed"] is None]
    # as calls list marks it: ✗ one failed, ? none failed but one could not be checked, ✓ all passed
    lines.append("Rules: " + (f"failed ({', '.join(failed)})" if failed else
                              f"none failed, unknown ({', '.join(unknown)})" if unknown else "passed"))
    for outcome in data["rules"]:
        reason = _one_line(outcome["reason"])  # quotes the scraped programme name
        if outcome["rule"] == "deadline" and weeks is not None and weeks >= 0:
            reason += f" ({weeks:.1f} weeks from {fmt_date(st.now())})"
        lines.append(f"  {outcome['status']:<8} {outcome['rule']:<17}{reason}")
    value = data["expected_value"]
    # success rate x funding rate x maximum contribution are programme averages: two figures are all
    # the precision there is
    lines.append("Expected value: " + ("unknown" if value is None else
                                       f"about {money_short(value)} (programme averages)")
                 + ("" if data["priority"] is None else f"; priority {data['priority']:.3f}"))
    echo("\n".join(lines))


# --- follow and mute: the state the Follow and Mute buttons in Slack set (pipeline.follow) ---

CALL_HELP = "Call id, topic identifier or source reference."
_DONE = {"follow": ("Following call {id} for {s}: its deadline reminders and changes go to the alerts "
                    "channel.", "Call {id} was already followed for {s}."),
         "mute": ("Muted call {id} for {s}: it leaves the digests and new-call alerts.",
                  "Call {id} was already muted for {s}."),
         "unfollow": ("Stopped following call {id} for {s}.", "Call {id} was not followed for {s}."),
         "unmute": ("Unmuted call {id} for {s}.", "Call {id} was not muted for {s}.")}


def _follow_state(call: str, verb: str, by: str | None) -> None:
    from pipeline.core.db import session_scope

    st = state()
    strategy = st.config().strategy
    with session_scope(st.read_engine()) as session:
        found = find_call(session, call)
        if verb.startswith("un"):
            changed = clear_state(session, strategy.name, found.id, verb[2:])
        else:
            changed = set_state(session, strategy.name, found.id, verb, st.now(), by)
        call_id = found.id
    typer.echo(_DONE[verb][0 if changed else 1].format(id=call_id, s=strategy.name))


@calls_app.command("follow")
def follow_cmd(call: str = typer.Argument(..., help=CALL_HELP),
               by: str = typer.Option(None, "--by", help="Who follows (a name or initials).")) -> None:
    """Follow a call: deadline reminders (slack.alerts.reminder_days) and change alerts, as for an
    application's call.

    Example: fundradar calls follow 42
    """
    _follow_state(call, "follow", by)


@calls_app.command("unfollow")
def unfollow_cmd(call: str = typer.Argument(..., help=CALL_HELP)) -> None:
    """Stop following a call.

    Example: fundradar calls unfollow 42
    """
    _follow_state(call, "unfollow", None)


@calls_app.command("mute")
def mute_cmd(call: str = typer.Argument(..., help=CALL_HELP),
             by: str = typer.Option(None, "--by", help="Who mutes (a name or initials).")) -> None:
    """Hide a call from the strategy's digests and new-call alerts.

    Example: fundradar calls mute 42
    """
    _follow_state(call, "mute", by)


@calls_app.command("unmute")
def unmute_cmd(call: str = typer.Argument(..., help=CALL_HELP)) -> None:
    """Show a muted call in digests and alerts again.

    Example: fundradar calls unmute 42
    """
    _follow_state(call, "unmute", None)



def register(app: typer.Typer) -> None:
    app.add_typer(calls_app, name="calls")
