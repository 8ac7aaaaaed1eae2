"""The strategy file's schema: pydantic models of what the secretariat writes (focus areas, rules,
sources with their schedules, Slack channels), each field validated so that a mistake is refused when
the file is read rather than when a source runs or a digest is due. Loading with line numbers is
:mod:`pipeline.core.config`, which re-exports every name here."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipeline.core.call_phrases import DEFAULT_CALL_PHRASES, NON_CALL_WORDS, PAGE_CALL_WORDS
from pipeline.core.text import NOT_A_HOST_NAME, host_name_ok


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


def _web_url(value: str) -> str:
    """``value`` if it is an http(s) address with a host; a ValueError saying what to write otherwise
    (an "ftp://" or "http://[::1" source failed every run with a puzzling error instead)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - reading it checks the port
    except ValueError as exc:
        raise ValueError(f"not a URL ({exc}); write the page's address, e.g. "
                         "https://example.dk/calls") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname \
            or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ValueError("not a web address; write it with http:// or https://, e.g. "
                         "https://example.dk/calls") from None
    if not host_name_ok(parts.hostname):
        raise ValueError(f"the host name {parts.hostname!r} is not one ({NOT_A_HOST_NAME}); check the "
                         "address")
    return value


WebUrl = Annotated[str, AfterValidator(_web_url)]


def _iso_country(value: str, info: ValidationInfo) -> str:
    """``value`` if it is an ISO 3166-1 alpha-2 country code (babel's CLDR list, as an idea's countries
    are checked); the EU's own EL and UK are named as such, as a home_country of EL was never among a
    programme's eligible countries (GR) and every call failed its eligible_country rule."""
    from pipeline.core.inputs import COUNTRY_ALIASES, country_names

    named = {"GB": "the United Kingdom"}  # as a sentence says it

    if (info.context or {}).get("from_cache"):  # checked when it was cached (babel not imported again)
        return value
    if value in COUNTRY_ALIASES:
        iso = COUNTRY_ALIASES[value]
        raise ValueError(f"{value!r} is the EU's code for {named.get(iso, country_names()[iso])}; ISO 3166 "
                         f"and this config write {iso}")
    if value not in country_names():
        raise ValueError(f"{value!r} is no ISO 3166 country code; write the two letters of a country, such "
                         "as DK, SE or DE")
    return value


# two capital letters first (the hint of pipeline.core.yaml names the shape), then a real country
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$"), AfterValidator(_iso_country)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NonEmptyStr = Annotated[str, Field(min_length=1)]
Fraction = Annotated[float, Field(ge=0, le=1)]
# Upper bounds well past any real need: beyond them a value is a typo, and date arithmetic with it
# leaves datetime's range (200,000 weeks before a deadline is before year 1) and fails mid-run.
MAX_WEEKS_BEFORE_DEADLINE = 520
MAX_REMINDER_DAYS = 3650
MAX_TIMEOUT_SECONDS = 3600  # a socket timeout must fit the C timeval too
MAX_RUN_MINUTES = 24 * 60  # a run that needs longer than a day would overlap the next day's


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

    def synonyms_of(self, keyword: str) -> list[str]:
        """The translations given for ``keyword``; a synonym key in another case or spacing ("brint"
        for the keyword "Brint") is the same term."""
        if keyword in self.synonyms:
            return self.synonyms[keyword]
        wanted = same_term(keyword)
        return next((targets for source, targets in self.synonyms.items() if same_term(source) == wanted), [])

    def is_keyword(self, term: str) -> bool:
        wanted = same_term(term)
        return any(same_term(keyword) == wanted for keyword in self.keywords)


def same_term(term: str) -> str:
    """A term as keywords and synonym keys are matched to each other: case and spacing aside."""
    return " ".join(term.split()).casefold()


