# tsfm-runner — one entry point per job. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.package-lock.json

.PHONY: install build lint typecheck test run bench bench-micro readme clean \
	bench-steady bench-mixed bench-degraded bench-incident bench-cycle bench-overhead bench-throughput bench-gate \
	bench-lanes bench-lanes-overload bench-lanes-slowdown bench-lanes-two-models bench-lanes-growth bench-lanes-cold-start bench-lanes-replicas bench-lanes-hedging

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

# The suite also starts redis-server and prometheus on 127.0.0.1 (installed when missing: .ci/test-servers).
test: lint typecheck build
	bash .ci/test-servers
	npx vitest run

run: build
	node dist/src/cli.js serve

# Every mitata microbenchmark, one process each (results land in perf/results/*.json).
bench-micro: build
	@set -e; for f in $$(find dist/perf -name '*.bench.js' | sort); do echo "== $$f"; node $$f; done

# The daemon over HTTP (perf/load): simulator, daemon and load generator as separate processes on
# 127.0.0.1; each prints its criteria next to the measured values and saves perf/results/<name>.json.
# The four PRD2 load profiles (blueprint §5):
bench-steady: build
	node dist/perf/profiles/steady.js

bench-mixed: build
	node dist/perf/profiles/mixed.js

bench-degraded: build
	node dist/perf/profiles/degraded.js

bench-incident: build
	node dist/perf/profiles/incident.js

# 200 markets through POST /tsfm/cycle and 200 concurrent forecasts, multiplexing on and off.
bench-cycle: build
	node dist/perf/cycle/top-n.js

# Upstream lanes against tollama's shape: closed loop, bursts and cycles as ratios to T32/T200.
bench-lanes: build
	node dist/perf/lanes/throughput.js

# The lanes' must-show list, each judged against the upstream's own figures of the same run:
# 128 closed-loop clients for 60 s (then open-loop arrivals beyond capacity) — deadlines, prompt
# sheds, a short queue inside tollama (~85 s); the upstream 4× slower for 20 s — the limit falls
# and comes back, no timeouts (~45 s); two models, then one failing — the other keeps its
# capacity (~85 s: the failing phase waits until the daemon's mode machine can judge); cycles of
# 50/500/5 000 markets in three rounds — linear wall, memory back (~2 min); the cold-start
# penalty with warm-up off and on (~30 s).
bench-lanes-overload: build
	node dist/perf/lanes/overload.js

bench-lanes-slowdown: build
	node dist/perf/lanes/slowdown.js

bench-lanes-two-models: build
	node dist/perf/lanes/two-models.js

bench-lanes-growth: build
	node dist/perf/lanes/growth.js

bench-lanes-cold-start: build
	node dist/perf/lanes/cold-start.js

# Two tollama replicas: closed-loop throughput against one replica (same run), one killed and restarted mid-run.
bench-lanes-replicas: build
	node dist/perf/lanes/replicas.js

# Hedging: one of two replicas stalls 10 % of requests for 2 s; high-priority p99 with and without hedges (all 32 callers high).
bench-lanes-hedging: build
	node dist/perf/lanes/hedging.js

# The same single-series requests straight to the simulator and through the daemon, interleaved.
bench-overhead: build
	node dist/perf/overhead/direct-vs-daemon.js

# Requests per second for cache hits and for fallbacks.
bench-throughput: build
	node dist/perf/throughput/daemon-throughput.js

# The CI performance gate (.ci/run): ratios and bounds measured in the same run, < 3 minutes.
bench-gate: build
	node dist/perf/gate.js

bench: bench-micro bench-steady bench-mixed bench-degraded bench-incident bench-cycle bench-lanes \
	bench-lanes-overload bench-lanes-slowdown bench-lanes-two-models bench-lanes-growth bench-lanes-cold-start \
	bench-overhead bench-throughput

# Regenerate the README's configuration tables and embedding example (a test checks them).
readme: build
	node dist/docs/readme-sync.js

clean:
	rm -rf dist
