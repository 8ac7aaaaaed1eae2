"""Socket Mode envelopes not shaped as Slack sends them (a user or channel that is a string, actions
that are no list of objects, a view state of another shape, a call id beyond any id): each is ignored
with one logged line; before, each raised AttributeError or OverflowError inside the handler and
`serve` logged a traceback for it."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from pipeline.notify.interact import Interactions
from tests.slack_data import NOW, add_call, loaded

CHANNEL = {"id": "C0EUFUND01", "name": "eu-fundraising"}


def _click(name: str, **fields: Any) -> dict[str, Any]:
    return {"type": "block_actions", "user": {"id": "U1"}, "channel": CHANNEL,
            "actions": [{"action_id": "fr:relevant:1", "value": f"{name}:1"}], **fields}


@pytest.mark.parametrize("change, reason", [
    ({"actions": "fr:relevant:1"}, "its actions are not a list of objects"),
    ({"actions": ["x", 5]}, "its actions are not a list of objects"),
    ({"actions": [{"action_id": "fr:more:1", "selected_option": "idea"}]},
     "its actions are not a list of objects"),
    ({"user": "U1"}, "its user is not an object"),
    ({"channel": "C0EUFUND01"}, "its channel is not an object"),
    ({"team": ["T1"]}, "its team is not an object"),
    ({"message": [1]}, "its message is not an object"),
    ({"message": {"ts": "1.2", "blocks": "none"}}, "its message blocks are not a list of objects"),
    ({"type": "view_submission", "view": "x"}, "its view is not an object"),
    ({"type": "view_submission", "view": {"callback_id": "fr_start_idea", "state": "x"}},
     "its view state is not Slack's"),
    ({"type": "view_submission", "view": {"callback_id": "fr_start_idea",
                                          "state": {"values": {"title": ["T"]}}}},
     "its view state is not Slack's"),
])
def test_a_malformed_envelope_is_one_logged_line(engine, caplog, change: dict[str, Any], reason: str) -> None:
    add_call(engine, 1, title="Offshore wind", score=0.7)
    config = loaded()
    interactions = Interactions(engine, lambda: config.strategies, lambda strategy: None, now=lambda: NOW)
    payload = _click(config.strategies[0].name, **change)
    with caplog.at_level(logging.WARNING):
        assert interactions.ack_payload("interactive", payload) is None
        interactions.handle("interactive", payload)
    assert [r.getMessage() for r in caplog.records] == [f"ignored a Slack interactive envelope: {reason}"]


def test_a_call_id_beyond_any_id_is_no_fundradar_click(engine, caplog) -> None:
    add_call(engine, 1, title="Offshore wind", score=0.7)
    config = loaded()
    name = config.strategies[0].name
    interactions = Interactions(engine, lambda: config.strategies, lambda strategy: None, now=lambda: NOW)
    big = "99999999999999999999"
    click = _click(name, actions=[{"action_id": f"fr:relevant:{big}", "value": f"{name}:{big}"}])
    submission = {"type": "view_submission", "user": {"id": "U1"},
                  "view": {"callback_id": "fr_start_idea", "private_metadata":
                           f'{{"s": "{name}", "c": {big}, "ch": "C0EUFUND01"}}',
                           "state": {"values": {"title": {"title": {"value": "An idea"}}}}}}
    with caplog.at_level(logging.WARNING):
        interactions.handle("interactive", click)
        interactions.handle("interactive", submission)
    assert [r.getMessage() for r in caplog.records] == ["a Start idea submission without its call; ignored"]
