"""Interreg, BSR Innovation Express and the Danish and Nordic funders end to end: a Danish feed item, an
Innovationsfonden listing (config/sources/innovationsfonden.yaml), an Innovation Express page and an
Interreg ÖKS call page (config/sources/interreg_oks.yaml), served by a local server and read by the real
clients, each become a stored, scored call that passes the example strategy's rules and reaches the
digest's "Programmes we follow" section; a calendar's webinar does not become a call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from classifiers.freshness import SCORE_FLOOR
from pipeline.core.config import DEFAULT_STRATEGY, DigestChannel, load_config
from pipeline.core.models import Call, Verdict
from pipeline.core.paths import CONFIG_DIR
from pipeline.core.yaml import read_yaml
from pipeline.notify.digest import build_digest, collect_digest
from pipeline.sync import sync
from tests.localserver import LocalServer, Reply

FIXTURES = Path(__file__).parent / "fixtures" / "html_list"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HTML = {"Content-Type": "text/html; charset=utf-8"}

DANISH_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Interreg Østersøprogrammet – nyheder</title>
<item><title>Ny indkaldelse: projektplatforme</title><link>https://interreg-baltic.eu/da/ny-indkaldelse/</link>
<guid>bsr-da-1</guid><description>Ny indkaldelse: projektplatforme – Indkaldelsen åbner 1. oktober 2026,
ansøgningsfristen er 15. januar 2027 kl. 16.00. Platforme om havvind og brint i Østersøregionen.</description>
</item>
<item><title>Sommerhilsen fra sekretariatet</title><link>https://interreg-baltic.eu/da/sommer/</link>
<guid>bsr-da-2</guid><description>God sommer.</description></item>
</channel></rss>"""

INNOVATION_EXPRESS = """<!DOCTYPE html><html lang="en"><head><title>BSR Innovation Express 2027</title></head>
<body><nav><a href="/">Home</a> <a href="/ie">Innovation Express</a></nav><main><article>
<h1>BSR Innovation Express 2027 call is open</h1>
<p>The BSR Innovation Express call supports cluster organisations in the Baltic Sea Region that want to
internationalise their members. Clusters working on offshore wind, hydrogen and energy storage are
welcome to apply together with cluster partners from at least two other countries of the region.</p>
<p>National funders grant each cluster up to EUR 60,000 for international activities. The deadline for
applications is 15 January 2027 at 15:00 CET.</p>
</article></main><footer>BSR Stars</footer></body></html>"""

OKS_DETAIL = """<!DOCTYPE html><html lang="sv"><head><title>Ansökningsomgång 2027:1</title></head><body>
<main><div class="sv-text-portlet-content"><p>Ansökningsomgång 2027:1 öppnar den 1 december 2026. Sista
ansökningsdag är 4 mars 2027 kl. 16.00. Projekt om havsbaserad vindkraft, vätgas och energilagring
över gränserna i Öresund, Kattegatt och Skagerrak söks.</p></div></main></body></html>"""

