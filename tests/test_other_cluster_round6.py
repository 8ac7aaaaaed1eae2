"""Other clusters' strategies, round six: a Danish defence, security and space cluster
(tests/fixtures/strategies/other_cluster_round6/, its README says how it was written) whose calls are
mostly of programmes the example strategy does not read (the European Defence Fund), through the
commands a secretariat and a fundraiser run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROUND6 = Path(__file__).resolve().parent / "fixtures" / "strategies" / "other_cluster_round6"
FORSVAR = (ROUND6 / "forsvar.yaml").read_text(encoding="utf-8")
RECORDING = "eu_ft/search_2026-08-22"


@pytest.fixture
def forsvar_synced(cli, samples: Path) -> tuple[str, ...]:
    """The defence cluster's strategy on the 2026-08-22 recording, synced and scored."""
    base = ("--config", str(ROUND6 / "forsvar.yaml"), "--as-of", "2026-08-22")
    result = cli(*base, "sync", "--replay", str(samples / RECORDING))
    assert result.exit_code == 0, result.stderr
    return base


@pytest.mark.slow
def test_strategy_report_says_an_unknown_expected_value_is_unknown(cli,
                                                                   forsvar_synced: tuple[str, ...]) -> None:
    """funding_rules.yaml has no rates for the European Defence Fund: the board report gave the defence
    area's 20 calls and €994M of budget an expected value of €0, as if they were worth nothing."""
    rows = {row["focus_area"]: row for row in json.loads(cli(*forsvar_synced, "strategy", "report",
                                                             "--json").stdout)}
    defence = rows["forsvarsteknologi"]
    assert defence["matching_calls"] > 0 and defence["expected_value"] == 0.0
    assert defence["unknown_expected_value"] > 0
    assert rows["rumfart"]["unknown_expected_value"] == 0 and rows["rumfart"]["expected_value"] > 0
    result = cli(*forsvar_synced, "strategy", "report")
    assert result.exit_code == 0, result.stderr
    table = {line.split("  ")[0]: line for line in result.stdout.splitlines()}
    assert table["Forsvarsteknologi og dual-use"].split()[-2:] == ["unknown", "0"]
    assert table["Rumfart og satellitter"].split()[-2:] == ["€2.0M", "0"]
    mixed = [line for line in result.stdout.splitlines() if line.startswith("Civilt beredskab")]
    unknown = rows["civilt_beredskab"]["unknown_expected_value"]
    assert f"+ {unknown} unknown" in mixed[0]


@pytest.mark.slow
def test_a_long_list_of_synonyms_is_not_cut_inside_a_term(cli, forsvar_synced: tuple[str, ...]) -> None:
    """The warning quoted the synonyms cut at 60 characters with the quote mark's place taken by a dot:
    '(underwater drones, unmanned underwater vehicles, autonom..)'."""
    result = cli(*forsvar_synced, "config", "check")
    assert result.exit_code == 0, result.stderr
    line = next(line for line in result.stderr.splitlines() if "'undervandsdroner'" in line)
    assert line.endswith("keywords[3]: 'undervandsdroner' and its synonyms (underwater drones, unmanned "
                         "underwater vehicles and 1 more) match none of the 587 stored calls")


@pytest.mark.parametrize("written", ["EDF", "Lump Sum"])
def test_a_programmes_own_type_of_action_is_told_its_code(tmp_path: Path, cli, written: str) -> None:
    """A defence cluster allowing the European Defence Fund's actions wrote 'EDF' and was told only the
    list of codes, none of which says it covers 'EDF Research Actions' (OTHER does)."""
    path = tmp_path / "strategy.yaml"
    path.write_text(FORSVAR.replace("[RIA, IA, CSA, OTHER]", f"[RIA, IA, CSA, {written}]"), encoding="utf-8")
    line = next(n for n, text in enumerate(FORSVAR.splitlines(), 1) if "allowed_action_types" in text)
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines()[0] == (
        f"Error: {path}:{line}: rules.allowed_action_types[3]: unknown type of action {written!r}; a type of "
        "action written so has the code 'OTHER', which allows every type no other code names (the portal's "
        "'EDF Research Actions', 'LIFE Project Grants', prizes, ...); use codes from COFUND, PCP, ERC, MSCA, "
        "EIC, CSA, IA, RIA, INTERREG, IE, NATIONAL, OTHER")


JUDGED = ROUND6 / "judged_forsvar_2026-08-22.json"
FORSVAR_PROGRAMMES = {"Horizon Europe": "43108390", "Digital Europe": "43152860",
                      "European Defence Fund": "44181033", "Internal Security Fund": "43252368"}


@pytest.mark.slow
def test_eval_judged_names_the_programmes_of_graded_calls_it_does_not_read(cli, samples: Path) -> None:
    """eval --judged replays the recording with the example strategy's programmes: the defence
    cluster's 15 graded European Defence Fund calls were never read, maritim_sikkerhed measured 0.000,
    and the note said only 'another programme, or closed'."""
    result = cli("eval", "--judged", str(JUDGED), "--feedback", "0")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "Note: 15 graded calls are of programmes the replay does not read (European Defence Fund (EDF) 15): "
        "without programmes: in the file it reads the example strategy's; to measure them, list every "
        "programme the strategy reads there, e.g. \"programmes\": {\"Horizon Europe\": \"43108390\", "
        "\"European Defence Fund (EDF)\": \"44181033\"}")
    report = json.loads(cli("eval", "--judged", str(JUDGED), "--feedback", "0", "--json").stdout)
    assert report["unread_programmes"] == {"European Defence Fund (EDF)": {"id": "44181033", "graded": 15}}


