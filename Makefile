# cachelab — the two commands: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := /usr/lib/postgresql/15/bin:$(PATH)

PORT ?= 8000
SCALE ?= 1

.PHONY: help deps node-deps build build-debug demo test bench screenshots stop clean format

help:
	@echo "make demo   install what is missing, build, start PostgreSQL + Redis, seed, serve on :$(PORT)"
	@echo "make test   install, build with sanitizers, run every test (unit + integration)"
	@echo "make bench  build release, start backends, print wrk figures and ratios"
	@echo "make screenshots  the dashboard's views into docs/screenshots/ (headless Chromium)"
	@echo "make stop   stop the private PostgreSQL and Redis"
	@echo "make clean  remove build output and the private backends' data"

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

demo: build
	@bash scripts/demo.sh $(PORT) $(SCALE)

test: build-debug
	ctest --preset debug

bench: build
	@bash bench/bench.sh

screenshots: build
	@bash scripts/screenshots.sh

stop:
	@bash scripts/backends.sh stop

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp')

clean: stop
	rm -rf build .cachelab
