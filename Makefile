.PHONY: demo test lint help

help:
	@echo "make demo  - install, migrate, seed and start Spindle (web, worker, beat) on 127.0.0.1:\$${PORT:-8000}"
	@echo "make test  - start throwaway PostgreSQL and Redis, run ruff, Django's checks and the test suite"

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

lint:
	.venv/bin/ruff check .
