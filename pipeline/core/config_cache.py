"""A config file's YAML, kept as plain JSON once it has validated, so the next command skips the YAML parse.

Reading the strategy and funding-rules files with ruamel.yaml's round-trip loader (pure Python, kept
for its line numbers) is a tenth of a second of every command. A file that validated is stored under
``data/cache/config/`` as the plain values its YAML tree holds, named by the SHA-256 of the file's text
and the model it validated as: the next read of the same text validates those values with the same
pydantic model, without ruamel.yaml. Any change to the file is another name, so a cached entry can never
be stale. The values are validated with the context :data:`FROM_CACHE`: a check that only asks a
library whether it accepts a value (APScheduler, for a cron schedule) need not import it again for
values it accepted when they were cached.

Only what validates is cached, and only trees made of plain values (mappings with text keys, lists,
text, numbers, booleans, null): a file with dates or other YAML types, and every file with a problem,
takes the round-trip path each time, which gives the error message with its line. A cache that cannot
be read or written (a read-only checkout, a damaged entry) is ignored. ``FUNDRADAR_CACHE`` names another
folder for the cache than ``data/cache``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.paths import DATA_DIR

if TYPE_CHECKING:
    from pydantic import BaseModel

FORMAT = "4"  # part of every entry's name: a new layout, or a stricter check of those skipped for
# cached values (FROM_CACHE, the cron rule), never reads an old entry
KEEP = 64  # entries kept; the rest (older versions of edited files) are removed
FROM_CACHE = {"from_cache": True}  # the validation context of cached values


class _NotPlain(Exception):
    pass


def cache_root() -> Path:
    """``data/cache``, or the folder ``FUNDRADAR_CACHE`` names (a checkout that is read-only or shared
    by several users, or a test run that must leave the checkout as it found it)."""
    given = os.environ.get("FUNDRADAR_CACHE", "").strip()
    return Path(given) if given else DATA_DIR / "cache"


def entry_path(text: str, model: type[BaseModel], folder: Path | None = None) -> Path:
    folder = folder or cache_root() / "config"
    key = "\0".join((FORMAT, f"{model.__module__}.{model.__qualname__}", text))
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def cached(text: str, model: type[BaseModel], folder: Path | None = None) -> Any | None:
    """The validated model for ``text`` from its cached values; None when there is no usable entry."""
    try:
        values = json.loads(entry_path(text, model, folder).read_text(encoding="utf-8"))
        return model.model_validate(values if values is not None else {}, context=FROM_CACHE)
    except (OSError, ValueError):  # no entry, or a damaged one (pydantic's ValidationError is a ValueError)
        return None


def store(text: str, model: type[BaseModel], tree: Any, folder: Path | None = None) -> None:
    """Keep the plain values of ``tree`` (the YAML of ``text``, which validated as ``model``)."""
    try:
        values = plain(tree)
    except _NotPlain:
        return
    target = entry_path(text, model, folder)
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # written aside and renamed, so a concurrent reader sees the whole entry or none
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".entry-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(values, out, ensure_ascii=False)
        os.replace(temporary, target)
        _prune(folder, target)
    except OSError:
        return


def remembered(kind: str, key: str, compute: Callable[[], str], folder: Path | None = None) -> str:
    """The text ``compute()`` gives, kept under ``data/cache/<kind>/`` named by the SHA-256 of ``key``:
    for what is derived from a config file alone (``key`` must name everything it depends on), so the
    next command reads it instead of computing it. An entry that cannot be read or written is
    computed again."""
    found = kept(kind, key, folder)
    if found is not None:
        return found
    text = compute()
    keep(kind, key, text, folder)
    return text


def _kept_path(kind: str, key: str, folder: Path | None) -> Path:
    name = hashlib.sha256(chr(0).join((FORMAT, key)).encode()).hexdigest()
    return (folder or cache_root()) / kind / f"{name}.json"


def kept(kind: str, key: str, folder: Path | None = None) -> str | None:
    """The text :func:`keep` kept for ``key``; None when there is none (or it cannot be read)."""
    try:
        return str(json.loads(_kept_path(kind, key, folder).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def keep(kind: str, key: str, text: str, folder: Path | None = None) -> None:
    """Keep ``text`` for ``key`` (see :func:`remembered`); a cache that cannot be written is ignored."""
    target = _kept_path(kind, key, folder)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".entry-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(text, out, ensure_ascii=False)
        os.replace(temporary, target)
        _prune(target.parent, target)
    except OSError:
        pass


def _prune(folder: Path, written: Path) -> None:
    """Keep the KEEP most recently written entries (``written`` always): each edit of a file adds one."""
    others = sorted((p for p in folder.glob("*.json") if p != written),
                    key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in others[KEEP - 1:]:
        old.unlink(missing_ok=True)


def plain(value: Any) -> Any:
    """``value`` as built-in JSON types; _NotPlain for anything JSON would not give back the same."""
    # ruamel.yaml's scalar types (block text, a hex integer) subclass str, int and float: their value is
    # what pydantic reads, the same as the built-in type's
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise _NotPlain
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    raise _NotPlain
