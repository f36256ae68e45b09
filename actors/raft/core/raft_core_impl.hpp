// RaftCore's state and the functions each role file implements. Internal to core/:
//   raft_core.cpp   the public API, the term rules every message passes, timers, Ready
//   election.cpp    role transitions, pre-vote, RequestVote and its answers
//   follower.cpp    AppendEntries on the receiving side
//   replication.cpp the leader: proposals, per-follower progress, heartbeats, commit
//   leader_reads.cpp ReadIndex and the leader lease
//   snapshots.cpp   InstallSnapshot on both sides (Raft §7)
//   membership.cpp  configuration changes (thesis chapter 4)
//   transfer.cpp    leadership transfer (thesis §3.10)
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "raftor/actors/raft/core/config_history.hpp"
#include "raftor/actors/raft/core/progress.hpp"
#include "raftor/actors/raft/core/raft_core.hpp"
#include "raftor/actors/raft/core/read_index.hpp"

namespace raftor::raft {

using MessageBody = decltype(Message::body);

struct RaftCore::Impl {
  Impl(RaftConfig config, RaftLog& raft_log, std::uint64_t applied_index,
       const std::optional<SnapshotMetadata>& snapshot);

  // --- raft_core.cpp: common rules --------------------------------------------------
  void tick();
  void step(const Message& m);
  Ready take_ready();
  CoreStatus status() const;
  void on_synced(std::uint64_t synced_index);
  void on_applied(std::uint64_t applied_index);

  bool voter(NodeId node) const;
  bool learner(NodeId node) const;
  Error not_leader_error() const;
  std::size_t quorum() const { return voters.size() / 2 + 1; }
  void persist_hard_state();
  void reset_election_timer();
  std::uint64_t random();
  bool in_lease() const;
  // Largest index <= `index` whose term is <= `term` (etcd's findConflictByTerm): the last
  // entry that can still match a log whose entry at `index` has term `term`.
  std::uint64_t find_conflict_by_term(std::uint64_t index, std::uint64_t term) const;
  std::uint64_t term_or_zero(std::uint64_t index) const;
  void send_now(NodeId to, std::uint64_t msg_term, MessageBody body);
  void send_after_sync(NodeId to, std::uint64_t msg_term, MessageBody body);
  void reject_stale(const Message& m);

  // --- election.cpp -----------------------------------------------------------------
  void become_follower(std::uint64_t new_term, NodeId new_leader);
  void campaign();
  void become_pre_candidate();
  void become_candidate(bool leadership_transfer = false);
  void become_leader();
  void handle_vote_request(const Message& m, const VoteRequest& req);
  void handle_vote_response(const Message& m, const VoteResponse& resp);
  // Records one voter's answer; returns whether the election is now won or lost.
  enum class Tally : std::uint8_t { pending, won, lost };
  Tally record_vote(NodeId from, bool granted);

  // --- follower.cpp -----------------------------------------------------------------
  void handle_append_request(const Message& m, const AppendRequest& req);

  // --- replication.cpp (leader) -----------------------------------------------------
  Result<std::uint64_t> propose(std::vector<std::string>& payloads, EntryType type);
  void tick_leader();
  void flush_appends();
  void send_entries(Progress& pr);
  void send_empty_append(Progress& pr, std::uint64_t context);
  void broadcast_heartbeat();
  void handle_append_response(const Message& m, const AppendResponse& resp);
  Progress* progress_of(NodeId node);
  void maybe_commit();
  bool quorum_active() const;
  std::uint64_t self_match() const;

  // --- snapshots.cpp ------------------------------------------------------------------
  void start_snapshot(Progress& pr);
  void report_snapshot(NodeId follower, bool ok);
  void handle_snapshot_request(const Message& m, const SnapshotRequest& req);
  void on_snapshot_installed(const SnapshotMetadata& snapshot);

  // --- membership.cpp ---------------------------------------------------------------
  void load_config_from_log();
  // Thesis §4.1: configuration entries take effect as soon as they are in the log.
  void note_config_entries(std::span<const Entry> entries);
  void note_log_truncated(std::uint64_t from);
  // Makes configs.current() the configuration in force: quorums, role, leader progress.
  void adopt_config();
  void sync_peers();
  Result<std::uint64_t> propose_config_change(const ConfigChange& change);
  void maybe_promote_learner();
  void forget_removed_peers();
  void maybe_step_down_removed();
  Membership membership_at(std::uint64_t index) const;

  // --- transfer.cpp -------------------------------------------------------------------
  Status transfer_leadership(NodeId target);
  void maybe_send_timeout_now(Progress& pr);
  void tick_transfer();
  void handle_timeout_now(const Message& m);
  Progress* most_up_to_date_voter();

  // --- leader_reads.cpp -------------------------------------------------------------
  Status read_index(std::uint64_t request_id);
  bool lease_valid() const;
  void on_leader_commit_advanced();
  void on_read_ack(Progress& pr, std::uint64_t context);
  void flush_reads();
  void fail_reads();

  // --- configuration and storage ----------------------------------------------------
  RaftConfig cfg;
  RaftLog& log;
  ConfigHistory configs;       // the configurations of the log, latest in force (§4.1)
  Membership in_force;         // configs.current() as last adopted
  std::vector<NodeId> voters;    // sorted, of in_force
  std::vector<NodeId> learners;  // sorted, of in_force
  bool self_voter = false;
  bool config_changed = false;  // Ready::membership pending

  // --- persistent state (Raft figure 2), mirrored from log.hard_state() -------------
  std::uint64_t term = 0;
  NodeId voted_for = 0;

  // --- volatile state ---------------------------------------------------------------
  Role role = Role::follower;
  NodeId leader = 0;
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  std::uint64_t handed = 0;  // last index handed to the state machine via Ready
  std::uint64_t synced = 0;  // the log is durable up to here

  // --- timers (in ticks) ------------------------------------------------------------
  std::uint64_t now = 0;  // ticks since construction
  std::uint32_t election_elapsed = 0;
  std::uint32_t heartbeat_elapsed = 0;
  std::uint32_t randomized_timeout = 0;
  std::uint64_t rng = 0;

  // --- candidate --------------------------------------------------------------------
  std::vector<std::pair<NodeId, bool>> votes;

  // --- leader -----------------------------------------------------------------------
  std::vector<Progress> peers;  // every other voter and learner
  bool term_committed = false;  // an entry of the current term is committed (§5.4.2)
  ReadTracker reads;
  std::uint64_t lease_start = 0;  // send tick + 1 of what a quorum acknowledged; 0 none
  // Leadership transfer (thesis §3.10): the voter being handed leadership (0: none), the
  // ticks since it started, the tick TimeoutNow last went out. Once TimeoutNow is sent,
  // voters may elect the target despite their lease promise: no lease reads this term.
  NodeId transfer_target = 0;
  std::uint32_t transfer_elapsed = 0;
  std::uint64_t timeout_now_tick = UINT64_MAX;
  bool lease_revoked = false;

  // --- output, collected by take_ready() --------------------------------------------
  std::vector<Message> out_now;
  std::vector<Message> out_after_sync;
  bool dirty = false;
  std::vector<ReadState> ready_reads;
  std::vector<std::uint64_t> failed_reads;
  std::vector<NodeId> snapshots_to_send;
  std::optional<SnapshotMetadata> snapshot_to_install;

  // --- follower: a snapshot being installed by the driver ------------------------------
  std::optional<LogId> installing;

  // Reused buffers (no allocation per proposal or per acknowledgement).
  std::vector<Entry> scratch_entries;
  std::vector<std::uint64_t> scratch_values;
};

}  // namespace raftor::raft
