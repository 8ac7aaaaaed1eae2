"""A title, organisation or owner typed (or pasted) as nothing but control characters and terminal
escapes was stored as an invisible name ("Added idea #1: ", "owner none → "); escapes and controls in
a typed name are no longer stored, so such text counts as empty and is refused in one line."""

from __future__ import annotations

import json

from tests.test_applications import seed

INVISIBLE = "\x07\x1b[0m\x1b]8;;http://x\x07\x1b]8;;\x07"


def _run(cli, *args: str) -> tuple[int, str, str]:
    result = cli("--as-of", "2026-08-22T09:00+02:00", *args, env={"NO_COLOR": "1", "FUNDRADAR_USER": "anna"})
    return result.exit_code, result.stdout, result.stderr


def test_invisible_names_are_empty(cli, engine) -> None:
    ids = seed(engine)
    assert _run(cli, "ideas", "add", INVISIBLE) == (2, "", "Error: an idea needs a title\n")
    assert _run(cli, "partners", "add", INVISIBLE, "--country", "DK", "--type", "sme") == (
        2, "", "Error: a partner needs an organisation name\n")
    assert _run(cli, "applications", "add", "1", str(ids["bsr"]))[0] == 0
    assert _run(cli, "applications", "edit", "1", "--owner", INVISIBLE) == (
        2, "", "Error: --owner cannot be empty; give who writes the application\n")


def test_a_coloured_name_is_stored_as_its_text(cli, engine) -> None:
    coloured = "\x1b[31mRød\x1b[0m Havn\x07"
    assert _run(cli, "partners", "add", coloured, "--country", "DK", "--type", "sme") == (
        0, "Added partner #1: Rød Havn (DK, sme)\n", "")
    code, out, _ = _run(cli, "partners", "list", "--json")
    assert code == 0 and json.loads(out)[0]["organisation"] == "Rød Havn"


def test_owners_are_stored_as_their_text(cli, engine) -> None:
    """An owner typed with a tab or an escape was stored as typed (" mette\\t", "\\x1b[1mbo"), so
    "mette" and " mette\\t" were two owners and the escape went out in JSON and Slack."""
    ids = seed(engine)
    assert _run(cli, "ideas", "add", "Hydrogen ports", "--owner", " mette\t")[0] == 0
    assert _run(cli, "applications", "add", "2", str(ids["bsr"]), "--owner", "\x1b[1mbo\x1b[0m")[0] == 0
    assert _run(cli, "ideas", "edit", "1", "--owner", INVISIBLE)[0] == 0
    ideas = json.loads(_run(cli, "ideas", "list", "--json")[1])
    assert [i["owner"] for i in ideas] == [None, "mette"]
    assert json.loads(_run(cli, "applications", "show", "1", "--json")[1])["owner"] == "bo"


def test_who_is_stored_as_their_text(cli, engine) -> None:
    """`--by "  "` was recorded as a blank name in the history, `--by` with an escape as typed."""
    ids = seed(engine)
    assert _run(cli, "applications", "add", "1", str(ids["bsr"]), "--by", "   ")[0] == 0
    assert _run(cli, "applications", "move", "1", "consortium", "--by", "\x1b[2Jbo\t")[0] == 0
    events = json.loads(_run(cli, "applications", "show", "1", "--json")[1])["events"]
    assert [e["by"] for e in events] == ["anna", "bo"]