CALENDAR = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Interreg Norge - ECPv6.6.4.2//NONSGML v1.0//EN\r
BEGIN:VEVENT\r
UID:webinar-2027@interreg.no\r
SUMMARY:Webinar: How to apply\r
DESCRIPTION:How to write a good application for offshore wind and hydrogen projects.\r
DTSTART;TZID=Europe/Oslo:20261110T100000\r
DTEND;TZID=Europe/Oslo:20261110T113000\r
END:VEVENT\r
END:VCALENDAR\r
"""


def _source(file: str, name: str, url: str) -> dict[str, Any]:
    """A ready-made source of config/sources/ with its URL pointed at the local server."""
    entry = dict(read_yaml(CONFIG_DIR / "sources" / file)["sources"][name])
    entry["url"] = url
    return entry


def _config(tmp_path: Path, server: LocalServer) -> Path:
    """The example strategy with only the local sources."""
    import json

    example = DEFAULT_STRATEGY.read_text(encoding="utf-8")
    head, _, rest = example.partition("\nsources:\n")
    slack = rest[rest.index("\nslack:\n"):]
    sources = {
        "bsr_news_da": {"type": "feed", "url": server.url("/feed/"),
                        "programme": "Interreg Baltic Sea Region"},
        "innovationsfonden_grand_solutions": _source(
            "innovationsfonden.yaml", "innovationsfonden_grand_solutions", server.url("/da/programmer")),
        "innovation_express": {"type": "page_watch", "pages": [server.url("/innovation-express")]},
        "interreg_oks_calls": _source("interreg_oks.yaml", "interreg_oks_calls",
                                      server.url("/sokastod/ansokningsomgangar.html")),
        "interreg_no_calendar": {"type": "ical", "url": server.url("/calendar.ics")},
    }
    body = "\n".join(f"  {name}: {json.dumps(cfg, ensure_ascii=False)}" for name, cfg in sources.items())
    path = tmp_path / "strategy.yaml"
    path.write_text(f"{head}\nsources:\n{body}\n{slack}", encoding="utf-8")
    return path


def _serve(server: LocalServer) -> None:
    rss, calendar = {"Content-Type": "application/rss+xml"}, {"Content-Type": "text/calendar"}
    server.route("GET", "/feed/", lambda r: Reply(200, DANISH_FEED.encode(), rss))
    server.route("GET", "/da/programmer",
                 lambda r: Reply(200, (FIXTURES / "innovationsfonden_list.html").read_bytes(), HTML))
    server.route("GET", "/da/p/grand-solutions/grand-solutions-2027",
                 lambda r: Reply(200, (FIXTURES / "innovationsfonden_grand_solutions.html").read_bytes(),
                                 HTML))
    server.route("GET", "/innovation-express", lambda r: Reply(200, INNOVATION_EXPRESS.encode(), HTML))
    server.route("GET", "/sokastod/ansokningsomgangar.html",
                 lambda r: Reply(200, (FIXTURES / "interreg_oks_calls.html").read_bytes(), HTML))
    server.route("GET", "/sokastod/ansokningsomgangar/ansokningsomgang20271.html",
                 lambda r: Reply(200, OKS_DETAIL.encode(), HTML))
    server.route("GET", "/calendar.ics", lambda r: Reply(200, CALENDAR.encode(), calendar))


def test_every_source_type_reaches_the_programme_section(
        tmp_path: Path, server: LocalServer, engine) -> None:
    _serve(server)
    config = load_config(_config(tmp_path, server))
    result = sync(engine, config, as_of=NOW)
    assert [r.outcome for r in result.runs] == ["ok"] * 5, [(r.source, r.error) for r in result.runs]

    with Session(engine) as session:
        calls = {c.source: c for c in session.exec(select(Call))}
        verdicts = {v.call_id: v for v in session.exec(select(Verdict))}
        assert set(calls) == {"bsr_news_da", "innovationsfonden_grand_solutions", "innovation_express",
                              "interreg_oks_calls"}  # the webinar is not a call
        grand = calls["innovationsfonden_grand_solutions"]
        assert grand.title.startswith("Grand Solutions 2027")
        assert grand.url == server.url("/da/p/grand-solutions/grand-solutions-2027")  # utm_ dropped
        assert grand.max_contribution is not None and 5_000_000 < grand.max_contribution < 5_500_000
        assert calls["innovation_express"].type_of_action == "IE"
        assert calls["interreg_oks_calls"].programme == "Interreg Öresund-Kattegat-Skagerrak"
        scores = {source: verdicts[call.id].best_score for source, call in calls.items()}
        for source, call in calls.items():
            verdict = verdicts[call.id]
            assert verdict.passed, (source, [o for o in verdict.outcomes if o["passed"] is False])
        # Danish, Swedish and English text all score above the 0.05 storage floor (classifiers.text:
        # Nordic stemming, both-way synonyms; classifiers.gate: the label and description also as the
        # synonyms translate them, so a short Danish or Swedish item is not gated down for its language)
        assert all(score is not None and score > SCORE_FLOOR for score in scores.values()), scores

        data = collect_digest(session, config.strategy, DigestChannel(channel="#eu"), NOW,
                              NOW - timedelta(days=7))
    listed = {p.call_id: p for p in data.programmes}
    assert set(listed) == {c.id for c in calls.values()}
    assert all(p.passed and p.deadline is not None for p in listed.values())
    text = str([m.blocks for m in build_digest(data)])
    assert "Programmes we follow" in text and "Grand Solutions 2027" in text
    # national funders publish no success rate: their calls fail no rule, and the line says what is unknown
    assert "no rule fails; not known: success rate" in text


def test_ready_made_source_configs_validate() -> None:
    """Every config in config/sources/ is a valid source of a strategy."""
    from pydantic import TypeAdapter

    from pipeline.core.config import SourceConfig

    adapter: TypeAdapter[Any] = TypeAdapter(SourceConfig)
    files = sorted((CONFIG_DIR / "sources").glob("*.yaml"))
    assert len(files) == 9
    for file in files:
        for name, entry in read_yaml(file)["sources"].items():
            cfg = adapter.validate_python(dict(entry))
            assert cfg.type == "html_list", (file.name, name)
