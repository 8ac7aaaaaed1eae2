# fundradar — `make demo` runs the main job once, `make test` runs the whole test suite.
# Both create the virtual environment and install the project first.

PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
SAMPLES ?= $(or $(FUNDRADAR_SAMPLES),../shared/samples)

.PHONY: install demo test lint bench migration clean

# -W: setuptools notes on every editable install that folders named like the packages in the working
# directory take precedence over them; here those folders are the packages themselves
$(BIN)/fundradar: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -W "ignore:Editable installation" -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/fundradar

# The main job on the embedded default (SQLite in data/): sync every source, score, print the digest.
# With recorded samples beside the checkout it replays them offline; otherwise it uses the live sources.
demo: install
	@if [ -d "$(SAMPLES)" ]; then \
		$(BIN)/fundradar run --replay "$(SAMPLES)"; \
	else \
		echo "no recorded samples at $(SAMPLES), so the demo runs against the live sources;" \
			"make demo FUNDRADAR_SAMPLES=/path/to/shared/samples replays the recordings" >&2; \
		$(BIN)/fundradar run; \
	fi

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/run_all.py

# A new migration from the models' changes: make migration MESSAGE="what changed"
migration: install
	$(BIN)/python scripts/new_migration.py "$(MESSAGE)"

clean:
	rm -rf $(VENV) data/*.db data/*.db-wal data/*.db-shm
