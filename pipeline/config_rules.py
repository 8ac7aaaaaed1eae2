"""``config check`` on the rules against the stored calls: rules that no open or forthcoming call
passes (a funding rate of 100 % beside action types funded at 70 %), which every digest would
otherwise show week after week as 'no call passes the rules'; and programmes of interest with more
open or forthcoming calls than the digest's section shows of a programme ('Horizon Europe': ten calls
closing first whatever their score, week after week, beside the top calls the focus areas rank)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from classifiers.funding import FundingRules
from classifiers.rules import evaluate_call
from pipeline.config_check import Problem, _problem
from pipeline.core.config import LoadedConfig, read_yaml
from pipeline.core.config_files import display_path
from pipeline.core.models import Call
from pipeline.core.yaml import _shown
from pipeline.notify.programmes import MAX_CALLS_PER_PROGRAMME, interest_of


def rules_no_call_passes(config: LoadedConfig, calls: Sequence[Call], now: datetime) -> list[Problem]:
    """A warning for each strategy whose rules every one of ``calls`` (the active stored calls) fails
    where all of them could be checked, with how many calls each rule fails. A call with a rule not
    known (no type of action) passes, so such calls alone would still reach the digests."""
    funding = FundingRules(config.funding_rules)
    found: list[Problem] = []
    for path, strategy in zip(config.strategy_paths, config.strategies, strict=True):
        verdicts = [evaluate_call(call, strategy, funding, now) for call in calls]
        known = [v for v in verdicts if all(outcome.passed is not None for outcome in v.outcomes)]
        if not known or any(verdict.passed for verdict in known):
            continue
        failing = Counter(outcome.rule for verdict in known for outcome in verdict.failed)
        counts = ", ".join(f"{rule} fails {count}" for rule, count in failing.most_common())
        unknown = sum(verdict.passed for verdict in verdicts)
        reach = f"only the {unknown} with a rule not known reach" if unknown else "none reaches"
        found.append(_problem("warning", display_path(path), read_yaml(path), ("rules",),
                              f"no open or forthcoming stored call passes these rules ({len(known)} "
                              f"checked: {counts}; {reach} the digests); loosen the rule failing most "
                              "calls (`fundradar calls why ID` shows each call's rules)"))
    return found


def programmes_too_large(config: LoadedConfig, calls: Sequence[Call]) -> list[Problem]:
    """A warning for each programme of interest that more of ``calls`` (the active stored calls) belong
    to than "Programmes we follow" shows of one programme: the section is for programmes of few calls
    (Interreg, the national funders), and one of hundreds fills it with whatever closes first."""
    found: list[Problem] = []
    for path, strategy in zip(config.strategy_paths, config.strategies, strict=True):
        wanted = list(strategy.programmes_of_interest)
        counts = Counter(interest_of(call, wanted) for call in calls)
        for number, programme in enumerate(wanted):
            count = counts.get(programme, 0)
            if count <= MAX_CALLS_PER_PROGRAMME:
                continue
            shown, rest = MAX_CALLS_PER_PROGRAMME, count - MAX_CALLS_PER_PROGRAMME
            found.append(_problem(
                "warning", display_path(path), read_yaml(path), ("programmes_of_interest", number),
                f"{_shown(programme)} has {count} open or forthcoming stored calls: the digest's "
                f"'Programmes we follow' lists the {shown} closing first whatever their score and "
                f"counts the other {rest}; the section is for programmes of few calls (Interreg, "
                "national funders), the focus areas rank this one's; leave it out unless each of its "
                "calls matters"))
    return found