@pytest.mark.slow
def test_eval_judged_reads_the_programmes_the_file_names(cli, tmp_path: Path, samples: Path) -> None:
    data = json.loads(JUDGED.read_text(encoding="utf-8"))
    path = tmp_path / "judged.json"
    path.write_text(json.dumps({**data, "programmes": FORSVAR_PROGRAMMES}), encoding="utf-8")
    result = cli("eval", "--judged", str(path), "--feedback", "0", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["calls"] == 587  # what the strategy's own eu_ft source reads of the recording
    assert report["unread_programmes"] == {}
    assert report["coverage"]["maritim_sikkerhed"] == {"graded": 15, "not_in_recording": 0, "not_listed": 0}
    assert report["per_area"]["matcher"]["maritim_sikkerhed"]["ndcg10"] > 0.5


@pytest.mark.parametrize("written, kind", [(["44181033"], "a list"), ("EDF", "text"),
                                           ({"European Defence Fund": ""}, "a mapping")])
def test_a_judged_files_programmes_written_otherwise_are_refused(cli, tmp_path: Path, samples: Path,
                                                                 written: object, kind: str) -> None:
    data = json.loads(JUDGED.read_text(encoding="utf-8"))
    path = tmp_path / "judged.json"
    path.write_text(json.dumps({**data, "programmes": written}, indent=1), encoding="utf-8")
    line = next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if '"programmes"' in text)
    result = cli("eval", "--judged", str(path))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: {path}:{line}: programmes: expected the eu_ft programmes the judged strategy reads as "
        f"label: frameworkProgramme id, e.g. {{\"European Defence Fund\": \"44181033\"}}, got {kind}\n")


@pytest.mark.slow
def test_a_programme_of_interest_of_hundreds_of_calls_is_warned_of(cli,
                                                                   forsvar_synced: tuple[str, ...]) -> None:
    """'Horizon Europe' among the programmes of interest filled the digest's 'Programmes we follow' with
    its ten calls closing first, scored 0.02 and turned down by the rules, '… and 499 more', every week,
    and config check said nothing."""
    result = cli(*forsvar_synced, "config", "check")
    assert result.exit_code == 0, result.stderr
    line = next(n for n, text in enumerate(FORSVAR.splitlines(), 1)
                if text.startswith("programmes_of_interest"))
    warned = [text for text in result.stderr.splitlines() if "programmes_of_interest" in text]
    assert warned[1].startswith("Warning: ") and warned[1].endswith(
        f"forsvar.yaml:{line}: programmes_of_interest[1]: 'Horizon Europe' has 509 "
        "open or forthcoming stored calls: the digest's 'Programmes we follow' lists the 10 closing first "
        "whatever their score and counts the other 499; the section is for programmes of few calls "
        "(Interreg, national funders), the focus areas rank this one's; leave it out unless each of its "
        "calls matters")
    # the European Defence Fund (36 calls) and Digital Europe (39) too; the Internal Security Fund has 3
    assert [text.split(": ")[2] for text in warned] == [f"programmes_of_interest[{n}]" for n in (0, 1, 2)]


@pytest.mark.slow
def test_an_idea_in_danish_meets_the_calls_its_synonyms_translate(cli,
                                                                 forsvar_synced: tuple[str, ...]) -> None:
    """An idea without focus areas is matched on its text alone: written in Danish, as the secretariat
    writes its keywords, none of its words is in an English call and `ideas calls` answered 'No open call
    matches this idea.', though the strategy's synonyms say what 'modforanstaltninger mod droner' is."""
    added = cli(*forsvar_synced, "ideas", "add", "Modforanstaltninger mod droner til kritisk infrastruktur")
    assert added.exit_code == 0, added.stderr
    result = cli(*forsvar_synced, "ideas", "calls", "1", "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    first = rows[0]
    assert (first["title"], first["terms"][:2]) == ("Counter-drone systems", ["drone", "counter drone"])


def test_a_programme_of_interest_written_as_its_acronym_is_told_its_name(tmp_path: Path, cli) -> None:
    """The portal and the calls' identifiers say 'EDF' and 'ISF'; a programme of interest follows the
    calls whose programme name contains it, which 'EDF' is in none of, and the warning said only
    'check the spelling'."""
    path = tmp_path / "strategy.yaml"
    old = ("programmes_of_interest: [European Defence Fund, Horizon Europe, Digital Europe, "
           "Internal Security Fund]")
    assert old in FORSVAR
    path.write_text(FORSVAR.replace(old, "programmes_of_interest: [EDF, ISF]"), encoding="utf-8")
    line = next(n for n, text in enumerate(FORSVAR.splitlines(), 1)
                if text.startswith("programmes_of_interest"))
    result = cli("--config", str(path), "config", "check")
    assert result.exit_code == 0, result.stderr
    warned = [text for text in result.stderr.splitlines() if "programmes_of_interest" in text]
    assert warned == [
        f"Warning: {path}:{line}: programmes_of_interest[{number}]: programme {written!r} matches no known "
        f"programme (funding rules, sources, stored calls); did you mean {meant!r}?"
        for number, (written, meant) in enumerate([("EDF", "European Defence Fund"),
                                                   ("ISF", "Internal Security Fund")])]
