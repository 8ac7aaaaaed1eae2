"""Reading YAML with line numbers, and validating it with pydantic into one clear ConfigError.

``read_yaml`` / ``parse_yaml_text`` keep ruamel.yaml's round-trip tree (comments and line numbers).
YAML aliases (``*name``) are refused with the line of the first one: the config files are short enough
to write every value out, and an alias is how a few kilobytes expand into billions of nodes (the
"billion laughs" document) that validation and error messages would then walk.

``validate_yaml`` turns the first pydantic problem into a :class:`~pipeline.core.errors.ConfigError` that
names the file, the line and the key, and says what is expected. Used by :mod:`pipeline.core.config`.
"""

from __future__ import annotations

import datetime
import difflib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from pipeline.core.errors import ConfigError
from pipeline.core.text import spelt_out
from pipeline.core.yaml_hints import list_hint, no_rule_hint, number_hint, text_hint, weeks_hint

if TYPE_CHECKING:
    from ruamel.yaml import YAML


def read_yaml(path: Path) -> Any:
    """Round-trip YAML (comments and line numbers kept); a ConfigError on any problem."""
    return parse_yaml_text(read_config_text(path), str(path))


def read_config_text(path: Path, missing: str = "check the path") -> str:
    """A config file's text; a ConfigError naming the file when it cannot be read (``missing``: what to
    do when it is not there)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"file not found; {missing}", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file ({exc})", path=str(path)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save "
                          "it as UTF-8 in your editor and try again", path=str(path)) from None


class _AliasFound(Exception):
    def __init__(self, anchor: str, mark: Any) -> None:
        super().__init__(anchor)
        self.anchor, self.mark = anchor, mark


def _round_trip_loader() -> YAML:
    """ruamel.yaml's round-trip loader whose composer stops at the first alias, in the one pass that
    builds the tree (a separate pass over the events cost as much as the load itself)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.composer import Composer
    from ruamel.yaml.events import AliasEvent

    class NoAliasComposer(Composer):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.parser.check_event(AliasEvent):
                event = self.parser.peek_event()
                raise _AliasFound(str(event.anchor), event.start_mark)
            return super().compose_node(parent, index)

    yaml = YAML(typ="rt")
    yaml.Composer = NoAliasComposer
    return yaml


def parse_yaml_text(text: str, name: str) -> Any:
    from ruamel.yaml.error import MarkedYAMLError  # imported when a file is parsed, not on a cached read

    try:
        return _round_trip_loader().load(text)
    except _AliasFound as found:
        mark = found.mark
        raise ConfigError(f"YAML alias *{found.anchor[:40]} is not supported; write the value out "
                          "instead of referring to an anchor", path=name,
                          line=mark.line + 1 if mark else None) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        duplicate = _DUPLICATE.search(" ".join((exc.problem or "").split()))
        if duplicate and mark is not None:
            key, first = _where_in_text(text, mark.line)
            raise ConfigError(f"given twice{f' (first on line {first})' if first else ''}; each name may "
                              "appear once in a section: rename one of them or merge them", path=name,
                              line=line, key=key or repr(duplicate.group(1))) from None
        raise ConfigError(_yaml_problem(exc, mark, text), path=name, line=line) from None
    except ConfigError:
        raise
    except ValueError as exc:
        if "integer string conversion" not in str(exc):
            raise ConfigError(f"invalid YAML: {(str(exc).strip().splitlines() or ['ValueError'])[0][:200]}",
                              path=name) from None
        # Python's limit on reading long integers; its message says to call a Python function
        raise ConfigError("a number with thousands of digits is no setting; check the file for a value "
                          "pasted or typed by mistake", path=name) from None
    except Exception as exc:  # ruamel raises a few unmarked error types (e.g. duplicate keys)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"invalid YAML: {first[:200]}", path=name) from None


_DUPLICATE = re.compile(r'found duplicate key "(.{0,80}?)" with value')


_KEY_LINE = re.compile(r"^( *)(- +)?([^\s#:'\"-][^:#]*?|'[^']*'|\"[^\"]*\"):(?:\s|$)")


