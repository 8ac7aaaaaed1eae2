"""The corpus model shared by every strategy, and the calls' texts as one scoring run reads them.

The TF-IDF vocabulary, its idf weights and the LSA space (:class:`classifiers.matcher.TfidfModel`) are
fitted on the stored calls without labels and without any strategy's keywords, so one fit serves every
strategy: it is stored once (its identity and drift in ``corpus_model``, its data in
``corpus_vocabulary``) and each strategy keeps only its query vectors (``scoring_model``). The one
thing a strategy adds is its query phrases that occur in a single call (the corpus model keeps only
phrases that recur): they become the strategy's own extra columns, with the idf and document rows a
fit with those phrases kept would give them (:meth:`Corpus.extended`), so a strategy
scores exactly as if the vocabulary had been fitted for it alone.

A :class:`Corpus` lives for one scoring run (``fundradar score`` over every strategy of a folder): the
texts it reads, the documents' matrix and its LSA projection are computed once and reused by every
strategy of the run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from scipy import sparse
from sqlmodel import Session, select

from classifiers.freshness import METHOD
from classifiers.matcher import Document, Projection, TfidfModel, prepare, project
from classifiers.tfidf import exclude_key
from pipeline.core.models import Call, CorpusModel, CorpusVocabulary

READ_CHUNK = 500


def text_hash(title: str | None, text: str | None) -> str:
    """What the scores depend on: the title and the text."""
    return hashlib.sha1(f"{title}\x00{text}".encode()).hexdigest()[:16]


@dataclass
class Text:
    """One call's text as read: the content hash read with it, its text hash and its document."""

    content_hash: str
    call_hash: str
    document: Document


