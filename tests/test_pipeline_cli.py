"""The pipeline CLI (ideas, partners, applications, deadlines, report, export) through typer's CliRunner
against a real SQLite file: exit codes and exact output, for the normal path and each kind of bad input."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest

from pipeline.cli.main import app as root_app
from pipeline.core.config import load_config
from pipeline.sync import follow_and_score
from tests.test_applications import NOW, bsr_call, seed, sync
from tests.test_newcomer_round5 import NO_APPLICATIONS, NO_PARTNERS

FIXTURES = Path(__file__).resolve().parent / "fixtures"
AS_OF = "2026-08-22T09:00+02:00"


@pytest.fixture
def run(cli):
    """The CLI at a fixed moment, acting as anna: run("ideas", "list") -> (exit code, stdout, stderr)."""
    def invoke(*args: str, as_of: str = AS_OF) -> tuple[int, str, str]:
        result = cli("--as-of", as_of, *args, env={"FUNDRADAR_USER": "anna", "NO_COLOR": "1"})
        return result.exit_code, result.stdout, result.stderr
    return invoke


@pytest.fixture
def ids(engine):
    return seed(engine)


def test_ideas_normal_path(run) -> None:
    assert run("ideas", "add", "Offshore wind O&M robots", "-d", "Inspection robots for turbines",
               "--focus", "offshore_energy", "--focus", "digital_industry", "--country", "no",
               "--owner", "bo") == (0, "Added idea #1: Offshore wind O&M robots\n", "")
    assert run("ideas", "edit", "#1", "--status", "maturing") == (
        0, "Updated idea #1: Offshore wind O&M robots (maturing)\n", "")
    assert run("ideas", "list") == (0, (
        "ID  Title                     Status    Focus areas           Countries  Owner\n"
        " 1  Offshore wind O&M robots  maturing  offshore_energy,      NO         bo   \n"
        "                                        digital_industry                      \n"), "")
    code, out, _ = run("ideas", "list", "--json")
    assert code == 0 and json.loads(out)[0]["focus_areas"] == ["offshore_energy", "digital_industry"]
    assert run("ideas", "list", "--csv") == (0, (
        "id,title,status,focus_areas,target_countries,owner\n"
        "1,Offshore wind O&M robots,maturing,offshore_energy; digital_industry,NO,bo\n"), "")
    assert run("ideas", "show", "1") == (0, (
        "Idea #1: Offshore wind O&M robots\n"
        "Status:      maturing\n"
        "Owner:       bo\n"
        "Focus areas: offshore_energy, digital_industry\n"
        "Countries:   NO\n"
        "Created:     2026-08-22\n"
        "Updated:     2026-08-22\n"
        "\n"
        "Inspection robots for turbines\n"), "")


def test_ideas_bad_input(run, engine) -> None:
    assert run("ideas", "show", "#4") == (2, "", "Error: no idea with id 4; see `fundradar ideas list`\n")
    assert run("ideas", "show", "four") == (
        2, "", "Error: idea id 'four' is not a number; give it as 12 or #12\n")
    assert run("ideas", "add", "X", "--focus", "space") == (
        2, "", "Error: unknown focus area 'space'; the strategy has offshore_energy, green_maritime, "
               "food_bio, digital_industry\n")
    assert run("ideas", "add", "X", "--country", "Denmark") == (
        2, "", "Error: country 'Denmark' is not an ISO 3166 country code; use two letters such as DK, "
               "SE or DE\n")
    assert run("ideas", "list") == (0, "", "No ideas yet; add one with `fundradar ideas add TITLE`.\n")


def test_ideas_calls(run, ids) -> None:
    code, out, err = run("ideas", "calls", "1", "--json")
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert rows[0]["call_id"] == ids["bsr"] and rows[0]["passed"] in (True, False)
    assert ids["closed"] not in [r["call_id"] for r in rows]
    code, out, _ = run("ideas", "calls", "1")
    assert code == 0 and out.startswith("Call  Title ")


def test_partners_normal_path(run) -> None:
    assert run("partners", "add", "Aalborg University", "--country", "DK", "--type", "University",
               "--pic", "999 123 456", "--competence", "offshore wind, energy islands",
               "--readiness", "committed") == (
        0, "Added partner #1: Aalborg University (DK, university)\n", "")
    assert run("partners", "import", str(FIXTURES / "partners.csv")) == (
        0, f"Imported 3 partners from {FIXTURES / 'partners.csv'}\n", "")
    assert run("partners", "edit", "2", "--readiness", "interested") == (
        0, "Updated partner #2: RISE Research Institutes of Sweden\n", "")
    assert run("partners", "list", "--country", "se") == (0, (
        "ID  Organisation         Ctry  Type  PIC        Readiness   Competences         \n"
        " 2  RISE Research        SE    rto   999981234  interested  hydrogen, ports,    \n"
        "    Institutes of                                           energy storage      \n"
        "    Sweden                                                                      \n"), "")
    assert run("partners", "list", "--competence", "port", "--csv") == (0, (
        "id,organisation,country,type,pic,readiness,competences\n"
        "2,RISE Research Institutes of Sweden,SE,rto,999981234,interested,hydrogen; ports; energy storage\n"
        '4,"Tallinn Port Authority, Ltd.",EE,public,,unknown,ports\n'), "")
    assert run("partners", "show", "#1") == (0, (
        "Partner #1: Aalborg University\n"
        "Country:     DK\n"
        "Type:        university\n"
        "PIC:         999123456\n"
        "Readiness:   committed\n"
        "Competences: offshore wind, energy islands\n"
        "Updated:     2026-08-22\n"), "")


def test_partners_bad_input(run) -> None:
    invalid_pic = ("Error: PIC '12345' is not valid; a PIC is exactly nine digits, e.g. 999912345 (see the "
                   "EU Funding & Tenders portal)\n")
    assert run("partners", "add", "X", "--country", "SE", "--type", "sme", "--pic", "12345") == (
        2, "", invalid_pic)
    assert run("partners", "add", "X", "--country", "SE", "--type", "ngo") == (
        2, "", "Error: unknown partner type 'ngo'; use one of sme, large, university, rto, cluster, public "
               "(or e.g. 'research institute', 'public body')\n")
    bad = FIXTURES / "partners_bad_row.csv"
    assert run("partners", "import", str(bad)) == (
        2, "", f"Error: {bad}:4: pic: '12345' is not valid; a PIC is exactly nine digits, e.g. 999912345 "
               "(see the EU Funding & Tenders portal)\n"
               f"Error: {bad}: 1 bad row; nothing was imported; fix it and import the file again\n")
    assert run("partners", "list") == (0, "", NO_PARTNERS)  # nothing half-stored
    assert run("partners", "edit", "7", "--readiness", "committed") == (
        2, "", "Error: no partner with id 7; see `fundradar partners list`\n")
    assert run("partners", "suggest") == (2, "", "Error: give exactly one of --idea ID or --call ID\n")


def test_partners_suggest_warns_about_the_consortium_rule(run, ids) -> None:
    assert run("partners", "suggest", "--call", str(ids["bsr"]), "--top", "1") == (0, (
        "ID  Organisation  Ctry  Readiness  Matching competences  New ctry\n"
        " 1  RISE          SE    unknown    hydrogen, ports       yes     \n"),
        "Warning: the consortium has 2 entities from 2 countries; Interreg Baltic Sea Region needs ≥ 3 "
        "from 3 countries (Interreg Baltic Sea Region Programme Manual 2021-2027: at least three partners "
        "from three countries of the programme area)\n")
    code, out, err = run("partners", "suggest", "--idea", "1", "--json")
    assert (code, err) == (0, "")
    assert [p["organisation"] for p in json.loads(out)["partners"]] == ["RISE", "Kiel University"]


def test_applications_normal_path(run, ids) -> None:
    bsr, horizon = ids["bsr"], ids["horizon"]
    assert run("applications", "add", "1", str(bsr), "--amount", "250000", "--partner", "1",
               "--partner", "2:partner") == (0, f"Added application #1: idea #1 -> call #{bsr} (draft)\n", "")
    horizon_rule = ("the consortium has 1 entity from 1 country; Horizon Europe IA needs ≥ 3 from 3 "
                    "countries (Horizon Europe General Annexes, B (Eligibility); Regulation (EU) 2021/695, "
                    "art. 22(2))")
    assert run("applications", "add", "#1", "HORIZON-CL5-2027-03-D5-05", "--amount", "1200000",
               "--role", "partner") == (0, f"Added application #2: idea #1 -> call #{horizon} (draft)\n",
                                        f"Warning: {horizon_rule}\n")
    assert run("applications", "move", "1", "consortium", "--note", "partners agreed") == (
        0, "Application #1: draft -> consortium\n", "")
    assert run("applications", "list") == (0, (
        "ID  Idea              Call  Status      Role         Amount  Deadline    Days\n"
        f" 1  Hydrogen ferries     {bsr}  consortium  coordinator   €250k  2026-10-15    54\n"
        f" 2  Hydrogen ferries     {horizon}  draft       partner       €1.2M  2026-11-04    74\n"),
        f"Warning: application #2: {horizon_rule}\n")
    assert run("applications", "show", "1") == (0, (
        "Application #1: Hydrogen ferries\n"
        f"Call:      #{bsr} Small projects: green shipping and ports in the Baltic Sea Region\n"
        "Programme: Interreg Baltic Sea Region\n"
        "Status:    consortium\n"
        "Role:      coordinator\n"
        "Owner:     anna\n"
        "Requested: €250k\n"
        "Deadline:  2026-10-15 12:00 Brussels (54 days left)\n"
        "Consortium:\n"
        "  #1 RISE (SE, partner)\n"
        "  #2 Kiel University (DE, partner)\n"
        "History:\n"
        f"  2026-08-22 09:00  anna  - -> draft; created for call #{bsr}             \n"
        "  2026-08-22 09:00  anna  partner #1 RISE joined as partner           \n"
        "  2026-08-22 09:00  anna  partner #2 Kiel University joined as partner\n"
        "  2026-08-22 09:00  anna  draft -> consortium; partners agreed        \n"), "")
    assert run("deadlines", "--weeks", "12") == (0, (
        "What  ID  Title             Deadline (Brussels)  Days  Status    \n"
        "app    1  Hydrogen ferries  2026-10-15 12:00       54  consortium\n"
        "app    2  Hydrogen ferries  2026-11-04 17:00       74  draft     \n"), "")
    assert run("deadlines", "--weeks", "4") == (0, "", "Nothing due within 4 weeks.\n")
    for status in ("writing", "submitted", "granted"):
        assert run("applications", "move", "1", status)[0] == 0
    assert run("applications", "move", "2", "withdrawn", "--note", "coordinator dropped it") == (
        0, "Application #2: draft -> withdrawn\n", "")
    assert run("pipeline", "report") == (0, (
        "Applications: 2 (draft 0, consortium 0, writing 0, submitted 0, granted 1, \n"
        "rejected 0, withdrawn 1)\n"
        "Success rate: 100% (1 granted of 1 decided)\n"
        "Requested: €250k; granted: €250k\n"
        "\n"
        "Year  Programme                   Apps  Requested  Granted  Success\n"
        "2026  Horizon Europe                 1         €0       €0         \n"
        "2026  Interreg Baltic Sea Region     1      €250k    €250k     100%\n"), "")
    code, out, _ = run("pipeline", "report", "--json")
    report = json.loads(out)
    assert code == 0 and (report["success_rate"], report["decided"], report["granted"]) == (1.0, 1, 250000.0)


def test_applications_bad_input(run, ids) -> None:
    assert run("applications", "add", "9", str(ids["bsr"])) == (
        2, "", "Error: no idea with id 9; see `fundradar ideas list`\n")
    assert run("applications", "add", "1", "999") == (
        2, "", "Error: no call with id '999'; see `fundradar calls list`\n")
    assert run("applications", "add", "1", str(ids["bsr"]), "--partner", "1:boss") == (
        2, "", "Error: unknown consortium role 'boss'; use one of coordinator, partner, associated, "
               "subcontractor\n")
    assert run("applications", "list") == (0, "", NO_APPLICATIONS)  # nothing half-stored
    assert run("applications", "add", "1", str(ids["bsr"]))[0] == 0
    assert run("applications", "move", "#1", "submitted") == (
        2, "", "Error: application #1 cannot move from draft to submitted; from draft it can go to "
               "consortium, withdrawn\n")
    assert run("applications", "move", "1", "won") == (
        2, "", "Error: unknown status 'won'; use one of draft, consortium, writing, submitted, granted, "
               "rejected, withdrawn\n")
    assert run("applications", "show", "3") == (
        2, "", "Error: no application with id 3; see `fundradar applications list`\n")
    assert run("applications", "move", "1", "withdrawn")[0] == 0
    assert run("applications", "move", "1", "draft") == (
        2, "", "Error: application #1 cannot move from withdrawn to draft; withdrawn is final\n")
    assert run("deadlines", "--weeks", "0") == (0, "", "Nothing overdue.\n")


def test_moved_call_deadline_is_flagged_and_exported(run, ids, engine, tmp_path) -> None:
    bsr = ids["bsr"]
    assert run("applications", "add", "1", str(bsr))[0] == 0
    ics = tmp_path / "deadlines.ics"
    assert run("export", "ical", str(ics)) == (0, f"Wrote 1 deadline to {ics}\n", "")
    event = icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT")[0]
    assert (str(event["UID"]), event["SEQUENCE"]) == ("application-1-deadline-1@fundradar", 0)
    sync(engine, "euro_access", [bsr_call("2026-10-29T12:00")], NOW + timedelta(days=1))
    # the main job's step after storing flags the move; the read commands below only show it
    follow_and_score(engine, load_config(), NOW + timedelta(days=1))
    later = "2026-08-23T09:00+02:00"
    assert run("applications", "list", as_of=later) == (0, (
        "ID  Idea              Call  Status  Role         Amount  Deadline     Days\n"
        f" 1  Hydrogen ferries     {bsr}  draft   coordinator          2026-10-29!    67\n"),
        "Warning: application #1: the consortium has 1 entity from 1 country; Interreg Baltic Sea Region "
        "needs ≥ 3 from 3 countries (Interreg Baltic Sea Region Programme Manual 2021-2027: at least three "
        "partners from three countries of the programme area)\n")
    assert run("applications", "show", "1", as_of=later) == (0, (
        "Application #1: Hydrogen ferries\n"
        f"Call:      #{bsr} Small projects: green shipping and ports in the Baltic Sea Region\n"
        "Programme: Interreg Baltic Sea Region\n"
        "Status:    draft\n"
        "Role:      coordinator\n"
        "Owner:     anna\n"
        "Deadline:  2026-10-29 12:00 Brussels (67 days left)\n"
        "           MOVED: see History; run `fundradar applications ack 1`\n"
        "Warning: the consortium has 1 entity from 1 country; Interreg Baltic Sea Region \n"
        "needs ≥ 3 from 3 countries (Interreg Baltic Sea Region Programme Manual \n"
        "2021-2027: at least three partners from three countries of the programme area)\n"
        "History:\n"
        f"  2026-08-22 09:00  anna       - -> draft; created for call #{bsr}                  \n"
        "  2026-08-23 09:00  fundradar  call deadline moved: 2026-10-15 12:00 ->         \n"
        "                               2026-10-29 12:00                                 \n"), "")
    assert run("export", "ical", str(ics), as_of=later) == (0, f"Wrote 1 deadline to {ics}\n", "")
    event = icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT")[0]
    assert (str(event["UID"]), event["SEQUENCE"]) == ("application-1-deadline-1@fundradar", 1)
    assert event.decoded("DTSTART").isoformat() == "2026-10-29T12:00:00+01:00"
    assert run("applications", "ack", "1", as_of=later) == (
        0, "Application #1: deadline change acknowledged\n", "")
    assert run("applications", "ack", "1", as_of=later) == (
        0, "", "Application #1: nothing to acknowledge; its deadline has not moved\n")
    code, out, _ = run("applications", "list", as_of=later)
    assert "2026-10-29 " in out and "!" not in out


COMMANDS = [("ideas", "add"), ("ideas", "list"), ("ideas", "show"), ("ideas", "edit"), ("ideas", "calls"),
            ("partners", "add"), ("partners", "list"), ("partners", "show"), ("partners", "edit"),
            ("partners", "import"), ("partners", "suggest"), ("applications", "add"),
            ("applications", "list"), ("applications", "show"), ("applications", "edit"),
            ("applications", "move"),
            ("applications", "ack"), ("applications", "consortium"), ("deadlines",),
            ("pipeline", "report"), ("export", "ical")]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(cli, command: tuple[str, ...]) -> None:
    result = cli(*command, "--help")
    assert result.exit_code == 0
    assert "Example: fundradar " + " ".join(command) in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_listings_fit_80_columns_with_long_names(run, ids) -> None:
    long = "A very long organisation name that goes on and on, Aktieselskab " * 2
    assert run("partners", "add", long, "--country", "DK", "--type", "large",
               "--competence", "offshore wind, hydrogen, ports, robotics")[0] == 0
    for args in (("partners", "list"), ("ideas", "list"), ("applications", "list"), ("deadlines",)):
        code, out, _ = run(*args)
        assert code == 0 and all(len(line) <= 80 for line in out.splitlines()), args
    assert root_app is not None
