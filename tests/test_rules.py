"""Every strategy rule (passed, failed, unknown) and the priority formula."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from classifiers.funding import FundingRules
from classifiers.rules import EV_HALF, evaluate_call, priority, recheck_at, value_factor
from pipeline.core.config import DEFAULT_FUNDING_RULES, Rules, Strategy, load_funding_rules
from pipeline.core.models import Call

NOW = datetime(2026, 8, 22, 9, 0, tzinfo=UTC)
FUNDING = FundingRules(load_funding_rules(DEFAULT_FUNDING_RULES))


def strategy(**rules: Any) -> Strategy:
    return Strategy(name="s", organisation="o", home_country="DK",
                    focus_areas={"a": {"label": "A", "keywords": ["x"]}},
                    rules=Rules(require_eligible_country=False, **rules) if "require_eligible_country"
                    not in rules else Rules(**rules))


def call(**fields: Any) -> Call:
    base: dict[str, Any] = dict(source="eu_ft", external_id="1", title="t", programme="Horizon Europe",
                                topic_id="HORIZON-CL5-2027-03-D5-05",
                                type_of_action="HORIZON  Research and Innovation Actions",
                                max_contribution=4_000_000.0,
                                deadlines=[{"at": "2027-01-20T16:00:00+00:00", "time_assumed": False}])
    base.update(fields)
    return Call(**base)


def outcome(verdict: Any, rule: str) -> tuple[str, str]:
    found = [o for o in verdict.outcomes if o.rule == rule]
    assert len(found) == 1
    return found[0].status, found[0].reason


def test_no_rules_no_outcomes() -> None:
    verdict = evaluate_call(call(), strategy(), FUNDING, NOW)
    assert verdict.passed and verdict.outcomes == []


@pytest.mark.parametrize(("minimum", "fields", "expected"), [
    (0.10, {}, ("passed", "Horizon Europe success rate 16.4 % ≥ minimum 10 %")),
    (0.20, {}, ("failed", "Horizon Europe success rate 16.4 % < minimum 20 %")),
    (0.10, {"programme": "LIFE", "topic_id": "LIFE-2026-SAP-NAT"},
     ("unknown", "no success rate known for LIFE; add one to config/funding_rules.yaml")),
])
def test_success_rate(minimum: float, fields: dict[str, Any], expected: tuple[str, str]) -> None:
    verdict = evaluate_call(call(**fields), strategy(min_success_rate=minimum), FUNDING, NOW)
    assert outcome(verdict, "success_rate") == expected
    assert verdict.passed is (expected[0] != "failed")


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, ("passed", "funding rate 100 % (funding_rules.yaml: horizon_europe RIA (Horizon Europe Regulation "
                    "(EU) 2021/695, art. 34: research and innovation actions up to 100 %)) ≥ minimum 80 %")),
    ({"type_of_action": "HORIZON Innovation Actions"},
     ("failed", "funding rate 70 % (funding_rules.yaml: horizon_europe IA (Horizon Europe Regulation (EU) "
                "2021/695, art. 34(2): innovation actions 70 % for profit-making legal entities)) "
                "< minimum 80 %")),
    # an action type without its own entry takes the programme's default entry, and says so
    ({"programme": "Digital Europe", "topic_id": "DIGITAL-2026-AI-01",
      "type_of_action": "DIGITAL Simple Grants"},
     ("failed", "funding rate 50 % (funding_rules.yaml: digital_europe default (Digital Europe Work "
                "Programme 2025-2027: simple grants 50 % co-financing)) < minimum 80 %")),
    ({"funding_rate": 0.9, "type_of_action": "HORIZON Innovation Actions"},
     ("passed", "funding rate 90 % (the call states) ≥ minimum 80 %")),
    ({"programme": "Somewhere else", "topic_id": "XYZ-1", "type_of_action": None},
     ("unknown", "no funding rate known for Somewhere else (type of action unknown)")),
])
def test_funding_rate(fields: dict[str, Any], expected: tuple[str, str]) -> None:
    verdict = evaluate_call(call(**fields), strategy(min_funding_rate=0.8), FUNDING, NOW)
    assert outcome(verdict, "funding_rate") == expected


@pytest.mark.parametrize(("deadlines", "expected", "recheck"), [
    # 21.6 weeks away: passes until 6 weeks before the deadline
    ([{"at": "2027-01-20T16:00:00+00:00"}],
     ("passed", "deadline 2027-01-20 is at least 6 weeks away"), "2026-12-09T16:00:00.000001+00:00"),
    # 2.8 weeks away: fails until it passes, then says so
    ([{"at": "2026-09-10T15:00:00+00:00"}],
     ("failed", "deadline 2026-09-10 is less than 6 weeks away"), "2026-09-10T15:00:00.000001+00:00"),
    ([{"at": "2026-08-01T15:00:00+00:00"}], ("failed", "deadline 2026-08-01 has passed"), None),
    # two-stage: the next deadline ahead counts
    ([{"at": "2026-08-01T15:00:00+00:00"}, {"at": "2027-01-20T16:00:00+00:00"}],
     ("passed", "deadline 2027-01-20 is at least 6 weeks away"), "2026-12-09T16:00:00.000001+00:00"),
    ([], ("unknown", "no deadline known"), None),
])
def test_weeks_before_deadline(deadlines: list[dict[str, Any]], expected: tuple[str, str],
                               recheck: str | None) -> None:
    rules = strategy(min_weeks_before_deadline=6)
    verdict = evaluate_call(call(deadlines=deadlines), rules, FUNDING, NOW)
    assert outcome(verdict, "deadline") == expected
    when = recheck_at(call(deadlines=deadlines), rules, NOW)
    assert (when.isoformat() if when else None) == recheck
    if when is not None:  # the verdict holds until then, and changes just after
        before = evaluate_call(call(deadlines=deadlines), rules, FUNDING, when - timedelta(microseconds=1))
        after = evaluate_call(call(deadlines=deadlines), rules, FUNDING, when)
        assert outcome(before, "deadline") == expected and outcome(after, "deadline") != expected


@pytest.mark.parametrize(("at", "day"), [
    ("2026-08-31T23:59:00+00:00", "2026-09-01"),  # SEDIA's 23:59 UTC is 01:59 Brussels the next day
    ("2026-03-28T23:30:00+00:00", "2026-03-29"),  # the night before the clocks go forward: UTC+1
    ("2026-03-29T22:30:00+00:00", "2026-03-30"),  # after it: UTC+2
    ("2026-10-24T22:30:00+00:00", "2026-10-25"),  # the night before the clocks go back: UTC+2
    ("2026-10-25T23:30:00+00:00", "2026-10-26"),  # after it: UTC+1
    ("2026-10-25T22:30:00+00:00", "2026-10-25"),  # 23:30 Brussels: still the same day
])
def test_deadline_reason_names_the_brussels_day(at: str, day: str) -> None:
    """The reason's day is the one calls show and the listings give (Brussels time), in both ways the
    verdicts are made: one call alone and a scoring run's shared outcomes."""
    from classifiers.run_rules import RunFunding, RunRules

    rules = strategy(min_weeks_before_deadline=6)
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    one = call(deadlines=[{"at": at, "time_assumed": False}])
    assert outcome(evaluate_call(one, rules, FUNDING, now), "deadline")[1].startswith(f"deadline {day} ")
    one.id = 1
    shared = RunRules(rules, RunFunding(load_funding_rules(DEFAULT_FUNDING_RULES)), now).of_call(one)
    assert [o["reason"] for o in shared[1] if o["rule"] == "deadline"][0].startswith(f"deadline {day} ")


