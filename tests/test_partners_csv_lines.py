"""A partner CSV whose cell holds a line break (an address typed in Excel with Alt+Enter): every
problem of that row was reported at the line where the row *ended* ("partners.csv:3" for a row
starting on line 2), so the line named held the second half of an address. Each row is now named by
the line it starts on."""

from __future__ import annotations

from pathlib import Path


def test_a_row_with_a_line_break_is_named_by_its_first_line(cli, engine, tmp_path: Path) -> None:
    path = tmp_path / "partners.csv"
    path.write_text('organisation,country,type,contact\n'
                    '"Port of Aarhus",Dnmark,public,"Havnegade 1\n8000 Aarhus C"\n'
                    'Kiel University,DE,univ\n', encoding="utf-8")
    result = cli("partners", "import", str(path))
    assert (result.exit_code, result.stderr.splitlines()) == (2, [
        f"Error: {path}:2: country: 'Dnmark' is not an ISO 3166 country code; use two letters such as DK, "
        "SE or DE",
        f"Error: {path}:4: type: unknown partner type 'univ'; use one of sme, large, university, rto, "
        "cluster, public (or e.g. 'research institute', 'public body')",
        f"Error: {path}: 2 bad rows; nothing was imported; fix them and import the file again"])
