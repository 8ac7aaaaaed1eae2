"""``fundradar strategy preview|suggest|keywords|report``: the secretariat's workbench."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from sqlmodel import Session

from pipeline.cli.common import (
    Column,
    confirm,
    echo,
    fmt_money,
    known_focus,
    new_app,
    note_stored_scores,
    print_json,
    print_rows,
    state,
)
from pipeline.core.errors import ValidationError
from pipeline.core.files import write_atomically
from pipeline.core.text import shorten

strategy_app = new_app("See what a strategy change does before it goes live.\n\n"
                       "Example: fundradar strategy preview --config config/strategy.new.yaml")
keywords_app = new_app("Add or remove focus-area keywords in the strategy YAML (comments are kept).\n\n"
                       "Example: fundradar strategy keywords add offshore_energy \"floating wind\"")


def _shorten(text: str, width: int = 56) -> str:
    return shorten(text, width)


RULE_MARKS = {"passed": "✓", "failed": "✗", "unknown": "?"}  # as calls list shows them


def _print_current(area) -> None:
    from classifiers.freshness import SCORE_FLOOR

    if not area.before and area.scored:
        echo(f"{area.focus_area}: no stored call scores {SCORE_FLOOR:.2f} or more (its keywords, label and "
             "description are far from every call; `fundradar config check` names the keywords no call "
             "has)")
        return
    if not area.before:
        echo(f"{area.focus_area}: no call scored for this focus area (see `fundradar score`)")
        return
    echo(f"{area.focus_area}: top {len(area.before)} as `fundradar calls list --focus {area.focus_area}` "
         "ranks them")
    width = len(str(len(area.before)))
    for r in area.before:
        echo(f"  {r.rank:>{width}}. #{r.call_id} {r.score:.2f} {RULE_MARKS.get(r.rules or '', '?')} "
             f"{_shorten(r.title)}")


def _print_preview(previews) -> None:
    for area in previews:
        if area.after is None:
            _print_current(area)
            continue
        titles = {r.call_id: r.title for r in [*area.before, *area.after]}
        new_rank = {r.call_id: r for r in area.after}
        old_rank = {r.call_id: r for r in area.before}
        if area.removed:
            goes = f"; its current top {len(area.before)} go with it:" if area.before else ""
            echo(f"{area.focus_area}: not in the proposed file{goes}")
        else:
            echo(f"{area.focus_area}: {'' if area.changed else 'no change in the top list'}".rstrip())
        for call_id in area.entering:
            r = new_rank[call_id]
            echo(f"  + #{call_id} {_shorten(titles[call_id])} "
                       f"(enters at {r.rank}, score {r.score:.2f})")
        for call_id in area.leaving:
            echo(f"  - #{call_id} {_shorten(titles[call_id])} (was {old_rank[call_id].rank})")
        for call_id, (before, after) in area.rank_changes.items():
            echo(f"  ~ #{call_id} {_shorten(titles[call_id])} ({before} -> {after})")
        for call_id in area.rules_now_pass:
            echo(f"  rules now pass: #{call_id} {_shorten(titles[call_id])}")
        for call_id in area.rules_now_fail:
            echo(f"  rules now fail: #{call_id} {_shorten(titles[call_id])}")


def _load_proposed(path: Path):
    from pipeline.core.config import load_strategy

    return load_strategy(path)


def _run_preview(proposed, top: int, focus: str | None):
    from pipeline.strategy.workbench import preview
    st = state()
    loaded = st.config()
    if proposed is None:  # (a proposed file's areas are the workbench's to check)
        known_focus(focus)
    elif proposed.name in loaded.names:  # with several strategies, the one the file is an edit of
        loaded = loaded.select(proposed.name)
    engine = st.read_engine()
    note_stored_scores(engine, loaded.only(loaded.strategy.name))
    return preview(engine, loaded, proposed, st.now(), top=top, focus=focus)


@strategy_app.command("preview")
def preview_cmd(
    config: Path = typer.Option(None, "--config", help="The proposed strategy YAML (default: none, to "
                                "see the current top lists)."),
    focus: str = typer.Option(None, "--focus", help="Only this focus area."),
    top: int = typer.Option(10, "--top", min=1, max=100, help="Size of the top list compared."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show each focus area's current top calls, as `calls list --focus AREA` ranks them (the stored
    scores, fundraisers' marks included); with --config, what changes in them under that strategy file.

    The proposed file is scored as `fundradar score` would score it, with the same marks, in a scratch
    database: the stored scores do not change.

    Example: fundradar strategy preview --config config/strategy.new.yaml --focus offshore_energy
    """
    proposed = _load_proposed(config) if config else None
    previews = _run_preview(proposed, top, focus)
    if as_json:
        print_json([p.to_json() for p in previews])
    else:
        _print_preview(previews)


