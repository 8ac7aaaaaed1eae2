"""The mistakes a secretariat makes when it writes its first strategy from the README: each gets one
line naming the file, the line and the key, and saying what to write instead (not the parser's own
words: a tab was "found character '\\t' that cannot start any token", a duplicated focus area quoted
its whole value and said to check indentation and quoting)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "config" / "strategy.example.yaml").read_text(encoding="utf-8")
FOOD_KEYWORDS = ("    keywords: [food, agriculture, alternative proteins, fermentation, biorefinery, "
                 "bio-based products,\n               fødevarer, landbrug]\n")


@pytest.mark.parametrize("change, message", [
    (("  min_funding_rate: 0.50", "\tmin_funding_rate: 0.50"),
     "66: a tab at column 1; YAML indents with spaces only: replace the tab with spaces"),
    ((FOOD_KEYWORDS, "    keywords: food, agriculture, fermentation\n"),
     "49: focus_areas.food_bio.keywords: expected a list, got 'food, agriculture, fermentation'; write "
     "it in brackets: [food, agriculture, fermentation]"),
    (("      landbrug: [agriculture, farming]", "      landbrug: agriculture"),
     "53: focus_areas.food_bio.synonyms.landbrug: expected a list, got 'agriculture'; write it in "
     "brackets: [agriculture]"),
    (("  digital_industry:\n", "  food_bio:\n"),
     "56: focus_areas.food_bio: given twice (first on line 47); each name may appear once in a section: "
     "rename one of them or merge them"),
    (("      top: 5\n", "      top: 5\n      top: 6\n"),
     "133: slack.digests[1].top: given twice (first on line 132); each name may appear once in a "
     "section: rename one of them or merge them"),
    (("min_funding_rate: 0.50", "min_funding_rate: 70  "),
     "66: rules.min_funding_rate: input should be less than or equal to 1, got 70; rates and scores are "
     "fractions: write 0.7 for 70 %"),
    (("min_success_rate: 0.10", "min_success_rate: 10 %"),
     "65: rules.min_success_rate: input should be a valid number, unable to parse string as a number, "
     "got '10 %'; rates are fractions: write 0.1 for 10 %"),
    (("alert_threshold: 0.35", "alert_threshold: 35  "),
     "36: focus_areas.offshore_energy.alert_threshold: input should be less than or equal to 1, got 35; "
     "rates and scores are fractions: write 0.35 for 35 %"),
    (("budget_max: 15000000", "budget_max: 15.000.000"),
     "70: rules.budget_max: input should be a valid number, unable to parse string as a number, got "
     "'15.000.000'; write the number without thousands separators: 15000000"),
    (("budget_min: 50000", "budget_min: 50000000"),
     "64: rules: budget_min 50,000,000 is larger than budget_max 15,000,000; they are the smallest and "
     "the largest grant per project in EUR: swap them or correct one"),
    (("    type: euro_access\n", "    type: euroaccess\n"),
     "98: sources.euro_access.type: unknown source type 'euroaccess'; did you mean 'euro_access'? "
     "expected one of eu_ft, euro_access, feed, html_list, ical, page_watch"),
    (("    exclude: [military, weapons]", "    exlude: [military, weapons]"),
     "62: focus_areas.digital_industry.exlude: unknown key 'exlude'; did you mean 'exclude'?"),
    (("home_country: DK", "home_country: Denmark"),
     "10: home_country: 'Denmark' is not a country code: write two capital letters (ISO 3166), such as "
     "DK, SE or DE"),
    (("name: greentech-dk ", "name: GreenTech DK  "),
     "7: name: 'GreenTech DK' is not a strategy's short id: write lower case a-z, digits, - and _ "
     "(greentech-dk); organisation: is the name people read"),
    (("  food_bio:\n", "  Food and bio:\n"),
     "47: focus_areas.Food and bio[key]: 'Food and bio' is not a focus area's name: write lower case "
     "a-z, digits and _ (food_and_bio); its label: is the name people read"),
    # æ, ø and å are lower case letters to a Danish secretariat: the line says which to write
    (("  food_bio:\n", "  fødevarer_og_grøn_omstilling:\n"),
     "47: focus_areas.fødevarer_og_grøn_omstilling[key]: 'fødevarer_og_grøn_omstilling' is not a focus "
     "area's name: write lower case a-z, digits and _ (foedevarer_og_groen_omstilling); its label: is "
     "the name people read"),
    (("name: greentech-dk ", "name: grøn-tech  "),
     "7: name: 'grøn-tech' is not a strategy's short id: write lower case a-z, digits, - and _ "
     "(groen-tech); organisation: is the name people read"),
    (('    - channel: "#eu-fundraising"', "    - channel: #eu-fundraising"),
     "126: slack.digests[0].channel: no channel name: a # starts a comment in YAML, so quote the name: "
     '"#eu-funding"'),
    (("    exclude: [fisheries control]", "   exclude: [fisheries control]"),
     "54: this line is indented differently from the lines around it; indent it with as many spaces as "
     "the other keys of its section"),
    (("label: Green shipping and ports", "label: Green shipping: ports"),
     "39: a colon and a space inside a value; put the whole value in double quotes"),
    # YAML reads a bare 2030, true or 2030-01-01 as a number, a boolean or a date, not as text
    (("[artificial intelligence, robotics,", "[5G, 2030, robotics,"),
     '58: focus_areas.digital_industry.keywords[1]: input should be a valid string, got 2030; it is read '
     'as a number: put it in quotes to keep it as text: "2030"'),
    (("[artificial intelligence, robotics,", "[true, robotics,"),
     '58: focus_areas.digital_industry.keywords[0]: input should be a valid string, got True; it is read '
     'as true/false: put it in quotes to keep it as text: "true"'),
    (("[artificial intelligence, robotics,", "[1e3, robotics,"),
     "58: focus_areas.digital_industry.keywords[0]: input should be a valid string, got 1000.0; it is "
     "read as a number: put it in quotes to keep it as text: as you wrote it"),
    (("label: Green shipping and ports", "label: 2030-01-01"),
     '39: focus_areas.green_maritime.label: input should be a valid string, got 2030-01-01; it is '
     'read as a date: put it in quotes to keep it as text: "2030-01-01"'),
    (("timezone: Europe/Copenhagen", "timezone: Copenhagen"),
     "9: timezone: unknown time zone 'Copenhagen'; use an IANA name such as Europe/Copenhagen"),
    # two digests in one channel shared their delivery key (the second was never sent) and serve's job
    (('    - channel: "#energy-projects"', '    - channel: "eu-fundraising"'),
     "125: slack.digests: channel '#eu-fundraising' is given two digests (the 1st and the 2nd); give each "
     "digest its own channel (a digest's focus_areas choose what it lists)"),
])
def test_a_secretariat_mistake_is_one_line_saying_what_to_write(tmp_path: Path, cli, change,
                                                               message) -> None:
    assert EXAMPLE.count(change[0]) == 1
    path = tmp_path / "strategy.yaml"
    path.write_text(EXAMPLE.replace(*change), encoding="utf-8")
    result = cli("--config", str(path), "config", "check")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: {path}:{message}\n"


@pytest.mark.parametrize("indent, message", [
    ("  ", "a source named 'sources': the copied file's own 'sources:' line came along; keep only the "
           "entries under it, indented as the other sources"),
    ("", "sources: given twice (first on line 82); each name may appear once in a section: rename one of "
         "them or merge them"),
])
def test_a_ready_made_source_file_pasted_whole(tmp_path: Path, cli, indent: str, message: str) -> None:
    """config/sources/README.md says to copy a file's entries under the strategy's sources:; pasting
    the whole file brings its own 'sources:' line, under the strategy's or as a second one."""
    ready = (ROOT / "config" / "sources" / "mudp.yaml").read_text(encoding="utf-8")
    pasted = "".join(indent + line if line.strip() else line for line in ready.splitlines(True))
    text = EXAMPLE.replace("\nslack:", "\n" + pasted + "\nslack:") if indent else EXAMPLE + pasted
    path = tmp_path / "strategy.yaml"
    path.write_text(text, encoding="utf-8")
    line = max(number for number, text_line in enumerate(text.splitlines(), 1)
               if text_line == indent + "sources:")  # the pasted one
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: {path}:{line}: " + (f"sources.sources: {message}\n" if indent
                                                          else f"{message}\n")


