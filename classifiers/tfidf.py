"""The vector space the matcher works in: calls prepared as words and phrases, their TF-IDF matrix
and vocabulary (stored with the corpus), the LSA latent space fitted on it, and the cosine of a query
with every call in both, with per-term contributions (pure; scikit-learn is imported when a model is
fitted or a text vectorised). What a score is made of is told in :mod:`classifiers.matcher`.
"""

from __future__ import annotations

import zlib
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from classifiers.text import words

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

TITLE_WEIGHT = 2
LSA_DIMENSIONS = 50  # chosen on the benchmark's dev half (README, "Relevance benchmark")
LSA_POWER_ITERATIONS = 10  # randomized SVD converged enough that the seed no longer moves the ranking
LSA_MIN_CORPUS = 50
LSA_SEED = 0
LEXICAL_WEIGHT = 0.5  # term and latent matching combined linearly (as Hofmann 1999 did); equal parts, untuned


@dataclass
class Document:
    """A call prepared for matching: its normalised words, title and text apart.

    ``plain`` is ``" title words | text words "``: exclude phrases are looked up in it as whole words
    (the ``|`` keeps a phrase from spanning title and text), and the features are derived from it when
    a vectoriser asks, so a corpus is held once as one string per call, not as lists of tokens.
    """

    call_id: int
    plain: str

    @property
    def features(self) -> list[str]:
        return document_features(self)


def prepare(call_id: int, title: str, text: str) -> Document:
    return Document(call_id, " " + " ".join(words(title) + ["|"] + words(text)) + " ")


def analyse_words(tokens: list[str]) -> list[str]:
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def document_features(document: Document) -> list[str]:
    """Words and bigrams of the title (:data:`TITLE_WEIGHT` times) and of the text."""
    title, _, text = document.plain.partition(" | ")
    return analyse_words(title.split()) * TITLE_WEIGHT + analyse_words(text.split())


def _identity(features: list[str]) -> list[str]:
    return features


def exclude_key(phrase: str) -> str:
    """An exclude phrase as it is looked up in :attr:`Document.plain` (" nuclear fusion ")."""
    key = " ".join(words(phrase))
    return f" {key} " if key else ""


def excluded_by(document: Document, exclude: Sequence[str]) -> str | None:
    for phrase in exclude:
        key = exclude_key(phrase)
        if key and key in document.plain:
            return phrase
    return None


def excluded_rows(documents: Sequence[Document], exclude: Sequence[str]) -> dict[int, str]:
    """Row index → the first exclude phrase (in ``exclude`` order) the document contains."""
    found: dict[int, str] = {}
    for phrase in exclude:
        key = exclude_key(phrase)
        if key:
            for row, document in enumerate(documents):
                if key in document.plain:
                    found.setdefault(row, phrase)
    return found


def count_features(documents: Sequence[Document]) -> tuple[Any, list[str]]:
    """The documents' feature counts (CSR, float32) and the features in column order.

    What scikit-learn's ``CountVectorizer`` computes, without its per-document Python counter: each
    feature gets its id from a dict whose missing-key hook hands out the next number, and duplicate
    ids in a row are summed by scipy."""
    ids: defaultdict[str, int] = defaultdict()
    ids.default_factory = ids.__len__
    lookup = ids.__getitem__
    indices = array("i")
    indptr = [0]
    for document in documents:
        indices.extend(map(lookup, document_features(document)))
        indptr.append(len(indices))
    columns = np.frombuffer(indices, dtype=np.int32) if len(indices) else np.zeros(0, dtype=np.int32)
    counts = sparse.csr_matrix((np.ones(len(columns), dtype=np.float32), columns, np.asarray(indptr)),
                               shape=(len(documents), len(ids)))
    counts.sum_duplicates()
    return counts, list(ids)


