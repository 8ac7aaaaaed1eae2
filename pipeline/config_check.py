"""What ``fundradar config check`` finds beyond the schema: settings that load but then silently do
nothing or break every call (library).

Errors (the check exits 2) are settings that cannot mean what was written:

* a digest ``focus_areas`` entry that is not a focus area (the digest would drop it);
* an ``allowed_action_types`` code that no call can have (every call of that type would fail);
* in the funding rules, a ``funding_rates`` or ``consortium_by_action_type`` key that is no type of
  action code (its figure or rule would never apply);
* a euro_access programme that is not one euro-access lists but is close to one that is (a typo keeps
  no call of it).

(Schedules APScheduler would refuse and channel names Slack would refuse are errors already when the
config is read: :mod:`pipeline.core.config_strategy`.)

Warnings (printed, exit 0) are legal but probably wrong:

* a synonym key that is not a keyword: close to a keyword (a typo, so the keyword has no translation),
  or translating none of them (it is then searched as a keyword of its own);
* a ``programmes_of_interest`` name that no known programme contains (the funding rules' labels and
  ``match.programme``, the sources' programmes, the stored calls' programmes): its section stays empty;
* a euro_access programme neither known nor close to a known one;
* a keyword or exclude term of which the matcher keeps no word (a stop word such as ``on``, which
  YAML 1.1 read as a boolean; punctuation; blanks), and an exclude term inside a keyword or its
  synonym (every call with the keyword would score 0);
* with a database: a keyword (with what the matcher searches with it: its synonyms both ways and
  their Nordic word forms) or an exclude term that is in
  no stored call's text, looked up as the matcher looks up exclude phrases (whole words, plurals
  included: :func:`classifiers.matcher.excluded_rows`). A non-English keyword without a synonym gets
  its own message, since it can only meet Danish (Swedish, Norwegian) calls (a conditional one
  when no letter tells the language, as for an English word no call of the day says); without a database a
  keyword with a letter English does not use and no synonym gets it too (before the first sync).

A keyword counts as non-English when it has a letter English does not use (æ, ø, å, ä, ö, ü, ß, é,
...), or, once at least :data:`MIN_ENGLISH_CALLS` stored calls are in English (as
:func:`classifiers.text.nordic_language` tells), when none of its words is in those calls' vocabulary
and none of at least six letters is one slip away from a word that is (so "hydrogne" stays a spelling
mistake). Fewer English calls are too small a vocabulary to tell a foreign word from a rare one. A
Danish word spelled almost as its English cognate ("intelligens") reads as English: the warning then
says to check the spelling instead.

Each problem is ``file:line: key: message`` like the schema errors.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.funding import ACTION_TYPE_CODES, action_type_code
from classifiers.matcher import Document, excluded_rows, prepare
from classifiers.query import focus_area_query, with_closed_forms, with_nordic_forms
from classifiers.text import analyse, nordic_language, stem, tokens, words
from classifiers.tfidf import exclude_key
from pipeline.core.config import (
    EuFtSource,
    EuroAccessSource,
    FocusArea,
    FundingRulesFile,
    IcalSource,
    LoadedConfig,
    Strategy,
    _display,
    read_yaml,
)
from pipeline.core.config_strategy import same_term
from pipeline.core.errors import ConfigError
from pipeline.core.text import initials, one_edit_apart, terms_shown
from pipeline.core.yaml import _line_of, _shown

MIN_ENGLISH_CALLS = 50  # the corpus size below which the matcher's LSA is off too (matcher.LSA_MIN_CORPUS)
WORD_CUTOFF = 0.8  # difflib's ratio for one letter wrong in a word of five letters or more
# shorter words are one letter away from too many others ("brint" from "print") to call them slips
MIN_SLIP_LENGTH = 6


@dataclass(frozen=True)
class Problem:
    level: str  # "error" or "warning"
    text: str  # file:line: key: message

    def __str__(self) -> str:
        return f"{'Error' if self.level == 'error' else 'Warning'}: {self.text}"


@dataclass(frozen=True)
class StoredCalls:
    """What the checks read of the stored calls."""

    documents: Sequence[Document] = ()  # every call as the matcher reads it
    programmes: Sequence[str] = ()  # every programme a stored call has
    euro_access_programmes: Sequence[str] = ()
    english_calls: int = 0  # calls not in Danish, Swedish or Norwegian
    english_words: frozenset[str] = field(default_factory=frozenset)  # their words, stemmed


def stored_calls(rows: Iterable[tuple[str, str | None, str | None, str | None]]) -> StoredCalls:
    """``(source, programme, title, text)`` of every stored call, read for the checks."""
    documents, programmes, euro_access, vocabulary, english = [], set(), set(), set(), 0
    for index, (source, programme, title, text) in enumerate(rows):
        documents.append(prepare(index, title or "", text or ""))
        if programme:
            programmes.add(programme)
            if source == "euro_access":
                euro_access.add(programme)
        said = tokens(f"{title or ''} {text or ''}")
        if nordic_language(said) is None:
            english += 1
            vocabulary.update(stem(token) for token in said)
    return StoredCalls(documents, sorted(programmes), sorted(euro_access), english, frozenset(vocabulary))


def _problem(level: str, path: str, tree: Any, loc: tuple[Any, ...], message: str) -> Problem:
    key = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    return Problem(level, str(ConfigError(message, path=path, line=_line_of(tree, loc), key=key)))


def _hint(word: str, known: Iterable[str], cutoff: float = 0.6) -> str:
    known = list(known)
    same = [name for name in known if name.casefold() == word.casefold()]  # 'Interreg' for INTERREG
    close = same or difflib.get_close_matches(word, known, n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""


def _action_hint(code: str) -> str:
    """A close code, or the code of words ('national grant', as config/sources/ store it: NATIONAL); a
    programme's own types of action ('EDF', 'lump sum') have no code of their own but OTHER's."""
    mapped = action_type_code(code)
    return _hint(code, ACTION_TYPE_CODES) or (f"; its code is {mapped!r}" if mapped != "OTHER" else (
        "; a type of action written so has the code 'OTHER', which allows every type no other code names "
        "(the portal's 'EDF Research Actions', 'LIFE Project Grants', prizes, ...)"))


def known_programmes(stored: Iterable[str]) -> list[str]:
    """The euro-access programme names fundradar knows: the default selection and every programme a
    stored euro_access call has."""
    default = EuroAccessSource.model_fields["programmes"].default
    return sorted({*default, *(p for p in stored if p)})


def programme_names(strategies: Iterable[Strategy], rules: FundingRulesFile,
                    stored: Iterable[str] = ()) -> list[str]:
    """Every programme name a ``programmes_of_interest`` entry can be part of: the funding rules'
    labels and ``match.programme`` texts, every strategy's sources' programmes and the stored calls'."""
    names = {*known_programmes(()), *stored}
    for programme in rules.programmes.values():
        names.add(programme.label)
        if programme.match.programme:
            names.add(programme.match.programme)
    for strategy in strategies:
        for source in strategy.sources.values():
            if isinstance(source, EuFtSource):
                names.update(source.programmes)
            elif isinstance(source, EuroAccessSource | IcalSource):
                names.update(source.programmes)
            elif source.programme:
                names.add(source.programme)
    return sorted(name for name in names if name)


