"""What a newcomer meets following the README on a fresh clone (round five), each on a real SQLite file
through the real CLI."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from pipeline.core.models import Call
from tests.test_applications import bsr_call, sync

NO_PARTNERS = (
    "No partners yet; add one with `fundradar partners add NAME --country CC --type TYPE` or "
    "import a CSV with `fundradar partners import FILE.csv`.\n"
)
NO_FOLLOWED = "No followed call matches; follow one with `fundradar calls follow ID` (or Follow in Slack).\n"
NO_APPLICATIONS = "No applications yet; start one with `fundradar applications add IDEA CALL`.\n"


def _run(cli, *args: str) -> tuple[int, str, str]:
    result = cli("--as-of", "2026-08-22T09:00+02:00", *args, env={"NO_COLOR": "1"})
    return result.exit_code, result.stdout, result.stderr


def test_an_empty_directory_says_how_to_fill_it(cli, engine) -> None:
    """`partners list` on a new database said "No partners match." as if a filter had been given, and
    `partners suggest` that no partner's competences matched the call: there were no partners at all."""
    sync(engine, "euro_access", [bsr_call()])
    with Session(engine) as session:
        call_id = session.exec(select(Call.id)).one()
    assert _run(cli, "partners", "list") == (0, "", NO_PARTNERS)
    code, out, err = _run(cli, "partners", "suggest", "--call", str(call_id))
    assert (code, out, err.splitlines(keepends=True)[0]) == (0, "", NO_PARTNERS)
    assert _run(cli, "partners", "add", "RISE", "--country", "SE", "--type", "rto")[0] == 0
    assert _run(cli, "partners", "list", "--country", "NO") == (
        0,
        "",
        "No partners match; `fundradar partners list` shows them all.\n",
    )


def test_an_empty_pipeline_says_how_to_start_one(cli, engine) -> None:
    """`applications list` said "No applications match." before any application existed."""
    sync(engine, "euro_access", [bsr_call()])
    assert _run(cli, "applications", "list") == (0, "", NO_APPLICATIONS)
    assert _run(cli, "applications", "list", "--status", "granted") == (
        0,
        "",
        "No applications match; `fundradar applications list` shows them all.\n",
    )


def test_the_rename_example_names_the_folder_the_readme_sets_up() -> None:
    """`strategy rename --help` showed `--config config/strategies`, a folder the README never makes: its
    several-clusters section puts one file per cluster in config/clusters/."""
    from tests.test_cli_help_examples import _example

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    folder = _example(("strategy", "rename")).split("--config ", 1)[1].split()[0]
    assert folder == "config/clusters" and f"`{folder}/greentech.yaml`" in readme


def test_errors_of_the_pipeline_commands_say_what_to_do(cli, engine, tmp_path: Path) -> None:
    """The help's own example, `partners add "RISE" … --pic 999981234`, after the README's import of
    the sample partners said only that the PIC belonged to partner #1; an iCal export into a folder that
    is not there only that the folder does not exist."""
    sample = Path(__file__).resolve().parent / "fixtures" / "partners.csv"
    assert _run(cli, "partners", "import", str(sample))[0] == 0
    assert _run(cli, "partners", "add", "RISE", "--country", "SE", "--type", "rto", "--pic", "999981234") == (
        2,
        "",
        "Error: PIC 999981234 already belongs to partner #1 (RISE Research Institutes of Sweden); a PIC "
        "names one organisation: check it, or see `fundradar partners show 1`\n",
    )
    missing = tmp_path / "nowhere"
    assert _run(cli, "export", "ical", str(missing / "deadlines.ics")) == (
        2,
        "",
        f"Error: folder {missing} does not exist; create it or give a file in an existing folder\n",
    )
    assert not missing.exists()


def test_an_eval_file_not_found_names_its_option(cli, tmp_path: Path, eval_dir: Path) -> None:
    """`eval --judged` or `--corpus` with a path that is not there said "No such file or directory" and
    nothing of what to check."""
    judged, corpus = tmp_path / "greentech.json", tmp_path / "calls.jsonl"
    assert _run(cli, "eval", "--judged", str(judged)) == (
        2,
        "",
        f"Error: cannot read judged file {judged}: No such file or directory; check the path given with "
        "--judged\n",
    )
    assert _run(cli, "eval", "--corpus", str(corpus), "--benchmark", str(eval_dir / "focus_areas.yaml")) == (
        2,
        "",
        f"Error: cannot read corpus {corpus}: No such file or directory; check the path given with "
        "--corpus\n",
    )


def test_every_environment_variable_the_code_reads_is_in_the_readme() -> None:
    """FUNDRADAR_USER (who an application's events are recorded as: "by root" in a digest) and
    FUNDRADAR_FUNDING_RULES were read by the code and named nowhere in the README."""
    import re

    root = Path(__file__).resolve().parent.parent
    read = {
        name
        for folder in ("pipeline", "classifiers", "watcher")
        for path in (root / folder).rglob("*.py")
        for name in re.findall(r"\bFUNDRADAR_[A-Z_]+\b", path.read_text(encoding="utf-8"))
    }
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert {"FUNDRADAR_USER", "FUNDRADAR_FUNDING_RULES"} <= read
    assert sorted(name for name in read if not re.search(rf"\b{name}\b", readme)) == []


def test_no_followed_call_says_how_to_follow_one(cli, engine) -> None:
    """`calls list --followed` before anything was followed said "No calls match." as for any filter."""
    sync(engine, "euro_access", [bsr_call()])
    assert _run(cli, "calls", "list", "--followed") == (0, "", NO_FOLLOWED)
    assert _run(cli, "calls", "follow", "1")[0] == 0
    assert _run(cli, "calls", "list", "--followed")[1].splitlines()[1].startswith(" 1 ")
