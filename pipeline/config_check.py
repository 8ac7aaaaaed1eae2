"""What ``fundradar config check`` finds beyond the schema: settings that load but then silently do
nothing or break every call (library).

Errors (the check exits 2) are settings that cannot mean what was written:

* a digest ``focus_areas`` entry that is not a focus area (the digest would drop it);
* an ``allowed_action_types`` code that no call can have (every call of that type would fail);
* in the funding rules, a ``funding_rates`` or ``consortium_by_action_type`` key that is no type of
  action code (its figure or rule would never apply);
* a euro_access programme that is not one euro-access lists but is close to one that is (a typo keeps
  no call of it).

Warnings (printed, exit 0) are legal but probably wrong: a keyword or exclude term that matches no
stored call, a euro_access programme neither known nor close to a known one. Each problem is
``file:line: key: message`` like the schema errors.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.funding import ACTION_TYPE_CODES
from pipeline.core.config import (
    EuroAccessSource,
    FundingRulesFile,
    LoadedConfig,
    Strategy,
    _display,
    read_yaml,
)
from pipeline.core.errors import ConfigError
from pipeline.core.yaml import _line_of


@dataclass(frozen=True)
class Problem:
    level: str  # "error" or "warning"
    text: str  # file:line: key: message

    def __str__(self) -> str:
        return f"{'Error' if self.level == 'error' else 'Warning'}: {self.text}"


def _problem(level: str, path: str, tree: Any, loc: tuple[Any, ...], message: str) -> Problem:
    key = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    return Problem(level, str(ConfigError(message, path=path, line=_line_of(tree, loc), key=key)))


def _hint(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def known_programmes(stored: Iterable[str]) -> list[str]:
    """The euro-access programme names fundradar knows: the default selection and every programme a
    stored euro_access call has."""
    default = EuroAccessSource.model_fields["programmes"].default
    return sorted({*default, *(p for p in stored if p)})


def check_strategy(strategy: Strategy, path: Path, *, programmes: Sequence[str] = (),
                   haystacks: Sequence[str] | None = None) -> list[Problem]:
    """The problems of one strategy file. ``programmes``: known euro-access programme names;
    ``haystacks``: the stored calls' casefolded title and text (None: no database, no warnings about
    terms)."""
    shown = _display(path)
    tree = read_yaml(path)
    found: list[Problem] = []
    areas = strategy.focus_areas
    for index, digest in enumerate(strategy.slack.digests):
        for number, area in enumerate(digest.focus_areas):
            if area not in areas:
                loc = ("slack", "digests", index, "focus_areas", number)
                found.append(_problem("error", shown, tree, loc,
                                      f"unknown focus area {area!r}{_hint(area, areas)}; the strategy has "
                                      f"{', '.join(areas)}"))
    for number, code in enumerate(strategy.rules.allowed_action_types or []):
        if code not in ACTION_TYPE_CODES:
            found.append(_problem("error", shown, tree, ("rules", "allowed_action_types", number),
                                  f"unknown type of action {code!r}{_hint(code, ACTION_TYPE_CODES)}; use "
                                  f"codes from {', '.join(ACTION_TYPE_CODES)}"))
    folded = {p.casefold(): p for p in programmes}
    for source_name, source in strategy.sources.items():
        if not isinstance(source, EuroAccessSource):
            continue
        for number, programme in enumerate(source.programmes):
            if programme.casefold() in folded:
                continue
            close = difflib.get_close_matches(programme.casefold(), list(folded), n=1, cutoff=0.85)
            loc = ("sources", source_name, "programmes", number)
            if close:
                found.append(_problem("error", shown, tree, loc,
                                      f"unknown programme {programme!r}; did you mean {folded[close[0]]!r}? "
                                      "(names must match euro-access.eu exactly)"))
            else:
                found.append(_problem("warning", shown, tree, loc,
                                      f"programme {programme!r} is not one fundradar has seen on "
                                      "euro-access.eu; check the spelling there"))
    if haystacks:
        for name, area in areas.items():
            for field, terms in (("keywords", area.keywords), ("exclude", area.exclude)):
                for number, term in enumerate(terms):
                    words = [term, *area.synonyms.get(term, [])] if field == "keywords" else [term]
                    if not any(w.casefold() in h for w in words for h in haystacks):
                        found.append(_problem("warning", shown, tree, ("focus_areas", name, field, number),
                                              f"{term!r} matches no stored call; check the spelling"))
    return found


def check_funding_rules(rules: FundingRulesFile, path: Path) -> list[Problem]:
    """Keys by type of action that no call can have: ``funding_rates`` (besides ``default``) and
    ``consortium_by_action_type``."""
    shown = _display(path)
    tree = read_yaml(path)
    found: list[Problem] = []
    with_default = (*ACTION_TYPE_CODES, "default")
    for key, programme in rules.programmes.items():
        for table, codes, allowed in (("funding_rates", programme.funding_rates, with_default),
                                      ("consortium_by_action_type", programme.consortium_by_action_type,
                                       ACTION_TYPE_CODES)):
            for code in codes:
                if code not in allowed:
                    found.append(_problem("error", shown, tree, ("programmes", key, table, code),
                                          f"unknown type of action {code!r}{_hint(code, allowed)}; use "
                                          f"codes from {', '.join(allowed)}"))
    return found


def check_config(config: LoadedConfig, *, programmes: Sequence[str] = (),
                 haystacks: Sequence[str] | None = None) -> list[Problem]:
    """Every strategy file's problems, errors first within each file, then the funding rules'."""
    problems: list[Problem] = []
    for path, strategy in zip(config.strategy_paths, config.strategies, strict=True):
        found = check_strategy(strategy, path, programmes=programmes, haystacks=haystacks)
        problems += sorted(found, key=lambda p: p.level != "error")
    if config.funding_rules_path is not None:
        problems += check_funding_rules(config.funding_rules, config.funding_rules_path)
    return problems