def _foreign_letter(term: str) -> bool:
    """A letter English does not use (æ, ø, å, ä, ö, é, ...): the term is surely not English."""
    return any(ch.isalpha() and not ch.isascii() for ch in term)


def is_english(term: str, calls: StoredCalls) -> bool:
    """Whether ``term`` reads as English (the module docstring says how that is told)."""
    if _foreign_letter(term):
        return False
    if calls.english_calls < MIN_ENGLISH_CALLS:
        return True
    said = words(term)
    if any(word in calls.english_words for word in said):
        return True
    vocabulary = list(calls.english_words)
    return any(len(word) >= MIN_SLIP_LENGTH and difflib.get_close_matches(word, vocabulary, n=1,
                                                                          cutoff=WORD_CUTOFF)
               for word in said)


def _unmatched(keyword: str, translations: Sequence[str], stored: int) -> str:
    """"'offshore wind' matches none of the 611 stored calls", with its synonyms when it has some."""
    what = f"{_shown(keyword)} and its synonyms ({terms_shown(translations)})" if translations \
        else _shown(keyword)
    if stored == 1:
        return f"{what} {'do' if translations else 'does'} not match the one stored call"
    return f"{what} {'match' if translations else 'matches'} none of the {stored} stored calls"


def _slip(terms: Sequence[str], calls: StoredCalls) -> str:
    """"; check the spelling: did you mean …?" when a word of ``terms`` is not in the English calls'
    vocabulary but one letter from a word that is ("hydrogne"); nothing when every word is known, since
    a keyword spelt right that no call says yet ("offshore wind" in a recording without one) is no
    spelling mistake."""
    if calls.english_calls < MIN_ENGLISH_CALLS:
        return ""  # too small a vocabulary to tell a slip from a rare word
    vocabulary = list(calls.english_words)
    for term in terms:
        for word in words(term):
            if len(word) < MIN_SLIP_LENGTH or word in calls.english_words:
                continue
            close = [known for known in difflib.get_close_matches(word, vocabulary, n=5, cutoff=WORD_CUTOFF)
                     if one_edit_apart(word, known)]
            if close:
                return f"; check the spelling: did you mean {close[0]!r}?"
    return ""