def _thousands_point(value: object) -> object:
    """``value``, unless YAML read it from a number written with a point before exactly three digits
    (``100.000``, ``2.500``): the Danish and German thousands separator, which YAML takes for a decimal
    point, so the rule would hold EUR 100 where EUR 100,000 was meant. ruamel.yaml keeps how a float was
    written (``_width`` characters, the point at ``_prec``)."""
    from pydantic_core import PydanticCustomError

    width, point = getattr(value, "_width", None), getattr(value, "_prec", None)
    if not isinstance(value, float) or width is None or point is None or getattr(value, "_exp", None):
        return value
    if width - point - 1 != 3 or not 1 <= point <= 3 or value < 1:
        return value
    meant = round(value * 1000)
    raise PydanticCustomError(
        "thousands_point",
        f"{value:.3f} is read as the number {value:g} (a point in a number is its decimal point); write "
        f"{meant} for EUR {meant:,}, without thousands separators")


class Rules(_Strict):
    min_success_rate: Fraction | None = None
    min_funding_rate: Fraction | None = None
    min_weeks_before_deadline: Annotated[float, Field(ge=0, le=MAX_WEEKS_BEFORE_DEADLINE)] | None = None
    allowed_action_types: list[NonEmptyStr] | None = None
    budget_min: Annotated[float, Field(ge=0)] | None = None
    budget_max: Annotated[float, Field(gt=0)] | None = None
    require_eligible_country: bool = True

    @model_validator(mode="after")
    def _budget_range(self) -> Rules:
        if self.budget_min is not None and self.budget_max is not None and self.budget_min > self.budget_max:
            raise ValueError(f"budget_min {self.budget_min:,.0f} is larger than budget_max "
                             f"{self.budget_max:,.0f}; they are the smallest and the largest grant "
                             "per project in EUR: swap them or correct one")
        return self

    _budget_written = field_validator("budget_min", "budget_max", mode="before")(_thousands_point)


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
        trigger = CronTrigger.from_crontab(value, timezone="UTC")
    except (ValueError, TypeError, OverflowError) as exc:
        return f"invalid cron expression ({' '.join(str(exc).split())[:120]}); e.g. '0 6 * * 1-5'"
    from datetime import UTC, datetime

    # APScheduler takes "0 5 31 2 *" and the job then never runs ("next run none (paused)" in serve)
    if trigger.get_next_fire_time(None, datetime(2000, 1, 1, tzinfo=UTC)) is None:
        return "this cron never fires (its days do not exist, e.g. 31 February); e.g. '0 6 * * 1-5'"
    return None


class Schedule(_Strict):
    """Either ``cron`` (five fields, in the strategy's time zone) or ``every`` ("30m", "6h", "1d", at
    most a year), checked with APScheduler's own trigger constructors."""

    cron: str | None = None
    every: str | None = None
    jitter_seconds: Annotated[int, Field(ge=0, le=MAX_JITTER_SECONDS)] = 300

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None, info: ValidationInfo) -> str | None:
        # a cached config (pipeline.core.config_cache) passed this check when it was cached: APScheduler
        # (and asyncio, which it imports) is then not imported by every command that reads the config
        if value is None or (info.context or {}).get("from_cache"):
            return value
        problem = _cron_problem(value)
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
DEFAULT_DIGEST_CRON = "0 8 * * 1"


class _SourceBase(_Strict):
    enabled: bool = True
    schedule: Schedule = DEFAULT_SCHEDULE
    timeout_seconds: Annotated[float, Field(gt=0, le=MAX_TIMEOUT_SECONDS)] = 30
    # every request of one run of the source ends within this: `sync` runs the sources one after the
    # other, and a site slow on each of its pages (each within timeout_seconds) held the others for an hour
    max_run_minutes: Annotated[float, Field(gt=0, le=MAX_RUN_MINUTES)] = 15
    # the mass-closure guard: a run that would close or remove more than this share of the source's
    # active calls before their deadlines (or more than max_close of them) closes nothing and is
    # "suspicious" (watcher.store); raise it for one sync when a source really dropped that many
    max_close_share: Annotated[float, Field(ge=0, le=1)] = 0.2
    max_close: Annotated[int, Field(ge=0)] | None = None


class EuFtSource(_SourceBase):
    type: Literal["eu_ft"]
    url: WebUrl = "https://api.tech.ec.europa.eu/search-api/prod/rest/search"
    # programme label -> SEDIA frameworkProgramme id; one query per programme
    programmes: dict[NonEmptyStr, NonEmptyStr] = {"Horizon Europe": "43108390"}
    page_size: Annotated[int, Field(ge=1, le=100)] = 100