def count_known(documents: Sequence[Document], vocabulary: dict[str, int]) -> Any:
    """The documents' counts of the features in ``vocabulary`` (CSR, float32, indices sorted): what
    scikit-learn's ``CountVectorizer.transform`` computes with a fixed vocabulary, without its
    per-feature Python loop and counter. Each feature's column comes from ``dict.get`` mapped over the
    features in C (-1 when unknown); the unknown are dropped at once and duplicate columns in a row
    summed by scipy."""
    lookup, unknown = vocabulary.get, repeat(-1)
    indices = array("i")
    indptr = [0]
    for document in documents:
        indices.extend(map(lookup, document_features(document), unknown))
        indptr.append(len(indices))
    columns = np.frombuffer(indices, dtype=np.int32) if len(indices) else np.zeros(0, dtype=np.int32)
    known = columns >= 0
    kept_before = np.concatenate(([0], np.cumsum(known)))
    counts = sparse.csr_matrix((np.ones(int(kept_before[-1]), dtype=np.float32), columns[known],
                                kept_before[np.asarray(indptr)]), shape=(len(documents), len(vocabulary)))
    counts.sum_duplicates()
    return counts


@dataclass
class TfidfModel:
    """A fitted vocabulary with its idf weights; stored so later calls are scored on the same scale."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    components: np.ndarray | None = None  # LSA: dimensions × word columns (see word_columns)
    _vectoriser: Any = field(default=None, repr=False)
    _words: Any = field(default=None, repr=False)
    _names: Any = field(default=None, repr=False)
    _tfidf: Any = field(default=None, repr=False)

    @classmethod
    def fit(cls, documents: Sequence[Document], keep: set[str] = frozenset()) -> tuple[TfidfModel, Any]:
        """Fit on ``documents``; returns the model and the documents' (L2-normalised) matrix.

        One pass over the texts: the counts of every feature, then the columns worth keeping (words,
        recurring phrases, and the phrases in ``keep``), then sublinear tf × smoothed idf."""
        empty = cls({}, np.zeros(0, dtype=np.float32)), sparse.csr_matrix((len(documents), 0),
                                                                          dtype=np.float32)
        counts, terms = count_features(documents)
        if not terms:
            return empty
        df = np.bincount(counts.indices, minlength=len(terms))
        wanted = [i for i, (t, n) in enumerate(zip(terms, df.tolist(), strict=True))
                  if n >= 2 or " " not in t or t in keep]
        wanted.sort(key=terms.__getitem__)  # vocabulary in term order, as scikit-learn's vectorisers
        counts = counts[:, wanted].tocsr()
        from sklearn.feature_extraction.text import TfidfTransformer

        transformer = TfidfTransformer(sublinear_tf=True)
        matrix = transformer.fit_transform(counts).astype(np.float32).tocsr()
        vocabulary = {terms[i]: j for j, i in enumerate(wanted)}
        model = cls(vocabulary, transformer.idf_.astype(np.float32))
        model.components = fit_lsa(model, matrix)
        return model, matrix

    def word_columns(self) -> np.ndarray:
        """The columns of single words (not phrases), in column order: the space LSA works in."""
        if self._words is None:
            names = self.terms()
            single = np.fromiter((" " not in t for t in names), dtype=bool, count=len(names))
            self._words = np.flatnonzero(single).astype(np.int64)
        return self._words

    def vectoriser(self) -> TfidfVectorizer:
        if self._vectoriser is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            self._vectoriser = TfidfVectorizer(analyzer=_identity, vocabulary=self.vocabulary,
                                               sublinear_tf=True, dtype=np.float32)
            self._vectoriser.idf_ = self.idf
        return self._vectoriser

    def transform(self, feature_lists: Iterable[list[str]]) -> Any:
        feature_lists = list(feature_lists)
        if not self.vocabulary:
            return sparse.csr_matrix((len(feature_lists), 0), dtype=np.float32)
        return self.vectoriser().transform(feature_lists).tocsr()

    def transform_documents(self, documents: Sequence[Document]) -> Any:
        """The documents' matrix on this model's scale (features generated one call at a time).

        The counts are :func:`count_known`'s; scikit-learn's transformer then applies sublinear tf, idf
        and the norm, so the matrix is the one its ``TfidfVectorizer.transform`` gives, bit for bit."""
        if not self.vocabulary:
            return sparse.csr_matrix((len(documents), 0), dtype=np.float32)
        return self.tfidf().transform(count_known(documents, self.vocabulary), copy=False).tocsr()

    def tfidf(self) -> TfidfTransformer:
        """The fitted vectoriser's tf-idf step alone (sublinear tf, this model's idf, L2 norm)."""
        if self._tfidf is None:
            from sklearn.feature_extraction.text import TfidfTransformer

            self._tfidf = TfidfTransformer(sublinear_tf=True)
            self._tfidf.idf_ = self.idf
        return self._tfidf

    def terms(self) -> np.ndarray:
        """The terms in column order (computed once: the vocabulary is not changed after the model is
        made; :func:`classifiers.corpus.extend` makes a new model)."""
        if self._names is None:
            names = np.empty(len(self.vocabulary), dtype=object)
            names[np.fromiter(self.vocabulary.values(), dtype=np.int64, count=len(self.vocabulary))] = \
                list(self.vocabulary)
            self._names = names
        return self._names

    def as_stored(self) -> TfidfModel:
        """The model as :meth:`from_bytes` reads it back: its LSA components row-major. A model just
        fitted holds them column-major (as the SVD gives them), and BLAS sums a product in the other
        layout in another order, which may differ in the last bit."""
        if self.components is None or self.components.flags.c_contiguous:
            return self
        return TfidfModel(self.vocabulary, self.idf, np.ascontiguousarray(self.components))

    def to_bytes(self) -> bytes:
        """Vocabulary and idf, compressed (no pickle: the bytes are data, never code)."""
        names = "\n".join(self.terms().tolist()).encode("utf-8")
        idf = self.idf.astype("<f4").tobytes()
        header = len(names).to_bytes(8, "little")
        lsa = b""
        if self.components is not None:
            lsa = len(self.components).to_bytes(4, "little") + self.components.astype("<f4").tobytes()
        return zlib.compress(header + names + idf + lsa, 6)

    @classmethod
    def from_bytes(cls, blob: bytes) -> TfidfModel:
        raw = zlib.decompress(blob)
        size = int.from_bytes(raw[:8], "little")
        names = raw[8:8 + size].decode("utf-8").split("\n") if size else []
        vocabulary = dict(zip(names, range(len(names)), strict=True))
        end = 8 + size + 4 * len(vocabulary)
        model = cls(vocabulary, np.frombuffer(raw[8 + size:end], dtype="<f4").copy())
        model._names = np.array(names, dtype=object) if names else np.empty(0, dtype=object)
        model._words = _single_word_lines(raw[8:8 + size], len(names))
        if len(raw) > end:  # LSA components follow the idf weights
            dimensions = int.from_bytes(raw[end:end + 4], "little")
            model.components = np.frombuffer(raw[end + 4:], dtype="<f4").reshape(dimensions, -1).copy()
        return model


def _single_word_lines(text: bytes, count: int) -> np.ndarray:
    """The indexes of the ``count`` newline-separated terms in ``text`` that hold no space (the single
    words), found on the bytes at once rather than term by term."""
    data = np.frombuffer(text, dtype=np.uint8)
    line_of_space = np.searchsorted(np.flatnonzero(data == ord("\n")), np.flatnonzero(data == ord(" ")))
    has_space = np.zeros(count, dtype=bool)
    has_space[line_of_space] = True
    return np.flatnonzero(~has_space).astype(np.int64)


def fit_lsa(model: TfidfModel, matrix: Any, dimensions: int = LSA_DIMENSIONS) -> np.ndarray | None:
    """LSA (Deerwester et al. 1990): a rank-:data:`LSA_DIMENSIONS` truncated SVD of the calls' word
    vectors (L2-normalised TF-IDF of single words), fitted without labels; None on a corpus too small
    for a latent space (fewer than :data:`LSA_MIN_CORPUS` calls), where plain TF-IDF cosine is used."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    columns = model.word_columns()
    dimensions = min(dimensions, matrix.shape[0] - 1, len(columns) - 1)
    if matrix.shape[0] < LSA_MIN_CORPUS or dimensions < 2:
        return None
    svd = TruncatedSVD(dimensions, n_iter=LSA_POWER_ITERATIONS, random_state=LSA_SEED)
    svd.fit(normalize(matrix[:, columns]))
    return svd.components_.astype(np.float32)