def _fires(forms: Sequence[str], documents: Sequence[Document]) -> bool:
    return bool(excluded_rows(documents, forms))


def _synonym_problems(name: str, area: FocusArea, where: tuple[str, Any]) -> list[Problem]:
    shown, tree = where
    found = []
    units = focus_area_query(name, area).units()
    for source, targets in area.synonyms.items():
        loc = ("focus_areas", name, "synonyms", source)
        if targets and all(same_term(target) == same_term(source) for target in targets):
            found.append(_problem("warning", shown, tree, loc,
                                  f"synonym {source!r} lists itself ('{source}: [{source}]'), which "
                                  "translates nothing; list its English terms instead"))
        if area.is_keyword(source):
            continue
        close = difflib.get_close_matches(source, area.keywords, n=1, cutoff=WORD_CUTOFF)
        if close:
            found.append(_problem("warning", shown, tree, loc,
                                  f"synonym {source!r} is not a keyword; did you mean {close[0]!r}?"))
        elif not any(source in unit and any(k in unit for k in area.keywords) for unit in units):
            found.append(_problem("warning", shown, tree, loc,
                                  f"synonym {source!r} is not a keyword and translates none; add it to "
                                  "keywords: (it is searched as a keyword of its own)"))
    return found


def _term_problems(name: str, area: FocusArea, where: tuple[str, Any], calls: StoredCalls) -> list[Problem]:
    shown, tree = where
    found = []
    documents = calls.documents
    units = focus_area_query(name, area).units()
    dead = set(_unsearchable_keywords(area))
    for number, keyword in enumerate(area.keywords):
        if number in dead:
            continue  # told by _dead_terms, whatever the calls say
        translations = area.synonyms_of(keyword)
        # what the matcher searches for the keyword: its unit (translations both ways, Nordic forms);
        # a keyword whose unit repeats an earlier one has none of its own
        searched = next((unit for unit in units if keyword in unit),
                        with_nordic_forms((keyword, *translations)))
        if _fires(searched, documents):
            continue
        loc = ("focus_areas", name, "keywords", number)
        if not translations and _foreign_letter(keyword):
            found.append(_problem("warning", shown, tree, loc,
                                  f"keyword {_shown(keyword)} has no English synonym and matches no stored "
                                  "call; add a synonym under synonyms:"))
        elif not translations and not is_english(keyword, calls):
            # no letter tells the language: "flydende havvind" and an English "vaccines" no call of the
            # day says look alike here, so the advice is conditional
            found.append(_problem("warning", shown, tree, loc,
                                  f"keyword {_shown(keyword)} matches no stored call and is no word of the "
                                  "English calls; if it is not English, add an English synonym under "
                                  "synonyms:"))
        else:
            found.append(_problem("warning", shown, tree, loc,
                                  _unmatched(keyword, translations, len(documents))
                                  + _slip([keyword, *translations], calls)))
    for number, term in enumerate(area.exclude):
        if exclude_key(term) and not _fires(with_closed_forms((term,)), documents):
            found.append(_problem("warning", shown, tree, ("focus_areas", name, "exclude", number),
                                  f"exclude {_shown(term)} matches no stored call"))
    return found


UNTRANSLATED = "has no English synonym, so English calls cannot match it; add a synonym under synonyms:"


def untranslated_keywords(area: FocusArea) -> list[int]:
    """The positions of the keywords with a letter English does not use and no translation either
    way: no English call (most EU calls) can match them."""
    # a synonym listing itself ('lækage: [lækage]') translates nothing
    translated = {same_term(term) for source, targets in area.synonyms.items() for term in (source, *targets)
                  if any(same_term(target) != same_term(source) for target in targets)}
    dead = set(_unsearchable_keywords(area))
    return [number for number, keyword in enumerate(area.keywords)
            if same_term(keyword) not in translated and number not in dead
            and any(ch.isalpha() and not ch.isascii() for ch in keyword)]


