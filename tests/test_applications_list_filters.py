"""`applications list` filters typed as the other commands take them: `--status OPEN` as `move 1
WRITING` is taken (before: "unknown status 'OPEN'; use one of … or open"), and `--idea` of an idea that
does not exist or is another cluster's is an error as `--call` of an unknown call is (before: "No
applications match.", exit 0, as if the idea had none)."""

from __future__ import annotations

from pathlib import Path

from tests.test_applications import seed

STRATEGIES = Path(__file__).resolve().parent / "fixtures" / "strategies"


def _run(cli, *args: str) -> tuple[int, str, str]:
    result = cli("--as-of", "2026-08-22T09:00+02:00", *args, env={"NO_COLOR": "1", "FUNDRADAR_USER": "anna"})
    return result.exit_code, result.stdout, result.stderr


def test_status_filter_is_case_insensitive(cli, engine) -> None:
    ids = seed(engine)
    assert _run(cli, "applications", "add", "1", str(ids["bsr"]))[0] == 0
    code, out, _ = _run(cli, "applications", "list", "--status", "OPEN")
    assert code == 0 and out.splitlines()[1].startswith(" 1  Hydrogen ferries"), out
    code, out, _ = _run(cli, "applications", "list", "--status", " Draft ")
    assert code == 0 and out.splitlines()[1].startswith(" 1  Hydrogen ferries"), out


def test_an_unknown_idea_is_an_error(cli, engine) -> None:
    seed(engine)
    assert _run(cli, "applications", "list", "--idea", "9") == (
        2, "", "Error: no idea with id 9; see `fundradar ideas list`\n")


def test_another_clusters_idea_is_an_error(cli, engine) -> None:
    folder = ["--config", str(STRATEGIES)]
    assert _run(cli, *folder, "--strategy", "foodbio-dk", "ideas", "add", "Precision fermentation")[0] == 0
    assert _run(cli, *folder, "--strategy", "greentech-dk", "applications", "list", "--idea", "1") == (
        2, "", "Error: idea #1 belongs to strategy 'foodbio-dk', not to the selected 'greentech-dk'; select "
               "it with `fundradar --strategy foodbio-dk ...` (or FUNDRADAR_STRATEGY=foodbio-dk)\n")
    assert _run(cli, *folder, "--strategy", "foodbio-dk", "applications", "list", "--idea", "1") == (
        0, "", "No applications match; `fundradar applications list` shows them all.\n")
