"""``fundradar score``: score new and changed calls against the focus areas and apply the strategy rules.

scikit-learn is imported only inside the command, never at import time, so other commands stay quick.
"""

from __future__ import annotations

import typer

from pipeline.cli.common import echo, print_json, state


def score_cmd(
    rescore_all: bool = typer.Option(False, "--all", help="Refit the model and rescore every call."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score new and changed calls against the strategy's focus areas and apply its rules.

    With several strategies every one is scored (one line each; --json prints a list), or only the one
    named by --strategy.

    Example: fundradar score --all
    """
    from classifiers.scoring import score_strategies

    st = state()
    results = score_strategies(st.read_engine(), list(st.scoped().each()), st.now(), full=rescore_all)
    if as_json:
        print_json(results[0].as_dict() if len(results) == 1 else [r.as_dict() for r in results])
        return
    for result in results:
        areas = f"{result.focus_areas} focus area{'' if result.focus_areas == 1 else 's'}"
        head = (f"Scored {result.scored_calls} of {result.total_calls} calls against "
                f"{areas} of {result.strategy} ({result.reason}); ")
        echo(head + (f"rules checked for {result.verdicts} calls (the other verdicts still hold)."
                           if result.verdicts < result.total_calls else
                           f"rules applied to {result.verdicts} calls."))


def register(app: typer.Typer) -> None:
    app.command("score")(score_cmd)
