"""``fundradar partners add|list|show|edit|import|suggest``: organisations we apply with.

Partners are one directory shared by every strategy of the installation (a national partner
directory); only ``suggest --idea`` is per strategy, since the idea is."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from classifiers.funding import FundingRules
from pipeline.calls import find_call
from pipeline.cli.common import Column, echo, flat, fmt_date, new_app, print_json, print_rows, state, stdout
from pipeline.core.db import session_scope
from pipeline.core.errors import ValidationError
from pipeline.ideas import get_idea
from pipeline.partners import (
    PARTNER_TYPES,
    READINESS,
    PartnerInput,
    create_partner,
    get_partner,
    import_partners,
    list_partners,
    partner_dict,
    suggest_for_call,
    suggest_for_idea,
    update_partner,
)
from pipeline.tenancy import scope_of

partners_app = new_app(
    "Partners: organisations the cluster applies with.\n\nWith a config folder of several clusters the "
    "partners are one directory shared by all strategies (a national partner directory); ideas and "
    "applications are each strategy's own.\n\nExample: fundradar partners list --country SE")

LIST_COLUMNS = [
    Column("id", "ID", justify="right", no_wrap=True),
    Column("organisation", "Organisation", narrow_width=26),
    Column("country", "Ctry", no_wrap=True),
    Column("type", "Type", no_wrap=True),
    Column("pic", "PIC", no_wrap=True),
    Column("readiness", "Readiness", no_wrap=True),
    Column("competences", "Competences", lambda v: ", ".join(v) if isinstance(v, list) else v,
           narrow_width=20),
]

SUGGEST_COLUMNS = [
    Column("id", "ID", justify="right", no_wrap=True),
    Column("organisation", "Organisation", narrow_width=24),
    Column("country", "Ctry", lambda v: v, no_wrap=True),
    Column("readiness", "Readiness", no_wrap=True),
    Column("matched", "Matching competences", lambda v: ", ".join(v) if isinstance(v, list) else v,
           narrow_width=24),
    Column("adds_country", "New ctry", lambda v: "yes" if v else "", no_wrap=True),
]

_TYPE_HELP = f"One of {', '.join(PARTNER_TYPES)} (aliases such as 'research institute' work)."
_READY_HELP = f"One of {', '.join(READINESS)}."


@partners_app.command("add")
def add_cmd(
    organisation: str = typer.Argument(..., help="Organisation name."),
    country: str = typer.Option(..., "--country", help="ISO country code, e.g. SE."),
    type_: str = typer.Option(..., "--type", help=_TYPE_HELP),
    pic: str = typer.Option(None, "--pic", help="EU Participant Identification Code (nine digits)."),
    contact: str = typer.Option(None, "--contact", help="Contact person and e-mail."),
    competence: Annotated[list[str] | None, typer.Option(
        "--competence", metavar="TEXT", help="A competence (repeatable, or comma separated).")] = None,
    past: str = typer.Option("", "--past", help="Past collaborations with us."),
    readiness: str = typer.Option("unknown", "--readiness", help=_READY_HELP),
) -> None:
    """Add a partner.

    Example: fundradar partners add "RISE" --country SE --type rto --pic 999981234 --competence hydrogen
    """
    st = state()
    data = PartnerInput(organisation, country, type_, pic, contact, competence or [], past, readiness)
    with session_scope(st.engine()) as session:
        partner = create_partner(session, data, st.now())
        echo(f"Added partner #{partner.id}: {partner.organisation} ({partner.country}, {partner.type})")


# an empty directory is not a filter that matched nothing: say how to fill it
_NO_PARTNERS = ("No partners yet; add one with `fundradar partners add NAME --country CC --type TYPE` or "
                "import a CSV with `fundradar partners import FILE.csv`.")


@partners_app.command("list")
def list_cmd(
    country: str = typer.Option(None, "--country", help="Only partners from this country."),
    type_: str = typer.Option(None, "--type", help=_TYPE_HELP),
    competence: str = typer.Option(None, "--competence", help="Only partners with this competence."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (all fields)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """List partners.

    Example: fundradar partners list --country SE --competence hydrogen
    """
    st = state()
    with Session(st.read_engine()) as session:
        rows = [partner_dict(p) for p in list_partners(session, country=country, type_=type_,
                                                        competence=competence)]
    print_rows(flat(rows, as_csv), LIST_COLUMNS, as_json=as_json, as_csv=as_csv,
               empty="No partners match; `fundradar partners list` shows them all."
               if country or type_ or competence else _NO_PARTNERS)


@partners_app.command("show")
def show_cmd(
    partner: str = typer.Argument(..., help="Partner id (12 or #12)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one partner.

    Example: fundradar partners show 4
    """
    st = state()
    with Session(st.read_engine()) as session:
        data = partner_dict(get_partner(session, partner))
    if as_json:
        print_json(data)
        return
    out = stdout()
    out.print(f"Partner #{data['id']}: {data['organisation']}", markup=False, highlight=False)
    for label, value in [("Country", data["country"]), ("Type", data["type"]), ("PIC", data["pic"]),
                         ("Contact", data["contact"]), ("Readiness", data["readiness"]),
                         ("Competences", ", ".join(data["competences"])),
                         ("Past work", data["past_collaborations"]),
                         ("Updated", fmt_date(data["updated_at"]))]:
        if value:
            out.print(f"{label + ':':<13}{value}", markup=False, highlight=False)


