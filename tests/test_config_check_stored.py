"""``fundradar config check`` against stored calls: keywords and exclude terms no stored call has,
programmes of interest no programme contains, synonyms that are not keywords. The database is the
recorded EU portal listing of 2026-08-22 (../shared/samples, 611 calls) synced through the CLI; the
config is the shipped example with one change per test."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.main import app

EXAMPLE = (Path(__file__).resolve().parents[1] / "config" / "strategy.example.yaml").read_text(
    encoding="utf-8")
NO_DATABASE = ("Note: no database at D: keywords and exclude terms not checked against stored calls; run "
               "fundradar sync, then check again")


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory, samples: Path) -> Iterator[Path]:
    """A database with the recorded listing, made once for the module (the checks only read it)."""
    path = tmp_path_factory.mktemp("stored") / "fundradar.db"
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{path}", "--config", "config/strategy.example.yaml",
                                      "sync", "--source", "eu_ft", "--replay",
                                      str(samples / "eu_ft" / "search_2026-08-22")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    yield path


def check(database: Path, tmp_path: Path, *changes: tuple[str, str]) -> tuple[int, str, list[str]]:
    """Exit code, stdout and stderr lines of ``config check`` on the example with ``changes``; the
    strategy file is shown as S, the database as D."""
    text = EXAMPLE
    for old, new in changes:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "strategy.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{database}", "--config", str(path), "config",
                                      "check"], catch_exceptions=False)
    err = result.stderr.replace(str(path), "S").replace(str(database), "D")
    return result.exit_code, result.stdout.replace(str(path), "S"), err.splitlines()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_shipped_example_without_a_database(tmp_path: Path) -> None:
    database = tmp_path / "absent.db"
    code, out, err = check(database, tmp_path)
    assert (code, err) == (0, [NO_DATABASE])
    assert out == ("S: OK\n"
                   "strategy greentech-dk (GreenTech Cluster Denmark (example)): 4 focus areas, 5 sources, "
                   "2 digest channels\n"
                   "funding rules: 20 programmes\n")
    assert not database.exists()  # the check never creates one


def test_the_shipped_example_on_the_recorded_calls(synced: Path, tmp_path: Path) -> None:
    before = digest(synced)
    code, out, err = check(synced, tmp_path)
    assert code == 0 and out.startswith("S: OK\n")
    assert digest(synced) == before  # read only
    # the recorded listing has no offshore wind call and says "diffusion", never "nuclear fusion"
    assert err[:2] == [
        "Warning: S:22: focus_areas.offshore_energy.keywords[0]: 'offshore wind' matches none of the 611 "
        "stored calls",
        "Warning: S:22: focus_areas.offshore_energy.keywords[1]: 'wind turbines' matches none of the 611 "
        "stored calls"]
    # words the calls have, spelt right: no advice to check the spelling of the shipped example
    assert not any("check the spelling" in line for line in err), err
    assert "Warning: S:34: focus_areas.offshore_energy.exclude[4]: exclude 'nuclear fusion' matches no " \
           "stored call" in err
    assert not any("'hydrogen'" in line or "'small modular reactors'" in line for line in err)
    assert not any("has no English synonym" in line for line in err)  # every Danish keyword has one


def test_a_danish_keyword_without_a_synonym(synced: Path, tmp_path: Path) -> None:
    change = ("electricity grid, havvind, brint, sektorkobling]",
              "electricity grid, havvind, brint, sektorkobling, flydende havvind, hydrogne]")
    code, _, err = check(synced, tmp_path, change)
    assert code == 0
    assert ("Warning: S:23: focus_areas.offshore_energy.keywords[10]: keyword 'flydende havvind' matches no "
            "stored call and is no word of the English calls; if it is not English, add an English synonym "
            "under synonyms:") in err
    # a misspelled English word is one letter from the calls' "hydrogen": a spelling mistake
    assert ("Warning: S:23: focus_areas.offshore_energy.keywords[11]: 'hydrogne' matches none of the 611 "
            "stored calls; check the spelling: did you mean 'hydrogen'?") in err
    # with its translation it is the translation that is searched for
    code, _, err = check(synced, tmp_path, change,
                         ("      havvind: [offshore wind]", "      havvind: [offshore wind]\n"
                                                            "      flydende havvind: [floating wind]"))
    assert ("Warning: S:23: focus_areas.offshore_energy.keywords[10]: 'flydende havvind' and its synonyms "
            "(floating wind) match none of the 611 stored calls") in err
    assert not any("has no English synonym" in line for line in err)


def test_a_danish_keyword_without_a_synonym_before_the_first_sync(tmp_path: Path) -> None:
    """Before the first sync (no database) a keyword with a Danish letter and no synonym was let
    through: the secretariat learnt only after a sync that English calls never match it."""
    change = ("electricity grid, havvind, brint, sektorkobling]",
              "electricity grid, havvind, brint, sektorkobling, grønne tage, bølgekraft, floating wind]")
    code, out, err = check(tmp_path / "absent.db", tmp_path, change,
                           ("      havvind: [offshore wind]", "      havvind: [offshore wind]\n"
                                                            "      wave power: [bølgekraft]"))
    assert code == 0 and out.startswith("S: OK\n")
    # a translation either way counts ("wave power: [bølgekraft]"); an English keyword needs none
    assert err == ["Warning: S:23: focus_areas.offshore_energy.keywords[10]: keyword 'grønne tage' has no "
                   "English synonym, so English calls cannot match it; add a synonym under synonyms:",
                   NO_DATABASE]


def test_an_english_keyword_no_call_says_is_not_called_foreign(synced: Path, tmp_path: Path) -> None:
    """An English keyword no call of the day says ("vaccines") was told it "has no English synonym",
    and "medtech" was told to check its spelling against the calls' "edtech": both real words."""
    code, _, err = check(synced, tmp_path, ("sektorkobling]", "sektorkobling, vaccines, medtech]"))
    assert code == 0
    assert ("Warning: S:23: focus_areas.offshore_energy.keywords[10]: keyword 'vaccines' matches no stored "
            "call and is no word of the English calls; if it is not English, add an English synonym under "
            "synonyms:") in err
    medtech = [line for line in err if "keywords[11]" in line]
    assert medtech and "check the spelling" not in medtech[0], medtech


