// A random schedule: one seed picks the cluster shape (3 or 5 nodes, protocol options,
// flow control), the network's behaviour, the fault rates, and then every client request
// and fault of the run. The run ends with SimCluster::finish() (heal, restart, liveness,
// final checks).
#pragma once

#include <cstdint>
#include <string>

#include "property_checks.hpp"

namespace raftor::sim {

struct ScheduleOptions {
  std::uint64_t steps = 4000;
  bool verbose = false;  // echo every event and the schedule's shape
  bool broken_driver = false;  // self-test of the checks: see SimNode
};

struct ScheduleOutcome {
  bool ok = false;
  std::string shape;   // the parameters the seed chose
  std::string report;  // failure, counters and last events
  std::uint64_t fingerprint = 0;  // of the whole event trace: equal for equal seeds
  std::uint64_t steps = 0;
  std::uint64_t crashes = 0;
  std::uint64_t snapshots_installed = 0;
  std::uint64_t config_changes = 0;
  std::uint64_t transfers = 0;
  CheckStats stats;
};

ScheduleOutcome run_random_schedule(std::uint64_t seed, const ScheduleOptions& options);

}  // namespace raftor::sim