def test_terms_that_do_nothing_or_undo_the_area_are_named(tmp_path: Path, cli) -> None:
    """A keyword of which the matcher keeps no word ("on", a YAML 1.1 boolean written as a keyword;
    "..."; blanks) is named as such, not as a keyword without an English synonym; an exclude term
    that is (in) a keyword zeroes every call with that keyword, whatever its case or plural."""
    text = EXAMPLE.replace("[artificial intelligence, robotics,",
                           '[artificial intelligence, robotics, on, "...", "   ",')
    text = text.replace("    exclude: [military, weapons]", "    exclude: [military, Robotic, the]")
    text = text.replace("    exclude: [military vessels]", "    exclude: [military vessels, harbour]")
    path = tmp_path / "strategy.yaml"
    path.write_text(text, encoding="utf-8")
    result = cli("--config", str(path), "config", "check")
    assert result.exit_code == 0, result.stderr
    lines = text.splitlines()
    keywords = next(n for n, line in enumerate(lines, 1) if "robotics, on," in line)
    exclude = next(n for n, line in enumerate(lines, 1) if "Robotic, the" in line)
    maritime = next(n for n, line in enumerate(lines, 1) if "military vessels, harbour" in line)
    dead = ("has no word the matcher searches (stop words such as 'on', 'no' and 'the', punctuation and "
            "spaces are left out; write the term as the calls say it, or remove it)")
    for number, shown in ((2, "'on'"), (3, "'...'"), (4, "'   '")):
        assert f"Warning: {path}:{keywords}: focus_areas.digital_industry.keywords[{number}]: keyword " \
               f"{shown} {dead}\n" in result.stderr
    assert f"Warning: {path}:{exclude}: focus_areas.digital_industry.exclude[1]: exclude 'Robotic' is in " \
           "keyword 'robotics': every call with it scores 0 here; remove the term from exclude: or from " \
           "keywords:\n" in result.stderr
    assert f"Warning: {path}:{exclude}: focus_areas.digital_industry.exclude[2]: exclude 'the' has no word " \
           "to look for (stop words such as 'on', 'no' and 'the', punctuation and spaces are left out; " \
           "write the term as the calls say it, or remove it)\n" in result.stderr
    assert f"Warning: {path}:{maritime}: focus_areas.green_maritime.exclude[1]: exclude 'harbour' is in " \
           "keyword 'havne' (its synonym 'harbours'): every call with it scores 0 here; remove the term " \
           "from exclude: or from keywords:\n" in result.stderr
    assert "synonym" not in "".join(line for line in result.stderr.splitlines() if "'on'" in line)
    assert "Traceback" not in result.stderr


