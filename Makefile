# tsfm-runner — one entry point per job. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.package-lock.json

.PHONY: install build lint typecheck test run bench bench-micro readme clean

# npm ci only when the lock file changed since the last install (or nothing is installed).
$(NODE_MODULES_STAMP): package-lock.json package.json
	npm ci --no-audit --no-fund
	@touch $(NODE_MODULES_STAMP)

install: $(NODE_MODULES_STAMP)

build: install
	npx tsc -p tsconfig.json

lint: install
	npx eslint .

typecheck: install
	npx tsc -p tsconfig.check.json

test: lint typecheck build
	npx vitest run

run: build
	node dist/src/cli.js serve

# Every mitata microbenchmark, one process each (results land in perf/results/*.json).
bench-micro: build
	@set -e; for f in $$(find dist/perf -name '*.bench.js' | sort); do echo "== $$f"; node $$f; done

bench: bench-micro

# Regenerate the README's configuration tables and embedding example (a test checks them).
readme: build
	node dist/docs/readme-sync.js

clean:
	rm -rf dist
