"""Funding rules: which programme a call belongs to, its funding rate and success rate (pure).

The figures come from ``config/funding_rules.yaml``; every figure carries its public source so a
fundraiser can check it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.core.config import Consortium, CountryGroup, Figure, FundingRulesFile, ProgrammeRules
from pipeline.core.text import one_line

# Ordered: the first pattern found in the normalised type-of-action text wins.
_ACTION_PATTERNS: tuple[tuple[str, str], ...] = (
    ("COFUND", r"\bco-?fund"),
    ("PCP", r"pre-commercial procurement|\bPCP\b|public procurement of innovati"),
    ("ERC", r"\bERC\b|european research council"),
    ("MSCA", r"\bMSCA\b|marie sk"),
    ("EIC", r"\bEIC\b"),
    ("CSA", r"coordination and support|\bCSA\b"),
    ("IA", r"(?<!research and )innovation action|\bIA\b"),
    ("RIA", r"research and innovation action|\bRIA\b"),
    ("INTERREG", r"interreg"),
    # "IE" is the code page_watch stores for BSR Innovation Express; matched in capitals only, so a
    # word such as "ie" in a free-text type of action does not make it one
    ("IE", r"innovation express|(?-i:\bIE\b)"),
    # a Danish or Nordic funder's own grant (Innovationsfonden, EUDP, MUDP, GUDP, Nordic Innovation, …):
    # html_list configs store "national grant" (config/sources/)
    ("NATIONAL", r"national grant|nordic grant|(?-i:\bNATIONAL\b)"),
)
# Every code action_type_code gives: what a strategy's allowed_action_types may name.
ACTION_TYPE_CODES: tuple[str, ...] = (*(code for code, _ in _ACTION_PATTERNS), "OTHER")


def action_type_code(type_of_action: str | None) -> str | None:
    """``"HORIZON  Research and Innovation Actions"`` → ``"RIA"``; None when there is no text."""
    text = one_line(type_of_action)
    if not text:
        return None
    for code, pattern in _ACTION_PATTERNS:
        if re.search(pattern, text, flags=re.IGNORECASE):
            return code
    return "OTHER"


@dataclass(frozen=True)
class FundingInfo:
    programme_key: str | None
    label: str | None
    action_type: str | None
    funding_rate: Figure | None
    success_rate: Figure | None
    consortium: Consortium | None
    eligible_countries: tuple[str, ...]
    funding_rate_key: str | None = None  # the funding_rates entry that gave funding_rate: a code or "default"
    one_from: CountryGroup | None = None  # the consortium rule's country group, resolved
    consortium_action_type: str | None = None  # set when the consortium rule is the action type's own


class FundingRules:
    def __init__(self, rules: FundingRulesFile) -> None:
        self._groups = rules.country_groups
        self._answers: dict[tuple[str | None, str | None, str | None], FundingInfo] = {}
        self._programmes: list[tuple[str, ProgrammeRules, re.Pattern[str] | None]] = [
            (key, prog, re.compile(prog.match.topic_id) if prog.match.topic_id else None)
            for key, prog in rules.programmes.items()]

    def programme_of(self, programme: str | None, topic_id: str | None) -> tuple[str, ProgrammeRules] | None:
        for key, prog, pattern in self._programmes:
            if pattern is not None and topic_id and pattern.search(topic_id):
                return key, prog
        name = (programme or "").casefold()
        for key, prog, _ in self._programmes:
            if prog.match.programme and name and prog.match.programme.casefold() in name:
                return key, prog
        return None

    def lookup(self, programme: str | None, topic_id: str | None, type_of_action: str | None) -> FundingInfo:
        """The rules for a call; remembered, since a listing asks again for each application of a call."""
        key = (programme, topic_id, type_of_action)
        found = self._answers.get(key)
        if found is None:
            found = self._answers[key] = self._uncached(programme, topic_id, type_of_action)
        return found

    def _uncached(self, programme: str | None, topic_id: str | None,
                  type_of_action: str | None) -> FundingInfo:
        code = action_type_code(type_of_action)
        found = self.programme_of(programme, topic_id)
        if found is None:
            return FundingInfo(None, None, code, None, None, None, ())
        key, prog = found
        rates = prog.funding_rates
        rate_key = code if code in rates else "default" if "default" in rates else None
        if code is None and rate_key is None and len(rates) == 1:
            rate_key = next(iter(rates))
        rate = rates[rate_key] if rate_key is not None else None
        # a rule for the call's type of action replaces the programme's (Horizon Europe: RIA/IA need three
        # entities, a CSA one)
        own = prog.consortium_by_action_type.get(code or "")
        consortium = own or prog.consortium
        group = self._groups.get(consortium.one_from) if consortium and consortium.one_from else None
        return FundingInfo(key, prog.label, code, rate, prog.success_rate, consortium,
                           tuple(prog.eligible_countries), rate_key, group, code if own else None)
