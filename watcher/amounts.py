"""Grant amounts found in free text (Danish, Nordic, German and English funders' pages), in EUR.

"op til 40 mio. kr.", "DKK 5-40 million", "Samlet pulje: 50 mio. DKK", "EUR 60,000", "NOK 2 millioner",
"SEK 500 000", "5 Mio. Euro": a number (Danish/German "1.000.000,5" or English "1,000,000.5" grouping,
spaces as thousands separators), an optional scale word (mio., mil., million(er), m, mn, mia., mrd.,
milliard(er), billion, bn, tusind, thousand, k) and a currency (DKK, kr., EUR, €, euro(s), NOK, SEK) before
or after it; of a range ("5-40", "10,000 to 60,000", "mellem 1 og 2 mio.") the upper end.

An amount introduced as a pool ("pulje", "budget", "total", "samlet", "i alt", "ramme", "afsat",
"Gesamt") or followed by one ("til rådighed", "att söka", "available") is the call's budget; the largest
other amount is the maximum per project. Amounts are converted to EUR at :data:`EUR_PER`: the Danish
krone is pegged (ERM II central rate 7.46038), the Norwegian and Swedish crowns float and their rates
are rounded 2025 averages, good enough to compare a grant with a strategy's budget range. ``kr.`` alone
is read as DKK (the pages are Danish); Swedish and Norwegian pages write SEK/NOK or "kronor"/"kroner".
Pure functions: text in, amounts out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from watcher.records import MAX_AMOUNT

EUR_PER: dict[str, float] = {"EUR": 1.0, "DKK": 7.46038, "NOK": 11.6, "SEK": 11.1}
_SCALE = {"mio": 1e6, "million": 1e6, "millioner": 1e6, "millionen": 1e6, "miljoner": 1e6, "mill": 1e6,
          "mia": 1e9, "mrd": 1e9, "milliard": 1e9, "milliarder": 1e9, "miljarder": 1e9,
          "mil": 1e6, "tusind": 1e3, "tusen": 1e3, "tausend": 1e3, "thousand": 1e3, "k": 1e3,
          "m": 1e6, "mn": 1e6, "bn": 1e9, "billion": 1e9}
_CURRENCY = {"dkk": "DKK", "kr": "DKK", "kroner": "DKK", "eur": "EUR", "€": "EUR", "euro": "EUR",
             "euros": "EUR", "nok": "NOK", "sek": "SEK", "kronor": "SEK"}
_CUR = r"(?:DKK|EUR|NOK|SEK|€|euros|euro|kroner|kronor|kr\.?)"
_NUM = r"\d{1,3}(?:[ .,\u00a0]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_SCL = (r"(?:mio|millioner|millionen|million|miljoner|mill|mil|mia|mrd|milliarder|milliard|miljarder|"
        r"billion|bn|mn|m|tusind|tusen|tausend|thousand|k)\.?")
# "10,000 to 60,000", "mellem 1 og 2 mio.": the upper end counts, as in "5-40"
_TO = r"(?:\s*[-–]\s*|\s+(?:to|til|till|bis|and|og|och|und)\s+)"
_WHOLE = r"(?![.,]?\d)"  # a number is read whole: "1.5m" is never "1" followed by ".5m"
_AMOUNT = re.compile(
    rf"(?P<c1>{_CUR})?\s*(?P<num>{_NUM}){_WHOLE}(?:{_TO}(?P<num2>{_NUM}){_WHOLE})?\s*(?P<scale>{_SCL})?"
    rf"\s*(?P<c2>{_CUR})?(?![\w])", re.IGNORECASE)
_POOL = re.compile(r"pulje|budget|total|samlet|samlede|i alt|ramme|gesamt|insgesamt|totalt|budsjett|overall|"
                   r"sammanlagt|afsat|afsættes|avsatt|avsätts|allocated", re.IGNORECASE)
# a pool named after its amount: "500 mio. kr. til rådighed", "50 miljoner kronor att söka",
# "EUR 3 million is available"; read as a maximum per project it failed every budget rule
_POOL_AFTER = re.compile(r"\s*(?:(?:er|is|are|är|ist|stehen|står)\s+)?(?:til rådighed|til disposition|"
                         r"til disposisjon|tilgjengelig|tillgängliga|available|zur verfügung|at søge|"
                         r"att söka|å søke|i alt|totalt|sammanlagt|in total)(?!\w)", re.IGNORECASE)
# ... but one project's total ("op til 500.000 kr. i alt pr. projekt", "Each project can receive up to
# EUR 60,000 in total") is that project's maximum
_PER_ONE = re.compile(r"(?<!\w)(?:(?:pr\.?|per|je|each|every|hvert?|varje|hver)\s+"
                      r"(?:projekt|project|ansøgning|application|ansøger|applicant|virksomhed|company|"
                      r"partner|beneficiary|sökande|søker))(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Amount:
    value: float  # in the currency as written
    currency: str
    eur: float
    pool: bool  # introduced as the call's total budget


def _number(text: str) -> float:
    """ "1.000.000,5", "1,000,000.5", "500 000", "40", "2,5" as a float."""
    text = text.replace("\u00a0", " ").replace(" ", "")
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", text):  # only thousands groups: 1.000.000 or 1,000,000
        return float(re.sub(r"[.,]", "", text))
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal == "," else ",", "").replace(decimal, ".")
    return float(text.replace(",", "."))


def find_amounts(text: str) -> list[Amount]:
    """Every amount with a currency in ``text`` (the upper end of a range "5-40 mio. kr.")."""
    found = []
    previous = 0  # where the amount before ended: its pool word is not this one's
    for match in _AMOUNT.finditer(text or ""):
        written = (match.group("c1") or match.group("c2") or "").lower().rstrip(".")
        if not written:
            continue
        currency = _CURRENCY[written]
        value = _number(match.group("num"))
        scale = _SCALE.get((match.group("scale") or "").lower().rstrip("."), 1.0)
        upper = _number(match.group("num2")) * scale if match.group("num2") else None
        # "EUR 60,000 and 12 months" is no range: its upper end would be below the amount
        if upper is not None and upper >= value:
            value = upper
        elif upper is None:
            value *= scale
        if not math.isfinite(value) or value / EUR_PER[currency] > MAX_AMOUNT:
            continue  # "9999…9 kr." of a garbled page is no amount; refused, it took its call along
        before = text[max(previous, match.start() - 40):match.start()]
        previous = match.end()
        after = _POOL_AFTER.match(text, match.end())
        pool = bool(_POOL.search(before)) or (
            after is not None and not _PER_ONE.search(before)
            and not _PER_ONE.match(text[after.end():after.end() + 40].lstrip()))
        found.append(Amount(value, currency, round(value / EUR_PER[currency], 2), pool))
    return found


def budget_and_maximum(text: str) -> tuple[float | None, float | None]:
    """(budget, maximum per project) in EUR: the largest pool amount, and the largest other amount."""
    amounts = find_amounts(text)
    pools = [a.eur for a in amounts if a.pool]
    others = [a.eur for a in amounts if not a.pool]
    return (max(pools) if pools else None), (max(others) if others else None)
