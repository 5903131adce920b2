# qkv — the two Quick-start commands and a few more. Everything goes through
# CMake; these targets only chain setup → configure → build → run.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# Seconds per fuzz target: test-fuzz (part of `make test`, CI) and `make fuzz`.
FUZZ_CI_SECONDS ?= 10
FUZZ_SECONDS ?= 600
# Debian's python3, with python3-numpy (cmake/Python.cmake builds the module for it).
PYTHON ?= /usr/bin/python3
# OpenMP waiting: the qkv programs pick a bounded spin themselves, CTest runs
# the tests with passive waiting (docs/ARCHITECTURE.md, Threads).

.PHONY: setup build demo python test test-fast test-asan test-fuzz fuzz fuzz-build bench clean

setup:
	scripts/setup.sh

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: setup $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

# The main job: what the machine offers, an autograd check on XOR, then a
# character-level GPT trained for a few minutes on the fortune-cookie texts
# that Debian's `fortunes` package ships, and samples from it.
FORTUNES := $(addprefix /usr/share/games/fortunes/,fortunes literature riddles wisdom humorists platitudes people science computers)
DEMO_DIR ?= $(BUILD)/demo-gpt
DEMO_ITERS ?= 1500

# Builds the qkv program alone (the library and the CLI; no tests or benchmarks).
demo: setup $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS) --target qkv_cli
	$(BUILD)/bin/qkv info
	$(BUILD)/bin/qkv demo xor --print-every 100
	cat $(FORTUNES) > $(BUILD)/fortunes.txt
	rm -rf $(DEMO_DIR)
	$(BUILD)/bin/qkv train gpt --data $(BUILD)/fortunes.txt --out $(DEMO_DIR) \
	  --n-layer 4 --n-head 4 --n-embd 128 --block-size 64 --batch-size 12 --dropout 0 \
	  --max-iters $(DEMO_ITERS) --lr 1e-3 --min-lr 1e-4 --warmup-iters 100 --lr-decay-iters $(DEMO_ITERS) \
	  --beta2 0.99 --eval-interval 250 --eval-iters 20 --log-interval 100
	$(BUILD)/bin/qkv generate $(DEMO_DIR) --max-new-tokens 300 --num-samples 3 --temperature 0.8 --stats
	@echo "model in $(DEMO_DIR); loss curve in $(DEMO_DIR)/loss.svg"

# The Python module alone (and the qkv program its tests compare with): an
# importable package in $(BUILD)/python (docs/PYTHON.md).
python: setup $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS) --target qkv_python qkv_cli
	PYTHONPATH=$(BUILD)/python $(PYTHON) -c 'import qkv; print("qkv", qkv.__version__, "from", qkv.__file__)'
	@echo "use it with: PYTHONPATH=$(BUILD)/python python3 (or cmake --install $(BUILD), docs/PYTHON.md)"

# Every test: the Release build, the same tests under ASan + UBSan, then
# every fuzz target for a few seconds.
test: test-fast test-asan test-fuzz

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Line tables only (-g1): a sanitizer report still names file and line, and the
# tree builds in about half the time of full debug info (CI's budget).
test-asan: setup
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQKV_SANITIZE=ON -DQKV_BUILD_BENCH=OFF \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target qkv_tests qkv_cli
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest --output-on-failure -j $(JOBS)

# libFuzzer targets (fuzz/, docs/FUZZING.md): a clang tree of their own with
# ASan + UBSan. test-fuzz runs each FUZZ_CI_SECONDS (JOBS at a time);
# `make fuzz FUZZ_SECONDS=3600` for long runs (the corpus grows in
# $(FUZZ_BUILD)/corpus and is kept between runs).
fuzz-build: setup
	cmake -S . -B $(FUZZ_BUILD) -DQKV_BUILD_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

test-fuzz: fuzz-build
	fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_CI_SECONDS) $(JOBS)

fuzz: fuzz-build
	fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(JOBS)

bench: setup build
	scripts/setup.sh --bench
	bench/run_all.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
