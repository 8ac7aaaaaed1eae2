"""``fundradar score``, ``fundradar calls mark|why`` and ``fundradar eval`` (the classifiers' CLI).

scikit-learn is imported only inside the commands that score (score, why, eval), never at import time,
so commands that do not score stay quick.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from sqlmodel import Session, select

from pipeline.calls import find_call
from pipeline.cli.calls_cmd import calls_app
from pipeline.cli.common import Column, fmt_date, print_json, print_rows, state
from pipeline.core.db import session_scope
from pipeline.core.errors import ValidationError
from pipeline.core.models import Score, Verdict


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
    results = score_strategies(st.engine(), list(st.scoped().each()), st.now(), full=rescore_all)
    if as_json:
        print_json(results[0].as_dict() if len(results) == 1 else [r.as_dict() for r in results])
        return
    for result in results:
        head = (f"Scored {result.scored_calls} of {result.total_calls} calls against "
                f"{result.focus_areas} focus areas of {result.strategy} ({result.reason}); ")
        typer.echo(head + (f"rules checked for {result.verdicts} calls (the other verdicts still hold)."
                           if result.verdicts < result.total_calls else
                           f"rules applied to {result.verdicts} calls."))


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
    typer.echo(f"Marked call {call_id} {label} {where}; run `fundradar score` to update the rankings.")


@calls_app.command("why")
def why_cmd(
    call: str = typer.Argument(..., help="Call id, topic identifier or source reference."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Explain a call's scores (top terms per focus area) and its rule outcomes with reasons.

    Example: fundradar calls why HORIZON-CL5-2027-03-D5-05
    """
    from classifiers.rules import next_deadline
    from classifiers.scoring import SCORE_FLOOR, score_pending

    st = state()
    config = st.config()
    name = config.strategy.name
    with Session(st.engine()) as session:
        found = find_call(session, call)
    score_pending(st.engine(), config, st.now())  # brings this call's scores and verdict up to date
    with Session(st.engine()) as session:
        scores = {s.focus_area: s for s in session.exec(
            select(Score).where(Score.call_id == found.id, Score.strategy == name))}
        verdict = session.exec(select(Verdict).where(Verdict.call_id == found.id,
                                                     Verdict.strategy == name)).first()
    # scores below the floor are not stored: no row means below it (the call is scored just above)
    areas = [{"focus_area": area, "score": scores[area].score if area in scores else None,
              "below_floor": area not in scores,
              "terms": scores[area].explanation if area in scores else []}
             for area in config.strategy.focus_areas]
    deadline = next_deadline(found, st.now())
    weeks = round((deadline - st.now()).total_seconds() / (7 * 86400), 1) if deadline else None
    data = {"id": found.id, "title": found.title, "strategy": name, "focus_areas": areas,
            "next_deadline": deadline.isoformat() if deadline else None, "weeks_to_deadline": weeks,
            "passed": verdict.passed if verdict else None,
            "rules": verdict.outcomes if verdict else [],
            "success_rate": verdict.success_rate if verdict else None,
            "funding_rate": verdict.funding_rate if verdict else None,
            "expected_value": verdict.expected_value if verdict else None,
            "priority": verdict.priority if verdict else None}
    if as_json:
        print_json(data)
        return
    lines = [f"Call {found.id}: {found.title}", f"Focus areas ({name}):"]
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
    lines.append("Expected value: " + ("unknown" if value is None else f"EUR {value:,.0f}")
                 + ("" if data["priority"] is None else f"; priority {data['priority']:.3f}"))
    typer.echo("\n".join(lines))


METRIC_COLUMNS = [
    Column("ranker", "Ranker"),
    Column("focus_area", "Focus area"),
    Column("ap", "AP", lambda v: f"{v:.3f}", justify="right"),
    Column("p10", "P@10", lambda v: f"{v:.3f}", justify="right"),
    Column("ndcg20", "nDCG@20", lambda v: f"{v:.3f}", justify="right"),
]


