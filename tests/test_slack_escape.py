"""Slack mrkdwn escaping of untrusted (scraped) text."""

from __future__ import annotations

import pytest

from pipeline.notify.escape import escape, link, safe_url, truncate


def test_escape_replaces_the_three_control_characters_ampersand_first() -> None:
    assert escape("<!channel> R&D <@U123> &lt;") == "&lt;!channel&gt; R&amp;D &lt;@U123&gt; &amp;lt;"
    assert escape(None) == ""


@pytest.mark.parametrize("url", ["javascript:alert(1)", "slack://open", "/relative/path", "ftp://x.org/f",
                                 "https:///nohost", "", None])
def test_only_http_links_are_rendered_as_links(url: str | None) -> None:
    assert safe_url(url) is None
    assert link(url, "Call <b>") == "Call &lt;b&gt;"


def test_link_escapes_label_and_url_and_cannot_be_broken_out_of() -> None:
    assert link("https://ec.europa.eu/topic?a=1&b=2", "R&D <!here>") == \
        "<https://ec.europa.eu/topic?a=1&amp;b=2|R&amp;D &lt;!here&gt;>"
    # "|", ">" and spaces in a URL would end the link early: they are percent-encoded
    assert link("https://x.org/a|b> c", "t") == "<https://x.org/a%7Cb%3E%20c|t>"
    assert link("https://x.org/", "a | b") == "<https://x.org/|a ¦ b>"


def test_truncate_never_cuts_an_entity_or_a_link() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("abc &amp; def", 7) == "abc…"
    assert truncate("see <https://x.org|x> now", 12) == "see…"
    assert len(truncate("x" * 5000, 3000)) == 3000


def test_truncate_cuts_plain_text_at_the_limit_not_at_an_ampersand() -> None:
    # titles of the recorded SEDIA data: a bare "&" or "<" of plain text is an ordinary character
    title = "R&I in Support of the Clean Industrial Deal: advanced materials for energy"
    assert truncate(title, 30) == "R&I in Support of the Clean I…"
    assert truncate("Researching the technical, social & economic factors of uptake", 45) == \
        "Researching the technical, social & economic…"
    assert truncate("values a < b and more text here", 20) == "values a < b and mo…"
    # escaped, the same title keeps its entity whole or leaves it out whole
    assert truncate(escape(title), 30) == "R&amp;I in Support of the Cle…"
    assert truncate(escape("a & b"), 4) == "a…"


def test_control_characters_and_bidi_overrides_never_reach_slack() -> None:
    """A scraped title's U+202E reordered the line in the message and its notification; bells and ANSI
    codes were sent as they came."""
    from pipeline.notify.escape import clean

    title = "Ports \u202egnp.exe\u202c \x1b[31mred\x1b[0m bell\x07 <!channel>"
    assert clean(title) == "Ports gnp.exe red bell <!channel>"
    assert link("https://x.eu/c", title) == "<https://x.eu/c|Ports gnp.exe red bell &lt;!channel&gt;>"


def test_scraped_formatting_characters_never_format_the_message() -> None:
    """Slack mrkdwn has no escape for its formatting marks, so a title 'Pilots for ~50 ports and ~10
    harbours' was struck through from the first '~' to the second, a '*' or '`' pair turned bold or
    code, and '_draft_' italic; the marks become their look-alikes (an underscore inside a word, as in
    snake_case, formats nothing and stays), and the terminal shows the title as scraped."""
    from pipeline.notify.blocks import SlackMessage, render_terminal

    title = "Pilots for ~50 ports and ~10 harbours: *new* `beta` _draft_ call_2027 (R&D)"
    shown = "Pilots for ∼50 ports and ∼10 harbours: ∗new∗ ˋbetaˋ ˍdraftˍ call_2027 (R&amp;D)"
    assert escape(title) == shown
    url = "https://x.eu/~calls/a_b*c"
    assert link(url, title) == f"<{url}|{shown}>"
    text = f"*{link(url, title)}*"
    message = SlackMessage("#c", "t", [{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
    assert render_terminal([message]).splitlines()[1] == f"{title} ({url})"
