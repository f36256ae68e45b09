// One simulated server: a RaftCore over a MemoryRaftLog (in a SimLog: it survives crashes,
// minus all or part of its unsynced tail) and a MemoryStateMachine (which does not: a
// restart rebuilds it from a prefix of what was applied, as if that much had been flushed,
// but never less than its newest snapshot, which is durable). Snapshots are the applied
// state itself; a "transfer" is one SnapshotRequest message, lost or delivered by the
// simulated network like any other.
// process_ready() is the driver loop of the real Raft actor, step for step.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "raftor/actors/raft/core/raft_config.hpp"
#include "raftor/actors/raft/core/raft_core.hpp"
#include "raftor/storage/memory_state_machine.hpp"
#include "sim_log.hpp"

namespace raftor::sim {

// What a node reports to its cluster.
class NodeHooks {
 public:
  virtual ~NodeHooks() = default;
  virtual void send(raft::Message message) = 0;
  // `term` is the node's current term when it applies the entry.
  virtual void applied(NodeId node, const Entry& entry, std::uint64_t term) = 0;
  virtual void read_confirmed(NodeId node, const raft::ReadState& read) = 0;
  virtual void read_failed(NodeId node, std::uint64_t request_id) = 0;
  virtual void observe(NodeId node) = 0;  // after every input to the core
  // How many of the `unsynced` writes a crash keeps (0: MemoryRaftLog::crash() exactly).
  virtual std::size_t surviving_writes(NodeId node, std::size_t unsynced) = 0;
  virtual void crashed(NodeId node) = 0;
  virtual void fail(std::string property, std::string detail) = 0;
  // Snapshots: a node took one of its applied state (every node's snapshot at the same
  // entry must be identical); the content a node installs.
  virtual void snapshot_taken(NodeId node, const LogId& at, const std::vector<Entry>& state) = 0;
  virtual const std::vector<Entry>* snapshot_data(const LogId& at) = 0;
};

class SimNode {
 public:
  // reply_before_sync: a deliberately broken driver that sends votes and acknowledgements
  // before the log is durable; only the harness's self-test uses it.
  SimNode(raft::RaftConfig config, NodeHooks& hooks, bool reply_before_sync = false);
  ~SimNode();

  NodeId id() const { return config_.id; }
  bool up() const { return core_ != nullptr; }

  // Starts (or restarts) the node with the first `keep_applied` entries it applied before
  // still in its state machine; the core resumes from there (RaftCore's `applied`).
  void start(std::uint64_t keep_applied, std::uint64_t core_seed);
  // Crashes now: unsynced log writes are lost (all or a suffix of them), the state machine
  // is gone.
  void crash();
  // Crashes at the next sync point: after send_now went out, before the log is synced
  // (the leader replicated entries it never made durable itself).
  void crash_before_next_sync() { crash_before_sync_ = true; }
  void cancel_pending_crash() { crash_before_sync_ = false; }

  // Snapshots its applied state (as the snapshotter does, durably) and purges its log
  // below the snapshot minus `retention` entries (as the purger does).
  void take_snapshot(std::uint64_t retention);

  void tick();
  void step(const raft::Message& message);
  Result<std::uint64_t> propose(std::vector<std::string> payloads);
  Result<std::uint64_t> propose_config_change(const raft::ConfigChange& change);
  Status transfer_leadership(NodeId target);
  Status read_index(std::uint64_t request_id);
  bool lease_valid() const { return core_->lease_valid(); }
  // The driver loop: drains take_ready() exactly as the Raft actor does.
  void process_ready();

  raft::CoreStatus status() const;  // of a stopped node: what its log says
  const RaftLog& log() const { return log_; }
  MemoryRaftLog durable_log() const;  // what a crash now would leave
  std::uint64_t applied() const { return applied_; }
  const std::vector<Entry>& applied_entries() const { return applied_entries_; }
  std::uint64_t incarnation() const { return incarnation_; }
  LogId snapshot() const { return snapshot_; }
  std::uint64_t snapshots_installed() const { return snapshots_installed_; }

 private:
  bool apply(std::uint64_t from, std::uint64_t to);  // false: the stream is broken
  void send_snapshot(NodeId to);
  bool install_snapshot(const SnapshotMetadata& snapshot);

  raft::RaftConfig config_;
  NodeHooks& hooks_;
  SimLog log_;
  std::unique_ptr<MemoryStateMachine> sm_;
  std::unique_ptr<raft::RaftCore> core_;
  std::uint64_t applied_ = 0;
  std::vector<Entry> applied_entries_;  // the state machine's content, entry by entry
  std::uint64_t incarnation_ = 0;
  bool crash_before_sync_ = false;
  bool reply_before_sync_ = false;
  // The newest snapshot on this node's disk (taken or installed): survives crashes.
  LogId snapshot_;
  Membership snapshot_membership_;  // the configuration at snapshot_ (Raft §7)
  std::uint64_t snapshots_installed_ = 0;
  // Transfers in flight, by follower: the tick at which an unanswered one counts as
  // failed (the real sender times out the same way).
  std::vector<std::pair<NodeId, std::uint64_t>> transfers_;
  std::uint64_t ticks_ = 0;
};

}  // namespace raftor::sim
