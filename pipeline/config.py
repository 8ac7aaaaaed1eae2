"""The strategy config the secretariat edits, and the funding rules, validated with clear errors.

``load_strategy(path)`` reads YAML with ruamel.yaml (which keeps line numbers), validates it with
pydantic models, and turns the first problem into a :class:`~pipeline.errors.ConfigError` that names
the file, the line and the key, and says what is expected.

The strategy file is chosen by ``--config PATH``, then ``FUNDRADAR_CONFIG``, then
``config/strategy.yaml`` if it exists, then ``config/strategy.example.yaml``.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from pipeline.db import PROJECT_ROOT
from pipeline.errors import ConfigError

CONFIG_DIR = PROJECT_ROOT / "config"
DEFAULT_STRATEGY = CONFIG_DIR / "strategy.example.yaml"
DEFAULT_FUNDING_RULES = CONFIG_DIR / "funding_rules.yaml"


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
    alert_threshold: Fraction = 0.35


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


_EVERY = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")


class Schedule(_Strict):
    """Either ``cron`` (five fields, in the strategy's time zone) or ``every`` ("30m", "6h", "1d")."""

    cron: str | None = None
    every: str | None = None
    jitter_seconds: Annotated[int, Field(ge=0)] = 300

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) != 5:
            raise ValueError("cron needs five fields: minute hour day month weekday, e.g. '0 6 * * *'")
        return value

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | None) -> str | None:
        if value is not None and not _EVERY.match(value):
            raise ValueError("every must be a number and a unit, e.g. '30m', '6h' or '1d'")
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
        return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


DEFAULT_SCHEDULE = Schedule(every="6h")


class _SourceBase(_Strict):
    enabled: bool = True
    schedule: Schedule = DEFAULT_SCHEDULE
    timeout_seconds: Annotated[float, Field(gt=0)] = 30


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


class FeedSource(_SourceBase):
    type: Literal["feed"]
    url: NonEmptyStr
    programme: str | None = None
    # an item counts as a call announcement when its title or summary contains one of these
    call_phrases: list[NonEmptyStr] = ["call for proposals", "open for applications", "call opens",
                                       "deadline", "application round", "call for project"]


class IcalSource(_SourceBase):
    type: Literal["ical"]
    url: NonEmptyStr
    timezone: str = "Europe/Oslo"
    programmes: list[NonEmptyStr] = []  # keep events whose "Programme:" prefix matches; empty = all


class PageWatchSource(_SourceBase):
    type: Literal["page_watch"]
    pages: Annotated[list[NonEmptyStr], Field(min_length=1)]
    phrase: NonEmptyStr = "Innovation Express"
    programme: str | None = "BSR Innovation Express"


SourceConfig = Annotated[EuFtSource | EuroAccessSource | FeedSource | IcalSource | PageWatchSource,
                         Field(discriminator="type")]


class DigestChannel(_Strict):
    channel: NonEmptyStr  # Slack channel name ("#eu-funding") or id
    focus_areas: list[NonEmptyStr] = []  # empty = every focus area
    schedule: Schedule = Schedule(cron="0 8 * * 1")
    top: Annotated[int, Field(ge=1, le=45)] = 10
    min_score: Fraction = 0.15


class Alerts(_Strict):
    channel: NonEmptyStr
    reminder_days: list[Annotated[int, Field(ge=0)]] = [14, 7, 2]
    schedule: Schedule = Schedule(every="1h")


class Slack(_Strict):
    token_env: NonEmptyStr = "SLACK_BOT_TOKEN"  # the *name* of the variable holding the bot token
    webhook_env: NonEmptyStr = "SLACK_WEBHOOK_URL"
    base_url: str | None = None  # only for tests and proxies; the Slack Web API by default
    digests: list[DigestChannel] = []
    alerts: Alerts | None = None


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
    sources: dict[NonEmptyStr, SourceConfig] = {}
    slack: Slack = Slack()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Copenhagen") \
                from None
        return value


# --- funding rules -------------------------------------------------------------------------------

class Figure(_Strict):
    value: Fraction
    source: NonEmptyStr  # where the figure comes from: report, work programme, programme manual
    note: str = ""


class Consortium(_Strict):
    min_partners: Annotated[int, Field(ge=1)] = 1
    min_countries: Annotated[int, Field(ge=1)] = 1
    source: NonEmptyStr


class ProgrammeMatch(_Strict):
    topic_id: str | None = None  # regex on the topic identifier
    programme: str | None = None  # case-insensitive substring of the programme name

    @field_validator("topic_id")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


class ProgrammeRules(_Strict):
    label: NonEmptyStr
    match: ProgrammeMatch
    success_rate: Figure | None = None
    funding_rates: dict[NonEmptyStr, Figure] = {}  # action type code (RIA, IA, CSA, …) or "default"
    consortium: Consortium | None = None
    eligible_countries: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = []  # empty = all EU/EEA