def test_a_danish_letter_is_enough_to_tell_the_language(tmp_path: Path, engine) -> None:
    from tests.test_applications import bsr_call, sync

    sync(engine, "euro_access", [bsr_call()])  # one call: too few to know English vocabulary
    database = Path(engine.url.database)
    code, _, err = check(database, tmp_path, ("sektorkobling]", "sektorkobling, bølgeenergi, wave power]"))
    assert code == 0
    assert ("Warning: S:23: focus_areas.offshore_energy.keywords[10]: keyword 'bølgeenergi' has no English "
            "synonym and matches no stored call; add a synonym under synonyms:") in err
    assert ("Warning: S:23: focus_areas.offshore_energy.keywords[11]: 'wave power' does not match the one "
            "stored call") in err


def test_an_exclude_term_no_call_says(synced: Path, tmp_path: Path) -> None:
    code, _, err = check(synced, tmp_path, ("nuclear fission]", "fission, fusion, modular reactor]"))
    assert code == 0
    assert [line for line in err if "exclude[" in line and "offshore_energy" in line] == [
        "Warning: S:34: focus_areas.offshore_energy.exclude[4]: exclude 'nuclear fusion' matches no stored "
        "call",
        "Warning: S:35: focus_areas.offshore_energy.exclude[5]: exclude 'fission' matches no stored call",
        # whole words as the matcher excludes: "diffusion" is not "fusion"
        "Warning: S:35: focus_areas.offshore_energy.exclude[6]: exclude 'fusion' matches no stored call"]
    # "modular reactor" fires on the calls' "small modular reactors" (plurals included)


@pytest.mark.parametrize("database", ["stored", "absent"])
def test_a_misspelled_programme_of_interest(synced: Path, tmp_path: Path, database: str) -> None:
    path = synced if database == "stored" else tmp_path / "absent.db"
    code, out, err = check(path, tmp_path, ("programmes_of_interest: [Interreg Baltic Sea Region",
                                            "programmes_of_interest: [Interreg Baltik Sea Region"))
    assert code == 0 and out.startswith("S: OK\n")
    assert ("Warning: S:77: programmes_of_interest[0]: programme 'Interreg Baltik Sea Region' matches no "
            "known programme (funding rules, sources, stored calls); did you mean 'Interreg Baltic Sea "
            "Region'?") in err


def test_a_programme_of_interest_is_part_of_a_known_name(synced: Path, tmp_path: Path) -> None:
    change = ("Danmarks Erhvervsfremmebestyrelse, ECCP]",
              "Danmarks Erhvervsfremmebestyrelse, ECCP, Interregional Innovation, Quantum Flagship]")
    code, _, err = check(synced, tmp_path, change)
    assert code == 0
    # a part of "Interregional Innovation Investments" (the eu_ft source's and its calls' programme)
    assert [line for line in err if "programmes_of_interest" in line] == [
        "Warning: S:80: programmes_of_interest[13]: programme 'Quantum Flagship' matches no known programme "
        "(funding rules, sources, stored calls); check the spelling"]


def test_synonyms_that_are_not_keywords(tmp_path: Path) -> None:
    code, _, err = check(tmp_path / "absent.db", tmp_path,
                         ("      havvind: [offshore wind]", "      havind: [offshore wind]"),
                         ("      landbrug: [agriculture, farming]",
                          "      landbrug: [agriculture, farming]\n      solceller: [solar cells]"))
    assert (code, err) == (0, [
        "Warning: S:25: focus_areas.offshore_energy.synonyms.havind: synonym 'havind' is not a keyword; did "
        "you mean 'havvind'?",
        "Warning: S:54: focus_areas.food_bio.synonyms.solceller: synonym 'solceller' is not a keyword and "
        "translates none; add it to keywords: (it is searched as a keyword of its own)",
        NO_DATABASE])


@pytest.mark.parametrize(("change", "message"), [
    (('schedule: {cron: "0 5 * * *"}', 'schedule: {cron: "0 25 * * *"}'),
     # the key names the source's type after its name, as every schema error inside a source does
     "Error: S:85: sources.eu_ft.schedule.cron: invalid cron hour field '25' (the last value (25) is "
     "higher than the maximum value (23)); e.g. '0 6 * * 1-5', got '0 25 * * *'"),
    (('- channel: "#energy-projects"', '- channel: "#energy projects"'),
     "Error: S:129: slack.digests[1].channel: '#energy projects' is not a Slack channel; write a name such "
     "as '#eu-funding' (lowercase, no spaces) or a channel id such as 'C0123ABCD'"),
])
def test_config_check_refuses_what_would_fail_when_due(tmp_path: Path, change: tuple[str, str],
                                                       message: str) -> None:
    assert check(tmp_path / "absent.db", tmp_path, change) == (2, "", [message])
