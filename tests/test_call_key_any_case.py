"""A topic identifier as the portal's own links write it, in lower case
(…/topic-details/horizon-cl5-2027-03-d5-05): `calls show`, `applications add` and `applications list
--call` answered "no call with id 'horizon-cl5-2027-03-d5-05'"; the case of a topic id or source
reference no longer matters when no call has it exactly."""

from __future__ import annotations

from tests.test_applications import seed

KEY = "horizon-cl5-2027-03-d5-05"


def _run(cli, *args: str) -> tuple[int, str, str]:
    result = cli("--as-of", "2026-08-22T09:00+02:00", *args, env={"NO_COLOR": "1", "FUNDRADAR_USER": "anna"})
    return result.exit_code, result.stdout, result.stderr


def test_a_lower_case_topic_id_finds_the_call(cli, engine) -> None:
    horizon = seed(engine)["horizon"]
    code, out, _ = _run(cli, "calls", "show", KEY)
    assert code == 0 and "HORIZON-CL5-2027-03-D5-05" in out, out
    code, out, _ = _run(cli, "applications", "add", "1", KEY)
    assert (code, out) == (0, f"Added application #1: idea #1 -> call #{horizon} (draft)\n")
    code, out, _ = _run(cli, "applications", "list", "--call", " Horizon-CL5-2027-03-D5-05 ", "--json")
    assert code == 0 and out.count('"call_id"') == 1, out
    assert _run(cli, "calls", "show", "horizon-cl5-2027-03-d5-99") == (
        2, "", "Error: no call with id 'horizon-cl5-2027-03-d5-99'; see `fundradar calls list`\n")


def test_the_same_on_postgresql(cli, pg_url: str) -> None:
    from pipeline.core.db import open_database

    engine = open_database(pg_url)
    try:
        horizon = seed(engine)["horizon"]
    finally:
        engine.dispose()
    assert _run(cli, "--db", pg_url, "applications", "add", "1", KEY)[:2] == (
        0, f"Added application #1: idea #1 -> call #{horizon} (draft)\n")