@dataclass
class Projection:
    """Rows of a document matrix in LSA space: their word part, its latent vectors and their norms."""

    words: Any  # CSR, rows × word columns
    latent: np.ndarray  # rows × dimensions
    norms: np.ndarray


def project(model: TfidfModel, matrix: Any) -> Projection | None:
    """The LSA projection of ``matrix``'s rows (computed once, shared by every focus area)."""
    if model.components is None:
        return None
    part = matrix[:, model.word_columns()].tocsr()
    latent = np.asarray(part @ model.components.T, dtype=np.float32)
    return Projection(part, latent, np.linalg.norm(latent, axis=1))


@dataclass
class LatentQuery:
    """What the latent cosine needs of a query, whatever the rows: its unit vector in LSA space (None
    when it has no latent direction) and, for explanations, that vector back in word space (each
    word's weight in the latent cosine). Computed once per query instead of once per block of rows:
    dense products with the LSA space, the same whatever the rows."""

    unit: np.ndarray | None
    expanded: np.ndarray | None = None


def latent_query(model: TfidfModel, query: Any, explain: bool) -> LatentQuery:
    """``query``'s :class:`LatentQuery` on ``model`` (which has an LSA space), as :func:`cosine_parts`
    computes it; with ``explain`` its word-space weights too."""
    unit = model.components @ query.toarray().ravel()[model.word_columns()]
    length = float(np.linalg.norm(unit))
    if not length > 0:
        return LatentQuery(None)
    unit /= length
    return LatentQuery(unit, (unit @ model.components).astype(np.float32) if explain else None)


