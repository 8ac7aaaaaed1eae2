"""Editing a focus area's keywords in the strategy YAML in place, keeping every other byte.

ruamel.yaml parses the file and tells where the ``keywords`` node starts; the new list is then written
back into those lines only. We don't let ruamel re-emit the whole document because its emitter re-flows
every multi-line flow sequence (``[a, b,\\n   c]``) in the file, which would change lines the
secretariat never touched; splicing the one node keeps comments and layout byte for byte elsewhere.
The result is validated as a whole before it is returned.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.core.config import Strategy, parse_yaml_text, validate_yaml
from pipeline.core.errors import ValidationError
from pipeline.core.text import unknown_focus_area

WIDTH = 100


def _flow_end(lines: list[str], line: int, col: int) -> tuple[int, int]:
    """(line, column) of the ``]`` closing the flow sequence opening at (line, col)."""
    depth, quote = 0, ""
    for index in range(line, len(lines)):
        text = lines[index]
        start = col if index == line else 0
        for position in range(start, len(text)):
            char = text[position]
            if quote:
                if char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char == "#" and (position == 0 or text[position - 1] in " \t"):
                break  # a comment: rest of the line
            elif char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
                if depth == 0:
                    return index, position
    raise ValidationError("the keywords list has no closing ']'; fix the YAML first")


def _scalar(term: str) -> str:
    plain_ok = term == term.strip() and not any(c in term for c in ",[]{}#:&*!|>'\"%@`") \
        and term[:1] not in "-?"
    return term if plain_ok else '"' + term.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _render_flow(prefix: str, terms: Sequence[str]) -> list[str]:
    """``prefix`` is the text before ``[`` on the first line; continuation lines align after ``[``."""
    indent = " " * (len(prefix) + 1)
    lines, current = [], prefix + "["
    for position, term in enumerate(terms):
        piece = _scalar(term) + ("," if position < len(terms) - 1 else "]")
        candidate = current + ("" if current.endswith("[") else " ") + piece
        if len(candidate) > WIDTH and not current.endswith("["):
            lines.append(current)
            current = indent + piece
        else:
            current = candidate
    if not terms:
        current += "]"
    lines.append(current)
    return lines


def edit_keywords(text: str, area: str, *, add: Sequence[str] = (), remove: Sequence[str] = (),
                  name: str = "strategy config") -> str:
    """The YAML ``text`` with ``add`` appended to and ``remove`` taken from ``area``'s keywords."""
    data = parse_yaml_text(text, name)
    areas = data.get("focus_areas") if hasattr(data, "get") else None
    if not hasattr(areas, "get") or area not in areas:
        raise ValidationError(unknown_focus_area(area, areas if hasattr(areas, "keys") else []))
    node = areas[area]
    if not hasattr(node, "get") or "keywords" not in node or not isinstance(node["keywords"], list):
        raise ValidationError(f"focus area {area!r} has no keywords list to edit")
    keywords = [str(k) for k in node["keywords"]]
    folded = {k.casefold() for k in keywords}
    for term in remove:
        if term.casefold() not in folded:
            raise ValidationError(f"{term!r} is not a keyword of {area!r}; its keywords are "
                                  f"{', '.join(keywords)}")
    drop = {t.casefold() for t in remove}
    new_terms = [k for k in keywords if k.casefold() not in drop]
    for term in add:
        term = " ".join(term.split())
        if not term:
            raise ValidationError("a keyword cannot be empty")
        if term.casefold() not in {k.casefold() for k in new_terms}:
            new_terms.append(term)
    if new_terms == keywords:
        return text

    lines = text.splitlines(keepends=True)
    bare = [line.rstrip("\r\n") for line in lines]
    seq = node["keywords"]
    if seq.fa.flow_style():
        start_line, start_col = node.lc.value("keywords")
        end_line, end_col = _flow_end(bare, start_line, start_col)
        prefix = bare[start_line][:start_col]
        suffix = bare[end_line][end_col + 1:]
        rendered = _render_flow(prefix, new_terms)
        rendered[-1] += suffix
    else:  # block sequence: kept items keep their lines (and comments); new ones follow the last
        if not keywords:
            raise ValidationError(f"focus area {area!r} has an empty keywords list; add a keyword by hand")
        start_line, end_line = seq.lc.item(0)[0], seq.lc.item(len(keywords) - 1)[0]
        dash_col = seq.lc.item(0)[1] - 2
        rendered = [bare[seq.lc.item(i)[0]] for i, k in enumerate(keywords) if k.casefold() not in drop]
        rendered += [" " * dash_col + "- " + _scalar(term) for term in new_terms
                     if term.casefold() not in folded]
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    replaced = [line + newline for line in rendered]
    tail_newline = lines[end_line].endswith(("\n", "\r")) if end_line < len(lines) else True
    if not tail_newline:
        replaced[-1] = replaced[-1].rstrip("\r\n")
    new_text = "".join(lines[:start_line] + replaced + lines[end_line + 1:])
    validate_yaml(parse_yaml_text(new_text, name), Strategy, name)
    return new_text
