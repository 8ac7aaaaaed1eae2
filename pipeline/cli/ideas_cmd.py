"""``fundradar ideas add|list|show|edit|calls``: the cluster's project ideas.

An idea belongs to the strategy selected when it is added. With a config folder (several clusters)
these commands, and the applications, deadlines, reports and partner suggestions for an idea, see only
the selected strategy's ideas and the shared ones (``pipeline.cli.common.scope``).
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session

from pipeline.cli.common import (
    Column,
    echo,
    flat,
    fmt_date,
    known_focus,
    new_app,
    note_scratch_scores,
    print_json,
    print_rows,
    scope,
    state,
    stdout,
)
from pipeline.core.clock import BRUSSELS
from pipeline.core.db import session_scope
from pipeline.core.inputs import split_list
from pipeline.ideas import (
    IDEA_STATUSES,
    create_idea,
    get_idea,
    idea_dict,
    list_ideas,
    suggest_calls,
    update_idea,
)
from pipeline.tenancy import scope_of

ideas_app = new_app(
    "Project ideas: what the cluster's members want to do, and which calls fit.\n\nWith a config folder "
    "of several clusters each idea belongs to the strategy selected when it was added (--strategy), and "
    "only that strategy sees it and its applications; partners are one shared directory.\n\n"
    "Example: fundradar ideas list --status ready")

LIST_COLUMNS = [
    Column("id", "ID", justify="right", no_wrap=True),
    Column("title", "Title", narrow_width=32),
    Column("status", "Status", no_wrap=True),
    Column("focus_areas", "Focus areas", lambda v: ", ".join(v or []), narrow_width=20),
    Column("target_countries", "Countries", lambda v: " ".join(v or []), narrow_width=12),
    Column("owner", "Owner", narrow_width=10),
]

CALL_COLUMNS = [
    Column("call_id", "Call", justify="right", no_wrap=True),
    Column("title", "Title", narrow_width=26),
    Column("next_deadline", "Deadline", lambda v: fmt_date(v), no_wrap=True),
    Column("score", "Score", lambda v: f"{v:.2f}", justify="right", no_wrap=True),
    Column("terms", "Why", lambda v: ", ".join(v[:3]), narrow_width=18),
    Column("passed", "Rules", lambda v: "?" if v is None else ("pass" if v else "fail"), no_wrap=True),
]
# the table marks a verdict as calls list does: "?" when no rule failed but one could not be checked
TABLE_CALL_COLUMNS = [*CALL_COLUMNS[:-1], Column("rules", "Rules", no_wrap=True)]

_STATUS_HELP = f"One of {', '.join(IDEA_STATUSES)}."


@ideas_app.command("add")
def add_cmd(
    title: str = typer.Argument(..., help="A short title."),
    description: str = typer.Option("", "--description", "-d", help="What the project would do."),
    owner: str = typer.Option(None, "--owner", help="Who drives the idea."),
    focus: Annotated[list[str] | None, typer.Option(
        "--focus", metavar="AREA", help="Focus area key of the strategy (repeatable).")] = None,
    country: Annotated[list[str] | None, typer.Option(
        "--country", metavar="CODE", help="Target country, ISO code (repeatable).")] = None,
    status: str = typer.Option("idea", "--status", help=_STATUS_HELP),
) -> None:
    """Add a project idea.

    It belongs to the selected strategy (--strategy; with a config folder only that strategy sees it).

    Example: fundradar ideas add "Hydrogen ferries" --focus green_maritime --country SE --country DE
    """
    st = state()
    strategy = st.config().strategy
    known_focus(*split_list(focus or []))
    with session_scope(st.engine()) as session:
        idea = create_idea(session, title=title, description=description, owner=owner,
                           focus_areas=focus or [], target_countries=country or [], status=status,
                           strategy=strategy, now=st.now())
        echo(f"Added idea #{idea.id}: {idea.title}")


@ideas_app.command("list")
def list_cmd(
    status: str = typer.Option(None, "--status", help=_STATUS_HELP),
    focus: str = typer.Option(None, "--focus", metavar="AREA", help="Only ideas in this focus area."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (all fields)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """List ideas, oldest first.

    Example: fundradar ideas list --status ready
    """
    st = state()
    known = st.strategy_view().focus_areas if focus else None
    if focus and focus not in known:
        known_focus(focus)
    with Session(st.read_engine()) as session:
        rows = [idea_dict(i) for i in list_ideas(session, status=status, focus_area=focus, scope=scope(),
                                                 known_areas=known)]
    print_rows(flat(rows, as_csv), LIST_COLUMNS, as_json=as_json, as_csv=as_csv,
               empty="No ideas match; `fundradar ideas list` shows them all." if status or focus
               else "No ideas yet; add one with `fundradar ideas add TITLE`.")


@ideas_app.command("show")
def show_cmd(
    idea: str = typer.Argument(..., help="Idea id (12 or #12)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one idea.

    Example: fundradar ideas show 3
    """
    st = state()
    selected = scope()
    with Session(st.read_engine()) as session:
        data = idea_dict(get_idea(session, idea, scope=selected))
    if as_json:
        print_json(data)
        return
    out = stdout()
    out.print(f"Idea #{data['id']}: {data['title']}", markup=False, highlight=False)
    for label, value in [("Status", data["status"]), ("Owner", data["owner"]),
                         ("Focus areas", ", ".join(data["focus_areas"])),
                         ("Countries", " ".join(data["target_countries"])),
                         ("Strategy", (data["strategy"] or "shared (no strategy)") if selected else None),
                         ("Created", fmt_date(data["created_at"])),
                         ("Updated", fmt_date(data["updated_at"]))]:
        if value:
            out.print(f"{label + ':':<13}{value}", markup=False, highlight=False)
    if data["description"]:
        out.print("")
        out.print(data["description"], markup=False, highlight=False)


