// Storage-layer throughput: apply_chunk for each built-in state machine (chunks of 1, 100
// and 1000 entries with 100-byte values) and snapshot generate + install of a 100 MB
// state. Numbers, not pass/fail: `make bench-storage`.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <chrono>
#include <functional>
#include <memory>

#include "raftor/storage/command.hpp"
#include "raftor/storage/file_state_machine.hpp"
#include "raftor/storage/memory_state_machine.hpp"
#include "raftor/storage/rocksdb_state_machine.hpp"

namespace {
using raftor::Entry;
using raftor::StateMachine;
namespace fs = std::filesystem;

using Factory = std::function<std::unique_ptr<StateMachine>(const fs::path&)>;

struct Kind {
  const char* name;
  Factory make;
};

const Kind kKinds[] = {
    {"Memory", [](const fs::path&) { return std::make_unique<raftor::MemoryStateMachine>(); }},
    {"RocksDb", [](const fs::path& d) { return std::make_unique<raftor::RocksDbStateMachine>(d); }},
    {"File", [](const fs::path& d) { return std::make_unique<raftor::FileStateMachine>(d); }},
};

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "raftor-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::unique_ptr<StateMachine> open(const Kind& kind, const fs::path& dir) {
  auto sm = kind.make(dir);
  if (auto s = sm->start(); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", kind.name, s.error().to_string().c_str());
    std::abort();
  }
  return sm;
}

void apply_or_abort(StateMachine& sm, std::vector<Entry> chunk) {
  sm.apply_chunk(std::move(chunk), [](raftor::Result<std::vector<raftor::ApplyResult>> r) {
    if (!r.ok()) {
      std::fprintf(stderr, "apply_chunk: %s\n", r.error().to_string().c_str());
      std::abort();
    }
  });
}

// Entries are encoded before the timed loop: the benchmark measures the state machine,
// not command encoding. Keys cycle over a 1M key space so RocksDB sees overwrites too.
std::vector<Entry> make_chunk(std::uint64_t first_index, std::size_t n) {
  std::vector<Entry> chunk;
  chunk.reserve(n);
  const std::string value(100, 'v');
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t index = first_index + i;
    chunk.push_back({index, 1, raftor::EntryType::normal,
                     raftor::command::put("key" + std::to_string(index % 1000000), value)});
  }
  return chunk;
}

void BM_ApplyChunk(benchmark::State& state, const Kind& kind) {
  TempDir dir;
  auto sm = open(kind, dir.path());
  const auto chunk_size = static_cast<std::size_t>(state.range(0));
  // Pre-encode enough chunks to cycle through, re-indexing them as we go.
  std::uint64_t next = 1;
  std::vector<std::vector<Entry>> pool;
  for (int i = 0; i < 64; ++i) pool.push_back(make_chunk(1 + i * chunk_size, chunk_size));
  std::size_t p = 0;
  for (auto _ : state) {
    // Manual timing: only apply_chunk counts, not preparing its input.
    std::vector<Entry> chunk = pool[p++ % pool.size()];
    for (auto& e : chunk) e.index = next++;
    const auto start = std::chrono::steady_clock::now();
    apply_or_abort(*sm, std::move(chunk));
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (auto s = sm->flush(); !s.ok()) std::abort();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * chunk_size));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * chunk_size * 100));
}

// Generates a snapshot of a ~100 MB state and installs it into a second instance.
void BM_SnapshotGenerateAndInstall(benchmark::State& state, const Kind& kind) {
  TempDir dir;
  auto source = open(kind, dir.path() / "source");
  const std::size_t entries = static_cast<std::size_t>(state.range(0));
  for (std::size_t i = 0; i < entries; i += 1000) {
    auto chunk = make_chunk(1 + i, std::min<std::size_t>(1000, entries - i));
    for (auto& e : chunk) e.payload = raftor::command::put("key" + std::to_string(e.index), std::string(100, 'v'));
    apply_or_abort(*source, std::move(chunk));
  }
  if (auto s = source->flush(); !s.ok()) std::abort();
  std::uint64_t bytes = 0;
  double generate_seconds = 0, install_seconds = 0;
  int round = 0;
  for (auto _ : state) {
    const fs::path file = dir.path() / ("snapshot-" + std::to_string(round));
    auto target = open(kind, dir.path() / ("target-" + std::to_string(round++)));
    auto t0 = std::chrono::steady_clock::now();
    auto gen = source->generate_snapshot_data(file);
    auto t1 = std::chrono::steady_clock::now();
    if (!gen.ok()) std::abort();
    raftor::SnapshotMetadata meta{gen->last_included, {}, gen->checksum, gen->size};
    if (auto s = target->apply_snapshot_from_file(meta, file); !s.ok()) {
      std::fprintf(stderr, "install: %s\n", s.error().to_string().c_str());
      std::abort();
    }
    auto t2 = std::chrono::steady_clock::now();
    generate_seconds += std::chrono::duration<double>(t1 - t0).count();
    install_seconds += std::chrono::duration<double>(t2 - t1).count();
    bytes += gen->size;
    state.PauseTiming();
    target.reset();
    fs::remove(file);
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  const double mb = static_cast<double>(bytes) / 1e6;
  state.counters["generate_MB/s"] = mb / generate_seconds;
  state.counters["install_MB/s"] = mb / install_seconds;
  state.counters["snapshot_MB"] = mb / static_cast<double>(state.iterations());
}

int register_all() {
  for (const Kind& kind : kKinds) {
    benchmark::RegisterBenchmark((std::string("ApplyChunk/") + kind.name).c_str(), BM_ApplyChunk, kind)
        ->Arg(1)->Arg(100)->Arg(1000)->UseManualTime();
    // ~1M entries of ~110 bytes: a ~100 MB state.
    benchmark::RegisterBenchmark((std::string("SnapshotGenerateAndInstall/") + kind.name).c_str(),
                                 BM_SnapshotGenerateAndInstall, kind)
        ->Arg(900000)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
  }
  // The default state machine at ~1 GB (9M entries): run alone with
  // --benchmark_filter=SnapshotGenerateAndInstall/RocksDb/9000000 (it loads for ~40 s).
  benchmark::RegisterBenchmark("SnapshotGenerateAndInstall/RocksDb", BM_SnapshotGenerateAndInstall,
                               kKinds[1])  // RocksDb
      ->Arg(9000000)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
