"""Bulk writes of scoring rows: inserts through the driver's executemany, updates by primary key."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

INSERT_CHUNK = 5000


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_rows(session: Session, table: Any, rows: Iterable[dict[str, Any]],
                chunk: int = INSERT_CHUNK, *, dialect_types: bool = False,
                serialized: Sequence[str] = ()) -> None:
    """Insert ``rows`` (dicts with the same keys) in chunks of ``chunk``: memory stays bounded however
    many rows are generated.

    On SQLite the rows go to the driver's ``executemany`` as tuples, each value converted by its
    column type's own bind processor (JSON, UTC time), a converted value reused while the same object
    repeats (the run's time): SQLAlchemy's per-row statement bookkeeping was most of the time of a
    full rescore. Other databases get SQLAlchemy's executemany (on PostgreSQL already batched as
    multi-row VALUES). SQLite connections have a page cache large enough for the score table's indexes
    (:data:`pipeline.core.db.SQLITE_CACHE_KIB`).

    ``dialect_types`` converts each value by its type's dialect implementation, as SQLAlchemy's own
    executemany does, so the bytes stored are the same as through it (SQLite times with microseconds);
    without it a time is stored as the driver writes it (no microseconds when they are zero).

    ``serialized`` names JSON columns whose values come already as their JSON text: stored as given on
    SQLite, cast from text elsewhere."""
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        insert = sa.insert(table)
        if serialized:
            insert = insert.values({key: sa.cast(sa.bindparam(key, type_=sa.Text()), table.c[key].type)
                                    for key in serialized})
        for batch in _batches(rows, chunk):
            connection.execute(insert, batch)
        return
    statement, keys, convert = "", [], []
    for batch in _batches(rows, chunk):
        if not statement:
            compiled = sa.insert(table).compile(dialect=dialect, column_keys=list(batch[0]))
            statement, keys = str(compiled), list(compiled.positiontup or [])
            types = [table.c[key].type for key in keys]
            if dialect_types:
                types = [kind.dialect_impl(dialect) for kind in types]
            # only the columns whose type converts a value are called per row (position, converter)
            convert = [(at, _cached(processor)) for at, processor in
                       enumerate(kind.bind_processor(dialect) for kind in types)
                       if processor is not None and keys[at] not in serialized]
        connection.exec_driver_sql(statement, [_converted([row[k] for k in keys], convert) for row in batch])


def _converted(values: list[Any], convert: list[tuple[int, Any]]) -> tuple[Any, ...]:
    for at, processor in convert:
        values[at] = processor(values[at])
    return tuple(values)


def _cached(processor: Any) -> Any:
    if processor is None:
        return _same
    last: list[Any] = [object(), None]

    def convert(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, processor(value)
        return last[1]

    return convert


def _same(value: Any) -> Any:
    return value




def update_by_id(session: Session, table: Any, rows: list[dict[str, Any]], chunk: int = INSERT_CHUNK) -> None:
    """``UPDATE table SET … WHERE id = …`` for every row (dicts with ``id`` and the same other keys), as
    one executemany per chunk (on SQLite the driver's own, values converted as in :func:`insert_rows`)."""
    if not rows:
        return
    keys = [k for k in rows[0] if k != "id"]
    statement = (sa.update(table).where(table.c.id == sa.bindparam("_id"))
                 .values({k: sa.bindparam(f"_{k}", type_=table.c[k].type) for k in keys}))
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        for batch in _batches(rows, chunk):
            connection.execute(statement, [{f"_{k}": v for k, v in row.items()} for row in batch])
        return
    compiled = statement.compile(dialect=dialect)
    names = [name.removeprefix("_") for name in compiled.positiontup or []]
    convert = [_cached(table.c[name].type.bind_processor(dialect)) for name in names]
    text = str(compiled)
    for batch in _batches(rows, chunk):
        connection.exec_driver_sql(text, [tuple([f(row[n]) for n, f in zip(names, convert, strict=True)])
                                          for row in batch])
