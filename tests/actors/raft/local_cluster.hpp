// An in-process cluster of Raft actors (one actor system, LocalTransport between them),
// on real RocksDB logs in a temporary directory: for tests of the actors end to end and
// for the in-process benchmark. Nodes can be stopped, restarted and partitioned.
#pragma once

#include <caf/all.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "raftor/actors/interfaces.hpp"
#include "raftor/actors/raft/peer_transport.hpp"
#include "raftor/actors/raft/raft_actor.hpp"

namespace raftor::testing {

enum class StateMachineKind { memory, rocksdb };

struct LocalClusterOptions {
  int nodes = 3;
  StateMachineKind state_machine = StateMachineKind::memory;
  std::chrono::milliseconds tick{5};
  std::uint32_t election_ticks = 20;
  std::uint32_t heartbeat_ticks = 2;
  std::uint32_t lease_ticks = 0;
  bool sync = true;  // fsync the logs
  std::uint64_t seed = 1;
  // RaftConfig::promote_learner_lag: automatic promotion of learners; nullopt: by command.
  std::optional<std::uint64_t> promote_learner_lag;
  // Snapshots and purging: off here unless a test turns them on; `dir` is set per node
  // (<node dir>/snapshots).
  SnapshotConfig snapshot = [] {
    SnapshotConfig c;
    c.enabled = false;
    return c;
  }();
};

// Snapshots on, with a policy that only the test's own settings trigger: every
// `every_entries` applied entries, keeping `retention` entries of log below each.
LocalClusterOptions snapshot_options(std::uint64_t every_entries, std::uint64_t retention,
                                     StateMachineKind kind = StateMachineKind::rocksdb);

// An actor system configuration with raftor's message types registered, for the systems
// that in-process clusters run in.
caf::actor_system_config& test_system_config();

class LocalCluster {
 public:
  LocalCluster(caf::actor_system& system, LocalClusterOptions options);
  ~LocalCluster();  // stops every node, removes the directory

  void start(NodeId id);  // (re)starts a node on its existing directory
  // Stops the node's actors and waits for them (until they released its state machine).
  void stop(NodeId id);
  void start_all();
  // Starts a node that joins the running cluster: a learner of its bootstrap configuration
  // (the founding voters), waiting to be added (member()).
  void start_joining(NodeId id);

  // Polls status until one node is leader of a term that a majority agrees on.
  std::optional<NodeId> wait_for_leader(std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                        std::optional<NodeId> excluding = std::nullopt);
  NodeStatus status(NodeId id);
  bool running(NodeId id) const { return actors_.count(id) != 0; }

  // Client operations against one node (no retry).
  ClientReply propose(NodeId id, std::string payload,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ClientReply read(NodeId id, std::vector<std::string> keys, ReadConsistency consistency,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // With leader discovery and retries on not_leader/timeout until `deadline`.
  ClientReply write(const std::string& payload,
                    std::chrono::milliseconds deadline = std::chrono::seconds(10));
  ClientReply put(const std::string& key, const std::string& value,
                  std::chrono::milliseconds deadline = std::chrono::seconds(10));
  ClientReply get(const std::string& key, ReadConsistency consistency,
                  std::chrono::milliseconds deadline = std::chrono::seconds(10));
  // Membership change and leadership transfer at one node (no retry), and with leader
  // discovery and retries (not_leader, busy, timeout) until `deadline`.
  ClientReply member(NodeId id, MembershipChange change,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ClientReply member(MembershipChange change,
                     std::chrono::milliseconds deadline = std::chrono::seconds(10));
  ClientReply transfer(NodeId id, NodeId target,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5));

  raft_actor actor(NodeId id) const { return actors_.at(id); }
  LocalTransport& transport() { return *transport_; }
  // stop() waits for the node's actors to release its state machine: do not keep this
  // pointer across stop().
  std::shared_ptr<StateMachine> state_machine(NodeId id) const { return state_machines_.at(id); }
  std::filesystem::path node_dir(NodeId id) const { return dir_ / ("n" + std::to_string(id)); }
  std::filesystem::path snapshot_dir(NodeId id) const { return node_dir(id) / "snapshots"; }
  const std::vector<NodeId>& ids() const { return ids_; }

 private:
  // One request to one node's Raft actor; a timeout or an actor error becomes a !ok reply.
  template <class... Ts>
  ClientReply ask(NodeId id, std::chrono::milliseconds timeout, Ts&&... request) {
    caf::scoped_actor self{system_};
    ClientReply out;
    out.code = static_cast<std::uint8_t>(ErrorCode::timeout);
    out.message = "no reply";
    self->request(actors_.at(id), timeout, std::forward<Ts>(request)...)
        .receive([&](ClientReply& r) { out = std::move(r); },
                 [&](const caf::error& e) { out.message = caf::to_string(e); });
    return out;
  }
  ClientReply with_retries(std::chrono::milliseconds deadline,
                           const std::function<ClientReply(NodeId)>& attempt);

  caf::actor_system& system_;
  LocalClusterOptions options_;
  std::filesystem::path dir_;
  std::vector<NodeId> ids_;       // every node ever started (founders first)
  std::vector<NodeId> founders_;  // the bootstrap voters
  std::set<NodeId> joiners_;
  std::shared_ptr<LocalTransport> transport_ = std::make_shared<LocalTransport>();
  std::map<NodeId, raft_actor> actors_;
  std::map<NodeId, std::shared_ptr<StateMachine>> state_machines_;
  NodeId last_leader_ = 0;
};

}  // namespace raftor::testing
