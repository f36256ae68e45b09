// A simulated cluster: nodes, network, fault injection and the property checker, all
// driven by one seed. Time advances in steps; each step ticks every running node, delivers
// the messages due and runs every node's driver loop. Scenarios (fixed or random) call the
// workload and fault methods between steps.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "property_checks.hpp"
#include "raftor/actors/raft/core/raft_config.hpp"
#include "sim_events.hpp"
#include "sim_network.hpp"
#include "sim_node.hpp"
#include "sim_random.hpp"

namespace raftor::sim {

struct ClusterOptions {
  std::uint64_t seed = 1;
  std::size_t nodes = 3;     // voters: ids 1..nodes
  std::size_t learners = 0;  // ids after the voters: they replicate and apply, never vote
  // Ids after the learners: running but outside the configuration (bootstrapped as
  // learners of it) until change_membership() adds them (thesis §4.2.1).
  std::size_t spares = 0;
  raft::RaftConfig raft;  // timing and flow control; id, voters and seed are filled in
  NetworkConditions network;
  std::uint64_t log_check_interval = 400;  // steps between log matching sweeps
  bool verbose = false;                    // echo every event (seed replay)
  std::size_t event_capacity = 50;
  bool torn_crashes = false;    // a crash keeps a random prefix of the unsynced writes
  bool broken_driver = false;  // harness self-test: replies before syncing (SimNode)
};

struct FinishOptions {
  std::uint64_t leader_steps = 3000;    // healed cluster: a leader commits a write within this
  std::uint64_t converge_steps = 20000;  // then every node holds and applies the whole log
  std::uint64_t read_steps = 500;  // then every pending read is confirmed or failed
};

class SimCluster final : private NodeHooks {
 public:
  explicit SimCluster(ClusterOptions options);
  ~SimCluster() override;

  // --- time --------------------------------------------------------------------------------
  void step();
  void run(std::uint64_t steps);
  // Steps until `done` holds (checked before each step); false after max_steps or a failure.
  bool run_until(const std::function<bool()>& done, std::uint64_t max_steps);
  std::uint64_t now() const { return now_; }

  // --- workload ----------------------------------------------------------------------------
  std::vector<NodeId> ids() const;
  SimNode& node(NodeId id) { return *nodes_.at(id - 1); }
  bool paused(NodeId id) const { return paused_until_.at(id - 1) > now_; }
  // The running node that believes it leads in the highest term, if any.
  std::optional<NodeId> leader() const;
  std::vector<NodeId> leaders() const;  // every running node that believes it leads
  // Proposes `count` fresh writes to `id`; returns their indexes (empty: rejected).
  std::vector<std::uint64_t> propose(NodeId id, std::size_t count = 1,
                                     const std::string& key_prefix = "k");
  bool read(NodeId id);        // a ReadIndex read; false if refused at once
  // Membership change and leadership transfer at `id` (thesis §4.1, §3.10); false if
  // refused at once (not leader, busy, invalid).
  bool change_membership(NodeId id, const raft::ConfigChange& change);
  bool transfer_leadership(NodeId id, NodeId target);
  // The configuration the highest-term leader uses (else node 1's).
  Membership membership() const;
  void lease_read(NodeId id);  // checks the commit a lease read would be served at

  // --- faults ------------------------------------------------------------------------------
  void crash(NodeId id);
  void crash_before_sync(NodeId id);  // at the node's next sync point
  // keep_applied: entries the state machine still holds; random when not given.
  void restart(NodeId id, std::optional<std::uint64_t> keep_applied = std::nullopt);
  void pause(NodeId id, std::uint64_t ticks);  // no ticks, no deliveries (a GC pause)
  void isolate(NodeId id);
  void split(const std::vector<std::vector<NodeId>>& groups);
  void block(NodeId from, NodeId to);  // one direction only
  void heal();
  void set_network(const NetworkConditions& conditions);

  // --- snapshots (the snapshotter and purger) ------------------------------------------------
  void take_snapshot(NodeId id, std::uint64_t retention);
  std::uint64_t snapshots_installed() const;

  // --- checks --------------------------------------------------------------------------------
  // Log matching over current (and durable) logs; applied entries still in the logs.
  void check_logs(bool durable_views = true);
  // Heals everything, restarts every node, then requires liveness (a leader commits a new
  // write) and convergence, and runs the final checks. False on any failure.
  bool finish(const FinishOptions& options = {});
  bool failed() const { return checker_.failed(); }
  // The failure, the last events and the network/cluster counters.
  std::string report() const;

  SimRandom& rng() { return rng_; }
  EventLog& events() { return events_; }
  const PropertyChecker& checker() const { return checker_; }
  std::uint64_t crashes() const { return crashes_; }
  std::uint64_t config_changes() const { return config_changes_; }  // accepted proposals
  std::uint64_t transfers() const { return transfers_; }            // accepted requests

 private:
  // NodeHooks
  void send(raft::Message message) override;
  void applied(NodeId node, const Entry& entry, std::uint64_t term) override;
  void read_confirmed(NodeId node, const raft::ReadState& read) override;
  void read_failed(NodeId node, std::uint64_t request_id) override;
  void observe(NodeId node) override;
  std::size_t surviving_writes(NodeId node, std::size_t unsynced) override;
  void crashed(NodeId node) override;
  void fail(std::string property, std::string detail) override;
  void snapshot_taken(NodeId node, const LogId& at, const std::vector<Entry>& state) override;
  const std::vector<Entry>* snapshot_data(const LogId& at) override;

  bool converged() const;
  // A node no configuration ever made a voter must never vote or lead (§4.2.1).
  bool never_voter(NodeId id) const { return ever_voters_.count(id) == 0; }
  bool member(NodeId id) const;
  bool acked_since(std::size_t first, const std::string& key_prefix) const;

  ClusterOptions options_;
  SimRandom rng_;
  EventLog events_;
  SimNetwork network_;
  PropertyChecker checker_;
  std::vector<std::unique_ptr<SimNode>> nodes_;  // node id i at [i - 1]
  std::vector<std::uint64_t> paused_until_;
  std::vector<std::uint64_t> last_commit_;  // per node, since its last start
  std::uint64_t now_ = 0;
  std::uint64_t proposals_ = 0;
  std::uint64_t read_ids_ = 0;
  std::uint64_t crashes_ = 0;
  std::uint64_t config_changes_ = 0;
  std::uint64_t transfers_ = 0;
  std::map<LogId, std::vector<Entry>> snapshots_;  // every snapshot taken, by last entry
  std::set<NodeId> ever_voters_;  // voters of any configuration any node used
};

}  // namespace raftor::sim