def _where_in_text(text: str, index: int) -> tuple[str, int | None]:
    """The key path of the block-style ``key:`` on line ``index`` (0-based) as the lines above it nest
    it (``slack.digests[1].top``), and the 1-based line where the same key first appears in that
    section: read from the text, since a file that does not load has no tree."""
    lines = text.splitlines()

    def parsed(number: int) -> tuple[int, int, str] | None:  # (dash column, key column, key)
        found = _KEY_LINE.match(lines[number])
        if not found:
            return None
        dash = len(found.group(1))
        return dash, dash + len(found.group(2) or ""), found.group(3).strip("'\"")

    here = parsed(index) if index < len(lines) else None
    if here is None:
        return "", None
    path: list[str] = [here[2]]
    first, level, items = None, here[1], 0  # items: list items seen at the current level
    if here[0] < here[1]:  # "- key:" opens a list item
        level, items = here[0], 1
    for number in range(index - 1, -1, -1):
        above = parsed(number)
        if above is None:
            continue
        dash, column, key = above
        if column == here[1] == level and key == here[2]:
            first = number + 1  # a sibling in the same section; the topmost one is the first
        if column == level and dash < column and not items:
            level, items = dash, 1  # the line that opens the list item the key belongs to
        elif dash == level and dash < column and items:
            items += 1  # an earlier item of the same list
        elif column < level:
            if items:
                path[0] = f"[{items - 1}]{'.' if not path[0].startswith('[') else ''}{path[0]}"
            path.insert(0, key)
            level, items = (dash, 1) if dash < column else (column, 0)
    if items:
        path[0] = f"[{items - 1}].{path[0]}"
    return ".".join(path).replace(".[", "["), first


def _yaml_problem(exc: Any, mark: Any, text: str = "") -> str:
    """What a YAML syntax error means to the person who edits the file, and what to write instead:
    ruamel's wording names a tab as the token '\\t' and quotes a duplicated key's whole value."""
    problem = " ".join((exc.problem or exc.context or "invalid YAML").split())
    if "'\\t'" in problem:
        column = f" at column {mark.column + 1}" if mark is not None else ""
        return f"a tab{column}; YAML indents with spaces only: replace the tab with spaces"
    if problem.startswith("mapping values are not allowed"):
        return _under_a_value(text, mark) or \
            "a colon and a space inside a value; put the whole value in double quotes"
    if problem.startswith("expected the node content") and problem.endswith("found ','"):
        return "an empty entry in a list (a comma with nothing before it); remove the extra comma"
    if problem.startswith("expected <block end>"):
        return ("this line is indented differently from the lines around it; indent it with as many "
                "spaces as the other keys of its section")
    duplicate = _DUPLICATE.search(problem)
    if duplicate:
        return (f"{duplicate.group(1)!r} is given twice in the same section; each name may appear once: "
                "rename one of them or merge them")
    problem = problem if len(problem) <= 200 else problem[:197] + "..."  # it may quote the value
    return f"invalid YAML: {problem}; check indentation and quoting"


def _under_a_value(text: str, mark: Any) -> str | None:
    """The message when the colon ruamel stops at is the key's own on its line, and the line above is
    a ``key: value`` indented less: a key nested under a value (the line above, or this one, indented
    wrongly), not a colon inside a value."""
    lines = text.splitlines()
    if mark is None or not 0 < mark.line < len(lines) or ":" in lines[mark.line][:mark.column]:
        return None
    here = lines[mark.line]
    above = next((n for n in range(mark.line - 1, -1, -1)
                  if lines[n].strip() and not lines[n].lstrip().startswith("#")), None)
    if above is None:
        return None
    found = _KEY_LINE.match(lines[above])
    if found is None or not lines[above][found.end():].split("#")[0].strip() \
            or len(found.group(1)) >= len(here) - len(here.lstrip()):
        return None
    return (f"this line is indented deeper than line {above + 1} above it ({lines[above].strip()[:60]!r}), "
            "which has a value and so cannot hold keys; indent both as the other keys of their section")