class FundingRulesFile(_Strict):
    programmes: Annotated[dict[NonEmptyStr, ProgrammeRules], Field(min_length=1)]


# --- loading with line numbers -------------------------------------------------------------------

def strategy_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("FUNDRADAR_CONFIG")
    if env:
        return Path(env)
    local = CONFIG_DIR / "strategy.yaml"
    return local if local.exists() else DEFAULT_STRATEGY


def read_yaml(path: Path) -> Any:
    """Round-trip YAML (comments and line numbers kept); a ConfigError on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found; pass --config PATH or set FUNDRADAR_CONFIG",
                          path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file ({exc})", path=str(path)) from None
    return parse_yaml_text(text, str(path))


def parse_yaml_text(text: str, name: str) -> Any:
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise ConfigError(f"invalid YAML: {problem}; check indentation and quoting", path=name,
                          line=line) from None
    except Exception as exc:  # ruamel raises a few unmarked error types (e.g. duplicate keys)
        raise ConfigError(f"invalid YAML: {str(exc).splitlines()[0]}", path=name) from None


def _line_of(root: Any, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest node of ``loc`` that exists in the YAML tree."""
    node, line = root, None
    for part in loc:
        lc = getattr(node, "lc", None)
        if isinstance(node, dict) and part in node:
            if lc is not None:
                line = lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            if lc is not None:
                line = lc.item(part)[0] + 1
            node = node[part]
        # otherwise the part is a pydantic union tag or a missing key: stay on the parent
    if line is None and getattr(root, "lc", None) is not None:
        line = root.lc.line + 1
    return line


def _known_keys(model: type[BaseModel]) -> set[str]:
    seen: set[str] = set()
    stack: list[Any] = [model]
    while stack:
        current = stack.pop()
        if isinstance(current, type) and issubclass(current, BaseModel):
            for name, info in current.model_fields.items():
                if name not in seen:
                    seen.add(name)
                    stack.append(info.annotation)
        for arg in getattr(current, "__args__", ()) or ():
            stack.append(arg)
        for arg in getattr(current, "__metadata__", ()) or ():
            stack.append(arg)
        origin = getattr(current, "__origin__", None)
        if origin is not None:
            stack.append(origin)
    return {key for key in seen if not key.startswith("_")}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (the value is empty)"
    text = repr(value if not hasattr(value, "items") else dict(value))
    return text if len(text) <= 60 else text[:57] + "..."


def _message(error: dict[str, Any], model: type[BaseModel]) -> tuple[str, str]:
    loc = tuple(part for part in error["loc"])
    keys = [str(part) for part in loc if not isinstance(part, int)]
    key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
    kind = error["type"]
    if kind == "missing":
        return key, "required key is missing"
    if kind == "extra_forbidden":
        unknown = keys[-1] if keys else "?"
        close = difflib.get_close_matches(unknown, sorted(_known_keys(model)), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "; remove it or check the spelling"
        return key, f"unknown key {unknown!r}{hint}"
    if kind == "too_short":
        what = "focus area needs at least one keyword" if keys and keys[-1] == "keywords" \
            else "must not be empty"
        return key, what
    if kind == "union_tag_invalid":
        return key, ("unknown source type; expected one of eu_ft, euro_access, feed, ical, page_watch")
    if kind == "union_tag_not_found":
        return key, "source needs a type: one of eu_ft, euro_access, feed, ical, page_watch"
    msg = error["msg"].removeprefix("Value error, ")
    msg = msg[0].lower() + msg[1:] if msg else msg
    return key, f"{msg}, got {_describe(error.get('input'))}"


def validate_yaml(data: Any, model: type[BaseModel], name: str) -> Any:
    try:
        return model.model_validate(data if data is not None else {})
    except PydanticValidationError as exc:
        # an unknown key usually explains a "missing" one (a misspelling): report it first
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        key, message = _message(first, model)
        more = len(exc.errors()) - 1
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise ConfigError(message, path=name, line=_line_of(data, tuple(first["loc"])),
                          key=key or None) from None


def load_strategy(path: str | os.PathLike[str] | None = None) -> Strategy:
    resolved = strategy_path(path)
    return validate_yaml(read_yaml(resolved), Strategy, _display(resolved))


def load_funding_rules(path: str | os.PathLike[str] | None = None) -> FundingRulesFile:
    resolved = Path(path) if path else Path(os.environ.get("FUNDRADAR_FUNDING_RULES",
                                                           DEFAULT_FUNDING_RULES))
    return validate_yaml(read_yaml(resolved), FundingRulesFile, _display(resolved))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class LoadedConfig:
    """The strategy and funding rules in force, with where they came from."""

    strategy: Strategy
    funding_rules: FundingRulesFile
    strategy_path: Path


def load_config(path: str | os.PathLike[str] | None = None,
                funding_rules_path: str | os.PathLike[str] | None = None) -> LoadedConfig:
    resolved = strategy_path(path)
    return LoadedConfig(load_strategy(resolved), load_funding_rules(funding_rules_path), resolved)
