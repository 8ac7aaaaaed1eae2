"""The same call stored by two sources: which stored calls are copies of one call, and which copy is
the one listed, digested and alerted (``Call.duplicate_of`` names it on the other copies).

Two calls of different sources are the same call when they share
- its identifier: the topic identifier, else the call identifier (euro-access's "Call number" is the
  SEDIA topic identifier of an EU call, e.g. ERASMUS-EDU-2022-ECHE-CERT-FP), compared without case
  and spaces; or
- its page: the URL without scheme, ``www.``, a trailing slash, the fragment and tracking parameters
  (a funder's list page and its RSS feed link the same call page).

A key held by two calls of one source says nothing about identity (a feed whose items all link its
programme's home page), so it links nothing; nor does a group that would hold two calls of one source.
The copy kept is the one of the most authoritative source (eu_ft for EU calls: SEDIA is where the
Commission publishes a topic's deadlines and status), else an active copy over a closed or removed one,
else the one stored first. Every copy stays stored and is updated by its own source; the links are
worked out again from the stored identifiers after each run, so a copy whose identifier changes is
no longer a duplicate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pipeline.core.deadlines import ACTIVE

AUTHORITATIVE = ("eu_ft",)  # source types whose copy wins, first first
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|_hs\w+)$", re.I)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class StoredCopy:
    id: int
    source: str
    source_type: str
    status: str
    identifier: str | None  # topic_id, else call_id
    url: str | None


def identifier_key(identifier: str | None) -> str | None:
    """A call or topic identifier as compared: no case, no spaces; None when it cannot name one call
    (too short, or without a digit: a number like ``2025`` alone is a year, a word is a label)."""
    key = _SPACE.sub("", identifier or "").upper()
    if len(key) < 6 or not any(ch.isdigit() for ch in key) or not any(ch.isalpha() for ch in key):
        return None
    return key


def url_key(url: str | None) -> str | None:
    """A call page's URL as compared; None for no URL, one that is no web page, or a site's home page."""
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    path = parts.path.rstrip("/")
    query = sorted((name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True)
                   if not _TRACKING.match(name))
    if not path and not query:
        return None
    return f"{host}{path}" + (f"?{urlencode(query)}" if query else "")


def _keys(copy: StoredCopy) -> list[str]:
    keys = []
    if (ident := identifier_key(copy.identifier)) is not None:
        keys.append(f"id:{ident}")
    if (page := url_key(copy.url)) is not None:
        keys.append(f"url:{page}")
    return keys


def _rank(copy: StoredCopy) -> tuple[int, int, int]:
    authority = (AUTHORITATIVE.index(copy.source_type) if copy.source_type in AUTHORITATIVE
                 else len(AUTHORITATIVE))
    return (authority, 0 if copy.status in ACTIVE else 1, copy.id)


def duplicate_links(copies: Iterable[StoredCopy]) -> dict[int, int]:
    """Each duplicate's id -> the id of the copy kept; the copies kept and the calls of one source only
    are not in it."""
    copies = list(copies)
    holders: dict[str, list[StoredCopy]] = {}
    for copy in copies:
        for key in _keys(copy):
            holders.setdefault(key, []).append(copy)
    parent = {copy.id: copy.id for copy in copies}

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for held in holders.values():
        sources = [copy.source for copy in held]
        if len(held) < 2 or len(set(sources)) != len(sources):  # one source's shared key names nothing
            continue
        for copy in held[1:]:
            parent[root(copy.id)] = root(held[0].id)
    groups: dict[int, list[StoredCopy]] = {}
    for copy in copies:
        groups.setdefault(root(copy.id), []).append(copy)
    links: dict[int, int] = {}
    for group in groups.values():
        sources = [copy.source for copy in group]
        if len(group) < 2 or len(set(sources)) != len(sources):
            continue
        kept = min(group, key=_rank)
        links.update({copy.id: kept.id for copy in group if copy.id != kept.id})
    return links


_READ = sa.text(
    "SELECT c.id, c.source, COALESCE(s.type, c.source), c.status, COALESCE(c.topic_id, c.call_id), c.url, "
    "c.duplicate_of FROM call c LEFT JOIN source s ON s.name = c.source")


def relink(connection: Connection) -> int:
    """Work out the duplicate links of every stored call again and write the ones that differ; returns
    how many calls it changed."""
    rows: Sequence[sa.Row] = connection.execute(_READ).all()
    links = duplicate_links(StoredCopy(*row[:6]) for row in rows)
    changed = [(row[0], links.get(row[0])) for row in rows if row[6] != links.get(row[0])]
    for call_id, kept in changed:
        connection.execute(sa.text("UPDATE call SET duplicate_of = :kept WHERE id = :id"),
                           {"kept": kept, "id": call_id})
    return len(changed)
