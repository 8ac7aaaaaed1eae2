"""Writing a source's records: upsert, change history, and closing what disappeared.

A run is two short transactions around the fetch and one for the write:

1. :func:`begin_run` stores a ``fetch_run`` row ("running"), so a crash is visible later; the next
   run of the source that knows it runs alone marks such a leftover failed (:data:`INTERRUPTED`).
2. The source fetches and parses everything (no database writes meanwhile).
3. :func:`finish_run` writes all records, their changes, the calls that disappeared, the states of
   the pages the source watches (``watched_page``) and the run's outcome in **one** transaction, or
   :func:`fail_run` records the error and touches no call and no page state.

So a failed or killed run never leaves half of its calls written, and calls are marked closed or
removed only after a complete, successful run.

Closing is guarded three times, because a short but well-formed answer looks like a complete one:

- an answer with no calls from a source that has active calls is never complete (outcome "partial");
- the mass-closure guard: a complete run that would take away, before their last deadline, more than
  ``max_close_share`` of the source's active calls (and more than one), or more than ``max_close``,
  closes nothing, stores the rest and ends "suspicious" with a warning saying how many. Calls whose
  last deadline has passed are expected to leave a source, so they never count towards the guard;
- confirmation: a call missing from a complete answer before its last deadline is only marked
  (``call.missing_since``), removed when the next complete answer lacks it too, cleared by any answer
  listing it: one short answer removes nothing; a withdrawn call is reported one run later.

On PostgreSQL each write transaction of a source holds a transaction-level advisory lock on the
source (:func:`pipeline.core.locks.hold_for_transaction`), so two runs of one source never insert the
same call at once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pipeline.core.bulk import insert_rows
from pipeline.core.clock import as_utc
from pipeline.core.db import SQLITE_CACHE_KIB, session_scope
from pipeline.core.locks import hold_for_transaction
from pipeline.core.models import EMPTY_ANSWER, INTERRUPTED, Call, CallChange, FetchRun, Source, WatchedPage
from watcher.records import CallRecord, PageState

# Every field of a record is copied to its Call row; all but the identity and the unstructured
# extras are compared between runs, a difference becoming a CallChange row.
RECORD_FIELDS = tuple(f.name for f in fields(CallRecord) if f.name != "external_id")
TRACKED_FIELDS = tuple(name for name in RECORD_FIELDS if name != "extra")
GONE = ("closed", "removed", "withdrawn")
# last_seen of an unchanged call is refreshed at most this often, so re-syncing unchanged data
# writes nothing.
LAST_SEEN_RESOLUTION = timedelta(hours=20)
MAX_CLOSE_SHARE = 0.2  # the default share of a source's active calls one run may take away
WRITE_CACHE_KIB = 16_384  # SQLite's page cache while a run writes (see _write_cache)
WRITE_CHUNK = 2000  # rows in one executemany: bounds the memory of a large first sync
ID_CHUNK = 500  # ids in one IN (...) list: under every backend's limit of bound parameters


@dataclass
class RunResult:
    run_id: int
    source: str
    outcome: str  # ok | suspicious (the mass-closure guard held back its closures) | failed
    complete: bool = False
    seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    closed: int = 0
    missing: int = 0  # calls this complete answer lacked for the first time (the next lacking them removes)
    duplicates: int = 0
    error: str | None = None


def ensure_source(session: Session, name: str, type_: str, url: str | None, now: datetime) -> None:
    existing = session.exec(select(Source).where(Source.name == name)).first()
    if existing is None:
        session.add(Source(name=name, type=type_, url=url, created_at=now))
    elif (existing.type, existing.url) != (type_, url):
        existing.type, existing.url = type_, url
        session.add(existing)


def begin_run(engine: Engine, source: str, now: datetime, *, type_: str = "", url: str | None = None,
              alone: bool = False) -> int:
    """Store a new "running" run of ``source``. ``alone`` says the caller holds the source's run lock
    (see :func:`watcher.runner.run_source`), so no other run of it is alive: any earlier run still
    "running" was killed with its process, and is marked failed as :data:`INTERRUPTED`."""
    with session_scope(engine) as session:
        hold_for_transaction(session, f"write:{source}")
        ensure_source(session, source, type_, url, now)
        if alone:
            leftovers = sa.update(FetchRun).where(FetchRun.source == source, FetchRun.outcome == "running")
            session.execute(leftovers.values(outcome="failed", error=INTERRUPTED))
        run = FetchRun(source=source, started_at=now)
        session.add(run)
        session.flush()
        return int(run.id)  # type: ignore[arg-type]  # set by the flush


def fail_run(engine: Engine, run_id: int, error: str, now: datetime) -> RunResult:
    with session_scope(engine) as session:
        run = session.get(FetchRun, run_id)
        assert run is not None
        run.outcome, run.error, run.finished_at, run.complete = "failed", error, now, False
        session.add(run)
        return RunResult(run_id=run_id, source=run.source, outcome="failed", error=error)


def _db_value(name: str, value: Any) -> Any:
    """A tracked value as comparable JSON-ready data."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if name == "deadlines":
        return [{"at": as_utc(datetime.fromisoformat(d["at"])).isoformat(),
                 "time_assumed": bool(d.get("time_assumed"))} for d in (value or [])]
    return value


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