@ideas_app.command("edit")
def edit_cmd(
    idea: str = typer.Argument(..., help="Idea id (12 or #12)."),
    title: str = typer.Option(None, "--title", help="New title."),
    description: str = typer.Option(None, "--description", "-d", help="New description."),
    owner: str = typer.Option(None, "--owner", help="New owner."),
    focus: Annotated[list[str] | None, typer.Option(
        "--focus", metavar="AREA", help="Replace the focus areas (repeatable).")] = None,
    country: Annotated[list[str] | None, typer.Option(
        "--country", metavar="CODE", help="Replace the target countries (repeatable).")] = None,
    status: str = typer.Option(None, "--status", help=_STATUS_HELP),
    claim: bool = typer.Option(False, "--claim", help="Make the idea the selected strategy's own (e.g. a "
                               "shared one from before ideas had a strategy)."),
) -> None:
    """Change an idea; only the options given change.

    Example: fundradar ideas edit 3 --status maturing --country SE --country NO
    """
    st = state()
    strategy = st.config().strategy
    known_focus(*split_list(focus or []))
    with session_scope(st.read_engine()) as session:
        found = update_idea(session, idea, strategy=strategy, now=st.now(), title=title,
                            description=description, owner=owner, focus_areas=focus or None,
                            target_countries=country or None, status=status, claim=claim,
                            scope=scope_of(st.config()))
        echo(f"Updated idea #{found.id}: {found.title} ({found.status})")


@ideas_app.command("calls")
def calls_cmd(
    idea: str = typer.Argument(..., help="Idea id (12 or #12)."),
    top: int = typer.Option(10, "--top", min=1, max=100, help="How many calls."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (with the failed rules' reasons)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Suggest open calls for an idea: the calls of its focus areas, ranked by their scores there (as
    `calls list --focus AREA` ranks them) blended with how well they match the idea's text; an idea
    without focus areas by its text alone. With the funding rules' verdict and the terms that matched.

    Example: fundradar ideas calls 3 --top 5
    """

    st = state()
    config = st.config()
    engine = st.read_engine()
    with Session(engine) as session:
        found = get_idea(session, idea, scope=scope_of(config))
    result = suggest_calls(engine, found, config, st.now(), top=top)
    if result.scratch:
        note_scratch_scores(config)
    rows = [s.as_dict() for s in result.calls]
    if not rows and found.focus_areas:  # why its areas list nothing, as calls list --focus says it
        from pipeline.trial import empty_area_note

        with st.reading() as db:
            for area in found.focus_areas:
                note = empty_area_note(db, config.strategy.name, area)
                if note:
                    echo(note, err=True)
    table = not (as_json or as_csv)
    if table:
        for row in rows:
            row["rules"] = "fail" if row["passed"] is False else \
                "?" if row["passed"] is None or row["unknown_rules"] else "pass"
    print_rows(flat(rows, as_csv), TABLE_CALL_COLUMNS if table else CALL_COLUMNS, as_json=as_json,
               as_csv=as_csv, empty="No open call matches this idea.", csv_zone=BRUSSELS)
    if table:
        for row in rows:
            if row["failed_rules"]:
                stdout().print(f"#{row['call_id']} fails: {'; '.join(row['failed_rules'])}",
                               markup=False, highlight=False)
            if row["unknown_rules"]:
                stdout().print(f"#{row['call_id']} unknown: {'; '.join(row['unknown_rules'])}",
                               markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(ideas_app, name="ideas")
