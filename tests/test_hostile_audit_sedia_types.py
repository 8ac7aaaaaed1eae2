"""The portal's results with a value wrapped once more than the real shape (every metadata value is
a list of strings, so a list where a string is expected is the likeliest change of that API): served
from the 2026-08-21 recording by the local server, through the real client into a real SQLite file."""

from __future__ import annotations

import copy
from typing import Any

from sqlmodel import Session, select

from pipeline.core.models import Call
from tests.test_plausibility import DAY, _one_bad, eu_ft, good_sync, portal, run  # noqa: F401


def _stored(engine) -> dict[str, tuple[Any, ...]]:
    with Session(engine) as session:
        return {c.external_id: (c.url, c.title, c.programme, c.topic_id) for c in session.exec(select(Call))}


def _wrapped(result: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(result)
    result["url"] = [result["url"]]
    meta = result["metadata"]
    for key in ("title", "frameworkProgramme", "identifier"):
        meta[key] = [meta[key]]  # [["…"]]
    return result


def test_values_wrapped_in_one_more_list_are_read_as_their_value(engine, server, portal) -> None:  # noqa: F811
    """A result whose ``url`` came as a list, or whose title or programme as a list in the list, was
    stored as the list's Python repr: the URL "['https://ec.europa.eu/…']", the title "['Approaches
    …']", the programme "['43108390']"."""
    good_sync(engine, server)
    before = _stored(engine)
    portal.mutate = _one_bad(_wrapped)
    result = run(engine, eu_ft(server), DAY)
    assert result.outcome == "ok", result.error
    after = _stored(engine)
    assert {key: value for key, value in after.items() if before.get(key) != value} == {}


def test_a_result_linking_to_a_script_keeps_its_portal_address(engine, server, portal) -> None:  # noqa: F811
    """A result whose ``url`` was "javascript:alert(1)" had it stored as the call's address (shown by
    ``calls show``, exported by ``--csv``) over the topic page its metadata names; a script or data:
    URL is no link, so the metadata's address is taken."""
    good_sync(engine, server)
    before = _stored(engine)

    def scripted(result: dict[str, Any]) -> dict[str, Any]:
        return {**copy.deepcopy(result), "url": "javascript:alert(1)"}

    portal.mutate = _one_bad(scripted)
    result = run(engine, eu_ft(server), DAY)
    assert result.outcome == "ok", result.error
    assert {key: value for key, value in _stored(engine).items() if before.get(key) != value} == {}