def eval_cmd(
    benchmark: str = typer.Option(None, "--benchmark", metavar="FILE",
                                   help="Benchmark YAML, e.g. ../shared/eval/focus_areas.yaml."),
    corpus: str = typer.Option(None, "--corpus", metavar="FILE",
                                help="Corpus JSONL with topicId, title and description."),
    judged: str = typer.Option(None, "--judged", metavar="FILE",
                               help="Judged file, e.g. ../shared/eval/judged/greentech_2026-08-22.json."),
    feedback: int = typer.Option(0, "--feedback", min=0, metavar="N",
                                 help="Also simulate marking the top N calls of each focus area."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the per-area figures as CSV."),
) -> None:
    """Run the relevance benchmark: the matcher beside two baselines (AP, P@10, nDCG@20 and means);
    with --judged also the judged benchmark through `calls list --focus` (nDCG@10, P@10, unjudged@10).

    Example: fundradar eval --benchmark ../shared/eval/focus_areas.yaml --corpus calls.jsonl --feedback 10
    """
    from classifiers.evaluate import load_benchmark, load_corpus, run_benchmark
    from classifiers.judged import report_lines

    if (benchmark is None) != (corpus is None) or (benchmark is None and judged is None):
        raise ValidationError("give --benchmark FILE with --corpus FILE, or --judged FILE, or all three")
    judged_report = _judged(Path(judged), feedback) if judged else None
    if benchmark is None:
        assert judged_report is not None
        if as_json:
            print_json(judged_report.as_dict())
        else:
            typer.echo("\n".join(report_lines(judged_report)))
        return
    report = run_benchmark(load_benchmark(Path(benchmark)), load_corpus(Path(corpus)), feedback=feedback)
    if as_json:
        print_json({**report.as_dict(), **({"judged": judged_report.as_dict()} if judged_report else {})})
        return
    rows = [{"ranker": ranker, "focus_area": area, **{k: round(v, 4) for k, v in figures.items()}}
            for ranker, per_area in report.rankers.items() for area, figures in per_area.items()]
    if as_csv:
        print_rows(rows, METRIC_COLUMNS, as_csv=True)
        return
    lines = [f"Corpus: {report.corpus_size} calls, {len(report.rankers['matcher'])} focus areas",
             f"{'ranker':<16}{'MAP':>7}{'P@10':>7}{'nDCG@20':>9}"]
    for ranker, means in report.means.items():
        lines.append(f"{ranker:<16}{means['ap']:>7.3f}{means['p10']:>7.3f}{means['ndcg20']:>9.3f}")
    lines.append("")
    lines.append(f"{'matcher per area':<26}{'AP':>7}{'P@10':>7}{'nDCG@20':>9}")
    for area, figures in report.rankers["matcher"].items():
        lines.append(f"{area:<26}{figures['ap']:>7.3f}{figures['p10']:>7.3f}{figures['ndcg20']:>9.3f}")
    if report.feedback:
        lines.append("")
        lines.append(f"Feedback: top {feedback} of each area marked; remaining calls ranked")
        for key in ("without", "with"):
            m = report.feedback["means"][key]
            lines.append(f"{key + ' marks':<16}{m['ap']:>7.3f}{m['p10']:>7.3f}{m['ndcg20']:>9.3f}")
    typer.echo("\n".join(lines + (["", *report_lines(judged_report)] if judged_report else [])))


def _judged(path: Path, feedback: int) -> Any:
    """The judged file's recording replayed into a scratch database, then :func:`run_judged` on it."""
    import os
    import tempfile

    from classifiers.funding import FundingRules
    from classifiers.judged import load_judged, recording_folder
    from pipeline.core.db import open_database
    from pipeline.core.errors import RuntimeFailure
    from pipeline.relevance import judged_config, run_judged
    from watcher.http import make_client
    from watcher.replay import ReplayTransport
    from watcher.runner import run_source
    from watcher.sources import build_adapters

    judged = load_judged(path)
    samples = os.environ.get("FUNDRADAR_SAMPLES")
    folder = recording_folder(judged, Path(samples) if samples else None)
    config = judged_config(judged)
    with tempfile.TemporaryDirectory(prefix="fundradar-judged-") as scratch:
        engine = open_database(f"sqlite:///{Path(scratch) / 'judged.db'}")
        (adapter,) = build_adapters(config.strategy, FundingRules(config.funding_rules), only="eu_ft",
                                    engine=engine)
        with make_client(transport=ReplayTransport([adapter.replay_handler(folder)]), retries=0) as client:
            result = run_source(engine, adapter, client, judged.as_of)
        if result.outcome != "ok":
            raise RuntimeFailure(f"replaying {folder} failed ({result.error}); check the recording")
        report = run_judged(engine, judged, feedback=feedback or 10)
        engine.dispose()
    return report


def register(app: typer.Typer) -> None:
    app.command("score")(score_cmd)
    app.command("eval")(eval_cmd)