def _line_of(root: Any, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest node of ``loc`` that exists in the YAML tree."""
    def plus_one(value: Any) -> int | None:  # ruamel leaves the line unset for some nodes (a bare "=")
        return value + 1 if isinstance(value, int) else None

    node, line = root, None
    for part in loc:
        lc = getattr(node, "lc", None)
        if isinstance(node, dict) and part in node:
            if lc is not None:
                line = plus_one(lc.key(part)[0]) or line
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            if lc is not None:
                line = plus_one(lc.item(part)[0]) or line
            node = node[part]
        # otherwise the part is a pydantic union tag or a missing key: stay on the parent
    if line is None and getattr(root, "lc", None) is not None:
        line = plus_one(root.lc.line)
    return line


def _models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """``model`` and every model its fields hold, each once."""
    found: list[type[BaseModel]] = []
    stack: list[Any] = [model]
    while stack:
        current = stack.pop()
        if isinstance(current, type) and issubclass(current, BaseModel):
            if current in found:
                continue
            found.append(current)
            stack += [info.annotation for info in current.model_fields.values()]
        for arg in getattr(current, "__args__", ()) or ():
            stack.append(arg)
        for arg in getattr(current, "__metadata__", ()) or ():
            stack.append(arg)
        origin = getattr(current, "__origin__", None)
        if origin is not None:
            stack.append(origin)
    return found


def _known_keys(model: type[BaseModel]) -> set[str]:
    return {key for current in _models(model) for key in current.model_fields if not key.startswith("_")}


def _section_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys of the section that holds the last part of ``loc`` (the rules' for ``rules.x``, every
    source type's for ``sources.eu_ft.x``), in the models' order; empty when the path leads to none."""
    import typing

    def models(tp: Any) -> list[Any]:  # what a value of this type may be: Annotated and unions unwrapped
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is typing.Annotated:
            return models(args[0])
        unions = origin is typing.Union or type(tp).__name__ == "UnionType"
        return [m for arg in args for m in models(arg)] if unions else [tp]

    def is_model(tp: Any) -> bool:
        return isinstance(tp, type) and issubclass(tp, BaseModel)

    current: list[Any] = models(model)
    for part in loc[:-1]:
        current = [found for tp in current for found in (
            models(tp.model_fields[part].annotation) if is_model(tp) and part in tp.model_fields
            else models(typing.get_args(tp)[1]) if typing.get_origin(tp) is dict
            else models(typing.get_args(tp)[0]) if typing.get_origin(tp) is list and isinstance(part, int)
            else [])]
    return list(dict.fromkeys(key for tp in current if is_model(tp) for key in tp.model_fields
                              if not key.startswith("_")))


def _brief(value: Any, budget: int, depth: int = 0) -> str:
    """A repr-like text of ``value`` that looks at no more than a few items per level and three levels,
    so it costs the same for a huge or deeply nested value (mappings and sequences of any type)."""
    if isinstance(value, str):
        return repr(value[:budget]) if len(value) <= budget else repr(value[:budget]) + "..."
    if hasattr(value, "items") or isinstance(value, list | tuple | set):
        if depth >= 3:
            return "{...}" if hasattr(value, "items") else "[...]"
        parts = []
        if hasattr(value, "items"):
            for index, (key, item) in enumerate(value.items()):
                if index == 4:
                    parts.append("...")
                    break
                parts.append(f"{_brief(key, budget, depth + 1)}: {_brief(item, budget, depth + 1)}")
            return "{" + ", ".join(parts) + "}"
        for index, item in enumerate(value):
            if index == 4:
                parts.append("...")
                break
            parts.append(_brief(item, budget, depth + 1))
        return "[" + ", ".join(parts) + "]"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** 40:
        return "a number of more than 40 digits"
    text = repr(value)
    return text if len(text) <= budget else text[:budget] + "..."


def _shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters: what a message quotes from the file stays one line.
    Built with a bounded repr, so a huge or deeply nested value costs no more than a small one."""
    text = _brief(value, limit)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (the value is empty)"
    if isinstance(value, datetime.date):  # as the file has it, not datetime.date(2030, 1, 1)
        return value.isoformat()
    return _shown(value if not hasattr(value, "items") else dict(value))


def _key_part(part: Any) -> str:
    """One step of a key path; quoted when odd (blank, control characters, very long) so the message
    stays one readable line."""
    if isinstance(part, int):
        return f"[{part}]"
    text = str(part)
    plain = text and text.isprintable() and len(text) <= 40 and text.strip() == text
    return text if plain else _shown(text, 40)


def _without_tags(root: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """``loc`` without the tags pydantic puts in it for a tagged union (a source's ``type``): the path
    as the file spells it (``sources.eu_ft.schedule``, not ``sources.eu_ft.eu_ft.schedule``)."""
    kept: list[Any] = []
    node = root
    for part in loc:
        if isinstance(node, dict) and part not in node and node.get("type") == part:
            continue  # the union's tag: the file has no such key, the node names it as its type
        kept.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(kept)


def _source_types(model: type[BaseModel]) -> str:
    """The values a ``type`` key takes in ``model``'s sections (every source type of a strategy)."""
    import typing

    tags: list[str] = []
    for current in _models(model):
        info = current.model_fields.get("type")
        if info is not None and typing.get_origin(info.annotation) is typing.Literal:
            tags += [str(tag) for tag in typing.get_args(info.annotation) if str(tag) not in tags]
    return ", ".join(sorted(tags)) or "see the README"


# the config's patterns in words, with what to write ("string should match pattern '^[A-Z]{2}$'"); a
# name's example is the value as it would pass (_as_name), else the one given here
_PATTERNS = {
    r"^[A-Z]{2}$": "a country code: write two capital letters (ISO 3166), such as DK, SE or DE",
    r"^[a-z0-9_]+$": "a focus area's name: write lower case a-z, digits and _ ({example}); "
                     "its label: is the name people read",
    r"^[a-z0-9][a-z0-9_-]*$": "a strategy's short id: write lower case a-z, digits, - and _ "
                              "({example}); organisation: is the name people read",
}
_EXAMPLES = {r"^[a-z0-9_]+$": ("climate_adaptation", "_"), r"^[a-z0-9][a-z0-9_-]*$": ("greentech-dk", "-")}
def _as_name(value: Any, pattern: str) -> str:
    """``value`` written as the pattern wants it ("Fødevarer og bio" -> foedevarer_og_bio), or the
    pattern's fixed example when nothing of it is left."""
    example, space = _EXAMPLES[pattern]
    if not isinstance(value, str):
        return example
    text = re.sub(r"[\s_-]+", space, spelt_out(value).strip())
    name = re.sub(r"[^a-z0-9_-]" if space == "-" else r"[^a-z0-9_]", "", text).strip("_-")
    return name if name and re.fullmatch(pattern, name) else example


# what a source type is called elsewhere: the kind of page or file it reads
_TYPE_WORDS = {"rss": "feed", "atom": "feed", "ics": "ical", "icalendar": "ical", "calendar": "ical",
               "html": "html_list", "list": "html_list", "page": "page_watch", "webpage": "page_watch"}


def _key_words(key: str) -> list[str]:
    return sorted(re.split(r"[\s_-]+", key.casefold().strip()))


def _meant_key(error: dict[str, Any], model: type[BaseModel], data: Any) -> str | None:
    """The key an unknown key (an ``extra_forbidden`` error) is a slip for, from the keys of its own
    section (max_pages, a source's, is no rule), or None: one spelt right in the wrong place is none."""
    loc = _without_tags(data, tuple(error["loc"]))
    unknown, known = (str(loc[-1]) if loc else "?"), _known_keys(model)
    if unknown in known:
        return None
    # the words of a key in another order ("max_budget" for budget_max) before the letters' likeness
    candidates = sorted(set(_section_fields(model, loc) or known) - {unknown})
    close = [c for c in candidates if _key_words(c) == _key_words(unknown)] \
        or difflib.get_close_matches(unknown[:100], candidates, n=1)
    return close[0] if close else None


def _message(error: dict[str, Any], model: type[BaseModel], data: Any = None) -> tuple[str, str]:
    loc = _without_tags(data, tuple(error["loc"]))
    keys = [str(part) for part in loc if not isinstance(part, int)]
    key = ".".join(_key_part(p) for p in loc).replace(".[", "[")
    kind = error["type"]
    if kind == "missing":
        return key, "required key is missing"
    if kind == "thousands_point":  # the message shows the number as written, and what to write
        return key, error["msg"]
    if kind == "extra_forbidden":
        unknown = keys[-1] if keys else "?"
        known = _known_keys(model)
        section = _section_fields(model, loc)
        close = _meant_key(error, model, data)
        if unknown in known:  # spelt right, in the wrong place: "did you mean" itself would not help
            hint = "; it belongs to another section or source type: check the indentation, or remove it here"
        elif close:
            hint = f"; did you mean {close!r}?"
        elif keys[:1] == ["rules"] and len(keys) == 2:
            hint = f"; remove it or check the spelling: the rules are {', '.join(section)}"
        else:
            hint = "; remove it or check the spelling"
        return key, f"unknown key {_shown(unknown, 40)}{hint}"
    if kind == "too_short":
        what = "focus area needs at least one keyword" if keys and keys[-1] == "keywords" \
            else "must not be empty"
        return key, what
    if kind == "union_tag_invalid":
        given = str((error.get("ctx") or {}).get("tag", ""))
        types = _source_types(model)
        close = [_TYPE_WORDS[given.casefold()]] if given.casefold() in _TYPE_WORDS else \
            difflib.get_close_matches(given[:100], types.split(", "), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{key}.type", f"unknown source type {_shown(given, 40)}; {hint}expected one of {types}"
    if kind == "list_type" and isinstance(given := error.get("input"), str):  # "none" for a rule: no brackets
        return key, f"expected a list, got {_describe(given)}{list_hint(given, rule=keys[:1] == ['rules'])}"
    if kind == "model_type":  # the file (or a section) is a single value or a list, not key: value lines
        return key, f"expected key: value lines, got {_describe(error.get('input'))}"
    if kind == "union_tag_not_found":
        if tuple(loc) == ("sources", "sources"):  # a ready-made file of config/sources/ pasted whole
            return key, ("a source named 'sources': the copied file's own 'sources:' line came along; "
                         "keep only the entries under it, indented as the other sources")
        return key, f"source needs a type: one of {_source_types(model)}"
    msg = error["msg"].removeprefix("Value error, ")
    msg = msg[0].lower() + msg[1:] if msg else msg
    value = error.get("input")
    if kind == "string_pattern_mismatch":
        pattern = str((error.get("ctx") or {}).get("pattern", ""))
        said = _PATTERNS.get(pattern)
        if said:
            example = _as_name(value, pattern) if pattern in _EXAMPLES else ""
            return key, f"{_describe(value)} is not {said.format(example=example)}"
    if value is None and keys and keys[-1] == "channel":  # channel: #name, unquoted, is a comment
        return key, "no channel name: a # starts a comment in YAML, so quote the name: \"#eu-funding\""
    if isinstance(value, str) and repr(value) in msg:
        return key, msg  # the message quotes the value already
    if kind == "value_error" and (hasattr(value, "items") or isinstance(value, list)):
        return key, msg  # a check across a section's keys or a list's entries: the message names them
    hint = number_hint(kind, error.get("ctx") or {}, value)
    if keys and keys[-1] == "min_weeks_before_deadline" and kind == "float_parsing" \
            and isinstance(value, str):
        hint = f"; {weeks_hint(value)}"
    if keys[:1] == ["rules"] and kind in ("float_parsing", "int_parsing") and no_rule_hint(value):
        hint = no_rule_hint(value)
    if keys and keys[-1] == "alert_threshold" and kind == "float_parsing" and not hint:  # 'høj'
        hint = ("; a score from 0 to 1: write 0.3 to alert about calls scoring 0.3 or more (the default "
                "is 0.4)")
    return key, f"{msg}, got {_describe(value)}{hint}{text_hint(kind, value)}"


def validate_yaml(data: Any, model: type[BaseModel], name: str) -> Any:
    try:
        return model.model_validate(data if data is not None else {})
    except PydanticValidationError as exc:
        # an unknown key usually explains a "missing" one (a misspelling): report it first
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        # ... and is no problem of its own: "keywrds" says all there is of a missing "keywords" (only
        # of the key it is a slip for: "colour" says nothing of a missing "label")
        meant = {(*e["loc"][:-1], key) for e in errors if e["type"] == "extra_forbidden"
                 and (key := _meant_key(e, model, data)) is not None}
        errors = [e for e in errors if e["type"] != "missing" or tuple(e["loc"]) not in meant]
        first = errors[0]
        key, message = _message(first, model, data)
        if (more := len(errors) - 1) > 0:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise ConfigError(message, path=name, line=_line_of(data, _error_loc(first)), key=key or None,
                          more=[_problem_line(error, model, data, name) for error in errors[1:]]) from None


def _error_loc(error: Any) -> tuple[Any, ...]:
    # an unknown source type is the line of its type key, which the error's path stops before
    return (*error["loc"], "type") if error["type"] == "union_tag_invalid" else tuple(error["loc"])


def _problem_line(error: Any, model: type[BaseModel], data: Any, name: str) -> str:
    """One more problem of the file as ``file:line: key: what``, as config check lists them all."""
    key, message = _message(error, model, data)
    line = _line_of(data, _error_loc(error))
    return f"{name}{f':{line}' if line is not None else ''}: {key + ': ' if key else ''}{message}"
