# Samsøk: `make demo` (set up, crawl the bundled mirror, index, serve), `make check` (the fast
# lane, before every commit) and `make test` (everything CI runs).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install demo serve check test lint typecheck bench browser wheel-check clean

# torch is installed first and pinned: that takes the CPU wheel on this machine instead of
# pulling several GB of CUDA packages through sentence-transformers' dependency on torch.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/samsok demo

serve: install
	$(BIN)/samsok serve

# Headless Chromium for the browser tests (Debian package; needs root). Without it the
# browser tests are skipped with a reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not installed and not root: browser tests will be skipped"; fi; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The packages and the untyped-library overrides are in pyproject.toml ([tool.mypy]).
typecheck: install
	$(BIN)/mypy

# The fast lane: lint, then every test that needs neither the real model, a browser nor a
# quality floor, on all cores (a test file stays on one worker, so its module fixtures are
# built once), stopping at the first failure. Not a substitute for `make test`.
check: install lint
	$(BIN)/python -m pytest -m "not slow and not browser" -x -q -n auto --dist loadfile

# Everything: lint, types, and the whole suite (slow model tests, quality floors, browser).
test: install browser lint typecheck
	$(BIN)/python -m pytest

# Build the wheel, install it in a clean venv outside the checkout, crawl the mirror and search
# it from there: what the Docker image does (CI runs it after the tests).
wheel-check: install
	scripts/wheel-check $(BIN)/python

# Every benchmark prints its figures beside today's (or the replaced) path, with ratios. The
# model-using ones share one model cache (converted once, ONNX exports made once). The 1M
# build stops after SCALE_BUDGET seconds and measures the index as far as it got.
BENCH_MODELS ?= data/models
SCALE_BUDGET ?= 5400
bench: install
	$(BIN)/python benchmarks/cli_startup.py
	$(BIN)/python benchmarks/retrieval.py
	$(BIN)/python benchmarks/embedding.py
	$(BIN)/python benchmarks/query_embedding.py --cache $(BENCH_MODELS)
	$(BIN)/python benchmarks/serve.py --cache $(BENCH_MODELS)
	$(BIN)/python benchmarks/search_cpu.py --cache $(BENCH_MODELS)
	$(BIN)/python benchmarks/crawl.py
	$(BIN)/python benchmarks/extraction.py
	$(BIN)/python benchmarks/scale.py --chunks 100000
	$(BIN)/python benchmarks/scale.py --chunks 1000000 --build-budget $(SCALE_BUDGET)
	$(BIN)/python benchmarks/scale.py --vectors-only --chunks 1000000

clean:
	rm -rf $(VENV) data test-artifacts .pytest_cache .ruff_cache .mypy_cache build
