"""Two fundradar processes opening one new (or older) PostgreSQL database at once, as serve and a cron
``fundradar run`` do on a fresh install: both found the schema missing and both migrated, and one died
in a traceback (``duplicate key value violates unique constraint "pg_type_typname_nsp_index"``, the
alembic_version table created twice). Migrations now hold a transaction-level advisory lock, so the
second waits and finds the schema at head. The real server; the command line in two processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from pipeline.core.db import head_revision

ROOT = Path(__file__).resolve().parent.parent


def test_three_commands_on_a_new_database_at_once_all_exit_0(pg_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    fundradar = [sys.executable, "-m", "pipeline.cli.main", "--db", pg_url]
    procs = [subprocess.Popen(fundradar + args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for args in (["db", "upgrade"], ["calls", "list", "--json"], ["db", "upgrade"])]
    results = [(p.wait(120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0, 0], results
    assert all("Traceback" not in err for _, _, err in results), results
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == \
            [head_revision()]
    engine.dispose()
