"""``fundradar applications add|list|show|move|ack|consortium``, ``deadlines``, ``pipeline report`` and
``export ical``.

An application belongs to the strategy of its idea; with a config folder every command here sees only
the selected strategy's applications and the shared ones (see ``ideas_cmd.scope``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from sqlmodel import Session

from classifiers.funding import FundingRules
from pipeline import applications as apps
from pipeline.cli.common import (
    Column,
    fmt_date,
    fmt_datetime,
    fmt_money,
    fmt_pct,
    new_app,
    print_json,
    print_rows,
    state,
    stdout,
)
from pipeline.cli.ideas_cmd import scope
from pipeline.core.db import session_scope
from pipeline.core.models import Call, Idea
from pipeline.partners import consortium_warnings
from pipeline.reports import pipeline_report, upcoming_deadlines

applications_app = new_app(
    "Applications: an idea submitted to a call, its consortium and its status.\n\nWith a config folder "
    "of several clusters an application belongs to its idea's strategy and only that strategy sees it "
    "(--strategy); partners are one shared directory.")
pipeline_app = new_app("The application pipeline as a whole (with a config folder: the selected "
                       "strategy's).")
export_app = new_app("Export deadlines to other tools (with a config folder: the selected strategy's).")

_STATUS_HELP = ("Workflow: draft -> consortium -> writing -> submitted -> granted | rejected; "
                "withdrawn from any non-final status; one step back allowed before submitted.")


def _deadline(value: Any, flagged: bool = False) -> str:
    return fmt_date(value) + ("!" if flagged else "")


LIST_COLUMNS = [
    Column("id", "ID", justify="right", no_wrap=True),
    Column("idea", "Idea", max_width=18),
    Column("call_id", "Call", justify="right", no_wrap=True),
    Column("status", "Status", no_wrap=True),
    Column("role", "Role", no_wrap=True),
    Column("requested_amount", "Amount", fmt_money, justify="right", no_wrap=True),
    Column("deadline", "Deadline", no_wrap=True),
    Column("days_left", "Days", justify="right", no_wrap=True),
]

DEADLINE_COLUMNS = [
    Column("kind", "What", lambda v: "app" if v == "application" else v, no_wrap=True),
    Column("id", "ID", justify="right", no_wrap=True),
    Column("title", "Title", max_width=28),
    Column("deadline", "Deadline (Brussels)", no_wrap=True),
    Column("days_left", "Days", justify="right", no_wrap=True),
    Column("status", "Status", no_wrap=True),
]


@applications_app.command("add")
def add_cmd(
    idea: str = typer.Argument(..., help="Idea id (12 or #12)."),
    call: str = typer.Argument(..., help="Call id or topic identifier."),
    role: str = typer.Option("coordinator", "--role", help="Our role: coordinator or partner."),
    amount: float = typer.Option(None, "--amount", help="Requested amount in euros."),
    owner: str = typer.Option(None, "--owner", help="Who writes it (default: the idea's owner)."),
    partner: Annotated[list[str] | None, typer.Option(
        "--partner", metavar="ID[:ROLE]", help="Consortium member as ID or ID:role (repeatable).")] = None,
    by: str = typer.Option(None, "--by", help="Who records this (default: FUNDRADAR_USER or login)."),
    note: str = typer.Option("", "--note", help="A note for the history."),
) -> None:
    """Start an application of an idea to a call (status draft).

    Example: fundradar applications add 3 12 --amount 250000 --partner 4 --partner 7:partner
    """
    st = state()
    selected = scope()
    with session_scope(st.engine()) as session:
        app = apps.create_application(session, idea_id=idea, call_key=call, now=st.now(), role=role,
                                      requested_amount=amount, owner=owner, members=partner or [], by=by,
                                      note=note, scope=selected)
        typer.echo(f"Added application #{app.id}: idea #{app.idea_id} -> call #{app.call_id} (draft)")


@applications_app.command("list")
def list_cmd(
    status: str = typer.Option(None, "--status", help="A status, or 'open' for every non-final one."),
    idea: str = typer.Option(None, "--idea", help="Only this idea's applications."),
    call: str = typer.Option(None, "--call", help="Only applications to this call id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (all fields)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """List applications; a deadline marked ! moved and is not acknowledged yet.

    Example: fundradar applications list --status open
    """
    st = state()
    now = st.now()
    with Session(st.engine()) as session:
        rows = apps.list_applications(session, now, status=status, idea_id=idea, call_id=call,
                                      scope=scope())
    if not (as_json or as_csv):
        rows = [dict(r, deadline=_deadline(r["deadline"], r["deadline_flagged"])) for r in rows]
    print_rows(rows, LIST_COLUMNS, as_json=as_json, as_csv=as_csv, empty="No applications match.")


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
    config = st.config()
    selected = scope()
    with Session(st.engine()) as session:
        app = apps.get_application(session, application, scope=selected)
        call, idea = session.get(Call, app.call_id), session.get(Idea, app.idea_id)
        assert call is not None and idea is not None
        data = apps.application_dict(app, call, idea.title, now)
        team = apps.members(session, app)
        data["consortium"] = [{"partner_id": p.id, "organisation": p.organisation, "country": p.country,
                               "role": role} for p, role in team]
        us = (config.strategy.organisation, config.strategy.home_country)
        data["warnings"] = consortium_warnings(call, FundingRules(config.funding_rules),
                                               [us] + [(p.organisation, p.country) for p, _ in team])
        data["events"] = [{"at": e.at, "by": e.by, "from_status": e.from_status, "to_status": e.to_status,
                           "note": e.note} for e in apps.events(session, app)]
    if as_json:
        print_json(data)
        return
    out = stdout()

    def line(label: str, value: Any) -> None:
        if value not in (None, ""):
            out.print(f"{label + ':' if label else '':<11}{value}", markup=False, highlight=False)

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
    line("Deadline", deadline)
    if data["deadline_flagged"]:
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
        history.add_row(fmt_datetime(e["at"]), e["by"] or "", Text(text))
    out.print(Padding(history, (0, 0, 0, 2), expand=False))


@applications_app.command("move")
def move_cmd(
    application: str = typer.Argument(..., help="Application id (12 or #12)."),
    status: str = typer.Argument(..., help=_STATUS_HELP),
    note: str = typer.Option("", "--note", help="Why, for the history."),
    by: str = typer.Option(None, "--by", help="Who (default: FUNDRADAR_USER or login)."),
    granted: float = typer.Option(None, "--granted", help="Granted amount in euros (with granted)."),
) -> None:
    """Move an application to another status (the workflow is enforced).

    Example: fundradar applications move 5 submitted --note "submitted on the portal"
    """
    st = state()
    selected = scope()
    with session_scope(st.engine()) as session:
        app = apps.get_application(session, application, scope=selected)
        before = app.status
        apps.move(session, app.id, status, st.now(), by=by, note=note,  # type: ignore[arg-type]
                  granted_amount=granted, scope=selected)
        typer.echo(f"Application #{app.id}: {before} -> {app.status}")


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
    with session_scope(st.engine()) as session:
        apps.follow_call_deadlines(session, st.now())  # a move not followed yet is acknowledged too
        done = apps.acknowledge(session, application, st.now(), by=by, scope=selected)
        app = apps.get_application(session, application)
    if done:
        typer.echo(f"Application #{app.id}: deadline change acknowledged")
    else:
        typer.echo(f"Application #{app.id}: nothing to acknowledge; its deadline has not moved", err=True)


@applications_app.command("consortium")
def consortium_cmd(
    application: str = typer.Argument(..., help="Application id (12 or #12)."),
    add: Annotated[list[str] | None, typer.Option(
        "--add", metavar="ID[:ROLE]", help="Partner as ID or ID:role (repeatable).")] = None,
    remove: Annotated[list[str] | None, typer.Option(
        "--remove", metavar="ID", help="Partner id (repeatable).")] = None,
    by: str = typer.Option(None, "--by", help="Who (default: FUNDRADAR_USER or login)."),
) -> None:
    """Add partners to or remove them from an application's consortium.

    Example: fundradar applications consortium 5 --add 4:partner --remove 7
    """
    st = state()
    selected = scope()
    with session_scope(st.engine()) as session:
        app = apps.get_application(session, application, scope=selected)
        for member in add or []:
            apps.add_member(session, app, member, st.now(), by=by)
        for member in remove or []:
            apps.remove_member(session, app, member, st.now(), by=by)
        size = len(apps.members(session, app))
    typer.echo(f"Application #{app.id}: {size} partner{'s' if size != 1 else ''} besides us")


def deadlines_cmd(
    weeks: float = typer.Option(8, "--weeks", help="Look this many weeks ahead."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Deadlines of our open applications and tracked calls within N weeks, soonest first.

    Example: fundradar deadlines --weeks 12
    """
    st = state()
    now = st.now()
    with Session(st.engine()) as session:
        rows = upcoming_deadlines(session, now, weeks=weeks, strategy=st.config().strategy.name,
                                  scope=scope())
    if not (as_json or as_csv):
        rows = [dict(r, deadline=fmt_datetime(r["deadline"]) + ("!" if r["flagged"] else "")) for r in rows]
    print_rows(rows, DEADLINE_COLUMNS, as_json=as_json, as_csv=as_csv,
               empty=f"Nothing due within {weeks:g} weeks.")


