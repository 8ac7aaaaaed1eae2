"""The judged benchmark: its measures by hand, its file checks, and `eval --judged` on the recording
ranking exactly what `calls list --focus` and the digest show."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from classifiers.judged import judged_metrics, load_judged, mean_metrics, recording_folder
from pipeline.core.errors import ValidationError

JUDGED = "judged/greentech_2026-08-22.json"


def test_judged_metrics_by_hand() -> None:
    grades = {"a": 2, "b": 0, "c": 1, "d": 2}
    figures = judged_metrics(["a", "b", "x", "c"], grades)  # x is unjudged: gain 0
    dcg = (2 ** 2 - 1) / 1 + (2 ** 1 - 1) / math.log2(5)  # a at 1, c at 4
    ideal = 3 / 1 + 3 / math.log2(3) + 1 / math.log2(4)  # d, a, c (b gains nothing)
    assert figures["ndcg10"] == pytest.approx(dcg / ideal)
    assert figures["ndcg10"] == pytest.approx(0.63616, abs=1e-5)
    assert figures["p10_strict"] == pytest.approx(0.1)
    assert figures["p10_lenient"] == pytest.approx(0.2)
    assert figures["unjudged10"] == 1
    assert judged_metrics(["d", "a", "c"], grades)["ndcg10"] == pytest.approx(1.0)


def test_judged_metrics_cut_at_ten_and_among() -> None:
    grades = {f"r{i}": 2 for i in range(12)}
    assert judged_metrics([f"r{i}" for i in range(12)], grades)["p10_strict"] == 1.0
    # the ideal ordering only over the remaining calls: two left, both ranked first
    rest = judged_metrics(["r10", "r11"], grades, among={"r10", "r11"})
    assert rest["ndcg10"] == pytest.approx(1.0)
    assert judged_metrics([], {}) == {"ndcg10": None, "p10_strict": 0.0, "p10_lenient": 0.0,
                                      "unjudged10": 0.0}
    assert mean_metrics({"a": {"ndcg10": 1.0, "p10_strict": 0.5, "p10_lenient": 1.0, "unjudged10": 0.0},
                         "b": {"ndcg10": 0.5, "p10_strict": 0.0, "p10_lenient": 0.5, "unjudged10": 2.0}}) \
        == {"ndcg10": 0.75, "p10_strict": 0.25, "p10_lenient": 0.75, "unjudged10": 1.0}


def test_load_judged_file(eval_dir: Path, samples: Path, tmp_path: Path) -> None:
    judged = load_judged(eval_dir / JUDGED)
    assert set(judged.grades) == {"offshore_energy", "green_maritime", "food_bio", "digital_industry"}
    assert sum(len(g) for g in judged.grades.values()) == 208
    assert recording_folder(judged, samples) == samples / "eu_ft" / "search_2026-08-22"
    bad = tmp_path / "bad.json"
    bad.write_text('{"focus_areas": {}}', encoding="utf-8")
    with pytest.raises(ValidationError, match="key .grades. is missing; a judged file needs "
                                              "focus_areas, grades, recording, as_of"):
        load_judged(bad)
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ValidationError, match="not JSON"):
        load_judged(bad)


def test_eval_needs_a_benchmark_or_a_judged_file(cli: Any, eval_dir: Path) -> None:
    result = cli("eval", "--benchmark", str(eval_dir / "focus_areas.yaml"))
    assert result.exit_code == 2
    assert "give --benchmark FILE with --corpus FILE, or --judged FILE" in result.stderr


@pytest.fixture(scope="module")
def judged_json(eval_dir: Path) -> dict[str, Any]:
    from typer.testing import CliRunner

    from pipeline.cli.main import app

    result = CliRunner().invoke(app, ["eval", "--judged", str(eval_dir / JUDGED), "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.slow
def test_eval_judged_reports_every_ranker_and_the_feedback(judged_json: dict[str, Any]) -> None:
    assert set(judged_json["means"]) == {"matcher", "title_keywords", "plain_tfidf"}
    assert set(judged_json["per_area"]["matcher"]) == {"offshore_energy", "green_maritime", "food_bio",
                                                       "digital_industry"}
    assert judged_json["calls"] == 611
    means = judged_json["means"]
    assert means["matcher"]["ndcg10"] > max(means["title_keywords"]["ndcg10"], means["plain_tfidf"]["ndcg10"])
    feedback = judged_json["feedback"]
    assert feedback["marked_per_area"] == 10 and set(feedback["means"]) == {"without", "with"}


@pytest.mark.slow
def test_calls_list_digest_and_eval_judged_rank_alike(judged_json: dict[str, Any], eval_dir: Path,
                                                      samples: Path, tmp_path: Path, cli: Any,
                                                      engine: Any) -> None:
    """The recording synced as a user would, with the judged areas as the strategy's focus areas:
    `calls list --focus` and the digest show the calls `eval --judged` measured, in its order."""
    from pipeline.core.config import DigestChannel
    from pipeline.notify.digest import collect_digest
    from pipeline.relevance import judged_config

    judged = load_judged(eval_dir / JUDGED)
    strategy = judged_config(judged).strategy
    config = tmp_path / "strategy.yaml"  # JSON is YAML
    config.write_text(json.dumps(strategy.model_dump(mode="json", exclude_defaults=True)), encoding="utf-8")
    as_of = judged.as_of.isoformat()
    result = cli("--config", str(config), "--as-of", as_of, "sync", "--source", "eu_ft", "--replay",
                 str(recording_folder(judged, samples)))
    assert result.exit_code == 0, result.output
    for area, top in judged_json["top"].items():
        result = cli("--config", str(config), "--as-of", as_of, "calls", "list", "--focus", area,
                     "--top", "10", "--json")
        assert result.exit_code == 0, result.output
        listed = json.loads(result.stdout)
        assert [row["external_id"] for row in listed] == top
        channel = DigestChannel(channel="#test", focus_areas=[area], top=10, min_score=0.0)
        with Session(engine) as session:
            since = judged.as_of - timedelta(days=7)
            digest = collect_digest(session, strategy, channel, judged.as_of, since)
        passed = [row["id"] for row in listed if row["passed"]]
        assert [c.call_id for c in digest.top][:len(passed)] == passed


@pytest.mark.slow
def test_scoring_variants_harness_reproduces_eval(judged_json: dict[str, Any], eval_dir: Path,
                                                  samples: Path) -> None:
    """bench/scoring_variants.py (the README's not-adopted table) measures the matcher in use as `eval
    --judged` does, and its parts recompose the in-use score to the same figures."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "FUNDRADAR_SAMPLES": str(samples), "FUNDRADAR_EVAL": str(eval_dir)}
    done = subprocess.run([sys.executable, str(root / "bench" / "scoring_variants.py"), "--variant", "in use",
                           "--variant", "in use, recomposed", "--json"],
                          capture_output=True, text=True, env=env, timeout=600, check=True)
    data = json.loads(done.stdout)
    assert data["in use"] == data["in use, recomposed"]
    assert data["in use"]["judged"]["ndcg10"] == round(judged_json["means"]["matcher"]["ndcg10"], 3)
    assert data["in use"]["judged_areas"] == {area: round(figures["ndcg10"], 3) for area, figures
                                              in judged_json["per_area"]["matcher"].items()}


def test_the_report_of_one_focus_area_says_area_not_areas() -> None:
    from classifiers.judged import JudgedReport, report_lines

    figures = {"ndcg10": 0.5, "p10_strict": 0.2, "p10_lenient": 0.4, "unjudged10": 0.0}
    report = JudgedReport(file="j.json", calls=3, rankers={"matcher": {"wind": figures}}, top={"wind": []})
    assert report_lines(report)[0] == "Judged: j.json, 3 active calls, 1 focus area"
