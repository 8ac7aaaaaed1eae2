"""The data store's tables (SQLModel). Schema changes go through alembic (``pipeline/core/migrations``).

Times are stored as aware UTC (:class:`UTCDateTime`); SQLite keeps them as ISO text without an offset
and they come back aware.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ConfigDict
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from pipeline.core.clock import UTC, as_utc


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored as UTC on every backend."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; give it a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value)


def _dt(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _json(**kw: Any) -> Any:
    return Field(sa_type=sa.JSON, **kw)


class _Table(SQLModel):
    """The tables' base: pydantic builds a table's validator and serializer when one is first used
    (model_validate, model_dump), not when this module is imported; rows are made and read through
    SQLAlchemy, which needs neither. Most commands import these classes and never validate one;
    calls list, show and why and deadlines read through pipeline.core.sql and import none."""

    model_config = ConfigDict(defer_build=True)


# --- sources and runs --------------------------------------------------------------------------

class Source(_Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    type: str
    url: str | None = None
    created_at: datetime = _dt()


SKIPPED_RUN = "skipped"  # the outcome of a source's run when a replay had no recording of it
# the error of a run left "running" by a process that stopped or was killed (watcher.store.begin_run
# records it, pipeline.sources_status shows it before that)
INTERRUPTED = ("interrupted: the run never finished (its process stopped or was killed); nothing of it "
               "was stored")
# how a run's error begins its note that a source claiming its whole list answered none of its active
# calls: the run is "ok" but partial, and the digest counts it against the source as a failure
EMPTY_ANSWER = "the source answered with no calls although"


class FetchRun(_Table, table=True):
    __tablename__ = "fetch_run"
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    started_at: datetime = _dt()
    finished_at: datetime | None = _dt(default=None)
    outcome: str = "running"  # running | ok | suspicious | failed | skipped (error says why)
    complete: bool = False  # True only when every page of the source was read
    seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    closed: int = 0
    error: str | None = None


# --- calls -------------------------------------------------------------------------------------

class Call(_Table, table=True):
    __table_args__ = (sa.UniqueConstraint("source", "external_id", name="uq_call_source_external"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    external_id: str  # SEDIA reference, euro-access id, feed guid, iCal UID, page URL
    programme: str | None = None
    call_id: str | None = None  # the call identifier, e.g. HORIZON-CL5-2027-03
    topic_id: str | None = Field(default=None, index=True)  # e.g. HORIZON-CL5-2027-03-D5-05
    title: str
    text: str = ""  # cleaned, readable description
    url: str | None = None
    status: str = Field(default="open", index=True)  # announced|forthcoming|open|closed|removed|withdrawn
    opening_date: datetime | None = _dt(default=None)
    deadline: datetime | None = _dt(default=None, index=True)  # first deadline
    deadlines: list[dict[str, Any]] = _json(default_factory=list)  # [{"at": iso, "time_assumed": bool}]
    deadline_time_assumed: bool = False
    budget: float | None = None
    expected_grants: int | None = None
    min_contribution: float | None = None
    max_contribution: float | None = None
    type_of_action: str | None = None
    funding_rate: float | None = None  # 0..1
    extra: dict[str, Any] = _json(default_factory=dict)
    # indexed so that scoring finds the due calls on the index (id and hash) and the verdicts, without
    # reading the wide rows (the text comes first, long ones spill onto overflow pages)
    content_hash: str = Field(default="", index=True)
    # what the source sent, hashed with the parser's fingerprint (watcher.sedia.raw_hash): a result whose
    # raw hash equals the stored one is not parsed again. None when unknown or no longer true to the row
    # (the store closed the call, or its text was edited).
    raw_hash: str | None = None
    first_seen: datetime = _dt()
    last_seen: datetime = _dt()
    closed_at: datetime | None = _dt(default=None)
    removed_at: datetime | None = _dt(default=None)
    # the first complete answer of its source that lacked this call, while its deadline is ahead; the
    # next complete answer lacking it too removes it (one answer may be short), one listing it clears it
    missing_since: datetime | None = _dt(default=None)
    # another source's copy of the same call (pipeline.core.duplicates): this one stays stored and
    # updated by its source, and that one is listed, digested and alerted instead
    duplicate_of: int | None = Field(default=None, index=True)


@sa.event.listens_for(Call, "before_update")
def _text_edited(mapper: Any, connection: Any, call: Call) -> None:
    """A title or text edited through the ORM without a new ``content_hash`` clears it: scoring then
    reads that call's text to see whether it changed (the watcher always sets the hash itself)."""
    state = sa.inspect(call)
    edited = state.attrs.title.history.has_changes() or state.attrs.text.history.has_changes()
    if edited and not state.attrs.content_hash.history.has_changes():
        call.content_hash = ""
        call.raw_hash = None


class CallChange(_Table, table=True):
    __tablename__ = "call_change"
    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="fetch_run.id")
    field: str
    old: str | None = None
    new: str | None = None
    changed_at: datetime = _dt()