REPORT_COLUMNS = [
    Column("year", "Year", no_wrap=True),
    Column("programme", "Programme", max_width=30),
    Column("applications", "Apps", justify="right", no_wrap=True),
    Column("requested", "Requested", fmt_money, justify="right", no_wrap=True),
    Column("granted", "Granted", fmt_money, justify="right", no_wrap=True),
    Column("success_rate", "Success", fmt_pct, justify="right", no_wrap=True),
]


@pipeline_app.command("report")
def report_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the per year and programme rows as CSV."),
) -> None:
    """Counts per status, our success rate (granted / decided) and amounts per year and programme.

    Example: fundradar pipeline report --json
    """
    st = state()
    with Session(st.engine()) as session:
        report = pipeline_report(session, st.now(), scope=scope())
    if as_json:
        print_json(report)
        return
    if as_csv:
        print_rows(report["by_year_programme"], REPORT_COLUMNS, as_csv=True)
        return
    out = stdout()
    counts = ", ".join(f"{status} {n}" for status, n in report["counts"].items())
    out.print(f"Applications: {report['total']} ({counts})", markup=False, highlight=False)
    rate = fmt_pct(report["success_rate"]) or "n/a"
    out.print(f"Success rate: {rate} ({report['counts']['granted']} granted of {report['decided']} "
              "decided)", markup=False, highlight=False)
    out.print(f"Requested: {fmt_money(report['requested']) or '€0'}; granted: "
              f"{fmt_money(report['granted']) or '€0'}", markup=False, highlight=False)
    if report["by_year_programme"]:
        out.print("")
        print_rows(report["by_year_programme"], REPORT_COLUMNS)


@export_app.command("ical")
def ical_cmd(
    file: Annotated[Path, typer.Argument(help="Where to write the .ics file (replaced atomically).")],
) -> None:
    """Write an iCalendar file of deadlines (Brussels time, reminders 7 and 1 days before).

    Example: fundradar export ical deadlines.ics
    """
    from pipeline.ical_export import build_calendar, write_calendar  # icalendar only when exporting

    st = state()
    now = st.now()
    with Session(st.engine()) as session:
        cal = build_calendar(session, now, strategy=st.config().strategy.name, scope=scope())
    count = write_calendar(cal, file)
    typer.echo(f"Wrote {count} deadline{'s' if count != 1 else ''} to {file}")


def register(app: typer.Typer) -> None:
    app.add_typer(applications_app, name="applications")
    app.command("deadlines")(deadlines_cmd)
    app.add_typer(pipeline_app, name="pipeline")
    app.add_typer(export_app, name="export")
