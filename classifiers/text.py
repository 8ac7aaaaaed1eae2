"""Text normalisation and tokenising for matching (pure, no scikit-learn).

Scraped call texts have quirks the matcher must not trip over (see samples/eu_ft/README.md §2):

* U+FEFF (a BOM left inside the text) and private-use characters such as the Wingdings bullet U+F076;
* headings and paragraphs glued together when the HTML was flattened: ``"Objective:The Arctic"``,
  ``"…cut-off.Scope:Size of …"``, ``"Principal InvestigatorThe ERC"``;
* Danish (and other) letters, which are kept: ``"grøn skibsfart"`` stays two words, not ``"gr n"``.

Tokens are lower-cased words with English stop words removed and a light, well-known plural
stemmer (Harman's S-stemmer: "turbines" → "turbine", "batteries" → "battery") so that a keyword in the
singular matches the plural in a text. Phrases are word bigrams joined by a space ("offshore wind"),
built after stop words are removed, identically for queries and documents, so "power-to-X" in a
strategy matches "power-to-X" or "Power to X" in a call.

**Danish, Swedish and Norwegian text** (the section at the end of this module): a text whose
function words say it is Danish, Swedish or Norwegian (:func:`nordic_language`) has those function
words removed and its words stemmed by that language's Snowball stemmer (``snowballstemmer``) before
the S-stemmer, so "brinten", "havvinden" and "energiøer" meet "brint", "havvind" and "energiø".
:func:`nordic_forms` gives the same forms of a query term, which :mod:`classifiers.query` adds to the
term's unit. English text (every text with too few Nordic function words, titles and query terms
included) is tokenised exactly as without this section.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# scikit-learn's list, copied as a frozenset so that tokenising never imports scikit-learn.
STOP_WORDS = frozenset("""
a about above across after afterwards again against all almost alone along already also although
always am among amongst amoungst amount an and another any anyhow anyone anything anyway anywhere are
around as at back be became because become becomes becoming been before beforehand behind being below
beside besides between beyond bill both bottom but by call can cannot cant co con could couldnt cry de
describe detail do done down due during each eg eight either eleven else elsewhere empty enough etc even
ever every everyone everything everywhere except few fifteen fify fill find fire first five for former
formerly forty found four from front full further get give go had has hasnt have he hence her here
hereafter hereby herein hereupon hers herself him himself his how however hundred i ie if in inc indeed
interest into is it its itself keep last latter latterly least less ltd made many may me meanwhile might
mill mine more moreover most mostly move much must my myself name namely neither never nevertheless next
nine no nobody none noone nor not nothing now nowhere of off often on once one only onto or other others
otherwise our ours ourselves out over own part per perhaps please put rather re same see seem seemed
seeming seems serious several she should show side since sincere six sixty so some somehow someone
something sometime sometimes somewhere still such system take ten than that the their them themselves
then thence there thereafter thereby therefore therein thereupon these they thick thin third this those
though three through throughout thru thus to together too top toward towards twelve twenty two un under
until up upon us very via was we well were what whatever when whence whenever where whereafter whereas
whereby wherein whereupon wherever whether which while whither who whoever whole whom whose why will
with within without would yet you your yours yourself yourselves
""".split())

_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad\ue000-\uf8ff]")
# "Objective:The" / "cut-off.Scope:" / "InvestigatorThe ERC": a separator the flattening lost.
_GLUED_AFTER_PUNCT = re.compile(r"(?<=[a-zæøåäöü0-9\)])([:.;])(?=[A-ZÆØÅÄÖÜ])")
_GLUED_CASE = re.compile(r"(?<=[a-zæøåäöüé])(?=[A-ZÆØÅÄÖÜ][a-zæøåäöüé])")
_TOKEN = re.compile(r"[^\W_]+")
# "CO₂", "H₂" and "m³" are how many calls and strategies write "CO2", "H2" and "m3" (NFC keeps the
# script digits): a word of either spelling meets the other.
_SCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉⁰¹²³⁴⁵⁶⁷⁸⁹", "01234567890123456789")


def clean_text(text: str | None) -> str:
    """Readable text with invisible characters removed and glued headings separated."""
    if not text:
        return ""
    text = _GLUED_AFTER_PUNCT.sub(r"\1 ", _unglued(text))
    return " ".join(text.split())


def _unglued(text: str) -> str:
    """What tokenising needs of :func:`clean_text`: a space after ``:``/``.`` or between runs of
    whitespace changes no token, so :func:`words` skips those two passes over the text."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    return _GLUED_CASE.sub(" ", text)


def tokens(text: str | None) -> list[str]:
    """The lower-case words of a text as written, before stop words and stemming."""
    return _TOKEN.findall(_unglued(text).casefold().translate(_SCRIPT_DIGITS)) if text else []


# Words ending in "s" that are no plurals: the invariant words of Snowball's English (Porter2) stemmer.
# "news" stripped is "new", a word of most calls ("new approaches"), so a media cluster's `news media`
# asked for every call saying "new".
INVARIANT_WORDS = frozenset({"news", "atlas", "cosmos", "bias", "andes"})


@lru_cache(maxsize=1 << 17)
def stem(word: str) -> str:
    """Harman's S-stemmer (1991): strip English plural endings only; short words and
    :data:`INVARIANT_WORDS` are left alone. Cached: a corpus repeats its words, and stemming each
    occurrence anew was a tenth of the scoring."""
    if len(word) <= 3 or word.isdigit() or word in INVARIANT_WORDS:
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss", "is")):
        return word[:-1]
    return word


