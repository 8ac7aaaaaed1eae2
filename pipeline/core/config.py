"""The strategy config the secretariat edits, and the funding rules, validated with clear errors.

``load_strategy(path)`` reads YAML with ruamel.yaml (which keeps line numbers), validates it with
pydantic models, and turns the first problem into a :class:`~pipeline.core.errors.ConfigError` that names
the file, the line and the key, and says what is expected.

The strategy file is chosen by ``--config PATH``, then ``FUNDRADAR_CONFIG``, then
``config/strategy.yaml`` if it exists, then ``config/strategy.example.yaml``.

The path may also name a folder of strategy files, one per cluster (every ``*.yaml`` / ``*.yml`` in it
except ``funding_rules.yaml``), loaded in file-name order. Each needs its own ``name``; their sources
are shared: the union by source name, and a source name declared in several files must be declared
the same in each. :class:`LoadedConfig` holds them all (``strategies``) and the selected one
(``strategy``: ``--strategy NAME``, else the first).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.core.call_phrases import DEFAULT_CALL_PHRASES, NON_CALL_WORDS, PAGE_CALL_WORDS
from pipeline.core.errors import ConfigError, NotFoundError
from pipeline.core.paths import CONFIG_DIR
from pipeline.core.yaml import (  # noqa: F401  (read_yaml, parse_yaml_text, validate_yaml: re-exported)
    _line_of,
    parse_yaml_text,
    read_yaml,
    validate_yaml,
)

DEFAULT_STRATEGY = CONFIG_DIR / "strategy.example.yaml"
FUNDING_RULES_NAME = "funding_rules.yaml"
DEFAULT_FUNDING_RULES = CONFIG_DIR / FUNDING_RULES_NAME


def _time_zone(value: str) -> str:
    """``value`` if it is an IANA time zone name; a ValueError saying what to write otherwise."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        shown = repr(value) if len(value) <= 40 else repr(value[:37] + "...")
        raise ValueError(f"unknown time zone {shown}; use an IANA name such as Europe/Copenhagen") \
            from None
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NonEmptyStr = Annotated[str, Field(min_length=1)]
Fraction = Annotated[float, Field(ge=0, le=1)]


# --- strategy ------------------------------------------------------------------------------------

class FocusArea(_Strict):
    label: NonEmptyStr
    description: str = ""
    keywords: Annotated[list[NonEmptyStr], Field(min_length=1)]
    # Danish (or other) terms mapped to English ones: {"havvind": ["offshore wind"]}. A keyword that
    # appears here as a key is searched for through its translations too.
    synonyms: dict[NonEmptyStr, list[NonEmptyStr]] = {}
    exclude: list[NonEmptyStr] = []
    # Calibrated on the recorded EU portal data (615 calls, the example strategy): a call's best score
    # is >= 0.4 for the top ~3 % of calls, >= 0.3 for the top ~9 % (README, "Scoring and rules").
    alert_threshold: Fraction = 0.4


class Rules(_Strict):
    min_success_rate: Fraction | None = None
    min_funding_rate: Fraction | None = None
    min_weeks_before_deadline: Annotated[float, Field(ge=0)] | None = None
    allowed_action_types: list[NonEmptyStr] | None = None
    budget_min: Annotated[float, Field(ge=0)] | None = None
    budget_max: Annotated[float, Field(gt=0)] | None = None
    require_eligible_country: bool = True

    @model_validator(mode="after")
    def _budget_range(self) -> Rules:
        if self.budget_min is not None and self.budget_max is not None and self.budget_min > self.budget_max:
            raise ValueError("budget_min is larger than budget_max")
        return self


