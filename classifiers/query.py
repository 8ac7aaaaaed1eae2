"""What a focus area (or a free-text query) looks for: its keywords, grouped with their translations
(pure: no scikit-learn; :func:`classifiers.matcher.query_vector` turns a query into a vector)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from classifiers.text import analyse, unique

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
    label: str = ""  # the area's own name for itself ("Green shipping and ports"): see matcher.context_vector

    def units(self) -> list[tuple[str, ...]]:
        return list(self.groups) if self.groups else [(term,) for term in self.terms]


def focus_area_query(name: str, area: FocusArea) -> Query:
    """A focus area as a query: each keyword with its translations from ``synonyms`` is one unit, and
    so are the translations of a synonym key that is not a keyword. A unit that says the same as an
    earlier one once analysed ("energy islands", "energy island") is left out: it would count twice."""
    groups: list[tuple[str, ...]] = []
    for keyword in area.keywords:
        groups.append((keyword, *area.synonyms.get(keyword, [])))
    for source, targets in area.synonyms.items():
        if source not in area.keywords:
            groups.append(tuple(targets))
    seen: set[tuple[str, ...]] = set()
    kept: list[tuple[str, ...]] = []
    for group in groups:
        key = tuple(sorted({f for term in group for f in analyse(term)}))
        if key and key not in seen:
            seen.add(key)
            kept.append(group)
    terms = tuple(unique([term for group in kept for term in group]))
    return Query(name, terms, area.description, tuple(area.exclude), tuple(kept), area.label)


def query_features(query: Query) -> set[str]:
    features: set[str] = set()
    for term in query.terms:
        features.update(analyse(term))
    return features