def cosine_parts(query: Any, matrix: Any, width: int, explain: bool, model: TfidfModel | None,
                  projection: Projection | None, lexical_weight: float,
                  latent: LatentQuery | None = None) -> tuple[np.ndarray, Any]:
    """The cosine part of :func:`score_rows` and, when ``explain``, its per-term contributions
    (rows × ``width``, CSR); see there. ``latent`` is :func:`latent_query` of ``query`` when already
    computed (with its word-space weights when ``explain``)."""
    rows = matrix.shape[0]
    if query.nnz == 0:
        return np.zeros(rows, dtype=np.float32), sparse.csr_matrix((rows, width), dtype=np.float32)
    columns, weights = query.indices, query.data
    lexical = matrix[:, columns].tocsr()  # a copy: rows × query terms
    lexical.data *= weights[lexical.indices]
    scores = np.clip(np.asarray(lexical.sum(axis=1), dtype=np.float32).ravel(), 0.0, 1.0)
    lexical_part = sparse.csr_matrix((lexical.data, columns[lexical.indices], lexical.indptr),
                                     shape=(rows, width)) if explain else None
    if model is not None and model.components is not None:
        projection = project(model, matrix) if projection is None else projection
        if latent is None or (explain and latent.unit is not None and latent.expanded is None):
            latent = latent_query(model, query, explain)
        if latent.unit is not None:
            unit = latent.unit
            with np.errstate(divide="ignore", invalid="ignore"):
                inverse = np.where(projection.norms > 0, 1.0 / projection.norms, 0.0).astype(np.float32)
            cosines = np.clip(projection.latent @ unit * inverse, 0.0, 1.0).astype(np.float32)
            scores = (lexical_weight * scores + (1 - lexical_weight) * cosines).astype(np.float32)
            if not explain:
                return scores, None
            part = projection.words.copy()
            part.data *= latent.expanded[part.indices]
            part.data *= np.repeat(inverse, np.diff(part.indptr))
            part.data[part.data < 0] = 0
            latent_part = sparse.csr_matrix((part.data, model.word_columns()[part.indices], part.indptr),
                                            shape=(rows, width))
            return scores, (lexical_weight * lexical_part + (1 - lexical_weight) * latent_part).tocsr()
    return scores, lexical_part
