# spikeunet: thin driver around CMake/CTest. See README.md.
PREFIX ?= /usr/local
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
BUILD  ?= build
CMAKE_FLAGS ?=

.PHONY: all deps configure demo test test-fast test-asan install bench clean fuzz fuzz-smoke

all: configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/install-deps

configure:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

demo: deps all
	./$(BUILD)/spikeunet demo

# The whole suite: release build, then the same tests under ASan + UBSan.
test: deps all
	cd $(BUILD) && ctest --output-on-failure -j 1
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory fuzz-smoke

test-fast: all
	cd $(BUILD) && ctest --output-on-failure -j 1

test-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSU_SANITIZE=ON >/dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 SU_SANITIZED=1 \
	  ctest --output-on-failure -j 1

# Fuzzing with libFuzzer (clang; docs/RELIABILITY.md): every target for FUZZ_SECONDS, one after
# another; fails on any crash, leak, hang or failed check. `fuzz` keeps its corpus in
# build-fuzz/corpus across runs; `fuzz-smoke` (CI) starts from the seeds alone.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz:
	@scripts/install-deps --fuzz
	fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke:
	@scripts/install-deps --fuzz
	fuzz/run.sh --fresh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# spikeunet against PyTorch, side by side (docs/PERFORMANCE.md); BENCH_FLAGS e.g. "--runs 7 --wait-idle 60".
bench: all
	/usr/bin/python3 bench/run_bench.py --bin $(BUILD)/spikeunet --out $(BUILD)/bench $(BENCH_FLAGS)

install:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf build build-asan
