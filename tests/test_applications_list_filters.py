"""`applications list` filters typed as the other commands take them: `--status OPEN` as `move 1
WRITING` is taken (before: "unknown status 'OPEN'; use one of … or open")."""

from __future__ import annotations

from tests.test_applications import seed


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
