# qkv — the two Quick-start commands and a few more. Everything goes through
# CMake; these targets only chain setup → configure → build → run.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
# Passive OpenMP waiting for every run we start (see docs/ARCHITECTURE.md, Threads).
export OMP_WAIT_POLICY ?= passive

.PHONY: setup build demo test test-fast test-asan bench clean

setup:
	scripts/setup.sh

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: setup $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

# The main job: what the machine offers, then a tiny end-to-end training run.
demo: build
	$(BUILD)/bin/qkv info
	$(BUILD)/bin/qkv demo xor

# Every test: the Release build, then the same tests under ASan + UBSan.
test: test-fast test-asan

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: setup
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQKV_SANITIZE=ON -DQKV_BUILD_BENCH=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target qkv_tests qkv_cli
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

bench: setup build
	scripts/setup.sh --bench
	bench/run_all.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
