# Two commands on a fresh machine: `make report` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := data/sample.parquet

.PHONY: report test test-all lab sample bench bench-big clean strip fixtures

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (salesnb)" >/dev/null
	@# byte-code once: with PYTHONDONTWRITEBYTECODE set, every kernel would compile the package again
	$(BIN)/python -m compileall -q salesnb >/dev/null
	touch $(STAMP)

$(SAMPLE): | $(STAMP)
	mkdir -p data
	$(BIN)/salesnb sample $(SAMPLE) --rows 200000 --seed 7

sample: $(SAMPLE)

report: $(STAMP) $(SAMPLE)
	$(BIN)/salesnb validate params/sample.yaml
	$(BIN)/salesnb run params/sample.yaml

# the fast set (a few minutes on a laptop); test-all adds the tests marked slow
test: $(STAMP) $(SAMPLE)
	$(BIN)/python -m pytest -q -m "not slow"

test-all: $(STAMP) $(SAMPLE)
	$(BIN)/python -m pytest -q

# JupyterLab refuses to start as root without --allow-root (containers, CI)
lab: $(STAMP) $(SAMPLE)
	$(BIN)/jupyter lab notebooks/ $$([ "$$(id -u)" = 0 ] && echo --allow-root)

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

bench-big: $(STAMP)
	$(BIN)/python benchmarks/run.py --big

strip:
	$(BIN)/python tools/strip_notebooks.py

# the vendored real-data extracts in tests/fixtures/, from ../shared/data
fixtures: $(STAMP)
	$(BIN)/python tools/make_test_fixtures.py

clean:
	rm -rf reports/ .pytest_cache
