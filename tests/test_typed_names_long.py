"""A partner named by 100,000 pasted characters was refused by `partners import` (a cell of more than
300 characters) but stored by `partners add`, and an idea title of that length filled thousands of
lines of every listing; both are now refused in one line, as the import refuses them."""

from __future__ import annotations

LONG = "Aarhus " * 20_000


def test_long_names_are_refused(cli, engine) -> None:
    result = cli("partners", "add", LONG, "--country", "DK", "--type", "sme")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "Error: the organisation name is 139,999 characters long, more than 300; shorten it (it "
               "starts 'Aarhus Aarhus Aarhus Aarhus Aarhus Aarh…')\n")
    result = cli("ideas", "add", LONG)
    assert (result.exit_code, result.stderr) == (
        2, "Error: the title is 139,999 characters long, more than 300; shorten it (it starts 'Aarhus Aarhus "
           "Aarhus Aarhus Aarhus Aarh…')\n")
    assert cli("ideas", "add", "Aarhus " * 42).exit_code == 0  # 293 characters
