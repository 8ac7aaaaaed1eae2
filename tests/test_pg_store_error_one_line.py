"""A PostgreSQL write a source run cannot store (here a CHECK constraint an administrator added; any
refused row does the same): the run fails in one line naming what the database said, and that is the
only line. Before, psycopg's own "error ignored terminating <psycopg.Pipeline [INERROR, pipeline=ON]
(host=… user=… database=…) at 0x7f…>: pipeline aborted" warning came first, an object's repr naming
the connection, for the same fault. The real server; ``fundradar sync`` in its own process, answered
from the recorded SEDIA sample."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from pipeline.core.db import open_database

ROOT = Path(__file__).resolve().parent.parent


def test_a_refused_write_is_one_warning_line_without_psycopg_s_pipeline_repr(pg_url: str, samples) -> None:
    open_database(pg_url).dispose()
    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("ALTER TABLE call ADD CONSTRAINT short_titles CHECK (length(title) < 5)")
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli.main", "--db", pg_url, "sync", "--source",
                           "eu_ft", "--replay", str(samples / "eu_ft")], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert proc.returncode == 1, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("WARNING ")]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("WARNING watcher.runner: source eu_ft failed: storing the run failed: the "
                                  "database refused the write (CheckViolation: ")
    assert "Pipeline" not in proc.stderr
