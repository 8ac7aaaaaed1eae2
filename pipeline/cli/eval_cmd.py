"""``fundradar eval``: the relevance benchmark of the matcher beside two baselines.

scikit-learn is imported only inside the command, never at import time, so other commands stay quick.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from pipeline.cli.common import Column, echo, print_json, print_rows
from pipeline.core.errors import ValidationError

METRIC_COLUMNS = [
    Column("ranker", "Ranker"),
    Column("focus_area", "Focus area"),
    Column("ap", "AP", lambda v: f"{v:.3f}", justify="right"),
    Column("p10", "P@10", lambda v: f"{v:.3f}", justify="right"),
    Column("ndcg20", "nDCG@20", lambda v: f"{v:.3f}", justify="right"),
]


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"  # nDCG@10 of an area without a call graded 1+


JUDGED_COLUMNS = [
    Column("ranker", "Ranker"),
    Column("focus_area", "Focus area"),
    Column("ndcg10", "nDCG@10", _figure, justify="right"),
    Column("p10_strict", "P@10 strict", _figure, justify="right"),
    Column("p10_lenient", "P@10 lenient", _figure, justify="right"),
    Column("unjudged10", "unjudged@10", _figure, justify="right"),
]


def samples_root() -> Path:
    """The recorded samples: FUNDRADAR_SAMPLES, else ../shared/samples (from the repository folder,
    as the examples are written)."""
    return Path(os.environ.get("FUNDRADAR_SAMPLES") or Path("..") / "shared" / "samples")


def eval_cmd(
    benchmark: str = typer.Option(None, "--benchmark", metavar="FILE",
                                   help="Benchmark YAML, e.g. ../shared/eval/focus_areas.yaml."),
    corpus: str = typer.Option(None, "--corpus", metavar="FILE",
                                help="Corpus JSONL with topicId, title and description."),
    judged: str = typer.Option(None, "--judged", metavar="FILE",
                               help="Judged file, e.g. ../shared/eval/judged/greentech_2026-08-22.json."),
    feedback: int = typer.Option(None, "--feedback", min=0, metavar="N",
                                 help="Also simulate marking the top N calls of each focus area "
                                      "(default: 0 for --benchmark, 10 for --judged; 0 turns it off)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the per-area figures as CSV."),
) -> None:
    """Run the relevance benchmark: the matcher beside two baselines (AP, P@10, nDCG@20 and means);
    with --judged also the judged benchmark through `calls list --focus` (nDCG@10, P@10, unjudged@10).

    A judged file (JSON, or YAML when named .yaml) names its recording relative to the samples root
    (FUNDRADAR_SAMPLES, default ../shared/samples) or as an absolute path.

    Example: fundradar eval --judged ../shared/eval/judged/greentech_2026-08-22.json
    --benchmark ../shared/eval/focus_areas.yaml --corpus ../shared/samples/eu_ft/calls_2026-08-10.jsonl
    """
    from classifiers.evaluate import load_benchmark, load_corpus, run_benchmark
    from classifiers.judged import CUTOFF, report_lines
    from pipeline.relevance import judged_file_report

    if (benchmark is None) != (corpus is None) or (benchmark is None and judged is None):
        raise ValidationError("give --benchmark FILE with --corpus FILE, or --judged FILE, or all three")
    if as_csv and benchmark is not None and judged is not None:
        raise ValidationError("--csv prints one table: give --benchmark and --corpus, or --judged; --json "
                              "prints both")
    # the label files are read first, so that a mistake in them is told before the judged replay runs
    label = (load_benchmark(Path(benchmark)), load_corpus(Path(corpus))) if benchmark and corpus else None
    judged_report = judged_file_report(Path(judged), feedback=CUTOFF if feedback is None else feedback,
                                       samples=samples_root()) if judged else None
    for warning in judged_report.warnings if judged_report else []:
        echo(warning, err=True)
    if benchmark is None:
        assert judged_report is not None
        if as_json:
            print_json(judged_report.as_dict())
        elif as_csv:
            print_rows([{"ranker": ranker, "focus_area": area,
                         **{k: None if v is None else round(v, 4) for k, v in figures.items()}}
                        for ranker, per_area in judged_report.rankers.items()
                        for area, figures in per_area.items()], JUDGED_COLUMNS, as_csv=True)
        else:
            echo("\n".join(report_lines(judged_report)))
        return
    assert label is not None
    report = run_benchmark(*label, feedback=feedback or 0)
    if as_json:
        print_json({**report.as_dict(), **({"judged": judged_report.as_dict()} if judged_report else {})})
        return
    rows = [{"ranker": ranker, "focus_area": area, **{k: round(v, 4) for k, v in figures.items()}}
            for ranker, per_area in report.rankers.items() for area, figures in per_area.items()]
    if as_csv:
        print_rows(rows, METRIC_COLUMNS, as_csv=True)
        return
    lines = [f"Corpus: {report.corpus_size} calls, {len(report.rankers['matcher'])} focus area"
             f"{'' if len(report.rankers['matcher']) == 1 else 's'}",
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
    echo("\n".join(lines + (["", *report_lines(judged_report)] if judged_report else [])))


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)
