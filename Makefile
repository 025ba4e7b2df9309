# cachelab — the two commands: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := /usr/lib/postgresql/15/bin:$(PATH)

PORT ?= 8000
SCALE ?= 1

.PHONY: help deps node-deps build build-debug build-fuzz demo demo-check test fuzz faults image-test bench bench-replica bench-cluster soak screenshots stop \
	clean format

help:
	@echo "make demo   install what is missing, build, start PostgreSQL + Redis, seed, serve on :$(PORT)"
	@echo "make test   install, build with sanitizers, run every test (unit, integration, browser, fuzz corpora)"
	@echo "make demo-check  run make demo in the background and check it serves the dashboard, then stop it"
	@echo "make fuzz   every libFuzzer target for FUZZ_SECONDS each (default 300; make test replays their corpora)"
	@echo "make faults  the fault suite at full length against the release binary (figures in build/faults-report.md)"
	@echo "make image-test  build the Containerfile with podman and run the image against private backends"
	@echo "make bench  build release, start backends, measure the HTTP rows and peers with cachelab load (after an agreement check against wrk) and pgbench, print medians and ratios"
	@echo "make soak   build release, run the near cache's 10-minute memory soak (bench/l1_soak.sh)"
	@echo "make bench-replica  build release, start a read replica, measure the WAL-fence rule's cost (bench/replica_fence.sh)"
	@echo "make bench-cluster  build release, start a local Redis Cluster, compare its hit path with one node (bench/cluster.sh)"
	@echo "make screenshots  the dashboard's views into docs/screenshots/ (headless Chromium)"
	@echo "make stop   stop the private PostgreSQL and Redis"
	@echo "make clean  stop the private backends, delete their data and the build output"

deps:
	@bash scripts/install-deps.sh

# npm packages, exactly as package-lock.json pins them: esbuild and Chart.js for the dashboard the build
# compiles in, playwright-core and the schema validators for the tests.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

node-deps: deps node_modules/.package-lock.json

build: node-deps
	cmake --preset release >/dev/null
	cmake --build --preset release

build-debug: node-deps
	cmake --preset debug >/dev/null
	cmake --build --preset debug

build-fuzz: node-deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz

demo: build
	@bash scripts/demo.sh $(PORT) $(SCALE)

# Every test, the fuzz targets' corpora replayed among them (fuzz_replay.*); fuzzing itself is `make fuzz`.
test: build-debug
	ctest --preset debug

# The fuzz targets (fuzz/) for longer; new inputs land in build/fuzz/corpus/, crashes in build/fuzz/artifacts/.
fuzz: build-fuzz
	FUZZ_SECONDS=$${FUZZ_SECONDS:-300} ctest --preset fuzz

# `make demo` in the background, checked from outside: the dashboard and a product (MISS, then HIT), then stopped.
demo-check:
	@bash tests/scripts/demo_check.sh

# The fault suite's test binary is built with the tests; the server it loads is the release binary.
faults: build build-debug
	@bash scripts/faults.sh

image-test:
	@mkdir -p build
	@bash scripts/image-test.sh

bench: build
	@bash bench/bench.sh

# What the read replica's WAL-fence check costs on the database path (about a minute).
bench-replica: build
	@bash bench/replica_fence.sh

# The Redis-hit path on a local Redis Cluster beside one node (about 40 s).
bench-cluster: build
	@bash bench/cluster.sh

# The near cache's memory over a long Zipf run (10 minutes by default; SOAK_SECONDS to change it).
soak: build
	@bash bench/l1_soak.sh

screenshots: build
	@bash scripts/screenshots.sh

stop:
	@bash scripts/backends.sh stop

format:
	clang-format -i $$(git ls-files --cached --others --exclude-standard 'src/*.[ch]pp' 'tests/*.[ch]pp' 'fuzz/*.cpp' | xargs ls -d 2>/dev/null)

# The backends' data may live outside the clone (as root: /var/lib/cachelab/, see scripts/backends.sh): destroy
# every pair (the demo's, the tests', the screenshots') before the build directory that names two of them goes.
clean:
	@bash scripts/backends.sh destroy
	@CACHELAB_STATE_DIR=build/debug/itest-state PG_PORT=54330 REDIS_PORT=63800 bash scripts/backends.sh destroy
	@CACHELAB_STATE_DIR=build/screenshots-state PG_PORT=54340 REDIS_PORT=63810 bash scripts/backends.sh destroy
	@CACHELAB_STATE_DIR=build/image-test-state PG_PORT=54360 REDIS_PORT=63830 bash scripts/backends.sh destroy
	@CACHELAB_STATE_DIR=build/faults-state PG_PORT=54370 REDIS_PORT=63840 bash scripts/backends.sh destroy
	rm -rf build .cachelab