_ROW_FIELDS = tuple(name for name in RECORD_FIELDS if name != "deadlines")


def _values(record: CallRecord, now: datetime, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The columns of a call's row that a record sets (also on a call that changed), added to
    ``values`` (a new dict by default)."""
    values = {} if values is None else values
    fields_of = record.__dict__  # the dataclass's own fields, read without a getattr each
    for name in _ROW_FIELDS:
        values[name] = fields_of[name]
    deadlines = record.deadlines
    values.update(deadlines=[d.to_json() for d in deadlines], deadline=deadlines[0].at if deadlines else None,
                  deadline_time_assumed=any(d.time_assumed for d in deadlines),
                  content_hash=record.content_hash(), last_seen=now)
    return values


def _changes(old: Mapping[str, Any], record: CallRecord) -> list[tuple[str, Any, Any]]:
    new = record.tracked()
    out = []
    for name in TRACKED_FIELDS:
        old_value, new_value = _db_value(name, old[name]), _db_value(name, new[name])
        if old_value != new_value:
            out.append((name, old_value, new_value))
    return out


def _by_id(session: Session, columns: Sequence[Any], ids: Sequence[int]) -> dict[int, Mapping[str, Any]]:
    """id -> the given columns of those calls, read in chunks of :data:`ID_CHUNK` ids."""
    table = Call.__table__
    out: dict[int, Mapping[str, Any]] = {}
    for at in range(0, len(ids), ID_CHUNK):
        chunk = ids[at:at + ID_CHUNK]
        for row in session.connection().execute(sa.select(table.c.id, *columns).where(table.c.id.in_(chunk))):
            out[row.id] = row._mapping
    return out


def watched_pages(engine: Engine, source: str) -> dict[str, str]:
    """URL -> content hash of the pages ``source`` watched in its last written runs (read only: a
    fetch may look, the store writes)."""
    with Session(engine) as session:
        rows = session.exec(select(WatchedPage.url, WatchedPage.content_hash)
                            .where(WatchedPage.source == source))
        return {url: content_hash for url, content_hash in rows}


def raw_hashes(engine: Engine, source: str) -> dict[str, str]:
    """External id -> raw hash of the calls of ``source`` that have one (read only: the fetch skips
    parsing what it sent before, the store writes). A call the store closed or removed has none, so
    a result that comes back is parsed and reopens it."""
    table = Call.__table__
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.external_id, table.c.raw_hash)
                            .where(table.c.source == source, table.c.raw_hash.is_not(None)))
        return {external_id: hashed for external_id, hashed in rows}


def _write_pages(session: Session, source: str, pages: Iterable[PageState], now: datetime) -> None:
    """Keep each page's hash and text; ``changed_at`` moves only when the hash differs."""
    known = {row.url: row for row in session.exec(select(WatchedPage).where(WatchedPage.source == source))}
    for page in pages:
        row = known.get(page.url)
        if row is None:
            row = WatchedPage(source=source, url=page.url, content_hash=page.content_hash, text=page.text,
                              checked_at=now, changed_at=now)
            known[page.url] = row
        else:
            if row.content_hash != page.content_hash:
                row.content_hash, row.text, row.changed_at = page.content_hash, page.text, now
            row.checked_at = now
        session.add(row)


def finish_run(engine: Engine, run_id: int, records: Iterable[CallRecord], now: datetime, *,
               complete: bool, warning: str | None = None, pages: Iterable[PageState] = (),
               max_close_share: float = MAX_CLOSE_SHARE, max_close: int | None = None,
               raw_hashes: Mapping[str, str] | None = None,
               unchanged: Mapping[str, str] | None = None, partial: Collection[str] = (),
               unwatched: Collection[str] = ()) -> RunResult:
    """Write one run's records and watched page states in a single transaction and record the run's
    outcome.

    ``complete`` says the source read everything it should have; only then are stored calls that
    are missing from ``records`` marked closed (deadline passed) or removed (deadline still ahead),
    unless the mass-closure guard (``max_close_share``, ``max_close``; see the module) holds them back.

    ``raw_hashes`` (external id -> raw hash) is stored with the records. ``unchanged`` names the calls
    the source saw but did not parse, because the raw hash it read for them (:func:`raw_hashes`) is the
    one stored: they count as seen and unchanged. One whose stored raw hash differs by now (another
    run wrote or closed it meanwhile) cannot be written from a hash: the run is then incomplete.

    ``partial`` names the records the source read in part only (a call page that failed): such a
    record of a call stored and not gone counts as seen and unchanged and writes nothing, since the
    fields it lacks would erase what is stored and its few fields may be another page's (a listing's
    one deadline for a call page's several); a new call, or one that comes back, is written as read.
    Records sent more than once with different content are handled so too, and make the run incomplete.
    ``unwatched``: stored calls the run did not ask for (their programme left the config), never missing.

    Rows are written in bulk (inserts and updates by id as executemany, reads of many ids in chunks):
    a day of a thousand calls is a handful of statements, not one or two per call.
    """
    with session_scope(engine) as session, _write_cache(session):
        run = session.get(FetchRun, run_id)
        assert run is not None
        hold_for_transaction(session, f"write:{run.source}")
        result = RunResult(run_id=run_id, source=run.source, outcome="ok", complete=complete,
                           error=warning)
        existing: dict[str, tuple[Any, ...]] = {}
        marked: dict[str, int] = {}  # external id -> id of the calls marked missing by an earlier answer
        for row in session.exec(select(Call.external_id, Call.id, Call.content_hash, Call.status,
                                       Call.last_seen, Call.raw_hash, Call.missing_since)
                                .where(Call.source == run.source)):
            existing[row.external_id] = (row.id, row.content_hash, row.status, row.last_seen, row.raw_hash)
            if row.missing_since is not None:
                marked[row.external_id] = row.id
        raw_hashes, records = raw_hashes or {}, list(records)
        conflicts = _conflicting(records)
        if conflicts:
            partial = {*partial, *conflicts}
            complete = result.complete = False
            warning = _join(warning, f"{len(conflicts)} call(s) sent more than once with different "
                                     f"content (first: {sorted(conflicts)[0][:80]!r}); kept as stored, "
                                     "nothing closed")
        seen: set[str] = set()
        new_records: list[CallRecord] = []
        stale: list[int] = []  # unchanged calls whose last_seen is older than LAST_SEEN_RESOLUTION
        rehashed: list[dict[str, Any]] = []  # unchanged calls whose raw hash is new (id, raw_hash)
        differing: dict[int, CallRecord] = {}  # call id -> its record, when its hash or status differs
        for record in records:
            if record.external_id in seen:
                result.duplicates += 1
                continue
            seen.add(record.external_id)
            result.seen += 1
            known = existing.get(record.external_id)
            if known is None:
                new_records.append(record)
                result.new += 1
                continue
            call_id, content_hash, status, last_seen, stored_raw = known
            if record.external_id in partial and status not in GONE:
                result.unchanged += 1
                if now - as_utc(last_seen) >= LAST_SEEN_RESOLUTION:
                    stale.append(call_id)
                continue
            # the hash covers the source's status; a call we closed that comes back is a change
            if content_hash == record.content_hash() and status == record.status:
                result.unchanged += 1
                if now - as_utc(last_seen) >= LAST_SEEN_RESOLUTION:
                    stale.append(call_id)
                if raw_hashes.get(record.external_id, stored_raw) != stored_raw:
                    rehashed.append({"id": call_id, "raw_hash": raw_hashes[record.external_id]})
                continue
            differing[call_id] = record
        lost = 0  # unparsed calls whose stored raw hash changed since the source read it
        for external_id, hashed in (unchanged or {}).items():
            if external_id in seen:
                result.duplicates += 1
                continue
            known = existing.get(external_id)
            if known is None or known[4] != hashed:
                lost += 1
                continue
            seen.add(external_id)
            result.seen += 1
            result.unchanged += 1
            if now - as_utc(known[3]) >= LAST_SEEN_RESOLUTION:
                stale.append(known[0])
        if lost and complete:
            complete = result.complete = False
            warning = _join(warning, f"{lost} call(s) changed in the database while the source was read; "
                                     "nothing closed, the next run reads them again")
        # rows built a chunk at a time: a first sync of 100,000 calls never holds them all as rows
        _insert(session, Call.__table__, (_values(record, now, {
            "source": run.source, "external_id": record.external_id, "first_seen": now, "closed_at": None,
            "removed_at": None, "raw_hash": raw_hashes.get(record.external_id)}) for record in new_records))
        _touch(session, stale, now)
        _update_by_id(session, Call.__table__, rehashed)
        change_rows: list[dict[str, Any]] = []
        changed = _update(session, differing, run_id, now, change_rows, raw_hashes)
        result.changed += changed
        result.unchanged += len(differing) - changed
        active = sum(1 for _, _, status, _, _ in existing.values() if status not in GONE)
        # empty is short only while a dropped call is ahead: a list of coming events empties as its last ends
        if complete and not seen and active and any(
                not _ended(call["deadlines"], now) for call in _missing(session, existing, seen)):
            complete = result.complete = False
            warning = _join(warning, f"{EMPTY_ANSWER} {active} were active; "
                                     "nothing closed, the next complete run closes what really ended")
        seen.update(unwatched)  # after the empty check: an answer of nothing asked for is still empty
        # an answer listing a call marked missing clears the mark, complete or not
        _update_by_id(session, Call.__table__, [{"id": call_id, "missing_since": None}
                                                for external_id, call_id in marked.items()
                                                if external_id in seen])
        if complete:
            missing = _missing(session, existing, seen)
            early = sum(1 for call in missing if not _ended(call["deadlines"], now))
            too_many = (early > 1 and early > max_close_share * active) or \
                (max_close is not None and early > max_close)
            if too_many:
                result.outcome = "suspicious"
                warning = _join(warning, f"would take away {early} of {active} active calls before their "
                                         f"deadlines (more than max_close_share={max_close_share:g}"
                                         f"{f' or max_close={max_close}' if max_close is not None else ''}); "
                                         "closed none. If the source really dropped them, raise the limit "
                                         "for this source and sync again")
            else:
                first = [call for call in missing
                         if call["missing_since"] is None and not _ended(call["deadlines"], now)]
                _update_by_id(session, Call.__table__, [{"id": call["id"], "missing_since": now}
                                                        for call in first])
                result.missing = len(first)
                marked = {call["id"] for call in first}
                result.closed = _close(session, [c for c in missing if c["id"] not in marked], run_id, now,
                                       change_rows)
        _insert(session, CallChange.__table__, change_rows)
        _write_pages(session, run.source, pages, now)
        run.finished_at, run.outcome, run.complete = now, result.outcome, complete
        run.seen, run.new, run.changed = result.seen, result.new, result.changed
        run.unchanged, run.closed, run.error = result.unchanged, result.closed, warning
        result.error = warning
        session.add(run)
        return result


def _conflicting(records: Sequence[CallRecord]) -> set[str]:
    """The external ids a run sent more than once with different content: which copy is true cannot
    be told, so their stored calls are kept (a new one is stored from its first copy)."""
    counts = Counter(r.external_id for r in records)
    first: dict[str, str] = {}
    # only ids sent more than once are hashed here: a content hash is a JSON dump of the record
    return {r.external_id for r in records if counts[r.external_id] > 1
            and first.setdefault(r.external_id, r.content_hash()) != r.content_hash()}


@contextmanager
def _write_cache(session: Session) -> Iterator[None]:
    """On SQLite, the page cache at :data:`WRITE_CACHE_KIB` while a run writes, then back at the
    connection's own size (:data:`pipeline.core.db.SQLITE_CACHE_KIB`, for scoring's indexes). A first
    sync of 100,000 calls otherwise fills the whole large cache on top of the records it holds (50 MB
    of its peak); the calls' indexes fit in the smaller one, and the rows it appends are spilled to
    the write-ahead log either way."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        with suppress(sa.exc.DBAPIError):  # a broken connection is discarded, its cache with it
            connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")


def _insert(session: Session, table: sa.Table, rows: Iterable[dict[str, Any]]) -> None:
    """One executemany per :data:`WRITE_CHUNK` rows (dicts with the same keys): on SQLite the driver's
    own (:func:`pipeline.core.bulk.insert_rows`), each value converted as SQLAlchemy's executemany
    converts it (so the bytes stored are the same), without its per-row bookkeeping: that was a sixth
    of a first sync."""
    insert_rows(session, table, rows, chunk=WRITE_CHUNK, dialect_types=True)


def _update_by_id(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """``UPDATE … WHERE id = …`` for each row (dicts with ``id`` and the same other keys), as one
    executemany per :data:`WRITE_CHUNK` rows."""
    if not rows:
        return
    keys = [key for key in rows[0] if key != "id"]
    statement = sa.update(table).where(table.c.id == sa.bindparam("_id")).values(
        {key: sa.bindparam(f"_{key}", type_=table.c[key].type) for key in keys})
    for at in range(0, len(rows), WRITE_CHUNK):
        session.connection().execute(statement, [{f"_{key}": value for key, value in row.items()}
                                                 for row in rows[at:at + WRITE_CHUNK]])


def _touch(session: Session, ids: list[int], now: datetime) -> None:
    """Refresh last_seen of unchanged calls: one UPDATE per :data:`ID_CHUNK` ids."""
    table = Call.__table__
    for at in range(0, len(ids), ID_CHUNK):
        session.connection().execute(sa.update(table).where(table.c.id.in_(ids[at:at + ID_CHUNK]))
                                     .values(last_seen=now))


def _update(session: Session, differing: dict[int, CallRecord], run_id: int, now: datetime,
            change_rows: list[dict[str, Any]], raw_hashes: Mapping[str, str]) -> int:
    """Write the records of calls whose hash or status differs, and a change row per tracked field
    that differs (appended to ``change_rows``); the number of calls with such a change."""
    table = Call.__table__
    old = _by_id(session, [table.c[name] for name in (*TRACKED_FIELDS, "closed_at", "removed_at")],
                 list(differing))
    updates, changed = [], 0
    for call_id, record in differing.items():
        stored = old[call_id]
        changes = _changes(stored, record)
        for name, before, after in changes:
            change_rows.append({"call_id": call_id, "run_id": run_id, "field": name, "old": _as_text(before),
                                "new": _as_text(after), "changed_at": now})
        changed += 1 if changes else 0
        row = {"id": call_id, "closed_at": stored["closed_at"], "removed_at": stored["removed_at"],
               "raw_hash": raw_hashes.get(record.external_id), **_values(record, now)}
        if record.status not in GONE:
            row["closed_at"] = row["removed_at"] = None
        updates.append(row)
    _update_by_id(session, table, updates)
    return changed


def _join(first: str | None, second: str) -> str:
    return f"{first}; {second}" if first else second


def _last_deadline(deadlines: list[dict[str, Any]] | None) -> datetime | None:
    return max((as_utc(datetime.fromisoformat(d["at"])) for d in deadlines or []), default=None)


def _ended(deadlines: list[dict[str, Any]] | None, now: datetime) -> bool:
    """The call's last deadline has passed: it is expected to leave its source."""
    last = _last_deadline(deadlines)
    return last is not None and last < now


def _missing(session: Session, existing: Mapping[str, tuple[Any, ...]], seen: set[str],
             ) -> list[Mapping[str, Any]]:
    """The source's active calls the run did not see (id, external_id, status, deadlines, missing mark),
    in id order. They are among ``existing`` (external id -> (id, content hash, status, …) of the
    source's calls as the run began), as the run writes only calls it saw: only they are read, not every
    active call again (a first sync of 100,000 would read back and decode all it just wrote)."""
    table = Call.__table__
    ids = sorted(call_id for external_id, (call_id, _, status, *_) in existing.items()
                 if status not in GONE and external_id not in seen)
    found = _by_id(session, [table.c.external_id, table.c.status, table.c.deadlines,
                             table.c.missing_since], ids)
    return [found[call_id] for call_id in ids]


def _close(session: Session, missing: list[Mapping[str, Any]], run_id: int, now: datetime,
           change_rows: list[dict[str, Any]]) -> int:
    """Mark each call closed (its last deadline passed) or removed (still ahead, or none); a change
    row each is appended to ``change_rows``."""
    closed, removed = [], []
    for call in missing:
        status = "closed" if _ended(call["deadlines"], now) else "removed"
        change_rows.append({"call_id": call["id"], "run_id": run_id, "field": "status", "old": call["status"],
                            "new": status, "changed_at": now})
        if status == "closed":
            closed.append({"id": call["id"], "status": status, "closed_at": now, "raw_hash": None,
                           "missing_since": None})
        else:
            removed.append({"id": call["id"], "status": status, "removed_at": now, "raw_hash": None,
                            "missing_since": None})
    _update_by_id(session, Call.__table__, closed)
    _update_by_id(session, Call.__table__, removed)
    return len(missing)


def record_duration(engine: Engine, run_id: int, seconds: float) -> None:
    """Set a run's finished_at to its start plus the measured wall time (the run itself is stamped
    with one "now", which stands still under --as-of and in replays)."""
    with session_scope(engine) as session:
        run = session.get(FetchRun, run_id)
        if run is not None and run.finished_at is not None:
            session.execute(sa.update(FetchRun).where(FetchRun.id == run_id).values(
                finished_at=as_utc(run.started_at) + timedelta(seconds=seconds)))
