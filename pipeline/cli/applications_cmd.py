"""``fundradar applications add|list|show|edit|move|ack|consortium``: an idea submitted to a call.

An application belongs to the strategy of its idea; with a config folder every command here sees only
the selected strategy's applications and the shared ones (see ``pipeline.cli.common.scope``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from sqlmodel import Session

from pipeline import applications as apps
from pipeline.cli.common import (
    Column,
    echo,
    fmt_date,
    fmt_datetime,
    fmt_money,
    new_app,
    print_json,
    print_rows,
    scope,
    state,
    stdout,
)
from pipeline.core.clock import BRUSSELS
from pipeline.core.db import session_scope
from pipeline.core.deadlines import days_until
from pipeline.core.inputs import AMOUNT_FORMS, parse_amount
from pipeline.core.text import one_line, printable

applications_app = new_app(
    "Applications: an idea submitted to a call, its consortium and its status.\n\nWith a config folder "
    "of several clusters an application belongs to its idea's strategy and only that strategy sees it "
    "(--strategy); partners are one shared directory.\n\nExample: fundradar applications list --status open")

_STATUS_HELP = ("Workflow: draft -> consortium -> writing -> submitted -> granted | rejected; "
                "withdrawn from any non-final status; one step back allowed before submitted.")


def _ago(moment: datetime, now: datetime) -> str:
    """``3 days ago`` in calendar days in Brussels, as the Days column counts them; ``5 hours ago`` on
    the same day (not "0 days ago")."""
    days, hours = -days_until(moment, now), int((now - moment).total_seconds() // 3600)
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''} ago"
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return "less than an hour ago"


def _deadline(value: Any, flagged: bool = False) -> str:
    return fmt_date(value) + ("!" if flagged else "")


LIST_COLUMNS = [
    Column("id", "ID", justify="right", no_wrap=True),
    Column("idea", "Idea", narrow_width=18),
    Column("call_id", "Call", justify="right", no_wrap=True),
    Column("status", "Status", no_wrap=True),
    Column("role", "Role", no_wrap=True),
    Column("requested_amount", "Amount", fmt_money, justify="right", no_wrap=True),
    Column("deadline", "Deadline", no_wrap=True),
    Column("days_left", "Days", justify="right", no_wrap=True),
]


@applications_app.command("add")
def add_cmd(
    idea: str = typer.Argument(..., help="Idea id (12 or #12)."),
    call: str = typer.Argument(..., help="Call id or topic identifier."),
    role: str = typer.Option("coordinator", "--role", help="Our role: coordinator or partner."),
    amount: str = typer.Option(None, "--amount", help=f"Requested amount in euros: {AMOUNT_FORMS}."),
    owner: str = typer.Option(None, "--owner", help="Who writes it (default: the idea's owner)."),
    partner: Annotated[list[str] | None, typer.Option(
        "--partner", metavar="ID[:ROLE]", help="Consortium member as ID or ID:role (repeatable).")] = None,
    by: str = typer.Option(None, "--by", help="Who records this (default: FUNDRADAR_USER or login)."),
    note: str = typer.Option("", "--note", help="A note for the history."),
) -> None:
    """Start an application of an idea to a call (status draft).

    Nothing is stored when a partner is unknown, given twice or a second coordinator. A call whose
    deadline has passed, that fails the strategy's rules or whose consortium rule the partners miss
    is still added, with a warning on stderr for each.

    Example: fundradar applications add 3 12 --amount 250000 --partner 4 --partner 7:partner
    """
    st = state()
    selected = scope()
    config = st.config()  # read before the write transaction starts: an invalid config writes nothing
    requested = parse_amount(amount, "--amount")
    with session_scope(st.read_engine()) as session:
        app = apps.create_application(session, idea_id=idea, call_key=call, now=st.now(), role=role,
                                      requested_amount=requested, owner=owner, members=partner or [], by=by,
                                      note=note, scope=selected)
        warnings = apps.add_warnings(session, app, config, st.now())
    echo(f"Added application #{app.id}: idea #{app.idea_id} -> call #{app.call_id} (draft)")
    for warning in warnings:
        echo(f"Warning: {warning}", err=True)


@applications_app.command("list")
def list_cmd(
    status: str = typer.Option(None, "--status", help="A status, or 'open' for every non-final one."),
    idea: str = typer.Option(None, "--idea", help="Only this idea's applications."),
    call: str = typer.Option(None, "--call", help="Only applications to this call (id or topic identifier)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (all fields)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """List applications; a deadline marked ! moved (or its call was removed) and is not acknowledged yet;
    "overdue" in Days: not submitted by the call's last deadline.

    What an open application's consortium misses of its call's rules is a warning on stderr (and
    "warnings" in --json).

    Example: fundradar applications list --status open
    """
    st = state()
    now = st.now()
    config = st.config()
    with Session(st.read_engine()) as session:
        rows = apps.list_applications(session, now, status=status, idea_id=idea, call_id=call,
                                      scope=scope(), config=config)
    warnings = [f"Warning: application #{r['id']}: {w}" for r in rows for w in r["warnings"]]
    if not (as_json or as_csv):
        rows = [dict(r, deadline=f"call {r['call_status']}" + ("!" if r["deadline_flagged"] else "")
                     if r["call_gone"] else _deadline(r["deadline"], r["deadline_flagged"]),
                     days_left="overdue" if r["overdue"] else r["days_left"]) for r in rows]
    # a filter that matched nothing is not an empty pipeline
    empty = ("No applications match; `fundradar applications list` shows them all." if status or idea or call
             else "No applications yet; start one with `fundradar applications add IDEA CALL`.")
    print_rows(rows, LIST_COLUMNS, as_json=as_json, as_csv=as_csv, empty=empty, csv_zone=BRUSSELS)
    for warning in [] if as_json else warnings:
        echo(warning, err=True)


@applications_app.command("show")
def show_cmd(
    application: str = typer.Argument(..., help="Application id (12 or #12)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show an application: call, deadline, consortium, rule warnings and history.

    Example: fundradar applications show 5
    """
    st = state()
    now = st.now()
    with Session(st.read_engine()) as session:
        data = apps.application_detail(session, application, st.config(), now, scope=scope())
    if as_json:
        print_json(data)
        return
    out = stdout()

    def line(label: str, value: Any) -> None:
        if value not in (None, ""):
            # one line per field: a scraped call title or programme may hold a line break
            out.print(f"{label + ':' if label else '':<11}{one_line(printable(value))}", markup=False,
                      highlight=False)

    out.print(f"Application #{data['id']}: {data['idea']}", markup=False, highlight=False)
    line("Call", f"#{data['call_id']} {data['topic_id'] or data['call']}")
    line("Programme", data["programme"])
    line("Status", data["status"])
    line("Role", data["role"])
    line("Owner", data["owner"])
    line("Requested", fmt_money(data["requested_amount"]))
    line("Granted", fmt_money(data["granted_amount"]))
    deadline = fmt_datetime(data["deadline"])
    if data["days_left"] is not None:
        deadline += f" Brussels ({data['days_left']} days left)"
    elif data["deadline"] is not None:
        late = "overdue: " if data["overdue"] else ""
        deadline += f" Brussels ({late}passed {_ago(data['deadline'], now)})"
    if data["call_gone"]:
        deadline = f"none: the call is {data['call_status']}"
    line("Deadline", deadline)
    if data["deadline_flagged"] and data["call_gone"]:
        line("", f"CALL {data['call_status'].upper()}: run `fundradar applications ack {data['id']}`")
    elif data["deadline_flagged"]:
        line("", f"MOVED: see History; run `fundradar applications ack {data['id']}`")
    if data["consortium"]:
        out.print("Consortium:", markup=False)
        for m in data["consortium"]:
            out.print(f"  #{m['partner_id']} {m['organisation']} ({m['country']}, {m['role']})",
                      markup=False, highlight=False)
    for warning in data["warnings"]:
        out.print(f"Warning: {warning}", markup=False, highlight=False)
    out.print("History:", markup=False)
    history = Table(show_header=False, show_edge=False, box=None, pad_edge=False, padding=(0, 1))
    for column in ("when", "by", "what"):
        history.add_column(column, no_wrap=column != "what", overflow="fold")
    for e in data["events"]:
        change = f"{e['from_status'] or '-'} -> {e['to_status']}" if e["to_status"] else ""
        text = "; ".join(x for x in (change, e["note"]) if x)
        history.add_row(fmt_datetime(e["at"]), Text(printable(e["by"] or "")), Text(printable(text)))
    out.print(Padding(history, (0, 0, 0, 2), expand=False))


