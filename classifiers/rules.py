"""The strategy's rules applied to one call, and the call's priority (pure: no I/O, no scikit-learn).

Rules come from the strategy (``rules:`` in the strategy YAML, :class:`pipeline.core.config.Rules`) and the
figures from ``config/funding_rules.yaml`` (:class:`classifiers.funding.FundingRules`). Only the rules
the strategy sets are checked. Each gives an outcome with a reason a fundraiser can check:

* ``success_rate``: the programme's success rate ≥ ``min_success_rate``;
* ``funding_rate``: the call's own funding rate (there only when its source states one), else the
  programme's rate for the type of action, ≥ ``min_funding_rate``; the reason names which
  (:func:`funding_rate_of`);
* ``deadline``: the current deadline (the next one, else the last) is at least
  ``min_weeks_before_deadline`` weeks after ``now``;
* ``action_type``: the type-of-action code (RIA, IA, CSA, …) is in ``allowed_action_types``;
* ``budget``: the maximum contribution per project lies in ``budget_min`` … ``budget_max``;
* ``eligible_country``: the strategy's ``home_country`` is among the programme's eligible countries
  (an empty list in the funding rules means every EU/EEA country).

The reasons never state how far away a deadline is, only which side of the minimum it is on, so a
verdict stays true until :func:`recheck_at`, the first moment the clock alone can change it.

When the value a rule needs is not known (no deadline, no funding figure for the programme, …) the
outcome is **unknown**, not failed: ``passed`` is ``None`` and the reason says what is missing. A call
passes when no rule failed.

**Priority** puts "fits us" and "worth it" in one number in 0–1::

    expected_value = success_rate × funding_rate × max_contribution           (EUR)
    value_factor   = expected_value / (expected_value + EV_HALF)               (EV_HALF = EUR 250,000)
    priority       = best relevance score × value_factor

``value_factor`` grows with the expected value and saturates: a call worth EUR 250k in expectation gets
0.5, EUR 750k gets 0.75, so a well-fitting small call is not buried under a huge poor fit. When the
expected value is unknown (no success rate, funding rate or maximum contribution), ``value_factor`` is
the neutral 0.5 and ``expected_value`` stays ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from classifiers.funding import FundingInfo, FundingRules
from pipeline.core.clock import BRUSSELS
from pipeline.core.config import Strategy
from pipeline.core.deadlines import current_deadline
from pipeline.core.text import money_eur, percent_precise

if TYPE_CHECKING:
    from pipeline.core.models import Call

FUNDING_RULES_FILE = "funding_rules.yaml"  # named in reasons, so a fundraiser knows which file to check
# Part of the rules hash (classifiers.scoring): a change of the reasons' wording rewrites stored verdicts.
REASONS_VERSION = 3
EV_HALF = 250_000.0
NEUTRAL_VALUE_FACTOR = 0.5
# Empty eligible_countries in the funding rules means all EU member states and EEA countries.
EU_EEA = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "
                   "IS LI NO".split())


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    passed: bool | None  # None = unknown
    reason: str

    @property
    def status(self) -> str:
        return "unknown" if self.passed is None else ("passed" if self.passed else "failed")

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "passed": self.passed, "status": self.status, "reason": self.reason}


@dataclass
class RuleVerdict:
    passed: bool
    outcomes: list[RuleOutcome] = field(default_factory=list)
    success_rate: float | None = None
    funding_rate: float | None = None
    expected_value: float | None = None
    priority: float | None = None

    @property
    def failed(self) -> list[RuleOutcome]:
        return [o for o in self.outcomes if o.passed is False]


def value_factor(expected_value: float | None) -> float:
    if expected_value is None:
        return NEUTRAL_VALUE_FACTOR
    return expected_value / (expected_value + EV_HALF) if expected_value > 0 else 0.0


def priority(best_score: float | None, expected_value: float | None) -> float:
    """Best relevance score × value factor (see the module docstring)."""
    return round((best_score or 0.0) * value_factor(expected_value), 6)


def funding_rate_of(call: Call, info: FundingInfo) -> tuple[float | None, str]:
    """The funding rate a rule uses and where it comes from, in words a fundraiser can check: the call's
    own stored rate ("the call states": sources store only what the source says), else the programme's
    entry in the funding rules with that figure's public source. ``(None, "")`` when neither is known."""
    if call.funding_rate is not None:
        return call.funding_rate, "the call states"
    if info.funding_rate is not None:
        entry = f"{info.programme_key} {info.funding_rate_key}"
        return info.funding_rate.value, f"{FUNDING_RULES_FILE}: {entry} ({info.funding_rate.source})"
    return None, ""


def recheck_at(call: Call, strategy: Strategy, now: datetime) -> datetime | None:
    """The first moment after ``now`` at which :func:`evaluate_call` may answer differently for
    ``call`` with nothing but the clock moved: its next deadline comes closer than the minimum weeks,
    or passes (the deadline rule then looks at the following one). None when the clock cannot change
    the verdict (no deadline rule, no deadline, or the last deadline has passed)."""
    weeks = strategy.rules.min_weeks_before_deadline
    return recheck_for_deadline(current_deadline(call, now) if weeks is not None else None, weeks, now)


def recheck_for_deadline(deadline: datetime | None, weeks: float | None, now: datetime) -> datetime | None:
    """:func:`recheck_at` for a call whose current deadline is ``deadline``, ``weeks`` the minimum."""
    if weeks is None or deadline is None or deadline < now:
        return None
    tick = timedelta(microseconds=1)  # the outcome changes just after these moments, not at them
    return min(t for t in (deadline - timedelta(weeks=weeks) + tick, deadline + tick) if t > now)


