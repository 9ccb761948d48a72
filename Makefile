# `make serve` and `make test` each do all of their own set-up on a fresh machine.
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 5005
PYTEST_ARGS ?=

.PHONY: install serve test test-scaled typecheck lint-imports archcheck deps chromium train clean

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip==24.3.1
	$(VENV)/bin/pip install -q -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed

train: install
	$(VENV)/bin/helpdesk train

serve: install
	$(VENV)/bin/helpdesk migrate
	$(VENV)/bin/helpdesk serve --demo --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

test: install chromium typecheck lint-imports deps
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

# mypy over bot/ and actions/ ([tool.mypy] in pyproject.toml); part of `make test`.
typecheck: install
	$(VENV)/bin/mypy

# issue 15: the layers and independence/forbidden contracts of docs/architecture.md
# ([tool.importlinter] in pyproject.toml); an upward import fails naming the contract.
lint-imports: install
	$(VENV)/bin/lint-imports --no-cache

archcheck: lint-imports

# issue 15: every import declared, every declared dependency imported ([tool.deptry]).
deps: install
	$(VENV)/bin/deptry .

# issue 7: the suite again with every test database on PostgreSQL and shared state in Redis
# (HELPDESK_TEST_POSTGRES_URL, HELPDESK_TEST_REDIS_URL); the browser and multi-process tests
# already ran on them in `make test`.
test-scaled: install
	HELPDESK_TEST_BACKEND=postgres-redis $(VENV)/bin/pytest -q --ignore=tests/browser \
	  --ignore=tests/test_ops_scale.py --ignore=tests/test_ops_workers.py $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) models var test-artifacts reports .pytest_cache .mypy_cache
