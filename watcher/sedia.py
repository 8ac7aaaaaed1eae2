"""Parsing SEDIA search API pages (EU Funding & Tenders portal) into call records. Pure: JSON in,
records out.

The real shape (see ``samples/eu_ft/README.md``): every metadata value is a list of strings;
``actions`` and ``budgetOverview`` are JSON inside a string (possibly cut short, so invalid); ``keywords``
is sometimes one string holding a JSON list; ``typesOfAction`` has stray double spaces; stale
``SEDIA_PRD_CENTRICITY`` records and duplicate references appear; deadlines at midnight UTC mean
"date only" (taken as 17:00 Brussels, marked assumed). Records are keyed by ``reference``: cascade
calls (type 8) share their parent topic's identifier.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from pipeline.core.errors import ParseError
from pipeline.core.text import one_line, shorten
from watcher.html_text import html_to_text
from watcher.records import CallRecord, Deadline, record_problem
from watcher.sedia_values import (
    deadline_of,
    first,
    json_field,
    keywords_of,
    loads,
    no_lone_surrogates,
    parse_moment,
    text_of,
    unreadable_type,
    values,
)
from watcher.urls import goes_nowhere

STATUS_BY_CODE = {"31094501": "forthcoming", "31094502": "open", "31094503": "closed"}
TYPE_LABELS = {"1": "topic", "2": "call for proposals (PROSPECT)", "8": "cascade funding call"}
# SEDIA frameworkProgramme ids → names, from the portal's facet labels; the config's labels and a
# recording's facets.json take precedence.
KNOWN_PROGRAMMES = {
    "43108390": "Horizon Europe (HORIZON)", "43152860": "Digital Europe Programme (DIGITAL)",
    "44181033": "European Defence Fund (EDF)",
    "43252405": "Programme for the Environment and Climate Action (LIFE)",
    "43252476": "Single Market Programme (SMP)", "111111": "EU External Action - Prospect (RELEX-PROSPECT)",
    "43298916": "Euratom Research and Training Programme (EURATOM)",
    "43251589": "Citizens, Equality, Rights and Values Programme (CERV)",
    "43251567": "Connecting Europe Facility (CEF)", "43251814": "Creative Europe Programme (CREA)",
    "43353764": "Erasmus+ (ERASMUS+)", "43252449": "Research Fund for Coal & Steel (RFCS)",
    "43089234": "Innovation Fund (INNOVFUND)",
    "44416173": "Interregional Innovation Investments Instrument (I3)",
}


@dataclass
class SediaPage:
    records: list[CallRecord]
    total_results: int
    results: int  # results on the page before dropping anything
    stale: int = 0  # SEDIA_PRD_CENTRICITY records dropped
    duplicates: int = 0  # repeated references dropped
    skipped: list[str] = field(default_factory=list)  # results that could not be read, and why
    # reference -> raw hash (:func:`raw_hash`) of each result parsed into ``records``
    raw_hashes: dict[str, str] = field(default_factory=dict)
    # reference -> raw hash of each result left unparsed: the caller's ``known`` hash of it was the same
    unchanged: dict[str, str] = field(default_factory=dict)
    conflicts: set[str] = field(default_factory=set)  # references sent twice with different content


def load_page(body: bytes | str, *, source: str, page: str) -> dict[str, Any]:
    """The JSON of one search page; ParseError naming the source and the page when malformed."""
    try:
        data = loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(source, f"{page} is not valid JSON ({shorten(str(exc), 120)}); the API answered "
                                 "something unexpected, try again later") from None
    except RecursionError:
        raise ParseError(source, f"{page} is not valid JSON (nested too deeply to read); the API answered "
                                 "something unexpected, try again later") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ParseError(source, f"{page} has no 'results' list; the search API changed its answer")
    total = data.get("totalResults")
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise ParseError(source, f"{page} has no valid 'totalResults' (got {shorten(repr(total))}); the "
                                 "search API changed its answer")
    return data


def _deadlines(meta: Mapping[str, Any], actions: Any) -> tuple[Deadline, ...]:
    """Every deadline the result gives. A result that states deadlines of which none can be read is
    malformed (ValueError): stored without one it would read as "no deadline", which the portal never
    said."""
    given = values(meta, "deadlineDate")
    moments = [m for m in (parse_moment(v) for v in given) if m is not None]
    if given and not moments:
        raise ValueError(f"deadlineDate {shorten(given[0], 60)!r} cannot be read as a date")
    dates = {m.date() for m in moments}
    for action in actions if isinstance(actions, list) else []:
        for text in (action.get("deadlineDates") or []) if isinstance(action, dict) else []:
            moment = parse_moment(str(text))
            if moment is not None and moment.date() not in dates:
                dates.add(moment.date())
                moments.append(moment)
    found = {deadline_of(m) for m in moments}
    return tuple(sorted(found, key=lambda d: d.at))


_ENTRY_START = re.compile(r'\{"action":"((?:[^"\\]|\\.)*)"')


def budget_entries(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The entries of ``budgetOverview.budgetTopicActionMap``. When the JSON is cut short (as in
    recorded pages), the entries that can still be read are salvaged: each ``{"action": …}`` object is
    decoded on its own, and a cut entry keeps the numbers that precede the cut. No JSON library reads
    a truncated document, so this small recovery is written here."""
    overview = json_field(meta, "budgetOverview")
    if isinstance(overview, dict):
        entries = []
        for group in (overview.get("budgetTopicActionMap") or {}).values():
            entries.extend(e for e in (group if isinstance(group, list) else []) if isinstance(e, dict))
        return entries
    text = first(meta, "budgetOverview")
    if not text:
        return []
    decoder = json.JSONDecoder()
    out = []
    for match in _ENTRY_START.finditer(text):
        try:
            entry = no_lone_surrogates(decoder.raw_decode(text, match.start())[0], text)
        except (ValueError, RecursionError):
            entry = _salvage_entry(text[match.start():])
        if isinstance(entry, dict):
            out.append(entry)
    return out


