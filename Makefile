# Every target sets itself up: a virtual environment in .venv with the project installed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install demo test ui lint clean

$(BIN)/migrant-assets: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/migrant-assets

# dagster.yaml links to the packaged migrant_assets/data/dagster.yaml.
$(DAGSTER_HOME)/dagster.yaml: migrant_assets/data/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp $< $@

demo: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/migrant-assets demo $(DEMO_ARGS)

test: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster definitions validate -m migrant_assets.defs
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

ui: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml

# Python with ruff, the SQL of migrant_assets/sql/ (top-level sql/ links to it) with sqlfluff
# (.sqlfluff, .sqlfluffignore).
lint: install
	$(BIN)/ruff check migrant_assets migrant_assets_tests benchmarks
	$(BIN)/sqlfluff lint --disable-progress-bar migrant_assets/sql

clean:
	rm -rf $(VENV) .dagster_home work