def test_no_deadline_rule_means_no_recheck() -> None:
    no_rule = strategy(min_weeks_before_deadline=None)
    assert recheck_at(call(deadlines=[{"at": "2027-01-20T16:00:00+00:00"}]), no_rule, NOW) is None


@pytest.mark.parametrize(("action", "expected"), [
    ("HORIZON  Research and Innovation Actions", ("passed", "type of action RIA is in RIA, CSA")),
    ("HORIZON Innovation Actions", ("failed", "type of action IA is not in RIA, CSA")),
    (None, ("unknown", "type of action unknown")),
])
def test_action_type(action: str | None, expected: tuple[str, str]) -> None:
    verdict = evaluate_call(call(type_of_action=action), strategy(allowed_action_types=["RIA", "CSA"]),
                            FUNDING, NOW)
    assert outcome(verdict, "action_type") == expected


@pytest.mark.parametrize(("amount", "expected"), [
    (4_000_000.0, ("passed", "maximum contribution EUR 4,000,000 within EUR 50,000 to EUR 5,000,000")),
    (6_000_000.0, ("failed", "maximum contribution EUR 6,000,000 outside EUR 50,000 to EUR 5,000,000")),
    (20_000.0, ("failed", "maximum contribution EUR 20,000 outside EUR 50,000 to EUR 5,000,000")),
    (None, ("unknown", "maximum contribution per project unknown")),
])
def test_budget_range(amount: float | None, expected: tuple[str, str]) -> None:
    verdict = evaluate_call(call(max_contribution=amount), strategy(budget_min=50_000, budget_max=5_000_000),
                            FUNDING, NOW)
    assert outcome(verdict, "budget") == expected


