"""Dates in free text: the shapes the Nordic and German funders write, and text that has none."""

from __future__ import annotations

import pytest

from watcher.dates import call_dates, find_dates


@pytest.mark.parametrize("text,kind,iso", [
    ("Deadline: 15. März 2026, 17:00", "deadline", "2026-03-15T16:00:00+00:00"),
    ("sista ansökningsdag 2025-11-30", "deadline", "2025-11-30T16:00:00+00:00"),
    ("Ansøgningsfrist 3. februar 2026 kl. 12:00", "deadline", "2026-02-03T11:00:00+00:00"),
    ("deadline 5 May 2026", "deadline", "2026-05-05T15:00:00+00:00"),
    ("Søknadsfrist 1. desember 2025 kl. 12:00", "deadline", "2025-12-01T11:00:00+00:00"),
    ("Frist: 15. mars 2026", "deadline", "2026-03-15T16:00:00+00:00"),
    ("Prosjektet starter 1.september 2026", "opening", "2026-08-31T22:00:00+00:00"),
])
def test_dates_in_the_languages_of_the_funders(text: str, kind: str, iso: str) -> None:
    (found,) = find_dates(text)
    assert (found.kind, found.at.isoformat()) == (kind, iso)


def test_several_norwegian_dates_keep_their_days() -> None:
    dates = call_dates("Åpner 2. mars 2026, frist 1. desember 2026 kl. 14:00")
    assert dates.opening is not None and dates.opening.isoformat() == "2026-03-01T23:00:00+00:00"
    assert [d.at.isoformat() for d in dates.deadlines] == ["2026-12-01T13:00:00+00:00"]


def test_opening_and_deadline() -> None:
    dates = call_dates("Open from 10.11.2025 until 31/01/2026")
    assert dates.opening is not None and dates.opening.isoformat() == "2025-11-09T23:00:00+00:00"
    assert [d.at.isoformat() for d in dates.deadlines] == ["2026-01-31T16:00:00+00:00"]


def test_numbers_without_a_date_shape_are_not_searched() -> None:
    # a hostile item of years only: no month name and no day-month-year, so no full date can be in it
    # (dateparser would spend many seconds on it)
    assert find_dates("2025 " * 2000) == []
    assert find_dates("3 partners from 2025 onwards, budget 2026 EUR") == []


def test_a_date_deep_in_a_long_page_is_found_with_its_context() -> None:
    filler = "The programme supports cooperation between regions, with 2025 results in mind. " * 400
    text = f"{filler}Deadline: 15. März 2026, 17:00 (CET). {filler}Open from 10.11.2025 onwards. {filler}"
    dates = find_dates(text)
    assert [(d.kind, d.at.isoformat(), d.time_assumed) for d in dates] == [
        ("deadline", "2026-03-15T16:00:00+00:00", False), ("opening", "2025-11-09T23:00:00+00:00", True)]


@pytest.mark.parametrize("text,iso,assumed", [
    ("Ansøgningsfrist: 1. oktober 2027 kl. 12.00", "2027-10-01T10:00:00+00:00", False),
    ("Søknadsfrist 1. desember 2026 kl. 13.00", "2026-12-01T12:00:00+00:00", False),
    ("Frist: 1. juni 2027 kl. 12", "2027-06-01T10:00:00+00:00", False),
    ("ansøgningsfristen er 15. januar 2027 kl. 16.00. Platforme", "2027-01-15T15:00:00+00:00", False),
    ("Deadline 1 October 2027 12.00", "2027-10-01T10:00:00+00:00", False),
    ("Deadline: 1 March 2027, 13.00 CET", "2027-03-01T12:00:00+00:00", False),
    ("Einsendeschluss 1. Dezember 2026, 12 Uhr", "2026-12-01T11:00:00+00:00", False),
    # Swedish and Norwegian clock words: dateparser knows none of them once it reads the text as sv/nb
    ("frist 1 juni 2027 klokken 12.00", "2027-06-01T10:00:00+00:00", False),
    ("Ansökan ska vara inne senast 15 mars 2027 kl. 16.00", "2027-03-15T15:00:00+00:00", False),
    ("Ansökan senast den 15 mars 2027 klockan 16.00", "2027-03-15T15:00:00+00:00", False),
    ("Sista ansökningsdag 2027-03-15 kl 16", "2027-03-15T15:00:00+00:00", False),
    ("Søknadsfrist 1. mars 2027 klokken 12.00", "2027-03-01T11:00:00+00:00", False),
])
def test_a_time_after_a_written_month_is_not_read_as_the_day(text: str, iso: str, assumed: bool) -> None:
    # dateparser's search drops the day before the month and reads the hour as the day (the 12th)
    for language in ("da", "nb", "de", "en"):
        others = (code for code in ("en", "da", "de", "sv", "nb") if code != language)
        dates = call_dates(text, (language, *others))
        assert [(d.at.isoformat(), d.time_assumed) for d in dates.deadlines] == [(iso, assumed)], language


def test_a_list_of_numeric_dates_keeps_its_dates() -> None:
    dates = call_dates("Deadlines 10.11.2027 12.05.2028")
    assert [d.at.isoformat() for d in dates.deadlines] == [
        "2027-11-10T16:00:00+00:00", "2028-05-12T15:00:00+00:00"]


def test_a_text_of_nothing_but_dates_is_searched_in_its_first_windows_only() -> None:
    """dateparser takes about half a millisecond a character where dates are dense: a feed item of
    20,000 dates (700 kB) held its run for minutes. The first MAX_SEARCHED_CHARS of windows count."""
    from watcher.dates import MAX_SEARCHED_CHARS

    text = "Frist 1. oktober 2027 kl. 12.00 og " * 20_000 + "frist 5. maj 2030"
    assert len(text) > 100 * MAX_SEARCHED_CHARS
    dates = call_dates(text, ("da", "en"))
    assert [d.at.isoformat() for d in dates.deadlines] == ["2027-10-01T10:00:00+00:00"]


@pytest.mark.parametrize("text,iso", [
    ("Frist: 1. dec. 2026", "2026-12-01T16:00:00+00:00"),
    ("Ansøgningsfrist 15. jan. 2027 kl. 12.00", "2027-01-15T11:00:00+00:00"),
    ("frist 1. sept. 2026", "2026-09-01T15:00:00+00:00"),
    ("Deadline: 3 Mar. 2027, 17:00", "2027-03-03T16:00:00+00:00"),
])
def test_an_abbreviated_month_with_its_dot_is_a_date(text: str, iso: str) -> None:
    """dateparser's search found no date at all in "1. dec. 2026", the common Danish abbreviation."""
    assert [d.at.isoformat() for d in call_dates(text, ("da", "en", "de", "sv", "nb")).deadlines] == [iso]