def _unsearchable_keywords(area: FocusArea) -> list[int]:
    """The positions of the keywords of which the matcher keeps no word ("on", "...", "   "), nor of
    their translations."""
    return [number for number, keyword in enumerate(area.keywords)
            if not any(analyse(term) for term in (keyword, *area.synonyms_of(keyword)))]


DEAD_WORDS = ("stop words such as 'on', 'no' and 'the', punctuation and spaces are left out; write the term "
              "as the calls say it, or remove it")


def _dead_terms(name: str, area: FocusArea, where: tuple[str, Any]) -> list[Problem]:
    """Keywords and exclude terms that do nothing or undo the area whatever the calls say: a keyword
    (or exclude term) of which no word is searched, and an exclude term inside a keyword (or its
    synonym), which zeroes every call having that keyword."""
    shown, tree = where
    found = [_problem("warning", shown, tree, ("focus_areas", name, "keywords", number),
                      f"keyword {_shown(area.keywords[number])} has no word the matcher searches "
                      f"({DEAD_WORDS})")
             for number in _unsearchable_keywords(area)]
    for number, term in enumerate(area.exclude):
        loc = ("focus_areas", name, "exclude", number)
        key = exclude_key(term)
        if not key:
            found.append(_problem("warning", shown, tree, loc,
                                  f"exclude {_shown(term)} has no word to look for ({DEAD_WORDS})"))
            continue
        inside = next(((keyword, said) for keyword in area.keywords
                       for said in (keyword, *area.synonyms_of(keyword))
                       if exclude_key(said) and key in exclude_key(said)), None)
        if inside:
            keyword, said = inside
            what = f"keyword {_shown(keyword)}" + (f" (its synonym {_shown(said)})" if said != keyword
                                                   else "")
            found.append(_problem("warning", shown, tree, loc,
                                  f"exclude {_shown(term)} is in {what}: every call with it scores 0 "
                                  "here; remove the term from exclude: or from keywords:"))
    return found


def _untranslated(name: str, area: FocusArea, where: tuple[str, Any]) -> list[Problem]:
    """Without stored calls the untranslated keywords are told before the first sync."""
    shown, tree = where
    return [_problem("warning", shown, tree, ("focus_areas", name, "keywords", number),
                     f"keyword {_shown(area.keywords[number])} {UNTRANSLATED}")
            for number in untranslated_keywords(area)]