_EVERY = re.compile(r"^\s*(\d{1,9})\s*(s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
MAX_EVERY_SECONDS = 366 * 86400  # a source or digest run at least once a year; larger is a typo
MAX_JITTER_SECONDS = 86400


def _cron_problem(value: str) -> str | None:
    """Why APScheduler would refuse ``value`` (naming the field), or None. The trigger that ``serve``
    builds is built here with the same constructor, so what passes the check also starts."""
    from apscheduler.triggers.cron import CronTrigger  # only when a config has a cron schedule

    fields = value.split()
    if len(fields) != 5:
        return "cron needs five fields: minute hour day month weekday, e.g. '0 6 * * *'"
    for name, expression in zip(_CRON_FIELDS, fields, strict=True):
        try:
            CronTrigger(**{name: expression}, timezone="UTC")
        except (ValueError, TypeError, OverflowError) as exc:
            detail = re.sub(r"^Error validating expression '[^']*': ", "", " ".join(str(exc).split()))[:120]
            return (f"invalid cron {name.replace('_', ' ')} field {expression[:20]!r} ({detail}); "
                    "e.g. '0 6 * * 1-5'")
    try:
        CronTrigger.from_crontab(value, timezone="UTC")
    except (ValueError, TypeError, OverflowError) as exc:
        return f"invalid cron expression ({' '.join(str(exc).split())[:120]}); e.g. '0 6 * * 1-5'"
    return None


class Schedule(_Strict):
    """Either ``cron`` (five fields, in the strategy's time zone) or ``every`` ("30m", "6h", "1d", at
    most a year), checked with APScheduler's own trigger constructors."""

    cron: str | None = None
    every: str | None = None
    jitter_seconds: Annotated[int, Field(ge=0, le=MAX_JITTER_SECONDS)] = 300

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        problem = None if value is None else _cron_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | None) -> str | None:
        if value is None:
            return value
        match = _EVERY.match(value)
        if not match:
            raise ValueError("every must be a number and a unit, e.g. '30m', '6h' or '1d'")
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        if not 0 < seconds <= MAX_EVERY_SECONDS:
            raise ValueError("every must be more than zero and at most a year ('366d')")
        return value

    @model_validator(mode="after")
    def _one(self) -> Schedule:
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of cron or every")
        return self

    def interval_seconds(self) -> int | None:
        if self.every is None:
            return None
        match = _EVERY.match(self.every)
        assert match
        return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


DEFAULT_SCHEDULE = Schedule(every="6h")


class _SourceBase(_Strict):
    enabled: bool = True
    schedule: Schedule = DEFAULT_SCHEDULE
    timeout_seconds: Annotated[float, Field(gt=0)] = 30
    # the mass-closure guard: a run that would close or remove more than this share of the source's
    # active calls before their deadlines (or more than max_close of them) closes nothing and is
    # "suspicious" (watcher.store); raise it for one sync when a source really dropped that many
    max_close_share: Annotated[float, Field(ge=0, le=1)] = 0.2
    max_close: Annotated[int, Field(ge=0)] | None = None


class EuFtSource(_SourceBase):
    type: Literal["eu_ft"]
    url: str = "https://api.tech.ec.europa.eu/search-api/prod/rest/search"
    # programme label -> SEDIA frameworkProgramme id; one query per programme
    programmes: dict[NonEmptyStr, NonEmptyStr] = {"Horizon Europe": "43108390"}
    page_size: Annotated[int, Field(ge=1, le=100)] = 100


class EuroAccessSource(_SourceBase):
    type: Literal["euro_access"]
    url: str = "https://www.euro-access.eu/en/calls"
    programmes: list[NonEmptyStr] = [
        "Interreg Baltic Sea Region", "Interreg North Sea", "Interreg Öresund-Kattegat-Skagerrak",
        "Interreg Germany-Denmark", "Interreg South Baltic"]
    max_pages: Annotated[int, Field(ge=1)] = 20
    # call pages are fetched only from the listing's own host and these (links in a scraped listing
    # could point anywhere); a call on another host keeps its listing data
    detail_hosts: list[NonEmptyStr] = []


class FeedSource(_SourceBase):
    type: Literal["feed"]
    url: NonEmptyStr
    programme: str | None = None
    # an item counts as a call announcement when its title or text contains one of these at the start
    # of a word (en, da, sv, no, de: pipeline.core.call_phrases); a list here replaces the defaults
    call_phrases: list[NonEmptyStr] = list(DEFAULT_CALL_PHRASES)


class IcalSource(_SourceBase):
    type: Literal["ical"]
    url: NonEmptyStr
    timezone: str = "Europe/Oslo"
    programmes: list[NonEmptyStr] = []  # keep events whose "Programme:" prefix matches; empty = all
    # events whose summary or categories have one of these are not calls (webinars, info days, …):
    # kept out of the calls; a list here replaces the defaults (pipeline.core.call_phrases)
    non_call_words: list[NonEmptyStr] = list(NON_CALL_WORDS)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _time_zone(value)


class PageWatchSource(_SourceBase):
    type: Literal["page_watch"]
    pages: Annotated[list[NonEmptyStr], Field(min_length=1)]
    phrase: NonEmptyStr = "Innovation Express"
    programme: str | None = "BSR Innovation Express"
    # a page mentioning the phrase announces a call when it also has one of these (or a full date)
    call_phrases: list[NonEmptyStr] = list(PAGE_CALL_WORDS)


