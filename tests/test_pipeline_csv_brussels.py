"""The pipeline's CSV exports gave deadlines in UTC ("2026-10-15T10:00:00+00:00") under a table headed
"Deadline (Brussels)" that says 12:00, so a spreadsheet read two hours early; `deadlines`, `applications
list` and `ideas calls` now write them in Brussels time with the offset (the same moment, ISO 8601), as
`calls list --csv` writes Brussels time."""

from __future__ import annotations

from tests.test_applications import seed


def _csv(cli, *args: str) -> list[str]:
    result = cli("--as-of", "2026-08-22T09:00+02:00", *args, "--csv", env={"FUNDRADAR_USER": "anna"})
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def test_csv_deadlines_are_brussels_time(cli, engine) -> None:
    ids = seed(engine)
    assert cli("applications", "add", "1", str(ids["bsr"])).exit_code == 0
    assert _csv(cli, "deadlines", "--weeks", "12") == [
        "kind,id,title,deadline,days_left,status",
        "application,1,Hydrogen ferries,2026-10-15T12:00:00+02:00,54,draft"]
    assert _csv(cli, "applications", "list")[1].endswith(",2026-10-15T12:00:00+02:00,54")
    assert any(",2026-10-15T12:00:00+02:00," in line for line in _csv(cli, "ideas", "calls", "1"))