class EuroAccessSource(_SourceBase):
    type: Literal["euro_access"]
    url: WebUrl = "https://www.euro-access.eu/en/calls"
    programmes: list[NonEmptyStr] = [
        "Interreg Baltic Sea Region", "Interreg North Sea", "Interreg Öresund-Kattegat-Skagerrak",
        "Interreg Germany-Denmark", "Interreg South Baltic"]
    max_pages: Annotated[int, Field(ge=1)] = 20
    # call pages are fetched only from the listing's own host and these (links in a scraped listing
    # could point anywhere); a call on another host keeps its listing data
    detail_hosts: list[NonEmptyStr] = []


class FeedSource(_SourceBase):
    type: Literal["feed"]
    url: WebUrl
    programme: str | None = None
    # an item counts as a call announcement when its title or text contains one of these at the start
    # of a word (en, da, sv, no, de: pipeline.core.call_phrases); a list here replaces the defaults
    call_phrases: list[NonEmptyStr] = list(DEFAULT_CALL_PHRASES)


class IcalSource(_SourceBase):
    type: Literal["ical"]
    url: WebUrl
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
    pages: Annotated[list[WebUrl], Field(min_length=1)]
    phrase: NonEmptyStr = "Innovation Express"
    programme: str | None = "BSR Innovation Express"
    # a page mentioning the phrase announces a call when it also has one of these (or a full date)
    call_phrases: list[NonEmptyStr] = list(PAGE_CALL_WORDS)


class HtmlListSource(_SourceBase):
    """A funder's page listing its calls (watcher.sources.html_list): CSS selectors for the parts."""

    type: Literal["html_list"]
    url: WebUrl
    programme: str | None = None
    language: Literal["da", "sv", "no", "nb", "de", "en"] = "da"  # the page's language, for its dates
    item: NonEmptyStr  # one call in the list
    title: str = "a"  # inside the item; empty = the link's text
    link: str = "a[href]"  # inside the item: the element whose href is the call's page
    text: str | None = None  # inside the item: what holds dates and amounts; default the whole item
    detail: bool = False  # also read each call's own page (same host only)
    detail_text: str | None = None  # that page's element with the call text; default its main text
    max_details: Annotated[int, Field(ge=0)] = 30
    max_pages: Annotated[int, Field(ge=1)] = 20  # listing pages followed through its pager
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
    # Mondays 08:00, built unchecked: the cron check imports APScheduler (and asyncio) into every
    # command that reads a config; tests/test_config.py checks this default
    schedule: Schedule = Field(default_factory=lambda: Schedule.model_construct(cron=DEFAULT_DIGEST_CRON))
    top: Annotated[int, Field(ge=1, le=45)] = 10
    min_score: Fraction = 0.3  # what counts as a matching call (see alert_threshold)


class Alerts(_Strict):
    channel: SlackChannel
    reminder_days: list[Annotated[int, Field(ge=0, le=MAX_REMINDER_DAYS)]] = [14, 7, 2]
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

    @field_validator("digests")
    @classmethod
    def _one_digest_per_channel(cls, digests: list[DigestChannel]) -> list[DigestChannel]:
        # a channel's digest is one message a period, logged under the channel's key: a second digest
        # there would find it sent and never go out, and --channel could not tell the two apart
        first: dict[str, int] = {}
        for number, digest in enumerate(digests, start=1):
            name = digest.channel.lstrip("#")
            if name in first:
                raise ValueError(f"channel '#{name}' is given two digests (the {_ordinal(first[name])} and "
                                 f"the {_ordinal(number)}); give each digest its own channel (a digest's "
                                 "focus_areas choose what it lists)")
            first[name] = number
        return digests


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


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
    # at most 100: the Start idea option carries "idea:<name>:<call>" within Slack's 150 characters
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)]
    organisation: NonEmptyStr
    timezone: str = "Europe/Copenhagen"
    home_country: CountryCode = "DK"
    # read by nothing yet (an idea's own target countries choose its partners): kept so the
    # example's list stays valid, and checked like home_country
    target_countries: list[CountryCode] = []
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
