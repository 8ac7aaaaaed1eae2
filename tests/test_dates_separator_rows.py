"""A row of separators after a date's year (a flattened table's empty cells, "2027 – – – –", or
", , , ,"), or a long run of white space after it, is read as the text without it: the time patterns
once tried every split of such a row between their white-space parts, and a sync met by one hung."""

from __future__ import annotations

import pytest

from watcher.dates import call_dates

DEADLINE = "Ansøgningsfrist: 15. marts 2027"


@pytest.mark.parametrize("row", [" ," * 40, " –" * 60, " , " * 40, " - at" * 30, " (" * 40])
def test_a_row_of_separators_after_the_deadline_leaves_its_dates_as_they_are(row: str) -> None:
    plain = call_dates(f"{DEADLINE}. Budget i alt.")
    assert call_dates(f"{DEADLINE}{row} Budget i alt.") == plain
    assert [d.at.isoformat() for d in plain.deadlines] == ["2027-03-15T16:00:00+00:00"]


def test_a_long_run_of_white_space_after_a_year_leaves_the_dates_as_they_are() -> None:
    text = "Deadline 15 March 2027 12.00" + " " * 60_000 + "CET. Opens 1 February 2027."
    found = call_dates(text)
    assert [d.at.isoformat() for d in found.deadlines] == ["2027-03-15T11:00:00+00:00"]
    assert found.opening is not None and found.opening.isoformat() == "2027-01-31T23:00:00+00:00"


def test_a_text_of_megabytes_is_read_for_dates_in_its_first_characters_only() -> None:
    """Every rewrite before the search reads the whole text: 2 MB cost some sixty times a call's 5 kB,
    and the 20 MB a page may have ten times that. The first MAX_READ_CHARS characters count."""
    from watcher.dates import MAX_READ_CHARS

    head = "Ansøgningsfrist: 15. marts 2027. " + "Projekterne skal styrke samarbejdet i regionen. " * 4_000
    assert MAX_READ_CHARS > len(head) > MAX_READ_CHARS // 2
    text = head + "Frist 1. oktober 2027 kl. 12.00 og " * 60_000
    assert len(text) > 10 * MAX_READ_CHARS
    assert call_dates(text) == call_dates(text[:MAX_READ_CHARS - 20])
    assert call_dates(head + "Ny frist: 1. juni 2028. " + "x " * MAX_READ_CHARS).deadlines[-1].at.year == 2028
    assert call_dates(head + "x " * MAX_READ_CHARS + "Ny frist: 1. juni 2028.") == call_dates(head)
