"""Source adapters: one module per source type, registered in :data:`SOURCE_TYPES`.

An adapter turns a source's config into fetched, parsed :class:`~watcher.records.CallRecord` objects:
``fetch(client, now) -> FetchResult``. Parsing lives in pure functions (text in, records out) so it
can be tested without a network; the httpx client is passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from watcher.records import CallRecord, PageState


@dataclass
class FetchResult:
    records: list[CallRecord]
    complete: bool = True  # False when part of the source could not be read
    warning: str | None = None  # what was wrong, for `sources status`, when partly read
    extra: dict[str, Any] = field(default_factory=dict)
    # pages whose state the source keeps between runs (page_watch); written with the records
    pages: list[PageState] = field(default_factory=list)
    # external id -> raw hash of each record, for a source that skips results it sent before (eu_ft)
    raw_hashes: dict[str, str] = field(default_factory=dict)
    # external id -> raw hash of each result left unparsed because its stored call has that raw hash:
    # seen by the run, not in ``records``
    unchanged: dict[str, str] = field(default_factory=dict)
    # external ids of records read in part only (their call page failed, so they hold the listing's
    # fields alone): a stored call of one is kept as it is, a new one is stored as read
    partial: set[str] = field(default_factory=set)
    # external ids of stored calls the run did not ask for (a programme taken out of the config): never
    # missing on this run's account
    unwatched: set[str] = field(default_factory=set)


class SourceAdapter(Protocol):
    name: str
    type: str
    url: str | None

    def fetch(self, client: httpx.Client, now: datetime) -> FetchResult: ...


# type name -> factory(name, source_config, context) ; filled by the modules below on import
SOURCE_TYPES: dict[str, Callable[..., SourceAdapter]] = {}


def register(type_name: str) -> Callable[[Callable[..., SourceAdapter]], Callable[..., SourceAdapter]]:
    def decorate(factory: Callable[..., SourceAdapter]) -> Callable[..., SourceAdapter]:
        SOURCE_TYPES[type_name] = factory
        return factory
    return decorate


def load_all() -> None:
    """Import every adapter module so it registers itself."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


@dataclass(frozen=True)
class BuildContext:
    """What a factory may need besides its own config section. Adapters store only what their source
    says, so no strategy or funding rules are passed in: those apply when calls are scored."""

    engine: Any = None  # the database, for adapters that keep state (page_watch's content hashes)


def build_adapters(strategy: Any, *, only: str | None = None, engine: Any = None,
                   sources: Mapping[str, Any] | None = None) -> list[SourceAdapter]:
    """The enabled sources of the strategy (or just ``only``) as adapters; ``sources`` replaces the
    strategy's own (several strategies share the union of theirs, ``LoadedConfig.sources``).

    Raises :class:`~pipeline.core.errors.UserInputError` for an unknown source name.
    """
    from pipeline.core.errors import NotFoundError

    load_all()
    configured = strategy.sources if sources is None else sources
    if only is not None and only not in configured:
        known = ", ".join(sorted(configured)) or "none configured"
        raise NotFoundError(f"no source named {only!r} in the strategy config; known sources: {known}")
    context = BuildContext(engine=engine)
    adapters = []
    for name, cfg in configured.items():
        if (only is None and not cfg.enabled) or (only is not None and name != only):
            continue
        factory = SOURCE_TYPES.get(cfg.type)
        if factory is None:
            continue  # a type whose adapter is not installed; config validation names the types
        adapters.append(factory(name, cfg, context))
    return adapters
