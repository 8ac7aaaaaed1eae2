"""Telling a call again by its link when its source gave it a new id.

Some sources make their ids anew: a feed whose guids hold a session or a time, a calendar export
whose UIDs hold the event's start and end (The Events Calendar: "21544-1768208400-1776383940@…",
so a deadline extended is a new UID). Keyed by that id alone, the call came back as a new call each
time, and the stored one stayed (a feed closes nothing) or was removed (a calendar is complete), with
a "removed" alert and its applications left on it. An item whose id is new but whose link is the link
and title of one stored call that the answer does not list under its own id is that call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

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
