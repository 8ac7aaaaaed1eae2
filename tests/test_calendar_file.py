"""serve keeps each strategy's calendar file current: rewritten when an event changed, not for a new
DTSTAMP alone; a moved deadline raises SEQUENCE, a removed call is cancelled."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import icalendar

from pipeline.calendar_file import refresh_calendars
from pipeline.core.config import load_config
from pipeline.serve import Service
from tests.slack_data import CONFIG, NOW, add_application, add_call, change_status, move_deadline


def _config(tmp_path: Path, every: str = "1h"):
    path = tmp_path / "strategy.yaml"
    path.write_text(CONFIG.read_text() + f"calendar: {{path: public/deadlines.ics, every: {every}}}\n",
                    encoding="utf-8")
    (tmp_path / "public").mkdir()
    return load_config(path)


def _event(path: Path) -> icalendar.Event:
    (event,) = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    return event


def test_the_calendar_is_rewritten_only_when_an_event_changed(engine, tmp_path: Path) -> None:
    config = _config(tmp_path)
    call = add_call(engine, 1, title="R&I for offshore wind")
    app = add_application(engine, call)
    path = tmp_path / "public" / "deadlines.ics"
    assert refresh_calendars(engine, config, NOW) == {"greentech-dk": path}
    first = _event(path)
    assert str(first["UID"]) == f"application-{app}-deadline-1@fundradar"
    assert refresh_calendars(engine, config, NOW + timedelta(hours=1)) == {}  # only DTSTAMP would differ
    sequence = int(first["SEQUENCE"])
    move_deadline(engine, call, NOW + timedelta(days=40, hours=9), NOW + timedelta(hours=2))
    assert refresh_calendars(engine, config, NOW + timedelta(hours=3)) == {"greentech-dk": path}
    moved = _event(path)
    assert int(moved["SEQUENCE"]) == sequence + 1 and moved["UID"] == first["UID"]
    change_status(engine, call, "removed", NOW + timedelta(hours=4))
    assert refresh_calendars(engine, config, NOW + timedelta(hours=5)) == {"greentech-dk": path}
    gone = _event(path)
    assert (str(gone["STATUS"]), int(gone["SEQUENCE"])) == ("CANCELLED", sequence + 2)


def test_serve_schedules_the_calendar_job(engine, tmp_path: Path) -> None:
    service = Service(engine, _config(tmp_path, "30m"), reload_seconds=None)
    schedule, _tz, args = service.job_specs()["calendar:greentech-dk"]
    assert (schedule.every, args) == ("30m", ("calendar", "", "greentech-dk"))


def test_serve_writes_the_calendar_when_it_starts(engine, tmp_path: Path) -> None:
    config = _config(tmp_path)
    app = add_application(engine, add_call(engine, 1, title="R&I for offshore wind"))
    path = tmp_path / "public" / "deadlines.ics"
    service = Service(engine, config, reload_seconds=None, digests=False, now=lambda: NOW)
    service.start()
    try:
        assert str(_event(path)["UID"]) == f"application-{app}-deadline-1@fundradar"
    finally:
        service.stop()
