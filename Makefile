# One command each: set up, test, check, chat. See README.md.
VENV := .venv/bin

.PHONY: install test check chat

install:
	bash scripts/install.sh

test:
	HF_HUB_OFFLINE=1 $(VENV)/python -m pytest

check:
	$(VENV)/ruff check index qa ui eval tests
	$(VENV)/mypy

chat:
	$(VENV)/newsqa serve
