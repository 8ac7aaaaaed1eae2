"""``fundradar deadlines``: what is due soon, our open applications and the calls we track.

With a config folder the selected strategy's applications and tracked calls (``common.scope``).
"""

from __future__ import annotations

import typer

from pipeline.cli.common import Column, fmt_datetime, print_rows, scope, state
from pipeline.core.clock import BRUSSELS
from pipeline.due import upcoming_deadlines

DEADLINE_COLUMNS = [
    Column("kind", "What", lambda v: "app" if v == "application" else v, no_wrap=True),
    Column("id", "ID", justify="right", no_wrap=True),
    Column("title", "Title", narrow_width=28),
    Column("deadline", "Deadline (Brussels)", no_wrap=True),
    Column("days_left", "Days", justify="right", no_wrap=True),
    Column("status", "Status", no_wrap=True),
]


def deadlines_cmd(
    weeks: float = typer.Option(8, "--weeks", min=0, max=520,
                                help="Look this many weeks ahead (0 to 520; 0: only what is overdue)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Deadlines of our open applications and tracked calls within N weeks, soonest first.

    Rows are the open applications (draft to submitted) of the strategy's ideas and the calls the
    strategy follows (`fundradar calls follow ID`) that are open or forthcoming and have no open
    application of ours. An idea without an application, or a call marked relevant but not
    followed, is not listed. Each row shows the next deadline; a ! marks a moved one not
    acknowledged yet. An application not submitted by its call's last deadline stays listed as
    overdue (negative days) until it is submitted or withdrawn.

    Example: fundradar deadlines --weeks 12
    """
    st = state()
    now = st.now()
    with st.reading() as db:
        rows = upcoming_deadlines(db, now, weeks=weeks, strategy=st.strategy_view().name,
                                  scope=scope())
    if not (as_json or as_csv):
        rows = [dict(r, deadline=fmt_datetime(r["deadline"]) + ("!" if r["flagged"] else ""),
                     status=f"{r['status']}, overdue" if r["overdue"] else r["status"]) for r in rows]
    print_rows(rows, DEADLINE_COLUMNS, as_json=as_json, as_csv=as_csv, csv_zone=BRUSSELS,
               empty="Nothing overdue." if weeks == 0
               else f"Nothing due within {weeks:g} week{'' if weeks == 1 else 's'}.")


def register(app: typer.Typer) -> None:
    app.command("deadlines")(deadlines_cmd)
