# The README's two commands, and the pieces they are made of.
.PHONY: demo test ci lint bootstrap

demo:
	scripts/demo

test:
	scripts/test

ci:
	bash .ci/run

lint:
	scripts/bootstrap test && .venv/bin/ruff check . && .venv/bin/ruff format --check .

bootstrap:
	scripts/bootstrap test