def words(text: str | None) -> list[str]:
    """Lower-case, stemmed words without stop words: the unigram tokens of a text (Danish, Swedish and
    Norwegian text stemmed in its language first, see the module docstring)."""
    said = tokens(text)
    language = nordic_language(said)
    if language is not None:
        return [stem(nordic_stem(token, language)) for token in said
                if token not in STOP_WORDS and token not in NORDIC_STOP_WORDS]
    return [stem(token) for token in said if token not in STOP_WORDS]


def with_phrases(tokens: list[str]) -> list[str]:
    """Unigrams followed by the word bigrams ("offshore wind") of a token list."""
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def analyse(text: str | None) -> list[str]:
    """The features of a text: words and two-word phrases."""
    return with_phrases(words(text))


def split_terms(query: str) -> list[str]:
    """A query string cut at commas, semicolons and new lines into its terms ("a, b c" → [a, "b c"])."""
    return [part.strip() for part in re.split(r"[,;\n]", query) if part.strip()]


def unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


# --- Danish, Swedish and Norwegian text ------------------------------------------------------------
# Function words of each language that are not English words: a text is in the language whose words
# are at least MIN_NORDIC_HITS of its tokens and NORDIC_SHARE of them (a title, a query term or an
# English call text quoting a Danish name never is). They are removed as stop words of that text.
NORDIC_MARKERS: dict[str, frozenset[str]] = {
    "danish": frozenset("og af ikke også eller til med på som det er kan skal vil fra efter hvor jeres "
                        "deres ved samt bliver blive være der har denne dette disse inden mellem".split()),
    "swedish": frozenset("och att är för inte av med på som det eller till kan ska från efter samt vara "
                         "har denna detta dessa inom mellan blir även".split()),
    "norwegian": frozenset("og av ikke også eller til med på som det er kan skal vil fra etter hvor samt "
                           "være blir har denne dette disse innen mellom".split()),
}
NORDIC_STOP_WORDS = frozenset().union(*NORDIC_MARKERS.values())
MIN_NORDIC_HITS = 3
NORDIC_SHARE = 0.05


def nordic_language(tokens: list[str]) -> str | None:
    """"danish", "swedish" or "norwegian" when the tokens' function words say so, else None (English or
    too short to tell); a tie between Danish and Norwegian is Danish."""
    # one pass for the union first: most texts are English, with fewer hits than any language needs
    if len(tokens) < MIN_NORDIC_HITS or sum(map(NORDIC_STOP_WORDS.__contains__, tokens)) < MIN_NORDIC_HITS:
        return None
    counts = {language: sum(map(markers.__contains__, tokens))
              for language, markers in NORDIC_MARKERS.items()}
    language = max(counts, key=lambda name: counts[name])  # dict order: danish first wins a tie
    hits = counts[language]
    return language if hits >= MIN_NORDIC_HITS and hits >= NORDIC_SHARE * len(tokens) else None


_STEMMERS = threading.local()  # a Snowball stemmer keeps the word it works on: one per thread (serve's
# jobs score in several threads at once)


def _snowball(language: str):
    by_language = getattr(_STEMMERS, "by_language", None)
    if by_language is None:
        by_language = _STEMMERS.by_language = {}
    if language not in by_language:
        import snowballstemmer

        by_language[language] = snowballstemmer.stemmer(language)
    return by_language[language]


@lru_cache(maxsize=1 << 16)
def nordic_stem(word: str, language: str) -> str:
    """``word`` stemmed by the Snowball stemmer of ``language`` (danish, swedish, norwegian)."""
    return str(_snowball(language).stemWord(word))


def nordic_forms(term: str) -> list[str]:
    """The term as Danish, Swedish and Norwegian text is tokenised (its words stemmed in each language),
    where that differs from the term: what a query adds so that the term meets such text."""
    said = [t for t in tokens(term) if t not in STOP_WORDS]
    forms = [" ".join(nordic_stem(t, language) for t in said) for language in NORDIC_MARKERS]
    return unique(f for f in forms if f and f != " ".join(said))


# --- the words behind the features -----------------------------------------------------------------

def spoken_forms(text: str | None) -> dict[str, str]:
    """Each word feature of ``text`` (as :func:`words` gives them: stemmed, lower-case) with the word
    the text says most often for it ("specy" → "species", "energiø" → "energiøer"): an explanation
    shows a fundraiser the call's own words, not the stemmer's. Ties go to the first said."""
    said = tokens(text)
    language = nordic_language(said)
    counts: dict[str, dict[str, int]] = {}
    for token in said:
        if token in STOP_WORDS or (language is not None and token in NORDIC_STOP_WORDS):
            continue
        feature = stem(nordic_stem(token, language)) if language is not None else stem(token)
        said = counts.setdefault(feature, {})
        said[token] = said.get(token, 0) + 1
    return {feature: max(said, key=lambda word: said[word]) for feature, said in counts.items()}


def spoken(term: str, forms: dict[str, str]) -> str:
    """A feature (a word or a two-word phrase) in the words of the text :func:`spoken_forms` read; a
    word the text does not say (a query's own) is left as it is."""
    return " ".join(forms.get(word, word) for word in term.split(" "))


def call_forms(title: str | None, text: str | None) -> dict[str, str]:
    """:func:`spoken_forms` of a call, its title and text read apart as the matcher reads them (a
    Danish text keeps its own forms beside an English title); the text's word wins a feature both say."""
    return {**spoken_forms(title), **spoken_forms(text)}