@pytest.mark.parametrize(("bounds", "amount", "expected"), [
    ({"budget_min": 20_000}, 6_750_000.0,
     ("passed", "maximum contribution EUR 6,750,000 is at least EUR 20,000")),
    ({"budget_min": 20_000}, 15_000.0,
     ("failed", "maximum contribution EUR 15,000 is below the minimum EUR 20,000")),
    ({"budget_max": 5_000_000}, 4_000_000.0,
     ("passed", "maximum contribution EUR 4,000,000 is at most EUR 5,000,000")),
    ({"budget_max": 5_000_000}, 6_000_000.0,
     ("failed", "maximum contribution EUR 6,000,000 is above the maximum EUR 5,000,000")),
])
def test_a_budget_with_one_bound_says_that_bound(bounds: dict[str, float], amount: float,
                                                  expected: tuple[str, str]) -> None:
    """A strategy giving only budget_min (or only budget_max) read "within EUR 20,000 to any"."""
    verdict = evaluate_call(call(max_contribution=amount), strategy(**bounds), FUNDING, NOW)
    assert outcome(verdict, "budget") == expected


@pytest.mark.parametrize(("home", "fields", "expected"), [
    ("DK", {"programme": "Interreg Baltic Sea Region", "topic_id": None},
     ("passed", "DK is eligible in Interreg Baltic Sea Region (DK, DE, EE, FI, LT, LV, PL, SE, NO)")),
    ("NL", {"programme": "Interreg Baltic Sea Region", "topic_id": None},
     ("failed", "NL is not eligible in Interreg Baltic Sea Region (DK, DE, EE, FI, LT, LV, PL, SE, NO)")),
    ("DK", {}, ("passed", "Horizon Europe is open to EU/EEA countries; DK is one")),
    ("DK", {"programme": "Unknown Fund", "topic_id": "UF-1"},
     ("unknown", "programme Unknown Fund not in config/funding_rules.yaml; eligibility unknown")),
])
def test_eligible_country(home: str, fields: dict[str, Any], expected: tuple[str, str]) -> None:
    strat = Strategy(name="s", organisation="o", home_country=home,
                     focus_areas={"a": {"label": "A", "keywords": ["x"]}},
                     rules=Rules(require_eligible_country=True))
    verdict = evaluate_call(call(**fields), strat, FUNDING, NOW)
    assert outcome(verdict, "eligible_country") == expected


def test_unknown_does_not_fail_but_failed_does() -> None:
    strat = strategy(min_weeks_before_deadline=6, budget_min=50_000)
    assert evaluate_call(call(max_contribution=None), strat, FUNDING, NOW).passed is True
    failing = evaluate_call(call(max_contribution=None, deadlines=[{"at": "2026-08-30T15:00:00+00:00"}]),
                            strat, FUNDING, NOW)
    assert failing.passed is False and [o.rule for o in failing.failed] == ["deadline"]


def test_expected_value_and_priority_formula() -> None:
    verdict = evaluate_call(call(), strategy(), FUNDING, NOW, best_score=0.6)
    assert verdict.success_rate == 0.164 and verdict.funding_rate == 1.0
    assert verdict.expected_value == pytest.approx(0.164 * 1.0 * 4_000_000)
    factor = 656_000 / (656_000 + EV_HALF)
    assert verdict.priority == pytest.approx(0.6 * factor, abs=1e-6)
    assert value_factor(EV_HALF) == 0.5
    assert value_factor(3 * EV_HALF) == 0.75
    assert value_factor(None) == 0.5  # unknown expected value: neutral
    assert value_factor(0) == 0.0
    assert priority(None, 1_000_000) == 0.0
    # LIFE has no success rate: expected value unknown, priority uses the neutral factor
    life = evaluate_call(call(programme="LIFE", topic_id="LIFE-2026-SAP"), strategy(), FUNDING, NOW,
                         best_score=0.4)
    assert life.expected_value is None and life.priority == pytest.approx(0.2)


def test_innovation_express_passes_the_example_strategy_rules() -> None:
    """page_watch stores type_of_action "IE" for BSR Innovation Express; the example strategy allows it."""
    from classifiers.funding import action_type_code
    from pipeline.core.config import load_strategy

    assert action_type_code("IE") == "IE"
    assert action_type_code("i.e. a grant") == "OTHER"  # the code in capitals only
    example = load_strategy()
    ie_call = call(programme="BSR Innovation Express", topic_id=None, type_of_action="IE",
                   max_contribution=None, deadlines=[{"at": "2026-12-01T16:00:00+00:00"}])
    verdict = evaluate_call(ie_call, example, FUNDING, NOW)
    assert outcome(verdict, "action_type")[0] == "passed"
    assert verdict.passed, [o.reason for o in verdict.failed]
