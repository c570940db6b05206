# sk_clustermass developer tasks. Every target sets up .venv itself on first use.
#   make demo        the main job: simulate, train, evaluate, write a report
#   make test        the default test suite (lint + tests, no slow/GPU tests)
#   make test-slow   the slow tests
#   make bench       the benchmarks (print speed and quality figures)
#   make pretrained  retrain the pretrained eFEDS model shipped with the package
#   make docs        build the documentation (warnings are errors)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONSTRAINTS ?= constraints/cpu.txt
STAMP := $(VENV)/.installed-stamp
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider

.PHONY: venv demo quickstart test test-slow test-gpu lint bench pretrained docs clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e ".[test,distributed,docs]"
	touch $(STAMP)

venv: $(STAMP)

quickstart: $(STAMP)
	$(BIN)/python examples/quickstart.py

demo: $(STAMP)
	$(BIN)/sk-clustermass demo

lint: $(STAMP)
	$(BIN)/ruff check sk_clustermass tests examples benchmarks docs
	$(BIN)/lint-imports

test: lint
	$(PYTEST) -m "not slow and not gpu" -q

test-slow: $(STAMP)
	$(PYTEST) -m "slow" -q

test-gpu: $(STAMP)
	$(PYTEST) -m "gpu" -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_sweep.py

# Rebuild the shipped pretrained model (the .safetensors file and its .json record of
# training population, settings and metrics); a few minutes on 2 CPU cores. Commit both.
pretrained: $(STAMP)
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/train_pretrained.py

# The HTML site (warnings and docutils errors are errors; links to other projects' docs
# where the network reaches them, SK_CLUSTERMASS_INTERSPHINX=0 for none), then the pages' code
# as doctests.
DOCTEST_PAGES := getting_started conventions estimator persistence pitfalls io own_data
docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html
	$(PYTEST) -q --doctest-glob='*.md' $(DOCTEST_PAGES:%=docs/%.md)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache docs/_build

# Render the demo's report in headless Chromium (Debian: apt-get install chromium) and
# save a screenshot beside it, to check by eye how the page looks. Run `make demo` first.
REPORT ?= demo_report
CHROMIUM ?= chromium
.PHONY: report-screenshot
report-screenshot:
	@test -f $(REPORT)/index.html || { echo "no $(REPORT)/index.html: run make demo first"; exit 2; }
	profile=$$(mktemp -d); $(CHROMIUM) --headless --no-sandbox --disable-gpu --disable-quic \
	  --no-first-run --disable-background-networking --disable-component-update --disable-sync \
	  --user-data-dir="$$profile" --screenshot=$(REPORT)/screenshot.png \
	  --window-size=1280,2400 file://$(abspath $(REPORT))/index.html 2>/dev/null; \
	  status=$$?; rm -rf "$$profile"; exit $$status
	@echo "wrote $(REPORT)/screenshot.png"