@applications_app.command("edit")
def edit_cmd(
    application: str = typer.Argument(..., help="Application id (12 or #12)."),
    amount: str = typer.Option(None, "--amount", help=f"Requested amount in euros: {AMOUNT_FORMS}."),
    granted: str = typer.Option(None, "--granted", help="Granted amount in euros (a granted application)."),
    role: str = typer.Option(None, "--role", help="Our role: coordinator or partner."),
    owner: str = typer.Option(None, "--owner", help="Who writes it."),
    note: str = typer.Option("", "--note", help="Why, for the history."),
    by: str = typer.Option(None, "--by", help="Who (default: FUNDRADAR_USER or login)."),
) -> None:
    """Correct an application's amounts, our role or its owner; only the options given change.

    Works in every status, granted included; the status itself changes only with `move`. Each
    change is printed as old -> new and kept in the history.

    Example: fundradar applications edit 5 --amount 420000 --note "budget revised"
    """
    st = state()
    selected = scope()
    requested, grant = parse_amount(amount, "--amount"), parse_amount(granted, "--granted")
    with session_scope(st.read_engine()) as session:
        app, changes = apps.edit_application(session, application, st.now(), requested_amount=requested,
                                             granted_amount=grant, role=role, owner=owner, by=by,
                                             note=note, scope=selected)
    if changes:
        echo(f"Application #{app.id}: {'; '.join(changes)}")
    else:
        echo(f"Application #{app.id}: nothing changed; it already has these values", err=True)