def _salvage_entry(fragment: str) -> dict[str, Any]:
    action = _ENTRY_START.match(fragment)
    try:
        name = loads(f'"{action.group(1)}"') if action else ""
    except ValueError:  # an invalid escape: keep the text as it is
        name = action.group(1) if action else ""
    entry: dict[str, Any] = {"action": name}
    for key in ("expectedGrants", "minContribution", "maxContribution"):
        number = re.search(rf'"{key}":(-?\d+(?:\.\d+)?)[,}}]', fragment)
        if number:
            entry[key] = float(number.group(1))
    years = re.search(r'"budgetYearMap":(\{[^{}]*\})', fragment)
    if years:
        try:
            entry["budgetYearMap"] = loads(years.group(1))
        except ValueError:
            pass
    return entry


def topic_budget(identifier: str | None, entries: list[dict[str, Any]], type_of_action: str | None,
                 ) -> dict[str, Any] | None:
    """The budget entry of this topic: its ``action`` starts with the topic identifier. Entries of
    other topics (the overview covers the whole call) are ignored and never added up."""
    if not identifier:
        return None
    mine = [e for e in entries
            if one_line(str(e.get("action", ""))).split(" - ")[0].strip() == identifier]
    if not mine:
        return None
    wanted = one_line(type_of_action).casefold()
    for entry in mine:
        if wanted and wanted in one_line(str(entry.get("action", ""))).casefold():
            return entry
    return mine[0]


def _number(value: Any) -> float | None:
    """A finite number at least 0, or None (absent, not a number, "1e999" / NaN, or below zero: not an
    amount)."""
    try:
        number = float(value) if value is not None and str(value).strip() != "" else None
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number is not None and math.isfinite(number) and number >= 0 else None


def _budget_fields(entry: dict[str, Any] | None) -> dict[str, Any]:
    if entry is None:
        return {}
    years = entry.get("budgetYearMap") if isinstance(entry.get("budgetYearMap"), dict) else {}
    amounts = [a for a in (_number(v) for v in years.values()) if a is not None]
    grants = _number(entry.get("expectedGrants"))
    return {
        # one topic's budget over its years; the call's other topics are never added
        "budget": _number(sum(amounts)) if amounts else None,  # None if the sum overflows
        "expected_grants": int(grants) if grants is not None else None,
        "min_contribution": _number(entry.get("minContribution")),
        "max_contribution": _number(entry.get("maxContribution")),
    }


def _type_of_action(meta: Mapping[str, Any], actions: Any) -> str | None:
    types = [one_line(t) for t in values(meta, "typesOfAction")]
    if types:
        return "; ".join(dict.fromkeys(t for t in types if t))
    for action in actions if isinstance(actions, list) else []:
        for kind in (action.get("types") or []) if isinstance(action, dict) else []:
            text = one_line(str(kind.get("typeOfAction", "")))
            if text:
                return text
    return None


