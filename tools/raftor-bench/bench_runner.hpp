// Runs raftor-bench's load until the request count or the duration is reached: every client
// (client_slot.hpp) keeps one request in flight on a connection of its own; --threads event
// loops (event_loop.hpp) drive them. Latencies are kept per client (no locking on the hot
// path) and merged at the end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench_options.hpp"

namespace raftor::bench {

struct LatencySummary {
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0, mean_ms = 0;
};

struct BenchResult {
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  double seconds = 0;
  double ops_per_second = 0;
  LatencySummary latency;  // of successful operations
  std::string first_error;
};

BenchResult run_bench(const BenchOptions& options);

std::string summary_text(const BenchOptions& options, const BenchResult& result);
std::string summary_json(const BenchOptions& options, const BenchResult& result);

}  // namespace raftor::bench
