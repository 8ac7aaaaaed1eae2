"""Telling a call again by its link, or by its id in another case, when its source gave it a new id.

Some sources make their ids anew: a feed whose guids hold a session or a time, a calendar export
whose UIDs hold the event's start and end (The Events Calendar: "21544-1768208400-1776383940@…",
so a deadline extended is a new UID). Keyed by that id alone, the call came back as a new call each
time, and the stored one stayed (a feed closes nothing) or was removed (a calendar is complete), with
a "removed" alert and its applications left on it. An item whose id is new but whose link is the link
and title of one stored call that the answer does not list under its own id is that call.

Any source may also write an id in another case ("51348893TOPICSEN" for "51348893TOPICSen", a link's
path in capitals), or, where its id is a link, write that link otherwise ("…/innobooster/" for
"…/innobooster", "gr%C3%B8n" for "grøn", the default port): :func:`keep_ids_across_case` makes such
a record the stored call whose id it is but for that, when the answer does not list that call under
its own id and no other stored call has that id but for that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa

from pipeline.core.deadlines import last_deadline
from pipeline.core.models import Call
from watcher.records import CallRecord
from watcher.store import GONE
from watcher.urls import clean_url


def stored_links(engine: Any, source: str) -> dict[str, tuple[str | None, str]]:
    """External id -> (link without tracking parameters, title) of every call of the source; the link
    is None for a call that is gone or has none (read only)."""
    table = Call.__table__
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.external_id, table.c.url, table.c.title, table.c.status)
                            .where(table.c.source == source))
        return {external_id: (None if status in GONE else _link(url), title)
                for external_id, url, title, status in rows}


def _link(url: str | None) -> str | None:
    """``url`` without tracking parameters; None for none, or for a link that is no URL ("http://[")."""
    try:
        return clean_url(url) if url else None
    except ValueError:
        return None


def _same_title(first: str, second: str) -> bool:
    return " ".join(first.casefold().split()) == " ".join(second.casefold().split())


def keep_stored_ids(records: list[CallRecord], stored: Mapping[str, tuple[str | None, str]]
                    ) -> list[CallRecord]:
    """``records`` with the id of the stored call an item is, when its id is none stored but its link
    and title are those of one stored call not gone (``stored``: id -> (link, title)) that the answer
    does not list under its own id, and no other item of the answer has that link (pure). The title
    must agree too: a programme reusing one page for its rounds has a new call each round, not the
    last one changed."""
    answered = {r.external_id for r in records}
    links = Counter(_link(r.url) for r in records)
    owners = Counter(link for link, _ in stored.values() if link)
    owner = {link: (key, title) for key, (link, title) in stored.items()
             if link and owners[link] == 1 and key not in answered}
    kept = []
    for record in records:
        link = _link(record.url)
        if link and record.external_id not in stored and links[link] == 1 and link in owner \
                and _same_title(owner[link][1], record.title):
            record = replace(record, external_id=owner.pop(link)[0])
        kept.append(record)
    return kept


def stored_ids(engine: Any, source: str) -> list[str]:
    """The external ids of every call of the source (read only)."""
    table = Call.__table__
    with engine.connect() as conn:
        return list(conn.scalars(sa.select(table.c.external_id).where(table.c.source == source)))


def ahead_ids(engine: Any, source: str, now: datetime) -> set[str]:
    """The external ids of the source's calls not closed or removed whose last deadline is ahead, or
    none (read only): those a run not asking for them must not take away."""
    table = Call.__table__
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.external_id, table.c.deadline, table.c.deadlines)
                            .where(table.c.source == source, table.c.status.not_in(GONE))).all()
    return {row.external_id for row in rows if (last := last_deadline(row)) is None or last >= now}


_DEFAULT_PORTS = {"http": "80", "https": "443"}


def same_id(key: str) -> str:
    """What ``key`` is compared by against the stored ids (pure): case-folded, and for a link also
    without its default port, a trailing slash or an empty query, its percent-escapes read (a site
    that moved to another CMS wrote the same pages so, and each call came back as a new one)."""
    if not key.startswith(("http://", "https://", "HTTP://", "HTTPS://")):
        return key.casefold()
    try:
        parts = urlsplit(key)
        port = parts.port
    except ValueError:  # no URL after all ("http://[")
        return key.casefold()
    host = (parts.hostname or "") + (f":{port}" if port and str(port) != _DEFAULT_PORTS.get(
        parts.scheme.lower()) else "")
    path = unquote(parts.path).rstrip("/")
    query = f"?{unquote(parts.query)}" if parts.query else ""
    return f"{parts.scheme}://{host}{path}{query}".casefold()


def keep_ids_across_case(records: list[CallRecord], stored: list[str]) -> tuple[list[CallRecord],
                                                                                 dict[str, str]]:
    """``records`` with the stored id of each record whose id is none stored but is one stored id
    written in another case or, a link, otherwise (compared by :func:`same_id`), when that stored id
    is the only one comparing so and the answer does not list it, nor another record that id but for
    that; and the ids changed, new -> stored (pure)."""
    known = set(stored)
    compared = {key: same_id(key) for key in stored}
    folded = Counter(compared.values())
    owner = {fold: key for key, fold in compared.items() if folded[fold] == 1}
    answered = {r.external_id for r in records}
    answered_folded = Counter(same_id(key) for key in answered)
    renamed: dict[str, str] = {}
    kept = []
    for record in records:
        key = record.external_id
        fold = same_id(key)
        target = owner.get(fold)
        if key not in known and target is not None and target not in answered \
                and answered_folded[fold] == 1:
            renamed[key] = target
            record = replace(record, external_id=target)
        kept.append(record)
    return kept, renamed