def test_a_very_long_keyword_is_quoted_short(tmp_path: Path, cli) -> None:
    path = tmp_path / "strategy.yaml"
    long = "keywords: [" + "skovsnegleæg" * 500 + ","
    path.write_text(EXAMPLE.replace("keywords: [artificial intelligence,", long), encoding="utf-8")
    result = cli("--config", str(path), "config", "check")
    assert result.exit_code == 0
    warned = [line for line in result.stderr.splitlines() if "keywords[0]" in line and "digital" in line]
    assert len(warned) == 1 and len(warned[0]) < 300 and "skovsneg... has no English" in warned[0]


def test_a_keyword_in_capitals_or_with_spaces_keeps_its_synonyms(tmp_path: Path, cli) -> None:
    """A keyword written "Brint" (or quoted with spaces) beside its synonym key "brint" is one term: it
    keeps its translation in one unit (it had two, the keyword counting twice), and config check does
    not call the key 'not a keyword; did you mean 'Brint'?'."""
    from classifiers.query import focus_area_query
    from pipeline.core.config import load_config

    text = EXAMPLE.replace("electricity grid, havvind, brint,", 'electricity grid, " Havvind", Brint,')
    assert text != EXAMPLE
    path = tmp_path / "strategy.yaml"
    path.write_text(text, encoding="utf-8")
    result = cli("--config", str(path), "config", "check")
    assert result.exit_code == 0
    assert "synonym" not in result.stderr
    original = tmp_path / "original.yaml"
    original.write_text(EXAMPLE, encoding="utf-8")

    def units(file: Path) -> list[set[str]]:
        area = load_config(file).strategy.focus_areas["offshore_energy"]
        return [{" ".join(term.split()).casefold() for term in unit}
                for unit in focus_area_query("offshore_energy", area).units()]

    assert units(path) == units(original)
