# The two commands a person needs: `make run` and `make test`. Both set up the machine
# (Debian packages), configure and build first.
BUILD      ?= build
BUILD_TYPE ?= Release
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
CTEST       = ctest --test-dir $(BUILD) --output-on-failure --timeout 600 -j $(JOBS)

.PHONY: all setup configure build test integration chaos run example example-expansion perf soak bench bench-nodes bench-storage bench-raft bench-dedup asan tsan install clean

all: build

setup:
	@scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Every test except the long ones (labels perf, soak, bench): what CI runs.
test: build
	@$(CTEST) -LE 'perf|soak|bench|known-bug'

# Only the integration scenarios (real processes, injected faults; part of `make test`).
integration: build
	@$(CTEST) -L integration

# A long randomized fault schedule (kills, restarts, SIGSTOP; PARTITIONS=1 adds network
# partitions, in namespaces as root) under a continuous workload, then a summary table:
# make chaos DURATION=300 [SEED=42] [NODES=5] [PARTITIONS=1]
chaos: build
	@python3 tests/integration/scenarios/chaos.py --build $(BUILD) --duration $(or $(DURATION),60) \
	  $(if $(SEED),--seed $(SEED)) $(if $(NODES),--nodes $(NODES)) \
	  $(if $(PARTITIONS),--partitions)

# The main job: a local 3-node cluster (three raftor-node processes on loopback, RocksDB
# log with fsync, RocksDB state machine) in a temporary directory, a short workload with a
# progress bar, the leader and a status table; every node is stopped at the end or on Ctrl-C.
run: build
	@RAFTOR_BUILD=$(BUILD) scripts/run_local_cluster.sh $(or $(SECONDS),5)

# The three-node example: write, kill -9 the leader, fail over, restart and catch up.
example: build
	@RAFTOR_BUILD=$(BUILD) examples/three_node_cluster/run.sh

# Grow a one-node cluster to three while a client writes: make example-expansion [SECONDS=8]
example-expansion: build
	@RAFTOR_BUILD=$(BUILD) examples/single_node_expansion/run.sh $(or $(SECONDS),8)

# The StateMachineTestSuite's performance cases (label perf).
perf: build
	@$(CTEST) -L perf -j 1

# raftor and etcd side by side on this machine: 3 raftor-node processes and 3 etcd members
# (Debian's etcd-server, installed by scripts/setup-bench.sh for this target only) on
# loopback, the same workloads alternated between them, medians of REPEATS runs of DURATION
# seconds, one table with the raftor/etcd ratio per row; JSON in $(BUILD)/bench/results.json.
# About 4-5 minutes with the defaults: make bench [DURATION=6] [REPEATS=3] [WORKLOADS=put-64,get-64]
bench: build
	@scripts/setup-bench.sh
	@python3 scripts/bench/bench.py --build $(BUILD) --duration $(or $(DURATION),6) \
	  --repeats $(or $(REPEATS),3) $(if $(WORKLOADS),--workloads $(WORKLOADS))

# raftor alone: CPU per operation of each node (perf stat), for A/B comparisons of builds.
# make bench-nodes [OP=put] [RUNS=3] [EVENTS=context-switches,...] [BUILD=build]
bench-nodes: build
	@bash -c 'source scripts/lib/apt_install.sh && apt_install_missing bench-nodes linux-perf'
	@python3 scripts/bench/node_cpu.py --build $(BUILD) --op $(or $(OP),put) --runs $(or $(RUNS),3) \
	  $(if $(EVENTS),--events $(EVENTS))

# Google Benchmark targets for the storage layer.
bench-storage: build
	@$(BUILD)/benchmarks/storage_bench

# The in-process 3-node cluster through the actors: writes/s, reads/s, latencies.
bench-raft: build
	@$(BUILD)/benchmarks/raft_bench $(or $(SECONDS),5)

# The deduplication step before each apply_chunk (thesis §6.3): cost per entry.
bench-dedup: build
	@$(BUILD)/benchmarks/dedup_bench

# Many more randomized Raft schedules than the default test run.
soak: build
	@$(BUILD)/tests/actors/raft/simulation/raft_simulation_test --gtest_also_run_disabled_tests --gtest_filter='*Soak*'

# Sanitizer builds: ASan + UBSan, and TSan, each in its own build directory.
asan:
	@$(MAKE) --no-print-directory test BUILD=build-asan BUILD_TYPE=Debug CMAKE_ARGS=-DRAFTOR_SANITIZE=address
tsan:
	@$(MAKE) --no-print-directory test BUILD=build-tsan BUILD_TYPE=Debug CMAKE_ARGS=-DRAFTOR_SANITIZE=thread

install: build
	@cmake --install $(BUILD) --prefix $(or $(PREFIX),/usr/local)

clean:
	rm -rf build build-asan build-tsan
