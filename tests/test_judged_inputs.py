"""Judged files of other shapes than ours: each works as a user expects or is refused in one line
naming the file, the key and what to do (the recording, the grades, the focus areas, as_of, YAML)."""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from classifiers.judged import (
    JudgedReport,
    judged_metrics,
    load_judged,
    mean_metrics,
    plain_tfidf_ranker,
    plain_tfidf_ranking,
    recording_folder,
    report_lines,
)
from pipeline.core.errors import UserInputError

JUDGED = "judged/greentech_2026-08-22.json"


@pytest.fixture(scope="module")
def base(eval_dir: Path) -> dict[str, Any]:
    return json.loads((eval_dir / JUDGED).read_text(encoding="utf-8"))


def write(tmp_path: Path, data: Any, name: str = "judged.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def variant(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


def refused(path: Path) -> str:
    with pytest.raises(UserInputError) as caught:
        load_judged(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


# --- the recording -------------------------------------------------------------------------------

def test_recording_relative_to_the_samples_root_absolute_or_with_a_trailing_slash(
        base: dict[str, Any], samples: Path, tmp_path: Path) -> None:
    folder = samples / "eu_ft" / "search_2026-08-22"
    for recording in ("samples/eu_ft/search_2026-08-22", "eu_ft/search_2026-08-22",
                      "samples/eu_ft/search_2026-08-22/", str(folder), f"{folder}/"):
        judged = load_judged(write(tmp_path, variant(base, recording=recording)))
        assert recording_folder(judged, samples).resolve() == folder.resolve(), recording
    # the absolute path needs no samples root at all
    judged = load_judged(write(tmp_path, variant(base, recording=str(folder))))
    assert recording_folder(judged, None) == folder


def test_recording_missing_on_disk_names_the_file_the_key_and_the_root(
        base: dict[str, Any], samples: Path, tmp_path: Path) -> None:
    path = write(tmp_path, variant(base, recording="samples/eu_ft/search_2031-01-01"))
    with pytest.raises(UserInputError, match=r"judged.json: recording: samples/eu_ft/search_2031-01-01 not "
                                             rf"found under {samples}; set FUNDRADAR_SAMPLES"):
        recording_folder(load_judged(path), samples)


@pytest.mark.parametrize("recording, what", [
    ("samples/euro_access", "a folder without SEDIA search pages"),  # a euro-access listing
    ("samples/eu_ft/calls_2026-08-10.jsonl", "a file"),  # a feed-like file of records
    ("samples/eu_ft/sedia_search_page_real.json", "a file"),  # one SEDIA page, not a recording folder
    ("samples/eu_ft", "a folder without SEDIA search pages"),  # several days: which one was judged?
])
def test_a_recording_of_another_shape_is_refused_in_one_line(base: dict[str, Any], samples: Path,
                                                             tmp_path: Path, recording: str,
                                                             what: str) -> None:
    judged = load_judged(write(tmp_path, variant(base, recording=recording)))
    with pytest.raises(UserInputError) as caught:
        recording_folder(judged, samples)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'judged.json'}: recording: {recording} is {what}")
    assert "name one SEDIA search recording, e.g. samples/eu_ft/search_2026-08-22" in message


def test_a_sedia_recording_with_another_number_of_pages_is_found(base: dict[str, Any], samples: Path,
                                                                 tmp_path: Path) -> None:
    # 2026-06-23 holds 7 pages, 2026-08-22 eight
    judged = load_judged(write(tmp_path, variant(base, recording="samples/eu_ft/search_2026-06-23")))
    assert len(list(recording_folder(judged, samples).glob("page_*.json"))) == 7


def test_the_snapshot_key_is_not_needed(base: dict[str, Any], samples: Path, tmp_path: Path) -> None:
    for data in (variant(base, snapshot=None), variant(base, snapshot="samples/eu_ft/none.json"),
                 variant(base, about=None, assessor="another cluster's fundraiser")):  # other keys: unread
        judged = load_judged(write(tmp_path, data))
        assert recording_folder(judged, samples).name == "search_2026-08-22"


def test_eval_finds_the_samples_at_their_default_place(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    from pipeline.cli.eval_cmd import samples_root

    monkeypatch.delenv("FUNDRADAR_SAMPLES", raising=False)
    assert samples_root() == Path("../shared/samples")
    monkeypatch.setenv("FUNDRADAR_SAMPLES", str(tmp_path))
    assert samples_root() == tmp_path


def test_eval_judged_file_outside_shared_without_fundradar_samples(
        cli: Any, base: dict[str, Any], samples: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A judged file copied elsewhere finds the recording under ../shared/samples of the folder
    eval runs in; a missing recording says where it looked, before any replay."""
    work = tmp_path / "repo"
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "samples").symlink_to(samples)
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("FUNDRADAR_SAMPLES", raising=False)
    path = write(tmp_path, variant(base, recording="samples/eu_ft/search_2031-01-01"))
    result = cli("eval", "--judged", str(path))
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {path}: recording: samples/eu_ft/search_2031-01-01 not found under "
                             "../shared/samples; set FUNDRADAR_SAMPLES to the samples folder or correct "
                             "the recording key\n")
    judged = load_judged(write(tmp_path, base))
    from pipeline.cli.eval_cmd import samples_root

    expected = (samples / "eu_ft" / "search_2026-08-22").resolve()
    assert recording_folder(judged, samples_root()).resolve() == expected


# --- grades --------------------------------------------------------------------------------------

def test_grades_written_as_strings_or_whole_floats_are_read(base: dict[str, Any], tmp_path: Path) -> None:
    grades = {area: {ref: str(g) if i % 2 else float(g) for i, (ref, g) in enumerate(refs.items())}
              for area, refs in base["grades"].items()}
    assert load_judged(write(tmp_path, variant(base, grades=grades))).grades == base["grades"]


@pytest.mark.parametrize("grade", [3, -1, 1.5, True, "high", None, "3"])
def test_a_grade_out_of_range_is_refused_with_its_line_and_key(base: dict[str, Any], tmp_path: Path,
                                                              grade: Any) -> None:
    data = variant(base)
    ref = next(iter(data["grades"]["food_bio"]))
    data["grades"]["food_bio"][ref] = grade
    data["grades"]["green_maritime"][next(iter(data["grades"]["green_maritime"]))] = 7
    path = write(tmp_path, data)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if f'"{ref}"' in text
                and n > 100)
    message = refused(path)
    assert message.startswith(f"{path}:")
    assert f"grades.food_bio.{ref}: grade {grade!r} is not 0, 1 or 2" in message or \
        "grades.green_maritime." in message
    assert "(and 1 more)" in message
    if "food_bio" in message:
        assert message.startswith(f"{path}:{line}:")


def test_grades_for_an_area_absent_from_focus_areas(base: dict[str, Any], tmp_path: Path) -> None:
    grades = {**base["grades"], "food_bioo": {"X": 1}}
    message = refused(write(tmp_path, variant(base, grades=grades)))
    assert "grades.food_bioo: no focus area 'food_bioo' in focus_areas; did you mean 'food_bio'? add it " \
           "to focus_areas or remove its grades" in message


@pytest.mark.parametrize("grades, expected", [
    ({}, "grades: no grades: nothing to measure"),
    ([], "grades: expected {area: {reference: grade}}, got a list"),
    ({"food_bio": [1, 2]}, "grades.food_bio: expected {reference: grade}, got a list"),
    ({"food_bio": "2"}, "grades.food_bio: expected {reference: grade}, got text"),
])
def test_grades_of_the_wrong_shape(base: dict[str, Any], tmp_path: Path, grades: Any, expected: str) -> None:
    assert expected in refused(write(tmp_path, variant(base, grades=grades)))


# --- focus areas ---------------------------------------------------------------------------------

def test_focus_areas_take_every_key_the_strategy_takes(base: dict[str, Any], tmp_path: Path) -> None:
    areas = {**base["focus_areas"],
             "havvind": {"label": "Havvind og brint", "description": "Havvind, brint og energiøer.",
                         "keywords": ["havvind", "brint", "energiøer"], "exclude": ["atomkraft"],
                         "synonyms": {}, "alert_threshold": 0.3}}
    judged = load_judged(write(tmp_path, variant(base, focus_areas=areas)))
    assert judged.focus_areas["havvind"].alert_threshold == 0.3
    assert judged.focus_areas["havvind"].keywords == ["havvind", "brint", "energiøer"]
    assert set(judged.grades) == set(base["grades"])  # an area without grades loads; eval notes it


@pytest.mark.parametrize("change, expected", [
    ({"keywords": []}, "focus_areas.food_bio.keywords: focus area needs at least one keyword"),
    ({"keywords": None}, "focus_areas.food_bio.keywords: required key is missing"),
    ({"keyword": ["x"]}, "focus_areas.food_bio.keyword: unknown key 'keyword'; did you mean 'keywords'?"),
    ({"alert_threshold": 2}, "focus_areas.food_bio.alert_threshold: input should be less than or equal to "
                             "1, got 2"),
    ({"label": ""}, "focus_areas.food_bio.label:"),
])
def test_focus_areas_are_checked_as_config_check_checks_the_strategy(
        base: dict[str, Any], tmp_path: Path, change: dict[str, Any], expected: str) -> None:
    from pipeline.core.config import load_strategy

    data = variant(base)
    area = data["focus_areas"]["food_bio"]
    for key, value in change.items():
        if value is None:
            area.pop(key)
        else:
            area[key] = value
    message = refused(write(tmp_path, data))
    assert expected in message
    assert message.split(": ", 1)[0].rsplit(":", 1)[1].isdigit()  # file:line
    # the same message the strategy file gets for the same area
    strategy = tmp_path / "strategy.yaml"
    strategy.write_text(json.dumps({"name": "x", "organisation": "X", "focus_areas": {"food_bio": area}}),
                        encoding="utf-8")
    with pytest.raises(UserInputError) as caught:
        load_strategy(strategy)
    def said(text: str) -> str:
        return text.split(": ", 1)[1].split(" (and")[0]

    assert said(str(caught.value)) == said(message)


# --- as_of ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("as_of, expected", [
    ("2026-08-22T12:00:00+00:00", datetime(2026, 8, 22, 12, tzinfo=UTC)),
    ("2026-08-22T12:00:00Z", datetime(2026, 8, 22, 12, tzinfo=UTC)),
    ("2026-08-22T14:00:00", datetime(2026, 8, 22, 12, tzinfo=UTC)),  # Brussels time, as --as-of
    ("2026-08-22", datetime(2026, 8, 21, 22, tzinfo=UTC)),  # the day's start in Brussels, as --as-of
])
def test_as_of_is_read_as_the_as_of_option(base: dict[str, Any], tmp_path: Path, as_of: str,
                                           expected: datetime) -> None:
    assert load_judged(write(tmp_path, variant(base, as_of=as_of))).as_of == expected


@pytest.mark.parametrize("as_of, expected", [
    ("22 Aug 2026 noon", "as_of: date '22 Aug 2026 noon' is not a date; use YYYY-MM-DD"),
    (20260822, "as_of: expected a date and time such as 2026-08-22T12:00:00+00:00, got 20260822"),
    (None, "key 'as_of' is missing; a judged file needs focus_areas, grades, recording, as_of"),
])
def test_an_unreadable_as_of_is_refused(base: dict[str, Any], tmp_path: Path, as_of: Any,
                                        expected: str) -> None:
    assert expected in refused(write(tmp_path, variant(base, as_of=as_of)))


# --- the file ------------------------------------------------------------------------------------

def test_a_yaml_judged_file_is_read_when_named_yaml(base: dict[str, Any], eval_dir: Path,
                                                    tmp_path: Path) -> None:
    from ruamel.yaml import YAML

    path = tmp_path / "judged.yaml"
    data = variant(base, as_of=None)
    with path.open("w", encoding="utf-8") as out:
        YAML().dump({**data, "as_of": datetime(2026, 8, 22, 12, tzinfo=UTC)}, out)
    as_yaml, as_json = load_judged(path), load_judged(eval_dir / JUDGED)
    assert (as_yaml.focus_areas, as_yaml.grades, as_yaml.as_of, as_yaml.recording) == \
        (as_json.focus_areas, as_json.grades, as_json.as_of, as_json.recording)
    misnamed = tmp_path / "judged.json"
    misnamed.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    assert "not JSON (Expecting value); give a judged file such as" in refused(misnamed)
    assert "read as YAML when named .yaml" in refused(misnamed)


@pytest.mark.parametrize("data, expected", [
    ([1, 2], "a judged file is an object with focus_areas, grades, recording, as_of, got a list"),
    ({"focus_areas": {}}, "key 'grades' is missing; a judged file needs"),
    ({"focus_areas": {}, "grades": {}, "recording": "x", "as-of": "2026-08-22"},
     "key 'as_of' is missing (the file has 'as-of': did you mean 'as_of'?); a judged file needs"),
    ({"focus areas": {}, "grades": {}}, "key 'focus_areas' is missing (the file has 'focus areas'"),
])
def test_a_file_of_the_wrong_shape(tmp_path: Path, data: Any, expected: str) -> None:
    assert expected in refused(write(tmp_path, data))
    as_yaml = tmp_path / "judged.yaml"  # the same in YAML: a list is a list there too
    as_yaml.write_text(json.dumps(data), encoding="utf-8")
    assert expected in refused(as_yaml)


# --- measures ------------------------------------------------------------------------------------

def test_ndcg_is_undefined_without_a_call_graded_one_or_more() -> None:
    figures = judged_metrics(["a", "b"], {"a": 0, "b": 0})
    assert figures["ndcg10"] is None and figures["p10_lenient"] == 0.0
    assert judged_metrics(["a"], {})["ndcg10"] is None
    # graded 2 but not in the recording: left out of the ideal, so undefined too
    assert judged_metrics(["a"], {"a": 0, "z": 2}, among={"a"})["ndcg10"] is None
    means = mean_metrics({"x": {"ndcg10": None, "p10_strict": 0.0, "p10_lenient": 0.0, "unjudged10": 0.0},
                          "y": {"ndcg10": 0.5, "p10_strict": 0.2, "p10_lenient": 0.4, "unjudged10": 2.0}})
    assert means == {"ndcg10": 0.5, "p10_strict": 0.1, "p10_lenient": 0.2, "unjudged10": 1.0}
    assert mean_metrics({})["ndcg10"] is None


def test_references_absent_from_the_recording_leave_the_ideal_ordering() -> None:
    grades = {"a": 2, "gone": 2}
    assert judged_metrics(["a"], grades)["ndcg10"] == pytest.approx(3 / (3 + 3 / math.log2(3)))
    assert judged_metrics(["a"], grades, among={"a", "b"})["ndcg10"] == pytest.approx(1.0)


def test_the_report_says_what_was_not_measured_and_keeps_its_keys() -> None:
    undefined = {"ndcg10": None, "p10_strict": 0.0, "p10_lenient": 0.0, "unjudged10": 10.0}
    defined = {"ndcg10": 0.8, "p10_strict": 0.5, "p10_lenient": 0.9, "unjudged10": 0.0}
    report = JudgedReport("f.json", 600,
                          {"matcher": {"a_rather_long_area_name_here": defined, "b": undefined}},
                          {"a_rather_long_area_name_here": [], "b": []},
                          coverage={"a_rather_long_area_name_here": {"graded": 40, "not_in_recording": 3,
                                                                     "not_listed": 0},
                                    "b": {"graded": 10, "not_in_recording": 0, "not_listed": 2}},
                          not_graded=["c"])
    data = report.as_dict()
    assert list(data) == ["file", "calls", "means", "per_area", "top", "feedback", "coverage", "not_graded",
                          "warnings", "ndcg_undefined", "unread_programmes"]
    assert data["feedback"] is None and data["ndcg_undefined"] == ["b"]
    assert data["means"]["matcher"]["ndcg10"] == 0.8
    lines = report_lines(report)
    assert next(line for line in lines if line.startswith("b ")).split()[1] == "n/a"
    notes = [line for line in lines if line.startswith("Note: ")]
    assert notes == [
        "Note: focus area c has no grades; not measured",
        "Note: 3 of 50 graded references are not in the recording; left out of the ideal ordering (check "
        "that the recording is the one the file was judged on): a_rather_long_area_name_here 3",
        "Note: 2 of 50 graded calls are in the recording but not listed at as_of (another programme, or "
        "closed); they count against every ranker: b 2",
        "Note: b: no recorded call is graded 1 or 2, so nDCG@10 is undefined (n/a) and left out of the means"]


def test_the_report_aligns_long_area_names() -> None:
    figures = {"ndcg10": 0.8, "p10_strict": 0.5, "p10_lenient": 0.9, "unjudged10": 0.0}
    areas = ["industrialised_construction_and_more", "b"]
    report = JudgedReport("f.json", 600, {"matcher": {a: figures for a in areas}}, {a: [] for a in areas})
    lines = report_lines(report)
    rows = [line for line in lines if line.startswith(("industrialised", "b ", "matcher "))]
    assert len(rows) == 4 and len({len(row) for row in rows}) == 1  # the heads and the rows
    assert rows[2].split()[1] == "0.800"


def test_plain_tfidf_fitted_once_ranks_as_fitted_per_area() -> None:
    items = [("a", "offshore wind farms", "grid"), ("b", "food systems", "farming and food"),
             ("c", "hydrogen", "offshore hydrogen and wind")]
    rank = plain_tfidf_ranker(items)
    for terms in (["offshore wind"], ["food"], ["hydrogen", "grid"], ["nothing"]):
        assert rank(terms) == plain_tfidf_ranking(items, terms)


# --- the command ---------------------------------------------------------------------------------

def test_eval_csv_prints_one_table(cli: Any, eval_dir: Path, samples: Path) -> None:
    result = cli("eval", "--judged", str(eval_dir / JUDGED), "--benchmark",
                 str(eval_dir / "focus_areas.yaml"), "--corpus",
                 str(samples / "eu_ft" / "calls_2026-08-10.jsonl"), "--csv")
    assert result.exit_code == 2
    assert "--csv prints one table: give --benchmark and --corpus, or --judged; --json prints both" \
        in result.stderr


@pytest.mark.slow
def test_eval_judged_csv_prints_its_per_area_figures(cli: Any, eval_dir: Path, samples: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDRADAR_SAMPLES", str(samples))
    result = cli("eval", "--judged", str(eval_dir / JUDGED), "--csv", "--feedback", "0")
    assert result.exit_code == 0
    rows = result.stdout.splitlines()
    assert rows[0] == "ranker,focus_area,ndcg10,p10_strict,p10_lenient,unjudged10"
    assert len(rows) == 1 + 3 * 4 and rows[1].startswith("matcher,offshore_energy,0.7")


def test_eval_reads_the_label_files_before_the_judged_replay(cli: Any, eval_dir: Path,
                                                             tmp_path: Path) -> None:
    result = cli("eval", "--judged", str(eval_dir / JUDGED), "--benchmark",
                 str(eval_dir / "focus_areas.yaml"), "--corpus", str(tmp_path / "missing.jsonl"))
    assert result.exit_code == 2 and "cannot read corpus" in result.stderr


@pytest.fixture(scope="module")
def odd_run(base: dict[str, Any], samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One replay of a judged file with what another cluster's file may hold: a graded reference the
    recording lacks, an area graded only 0, an area without grades (Danish keywords only), --feedback 0."""
    from typer.testing import CliRunner

    from pipeline.cli.main import app

    data = variant(base)
    data["grades"]["food_bio"] = {ref: 0 for ref in data["grades"]["food_bio"]}
    data["grades"]["digital_industry"]["99999999TOPICSen"] = 2
    data["focus_areas"]["havvind"] = {"label": "Havvind", "keywords": ["havvind", "brint"]}
    path = write(tmp_path_factory.mktemp("odd"), data)
    result = CliRunner().invoke(app, ["eval", "--judged", str(path), "--json", "--feedback", "0"],
                                env={"FUNDRADAR_SAMPLES": str(samples)}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return path, json.loads(result.stdout), result.stderr


@pytest.mark.slow
def test_eval_judged_counts_what_it_could_not_measure(odd_run: Any) -> None:
    _, data, _ = odd_run
    assert data["feedback"] is None  # --feedback 0 is off, not the default 10
    assert data["not_graded"] == ["havvind"]
    assert data["ndcg_undefined"] == ["food_bio"]
    assert data["per_area"]["matcher"]["food_bio"]["ndcg10"] is None
    assert data["coverage"]["digital_industry"]["not_in_recording"] == 1
    assert data["coverage"]["food_bio"] == {"graded": 53, "not_in_recording": 0, "not_listed": 2}
    means = data["means"]["matcher"]
    per_area = data["per_area"]["matcher"]
    defined = [per_area[a]["ndcg10"] for a in ("offshore_energy", "green_maritime", "digital_industry")]
    assert means["ndcg10"] == pytest.approx(sum(defined) / 3, abs=1e-4)
    # the reference the recording lacks is out of the ideal: the area's figure is the real file's
    assert per_area["digital_industry"]["ndcg10"] > 0.8


@pytest.mark.slow
def test_eval_judged_warns_of_focus_areas_as_config_check_does(odd_run: Any) -> None:
    path, data, stderr = odd_run
    expected = ("focus_areas.havvind.keywords[0]: keyword 'havvind' matches no stored call and is no word of "
                "the English calls; if it is not English, add an English synonym under synonyms:")
    assert any(w.startswith(f"Warning: {path}:") and w.endswith(expected) for w in data["warnings"])
    assert all(line.startswith("Warning: ") for line in stderr.splitlines())
    assert "Traceback" not in stderr


@pytest.mark.slow
def test_eval_judged_text_names_each_thing_not_measured(base: dict[str, Any], samples: Path,
                                                        tmp_path: Path, cli: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDRADAR_SAMPLES", str(samples))
    data = variant(base)
    data["grades"]["food_bio"] = {ref: 0 for ref in data["grades"]["food_bio"]}
    result = cli("eval", "--judged", str(write(tmp_path, data)), "--feedback", "0")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert next(line for line in lines if line.startswith("food_bio")).split()[1] == "n/a"
    assert "Note: food_bio: no recorded call is graded 1 or 2, so nDCG@10 is undefined (n/a) and left out " \
           "of the means" in lines


@pytest.mark.slow
def test_eval_judged_feedback_zero_turns_the_simulation_off(cli: Any, eval_dir: Path, samples: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDRADAR_SAMPLES", str(samples))
    result = cli("eval", "--judged", str(eval_dir / JUDGED), "--feedback", "0")
    assert result.exit_code == 0
    assert not any(line.startswith("Feedback") for line in result.stdout.splitlines())
    result = cli("eval", "--judged", str(eval_dir / JUDGED), "--feedback", "3")
    assert "Feedback: top 3 of each area marked from the grades; remaining calls ranked" in result.stdout


@pytest.mark.slow
def test_eval_judged_of_an_incomplete_recording_says_so_once(base: dict[str, Any], samples: Path,
                                                             tmp_path: Path) -> None:
    """In a process of its own, as a user runs it: the runner's log of the failure is not printed
    beside the error that says the same of the judged file."""
    import shutil
    import subprocess
    import sys

    folder = tmp_path / "search_2026-08-22"
    shutil.copytree(samples / "eu_ft" / "search_2026-08-22", folder)
    (folder / "page_003.json").unlink()
    path = write(tmp_path, variant(base, recording=str(folder)))
    done = subprocess.run([sys.executable, "-m", "pipeline.cli.main", "eval", "--judged", str(path)],
                          capture_output=True, text=True, timeout=300, cwd=Path(__file__).parent.parent)
    assert done.returncode == 1
    [error] = done.stderr.splitlines()
    assert error.startswith(f"Error: {path}: recording: replaying {folder} failed (page ")
    assert error.endswith("; give a complete SEDIA search recording")


@pytest.mark.slow
def test_eval_help_example_runs_and_prints_both_benchmarks(cli: Any, samples: Path, eval_dir: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import shlex

    monkeypatch.setenv("FUNDRADAR_SAMPLES", str(samples))
    lines = [line.strip() for line in cli("eval", "--help").stdout.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("Example: "))
    example = " ".join(lines[start:lines.index("", start)]).removeprefix("Example: ")
    words = [word.replace("../shared/samples", str(samples)).replace("../shared/eval", str(eval_dir))
             for word in shlex.split(example)]
    assert words[:2] == ["fundradar", "eval"] and "--judged" in words and "--benchmark" in words
    result = cli(*words[1:])
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[0].startswith("Corpus: 629 calls, 8 focus areas")
    judged = f"Judged: {eval_dir / JUDGED}, 611 active calls, 4 focus areas"
    assert any(line.startswith(judged) for line in out)


@pytest.mark.slow
def test_eval_judged_at_a_moment_with_no_call_open_says_so(base: dict[str, Any], samples: Path,
                                                           tmp_path: Path, cli: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDRADAR_SAMPLES", str(samples))
    path = write(tmp_path, variant(base, as_of="2030-01-01T00:00:00+00:00"))  # every deadline past
    result = cli("eval", "--judged", str(path))
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {path}: as_of: no call of the recording is open or forthcoming at "
                             "2030-01-01 00:00 UTC; give the moment the file was judged on, e.g. the "
                             "recording's day\n")


@pytest.mark.slow
def test_eval_judged_warns_when_as_of_is_not_the_recordings_day(base: dict[str, Any], samples: Path,
                                                                tmp_path: Path, cli: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDRADAR_SAMPLES", str(samples))
    path = write(tmp_path, variant(base, recording="samples/eu_ft/search_2026-08-21"))
    result = cli("eval", "--judged", str(path), "--feedback", "0", "--json")
    assert result.exit_code == 0
    warning = (f"Warning: {path}: as_of: 2026-08-22 14:00 Brussels time is not on the recording's day "
               "(2026-08-21, search_2026-08-21); the calls open at as_of are measured")
    assert warning in result.stderr.splitlines() and warning in json.loads(result.stdout)["warnings"]
    same_day = cli("eval", "--judged", str(write(tmp_path, variant(base, as_of="2026-08-22"))),
                   "--feedback", "0")
    assert "recording's day" not in same_day.stderr


@pytest.mark.slow
def test_eval_json_of_both_benchmarks_keeps_every_key(cli: Any, samples: Path, eval_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDRADAR_SAMPLES", str(samples))
    result = cli("eval", "--judged", str(eval_dir / JUDGED), "--benchmark",
                 str(eval_dir / "focus_areas.yaml"), "--corpus",
                 str(samples / "eu_ft" / "calls_2026-08-10.jsonl"), "--json", "--feedback", "0")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == ["corpus_size", "means", "per_area", "feedback", "judged"]
    assert data["feedback"] is None and data["judged"]["feedback"] is None
    assert list(data["judged"]) == ["file", "calls", "means", "per_area", "top", "feedback", "coverage",
                                    "not_graded", "warnings", "ndcg_undefined", "unread_programmes"]
    assert set(data["judged"]["means"]) == {"matcher", "title_keywords", "plain_tfidf"}
    assert data["judged"]["coverage"]["food_bio"] == {"graded": 53, "not_in_recording": 0, "not_listed": 2}


def test_a_keyword_written_as_a_number_says_to_quote_it(base: dict[str, Any], tmp_path: Path) -> None:
    """A judged file's keyword 2030 (a JSON number) is refused saying to quote it, not that YAML read it."""
    data = copy.deepcopy(base)
    data["focus_areas"]["offshore_energy"]["keywords"][0] = 2030
    message = refused(write(tmp_path, data))
    assert message.endswith(': focus_areas.offshore_energy.keywords[0]: input should be a valid string, got '
                            '2030; it is read as a number: put it in quotes to keep it as text: "2030"')