@strategy_app.command("suggest")
def suggest_cmd(
    focus: str = typer.Option(None, "--focus", help="Only this focus area."),
    limit: int = typer.Option(10, "--limit", min=1, max=50, help="Terms per focus area."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Suggest keywords from the calls fundraisers marked, and exclude terms that never fire.

    Example: fundradar strategy suggest --focus food_bio
    """
    from pipeline.strategy.workbench import suggest

    st = state()
    known_focus(focus)
    with Session(st.read_engine()) as session:
        results = suggest(session, st.config().strategy, st.now(), focus=focus, limit=limit)
    if as_json:
        print_json([r.to_json() for r in results])
        return
    for result in results:
        echo(f"{result.focus_area}: {result.relevant} marked relevant, {result.irrelevant} irrelevant")
        if not result.relevant:
            echo("  no calls marked relevant yet: `fundradar calls mark ID relevant --focus "
                       f"{result.focus_area}`")
        for item in result.terms:
            calls = "call" if item.reach == 1 else "calls"
            echo(f"  {item.term:<32} weight {item.weight:.3f}  in {item.reach} marked {calls}, "
                 f"{item.corpus_share:.1%} of all stored calls")
        for phrase in result.idle_excludes:
            echo(f"  exclude term never fires: {phrase}")


def _edit(area: str, terms: list[str], *, add: bool, yes: bool, top: int) -> None:
    from pipeline.core.config import Strategy, parse_yaml_text, validate_yaml
    from pipeline.core.config_files import (
        DEFAULT_STRATEGY,
        LOCAL_STRATEGY,
        display_path,
        reads_the_example_in_place,
    )
    from pipeline.strategy.edit import edit_keywords

    if reads_the_example_in_place(state().config_path):
        raise ValidationError(f"{display_path(DEFAULT_STRATEGY)}: the example strategy, read because "
                              f"{display_path(LOCAL_STRATEGY)} does not exist; copy it to "
                              f"{display_path(LOCAL_STRATEGY)} and edit that, or name the file to edit "
                              "with --config")
    known_focus(area)
    path = state().config().strategy_path
    name = str(path)
    old = path.read_bytes().decode("utf-8")  # as written: read_text would turn Windows line ends into \n
    new = edit_keywords(old, area, add=terms if add else (), remove=() if add else terms, name=name)
    if new == old:
        echo(f"{path}: no change ({', '.join(terms)} already {'there' if add else 'absent'})")
        return
    proposed = validate_yaml(parse_yaml_text(new, name), Strategy, name)
    _print_preview(_run_preview(proposed, top, area))
    if add:
        from pipeline.config_check import UNTRANSLATED, untranslated_keywords

        edited = proposed.focus_areas[area]
        for number in untranslated_keywords(edited):
            if edited.keywords[number] in terms:
                echo(f"Warning: keyword {edited.keywords[number]!r} {UNTRANSLATED} in {name}", err=True)
    if not yes and not confirm(f"Write {path}?", thing=name, skip="pass --yes to write without asking"):
        echo("Nothing changed.", err=True)
        raise typer.Exit(0)  # declining is a choice, not a failure (exit 1 is for runtime failures)
    write_atomically(path, new)
    echo(f"{path}: {'added' if add else 'removed'} {', '.join(terms)} "
               f"{'to' if add else 'from'} {area}")


@keywords_app.command("add")
def keywords_add(
    area: str = typer.Argument(..., help="Focus area key, e.g. offshore_energy."),
    terms: list[str] = typer.Argument(..., help="Keywords to add (quote phrases)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Write without asking."),
    top: int = typer.Option(10, "--top", min=1, max=100, help="Size of the top list previewed."),
) -> None:
    """Add keywords to a focus area: preview the effect, then write the YAML keeping its comments.

    Example: fundradar strategy keywords add offshore_energy "floating wind" --yes
    """
    _edit(area, terms, add=True, yes=yes, top=top)


@keywords_app.command("remove")
def keywords_remove(
    area: str = typer.Argument(..., help="Focus area key."),
    terms: list[str] = typer.Argument(..., help="Keywords to remove."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Write without asking."),
    top: int = typer.Option(10, "--top", min=1, max=100, help="Size of the top list previewed."),
) -> None:
    """Remove keywords from a focus area (preview first, then write).

    Example: fundradar strategy keywords remove food_bio fermentation --yes
    """
    _edit(area, terms, add=False, yes=yes, top=top)


# unknown_expected_value beside expected_value: without it an area of calls of no known value read as 0
REPORT_CSV = [Column(key, key) for key in ("focus_area", "label", "matching_calls", "total_budget",
                                           "expected_value", "unknown_expected_value",
                                           "applications_in_pipeline")]

# the label whole: it is what tells a board which area a row is (wrapped, never cut, on a narrow terminal)
REPORT_TABLE = [Column("label", "Focus area"), Column("matching_calls", "Calls", justify="right"),
                Column("total_budget", "Budget", fmt_money, justify="right"),
                Column("expected_value_shown", "Exp. value", justify="right"),
                Column("applications_in_pipeline", "Pipeline", justify="right")]


def _expected_value_shown(row: dict[str, Any]) -> str:
    """'€3.1M', or what is not known: 'unknown' when no counted call's expected value is (the European
    Defence Fund has no rates in funding_rules.yaml), '€3.1M + 5 unknown' when some are not."""
    unknown, known = row["unknown_expected_value"], row["expected_value"]
    if not unknown:
        return fmt_money(known)
    return "unknown" if not known else f"{fmt_money(known)} + {unknown} unknown"



@strategy_app.command("report")
def report_cmd(
    png: Path = typer.Option(None, "--png", help="Also write the chart of matching calls by deadline "
                             "month and focus area to this PNG file."),
    min_score: float = typer.Option(0.3, "--min-score", min=0, max=1, help="Score that counts as matching."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV (amounts in EUR, unrounded)."),
) -> None:
    """Per focus area: matching open calls, their budget and expected value, applications in the pipeline.

    Example: fundradar strategy report --png data/strategy-report.png
    """
    from pipeline.core.files import require_file_target
    from pipeline.strategy.report import build_report, report_dicts, write_chart
    from pipeline.tenancy import scope_of

    if png is not None:
        require_file_target(png, "strategy-report.png")
        if png.suffix.lower() != ".png":
            raise ValidationError(f"--png {png}: the chart is a PNG; give a file name ending in .png")
    st = state()
    strategy = st.config().strategy
    engine = st.read_engine()
    note_stored_scores(engine, st.config().only(strategy.name))
    with Session(engine) as session:
        reports = build_report(session, strategy, st.now(), min_score=min_score,
                               scope=scope_of(st.config()))
    if png is not None:
        write_chart(reports, png, f"{strategy.organisation}: matching calls by deadline month")
        echo(f"chart written to {png}", err=True)
    if as_json:
        print_json(report_dicts(reports))
        return
    if as_csv:  # the table's columns, with the area's key and the amounts as stored
        print_rows(report_dicts(reports), REPORT_CSV, as_csv=True)
        return
    print_rows([{**row, "expected_value_shown": _expected_value_shown(row)} for row in report_dicts(reports)],
               REPORT_TABLE)


@strategy_app.command("rename")
def rename_cmd(
    old: str = typer.Argument(..., help="The name the strategy had (its `name:` before the edit)."),
    new: str = typer.Argument(..., help="Its name now, as in its file."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Move without asking."),
) -> None:
    """After renaming a strategy in its file: move its ideas, marks, scores and Slack history to the new
    name (applications follow their ideas). Shows what moves and asks first.

    Example: fundradar --config config/clusters strategy rename greentech greentech-dk --yes
    """
    from pipeline.core.db import session_scope
    from pipeline.strategy.rename import plan_rename, rename_strategy

    st = state()
    known = tuple(st.config().names)
    with session_scope(st.read_engine()) as session:
        counts = plan_rename(session, old, new, known=known)
        echo(f"{old} -> {new}: ideas {counts.ideas}, marks {counts.marks}, scores {counts.scores}, "
                   f"verdicts {counts.verdicts}, Slack messages sent {counts.deliveries}"
                   + (f" ({new} is already scored: {old}'s scores are deleted, not moved)"
                      if counts.derived_dropped and counts.scores else ""))
        if not yes and not confirm("Move them?", thing=f"strategy rename {old} {new}",
                                   skip="pass --yes to move without asking"):
            echo("Nothing changed.", err=True)
            raise typer.Exit(0)  # declining is a choice, not a failure
        rename_strategy(session, old, new, known=known)
    echo(f"Moved {old}'s data to {new}.")


def register(app: typer.Typer) -> None:
    strategy_app.add_typer(keywords_app, name="keywords")
    app.add_typer(strategy_app, name="strategy")
