"""``fundradar pipeline report``: the application pipeline as a whole, counts, success rate, amounts.

With a config folder the selected strategy's applications (``common.scope``).
"""

from __future__ import annotations

import typer
from sqlmodel import Session

from pipeline.cli.common import (
    Column,
    fmt_money,
    fmt_pct,
    new_app,
    print_json,
    print_rows,
    scope,
    state,
    stdout,
)
from pipeline.reports import pipeline_report

pipeline_app = new_app("The application pipeline as a whole (with a config folder: the selected "
                       "strategy's).\n\nExample: fundradar pipeline report")

REPORT_COLUMNS = [
    Column("year", "Year", no_wrap=True),
    Column("programme", "Programme", narrow_width=30),
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
    """Counts per status, our success rate (granted / decided) and amounts per year and programme;
    the applications not submitted by their call's deadline are named as overdue.

    Example: fundradar pipeline report --json
    """
    st = state()
    with Session(st.read_engine()) as session:
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
    if report["overdue"]:
        late = report["overdue"]
        out.print(f"Overdue: {len(late)} not submitted by their call's deadline "
                  f"({', '.join(f'#{n}' for n in late)}); submit or withdraw them", markup=False,
                  highlight=False)
    rate = fmt_pct(report["success_rate"]) or "n/a"
    out.print(f"Success rate: {rate} ({report['counts']['granted']} granted of {report['decided']} "
              "decided)", markup=False, highlight=False)
    out.print(f"Requested: {fmt_money(report['requested']) or '€0'}; granted: "
              f"{fmt_money(report['granted']) or '€0'}", markup=False, highlight=False)
    if report["by_year_programme"]:
        out.print("")
        print_rows(report["by_year_programme"], REPORT_COLUMNS)


def register(app: typer.Typer) -> None:
    app.add_typer(pipeline_app, name="pipeline")
