"""``fundradar export ical``: deadlines as an iCalendar file for other tools.

icalendar is imported only when exporting. With a config folder the selected strategy's deadlines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from pipeline.cli.common import echo, new_app, scope, state

export_app = new_app("Export deadlines to other tools (with a config folder: the selected strategy's).\n\n"
                     "Example: fundradar export ical deadlines.ics")


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
    with Session(st.read_engine()) as session:
        cal = build_calendar(session, now, strategy=st.config().strategy.name, scope=scope())
    count = write_calendar(cal, file)
    echo(f"Wrote {count} deadline{'s' if count != 1 else ''} to {file}")


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
