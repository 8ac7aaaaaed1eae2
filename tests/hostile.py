"""Hypothesis strategies for hostile input, shared by the tests/test_properties*.py files.

Two kinds of input: arbitrary text and bytes, and *structured mutations* of real recorded samples
(a JSON tree with keys dropped, wrong types, lists where strings are expected, huge strings, JSON
strings cut short; a text with bytes cut, spliced, repeated, made invalid UTF-8; HTML with tags left
unclosed, garbage links and dates). :func:`own_errors_only` states the property every parser must
keep: return a result, or raise one of fundradar's own errors with a one-line message.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from hypothesis import strategies as st

from pipeline.core.errors import FundradarError

T = TypeVar("T")
# examples per property; FUNDRADAR_HYPOTHESIS_EXAMPLES=5000 for a long hunt (the suite uses 150)
EXAMPLES = int(os.environ.get("FUNDRADAR_HYPOTHESIS_EXAMPLES", "150"))
MAX_MESSAGE = 1000  # a "one-line message" a person can read; user input quoted in it is shortened


def own_errors_only(expected: type[FundradarError], call: Callable[[], T]) -> T | FundradarError:
    """The result of ``call()``, or the fundradar error it raised (of class ``expected``) after
    checking its message is one non-empty line of readable length. Any other exception propagates,
    so hypothesis reports it as the failure."""
    try:
        return call()
    except FundradarError as exc:
        message = str(exc)
        assert isinstance(exc, expected), f"{type(exc).__name__} instead of {expected.__name__}: {message}"
        assert message.strip(), f"{type(exc).__name__} with an empty message"
        assert "\n" not in message and "\r" not in message, f"message of several lines: {message!r}"
        assert len(message) <= MAX_MESSAGE, f"message of {len(message)} characters: {message[:200]!r}…"
        return exc


# --- values ---------------------------------------------------------------------------------------

def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


# date-like strings as the sources write them, including the extremes of datetime's range
SEDIA_MOMENTS = st.builds(
    lambda moment, minutes, style: (
        moment.strftime("%Y-%m-%d") if style == 0 else
        f"{moment.isoformat(timespec='milliseconds')}Z" if style == 1 else
        f"{moment.isoformat(timespec='milliseconds')}{_offset_text(minutes)}"),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.integers(-23 * 60 - 59, 23 * 60 + 59), st.integers(0, 2))
EXTREME_MOMENTS = st.sampled_from([
    "0001-01-01T00:00:00.000+0100", "0001-01-01T00:00:00.000+2359", "9999-12-31T23:59:59.000-2359",
    "9999-12-31T00:00:00.000+0000", "0001-01-01", "9999-12-31", "0000-00-00", "2026-02-30",
    "2026-13-01T00:00:00.000+0000", "2026-01-01T25:00:00.000+0000", "T", "-", "2026-01-01T00:00:00+99"])
CET_DATES = st.one_of(
    st.builds(lambda d, m, y, hh, mm: f"{d}.{m}.{y} {hh}:{mm}", st.integers(0, 99), st.integers(0, 99),
              st.integers(0, 9999).map(lambda y: f"{y:04d}"), st.integers(0, 99), st.integers(0, 99)),
    st.sampled_from(["01.01.0001 00:30", "01.01.0001", "31.12.9999 23:59", "31.02.2026", "29.02.2025 17:00",
                     "00.00.0000 00:00"]))
NUMBERS = st.one_of(
    st.integers(), st.integers(min_value=-2**80, max_value=2**80), st.floats(),
    st.sampled_from([float("inf"), float("-inf"), float("nan"), 1e308, -0.0, 2**63, -(2**63) - 1]))
NUMBER_TEXT = st.one_of(NUMBERS.map(str), st.sampled_from(["1e999", "-1e999", "NaN", "Infinity", "9" * 400,
                                                         "1,000,000.00", "€ 40,000,000.00", "1.2.3", ""]))
HUGE = st.builds(lambda unit, n: unit * n,
                 st.sampled_from(["x", "é", "\u200b", " ", "<p>", "<div>", "<b><i>", "[", "{", '{"action":"',
                                  "\\", "\x00", "🙂", "&amp;", "<![CDATA[", "<!--"]),
                 st.integers(1_000, 20_000))
HTMLISH = st.one_of(
    st.sampled_from(["<p>unclosed", "</div></div></p>", "<ul><li><ul><li>deep", "<sup>[1]</sup>",
                     "<table><tr><td>x", "<script>alert(1)</script>", "<br/><br>", "<!-- open comment",
                     "<a href='javascript:x'>x</a>", "&#xFFFFFF;&#0;&bogus;",
                     "<p class=topicdescriptionkind>"]),
    st.lists(st.sampled_from(["<p>", "</p>", "<ul>", "<li>", "</ul>", "<div>", "<sup>", "text", "&nbsp;",
                              "<br>", "<ol>", "</li>", "<h1>", "<table>", "<td>"]),
             max_size=30).map("".join))
TEXT = st.one_of(st.text(max_size=40), st.text(st.characters(codec="utf-8"), max_size=40))
LEAVES = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT, SEDIA_MOMENTS, EXTREME_MOMENTS, NUMBER_TEXT,
                   HTMLISH, st.just(""), st.sampled_from(["[", "[]", "{}", "[\"a\", 1", '{"a":', "null"]))
GARBAGE = st.recursive(
    st.one_of(LEAVES, HUGE),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=6)
NESTED = st.builds(lambda opening, depth: opening * depth,
                   st.sampled_from(["[", "{\"a\":", "[{\"b\":[", "<div>", "<ul><li>"]),
                   st.integers(300, 20_000))


# --- JSON trees -----------------------------------------------------------------------------------

def _mutate_leaf(draw: Any, value: Any) -> Any:
    op = draw(st.integers(0, 9))
    if op == 0:
        return [value]  # a list where a string is expected
    if op == 1 and isinstance(value, str) and value:
        return value[:draw(st.integers(0, len(value) - 1))]  # cut short
    if op == 2 and isinstance(value, str) and value[:1] in "[{":
        try:
            inner = json.loads(value)  # JSON held in a string (SEDIA's actions, budgetOverview)
        except (ValueError, RecursionError):
            inner = None
        if isinstance(inner, (dict, list)):
            return json.dumps(_mutate(draw, inner))
    if op == 3:
        return draw(HUGE)
    if op == 4:
        return draw(NESTED)
    if op == 5:
        return draw(SEDIA_MOMENTS | EXTREME_MOMENTS)
    if op == 6:
        return draw(NUMBERS | NUMBER_TEXT)
    if op == 7:
        return draw(HTMLISH)
    return draw(GARBAGE)


def _mutate(draw: Any, node: Any) -> Any:
    """One mutation somewhere in ``node`` (changed in place where possible; returns the new node)."""
    if isinstance(node, dict) and node:
        key = draw(st.sampled_from(sorted(node, key=str)))
        op = draw(st.integers(0, 9))
        if op <= 5:
            node[key] = _mutate(draw, node[key])
        elif op == 6:
            del node[key]  # a key dropped
        elif op == 7:
            node[key] = draw(GARBAGE)  # a wrong type
        elif op == 8:
            node[draw(TEXT)] = draw(GARBAGE)  # an unexpected key
        else:
            return draw(GARBAGE)  # the whole object replaced
        return node
    if isinstance(node, list) and node:
        index = draw(st.integers(0, len(node) - 1))
        op = draw(st.integers(0, 9))
        if op <= 5:
            node[index] = _mutate(draw, node[index])
        elif op == 6:
            del node[index]
        elif op == 7:
            node[index] = draw(GARBAGE)
        elif op == 8:
            node.extend(copy.deepcopy(node[:draw(st.integers(1, 3))]))  # repeated items
        else:
            return node[0] if draw(st.booleans()) else {}  # a string (or object) where a list is expected
        return node
    return _mutate_leaf(draw, node)


@st.composite
def mutated_json(draw: Any, document: Any, max_mutations: int = 4) -> Any:
    """A copy of ``document`` with 1..max_mutations structured mutations."""
    node = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, max_mutations))):
        node = _mutate(draw, node)
    return node


# --- bytes and text -------------------------------------------------------------------------------

INVALID_UTF8 = st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf",
                                b"\xf8\x88\x80\x80\x80", b"\x00", b"\xef\xbb\xbf"])


@st.composite
def mutated_bytes(draw: Any, sample: bytes, max_mutations: int = 3) -> bytes:
    """``sample`` cut at a random offset, with bytes spliced in, slices deleted or repeated, invalid
    UTF-8 and huge runs inserted."""
    data = sample
    for _ in range(draw(st.integers(1, max_mutations))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.integers(0, 6))
        if op == 0:
            data = data[:at]  # truncated
        elif op == 1:
            data = data[:at] + draw(st.binary(max_size=40)) + data[at:]
        elif op == 2:
            data = data[:at] + draw(INVALID_UTF8) + data[at:]
        elif op == 3:
            data = data[:at] + data[at + draw(st.integers(1, 400)):]  # a slice missing
        elif op == 4:
            end = min(len(data), at + draw(st.integers(1, 400)))
            data = data[:at] + data[at:end] * draw(st.integers(2, 5)) + data[at:]  # repeated
        elif op == 5:
            data = data[:at] + draw(HUGE).encode("utf-8") + data[at:]
        else:
            data = data[:at] + draw(NESTED).encode("utf-8") + data[at:]
    return data


_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^<>]*>")
_HREF = re.compile(rb'href="[^"]*"')
_DOTTED_DATE = re.compile(rb"\d{1,2}\.\d{1,2}\.\d{4}(?: \d{1,2}:\d{2})?")
GARBAGE_HREFS = st.sampled_from(["http://[", "http://[::1", "https://x:99999999/", "//", "",
                                 "javascript:void(0)", "/en/calls/", "/en/calls/9999999999999999999999/x",
                                 "http://a b/", "\x00",
                                 "/calls/12?utm_source=x&&&=&", "%", "https://%zz/", "mailto:",
                                 "https://www.euro-access.eu/en/calls/1/" + "x" * 5000])
GARBAGE_TAGS = st.sampled_from(['<a rel="next" href="http://[">next</a>', '<link rel="next">',
                                '<nav aria-label="pagination"><a href="?page=2">»</a>', "<tr><td>",
                                '<div class="tr deadline"><p class="title">deadlines</p><p>x',
                                '<div id="calldata">', '<table id="calls-overview"><tbody><tr>', "</table>",
                                "<h4>Eligibility</h4>", '<p class="title">', "<td><a href=", "<!--",
                                "<![CDATA[", "</width>", "<height>x</height>",
                                '<feed xmlns="http://www.w3.org/2005/Atom">',
                                "<entry><title>Call for proposals</title><updated>0000-00-00</updated>",
                                '<content type="html">&lt;p&gt;deadline 1.1.0001', "<item><title>",
                                "</channel>", '<?xml version="1.0" encoding="utf-16"?>',
                                '<!DOCTYPE x [<!ENTITY a "aaaa">]>&a;&a;'])


@st.composite
def mutated_html(draw: Any, sample: bytes, max_mutations: int = 4) -> bytes:
    """HTML with closing (or opening) tags removed, links and dates replaced with garbage, garbage
    tags inserted, or the byte-level mutations of :func:`mutated_bytes`."""
    data = sample
    for _ in range(draw(st.integers(1, max_mutations))):
        op = draw(st.integers(0, 5))
        tags = list(_TAG.finditer(data))
        if op == 0 and tags:  # some tags dropped: unclosed elements, stray closers
            dropped = set(draw(st.lists(st.integers(0, len(tags) - 1), max_size=40)))
            kept, last = [], 0
            for index, match in enumerate(tags):
                if index in dropped:
                    kept.append(data[last:match.start()])
                    last = match.end()
            data = b"".join(kept) + data[last:]
        elif op == 1:
            hrefs = list(_HREF.finditer(data))
            if hrefs:
                match = hrefs[draw(st.integers(0, len(hrefs) - 1))]
                new = f'href="{draw(GARBAGE_HREFS)}"'.encode()
                data = data[:match.start()] + new + data[match.end():]
        elif op == 2:
            dates = list(_DOTTED_DATE.finditer(data))
            if dates:
                match = dates[draw(st.integers(0, len(dates) - 1))]
                garbage = draw(CET_DATES | TEXT | NUMBER_TEXT).encode()
                data = data[:match.start()] + garbage + data[match.end():]
        elif op == 3:
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(GARBAGE_TAGS | HTMLISH).encode() + data[at:]
        elif op == 4 and tags:  # the text between two tags replaced
            match = tags[draw(st.integers(0, len(tags) - 1))]
            end = data.find(b"<", match.end())
            end = len(data) if end < 0 else end
            data = data[:match.end()] + draw(TEXT | CET_DATES | NUMBER_TEXT | HUGE).encode() + data[end:]
        else:
            data = draw(mutated_bytes(data, max_mutations=1))
    return data


def decode(data: bytes) -> str:
    """Bytes as the HTTP client would give them to a parser: UTF-8 with replacement characters."""
    return data.decode("utf-8", errors="replace")

