"""The development judged file in tests/fixtures/judged/ loads as a judged file and grades only calls
of its recording."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers.judged import load_judged, recording_folder
from tests.conftest import FIXTURES, SAMPLES

DEVELOPMENT = sorted((FIXTURES / "judged").glob("*.json"))


@pytest.mark.parametrize("path", DEVELOPMENT, ids=lambda p: p.name)
def test_development_judged_file_loads(path: Path) -> None:
    judged = load_judged(path)
    assert set(judged.grades) == set(judged.focus_areas)
    assert all(grades and set(grades.values()) <= {0, 1, 2} for grades in judged.grades.values())
    assert judged.as_of.utcoffset() is not None


@pytest.mark.parametrize("path", DEVELOPMENT, ids=lambda p: p.name)
def test_development_judged_file_grades_calls_of_its_recording(path: Path) -> None:
    if not SAMPLES.is_dir():
        pytest.skip(f"recorded samples not found at {SAMPLES}; set FUNDRADAR_SAMPLES")
    judged = load_judged(path)
    folder = recording_folder(judged, SAMPLES)
    recorded = {result["reference"] for page in sorted(folder.glob("page_*.json"))
                for result in json.loads(page.read_text(encoding="utf-8"))["results"]}
    unknown = {area: sorted(set(grades) - recorded) for area, grades in judged.grades.items()}
    assert not any(unknown.values()), unknown


@pytest.mark.slow
@pytest.mark.parametrize("path", DEVELOPMENT, ids=lambda p: p.name)
def test_development_judged_file_runs_through_eval(path: Path) -> None:
    """`fundradar eval --judged FILE` replays the file's recording and measures every area of it (a
    development file is only of use if each area has on-topic calls the matcher can be measured by)."""
    if not SAMPLES.is_dir():
        pytest.skip(f"recorded samples not found at {SAMPLES}; set FUNDRADAR_SAMPLES")
    from typer.testing import CliRunner

    from pipeline.cli.main import app

    result = CliRunner().invoke(app, ["eval", "--judged", str(path), "--json", "--feedback", "0"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    areas = set(load_judged(path).focus_areas)
    assert set(report["per_area"]["matcher"]) == areas
    assert all(figures["ndcg10"] is not None for figures in report["per_area"]["matcher"].values())
    assert all(c["not_in_recording"] == 0 for c in report["coverage"].values()), report["coverage"]
    assert report["ndcg_undefined"] == [] and report["not_graded"] == []