@dataclass
class Corpus:
    """What one scoring run knows about the calls' texts and the corpus model (read once, reused)."""

    texts: dict[int, Text] = field(default_factory=dict)
    model: TfidfModel | None = None
    version: str = ""
    size: int = 0  # calls the corpus model was fitted on
    refitted: bool = False  # fitted during this run (``--all`` refits it once, not once per strategy)
    _ids: list[int] = field(default_factory=list)  # the rows of _matrix
    _matrix: Any = None
    _projection: Projection | None = None
    _names: Any = None
    # the verdict rules' outcomes remembered for the run (classifiers.run_rules.RunRules), shared by the
    # strategies with the same rules: by rules hash and time (classifiers.run_rules.shared_rules)
    shared_rules: dict[Any, Any] = field(default_factory=dict)
    # the rows of _phrase_ids whose text holds a query or exclude phrase, by its looked-up form (a
    # call's text, once read, is never replaced in a run): strategies sharing a phrase scan for it once
    _phrase_ids: list[int] = field(default_factory=list)
    _phrase_rows: dict[str, list[int]] = field(default_factory=dict)

    # --- texts ---------------------------------------------------------------------------------

    def read(self, session: Session, ids: Sequence[int]) -> None:
        """Read title and text of the calls ``ids`` this run has not read yet (one pass over the table
        when that is most of them)."""
        columns = (Call.id, Call.content_hash, Call.title, Call.text)
        missing = sorted(set(ids) - self.texts.keys())
        if len(missing) > READ_CHUNK and len(missing) > len(ids) // 2:
            rows: Iterable[Any] = session.execute(sa.select(*columns).order_by(Call.id))
            self._keep(rows, skip_known=True)
            return
        for start in range(0, len(missing), READ_CHUNK):
            chunk = missing[start:start + READ_CHUNK]
            self._keep(session.execute(sa.select(*columns).where(Call.id.in_(chunk))), skip_known=False)

    def _keep(self, rows: Iterable[Any], skip_known: bool) -> None:
        for call_id, content_hash, title, text in rows:
            if skip_known and call_id in self.texts:
                continue
            self.texts[call_id] = Text(content_hash, text_hash(title, text), prepare(call_id, title, text))

    def documents(self, ids: Sequence[int]) -> list[Document]:
        return [self.texts[i].document for i in ids]

    def hashes(self, ids: Iterable[int]) -> dict[int, str]:
        return {i: self.texts[i].call_hash for i in ids}

    # --- the corpus model ----------------------------------------------------------------------

    def fit(self, session: Session, ids: list[int], now: datetime) -> None:
        """Fit the corpus model on the calls ``ids`` (texts read) and store it, replacing the old one."""
        documents = self.documents(ids)
        model, matrix = TfidfModel.fit(documents)
        corpus = ",".join(f"{i}:{self.texts[i].call_hash}" for i in ids)
        version = hashlib.sha1(f"{METHOD}|{corpus}".encode()).hexdigest()[:12]
        stored = session.exec(select(CorpusModel)).first()
        if stored is None:
            stored = CorpusModel(version=version, fitted_at=now)
        stored.version, stored.corpus_size, stored.drift, stored.fitted_at = version, len(ids), 0, now
        stored.method = METHOD
        session.add(stored)
        blob = model.to_bytes()
        digest = hashlib.sha1(blob).hexdigest()
        session.execute(sa.delete(CorpusVocabulary))
        session.add(CorpusVocabulary(version=version, digest=digest, vocabulary=blob))
        session.flush()
        _forget()  # the model decoded before is no longer the stored one
        self.model, self.version, self.size, self.refitted = model, version, len(ids), True
        self._ids, self._matrix, self._projection, self._names = list(ids), matrix, None, None

    def use(self, session: Session, stored: CorpusModel) -> TfidfModel:
        """The stored corpus model ``stored`` names: read once per run and version, and decoded once
        per process and stored bytes (:func:`decoded`)."""
        if self.model is None or self.version != stored.version:
            self.model, self.version = decoded(session, stored.version), stored.version
            self._ids, self._matrix, self._projection, self._names = [], None, None, None
        self.size = stored.corpus_size
        return self.model

    def matrix(self, ids: list[int]) -> Any:
        """The documents ``ids`` (texts read) on the corpus model: L2-normalised TF-IDF rows."""
        assert self.model is not None
        if self._matrix is None or self._ids != ids:
            self._matrix = self.model.transform_documents(self.documents(ids))
            self._ids, self._projection = list(ids), None
        return self._matrix

    def projection(self, ids: list[int]) -> Projection | None:
        """The LSA projection of :meth:`matrix` (None without an LSA space): computed once per run."""
        matrix = self.matrix(ids)
        if self._projection is None:
            self._projection = project(self.model, matrix)
        return self._projection

    def names(self) -> Any:
        if self._names is None:
            self._names = self.model.terms()
        return self._names

    # --- a strategy's extra columns ------------------------------------------------------------

    def extra_phrases(self, keep: Iterable[str], ids: list[int], corpus_size: int) -> dict[str, float]:
        """The query phrases in ``keep`` the corpus model dropped because they occur in one call only
        (or recur only among calls added since the fit), with the idf a fit keeping them gives them."""
        assert self.model is not None
        wanted = sorted(p for p in keep if " " in p and p not in self.model.vocabulary)
        if not wanted:
            return {}
        extras: dict[str, float] = {}
        for phrase in wanted:
            df = len(self._rows_with(phrase, ids))
            if df:  # smoothed idf, as scikit-learn's TfidfTransformer computes it
                extras[phrase] = float(np.float32(np.log((1 + corpus_size) / (1 + df)) + 1))
        return extras

    def _rows_with(self, phrase: str, ids: list[int]) -> list[int]:
        """The rows of ``ids`` whose text holds ``phrase`` as whole words, in order."""
        return self._rows_holding(f" {phrase} ", ids)

    def _rows_holding(self, key: str, ids: list[int]) -> list[int]:
        if ids != self._phrase_ids:
            self._phrase_ids, self._phrase_rows = list(ids), {}
        found = self._phrase_rows.get(key)
        if found is None:
            found = [r for r, d in enumerate(self.documents(ids)) if key in d.plain]
            self._phrase_rows[key] = found
        return found

    def excluded_rows(self, ids: list[int], exclude: Sequence[str]) -> dict[int, str]:
        """:func:`classifiers.matcher.excluded_rows` of the documents ``ids``, each phrase's rows found
        once per run."""
        found: dict[int, str] = {}
        for phrase in exclude:
            key = exclude_key(phrase)
            if key:
                for row in self._rows_holding(key, ids):
                    found.setdefault(row, phrase)
        return found

    def extended(self, extras: dict[str, float], ids: list[int]) -> tuple[TfidfModel, Any]:
        """The corpus model with a strategy's extra columns, and the documents ``ids`` on it: the rows
        of the few calls containing an extra phrase are recomputed (their L2 norm includes it)."""
        model = extend(self.model, extras)
        matrix = self.matrix(ids)
        if not extras:
            return model, matrix
        rows, width = matrix.shape[0], len(model.vocabulary)
        padded = sparse.hstack([matrix, sparse.csr_matrix((rows, len(extras)), dtype=np.float32)]).tocsr()
        affected = sorted(set().union(*(self._rows_with(p, ids) for p in extras)))
        if not affected:
            return model, padded
        keep = np.ones(rows, dtype=np.float32)
        keep[affected] = 0
        fresh = model.transform_documents(self.documents([ids[r] for r in affected]))
        count = len(affected)
        place = sparse.csr_matrix((np.ones(count, dtype=np.float32), (affected, range(count))),
                                  shape=(rows, count))
        result = (sparse.diags(keep) @ padded + place @ fresh).tocsr()
        assert result.shape == (rows, width)
        return model, result


