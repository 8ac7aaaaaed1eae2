"""Feeds, pages and calendars are read in the encoding they declare, whatever the HTTP header leaves
out: the documents are the fixtures of tests/fixtures re-encoded here, served by a local server."""

from __future__ import annotations

import codecs
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.core.config import FeedSource, IcalSource, PageWatchSource
from tests.localserver import LocalServer, Reply
from watcher.encoding import decode_text
from watcher.http import make_client
from watcher.sources import BuildContext
from watcher.sources.euro_access import _norm
from watcher.sources.feed import FeedAdapter
from watcher.sources.ical import IcalAdapter, parse_calendar
from watcher.sources.page_watch import PageWatchAdapter

FIXTURES = Path(__file__).parent / "fixtures"
FEED = (FIXTURES / "feed" / "interreg_baltic_feed.xml").read_text(encoding="utf-8")
PAGE = (FIXTURES / "page_watch" / "bsr_stars.html").read_text(encoding="utf-8")
ICS = (FIXTURES / "ical" / "interreg_no_calendar.ics").read_text(encoding="utf-8")
NOW = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
TITLE = "Project platforms: the call is open for applications"
NORDIC_TITLE = "Project platforms – Øresund and Åland: the call is open for applications"


def _serve(server: LocalServer, path: str, body: bytes, content_type: str) -> str:
    server.route("GET", path, lambda request: Reply(200, body, {"Content-Type": content_type}))
    return server.url(path)


def _feed_titles(url: str) -> list[str]:
    adapter = FeedAdapter("bsr_news", FeedSource(type="feed", url=url))
    with make_client(retries=0) as client:
        return [r.title for r in adapter.fetch(client, NOW).records]


def test_a_feed_declared_cp1252_in_its_xml_header_and_sent_without_charset(server: LocalServer) -> None:
    text = FEED.replace('encoding="UTF-8"', 'encoding="windows-1252"').replace(TITLE, NORDIC_TITLE)
    body = text.encode("cp1252", "xmlcharrefreplace")  # 'ń' is not in cp1252: a character reference
    titles = _feed_titles(_serve(server, "/feed", body, "application/rss+xml"))
    assert titles[0] == NORDIC_TITLE


def test_a_feed_declared_latin1_and_a_utf16_feed(server: LocalServer) -> None:
    latin = FEED.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace(TITLE, "Øresund: " + TITLE)
    body = latin.encode("latin-1", "xmlcharrefreplace")
    assert _feed_titles(_serve(server, "/latin", body, "text/xml"))[0] == "Øresund: " + TITLE
    utf16 = FEED.replace('encoding="UTF-8"', 'encoding="UTF-16"').replace(TITLE, NORDIC_TITLE)
    titles = _feed_titles(_serve(server, "/utf16", utf16.encode("utf-16"), "application/rss+xml"))
    assert titles == [NORDIC_TITLE, "Call 5 for core projects: submit your project idea form"]


def test_a_page_declared_latin1_in_its_meta_charset(server: LocalServer) -> None:
    text = PAGE.replace('<meta charset="UTF-8">', '<meta charset="iso-8859-1">').replace(
        "The BSR Innovation Express is a joint call", "The BSR Innovation Express – open in Øresund – is a "
        "joint call")
    url = _serve(server, "/innovation-express/", text.encode("cp1252"), "text/html")
    cfg = PageWatchSource(type="page_watch", pages=[url])
    with make_client(retries=0) as client:
        result = PageWatchAdapter("ie", cfg, BuildContext()).fetch(client, NOW)
    [record] = result.records
    assert record.text.startswith("The BSR Innovation Express – open in Øresund – is a joint call")
    assert "\ufffd" not in record.text


def _calendar(server: LocalServer, body: bytes, programmes: list[str] | None = None) -> list[str]:
    url = _serve(server, "/calendar.ics", body, "text/calendar")
    cfg = IcalSource(type="ical", url=url, programmes=programmes or [])
    with make_client(retries=0) as client:
        return [r.programme or "" for r in IcalAdapter("interreg_no", cfg).fetch(client, NOW).records]


def test_a_calendar_with_a_utf8_bom(server: LocalServer) -> None:
    body = codecs.BOM_UTF8 + ICS.encode("utf-8")
    assert len(_calendar(server, body)) == 4
    assert len(parse_calendar(body, source="interreg_no", now=NOW)) == 4


def test_a_decomposed_programme_name_passes_the_programme_filter(server: LocalServer) -> None:
    decomposed = unicodedata.normalize("NFD", ICS).encode("utf-8")
    assert "Ö".encode() not in decomposed
    kept = _calendar(server, decomposed, ["Interreg Öresund-Kattegat-Skagerrak"])
    assert kept == ["Interreg Öresund-Kattegat-Skagerrak"] * 2  # stored composed (NFC)
    assert _norm(unicodedata.normalize("NFD", "Interreg Öresund")) == _norm("interreg öresund")


def test_decoding_rules() -> None:
    # the HTTP charset first, then a BOM or the declaration, then valid UTF-8, then detection
    assert decode_text("Århus".encode("utf-16-le"), "text/plain; charset=UTF-16LE") == "Århus"
    assert decode_text('<?xml version="1.0" encoding="iso-8859-1"?><a>\x96 Å</a>'.encode("latin-1")) \
        == '<?xml version="1.0" encoding="iso-8859-1"?><a>– Å</a>'  # latin-1 labels read as cp1252
    assert decode_text(b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">\xd8') \
        .endswith("Ø")
    assert decode_text("Ångström".encode(), "text/html; charset=no-such-charset") == "Ångström"
    assert decode_text(codecs.BOM_UTF8 + b"x", "text/plain; charset=utf-8") == "x"
    danish = ("Ansøgningsfristen for Øresundsprogrammet er den første mandag i måneden; "
              "ansøgere skal søge via portalen, og vi glæder os til at læse jeres ansøgninger.")
    assert decode_text(danish.encode("cp1252")) == danish  # no label at all: the detector
    assert decode_text(b"") == ""


@pytest.mark.parametrize("text", [
    "<p>Ansøgningsfrist for grøn omstilling – 1. oktober 2027</p>",
    "Sista ansökningsdag är 4 mars 2027. Projekt om havsbaserad vindkraft, vätgas och energilagring över "
    "gränserna i Öresund.",
    "Søknadsfrist 1. desember 2026 kl. 13.00 for prosjekter om havvind og hydrogen i Nordsjøen; støtte på "
    "opptil 2 millioner kroner.",
])
@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", None])
def test_nordic_text_in_windows_1252_under_a_wrong_or_no_label(text: str, content_type: str | None) -> None:
    """The detector read short Danish, Swedish and Norwegian cp1252 text as cp1250 or hp_roman8:
    "Ansřgningsfrist", "ans—kningsdag ðr", "Nordsjřen"."""
    assert decode_text(text.encode("cp1252"), content_type) == text


def test_a_byte_order_mark_outranks_the_label() -> None:
    """A UTF-8 mark under a windows-1252 label was read as "ï»¿"; the mark decides, as in browsers."""
    assert decode_text(codecs.BOM_UTF8 + "Øresund".encode(), "text/html; charset=windows-1252") == "Øresund"
    polish = "Termin składania wniosków: 15 października 2026 r. Projekty dotyczące wodoru."
    assert decode_text(polish.encode("cp1250")) == polish  # a Central European page still detected
