"""``fundradar calls list|show|why|mark``: the calls found by the watchers, why they score as they do,
and marking them relevant or irrelevant.

scikit-learn is imported only by ``why`` when the scoring is not up to date, never at import time.
"""

from __future__ import annotations

import typer
from rich.text import Text
from sqlmodel import Session

from pipeline.calls import STATUS_CHOICES, CallFilter, call_changes, call_dict, find_call, list_calls
from pipeline.cli.common import (
    Column,
    echo,
    fmt_date,
    fmt_money,
    fmt_pct,
    new_app,
    print_json,
    print_rows,
    state,
    stdout,
)
from pipeline.core.db import session_scope
from pipeline.core.errors import ValidationError
from pipeline.core.text import money_short, printable
from pipeline.follow import clear_state, set_state

calls_app = new_app("Calls for proposals found by the watchers.")


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


LIST_COLUMNS = [
    Column("id", "ID", justify="right", no_wrap=True),
    Column("topic_id", "Topic", max_width=22),
    Column("title", "Title", max_width=30),
    Column("next_deadline", "Deadline", lambda v: (v or "")[:10], no_wrap=True),
    Column("score", "Score", _score, justify="right", no_wrap=True),
]


@calls_app.command("list")
def list_cmd(
    source: str = typer.Option(None, "--source", help="Only calls of this source."),
    status: str = typer.Option("active", "--status",
                               help=f"One of {', '.join(STATUS_CHOICES)} (active = announced, "
                                    "forthcoming or open)."),
    focus: str = typer.Option(None, "--focus", help="Only calls scored for this focus area, best first."),
    within: int = typer.Option(None, "--within", metavar="DAYS", help="Next deadline within DAYS days."),
    programme: str = typer.Option(None, "--programme", help="Programme name contains this text."),
    top: int = typer.Option(None, "--top", min=1, help="Show only the first N."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (all fields)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """List calls: open and forthcoming by default, soonest deadline first.

    Example: fundradar calls list --focus offshore_energy --within 90 --top 20
    """
    st = state()
    strategy = st.config().strategy
    if focus and focus not in strategy.focus_areas:
        raise ValidationError(f"unknown focus area {focus!r}; the strategy has "
                              f"{', '.join(strategy.focus_areas)}")
    if within is not None and within < 0:
        raise ValidationError("--within must be zero or more days")
    flt = CallFilter(source=source, status=status, focus_area=focus, strategy=strategy.name,
                     deadline_within_days=within, programme=programme, limit=top)
    with Session(st.engine()) as session:
        rows = list_calls(session, flt, st.now())
    print_rows(rows, LIST_COLUMNS, as_json=as_json, as_csv=as_csv, empty="No calls match.")


@calls_app.command("show")
def show_cmd(
    call: str = typer.Argument(..., help="Call id, topic identifier or source reference."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one call with its deadlines, money, text and change history.

    Example: fundradar calls show HORIZON-CL5-2027-03-D5-05
    """
    st = state()
    now = st.now()
    with Session(st.engine()) as session:
        found = find_call(session, call)
        data = call_dict(found, now)
        data["text"] = found.text
        data["changes"] = [{"field": c.field, "old": c.old, "new": c.new, "changed_at": c.changed_at}
                           for c in call_changes(session, found.id)]  # type: ignore[arg-type]
    if as_json:
        print_json(data)
        return
    out = stdout()
    out.print(Text(printable(data["title"]), style="bold"))
    lines = [
        ("ID", data["id"]), ("Source", f"{data['source']} ({data['external_id']})"),
        ("Topic", data["topic_id"]), ("Programme", data["programme"]), ("Status", data["status"]),
        ("Type of action", data["type_of_action"]),
        ("Deadlines", ", ".join(d["at"][:16].replace("T", " ") + (" (time assumed)" if d.get("time_assumed")
                                                                   else "") for d in data["deadlines"])),
        ("Budget", fmt_money(data["budget"])), ("Max per project", fmt_money(data["max_contribution"])),
        ("Funding rate", fmt_pct(data["funding_rate"])), ("URL", data["url"]),
        ("First seen", fmt_date(found.first_seen)),
    ]
    for label, value in lines:
        if value not in (None, ""):
            out.print(f"{label + ':':<16}{value}", highlight=False, markup=False)
    if data["text"]:
        out.print("")
        out.print(data["text"], markup=False, highlight=False)
    if data["changes"]:
        out.print("")
        out.print("Changes:", markup=False)
        for change in data["changes"]:
            out.print(f"  {fmt_date(change['changed_at'])} {change['field']}: {change['old']} -> "
                      f"{change['new']}", markup=False, highlight=False)


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

    st = state()
    strategy = st.config().strategy
    if label not in LABELS:
        raise ValidationError(f"unknown mark {label!r}; use relevant or irrelevant")
    if focus is not None and focus not in strategy.focus_areas:
        raise ValidationError(f"unknown focus area {focus!r}; the strategy has "
                              f"{', '.join(strategy.focus_areas)}")
    with session_scope(st.engine()) as session:
        found = find_call(session, call)
        record_mark(session, found.id, strategy.name, label, focus, st.now(), by)  # type: ignore[arg-type]
        call_id = found.id
    where = f"for {focus}" if focus else "for every focus area"
    echo(f"Marked call {call_id} {label} {where}; run `fundradar score` to update the rankings.")


@calls_app.command("why")
def why_cmd(
    call: str = typer.Argument(..., help="Call id, topic identifier or source reference."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Explain a call's scores (top terms per focus area) and its rule outcomes with reasons.

    Example: fundradar calls why HORIZON-CL5-2027-03-D5-05
    """
    from classifiers.freshness import SCORE_FLOOR
    from pipeline.explain import explain_call

    st = state()
    config = st.config()
    data = explain_call(st.engine(), config, call, st.now())
    name, areas, weeks = data["strategy"], data["focus_areas"], data["weeks_to_deadline"]
    if as_json:
        print_json(data)
        return
    lines = [f"Call {data['id']}: {data['title']}", f"Focus areas ({name}):"]
    width = max(len(a) for a in config.strategy.focus_areas)
    for area in areas:
        terms = area["terms"]
        if terms and terms[0].get("excluded"):
            detail = f"excluded: contains {terms[0]['term']!r}"
        else:
            detail = ", ".join(f"{t['term']} {t['weight']:.3f}" for t in terms) or "no matching terms"
        if area["below_floor"]:
            detail = "below the floor, not stored"
        score = f"<{SCORE_FLOOR:.2f}" if area["score"] is None else f"{area['score']:.3f}"
        lines.append(f"  {area['focus_area']:<{width}}  {score}  {detail}")
    failed = [o["rule"] for o in data["rules"] if o["passed"] is False]
    lines.append("Rules: " + ("passed" if not failed else "failed (" + ", ".join(failed) + ")"))
    for outcome in data["rules"]:
        reason = outcome["reason"]
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
    st = state()
    strategy = st.config().strategy
    with session_scope(st.engine()) as session:
        found = find_call(session, call)
        if verb.startswith("un"):
            changed = clear_state(session, strategy.name, found.id, verb[2:])  # type: ignore[arg-type]
        else:
            changed = set_state(session, strategy.name, found.id, verb, st.now(), by)  # type: ignore[arg-type]
        call_id = found.id
    typer.echo(_DONE[verb][0 if changed else 1].format(id=call_id, s=strategy.name))


@calls_app.command("follow")
def follow_cmd(call: str = typer.Argument(..., help=CALL_HELP),
               by: str = typer.Option(None, "--by", help="Who follows (a name or initials).")) -> None:
    """Follow a call: deadline reminders (slack.alerts.reminder_days) and change alerts, as for an
    application's call. Example: fundradar calls follow 42"""
    _follow_state(call, "follow", by)


@calls_app.command("unfollow")
def unfollow_cmd(call: str = typer.Argument(..., help=CALL_HELP)) -> None:
    """Stop following a call. Example: fundradar calls unfollow 42"""
    _follow_state(call, "unfollow", None)


@calls_app.command("mute")
def mute_cmd(call: str = typer.Argument(..., help=CALL_HELP),
             by: str = typer.Option(None, "--by", help="Who mutes (a name or initials).")) -> None:
    """Hide a call from the strategy's digests and new-call alerts. Example: fundradar calls mute 42"""
    _follow_state(call, "mute", by)


@calls_app.command("unmute")
def unmute_cmd(call: str = typer.Argument(..., help=CALL_HELP)) -> None:
    """Show a muted call in digests and alerts again. Example: fundradar calls unmute 42"""
    _follow_state(call, "unmute", None)



def register(app: typer.Typer) -> None:
    app.add_typer(calls_app, name="calls")
