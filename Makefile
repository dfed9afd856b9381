# tern: thin wrappers around Meson/Ninja. Every target first makes sure the
# Debian packages are there (scripts/install-deps.sh returns at once when
# nothing is missing).
PYTHON    := /usr/bin/python3
BUILD     := build
ASAN      := build-asan
REPORTS   := $(BUILD)/test-reports

.PHONY: all deps build asan asan-unit asan-setup test unit unit-asan integration demo bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD)
	ninja -C $(BUILD)
	@# configure_file keeps api/ternctl.in's mode, which is not executable
	@chmod +x $(BUILD)/ternctl 2>/dev/null || true

asan: asan-setup
	ninja -C $(ASAN)
	@chmod +x $(ASAN)/ternctl 2>/dev/null || true

# Only what `make test` runs in the sanitizer tree: the unit tests.
asan-unit: asan-setup
	ninja -C $(ASAN) tests/tern_unit

asan-setup: deps
	@[ -f $(ASAN)/build.ninja ] || meson setup $(ASAN) \
		-Db_sanitize=address,undefined -Db_lundef=false

# Builds both trees, runs every suite (one crashing does not stop the
# others), prints the summary; fails when a suite failed or left no report.
test: deps
	@bash scripts/run-tests.sh

# Single suites, for working on one of them (no summary).
unit: build
	$(BUILD)/tests/tern_unit
unit-asan: asan-unit
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(ASAN)/tests/tern_unit
integration: build
	$(PYTHON) -m pytest -v tests/integration

demo: build
	@bash scripts/demo.sh

bench: build
	@if [ -x scripts/bench.sh ] || [ -f scripts/bench.sh ]; then bash scripts/bench.sh; \
	else $(BUILD)/bench/tern_bench_udp_null; fi

clean:
	rm -rf $(BUILD) $(ASAN)
	find api/python tests/integration -name __pycache__ -type d -prune -exec rm -rf {} +