def check_strategy(strategy: Strategy, path: Path, *, programmes: Sequence[str] = (),
                   known_names: Sequence[str] = (), calls: StoredCalls | None = None) -> list[Problem]:
    """The problems of one strategy file. ``programmes``: known euro-access programme names;
    ``known_names``: what a programme of interest may be part of (no check when empty); ``calls``:
    the stored calls (None: no database, no warnings about keywords and exclude terms)."""
    shown = _display(path)
    tree = read_yaml(path)
    found: list[Problem] = []
    areas = strategy.focus_areas
    for index, digest in enumerate(strategy.slack.digests):
        for number, area in enumerate(digest.focus_areas):
            if area not in areas:
                loc = ("slack", "digests", index, "focus_areas", number)
                labelled = [name for name, a in areas.items() if same_term(a.label) == same_term(area)]
                hint = f"; that is the label of focus area {labelled[0]!r}: write its name" if labelled \
                    else _hint(area, areas)
                found.append(_problem("error", shown, tree, loc, f"unknown focus area {area!r}{hint}; the "
                                      f"strategy has {', '.join(areas)}"))
    if strategy.rules.allowed_action_types == []:
        found.append(_problem("error", shown, tree, ("rules", "allowed_action_types"),
                              "an empty list allows no type of action, so every call with one fails; "
                              "list the codes to allow, e.g. [RIA, IA, CSA], or remove the key to allow all"))
    for number, code in enumerate(strategy.rules.allowed_action_types or []):
        if code not in ACTION_TYPE_CODES:
            found.append(_problem("error", shown, tree, ("rules", "allowed_action_types", number),
                                  f"unknown type of action {code!r}{_action_hint(code)}; use "
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
    names = {name.casefold(): name for name in known_names}
    for number, wanted in enumerate(strategy.programmes_of_interest if names else []):
        # a programme of interest follows every call whose programme contains it
        if not any(wanted.casefold() in name for name in names):
            close = [name for name in names if len(wanted) > 1 and initials(name) == wanted.casefold()] \
                or difflib.get_close_matches(wanted.casefold(), list(names), n=1)  # 'EDF': its acronym
            hint = f"; did you mean {names[close[0]]!r}?" if close else "; check the spelling"
            found.append(_problem("warning", shown, tree, ("programmes_of_interest", number),
                                  f"programme {wanted!r} matches no known programme (funding rules, "
                                  f"sources, stored calls){hint}"))
    return found + check_focus_areas(areas, shown, tree, calls)


def check_focus_areas(areas: Mapping[str, FocusArea], shown: str, tree: Any,
                      calls: StoredCalls | None = None) -> list[Problem]:
    """The focus-area warnings of a strategy file, also for focus areas of another file (a judged
    file's): synonyms that are no keyword, and with ``calls`` keywords and exclude terms in none."""
    found: list[Problem] = []
    for name, area in areas.items():
        found += _synonym_problems(name, area, (shown, tree))
        found += _dead_terms(name, area, (shown, tree))
        if calls is not None:
            found += _term_problems(name, area, (shown, tree), calls)
        else:
            found += _untranslated(name, area, (shown, tree))
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


def _reads(source: Any) -> dict[tuple[str, ...], str]:
    """What a source fetches, each part keyed so that two sources reading it have the key in common,
    with how a message names it."""
    kind = str(getattr(source, "type", ""))
    if isinstance(source, EuFtSource):
        return {(kind, str(source.url), pid): label for label, pid in source.programmes.items()}
    if isinstance(source, EuroAccessSource):
        return {(kind, str(source.url), name.casefold()): name for name in source.programmes}
    if isinstance(source, IcalSource):
        return {(kind, str(source.url), *sorted(source.programmes)): str(source.url)}
    pages = getattr(source, "pages", None) or [getattr(source, "url", "")]
    item = str(getattr(source, "item", ""))  # html_list: one listing page may serve several programmes
    return {(kind, str(page), item): str(page) for page in pages if page}


def _overlapping_sources(config: LoadedConfig) -> list[Problem]:
    """Sources of several strategy files under different names that read the same thing (two eu_ft
    sources with a programme in common, one feed twice): each stores its own copy of every call both
    read, so each strategy lists those calls twice."""
    seen: dict[tuple[str, ...], tuple[str, Path]] = {}
    found: list[Problem] = []
    for path, strategy in zip(config.strategy_paths, config.strategies, strict=True):
        tree = None
        for name, source in strategy.sources.items():
            common: dict[str, list[str]] = {}
            reads = _reads(source)
            for key, shown in reads.items():
                other = seen.get(key)
                if other is not None and other[0] != name:
                    common.setdefault(other[0], []).append(shown)
            for other_name, parts in common.items():
                tree = tree if tree is not None else read_yaml(path)
                other_path = next(p for k, (n, p) in seen.items() if n == other_name)
                listed = ", ".join(parts[:3]) + (f" and {len(parts) - 3} more" if len(parts) > 3 else "")
                found.append(_problem(
                    "warning", _display(path), tree, ("sources", name),
                    f"reads what source {other_name!r} ({_display(other_path)}) reads too ({listed}): the "
                    "calls both read are stored and listed twice; declare one source under one name, the "
                    "same in both files"))
            for key in reads:
                seen.setdefault(key, (name, path))
    return found


def check_config(config: LoadedConfig, calls: StoredCalls | None = None) -> list[Problem]:
    """Every strategy file's problems, errors first within each file; ``calls``: the stored calls, or
    None without a database."""
    stored = calls or StoredCalls()
    programmes = known_programmes(stored.euro_access_programmes)
    names = programme_names(config.strategies, config.funding_rules, stored.programmes)
    problems: list[Problem] = []
    for path, strategy in zip(config.strategy_paths, config.strategies, strict=True):
        found = check_strategy(strategy, path, programmes=programmes, known_names=names, calls=calls)
        problems += sorted(found, key=lambda p: p.level != "error")
    if len(config.strategies) > 1:
        problems += _overlapping_sources(config)
    if config.funding_rules_path is not None:
        problems += check_funding_rules(config.funding_rules, config.funding_rules_path)
    return problems