def deadline_standing(deadline: datetime, now: datetime, min_weeks: float) -> tuple[bool, bool]:
    """What the deadline rule reads of a deadline besides its date: (passed, at least ``min_weeks``
    weeks away)."""
    weeks = (deadline - now).total_seconds() / (7 * 86400)
    return weeks < 0, weeks >= min_weeks


def deadline_key(deadline: datetime | None, now: datetime, min_weeks: float | None) -> tuple[Any, ...] | None:
    """Everything :func:`evaluate_call` reads of the current deadline: two calls with the same key get
    the same deadline outcome (its date, whether it passed, which side of the minimum it is on)."""
    if min_weeks is None:
        return None
    if deadline is None:
        return ()
    return (deadline_day(deadline), *deadline_standing(deadline, now, min_weeks))


def deadline_day(deadline: datetime) -> str:
    """The deadline's day as every listing shows it, in Brussels time: 23:59 UTC is the next day's 01:59
    there, and a reason naming the UTC day would contradict ``calls show``."""
    return deadline.astimezone(BRUSSELS).date().isoformat()


def deadline_outcome(deadline: datetime | None, now: datetime, min_weeks: float) -> RuleOutcome:
    """The deadline rule for a call whose current deadline is ``deadline``."""
    if deadline is None:
        return RuleOutcome("deadline", None, "no deadline known")
    passed, ok = deadline_standing(deadline, now, min_weeks)
    when = deadline_day(deadline)
    text = (f"deadline {when} has passed" if passed else
            f"deadline {when} is {'at least' if ok else 'less than'} {min_weeks:g} weeks away")
    return RuleOutcome("deadline", ok, text)


def evaluate_call(call: Call, strategy: Strategy, funding: FundingRules, now: datetime,
                  best_score: float | None = None) -> RuleVerdict:
    """The strategy's rules for one call; ``best_score`` (its best focus-area score) feeds priority."""
    rules = strategy.rules
    info = funding.lookup(call.programme, call.topic_id, call.type_of_action)
    programme = info.label or call.programme or "this programme"
    outcomes: list[RuleOutcome] = []

    success = info.success_rate.value if info.success_rate else None
    rate, rate_from = funding_rate_of(call, info)

    if rules.min_success_rate is not None:
        if success is None:
            outcomes.append(RuleOutcome("success_rate", None, f"no success rate known for {programme}; "
                                        "add one to config/funding_rules.yaml"))
        else:
            ok = success >= rules.min_success_rate
            minimum = percent_precise(rules.min_success_rate)
            outcomes.append(RuleOutcome("success_rate", ok, f"{programme} success rate "
                                        f"{percent_precise(success)} {'≥' if ok else '<'} minimum {minimum}"))

    if rules.min_funding_rate is not None:
        if rate is None:
            outcomes.append(RuleOutcome("funding_rate", None, f"no funding rate known for {programme} "
                                        f"({info.action_type or 'type of action unknown'})"))
        else:
            ok = rate >= rules.min_funding_rate
            minimum = percent_precise(rules.min_funding_rate)
            outcomes.append(RuleOutcome("funding_rate", ok, f"funding rate {percent_precise(rate)} "
                                        f"({rate_from}) {'≥' if ok else '<'} minimum {minimum}"))

    if rules.min_weeks_before_deadline is not None:
        outcomes.append(deadline_outcome(current_deadline(call, now), now, rules.min_weeks_before_deadline))

    if rules.allowed_action_types is not None:
        code = info.action_type
        if code is None:
            outcomes.append(RuleOutcome("action_type", None, "type of action unknown"))
        else:
            ok = code in rules.allowed_action_types
            allowed = ", ".join(rules.allowed_action_types)
            outcomes.append(RuleOutcome("action_type", ok, f"type of action {code} "
                                        f"{'is' if ok else 'is not'} in {allowed}"))

    if rules.budget_min is not None or rules.budget_max is not None:
        amount = call.max_contribution
        low, high = rules.budget_min, rules.budget_max
        if amount is None:
            outcomes.append(RuleOutcome("budget", None, "maximum contribution per project unknown"))
        else:
            ok = (low is None or amount >= low) and (high is None or amount <= high)
            if low is not None and high is not None:
                bound = f"{'within' if ok else 'outside'} {money_eur(low)} to {money_eur(high)}"
            elif low is not None:  # a strategy may give one bound: say that one, not "to any"
                bound = f"is at least {money_eur(low)}" if ok else f"is below the minimum {money_eur(low)}"
            else:
                bound = f"is at most {money_eur(high)}" if ok else f"is above the maximum {money_eur(high)}"
            outcomes.append(RuleOutcome("budget", ok, f"maximum contribution {money_eur(amount)} {bound}"))

    if rules.require_eligible_country:
        home = strategy.home_country
        if info.programme_key is None:
            outcomes.append(RuleOutcome("eligible_country", None, f"programme {call.programme or '?'} "
                                        "not in config/funding_rules.yaml; eligibility unknown"))
        elif info.eligible_countries:
            ok = home in info.eligible_countries
            outcomes.append(RuleOutcome("eligible_country", ok, f"{home} {'is' if ok else 'is not'} "
                                        f"eligible in {programme} ({', '.join(info.eligible_countries)})"))
        else:
            ok = home in EU_EEA
            outcomes.append(RuleOutcome("eligible_country", ok, f"{programme} is open to EU/EEA countries; "
                                        f"{home} {'is' if ok else 'is not'} one"))

    expected = None
    if success is not None and rate is not None and call.max_contribution is not None:
        expected = round(success * rate * call.max_contribution, 2)
    return RuleVerdict(passed=not any(o.passed is False for o in outcomes), outcomes=outcomes,
                       success_rate=success, funding_rate=rate, expected_value=expected,
                       priority=priority(best_score, expected))