@applications_app.command("move")
def move_cmd(
    application: str = typer.Argument(..., help="Application id (12 or #12)."),
    status: str = typer.Argument(..., help=_STATUS_HELP),
    note: str = typer.Option("", "--note", help="Why, for the history."),
    by: str = typer.Option(None, "--by", help="Who (default: FUNDRADAR_USER or login)."),
    granted: str = typer.Option(None, "--granted", help="Granted amount in euros (with granted)."),
) -> None:
    """Move an application to another status (the workflow is enforced).

    Example: fundradar applications move 5 submitted --note "submitted on the portal"
    """
    st = state()
    selected = scope()
    grant = parse_amount(granted, "--granted")
    with session_scope(st.read_engine()) as session:
        app = apps.get_application(session, application, scope=selected)
        before = app.status
        apps.move(session, app.id, status, st.now(), by=by, note=note, granted_amount=grant, scope=selected)
        echo(f"Application #{app.id}: {before} -> {app.status}")


@applications_app.command("ack")
def ack_cmd(
    application: str = typer.Argument(..., help="Application id (12 or #12)."),
    by: str = typer.Option(None, "--by", help="Who (default: FUNDRADAR_USER or login)."),
) -> None:
    """Acknowledge that the call's deadline moved; clears the flag.

    Example: fundradar applications ack 5
    """
    st = state()
    selected = scope()
    with session_scope(st.read_engine()) as session:
        apps.follow_call_deadlines(session, st.now())  # a move not followed yet is acknowledged too
        done = apps.acknowledge(session, application, st.now(), by=by, scope=selected)
        app = apps.get_application(session, application)
    if done:
        echo(f"Application #{app.id}: deadline change acknowledged")
    else:
        echo(f"Application #{app.id}: nothing to acknowledge; its deadline has not moved", err=True)


@applications_app.command("consortium")
def consortium_cmd(
    application: str = typer.Argument(..., help="Application id (12 or #12)."),
    add: Annotated[list[str] | None, typer.Option(
        "--add", metavar="ID[:ROLE]", help="Partner as ID or ID:role (repeatable).")] = None,
    remove: Annotated[list[str] | None, typer.Option(
        "--remove", metavar="ID", help="Partner id (repeatable).")] = None,
    by: str = typer.Option(None, "--by", help="Who (default: FUNDRADAR_USER or login)."),
) -> None:
    """Add partners to or remove them from an application's consortium (removals first, so
    `--remove 4 --add 4:coordinator` changes a role); all or nothing.

    Example: fundradar applications consortium 5 --add 4:partner --remove 7
    """
    st = state()
    selected = scope()
    with session_scope(st.read_engine()) as session:
        app = apps.get_application(session, application, scope=selected)
        apps.change_consortium(session, app, st.now(), add=add or [], remove=remove or [], by=by)
        size = len(apps.members(session, app))
    echo(f"Application #{app.id}: {size} partner{'s' if size != 1 else ''} besides us")


def register(app: typer.Typer) -> None:
    app.add_typer(applications_app, name="applications")