# The corpus model last decoded by this process, under the digest of its stored bytes: a long-lived
# process (``fundradar serve``, whose scheduler scores after every sync) decodes it once per fit
# instead of once per run; decoding is most of the fixed cost of a run that scores a few new calls.
# One entry: a process works on one database at a time, and a model of 100,000 calls holds a
# few hundred megabytes. The model is never changed once made (see TfidfModel.terms), so sharing it
# between runs is safe; the digest names the bytes, so another database's or a refitted model is
# never taken for it.
_DECODED: dict[str, TfidfModel] = {}
# the last model :func:`extend` made, with the model and extras it was made from: a strategy scored
# again on the same corpus model reuses it (its vocabulary and vectoriser cost more to build than a
# few new calls to score); one entry, dropped with the decoded model it extends, replaced as a whole
# (a scheduler thread and a command may score at once)
_EXTENDED: tuple[TfidfModel, tuple[tuple[str, float], ...], TfidfModel] | None = None


def decoded(session: Session, version: str) -> TfidfModel:
    """The stored corpus model of ``version``, decoded (:meth:`TfidfModel.from_bytes`) unless this
    process already holds the same bytes decoded."""
    digest = session.execute(sa.select(CorpusVocabulary.digest)
                             .where(CorpusVocabulary.version == version)).scalar_one()
    model = _DECODED.get(digest)
    if model is None:
        blob = session.execute(sa.select(CorpusVocabulary.vocabulary)
                               .where(CorpusVocabulary.version == version)).scalar_one()
        model = TfidfModel.from_bytes(blob)
        _forget()
        _DECODED[digest] = model
    return model


def _forget() -> None:
    global _EXTENDED
    _DECODED.clear()
    _EXTENDED = None


def extend(model: TfidfModel, extras: dict[str, float]) -> TfidfModel:
    """``model`` with extra phrase columns appended (same LSA space: phrases are not LSA columns)."""
    if not extras:
        return model
    global _EXTENDED
    key, last = tuple(extras.items()), _EXTENDED
    if last is not None and last[0] is model and last[1] == key:
        return last[2]
    vocabulary = dict(model.vocabulary)
    for phrase in extras:
        vocabulary[phrase] = len(vocabulary)
    idf = np.concatenate([model.idf, np.asarray(list(extras.values()), dtype=np.float32)])
    extended = TfidfModel(vocabulary, idf, model.components)
    if all(" " in phrase for phrase in extras):  # phrases only: the word columns (LSA space) are the model's
        extended._words = model.word_columns()
    extended._names = np.concatenate([model.terms(), np.array(list(extras), dtype=object)])
    _EXTENDED = (model, key, extended)
    return extended


def extras_to_bytes(extras: dict[str, float]) -> bytes:
    idf = np.asarray(list(extras.values()), dtype=np.float32)
    return TfidfModel({p: i for i, p in enumerate(extras)}, idf).to_bytes()


def extras_from_bytes(blob: bytes) -> dict[str, float]:
    if not blob:
        return {}
    model = TfidfModel.from_bytes(blob)
    return {str(t): float(model.idf[i]) for i, t in enumerate(model.terms().tolist())}
