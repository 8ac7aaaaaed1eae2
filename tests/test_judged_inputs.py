"""Judged files of other shapes than ours: each works as a user expects or is refused in one line
naming the file, the key and what to do (the recording, the grades, the focus areas, as_of, YAML)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from classifiers.judged import (
    load_judged,
    recording_folder,
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
    for data in (variant(base, snapshot=None), variant(base, snapshot="samples/eu_ft/none.json")):
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


@pytest.mark.slow
def test_eval_judged_of_an_incomplete_recording_says_so(base: dict[str, Any], samples: Path,
                                                        tmp_path: Path, cli: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    folder = tmp_path / "search_2026-08-22"
    shutil.copytree(samples / "eu_ft" / "search_2026-08-22", folder)
    (folder / "page_003.json").unlink()
    path = write(tmp_path, variant(base, recording=str(folder)))
    result = cli("eval", "--judged", str(path))
    assert result.exit_code == 1
    error = result.stderr.splitlines()[-1]
    assert error.startswith(f"Error: {path}: recording: replaying {folder} failed (page ")
    assert error.endswith("; give a complete SEDIA search recording")
