"""Words that say a date's kind count only as whole words: a longer word holding one ("ansvarlig",
"Innenministerium", "indenfor", "beforehand") says nothing of the date after it."""

from __future__ import annotations

import pytest

from watcher.dates import call_dates


def _deadlines(text: str) -> list[str]:
    return [d.at.date().isoformat() for d in call_dates(text).deadlines]


@pytest.mark.parametrize("text", [
    # "ansvar" (responsibility) holds "svar" (an answer's day)
    "Ansvarlig for puljen: Mette Hansen. 1. marts 2027",
    "Projektansvarlig kan søge. Ansøgningen skal være modtaget 1. marts 2027",
])
def test_a_word_holding_an_answers_word_leaves_the_lone_date_the_deadline(text: str) -> None:
    assert _deadlines(text) == ["2027-03-01"]


@pytest.mark.parametrize("text", [
    # German "-innen" (Antragstellerinnen, Innenministerium) holds Norwegian "innen" (by)
    "Die Frist endet am 15. März 2027. Das Innenministerium informiert am 1. April 2027.",
    "Frist: 15. marts 2027. Kommuner og virksomheder indenfor regionen, møde 1. april 2027.",
    "Deadline: 15 March 2027. Read the guide beforehand, as revised 1 April 2027.",
])
def test_a_word_holding_a_deadline_word_makes_no_second_deadline(text: str) -> None:
    assert _deadlines(text) == ["2027-03-15"]


@pytest.mark.parametrize("text", [
    "Ansøg inden 2. februar 2027 kl. 12.00. Svar på ansøgningen forventes 15. juni 2027.",
    "Søknader må være mottatt innen 15. mars 2027. Vedtak 15. juni 2027.",
    "Call for proposals: apply before 15 March 2027 at 17:00 CET.",
])
def test_the_whole_words_still_introduce_the_deadline(text: str) -> None:
    assert len(_deadlines(text)) == 1 and _deadlines(text)[0].endswith(("02-02", "03-15"))


@pytest.mark.parametrize("text", [
    "Frist 01.03.2027 · Opdateret 02.12.2026",
    "Deadline: 1.3.2027 | Updated 2.12.2026",
    "Frist 1.3.2027, opdateret 2.12.2026",
])
def test_a_time_stamp_after_a_deadline_and_its_date_is_no_deadline(text: str) -> None:
    """A listing item's 'Frist 01.03.2027 · Opdateret 02.12.2026': the deadline word a few characters
    before 'Opdateret' belongs to the date between them, and the page's own time became a second
    deadline, moved whenever the item was edited."""
    assert _deadlines(text) == ["2027-03-01"]


@pytest.mark.parametrize("text", ["Frist opdateret: 15. marts 2027", "Deadline updated: 15 March 2027"])
def test_a_deadline_word_right_before_updated_still_names_the_deadline(text: str) -> None:
    assert _deadlines(text) == ["2027-03-15"]


@pytest.mark.parametrize("text", [
    "Ansøgningsfristen er forlænget fra 15. januar til 2. februar 2027.",
    "The deadline has been extended from 15 January 2027 to 2 February 2027.",
    "Fristen er udskudt fra 15.01.2027 til 02.02.2027",
    "Die Einreichungsfrist wurde verschoben vom 15. Januar 2027 auf den 2. Februar 2027.",
])
def test_the_date_a_deadline_was_moved_to_is_the_deadline(text: str) -> None:
    """'forlænget fra 15. januar til 2. februar 2027', the way a funder writes a moved deadline: the
    new date, after the words of the one it moved from, was read as the former date too, and the call
    was left without any deadline."""
    assert _deadlines(text) == ["2027-02-02"]


def test_a_former_date_alone_stays_no_deadline() -> None:
    assert _deadlines("Ansøgningsfristen er 2. februar 2027 (tidligere 15. januar 2027)") == ["2027-02-02"]


@pytest.mark.parametrize("text", [
    "Ansøgningsfrist 1. marts 2027. Projekterne kan vare op til tre år og skal være afsluttet inden "
    "31. december 2028.",
    "Søknadsfrist 1. mars 2027. Prosjektene kan vare i inntil tre år og må være avsluttet innen 31.12.2028.",
    "Deadline 1 March 2027. Projects may not start before 1 September 2027.",
])
def test_the_day_a_project_must_end_or_start_by_is_no_deadline(text: str) -> None:
    """'inden', 'innen' and 'before' say a deadline when an application is due by the date ('Ansøg
    inden', 'mottatt innen'); said of the project ('afsluttet inden 31. december 2028') the call was
    open for two more years, its reminders and digest line counting down to the project's end."""
    assert _deadlines(text) == ["2027-03-01"]
