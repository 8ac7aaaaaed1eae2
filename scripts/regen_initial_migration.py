"""Regenerate migration 0001 from the models (allowed until the first release; after that, add revisions).

Usage: python scripts/regen_initial_migration.py
"""

import tempfile
from pathlib import Path

from alembic import command

from pipeline.db import MIGRATIONS, alembic_config, create_db_engine

for old in (MIGRATIONS / "versions").glob("0001_*.py"):
    old.unlink()
with tempfile.TemporaryDirectory() as tmp:
    engine = create_db_engine(f"sqlite:///{Path(tmp) / 'empty.db'}")
    command.revision(alembic_config(engine), message="initial schema", autogenerate=True,
                     rev_id="0001")
print("wrote", next((MIGRATIONS / "versions").glob("0001_*.py")))
