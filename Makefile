.PHONY: demo test lint mypy-baseline help

help:
	@echo "make demo  - install, migrate, seed and start Spindle (web, worker, beat) on 127.0.0.1:\$${PORT:-8000}"
	@echo "make test  - start throwaway PostgreSQL and Redis, run ruff, mypy, Django's checks and the test suite"
	@echo "make mypy-baseline - rewrite mypy-baseline.txt, the known type errors outside jobs/scheduling/ and core/"

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

lint:
	.venv/bin/ruff check .

mypy-baseline:
	bash -c 'source scripts/common.sh && ensure_venv requirements-dev.txt && "$$VENV/bin/python" scripts/mypy_baseline.py --write'
