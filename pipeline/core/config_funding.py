"""The funding rules file's schema (config/funding_rules.yaml): success and funding rates per
programme, each figure with its source, and how a call is recognised as a programme's (a bounded
regular expression on its topic id). Loading is :mod:`pipeline.core.config`, which re-exports every
name here."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from pipeline.core.config_strategy import CountryCode, Fraction, NonEmptyStr, _Strict


class Figure(_Strict):
    value: Fraction
    source: NonEmptyStr  # where the figure comes from: report, work programme, programme manual
    note: str = ""




class CountryGroup(_Strict):
    """A named set of countries a consortium needs one member from (e.g. the EU Member States)."""

    label: NonEmptyStr  # as a warning names it: "an EU Member State"
    countries: Annotated[list[CountryCode], Field(min_length=1)]


class Consortium(_Strict):
    """A programme's minimum consortium: members are independent legal entities (beneficiaries: our
    organisation, the coordinator and partners; associated partners and subcontractors do not count)."""

    min_partners: Annotated[int, Field(ge=1)] = 1
    min_countries: Annotated[int, Field(ge=1)] = 1
    one_from: NonEmptyStr | None = None  # a country_groups key: at least one member established there
    source: NonEmptyStr


MAX_PATTERN_LENGTH = 200


def _repeats(pattern: Any) -> bool:
    """Whether a parsed pattern (``re._parser`` items) contains a repetition that can match more than
    one time."""
    import re._constants as c  # the parser's opcodes

    for op, arg in pattern:
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and arg[1] > 1:
            return True
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and _repeats(arg[2]):
            return True
        if op in (c.SUBPATTERN, c.ATOMIC_GROUP) and _repeats(arg[-1]):
            return True
        if op is c.BRANCH and any(_repeats(branch) for branch in arg[1]):
            return True
        if op in (c.ASSERT, c.ASSERT_NOT) and _repeats(arg[1]):
            return True
    return False


def _backtracking_risk(pattern: Any) -> str | None:
    """What makes Python's backtracking engine take exponential time on a short topic id: a repeated
    group that itself repeats (``(a+)+``), a repeated alternation (``(a|a)*``) or a back-reference."""
    import re._constants as c

    for op, arg in pattern:
        if op in (c.MAX_REPEAT, c.MIN_REPEAT) and arg[1] > 1:
            body = arg[2]
            if _repeats(body):
                return "a repeated group that itself repeats, such as (a+)+"
            if any(inner_op is c.BRANCH or (inner_op is c.SUBPATTERN and any(
                    o is c.BRANCH for o, _ in inner_arg[-1])) for inner_op, inner_arg in body):
                return "a repeated alternation, such as (a|ab)*"
        if op in (c.GROUPREF, c.GROUPREF_EXISTS):
            return "a back-reference"
        children = []
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            children = [arg[2]]
        elif op in (c.SUBPATTERN, c.ATOMIC_GROUP):
            children = [arg[-1]]
        elif op is c.BRANCH:
            children = list(arg[1])
        elif op in (c.ASSERT, c.ASSERT_NOT):
            children = [arg[1]]
        for child in children:
            found = _backtracking_risk(child)
            if found:
                return found
    return None


class ProgrammeMatch(_Strict):
    """How a call is recognised as a programme's. ``topic_id`` is a regular expression run with Python's
    backtracking engine on every call's topic id, so it is bounded instead of trusted: at most
    200 characters, no nested or alternating repetition, no back-references (the shapes whose matching
    time grows exponentially). Prefixes and character classes, the patterns a topic id needs
    (``^HORIZON-CL5-``, ``^LIFE-20\\d\\d-``), all pass."""

    topic_id: str | None = None  # regex on the topic identifier
    programme: str | None = None  # case-insensitive substring of the programme name

    @field_validator("topic_id")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if len(value) > MAX_PATTERN_LENGTH:
            raise ValueError(f"the pattern is {len(value):,} characters long, more than "
                             f"{MAX_PATTERN_LENGTH}; a topic id prefix such as '^HORIZON-CL5-' is enough")
        import re._parser as parser

        try:
            parsed = parser.parse(value)
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        except (OverflowError, RecursionError):  # a{99999999999}, thousands of nested groups
            raise ValueError("not a usable regular expression: too large or nested too deeply") \
                from None
        risk = _backtracking_risk(parsed)
        if risk:
            raise ValueError(f"the pattern contains {risk}, which can make matching take hours; use a "
                             "plain prefix or character classes such as '^HORIZON-CL[0-9]-'")
        return value


class ProgrammeRules(_Strict):
    label: NonEmptyStr
    match: ProgrammeMatch
    success_rate: Figure | None = None
    funding_rates: dict[NonEmptyStr, Figure] = {}  # action type code (RIA, IA, CSA, …) or "default"
    consortium: Consortium | None = None
    # by action type code (RIA, IA, …): a rule that replaces ``consortium`` for calls of that type
    consortium_by_action_type: dict[NonEmptyStr, Consortium] = {}
    eligible_countries: list[CountryCode] = []  # empty = all EU/EEA


class FundingRulesFile(_Strict):
    country_groups: dict[NonEmptyStr, CountryGroup] = {}
    programmes: Annotated[dict[NonEmptyStr, ProgrammeRules], Field(min_length=1)]

    @model_validator(mode="after")
    def _known_groups(self) -> FundingRulesFile:
        for prog in self.programmes.values():
            for rule in [prog.consortium, *prog.consortium_by_action_type.values()]:
                group = rule.one_from if rule is not None else None
                if group is not None and group not in self.country_groups:
                    known = ", ".join(name[:40] for name in list(self.country_groups)[:10]) or "none"
                    shown = group if len(group) <= 40 else group[:40] + "…"
                    raise ValueError(f"one_from {shown!r} is not a country_groups entry (known: "
                                     f"{known})")
        return self