class HtmlListSource(_SourceBase):
    """A funder's page listing its calls (watcher.sources.html_list): CSS selectors for the parts."""

    type: Literal["html_list"]
    url: NonEmptyStr
    programme: str | None = None
    language: Literal["da", "sv", "no", "nb", "de", "en"] = "da"  # the page's language, for its dates
    item: NonEmptyStr  # one call in the list
    title: str = "a"  # inside the item; empty = the link's text
    link: str = "a[href]"  # inside the item: the element whose href is the call's page
    text: str | None = None  # inside the item: what holds dates and amounts; default the whole item
    detail: bool = False  # also read each call's own page (same host only)
    detail_text: str | None = None  # that page's element with the call text; default its main text
    max_details: Annotated[int, Field(ge=0)] = 30
    type_of_action: str | None = None  # stored on every call (e.g. "national grant")

    @field_validator("item", "title", "link", "text", "detail_text")
    @classmethod
    def _css(cls, value: str | None) -> str | None:
        """A selector soupsieve (BeautifulSoup's select) compiles, so a typo fails `config check`."""
        if value:
            import soupsieve

            try:
                soupsieve.compile(value)
            except soupsieve.SelectorSyntaxError as exc:
                first = " ".join(str(exc).split("\n")[0].split())[:120]
                raise ValueError(f"not a CSS selector BeautifulSoup can use ({first})") from None
        return value


SourceConfig = Annotated[EuFtSource | EuroAccessSource | FeedSource | IcalSource | PageWatchSource
                         | HtmlListSource, Field(discriminator="type")]


_CHANNEL = re.compile(r"#?[^\sA-Z#,@]{1,80}|[CGD][A-Z0-9]{6,20}")


def _channel(value: str) -> str:
    """A Slack channel name ("#eu-funding": lowercase, no spaces or commas, at most 80 characters) or a
    channel id ("C0123ABCD"); Slack refuses anything else only when the digest is due."""
    if not _CHANNEL.fullmatch(value):
        shown = repr(value) if len(value) <= 40 else repr(value[:37] + "...")
        raise ValueError(f"{shown} is not a Slack channel; write a name such as '#eu-funding' (lowercase, "
                         "no spaces) or a channel id such as 'C0123ABCD'")
    return value


SlackChannel = Annotated[str, AfterValidator(_channel)]


class DigestChannel(_Strict):
    channel: SlackChannel
    focus_areas: list[NonEmptyStr] = []  # empty = every focus area
    schedule: Schedule = Schedule(cron="0 8 * * 1")
    top: Annotated[int, Field(ge=1, le=45)] = 10
    min_score: Fraction = 0.3  # what counts as a matching call (see alert_threshold)


class Alerts(_Strict):
    channel: SlackChannel
    reminder_days: list[Annotated[int, Field(ge=0)]] = [14, 7, 2]
    schedule: Schedule = Schedule(every="1h")
    # a source that failed, read nothing or was suspicious this many runs in a row raises one alert
    # (and one when it recovers)
    source_alarm_runs: Annotated[int, Field(ge=1)] = 3


class Slack(_Strict):
    token_env: NonEmptyStr = "SLACK_BOT_TOKEN"  # the *name* of the variable holding the bot token
    webhook_env: NonEmptyStr = "SLACK_WEBHOOK_URL"
    # the *name* of the variable holding the app-level token (xapp-...): when it is set, `fundradar
    # serve` takes the buttons' clicks over Socket Mode (pipeline.notify.socket); strategies may share
    # one app or each have their own
    app_token_env: NonEmptyStr = "SLACK_APP_TOKEN"
    team_id: str | None = None  # the workspace (T...) whose clicks are accepted; None = any
    base_url: str | None = None  # only for tests and proxies; the Slack Web API by default
    digests: list[DigestChannel] = []
    alerts: Alerts | None = None


class CalendarFile(_Strict):
    """A deadlines calendar that ``serve`` keeps current for subscribers (Outlook, Google Calendar):
    written after every run that changed something, and every ``every`` ("1h") when given. A relative
    ``path`` is read from the strategy file's folder."""

    path: NonEmptyStr
    every: str | None = None

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | None) -> str | None:
        if value is not None and not _EVERY.match(value):
            raise ValueError("every must be a number and a unit, e.g. '30m', '6h' or '1d'")
        return value


