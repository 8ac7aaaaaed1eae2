"""Cases the round-six changes of watcher/ did not think of: variants of the texts and answers their
own tests use (tests/test_hostile_round6.py), served by the local server and read through the real
client into a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from tests.localserver import LocalServer
from tests.test_hostile_round6 import _feed_deadlines
from watcher.sources.feed import parse_feed

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_period_the_projects_run_is_no_deadline(engine, server: LocalServer) -> None:
    """"Projects should run from 1 September 2027 to 31 August 2029", "Costs are eligible from … to …":
    the end of a period opened after the call's deadline was read as a second deadline, as the end of
    "open from … to …" is, and the call stayed open two years after applications closed."""
    texts = {"1": "Deadline 15 March 2027. Projects should run from 1 September 2027 to 31 August 2029.",
             "2": "Deadline 15 March 2027. Costs are eligible from 1 January 2028 to 31 December 2029.",
             "3": "Ansøgningsfrist 15. marts 2027. Projektet gennemføres fra 1. september 2027 til "
                  "31. august 2029.",
             "4": "Deadline 15 March 2027. Project duration: from 1 September 2027 to 31 August 2029.",
             "5": "Projects should run from 1 September 2027 to 31 August 2029."}
    expected = {n: [("2027-03-15T16:00:00+00:00", True)] for n in texts}
    assert _feed_deadlines(engine, server, texts) == {**expected, "5": []}


def test_a_call_open_from_to_still_closes_on_the_period_end(engine, server: LocalServer) -> None:
    """The period a call is open for ends at its deadline, a later stage's deadline or not."""
    texts = {"1": "Call open from 1 February 2027 to 15 March 2027.",
             "2": "Open from 1 February 2027 to 15 March 2027. Second stage deadline 15 June 2027."}
    assert _feed_deadlines(engine, server, texts) == {
        "1": [("2027-03-15T16:00:00+00:00", True)],
        "2": [("2027-03-15T16:00:00+00:00", True), ("2027-06-15T15:00:00+00:00", True)]}


def test_a_deadline_noun_after_a_word_of_results_is_still_the_deadline(engine, server: LocalServer) -> None:
    """"Call for decision support tools – deadline 15 March 2027", "Results transfer call deadline:
    …", "Svarfrist: …": a word of answers ("decision", "results", "svar") a few words before a
    deadline noun made the deadline the day of the answer, and the call was stored without one. Only
    "until", "bis", "senest" … after such a word say when the answer comes. So did a call's own
    "Laufzeit" (the run of the call, not of its projects)."""
    texts = {"1": "Call for decision support tools – deadline 15 March 2027.",
             "2": "Results transfer call deadline: 15 March 2027.",
             "3": "Outcome-based procurement pilots, deadline 15 March 2027.",
             "4": "Svarfrist: 15. marts 2027.",
             "5": "Decision support tools – open until 15 March 2027.",
             "6": "Der Förderaufruf hat eine Laufzeit bis zum 15. März 2027."}
    assert _feed_deadlines(engine, server, texts) == {n: [("2027-03-15T16:00:00+00:00", True)] for n in texts}


def test_a_bare_ampersand_in_a_feeds_attribute_is_still_escaped() -> None:
    """A hand-made feed writing its self link "…/feed/?lang=en&type=calls" (a bare "&" in an attribute):
    the escaping of a bare "&" stopped at tags once a "<" that starts no markup was escaped too, the feed
    was no longer well-formed XML, and every run warned that it has errors while the loose parser kept
    "&amp;" in the ids ("…?p=1&amp;lang=en"), so each call came back as a new one. Read as written."""
    fixture = (FIXTURES / "feed" / "interreg_baltic_feed.xml").read_bytes()
    self_link = b'<atom:link href="https://interreg-baltic.eu/feed/"'
    bare = fixture.replace(self_link, b'<atom:link href="https://interreg-baltic.eu/feed/?lang=en&type=calls"')
    guid = b'<guid isPermaLink="false">https://interreg-baltic.eu/'
    bare = bare.replace(guid + b"?p=", guid + b"?lang=en&p=")
    assert self_link in fixture and bare.count(b"&type=") == 1 and b"?lang=en&p=" in bare
    expected, warning = parse_feed(fixture, source="baltic", phrases=["call"])
    records, warning = parse_feed(bare, source="baltic", phrases=["call"])
    assert warning is None
    assert [r.external_id for r in records] == [r.external_id.replace("?p=", "?lang=en&p=") for r in expected]
    assert [r.title for r in records] == [r.title for r in expected]


def test_each_stray_byte_of_a_utf8_page_is_its_windows_1252_character() -> None:
    """The stray bytes of a UTF-8 page (a byte 0x80-0xFF no UTF-8 sequence takes, here before an
    ASCII letter) are read as windows-1252, latin-1 where it leaves a byte undefined: each of them."""
    from watcher.encoding import decode_text

    for byte in range(0x80, 0x100):
        body = "Ansøgningsfrist for SMV".encode() + bytes([byte]) + "er: 1. marts 2027, grøn".encode()
        try:
            expected = bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:
            expected = chr(byte)
        assert decode_text(body, "text/html") == f"Ansøgningsfrist for SMV{expected}er: 1. marts 2027, grøn"


def test_a_snippet_too_deep_for_a_tree_is_read_whole_as_one_line() -> None:
    """A description of lines each opening a <span> (a word processor's paste), deeper than libxml2
    builds a tree: its text, every line, entities read and no script, parted as its nodes are."""
    from watcher.html_text import html_to_text

    line = '<span lang="EN-GB">Line <b>bold</b>text x<!-- note -->y<br>'
    text = html_to_text(f"<div><p>Intro &amp; more</p>{line * 3000}<script>var x = 1</script>"
                        "<style>p {}</style>END &lt;here&gt; caf&eacute; &#8211; z</div>")
    assert text == "Intro & more " + "Line bold text x y " * 3000 + "END <here> café – z"
