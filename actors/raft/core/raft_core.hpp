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

// One single-server membership change (thesis §4.1): at most one is uncommitted at a time.
enum class ConfigChangeType : std::uint8_t {
  add_learner,  // a new node that receives the log (or a snapshot) but does not vote yet
  promote,      // a learner becomes a voter
  remove,       // a voter or learner leaves the cluster
};
const char* to_string(ConfigChangeType type);

struct ConfigChange {
  ConfigChangeType type = ConfigChangeType::add_learner;
  NodeId node = 0;
  std::string address;  // add_learner: how peers reach it (kept in the membership); optional
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
  // The configuration this node uses changed (a configuration entry was appended or
  // truncated, or a snapshot installed; thesis §4.1): connect to new members, drop
  // removed ones. Set once per change, with the configuration now in force.
  std::optional<Membership> membership;

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
  Membership membership;          // the configuration in force (latest in the log, §4.1)
  std::uint64_t config_index = 0; // the entry that set it (0: bootstrap; snapshot index)
  bool config_pending = false;    // that entry is not committed yet
  NodeId transferring_to = 0;     // leader: a leadership transfer to this voter is under way
};

class RaftCore {
 public:
  // Restart recovery: term and vote come from log.hard_state(). `applied` is the state
  // machine's last_applied index: everything up to it was committed. `config` must pass
  // validate(). `log` must outlive the core. `snapshot`: the newest local snapshot, whose
  // membership is the configuration at its index; configuration entries after it in the
  // log override it, and without either the bootstrap config.voters/learners apply.
  RaftCore(RaftConfig config, RaftLog& log, std::uint64_t applied = 0,
           const std::optional<SnapshotMetadata>& snapshot = std::nullopt);
  ~RaftCore();
  RaftCore(const RaftCore&) = delete;
  RaftCore& operator=(const RaftCore&) = delete;

  void tick();
  void step(const Message& message);

  // Leader only: appends the payloads as entries of the current term (one log write for
  // the whole batch: group commit). Returns the index of the first. not_leader otherwise,
  // with the known leader's id in the message ("leader=N"); busy while a leadership
  // transfer is under way (thesis §3.10: retry, at the new leader). Configuration entries
  // only through propose_config_change().
  Result<std::uint64_t> propose(std::vector<std::string> payloads,
                                EntryType type = EntryType::normal);

  // Leader only: appends a configuration entry for one single-server change (thesis
  // §4.1); it takes effect at once, committed or not. Returns its index. Errors:
  // not_leader; busy while another change is uncommitted, while no entry of this term is
  // committed yet (the §4.1 safety fix) or during a leadership transfer; invalid_argument
  // for a change that does not fit the configuration (adding a member, promoting a voter
  // or a non-member, removing a non-member or the last voter).
  Result<std::uint64_t> propose_config_change(const ConfigChange& change);

  // Leader only: hands leadership to `target` (0: the voter with the most of our log),
  // thesis §3.10. Proposals get busy until the transfer ends; the target is caught up,
  // then sent TimeoutNow. Aborted after an election timeout. invalid_argument for a
  // learner, a non-member, ourselves or a cluster with no other voter; busy if a transfer
  // to another node is under way.
  Status transfer_leadership(NodeId target = 0);

  // The configuration in force at log index `index` (for the metadata of a snapshot taken
  // there). Valid from the node's applied index onwards.
  Membership membership_at(std::uint64_t index) const;

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
  CoreStatus status() const;  // copies the membership: off the per-request paths
  // What the driver consults per request and per ready cycle, without a copy.
  Role role() const;
  std::uint64_t term() const;
  NodeId leader() const;
  std::uint64_t commit() const;
  NodeId transferring_to() const;
  bool config_pending() const;

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
