// raftor-bench's command line: what load to put on a cluster and how to report it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "raftor/client/endpoint.hpp"
#include "raftor/storage/status.hpp"

namespace raftor::bench {

enum class Operation { put, get, lease_get, eventual_get, cas, mix };

struct BenchOptions {
  std::vector<client::Endpoint> endpoints;
  unsigned clients = 1;             // concurrent clients, each with one request in flight
  unsigned threads = 1;             // event loops the clients are spread over
  std::uint64_t requests = 0;       // total; 0 = run for `duration`
  std::chrono::milliseconds duration{5000};
  std::uint64_t key_space = 10'000;
  std::size_t key_size = 16;
  std::size_t value_size = 256;
  bool sequential_keys = false;     // keys 0, 1, 2, ... (wrapping) instead of random: prefills
  Operation operation = Operation::put;
  unsigned read_percent = 50;       // mix: share of linearizable gets
  std::chrono::milliseconds request_timeout{2000};
  std::chrono::milliseconds deadline{10000};  // per operation, retries included
  std::string json_path;            // results as JSON ("" = none)
  std::string history_path;         // every operation as JSON lines for raftor-lincheck
  bool progress = false;            // a progress line on stderr
  bool quiet = false;               // no human-readable summary
};

struct HelpRequested {
  std::string text;
};

// argv, with RAFTOR_ENDPOINTS standing in for a missing --endpoints.
Result<std::variant<BenchOptions, HelpRequested>> parse_bench_options(int argc, char** argv);
const char* to_string(Operation op);

}  // namespace raftor::bench
