// Runs raftor-bench's load: one thread per client, each with its own Client on a shared
// actor system and one request in flight, until the request count or the duration is
// reached. Latencies are kept per thread (no locking on the hot path) and merged at the end.
#pragma once

#include <caf/all.hpp>

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

// Client i runs on systems[i % systems.size()] (options.connections of them).
BenchResult run_bench(const std::vector<caf::actor_system*>& systems, const BenchOptions& options);

std::string summary_text(const BenchOptions& options, const BenchResult& result);
std::string summary_json(const BenchOptions& options, const BenchResult& result);

}  // namespace raftor::bench
