"""The strategy's rules applied to every call of a scoring run, each distinct input computed once (pure).

A call's rule outcomes depend on few of its columns, and most calls share them: :class:`RunFunding`
remembers the funding rules' lookups, :class:`RunRules` the outcomes (used by
:func:`classifiers.scoring._write_verdicts`). Both give exactly what :func:`classifiers.rules.evaluate_call`
gives for each call alone.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from classifiers.freshness import rules_hash
from classifiers.funding import FundingRules
from classifiers.rules import deadline_key, deadline_outcome, evaluate_call, recheck_for_deadline
from pipeline.core.config import LoadedConfig
from pipeline.core.deadlines import current_deadline


class RunFunding(FundingRules):
    """The funding rules with their answers remembered for one run: a call's programme entry depends on
    its programme and topic identifier, the rest of a lookup only on that entry and the type of action
    (a few distinct values), so the regular expressions run once per distinct input."""

    def __init__(self, rules: Any) -> None:
        super().__init__(rules)
        self._programme: dict[tuple[Any, ...], Any] = {}
        self._lookup: dict[tuple[Any, ...], Any] = {}

    def programme_of(self, programme: str | None, topic_id: str | None) -> Any:
        key = (programme, topic_id)
        if key not in self._programme:
            self._programme[key] = super().programme_of(programme, topic_id)
        return self._programme[key]

    def lookup(self, programme: str | None, topic_id: str | None, type_of_action: str | None) -> Any:
        found = self.programme_of(programme, topic_id)
        key = (found[0] if found else None, programme, type_of_action)
        if key not in self._lookup:
            self._lookup[key] = super().lookup(programme, topic_id, type_of_action)
        return self._lookup[key]


def rules_key(row: Any, funding: FundingRules) -> tuple[Any, ...]:
    """Everything :func:`evaluate_call` reads of a call apart from its best score and its deadline."""
    found = funding.programme_of(row.programme, row.topic_id)
    return (found[0] if found else None, row.programme, row.type_of_action, row.funding_rate,
            row.max_contribution)


class RunRules:
    """The rules' outcomes for one run, each part computed once per distinct input: the deadline rule
    from what it reads of the deadline (:func:`classifiers.rules.deadline_key`: its date, which side of
    now and of the minimum), the other rules from the call's other light columns (:func:`rules_key`),
    joined in :func:`evaluate_call`'s order. Either part alone has few distinct values; together they are
    nearly unique per call (a programme × an amount × a deadline's date)."""

    def __init__(self, strategy: Any, funding: FundingRules, now: datetime) -> None:
        rules = strategy.rules
        self.weeks = rules.min_weeks_before_deadline
        # evaluate_call without the deadline rule; the deadline's outcome goes where it would have been
        self.others = strategy.model_copy(update={"rules": rules.model_copy(
            update={"min_weeks_before_deadline": None})})
        self.position = (rules.min_success_rate is not None) + (rules.min_funding_rate is not None)
        self.funding, self.now = funding, now
        self._other: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._deadline: dict[Any, tuple[Any, ...]] = {}
        self._joined: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._calls: dict[Any, tuple[Any, tuple[Any, ...]]] = {}

    def of_call(self, row: Any) -> tuple[Any, ...]:
        """(passed, outcomes, their JSON text, success rate, funding rate, expected value, recheck_at) of
        the light row ``row``, remembered per call: strategies sharing these rules in one run (``score
        --all`` over a folder of 50) read the same rows, and finding a call's deadline and keys was most
        of its verdict's time. A remembered answer is used only for an equal row (every light column)."""
        found = self._calls.get(row.id)
        if found is not None and found[0] == row:
            return found[1]
        deadline = current_deadline(row, self.now) if self.weeks is not None else None
        answer = (*self.outcomes(row, deadline), recheck_for_deadline(deadline, self.weeks, self.now))
        self._calls[row.id] = (row, answer)
        return answer

    def outcomes(self, row: Any, deadline: datetime | None) -> tuple[Any, ...]:
        """(passed, outcomes, their JSON text, success rate, funding rate, expected value) of ``row``,
        ``deadline`` its current deadline (None without a deadline rule)."""
        other_key, when = rules_key(row, self.funding), deadline_key(deadline, self.now, self.weeks)
        found = self._joined.get((other_key, when))
        if found is not None:
            return found
        other = self._other.get(other_key)
        if other is None:
            verdict = evaluate_call(row, self.others, self.funding, self.now)
            dicts = [o.as_dict() for o in verdict.outcomes]
            other = self._other[other_key] = (verdict.passed, dicts, [json.dumps(d) for d in dicts],
                                              verdict.success_rate, verdict.funding_rate,
                                              verdict.expected_value)
        passed, dicts, texts, success, rate, expected = other
        if self.weeks is not None:
            part = self._deadline.get(when)
            if part is None:
                outcome = deadline_outcome(deadline, self.now, self.weeks)
                text = json.dumps(outcome.as_dict())
                part = self._deadline[when] = (outcome.passed, outcome.as_dict(), text)
            at = self.position
            passed = passed and part[0] is not False
            dicts, texts = [*dicts[:at], part[1], *dicts[at:]], [*texts[:at], part[2], *texts[at:]]
        # json.dumps of a list is its items' texts joined by ", " in brackets
        found = self._joined[(other_key, when)] = (passed, dicts, "[" + ", ".join(texts) + "]", success, rate,
                                                   expected)
        return found


def shared_rules(cache: dict[Any, RunRules], loaded_config: LoadedConfig, now: datetime) -> RunRules:
    """The :class:`RunRules` of ``loaded_config``'s rules from ``cache`` (one scoring run's): strategies
    whose rules, home country and funding rules are the same (the same
    :func:`classifiers.freshness.rules_hash`) get the same outcomes for the same call, so they share
    the outcomes computed for the first."""
    key = (rules_hash(loaded_config), now)
    rules = cache.get(key)
    if rules is None:
        rules = cache[key] = RunRules(loaded_config.strategy, RunFunding(loaded_config.funding_rules), now)
    return rules