@partners_app.command("edit")
def edit_cmd(
    partner: str = typer.Argument(..., help="Partner id (12 or #12)."),
    organisation: str = typer.Option(None, "--organisation", help="New name."),
    country: str = typer.Option(None, "--country", help="ISO country code."),
    type_: str = typer.Option(None, "--type", help=_TYPE_HELP),
    pic: str = typer.Option(None, "--pic", help="PIC (nine digits); an empty string removes it."),
    contact: str = typer.Option(None, "--contact", help="Contact person and e-mail."),
    competence: Annotated[list[str] | None, typer.Option(
        "--competence", metavar="TEXT", help="Replace the competences (repeatable).")] = None,
    past: str = typer.Option(None, "--past", help="Past collaborations with us."),
    readiness: str = typer.Option(None, "--readiness", help=_READY_HELP),
) -> None:
    """Change a partner; only the options given change.

    Example: fundradar partners edit 4 --readiness committed
    """
    st = state()
    with session_scope(st.read_engine()) as session:
        found = update_partner(session, partner, st.now(), organisation=organisation, country=country,
                               type=type_, pic=pic, contact=contact, competences=competence or None,
                               past_collaborations=past, readiness=readiness)
        echo(f"Updated partner #{found.id}: {found.organisation}")


@partners_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV with a header: organisation, country, type, pic, "
                                         "contact, competences (separated by ;), past_collaborations, "
                                         "readiness.")],
) -> None:
    """Import partners from a CSV file: every row or none (a bad row is reported with its line).

    Example: fundradar partners import tests/fixtures/partners.csv
    """
    st = state()
    skipped: list[int] = []
    with session_scope(st.engine()) as session:
        added = import_partners(session, file, st.now(), skipped)
    line = f"Imported {len(added)} partner{'s' if len(added) != 1 else ''} from {file}"
    if skipped:  # said, so that a count smaller than the file's rows is not a mystery
        lines = ", ".join(map(str, skipped[:5])) + (", …" if len(skipped) > 5 else "")
        line += (f"; skipped {len(skipped)} row{'s' if len(skipped) != 1 else ''} (line"
                 f"{'s' if len(skipped) != 1 else ''} {lines}) repeating a partner already listed "
                 "(same organisation, country, type and PIC, or no PIC)")
    echo(line)


@partners_app.command("suggest")
def suggest_cmd(
    idea: str = typer.Option(None, "--idea", help="Idea id: match its text and target countries."),
    call: str = typer.Option(None, "--call", help="Call id: match its text, check its consortium rule."),
    top: int = typer.Option(5, "--top", min=1, max=50, help="How many partners."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (with warnings)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Suggest partners for an idea or a call by competences and country coverage.

    Example: fundradar partners suggest --call 12 --top 3
    """
    if (idea is None) == (call is None):
        raise ValidationError("give exactly one of --idea ID or --call ID")
    st = state()
    config = st.config()
    strategy = config.strategy
    with Session(st.read_engine()) as session:
        if idea is not None:
            found = get_idea(session, idea, scope=scope_of(config))
            keywords = [k for a in found.focus_areas or [] if a in strategy.focus_areas
                        for k in strategy.focus_areas[a].keywords]
            result = suggest_for_idea(session, found, keywords, home_country=strategy.home_country, top=top)
        else:
            result = suggest_for_call(session, find_call(session, call.removeprefix("#")),
                                      FundingRules(config.funding_rules), organisation=strategy.organisation,
                                      home_country=strategy.home_country, top=top)
        directory_empty = not result.suggestions and not list_partners(session)
    rows = [s.as_dict() for s in result.suggestions]
    if as_json:
        print_json({"target": result.target, "partners": rows, "warnings": result.warnings})
        return
    print_rows(flat(rows, as_csv), SUGGEST_COLUMNS, as_csv=as_csv,
               empty=_NO_PARTNERS if directory_empty else f"No partner's competences match {result.target}.")
    for warning in result.warnings:
        echo(f"Warning: {warning}", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(partners_app, name="partners")
