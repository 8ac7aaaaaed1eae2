"""Slack mrkdwn for untrusted text: scraped titles and programme names can never mention anyone.

Slack's formatting rules (https://api.slack.com/reference/surfaces/formatting#escaping): in ``text``
fields only ``&``, ``<`` and ``>`` have to be replaced by HTML entities; with them escaped, ``<!channel>``
or ``<@U123>`` are shown as text instead of pinging. The formatting marks (``*``, ``_``, ``~``, backticks)
cannot be escaped, so they are replaced by look-alikes. Links are ``<url|label>``; only http(s) URLs are
rendered as links, anything else (``javascript:``, ``slack://``, relative paths) is shown as plain text.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

import idna

from pipeline.core.text import printable

ELLIPSIS = "…"
# a link is cut whole or not at all, so a longer one would take the title (and the lines after it)
# out of a 3,000-character section; such a call is shown unlinked, its URL still in `calls show`
MAX_LINK_URL = 1000


# Slack mrkdwn has no escape for its formatting marks: in scraped text each becomes a look-alike, so
# "~50 ports and ~10 harbours" is not struck through nor "*new*" bold (``LOOKALIKES`` maps them back
# for the terminal). An underscore inside a word formats nothing (snake_case) and stays.
MARKS = {"*": "\u2217", "~": "\u223c", "`": "\u02cb", "_": "\u02cd", ":": "\u2236"}
LOOKALIKES = {lookalike: mark for mark, lookalike in MARKS.items()}
_MARK = re.compile(r"[*~`]|(?<![^\W_])_|_(?![^\W_])")  # "_" not between two letters or digits
# an emoji code (":new:", ":rotating_light:", ":+1:") in scraped text would be drawn as the emoji, and
# ":new:" is the digest's own mark of a new call: its first colon becomes a look-alike. A clock time
# ("10:00:00") has no letter between its colons and stays.
_EMOJI_CODE = re.compile(r":(?=[a-z0-9_+'-]*[a-z+-])[a-z0-9_+'-]+:", re.IGNORECASE)


def escape(text: str | None) -> str:
    """``text`` with ``&``, ``<`` and ``>`` replaced by entities (``&`` first) and the formatting marks
    by their look-alikes (:data:`MARKS`): plain text inside mrkdwn, whatever it holds."""
    if not text:
        return ""
    text = _MARK.sub(lambda m: MARKS[m.group()], _entities(text))
    return _EMOJI_CODE.sub(lambda m: MARKS[":"] + m.group()[1:], text)


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# U+2061-U+2064, the invisible operators of mathematical text: never part of a title, and U+2063 marks
# where a message's status line starts (pipeline.notify.actions), so a scraped one would pass for it
_INVISIBLE_OPERATORS = dict.fromkeys(range(0x2061, 0x2065))


def clean(text: str | None) -> str:
    """Whitespace collapsed to single spaces (scraped titles carry newlines and tabs), and control
    characters, escape sequences and bidi overrides dropped: a U+202E in a title reordered the rest of
    the line in the message and its notification, and a bell or ANSI colour code was sent as is."""
    return " ".join(printable(text or "").translate(_INVISIBLE_OPERATORS).split())


def call_name(title: str | None, call_id: int, limit: int) -> str:
    """A call's title for a message, cleaned and cut to ``limit``; a call without one (blank, or only
    control characters) is named by its id, so its line is not an empty ``**``."""
    return truncate(clean(title), limit) or f"Untitled call #{call_id}"


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL, made safe inside ``<…|…>`` and at most
    :data:`MAX_LINK_URL` characters so; otherwise ``None``."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    user, at, host = parts.netloc.rpartition("@")
    if not host.isascii():  # percent-encoded below, "grøn.dk" would be no host at all: IDNA names it
        name, colon, port = host.rpartition(":") if re.fullmatch(r".*:[0-9]*", host) else (host, "", "")
        try:
            host = idna.encode(name, uts46=True).decode("ascii") + colon + port
        except idna.IDNAError:
            return None
        url = urlunsplit(parts._replace(netloc=f"{user}{at}{host}"))
    # characters that would end the link or the label early, or spaces, are percent-encoded
    url = _entities(quote(url, safe=":/?#[]@!$&'()*+,;=%~-._"))  # a URL keeps its marks: Slack reads none
    return url if len(url) <= MAX_LINK_URL else None


def link(url: str | None, label: str | None) -> str:
    """``<url|label>`` for an http(s) URL, else the escaped label alone."""
    text = escape(clean(label)) or escape(url)
    target = safe_url(url)
    if target is None:
        return text
    # a "|" in the label is fine for Slack (only the first one separates), but keep it unambiguous
    return f"<{target}|{text.replace('|', '¦')}>"


_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_LINK = re.compile(r"<[^<>\s][^<>]*>")


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending with an ellipsis when cut.

    Works on plain text and on escaped mrkdwn alike: an entity (``&amp;``) or a link (``<…>``) that the
    cut would split is left out whole, while a bare ``&`` or ``<`` of plain text ("R&I", "a < b") is an
    ordinary character (plain text is escaped after it is cut)."""
    if len(text) <= limit:
        return text
    end = max(limit - 1, 0)
    cut = text[:end]
    for pattern, opener in ((_ENTITY, "&"), (_LINK, "<")):
        start = cut.rfind(opener)
        while start != -1:
            found = pattern.match(text, start)
            if found is not None and found.end() > end:
                cut = cut[:start]  # the cut falls inside this entity or link
                break
            if found is not None:
                break  # the last one before the cut is whole
            start = cut.rfind(opener, 0, start)
    return cut.rstrip() + ELLIPSIS
