// The cost of the deduplication step before each apply_chunk (thesis §6.3), per entry of
// 512-entry chunks of 256-byte puts: reading a request id against a full decode, and the
// chunk step with no client ids, 64 clients, and a full 100k-client table that evicts on
// every request. Numbers, not pass/fail.
#include <benchmark/benchmark.h>

#include "raftor/actors/state_machine_handler/chunk_deduplication.hpp"
#include "raftor/storage/command.hpp"

namespace {
using namespace raftor;

constexpr std::size_t kChunk = 512;

// `client_of(index)` gives each entry's request id ({0, 0}: none).
template <class ClientOf>
std::vector<Entry> make_chunk(std::uint64_t first, ClientOf client_of) {
  std::vector<Entry> chunk;
  for (std::uint64_t index = first; index < first + kChunk; ++index) {
    chunk.push_back({index, 1, EntryType::normal,
                     command::put("key" + std::to_string(index % 10000), std::string(256, 'v'),
                                  client_of(index))});
  }
  return chunk;
}

void BM_FullDecode(benchmark::State& state) {
  const auto chunk = make_chunk(1, [](std::uint64_t) { return RequestId{}; });
  pb::Command scratch;
  for (auto _ : state) {
    for (const Entry& e : chunk) benchmark::DoNotOptimize(command::decode(e, scratch));
  }
  state.SetItemsProcessed(state.iterations() * kChunk);
}

void BM_RequestId(benchmark::State& state) {
  const auto chunk = make_chunk(1, [](std::uint64_t i) { return RequestId{1 + i % 64, i}; });
  for (auto _ : state) {
    for (const Entry& e : chunk) benchmark::DoNotOptimize(command::request_id(e.payload));
  }
  state.SetItemsProcessed(state.iterations() * kChunk);
}

// Runs the chunk step over fresh chunks (indexes keep growing, as in a log).
template <class ClientOf>
void run_chunks(benchmark::State& state, ClientOf client_of) {
  ClientSessions sessions;
  std::uint64_t first = 1;
  std::vector<ApplyResult> results(kChunk);
  for (auto _ : state) {
    state.PauseTiming();
    auto chunk = make_chunk(first, client_of);
    first += kChunk;
    state.ResumeTiming();
    ChunkDeduplication dedup(chunk, sessions);
    dedup.complete(results);
  }
  state.SetItemsProcessed(state.iterations() * kChunk);
}

void BM_ChunkNoClientIds(benchmark::State& state) {
  run_chunks(state, [](std::uint64_t) { return RequestId{}; });
}

void BM_Chunk64Clients(benchmark::State& state) {
  run_chunks(state, [](std::uint64_t i) { return RequestId{1 + i % 64, i}; });
}

void BM_ChunkFullTableEvicting(benchmark::State& state) {
  // Every request from a new client: once 100k are known, each one evicts another.
  run_chunks(state, [](std::uint64_t i) { return RequestId{i, 1}; });
}

BENCHMARK(BM_FullDecode);
BENCHMARK(BM_RequestId);
BENCHMARK(BM_ChunkNoClientIds);
BENCHMARK(BM_Chunk64Clients);
BENCHMARK(BM_ChunkFullTableEvicting)->Iterations(2000);
}  // namespace

BENCHMARK_MAIN();
