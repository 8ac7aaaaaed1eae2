"""Applications: workflow, history, and the deadline that follows the call (library, real SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pipeline import applications as apps
from pipeline.core.clock import BRUSSELS, UTC
from pipeline.core.config import load_config, load_strategy
from pipeline.core.db import session_scope
from pipeline.core.deadlines import current_deadline
from pipeline.core.errors import NotFoundError, TransitionError, ValidationError
from pipeline.core.models import Application, ApplicationEvent, Call
from pipeline.ideas import create_idea
from pipeline.partners import PartnerInput, create_partner
from watcher.records import CallRecord, Deadline
from watcher.store import begin_run, finish_run

NOW = datetime(2026, 8, 22, 7, 0, tzinfo=UTC)  # 09:00 in Brussels


def brussels(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BRUSSELS)


def bsr_call(deadline: str = "2026-10-15T12:00") -> CallRecord:
    return CallRecord(
        external_id="ea-bsr-small-2026", programme="Interreg Baltic Sea Region",
        title="Small projects: green shipping and ports in the Baltic Sea Region",
        text="Small projects on hydrogen bunkering in ports, zero-emission vessels and alternative "
             "fuels for short sea shipping.",
        url="https://www.euro-access.eu/en/calls/1234", type_of_action="Interreg",
        deadlines=(Deadline(brussels(deadline)),), max_contribution=500_000)


def horizon_call() -> CallRecord:
    return CallRecord(
        external_id="HORIZON-CL5-2027-03-D5-05", topic_id="HORIZON-CL5-2027-03-D5-05",
        call_id="HORIZON-CL5-2027-03", programme="Horizon Europe",
        title="Zero-emission waterborne transport demonstrators",
        text="Demonstrate zero-emission vessels and offshore wind powered port energy systems.",
        type_of_action="HORIZON Innovation Actions",
        deadlines=(Deadline(brussels("2026-11-04T17:00")), Deadline(brussels("2027-03-10T17:00"))),
        max_contribution=8_000_000)


def closed_call() -> CallRecord:
    return CallRecord(external_id="ea-closed", programme="Interreg North Sea", title="A call that closed",
                      deadlines=(Deadline(brussels("2026-06-01T12:00")),), status="open")


def sync(engine: Engine, source: str, records: Sequence[CallRecord], now: datetime = NOW) -> None:
    """Write records exactly as a sync run does (watcher.store)."""
    run_id = begin_run(engine, source, now, type_="test")
    finish_run(engine, run_id, records, now, complete=False)


def seed(engine: Engine) -> dict[str, int]:
    """Two open calls, a closed one, an idea and two partners; returns their ids."""
    sync(engine, "euro_access", [bsr_call(), closed_call()])
    sync(engine, "eu_ft", [horizon_call()])
    strategy = load_strategy()
    with session_scope(engine) as session:
        ids = {c.external_id: c.id for c in session.exec(select(Call))}
        idea = create_idea(session, title="Hydrogen ferries", strategy=strategy, now=NOW, owner="anna",
                           description="Hydrogen bunkering in ports for zero-emission ferries",
                           focus_areas=["green_maritime"], target_countries=["SE", "DE"])
        rise = create_partner(session, PartnerInput("RISE", "SE", "rto", "999981234",
                                                    competences=["hydrogen", "ports"]), NOW)
        kiel = create_partner(session, PartnerInput("Kiel University", "DE", "university",
                                                    competences=["shipping"]), NOW)
        return {"bsr": ids["ea-bsr-small-2026"], "horizon": ids["HORIZON-CL5-2027-03-D5-05"],
                "closed": ids["ea-closed"], "idea": idea.id, "rise": rise.id, "kiel": kiel.id}


def test_workflow_and_history(engine: Engine) -> None:
    ids = seed(engine)
    with session_scope(engine) as session:
        app = apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]), now=NOW,
                                      requested_amount=250_000, members=[f"{ids['rise']}:partner"],
                                      by="anna")
        app_id = app.id
    steps = ["consortium", "writing", "consortium", "writing", "submitted", "granted"]
    for n, status in enumerate(steps):
        with session_scope(engine) as session:
            apps.move(session, app_id, status, NOW + timedelta(hours=n + 1), by="bo", note=f"step {n}")
    with Session(engine) as session:
        app = session.get(Application, app_id)
        assert app is not None and app.status == "granted" and app.granted_amount == 250_000
        history = [(e.by, e.from_status, e.to_status, e.note) for e in apps.events(session, app)]
    assert history[:2] == [("anna", None, "draft", f"created for call #{ids['bsr']}"),
                           ("anna", None, None, f"partner #{ids['rise']} RISE joined as partner")]
    assert [h[2] for h in history[2:]] == steps
    with session_scope(engine) as session, pytest.raises(TransitionError) as err:
        apps.move(session, app_id, "writing", NOW, by="bo")
    assert str(err.value) == f"application #{app_id} cannot move from granted to writing; granted is final"


@pytest.mark.parametrize(("path", "target", "allowed"), [
    ([], "submitted", "from draft it can go to consortium, withdrawn"),
    (["consortium", "writing", "submitted"], "draft", "from submitted it can go to granted, rejected, "
                                                     "withdrawn"),
])
def test_illegal_transitions(engine: Engine, path: list[str], target: str, allowed: str) -> None:
    ids = seed(engine)
    with session_scope(engine) as session:
        app_id = apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]),
                                         now=NOW, by="anna").id
        for status in path:
            apps.move(session, app_id, status, NOW, by="anna")
    with session_scope(engine) as session, pytest.raises(TransitionError) as err:
        apps.move(session, app_id, target, NOW, by="anna")
    assert allowed in str(err.value)
    with Session(engine) as session:  # the failed move left nothing behind
        assert session.get(Application, app_id).status == (path[-1] if path else "draft")


def test_withdrawn_from_any_non_final_state(engine: Engine) -> None:
    ids = seed(engine)
    for status in ("draft", "consortium", "writing", "submitted"):
        assert "withdrawn" in apps.TRANSITIONS[status]
    with session_scope(engine) as session:
        app_id = apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]),
                                         now=NOW, by="anna").id
        apps.move(session, app_id, "withdrawn", NOW, by="anna", note="partner left")
    with session_scope(engine) as session, pytest.raises(TransitionError):
        apps.move(session, app_id, "draft", NOW, by="anna")


def test_bad_input(engine: Engine) -> None:
    ids = seed(engine)
    with session_scope(engine) as session:
        with pytest.raises(NotFoundError, match="no idea with id 99"):
            apps.create_application(session, idea_id="#99", call_key=str(ids["bsr"]), now=NOW)
        with pytest.raises(ValidationError, match="unknown role 'lead'"):
            apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]), now=NOW,
                                    role="lead")
        with pytest.raises(ValidationError, match="requested amount must be a number of euros from 0 to"):
            apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]), now=NOW,
                                    requested_amount=-5)
    with session_scope(engine) as session:
        apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]), now=NOW)
    with session_scope(engine) as session, pytest.raises(ValidationError, match="already has application"):
        apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]), now=NOW)


def test_moved_call_deadline_is_flagged_until_acknowledged(engine: Engine) -> None:
    ids = seed(engine)
    with session_scope(engine) as session:
        app_id = apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]),
                                         now=NOW, by="anna").id
    later = NOW + timedelta(days=3)
    with session_scope(engine) as session:
        assert apps.follow_call_deadlines(session, later) == []  # nothing moved yet
    sync(engine, "euro_access", [bsr_call("2026-10-29T12:00")], later)  # the programme extends it
    with session_scope(engine) as session:
        moves = apps.follow_call_deadlines(session, later)
        assert [(m.application_id, m.sequence) for m in moves] == [(app_id, 1)]
    with session_scope(engine) as session:
        assert apps.follow_call_deadlines(session, later) == []  # idempotent
    with Session(engine) as session:
        app = session.get(Application, app_id)
        assert app is not None and app.deadline_flagged and app.deadline_sequence == 1
        call = session.get(Call, ids["bsr"])
        assert current_deadline(call, later) == brussels("2026-10-29T12:00")
        note = session.exec(select(ApplicationEvent.note).order_by(ApplicationEvent.id.desc())).first()
    assert note == "call deadline moved: 2026-10-15 12:00 -> 2026-10-29 12:00"
    with session_scope(engine) as session:
        assert apps.acknowledge(session, app_id, later, by="anna") is True
        assert apps.acknowledge(session, app_id, later, by="anna") is False
    with Session(engine) as session:
        app = session.get(Application, app_id)
        assert app is not None and not app.deadline_flagged and app.deadline_sequence == 1
        assert app.known_deadline == brussels("2026-10-29T12:00")


@pytest.mark.postgres
def test_workflow_and_deadline_on_postgresql(pg_url: str) -> None:
    from pipeline.core.db import open_database

    engine = open_database(pg_url)
    try:
        ids = seed(engine)
        with session_scope(engine) as session:
            app_id = apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]),
                                             now=NOW, by="anna", members=[str(ids["rise"])]).id
            apps.move(session, app_id, "consortium", NOW, by="anna")
        sync(engine, "euro_access", [bsr_call("2026-10-29T12:00")], NOW + timedelta(days=1))
        with session_scope(engine) as session:
            assert [m.sequence for m in apps.follow_call_deadlines(session, NOW + timedelta(days=1))] == [1]
        with Session(engine) as session:
            app = session.get(Application, app_id)
            assert app is not None and app.deadline_flagged and app.status == "consortium"
            assert [role for _, role in apps.members(session, app)] == ["partner"]
    finally:
        engine.dispose()


def test_a_consortium_is_checked_whole_before_anything_is_written(engine: Engine) -> None:
    ids = seed(engine)
    rise, kiel = ids["rise"], ids["kiel"]
    cases = [
        ({"members": [str(rise), f"#{rise}:coordinator"]}, f"partner #{rise} is given twice"),
        ({"members": [f"{rise}:coordinator"]},
         f"our role is coordinator and so is partner #{rise}'s; give #{rise} another role"),
        ({"members": [f"{rise}:coordinator", f"{kiel}:coordinator"], "role": "partner"},
         f"partners #{rise} and #{kiel} are both given as coordinator"),
        ({"members": [str(rise), "99"]}, "no partner with id 99"),
    ]
    for kwargs, message in cases:
        with pytest.raises((ValidationError, NotFoundError), match=message), session_scope(engine) as session:
            apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]), now=NOW, **kwargs)
    with Session(engine) as session:  # nothing half-written: no application, no event, no member
        assert session.exec(select(Application)).all() == []
        assert session.exec(select(ApplicationEvent)).all() == []
    with session_scope(engine) as session:
        app = apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]), now=NOW,
                                      role="partner", members=[f"{rise}:coordinator", str(kiel)])
        with pytest.raises(ValidationError, match=f"already in application #{app.id}'s consortium"):
            apps.add_member(session, app, str(kiel), NOW)
        with pytest.raises(ValidationError, match=f"our role is coordinator and so is partner #{rise}'s"):
            apps.edit_application(session, app.id, NOW, role="coordinator")
        # a removal comes first, so a partner's role can change in one step
        apps.change_consortium(session, app, NOW, remove=[str(rise)], add=[f"{rise}:partner"])
        team = [(p.id, role) for p, role in apps.members(session, app)]
        assert team == [(rise, "partner"), (kiel, "partner")]


def test_edit_corrects_fields_in_any_status_and_keeps_the_workflow(engine: Engine) -> None:
    ids = seed(engine)
    with session_scope(engine) as session:
        app = apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["bsr"]), now=NOW,
                                      requested_amount=400_000, by="anna")
        for status in ("consortium", "writing", "submitted", "granted"):
            apps.move(session, app.id, status, NOW, by="anna")
        app_id = app.id
    with session_scope(engine) as session:
        app, changes = apps.edit_application(session, app_id, NOW, requested_amount=420_000,
                                             granted_amount=380_000, owner="bo", by="anna", note="signed")
        assert changes == ["requested 400,000 EUR → 420,000 EUR", "granted 400,000 EUR → 380,000 EUR",
                           "owner anna → bo"]
        assert (app.status, app.requested_amount, app.granted_amount, app.owner) == (
            "granted", 420_000, 380_000, "bo")
        assert apps.events(session, app)[-1].note == (
            "corrected: requested 400,000 EUR → 420,000 EUR; granted 400,000 EUR → 380,000 EUR; "
            "owner anna → bo; signed")
        assert apps.edit_application(session, app_id, NOW, owner="bo")[1] == []  # the same value: no change
    with session_scope(engine) as session, pytest.raises(TransitionError, match="granted is final"):
        apps.move(session, app_id, "submitted", NOW)
    with session_scope(engine) as session, pytest.raises(ValidationError, match="nothing to change"):
        apps.edit_application(session, app_id, NOW)


def test_adding_to_a_closed_call_warns_and_stores(engine: Engine) -> None:
    ids = seed(engine)
    config = load_config()
    with session_scope(engine) as session:
        app = apps.create_application(session, idea_id=ids["idea"], call_key=str(ids["closed"]), now=NOW)
        warnings = apps.add_warnings(session, app, config, NOW)
    assert warnings == [
        f"call #{ids['closed']}'s deadline 2026-06-01 12:00 (Brussels) has passed",
        "the consortium has 1 entity from 1 country; Interreg North Sea needs ≥ 3 from 3 countries "
        "(Interreg North Sea Programme Manual: at least three partners from three countries)"]
    with Session(engine) as session:
        assert len(session.exec(select(Application)).all()) == 1
