"""The page watch without lxml_html_clean (which pip may leave out): a one-line source failure
naming the package, in a fresh interpreter where that package cannot be imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.localserver import LocalServer, Reply

PAGE = Path(__file__).parent / "fixtures" / "page_watch" / "bsr_stars.html"
SCRIPT = """
import sys
sys.modules["lxml_html_clean"] = None  # as if it were not installed: importing it fails
from datetime import UTC, datetime
from pipeline.core.config import PageWatchSource
from pipeline.core.errors import SourceError
from watcher.http import make_client
from watcher.sources.page_watch import PageWatchAdapter

cfg = PageWatchSource(type="page_watch", pages=[sys.argv[1]])
try:
    with make_client(retries=0) as client:
        PageWatchAdapter("ie", cfg, None).fetch(client, datetime(2026, 3, 1, tzinfo=UTC))
except SourceError as exc:
    print(exc)
"""


def test_a_missing_lxml_html_clean_is_a_one_line_source_failure(server: LocalServer) -> None:
    server.route("GET", "/ie/", lambda r: Reply(200, PAGE.read_bytes(), {"Content-Type": "text/html"}))
    run = subprocess.run([sys.executable, "-c", SCRIPT, server.url("/ie/")], capture_output=True, text=True,
                         timeout=120, cwd=Path(__file__).parent.parent)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ("source 'ie': no watched page could be read (cannot extract page text: the "
                          "package lxml_html_clean is not installed; install it with pip install "
                          "lxml_html_clean)\n")