def _reference(result: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    """The result's ``reference`` (or metadata ``REFERENCE``) as text; ValueError when it is missing or
    is a list or object, whose printed form would be a garbage id."""
    raw = result.get("reference")
    if raw is None or raw == "":
        raw = meta.get("REFERENCE")
        if isinstance(raw, list) and len(raw) == 1:  # metadata values are lists of one string
            raw = raw[0]
    if raw is None or raw == "" or raw == []:
        raise ValueError("result without a reference")
    if not isinstance(raw, (str, int)) or isinstance(raw, bool):
        raise ValueError(f"reference is a {type(raw).__name__}, not text")
    reference = str(raw).strip()
    if not reference:
        raise ValueError("result without a reference")
    return reference


_STATUS_WORDS = {name: name for name in STATUS_BY_CODE.values()}


def _status(reference: str, written: str | None, actions: list[Any]) -> str:
    """The result's status from its code, else the word the portal shows ("Forthcoming"), else its
    first action's status; ValueError when none of them is one the portal documents. An unknown code
    read as "open" made a topic months from opening an open call."""
    action = actions[0].get("status") if actions and isinstance(actions[0], dict) else None
    action = action if isinstance(action, dict) else {}
    candidates = [written, str(action.get("id") or ""), str(action.get("abbreviation") or "")]
    for text in candidates:
        key = (text or "").strip()
        status = STATUS_BY_CODE.get(key) or _STATUS_WORDS.get(key.casefold())
        if status is not None:
            return status
    if not any(c and c.strip() for c in candidates):
        # every topic the portal lists has one; a result without it lost its metadata (all null), and
        # read so it was an open call without deadline or description over the stored one
        raise ValueError(f"{reference} gives no status, so whether it is open cannot be told")
    shown = next(c for c in candidates if c and c.strip())
    raise ValueError(f"status {shorten(shown, 40)!r} is none the portal documents (31094501 forthcoming, "
                     "31094502 open, 31094503 closed), so whether the call is open cannot be told")


# fields whose value, read as none, would replace the stored one (a title falls back on the summary)
_TEXT_FIELDS = ("identifier", "callIdentifier", "startDate", "deadlineDate", "descriptionByte")


def parse_result(result: Mapping[str, Any], *, programme_names: Mapping[str, str] | None = None
                 ) -> CallRecord:
    """One SEDIA record as a CallRecord; ValueError when it lacks a reference, title or status."""
    meta = result.get("metadata") or {}
    if not isinstance(meta, Mapping):
        raise ValueError(f"metadata is {type(meta).__name__}, not an object")
    reference = _reference(result, meta)
    for key in _TEXT_FIELDS:
        kind = unreadable_type(meta.get(key))
        if kind is not None:
            raise ValueError(f"{key} is {kind}, not text")
    identifier = first(meta, "identifier")
    kind = first(meta, "type")
    actions = json_field(meta, "actions")
    action_list = actions if isinstance(actions, list) else []
    # the result's summary is HTML ("Designing &amp; optimising"), its metadata title plain text
    title = first(meta, "title") or html_to_text(str(result.get("summary") or ""))
    call_title = first(meta, "callTitle")
    if kind == "8" and call_title:
        title, parent_title = call_title, title  # a cascade call: callTitle is the call itself
    else:
        parent_title = None
    if not title:
        raise ValueError(f"{reference} has no title")
    status = _status(reference, first(meta, "status"), action_list)
    programme_id = first(meta, "frameworkProgramme")
    names = programme_names or {}
    programme = (names.get(programme_id) or KNOWN_PROGRAMMES.get(programme_id or "") or programme_id) \
        if programme_id else None
    type_of_action = _type_of_action(meta, actions)
    entry = topic_budget(identifier, budget_entries(meta), type_of_action)
    money = _budget_fields(entry)
    extra: dict[str, Any] = {"type": kind, "type_label": TYPE_LABELS.get(kind or "", kind),
                             "programme_id": programme_id, "call_title": call_title}
    if parent_title:
        extra["parent_topic_title"] = parent_title
    if money.get("budget") and money.get("max_contribution") and money.get("expected_grants"):
        # joint-undertaking calls repeat one call-level total in every topic's entry
        most = money["max_contribution"] * money["expected_grants"]
        extra["budget_shared"] = money["budget"] > most * 1.001
    optional = {
        "destination": first(meta, "destinationDescription"),
        "destination_details": html_to_text(first(meta, "destinationDetails")) or None,
        "keywords": keywords_of(meta) or None,
        "tags": values(meta, "tags") or None,
        "cross_cutting_priorities": values(meta, "crossCuttingPriorities") or None,
        "programme_divisions": values(meta, "programmeDivision") or None,
        "deadline_model": first(meta, "deadlineModel"),
        "submission_procedure": next(
            (a["submissionProcedure"].get("abbreviation") for a in action_list
             if isinstance(a, dict) and isinstance(a.get("submissionProcedure"), dict)), None),
    }
    extra.update({k: v for k, v in optional.items() if v})
    record = CallRecord(
        external_id=reference,
        title=one_line(title),
        text=html_to_text(first(meta, "descriptionByte")),
        url=next((u for u in (text_of(result.get("url")), first(meta, "url")) if u and not goes_nowhere(u)),
                 None),
        status=status,
        programme=programme,
        call_id=first(meta, "callIdentifier"),
        topic_id=identifier,
        opening_date=parse_moment(first(meta, "startDate")),
        deadlines=_deadlines(meta, actions),
        type_of_action=type_of_action,
        extra=extra,
        **money,
    )
    problem = record_problem(record)
    if problem is not None:
        raise ValueError(problem)
    return record


# The modules whose code decides what a result parses into; with the versions of the libraries they
# use, they make the parser's fingerprint.
_PARSER_MODULES = ("watcher.sedia", "watcher.sedia_values", "watcher.html_text", "watcher.records",
                   "pipeline.core.text", "pipeline.core.clock")
_PARSER_LIBRARIES = ("lxml", "lxml_html_clean")


@functools.cache
def parser_fingerprint() -> str:
    """SHA-256 of the parsing code and its libraries' versions: a stored raw hash made by other code
    no longer matches, so an upgrade parses every result again instead of trusting the old parse."""
    digest = hashlib.sha256()
    for name in _PARSER_MODULES:
        digest.update(Path(importlib.import_module(name).__file__ or "").read_bytes())
    for library in _PARSER_LIBRARIES:
        try:
            digest.update(metadata.version(library).encode())
        except metadata.PackageNotFoundError:
            digest.update(b"-")
    return digest.hexdigest()


def parse_salt(programme_names: Mapping[str, str] | None) -> str:
    """What besides a result's own JSON decides its parse: the parser and the programme names."""
    names = json.dumps(dict(programme_names or {}), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(f"{parser_fingerprint()}\0{names}".encode()).hexdigest()


def raw_hash(result: Any, salt: str) -> str:
    """SHA-256 of one result as loaded (its JSON re-encoded compactly, key order kept) and ``salt``:
    the same for the same bytes from the source, parsed by the same code with the same names."""
    encoded = json.dumps(result, ensure_ascii=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{salt}\0{encoded}".encode("ascii")).hexdigest()


def parse_page(data: Mapping[str, Any], *, source: str = "eu_ft", page: str = "page 1",
               programme_names: Mapping[str, str] | None = None,
               known: Mapping[str, str] | None = None, salt: str | None = None) -> SediaPage:
    """The records of one search page (as loaded by :func:`load_page`): stale ``SEDIA_PRD_CENTRICITY``
    records and repeated references dropped; a result that cannot be read is skipped with a reason.

    ``known`` maps references to the raw hashes (:func:`raw_hash`, with ``salt``, by default
    :func:`parse_salt` of ``programme_names``) of the results the stored calls were parsed from: a
    result with the same raw hash is not parsed again but listed in ``unchanged``."""
    results = data.get("results") or []
    out = SediaPage(records=[], total_results=int(data.get("totalResults") or 0), results=len(results))
    salt = parse_salt(programme_names) if salt is None else salt
    known = known or {}
    kept: dict[str, CallRecord | None] = {}  # reference -> its record, None when left unparsed
    for position, result in enumerate(results, start=1):
        if not isinstance(result, dict):
            out.skipped.append(f"{page}, result {position}: not an object")
            continue
        meta = result.get("metadata") or {}
        if isinstance(meta, Mapping) and first(meta, "DATASOURCE") not in (None, "SEDIA"):
            out.stale += 1  # SEDIA_PRD_CENTRICITY: an old copy with an out-of-date status
            continue
        hashed = raw_hash(result, salt)
        if known:
            reference = _known_reference(result, meta, known, hashed)
            if reference is not None:
                if reference in kept:
                    out.duplicates += 1
                    if kept[reference] is not None:  # parsed before: it differed from the stored one
                        out.conflicts.add(reference)
                else:
                    kept[reference] = None
                    out.unchanged[reference] = hashed
                continue
        try:
            record = parse_result(result, programme_names=programme_names)
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            reason = shorten(one_line(str(exc)) or type(exc).__name__, 160)
            try:
                reference = _reference(result, meta if isinstance(meta, Mapping) else {})
            except ValueError:
                reference = None
            named = f" ({shorten(reference, 80)})" if reference else ""
            out.skipped.append(f"{page}, result {position}{named}: {reason}")
            continue
        if record.external_id in kept:
            out.duplicates += 1
            earlier = kept[record.external_id]
            if earlier is None or earlier.content_hash() != record.content_hash():
                out.conflicts.add(record.external_id)
            continue
        kept[record.external_id] = record
        out.records.append(record)
        out.raw_hashes[record.external_id] = hashed
    return out


def _known_reference(result: Mapping[str, Any], meta: Any, known: Mapping[str, str], hashed: str,
                     ) -> str | None:
    """The result's reference when ``known`` holds its raw hash for it (it parsed into the stored call)."""
    try:
        reference = _reference(result, meta if isinstance(meta, Mapping) else {})
    except ValueError:
        return None
    return reference if known.get(reference) == hashed else None
