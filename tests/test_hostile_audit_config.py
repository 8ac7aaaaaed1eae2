"""Another cluster's strategy file with absurd numbers or in another encoding: `config check` and the
main job refuse it in one line naming the file, the line and the key (or the byte) and what to do;
before, a value such as 200,000 weeks passed the check and the next scoring died with a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "config" / "strategy.example.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("change, message", [
    (("min_weeks_before_deadline: 6", "min_weeks_before_deadline: 200000"),
     "rules.min_weeks_before_deadline: input should be less than or equal to 520, got 200000"),
    (("min_weeks_before_deadline: 6", "min_weeks_before_deadline: 1e308"),
     "rules.min_weeks_before_deadline: input should be less than or equal to 520"),
    # a lead time written with its unit: the key takes weeks as a number
    (("min_weeks_before_deadline: 6", "min_weeks_before_deadline: 2 weeks"),
     "got '2 weeks'; a number of weeks without a unit: write 2 for '2 weeks'"),
    (("min_weeks_before_deadline: 6", "min_weeks_before_deadline: 14d"),
     "got '14d'; a number of weeks without a unit: write 2 for '14d'"),
    (("min_weeks_before_deadline: 6", "min_weeks_before_deadline: six"),
     "got 'six'; a number of weeks without a unit: write 6 for six weeks"),
    (("reminder_days: [14, 7, 2]", "reminder_days: [14, 7, 100000000000]"),
     "slack.alerts.reminder_days[2]: input should be less than or equal to 3650"),
    (("    timezone: Europe/Oslo\n", "    timezone: Europe/Oslo\n    timeout_seconds: 1e308\n"),
     "sources.interreg_no_calendar.timeout_seconds: input should be less than or equal to 3600"),
])
@pytest.mark.parametrize("command", [["config", "check"], ["score"]])
def test_absurd_numbers_are_refused_in_one_line(tmp_path: Path, cli, engine, change, message,
                                                command) -> None:
    assert EXAMPLE.count(change[0]) == 1
    path = tmp_path / "strategy.yaml"
    path.write_text(EXAMPLE.replace(*change), encoding="utf-8")
    result = cli("--config", str(path), *command)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}:") and message in lines[0], lines


# every hint must name a value the key accepts: "150 %" was told "write 1.5" (refused), 150 got no
# hint and 1.5 was told "write 0.015" although nobody means a rate of 1.5 %
@pytest.mark.parametrize("written, message", [
    ("150 %", "got '150 %'; a rate is at most 100 %: write a fraction up to 1, 0.7 for 70 %"),
    ("150", "got 150; a rate is at most 100 %: write a fraction up to 1, 0.7 for 70 %"),
    ("1.5", "got 1.5; a rate is at most 100 %: write a fraction up to 1, 0.7 for 70 %"),
    ("70", "got 70; rates and scores are fractions: write 0.7 for 70 %"),
    ("70 %", "got '70 %'; rates are fractions: write 0.7 for 70 %"),
])
def test_a_rate_hint_names_a_value_that_is_accepted(tmp_path: Path, cli, engine, written: str,
                                                    message: str) -> None:
    change = ("min_funding_rate: 0.50", f"min_funding_rate: {written}")
    assert EXAMPLE.count(change[0]) == 1
    path = tmp_path / "strategy.yaml"
    path.write_text(EXAMPLE.replace(*change), encoding="utf-8")
    result = cli("--config", str(path), "config", "check")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "rules.min_funding_rate" in lines[0] and message in lines[0], lines


@pytest.mark.parametrize("encoding, detail", [("cp1252", "byte 0x97 on line 1"),
                                              ("utf-16", "byte 0xff on line 1")])
def test_a_strategy_file_not_in_utf8_says_so_and_how_to_fix_it(tmp_path: Path, cli, encoding: str,
                                                               detail: str) -> None:
    path = tmp_path / "strategy.yaml"
    path.write_bytes(EXAMPLE.replace("Öresund", "Øresund").encode(encoding))
    result = cli("--config", str(path), "config", "check")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {path}: the file is not UTF-8 text ({detail}); save it as UTF-8 "
                             "in your editor and try again\n")


FEED_URL = "    url: https://interreg-baltic.eu/feed/\n"


@pytest.mark.parametrize("change, message", [
    ((FEED_URL, "    url: ftp://interreg-baltic.eu/feed/\n"),
     "sources.interreg_bsr_news.url: not a web address; write it with http:// or https://"),
    ((FEED_URL, "    url: interreg-baltic.eu/feed\n"),
     "sources.interreg_bsr_news.url: not a web address; write it with http:// or https://"),
    ((FEED_URL, "    url: 'http://[::1/feed'\n"),
     "sources.interreg_bsr_news.url: not a URL (Invalid IPv6 URL); write the page's address"),
    (("      - https://www.bsr-stars.eu/\n", "      - www.bsr-stars.eu\n"),
     "sources.innovation_express.pages[0]: not a web address"),
    (("    type: feed\n", "    type: rss\n"),
     "sources.interreg_bsr_news.type: unknown source type 'rss'; did you mean 'feed'? expected one of "
     "eu_ft, euro_access, feed, html_list, ical, page_watch"),
    (("    type: feed\n", "    kind: feed\n"),
     "sources.interreg_bsr_news: source needs a type: one of eu_ft, euro_access, feed, html_list, ical"),
    (("    type: feed\n", "    type: feed\n    timezone: Europe/Oslo\n"),
     "sources.interreg_bsr_news.timezone: unknown key 'timezone'; it belongs to another section or "
     "source type: check the indentation, or remove it here"),
    (('cron: "0 5 * * *"', 'cron: "0 5 31 2 *"'),
     "sources.eu_ft.schedule.cron: this cron never fires (its days do not exist, e.g. 31 February)"),
    (('cron: "0 5 * * *"', 'cron: "0 5 31 4,6,9,11 *"'), "this cron never fires"),
    (("  budget_min: 50000 ", "  budget_min: " + "9" * 5000 + " "),
     "a number with thousands of digits is no setting; check the file for a value pasted or typed by "
     "mistake"),
])
def test_source_addresses_and_keys_are_checked_with_what_to_write(tmp_path: Path, cli, change,
                                                                  message) -> None:
    """An ftp:// or half-written URL passed `config check` and failed every run ("unexpected
    InvalidURL"); a key of another source type got "did you mean" itself; the source types listed
    lacked html_list; a 5,000-digit number said to call sys.set_int_max_str_digits(); a cron on days
    that do not exist passed and its job never ran ("next run none (paused)" in serve)."""
    assert EXAMPLE.count(change[0]) == 1
    path = tmp_path / "strategy.yaml"
    path.write_text(EXAMPLE.replace(*change), encoding="utf-8")
    result = cli("--config", str(path), "config", "check")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}") and message in lines[0], lines