class WatchedPage(_Table, table=True):
    __tablename__ = "watched_page"
    __table_args__ = (sa.UniqueConstraint("source", "url", name="uq_watched_page"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str
    url: str
    content_hash: str
    text: str = ""
    checked_at: datetime = _dt()
    changed_at: datetime = _dt()


# --- classification ----------------------------------------------------------------------------

class Score(_Table, table=True):
    __table_args__ = (sa.UniqueConstraint("call_id", "strategy", "focus_area", name="uq_score"),
                      # `calls list --focus AREA --top N` reads a focus area's scores best first (across
                      # the areas it reads the verdicts' best_score: ix_verdict_rank)
                      sa.Index("ix_score_area_rank", "strategy", "focus_area", "score", "call_id"))
    id: int | None = Field(default=None, primary_key=True)
    # looked up through uq_score, which starts with call_id: an index of its own only slowed the writes
    call_id: int = Field(foreign_key="call.id")
    strategy: str  # indexed first in ix_score_area_rank
    focus_area: str
    score: float  # rows are kept only for scores >= classifiers.scoring.SCORE_FLOOR or exclusions
    # the score before its caps at 1 (gate × (cosines + coverage)): equal scores rank by it, so calls
    # capped at 1.000 rank by how much more evidence they have; None (scored before it was kept) ranks
    # as the score
    evidence: float | None = None
    explanation: list[dict[str, Any]] = _json(default_factory=list)  # [{"term", "weight"}]
    computed_at: datetime = _dt()


class Verdict(_Table, table=True):
    """The strategy rules' outcome for one call: passed or the rules that failed, with reasons."""

    __table_args__ = (sa.UniqueConstraint("call_id", "strategy", name="uq_verdict"),
                      # `calls list --top N` reads a strategy's calls by best score first
                      sa.Index("ix_verdict_rank", "strategy", "best_score", "call_id"))
    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id")  # looked up through uq_verdict (call_id, strategy)
    strategy: str  # indexed first in ix_verdict_rank
    passed: bool
    outcomes: list[dict[str, Any]] = _json(default_factory=list)  # [{"rule", "passed", "reason"}]
    success_rate: float | None = None
    funding_rate: float | None = None
    expected_value: float | None = None
    priority: float | None = None
    # what the call's scores were computed from (classifiers.scoring): its title+text hash, its
    # Call.content_hash at the time, and the strategy's model version; best_score is its best
    # focus-area score (exact, also when every Score row is below the floor and not stored)
    call_hash: str = ""
    content_hash: str = ""
    model_version: str = ""
    best_score: float | None = None
    # when the clock alone may change the outcome (a deadline passes, or comes closer than the minimum
    # weeks): until then the verdict stays valid; None = never (classifiers.rules.recheck_at)
    recheck_at: datetime | None = _dt(default=None, nullable=True)
    computed_at: datetime = _dt()


class Mark(_Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    strategy: str = Field(index=True)
    focus_area: str | None = None
    label: str  # relevant | irrelevant
    marked_by: str | None = None
    marked_at: datetime = _dt()


class ScoringModel(_Table, table=True):
    """A strategy's focus-area query vectors on the shared corpus model (:class:`CorpusModel`), kept so
    that new calls are scored on the same scale without refitting (classifiers.scoring);
    Verdict.model_version names the version each call was scored with."""

    __tablename__ = "scoring_model"
    id: int | None = Field(default=None, primary_key=True)
    strategy: str = Field(unique=True, index=True)
    version: str
    corpus_size: int = 0  # calls the vocabulary was fitted on
    drift: int = 0  # calls scored incrementally since the fit
    queries_hash: str = ""  # focus areas + marks the queries were built from
    rules_hash: str = ""  # the strategy's rules and the funding rules its verdicts were computed with
    queries: dict[str, Any] = _json(default_factory=dict)  # area -> {term: weight}
    # the strategy's own columns on top of the corpus model (query phrases found in one call only)
    vocabulary: bytes = Field(sa_type=sa.LargeBinary)  # zlib(terms + idf), see TfidfModel.to_bytes
    corpus_version: str = ""  # the CorpusModel.version the queries were built on
    # each area's gate query (classifiers.gate.context_vector: area -> its rows, each {term: weight}),
    # kept because building it costs more than scoring a day's new calls; gates_hash names what they
    # were built from (classifiers.freshness.gates_hash), and a run rebuilds them when it differs
    gates_hash: str = ""
    gates: dict[str, Any] = _json(default_factory=dict)
    fitted_at: datetime = _dt()


class CorpusModel(_Table, table=True):
    """The identity and drift of the corpus model: the TF-IDF vocabulary, idf weights and LSA space of
    the stored calls, fitted without labels and shared by every strategy (classifiers.scoring); one row.
    The fitted data itself is in :class:`CorpusVocabulary`: SQLite rewrites a whole row to update one
    column, and every incremental run updates ``drift`` (with the data in this row, a few megabytes
    written per run)."""

    __tablename__ = "corpus_model"
    id: int | None = Field(default=None, primary_key=True)
    version: str
    method: str = ""  # classifiers.corpus.METHOD at the fit: a model of another method is refitted
    corpus_size: int = 0  # calls the vocabulary was fitted on
    drift: int = 0  # calls new or changed since the fit
    fitted_at: datetime = _dt()


class CorpusVocabulary(_Table, table=True):
    """The fitted corpus model of :class:`CorpusModel` (same ``version``): vocabulary, idf weights and
    LSA components (classifiers.tfidf.TfidfModel.to_bytes); one row, replaced at each fit. ``digest``
    (SHA-1 of the bytes) names the data: a process keeps the model it decoded under it."""

    __tablename__ = "corpus_vocabulary"
    id: int | None = Field(default=None, primary_key=True)
    version: str
    digest: str
    vocabulary: bytes = Field(sa_type=sa.LargeBinary)


# --- pipeline ----------------------------------------------------------------------------------

class Idea(_Table, table=True):
    """A project idea of one cluster: ``strategy`` names the strategy (cluster) that owns it, set when it
    is added; None for ideas from before ideas had an owner, which every strategy sees. Applications
    belong to a strategy through their idea."""

    id: int | None = Field(default=None, primary_key=True)
    # ix_idea_strategy: with a config folder every pipeline listing filters on
    # "strategy IS NULL OR strategy = :selected"
    strategy: str | None = Field(default=None, index=True)
    title: str
    description: str = ""
    owner: str | None = None
    focus_areas: list[str] = _json(default_factory=list)
    target_countries: list[str] = _json(default_factory=list)
    status: str = "idea"  # idea | maturing | ready | parked
    created_at: datetime = _dt()
    updated_at: datetime = _dt()


class Partner(_Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organisation: str
    country: str  # ISO 3166-1 alpha-2
    type: str  # sme | large | university | rto | cluster | public
    pic: str | None = Field(default=None, unique=True)
    contact: str | None = None
    competences: list[str] = _json(default_factory=list)
    past_collaborations: str = ""
    readiness: str = "unknown"  # unknown | interested | committed
    created_at: datetime = _dt()
    updated_at: datetime = _dt()


class Application(_Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    role: str = "coordinator"  # coordinator | partner
    requested_amount: float | None = None
    granted_amount: float | None = None
    owner: str | None = None
    status: str = "draft"
    known_deadline: datetime | None = _dt(default=None)  # the call deadline last acknowledged
    deadline_sequence: int = 0  # raised each time the call's deadline moves (iCal SEQUENCE)
    seen_deadlines: list[str] = _json(default_factory=list)  # the call's deadlines (ISO UTC) last compared
    deadline_flagged: bool = False  # the call's deadline moved and nobody has acknowledged it yet
    created_at: datetime = _dt()
    updated_at: datetime = _dt()


class ApplicationPartner(_Table, table=True):
    __tablename__ = "application_partner"
    application_id: int = Field(foreign_key="application.id", primary_key=True)
    partner_id: int = Field(foreign_key="partner.id", primary_key=True)
    role: str = "partner"


class ApplicationEvent(_Table, table=True):
    __tablename__ = "application_event"
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    at: datetime = _dt()
    by: str | None = None
    from_status: str | None = None
    to_status: str | None = None
    note: str = ""


# --- notifications -----------------------------------------------------------------------------

class SlackDelivery(_Table, table=True):
    """One message to one channel; ``key`` makes sending idempotent across crashes and retries."""

    __tablename__ = "slack_delivery"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)
    channel: str
    kind: str  # digest | alert | reminder
    status: str = "pending"  # pending | sending | sent | failed
    payload: dict[str, Any] = _json(default_factory=dict)
    message_ts: str | None = None
    attempts: int = 0
    error: str | None = None
    created_at: datetime = _dt()
    sent_at: datetime | None = _dt(default=None)


class CallFollow(_Table, table=True):
    """A strategy's own stance on one call, apart from its marks: ``follow`` (deadline reminders and
    change alerts as for an application's call) or ``mute`` (left out of its digests and new-call
    alerts). One row per strategy, call and kind; unfollowing or unmuting deletes it."""

    __tablename__ = "call_follow"
    __table_args__ = (sa.UniqueConstraint("strategy", "call_id", "kind", name="uq_call_follow"),)
    id: int | None = Field(default=None, primary_key=True)
    strategy: str = Field(index=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    kind: str  # follow | mute
    by: str | None = None  # who: a Slack user ("<@U123>") or the CLI's --by
    at: datetime = _dt()


class SlackInteraction(_Table, table=True):
    """One handled click or modal submission from Slack. ``key`` is derived from the payload (the
    action's message, id and time; the modal's view id), so a redelivered envelope finds its key and
    changes nothing."""

    __tablename__ = "slack_interaction"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)
    strategy: str
    # relevant | irrelevant | follow | unfollow | mute | unmute | idea, or unchanged: a click that found
    # its work done, kept so that its redelivery is known as one
    kind: str
    call_id: int | None = Field(default=None, foreign_key="call.id")
    idea_id: int | None = Field(default=None, foreign_key="idea.id")  # the idea a modal created
    user_id: str
    user_name: str | None = None
    channel: str
    message_ts: str | None = None
    at: datetime = _dt()
