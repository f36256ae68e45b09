// The Raft protocol as a deterministic state machine: no threads, timers, sockets or
// fsync. Inputs are tick(), step(message), propose(), read_index(), on_synced() and
// on_applied(); outputs are collected by take_ready(). Writes to the log go through the
// RaftLog interface but are only *buffered* there: the driver must sync() the log before
// it sends the messages in Ready::send_after_sync (Raft figure 2: persist before answering).
// Modelled on etcd's raft (role logic as a step function) with LogCabin-style comments:
// each rule is cited next to its code.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "raftor/actors/raft/core/raft_config.hpp"
#include "raftor/actors/raft/core/raft_messages.hpp"
#include "raftor/storage/raft_log.hpp"

namespace raftor::raft {

enum class Role : std::uint8_t { follower, pre_candidate, candidate, leader, learner };
const char* to_string(Role role);

// A linearizable read confirmed by a quorum (thesis §6.4): serve it once the state machine
// has applied up to read_index.
struct ReadState {
  std::uint64_t request_id = 0;
  std::uint64_t read_index = 0;
};

struct Ready {
  // Leader replication (AppendEntries carrying new entries, heartbeats): may be sent while
  // the leader's own log write is still being synced (thesis §10.2.1).
  std::vector<Message> send_now;
  // Everything else (votes, vote requests, append responses): send only after sync().
  std::vector<Message> send_after_sync;
  // The log was written since the last on_synced(): sync it, then call on_synced().
  bool needs_sync = false;
  // Committed entries newly ready for the state machine: indexes [apply_from, apply_to].
  // Only entries the driver reported durable (on_synced) are handed over, so a restarted
  // state machine is never ahead of its log: after on_synced(), take_ready() again.
  std::uint64_t apply_from = 0;
  std::uint64_t apply_to = 0;  // 0 when nothing new
  std::vector<ReadState> reads;
  std::vector<std::uint64_t> failed_reads;  // request ids: leadership lost before confirmation
  // Leader: these followers need entries this leader purged: send each the newest local
  // snapshot (Raft §7), then report_snapshot() if the transfer fails.
  std::vector<NodeId> send_snapshot;
  // Follower: a received snapshot to install into the state machine, after which the
  // driver calls on_snapshot_installed(). Entries handed over earlier are applied first.
  std::optional<SnapshotMetadata> install_snapshot;

  bool empty() const;
};

struct CoreStatus {
  NodeId id = 0;
  Role role = Role::follower;
  std::uint64_t term = 0;
  NodeId leader = 0;  // 0 = unknown
  NodeId voted_for = 0;
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  LogId last_log;
  std::uint64_t first_index = 0;
};

class RaftCore {
 public:
  // Restart recovery: term and vote come from log.hard_state(). `applied` is the state
  // machine's last_applied index: everything up to it was committed. `config` must pass
  // validate(). `log` must outlive the core.
  RaftCore(RaftConfig config, RaftLog& log, std::uint64_t applied = 0);
  ~RaftCore();
  RaftCore(const RaftCore&) = delete;
  RaftCore& operator=(const RaftCore&) = delete;

  void tick();
  void step(const Message& message);

  // Leader only: appends the payloads as entries of the current term (one log write for
  // the whole batch: group commit). Returns the index of the first. not_leader otherwise,
  // with the known leader's id in the message ("leader=N").
  Result<std::uint64_t> propose(std::vector<std::string> payloads,
                                EntryType type = EntryType::normal);

  // Starts a linearizable read (thesis §6.4). Its outcome arrives in Ready::reads or
  // Ready::failed_reads under `request_id`. Not leader: not_leader error at once.
  Status read_index(std::uint64_t request_id);
  // Whether the leader may answer reads from its state machine without a round trip now
  // (leader lease, lease_ticks > 0, and an entry of its term committed).
  bool lease_valid() const;

  void on_synced(std::uint64_t synced_index);   // the driver synced the log up to here
  void on_applied(std::uint64_t applied_index); // the state machine applied up to here

  // Follower: the state machine now holds the snapshot Ready::install_snapshot named
  // (durably). The log is aligned with it (Raft §7) and the leader is told.
  void on_snapshot_installed(const SnapshotMetadata& snapshot);
  // Leader: the snapshot transfer to `follower` ended. Success or failure, replication
  // probes again; a follower still behind the log's start gets a new transfer.
  void report_snapshot(NodeId follower, bool ok);

  Ready take_ready();
  CoreStatus status() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Restart recovery for a node whose state machine installed a snapshot but crashed before
// its log followed (the log is aligned after the state machine, so this order is the only
// one a crash can leave): a log that does not hold the state machine's last applied entry
// is cut so that it continues right after it. Call before constructing RaftCore; syncs.
Status align_log_with_state_machine(RaftLog& log, const LogId& applied);

}  // namespace raftor::raft
