"""Runs pause CPython's cycle collector (watcher.runner.collector_paused) and always turn it back on,
however they end and however many overlap (the threads of ``serve``)."""

from __future__ import annotations

import gc
import threading

import pytest

from watcher.runner import collector_paused


def test_the_collector_is_off_during_a_run_and_on_after_it() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_runs_turn_it_on_when_the_last_ends() -> None:
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer run is still writing
    assert gc.isenabled()


def test_a_failing_run_turns_it_back_on() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the source failed")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_runs_in_threads_leave_it_on() -> None:
    inside = threading.Barrier(4)

    def run() -> None:
        with collector_paused():
            inside.wait(timeout=10)  # all four paused at once

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert gc.isenabled()


def test_only_a_source_that_says_so_pauses_it() -> None:
    """A scraper's BeautifulSoup trees are reference cycles: with the collector off each parsed page
    would stay in memory until the run ends."""
    from watcher.sources.eu_ft import EuFtAdapter
    from watcher.sources.euro_access import EuroAccessAdapter
    from watcher.sources.html_list import HtmlListAdapter

    assert EuFtAdapter.pauses_collector is True
    assert not getattr(EuroAccessAdapter, "pauses_collector", False)
    assert not getattr(HtmlListAdapter, "pauses_collector", False)
    with collector_paused(False):
        assert gc.isenabled()
