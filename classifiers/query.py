"""What a focus area (or a free-text query) looks for: its keywords, grouped with their translations
(pure: no scikit-learn; :func:`classifiers.matcher.query_vector` turns a query into a vector)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from classifiers.text import STOP_WORDS, analyse, nordic_forms, unique, words

if TYPE_CHECKING:
    from pipeline.core.config import FocusArea


@dataclass(frozen=True)
class Query:
    """What a focus area (or a free-text query) looks for."""

    name: str
    terms: tuple[str, ...]
    description: str = ""
    exclude: tuple[str, ...] = ()
    # the terms that form one unit of the query (a keyword and its translations); default: each term
    groups: tuple[tuple[str, ...], ...] = ()
    label: str = ""  # the area's own name for itself ("Green shipping and ports"): see gate.context_vector
    # (term, what it translates) from the synonyms ("havvind", "offshore wind"), Nordic forms included:
    # how the label and description are said in the other languages (gate.context_features)
    translations: tuple[tuple[str, str], ...] = ()
    # the hyphenated terms written closed ("zeroemission vessels" of "zero-emission vessels"): each
    # counts only where the corpus writes every one of its words (matcher.query_vector), else it would
    # ask for its other words alone ("vessels") at the weight of the whole term
    spellings: tuple[str, ...] = ()

    def units(self) -> list[tuple[str, ...]]:
        return list(self.groups) if self.groups else [(term,) for term in self.terms]

    def written_units(self, vocabulary: Mapping[str, int]) -> list[tuple[str, ...]]:
        """The units without the closed spellings whose words the corpus (``vocabulary``) does not all
        write: such a spelling would count only its other words."""
        return [tuple(t for t in group if t not in self.spellings or all(w in vocabulary for w in words(t)))
                for group in self.units()]


_HYPHEN = re.compile(r"(?<=[^\W_])[-\u2010\u2011](?=[^\W_])")


def with_closed_forms(group: tuple[str, ...]) -> tuple[str, ...]:
    """The group and its hyphenated terms written closed ("cyber-security" also as "cybersecurity",
    "e-health" as "ehealth"): calls write such words both ways, and the hyphen splits the term into
    words the closed spelling never meets."""
    features = {f for term in group for f in analyse(term)}
    extra = []
    for term in group:
        if any(part.casefold() in STOP_WORDS for part in _HYPHEN.split(term)):
            continue  # "power-to-X" is no word written closed
        closed = _HYPHEN.sub("", term)
        found = set(analyse(closed))
        if closed != term and found and not found <= features:
            extra.append(closed)
            features |= found
    return (*group, *extra)


def with_nordic_forms(group: tuple[str, ...]) -> tuple[str, ...]:
    """The group and its terms as Danish, Swedish and Norwegian text is stemmed
    (:func:`classifiers.text.nordic_forms`: "fødevarer" also as "fødevar"), a form only when it shares
    no feature with the group's terms: such forms occur only in Nordic text, so English calls score as
    without them, and a shared word would count twice in the unit."""
    features = {f for term in group for f in analyse(term)}
    extra = []
    for term in group:
        for form in nordic_forms(term):
            found = set(analyse(form))
            if found and not found & features:
                extra.append(form)
                features |= found
    return (*group, *extra)


def focus_area_query(name: str, area: FocusArea) -> Query:
    """A focus area as a query: each keyword with its translations from ``synonyms`` is one unit, and
    so are the translations of a synonym key that is not a keyword. Synonyms apply in both directions:
    a keyword that is a translation ("hydrogen" of "brint") has the words it translates in its unit.
    Every unit also has its terms' closed and Nordic forms (:func:`with_closed_forms`,
    :func:`with_nordic_forms`). A unit that says the same as
    an earlier one once analysed ("energy islands", "energy island") is left out: it would count twice."""
    groups: list[tuple[str, ...]] = []
    attached: set[str] = set()  # synonym keys already in a keyword's unit: no unit of their own
    for keyword in area.keywords:
        said = analyse(keyword)  # "energy islands" is translated by energiø: [energy island]
        own = area.synonyms_of(keyword)  # its own synonym key's list (the key in any case or spacing)
        back = [source for source, targets in area.synonyms.items()
                if targets is not own and any(analyse(target) == said for target in targets)]
        groups.append(tuple(unique([keyword, *own, *back])))
        attached.update(back)
    for source, targets in area.synonyms.items():
        if not area.is_keyword(source) and source not in attached:
            groups.append(tuple(unique([*targets, source])))
    plain = [with_nordic_forms(group) for group in groups]
    groups = [with_nordic_forms(with_closed_forms(group)) for group in groups]
    spellings = tuple(unique(t for group, before in zip(groups, plain, strict=True) for t in group
                             if t not in before))
    seen: set[tuple[str, ...]] = set()
    kept: list[tuple[str, ...]] = []
    for group in groups:
        key = tuple(sorted({f for term in group for f in analyse(term)}))
        if key and key not in seen:
            seen.add(key)
            kept.append(group)
    terms = tuple(unique([term for group in kept for term in group]))
    translations = tuple(unique_pairs((form, target) for source, targets in area.synonyms.items()
                                      for target in targets for form in with_nordic_forms((source,))))
    exclude = tuple(unique(form for term in area.exclude for form in with_closed_forms((term,))))
    return Query(name, terms, area.description, exclude, tuple(kept), area.label, translations, spellings)


def unique_pairs(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(pairs))


def query_features(query: Query) -> set[str]:
    features: set[str] = set()
    for term in query.terms:
        features.update(analyse(term))
    return features