class Strategy(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    organisation: NonEmptyStr
    timezone: str = "Europe/Copenhagen"
    home_country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "DK"
    target_countries: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = []
    markets: list[NonEmptyStr] = []
    focus_areas: Annotated[dict[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")], FocusArea],
                           Field(min_length=1)]
    rules: Rules = Rules()
    # programmes whose open and forthcoming calls get a digest section of their own, with deadline and
    # verdict, whatever their score (a name matches a call whose programme contains it)
    programmes_of_interest: list[NonEmptyStr] = []
    sources: dict[NonEmptyStr, SourceConfig] = {}
    slack: Slack = Slack()
    calendar: CalendarFile | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _time_zone(value)


# --- funding rules -------------------------------------------------------------------------------

class Figure(_Strict):
    value: Fraction
    source: NonEmptyStr  # where the figure comes from: report, work programme, programme manual
    note: str = ""


CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


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


# --- loading with line numbers -------------------------------------------------------------------

def strategy_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("FUNDRADAR_CONFIG")
    if env:
        return Path(env)
    local = CONFIG_DIR / "strategy.yaml"
    return local if local.exists() else DEFAULT_STRATEGY


def load_strategy(path: str | os.PathLike[str] | None = None) -> Strategy:
    return _load_strategy_tree(strategy_path(path))[0]


def _load_strategy_tree(path: Path) -> tuple[Strategy, Any]:
    """The validated strategy and its YAML tree (for line numbers of cross-file problems)."""
    data = read_yaml(path)
    return validate_yaml(data, Strategy, _display(path)), data


def resolve_funding_rules_path(explicit: str | os.PathLike[str] | None = None,
                               folder: Path | None = None) -> Path:
    """``explicit``, else ``FUNDRADAR_FUNDING_RULES``, else the strategy folder's funding_rules.yaml if
    it has one, else config/funding_rules.yaml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("FUNDRADAR_FUNDING_RULES")
    if env:
        return Path(env)
    if folder is not None and (folder / FUNDING_RULES_NAME).is_file():
        return folder / FUNDING_RULES_NAME
    return DEFAULT_FUNDING_RULES


def load_funding_rules(path: str | os.PathLike[str] | None = None) -> FundingRulesFile:
    resolved = resolve_funding_rules_path(path)
    return validate_yaml(read_yaml(resolved), FundingRulesFile, _display(resolved))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- several strategies --------------------------------------------------------------------------

def strategy_files(folder: Path) -> list[Path]:
    """The strategy files of a folder in file-name order: ``*.yaml`` and ``*.yml`` except the funding
    rules."""
    try:
        entries = list(folder.iterdir())
    except OSError as exc:
        raise ConfigError(f"cannot read the folder ({exc})", path=_display(folder)) from None
    files = sorted((p for p in entries if p.suffix in (".yaml", ".yml") and p.is_file()
                    and p.stem != FUNDING_RULES_NAME.removesuffix(".yaml")), key=lambda p: p.name)
    if not files:
        raise ConfigError("no strategy files (*.yaml or *.yml) in this folder; add one per cluster or "
                          "point --config at a single strategy file", path=_display(folder))
    return files


def _first_difference(a: Any, b: Any, prefix: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key))
    return prefix


def union_sources(strategies: Sequence[Strategy], paths: Sequence[Path],
                  trees: Sequence[Any] | None = None) -> dict[str, Any]:
    """Every strategy's sources by name, in file order; a name declared differently in two files is a
    ConfigError naming both."""
    union: dict[str, Any] = {}
    where: dict[str, int] = {}
    for index, strategy in enumerate(strategies):
        for name, cfg in strategy.sources.items():
            if name not in union:
                union[name], where[name] = cfg, index
            elif union[name] != cfg:
                first = where[name]
                differs = _first_difference(union[name].model_dump(), cfg.model_dump())
                line = _line_of(trees[index], ("sources", name)) if trees is not None else None
                raise ConfigError(
                    f"source {name!r} is declared differently in {_display(paths[first])}"
                    f"{f' ({differs} differs)' if differs else ''}; a source shared by several strategies "
                    "must be declared the same in each file, or give one of them another name",
                    path=_display(paths[index]), line=line, key=f"sources.{name}")
    return union


@dataclass(frozen=True)
class LoadedConfig:
    """The strategies and funding rules in force, with where they came from.

    ``strategy`` is the selected strategy (``--strategy``; the per-strategy commands use it),
    ``strategies`` all of them in file-name order, ``sources`` the union of their sources. A config
    made from a single strategy file holds just that one.
    """

    strategy: Strategy
    funding_rules: FundingRulesFile
    strategy_path: Path
    strategies: tuple[Strategy, ...] = ()
    strategy_paths: tuple[Path, ...] = ()
    sources: dict[str, Any] = field(default_factory=dict)
    config_path: Path | None = None  # what --config named: the strategy file, or the folder
    funding_rules_path: Path | None = None
    from_folder: bool = False  # several-strategy layout: job ids and Slack keys carry the strategy name
    narrowed: bool = False  # made by only(): reloading keeps just the selected strategy

    def __post_init__(self) -> None:
        if not self.strategies:
            object.__setattr__(self, "strategies", (self.strategy,))
            object.__setattr__(self, "strategy_paths", (self.strategy_path,))
        if not self.sources:
            object.__setattr__(self, "sources", union_sources(self.strategies, self.strategy_paths))
        if self.config_path is None:
            object.__setattr__(self, "config_path", self.strategy_path)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.strategies]

    def path_of(self, name: str) -> Path:
        """The file strategy ``name`` was read from."""
        return self.strategy_paths[self.names.index(name)]

    def select(self, name: str) -> LoadedConfig:
        """The same config with ``name`` as the selected strategy; NotFoundError listing the names."""
        if name not in self.names:
            where = _display(self.config_path or self.strategy_path)
            raise NotFoundError(f"no strategy named {name!r} in {where}; the strategies are: "
                                f"{', '.join(self.names)} (--strategy or FUNDRADAR_STRATEGY)")
        index = self.names.index(name)
        return replace(self, strategy=self.strategies[index], strategy_path=self.strategy_paths[index])

    def only(self, name: str) -> LoadedConfig:
        """Narrowed to one strategy (and its own sources), e.g. for ``--strategy NAME``."""
        chosen = self.select(name)
        return replace(chosen, strategies=(chosen.strategy,), strategy_paths=(chosen.strategy_path,),
                       sources=dict(chosen.strategy.sources), narrowed=True)

    def each(self) -> list[LoadedConfig]:
        """One config per strategy, each selecting it (for per-strategy work such as scoring)."""
        return [self.select(name) for name in self.names]

    def key_prefix(self, strategy: Strategy) -> str:
        """What Slack delivery keys and job ids of ``strategy`` start with: nothing for a single
        strategy file (one strategy needs no prefix), ``<name>:`` for a folder."""
        return f"{strategy.name}:" if self.from_folder else ""

    def reload(self) -> LoadedConfig:
        """The same files read and validated again, keeping the selection (a ConfigError, or a
        NotFoundError when the selected strategy is gone, if they are no longer valid)."""
        fresh = load_config(self.config_path, self.funding_rules_path)
        if self.narrowed:
            return fresh.only(self.strategy.name)
        return fresh.select(self.strategy.name) if self.strategy.name in fresh.names else fresh

    def files(self) -> list[Path]:
        """Every file this config was read from (strategies, then the funding rules)."""
        extra = [self.funding_rules_path] if self.funding_rules_path is not None else []
        return [*self.strategy_paths, *extra]


def load_config(path: str | os.PathLike[str] | None = None,
                funding_rules_path: str | os.PathLike[str] | None = None, *,
                strategy: str | None = None) -> LoadedConfig:
    """Read and validate the strategy file or folder and the funding rules; select ``strategy``
    (default: the only one, or with several the first in file-name order)."""
    resolved = strategy_path(path)
    folder = resolved if resolved.is_dir() else None
    files = strategy_files(resolved) if folder is not None else [resolved]
    loaded = [_load_strategy_tree(file) for file in files]
    strategies = [item[0] for item in loaded]
    seen: dict[str, int] = {}
    for index, item in enumerate(strategies):
        if item.name in seen:
            other = _display(files[seen[item.name]])
            raise ConfigError(f"strategy name {item.name!r} is also used by {other}; give each strategy "
                              "file its own name", path=_display(files[index]),
                              line=_line_of(loaded[index][1], ("name",)), key="name")
        seen[item.name] = index
    sources = union_sources(strategies, files, [item[1] for item in loaded])
    rules_path = resolve_funding_rules_path(funding_rules_path, folder)
    config = LoadedConfig(strategies[0], load_funding_rules(rules_path), files[0], tuple(strategies),
                          tuple(files), sources, resolved, rules_path, folder is not None)
    return config.select(strategy) if strategy else config
