# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

## make run: the Telegram bot when TELEGRAM_BOT_TOKEN is set, otherwise the terminal chat.
run: $(VENV)/.installed
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ]; then \
		echo "faqbot: TELEGRAM_BOT_TOKEN is set, starting the Telegram bot (faqbot run)." >&2; \
		exec $(BIN)/faqbot run; \
	else \
		echo "faqbot: TELEGRAM_BOT_TOKEN is not set, starting the terminal chat (faqbot chat)." >&2; \
		exec $(BIN)/faqbot chat; \
	fi

## make test: lint, format check, type check (mypy --strict) and the whole test suite, in two
## workers (most end-to-end tests wait on real processes; a test file stays in one worker).
test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
