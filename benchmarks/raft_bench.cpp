// In-process 3-node cluster (RocksDB log with fsync, RocksDB state machine), measured
// through the Raft actor's client messages: writes/s and latency with 1 and 64 requests in
// flight (also with client ids, so every write goes through the deduplication table of
// thesis §6.3), linearizable and lease reads/s. Numbers, not pass/fail: `make bench-raft`.
#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>

#include "local_cluster.hpp"
#include "raftor/storage/command.hpp"

namespace {
using namespace raftor;
using Clock = std::chrono::steady_clock;

struct LoadResult {
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
};

enum class Op { put, tracked_put, linearizable_get, lease_get };

// Keeps `in_flight` requests outstanding against `target` for `duration`.
struct LoadState {
  raft_actor target;
  Op op;
  int in_flight;
  Clock::time_point end;
  std::shared_ptr<LoadResult> result;
  std::mt19937_64 rng{42};
  int outstanding = 0;
  std::uint64_t sequence = 0;  // tracked_put: client i sends sequences i, i+64, ... in order
};

void issue(caf::event_based_actor* self, std::shared_ptr<LoadState> st) {
  if (Clock::now() >= st->end) {
    if (st->outstanding == 0) self->quit();
    return;
  }
  ++st->outstanding;
  const auto key = "key" + std::to_string(st->rng() % 10000);
  const auto start = Clock::now();
  auto on_reply = [self, st, start](ClientReply& r) {
    --st->outstanding;
    if (r.ok) {
      ++st->result->ok;
      st->result->latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    } else {
      ++st->result->errors;
    }
    issue(self, st);
  };
  auto on_error = [self, st](caf::error&) {
    --st->outstanding;
    ++st->result->errors;
    issue(self, st);
  };
  if (st->op == Op::put || st->op == Op::tracked_put) {
    RequestId id;
    if (st->op == Op::tracked_put) {
      ++st->sequence;
      id = {1 + st->sequence % 64, st->sequence};
    }
    self->request(st->target, std::chrono::seconds(10), propose_atom::value,
                  command::put(key, std::string(256, 'v'), id))
        .then(on_reply, on_error);
  } else {
    const auto consistency = st->op == Op::lease_get ? ReadConsistency::lease
                                                     : ReadConsistency::linearizable;
    self->request(st->target, std::chrono::seconds(10), read_atom::value,
                  std::vector<std::string>{key}, consistency)
        .then(on_reply, on_error);
  }
}

LoadResult run_load(caf::actor_system& system, raft_actor target, Op op, int in_flight,
                    std::chrono::milliseconds duration) {
  auto st = std::make_shared<LoadState>();
  st->target = target;
  st->op = op;
  st->in_flight = in_flight;
  st->result = std::make_shared<LoadResult>();
  const auto start = Clock::now();
  st->end = start + duration;
  {
    auto driver = system.spawn([st](caf::event_based_actor* self) {
      for (int i = 0; i < st->in_flight; ++i) issue(self, st);
    });
    caf::scoped_actor waiter{system};
    waiter->monitor(driver);
    waiter->receive([](const caf::down_msg&) {});
  }
  st->result->seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return *st->result;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

void report(const char* name, LoadResult r) {
  std::printf("%-28s %10.0f %9.2f %9.2f %9.2f %8llu\n", name, static_cast<double>(r.ok) / r.seconds,
              percentile(r.latencies_ms, 0.50), percentile(r.latencies_ms, 0.99),
              percentile(r.latencies_ms, 0.999), static_cast<unsigned long long>(r.errors));
}
}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  caf::actor_system_config config;
  register_message_types(config);
  caf::actor_system system{config};
  testing::LocalClusterOptions options;
  options.state_machine = testing::StateMachineKind::rocksdb;
  options.tick = std::chrono::milliseconds(10);
  options.election_ticks = 30;
  options.heartbeat_ticks = 3;
  options.lease_ticks = 20;
  testing::LocalCluster cluster(system, options);
  cluster.start_all();
  auto leader = cluster.wait_for_leader();
  if (!leader) {
    std::fprintf(stderr, "no leader\n");
    return 1;
  }
  const auto target = cluster.actor(*leader);
  const auto duration = std::chrono::milliseconds(seconds * 1000);
  std::printf("raftor in-process, 3 nodes, RocksDB log (fsync) + RocksDB state machine, 256-byte values, %d s per row\n", seconds);
  std::printf("%-28s %10s %9s %9s %9s %8s\n", "workload", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "errors");
  report("put, 1 in flight", run_load(system, target, Op::put, 1, duration));
  report("put, 64 in flight", run_load(system, target, Op::put, 64, duration));
  report("put, 64, client ids", run_load(system, target, Op::tracked_put, 64, duration));
  report("linearizable get, 64", run_load(system, target, Op::linearizable_get, 64, duration));
  report("lease get, 64", run_load(system, target, Op::lease_get, 64, duration));
  return 0;
}
