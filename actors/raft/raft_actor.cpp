#include "raftor/actors/raft/raft_actor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "raftor/actors/network/host_port.hpp"
#include "raftor/actors/purger/purger.hpp"
#include "raftor/actors/raft/core/config_history.hpp"
#include "raftor/actors/snapshotter/snapshot_receiver.hpp"
#include "raftor/actors/snapshotter/snapshot_sender.hpp"
#include "raftor/actors/snapshotter/snapshotter.hpp"
#include "raftor/storage/command.hpp"

namespace raftor {

namespace {
ClientReply error_reply(ErrorCode code, std::string message) {
  ClientReply reply;
  reply.code = static_cast<std::uint8_t>(code);
  reply.message = std::move(message);
  return reply;
}
}  // namespace

RaftActor::RaftActor(caf::actor_config& cfg, RaftActorConfig config, std::unique_ptr<RaftLog> log,
                     std::shared_ptr<StateMachine> state_machine,
                     std::shared_ptr<PeerTransport> transport)
    : raft_actor::base(cfg),
      config_(std::move(config)),
      log_(std::move(log)),
      sm_(std::move(state_machine)),
      transport_(std::move(transport)) {
  // Restart recovery: the state machine's last_applied says what is already applied; the
  // core reloads term and vote from the log, and entries after last_applied are re-applied
  // as the commit index is learned again. If the log no longer holds the entries after
  // last_applied, the newest local snapshot stands in for them.
  open_snapshot_store();
  restore_from_snapshot();
  // A crash between installing a snapshot into the state machine and cutting the log
  // leaves a log that does not reach the state machine's last entry: finish the cut.
  if (!startup_error_) {
    const LogId sm_applied = sm_->last_applied();
    if (sm_applied.index > log_->last_index()) {
      const auto snapshot = sm_->snapshot_metadata();
      if (snapshot && snapshot->last_included == sm_applied) {
        spdlog::info("node {}: completing the install of the snapshot at index {}: the log "
                     "continues after it", config_.raft.id, sm_applied.index);
      } else {
        // Not a snapshot install: entries the log had synced are gone (a damaged disk or a
        // truncated file). The state machine still holds them; the leader notices that the
        // log is shorter than what this node acknowledged and sends the rest again.
        spdlog::error("node {}: the log ends at index {} but the state machine applied up "
                      "to {}: the log lost entries it had synced (damaged or truncated "
                      "files?). Continuing from the state machine's state; the leader "
                      "re-sends what is missing", config_.raft.id, log_->last_index(),
                      sm_applied.index);
      }
    }
    if (auto s = raft::align_log_with_state_machine(*log_, sm_applied); !s) {
      startup_error_ = s.error();
    }
  }
  applied_ = sm_->last_applied().index;
  // The newest snapshot (installed in the state machine, or in the store) records the
  // configuration below the log's start (thesis §4.1); the log's entries override it.
  std::optional<SnapshotMetadata> newest = newest_snapshot();
  if (newest) snapshot_index_ = newest->last_included.index;
  core_ = std::make_unique<raft::RaftCore>(config_.raft, *log_, applied_, newest);
}

RaftActor::~RaftActor() = default;

std::optional<SnapshotMetadata> RaftActor::newest_snapshot(std::uint64_t at_most) const {
  std::optional<SnapshotMetadata> newest = sm_->snapshot_metadata();
  if (newest && newest->last_included.index > at_most) newest.reset();
  if (auto latest = store_ ? store_->latest() : std::nullopt;
      latest && latest->last_included.index <= at_most &&
      (!newest || latest->last_included.index > newest->last_included.index)) {
    newest = std::move(latest);
  }
  return newest;
}

RaftActor::behavior_type RaftActor::make_behavior() {
  if (startup_error_) {
    fail(*startup_error_);
  } else {
    config_.handler.snapshots = store_ != nullptr;
    handler_ = spawn<StateMachineHandler, caf::detached + caf::linked>(
        sm_, caf::actor_cast<raft_actor>(this), config_.handler);
    replay_applied_requests();  // before any entry is dispatched to the handler
    spawn_snapshotter();
    delayed_send(this, config_.tick_interval, tick_atom::value);
    announce_membership(core_->status());  // restored from the snapshot and the log
  }
  return {
      [this](propose_atom, std::string& payload) { return propose(std::move(payload)); },
      [this](read_atom, std::vector<std::string>& keys, ReadConsistency consistency) {
        return read(std::move(keys), consistency);
      },
      [this](status_atom) { return node_status(); },
      [this](member_atom, const MembershipChange& change) { return change_membership(change); },
      [this](transfer_atom, NodeId target) { return transfer_leadership(target); },
      [this](membership_atom, std::uint64_t index) { return core_->membership_at(index); },
      [this](peer_atom, raft::Message& message) { route_peer_message(message); },
      [this](applied_atom, AppliedEntries& entries) { applied(std::move(entries)); },
      [this](tick_atom) {
        if (++ticks_since_progress_ >= kProgressTicks) {
          ticks_since_progress_ = 0;
          report_progress(true);
        }
        core_->tick();
        schedule_ready();
        delayed_send(this, config_.tick_interval, tick_atom::value);
      },
      [this](ready_atom) {
        ready_scheduled_ = false;
        process_ready();
      },
      [this](snapshot_atom) { return snapshot(); },
      [this](snap_done_atom, const SnapshotMetadata& metadata) {
        snapshot_index_ = std::max(snapshot_index_, metadata.last_included.index);
      },
      [this](purge_atom, std::uint64_t index) { purge(index); },
      [this](snap_sent_atom, NodeId to, bool ok) {
        // Success needs no report: the follower's own acknowledgement, sent once it has
        // installed the snapshot, moves replication on. A failure lets the core retry.
        if (!ok) {
          core_->report_snapshot(to, false);
          schedule_ready();
        }
      },
      [this](snap_recv_atom, NodeId from, std::uint64_t term, SnapshotMetadata& metadata) {
        snapshot_index_ = std::max(snapshot_index_, metadata.last_included.index);
        // Raft sees the whole transfer as one InstallSnapshot of the leader's term (§7).
        core_->step(raft::Message{from, config_.raft.id, term,
                                  raft::SnapshotRequest{std::move(metadata)}});
        schedule_ready();
      },
  };
}

void RaftActor::route_peer_message(raft::Message& message) {
  // Snapshot chunks go to the receiver, their acknowledgements to the sender: both work
  // beside the core so that a large transfer never holds up replication.
  if (std::holds_alternative<raft::SnapshotChunk>(message.body)) {
    if (receiver_) send(receiver_, peer_atom::value, std::move(message));
    return;
  }
  if (std::holds_alternative<raft::SnapshotChunkAck>(message.body)) {
    if (sender_) send(sender_, peer_atom::value, std::move(message));
    return;
  }
  core_->step(message);
  schedule_ready();
}

void RaftActor::open_snapshot_store() {
  const SnapshotConfig& sc = config_.snapshot;
  if (!sc.enabled) return;
  if (sc.dir.empty()) {
    spdlog::warn("node {}: snapshots are on but no directory is configured: they stay off and "
                 "the log is never purged", config_.raft.id);
    return;
  }
  auto store = snapshot::SnapshotStore::open(sc.dir, {.keep = sc.keep});
  if (!store) {
    startup_error_ = store.error();
    return;
  }
  store_ = std::move(store).value();
}

void RaftActor::restore_from_snapshot() {
  const LogId purged = log_->last_purged();
  if (startup_error_ || sm_->last_applied().index >= purged.index) return;
  // The state machine is behind the log's start: it keeps no durable state (or lost it)
  // and the entries it misses were purged. Start from the newest local snapshot.
  auto latest = store_ ? store_->latest() : std::nullopt;
  if (!latest || latest->last_included.index < purged.index) {
    startup_error_ = make_error(
        ErrorCode::corruption,
        "the state machine applied up to " + std::to_string(sm_->last_applied().index) +
            ", the log starts after " + std::to_string(purged.index) +
            " and no local snapshot covers the gap");
    return;
  }
  const auto path = store_->data_path(latest->last_included);
  if (auto s = sm_->apply_snapshot_from_file(*latest, path); !s) {
    startup_error_ = s.error();
    return;
  }
  spdlog::info("node {}: state machine restored from the snapshot at index {}", config_.raft.id,
               latest->last_included.index);
}

void RaftActor::replay_applied_requests() {
  // The entries up to the state machine's last_applied are not applied again, but the
  // handler's deduplication table (memory only) must know their requests, or a retry of
  // one would be applied here and skipped on the other nodes. It starts from the table of
  // the newest snapshot the state covers (thesis §6.3: the table is part of the state),
  // then the log's requests after that snapshot follow. Only ids travel, not payloads:
  // the retained log may be large.
  std::uint64_t from = log_->first_index();
  const std::uint64_t to = std::min(applied_, log_->last_index());
  AppliedRequests first;
  std::optional<SnapshotMetadata> base = newest_snapshot(applied_);
  // An empty table (no client known, or a snapshot written without one): the log's own
  // requests are all there is.
  if (base && !base->client_sessions.empty()) {
    first.sessions = std::move(base->client_sessions);
    first.sessions_index = base->last_included.index;
    from = std::max(from, first.sessions_index + 1);
    send(handler_, replay_atom::value, std::move(first));
  }
  std::size_t replayed = 0;
  while (from <= to) {
    auto entries = log_->entries(from, to + 1, config_.max_apply_bytes);
    if (!entries.ok()) return fail(entries.error());
    if (entries->empty()) break;
    from = entries->back().index + 1;
    AppliedRequests history;
    for (const Entry& e : *entries) {
      if (e.type != EntryType::normal) continue;
      const auto id = command::request_id(e.payload);
      if (id && id->tracked()) history.requests.push_back({e.index, id->client_id, id->sequence});
    }
    replayed += history.requests.size();
    if (!history.requests.empty()) send(handler_, replay_atom::value, std::move(history));
  }
  if (replayed > 0) {
    spdlog::info("node {}: {} client requests applied before the restart replayed into the "
                 "deduplication table", config_.raft.id, replayed);
  }
}

void RaftActor::spawn_snapshotter() {
  if (!store_) return;
  const auto self = caf::actor_cast<raft_actor>(this);
  purger_ = spawn<Purger, caf::linked>(
      self, PurgerConfig{config_.raft.id, config_.snapshot.retention});
  SnapshotterConfig sc;
  sc.id = config_.raft.id;
  sc.policy = config_.snapshot.policy;
  snapshotter_ = spawn<Snapshotter, caf::detached + caf::linked>(sm_, store_, self, handler_,
                                                                 purger_, sc);
  sender_ = spawn<SnapshotSender, caf::detached + caf::linked>(
      config_.raft.id, store_, transport_, self, config_.snapshot.transfer);
  receiver_ = spawn<SnapshotReceiver, caf::detached + caf::linked>(config_.raft.id, store_,
                                                                   transport_, self);
}

void RaftActor::on_exit() {
  if (log_) (void)log_->sync();
  // Drop every handle that points back at actors: the raft actor and its handler hold
  // each other, and a detached actor's thread only ends once its object is destroyed.
  handler_ = nullptr;
  snapshotter_ = nullptr;
  purger_ = nullptr;
  sender_ = nullptr;
  receiver_ = nullptr;
  store_.reset();
  batch_promises_.clear();
  transfer_promises_.clear();
  pending_writes_.clear();
  unconfirmed_reads_.clear();
  waiting_reads_.clear();
  core_.reset();
  log_.reset();
  // Whoever still holds this actor's handle (an endpoint, a pending request) must not keep
  // the state machine or the transport alive: the node's owner waits for them.
  sm_.reset();
  transport_.reset();
}

void RaftActor::schedule_ready() {
  if (ready_scheduled_) return;
  ready_scheduled_ = true;
  send(caf::actor_cast<raft_actor>(this), ready_atom::value);
}

caf::result<ClientReply> RaftActor::propose(std::string payload) {
  // Refuse what the state machine could not decode before it enters the log.
  if (auto s = command::decode(std::string_view(payload), proposal_scratch_); !s) {
    return error_reply(s.error().code, "proposal refused: " + s.error().message);
  }
  if (core_->role() != raft::Role::leader) return not_leader_reply();
  batch_.push_back(std::move(payload));
  batch_promises_.push_back(make_response_promise<ClientReply>());
  schedule_ready();
  return batch_promises_.back();
}

caf::result<ClientReply> RaftActor::read(std::vector<std::string> keys,
                                         ReadConsistency consistency) {
  if (static_cast<std::uint8_t>(consistency) > static_cast<std::uint8_t>(ReadConsistency::eventual)) {
    return error_reply(ErrorCode::invalid_argument, "unknown read consistency");
  }
  if (consistency == ReadConsistency::lease && !core_->lease_valid()) {
    consistency = ReadConsistency::linearizable;  // no valid lease: fall back to ReadIndex
  }
  std::uint64_t read_id = 0;
  if (consistency == ReadConsistency::linearizable) {
    // Refuse before taking the request over with a promise: a reply returned after
    // make_response_promise() would go nowhere.
    read_id = next_read_id_++;
    if (auto s = core_->read_index(read_id); !s.ok()) {
      if (s.error().code == ErrorCode::not_leader) return not_leader_reply();
      return error_reply(s.error().code, s.error().message);
    }
  }
  PendingRead pending{std::move(keys), make_response_promise<ClientReply>(), 0};
  auto promise = pending.promise;
  switch (consistency) {
    case ReadConsistency::eventual:
      serve(std::move(pending));
      break;
    case ReadConsistency::lease:
      // Within the lease no other leader can exist (thesis §6.4.1); the read must still
      // see everything committed so far.
      pending.read_index = core_->commit();
      serve_when_applied(std::move(pending));
      break;
    case ReadConsistency::linearizable:
      unconfirmed_reads_.emplace(read_id, std::move(pending));
      schedule_ready();
      break;
  }
  return promise;
}

void RaftActor::process_ready() {
  // Thesis §3.10: proposals wait while leadership is being handed over; once the transfer
  // ends they are proposed here, or answered not_leader (with the new leader) if it worked.
  if (!batch_.empty() && core_->transferring_to() == 0) {
    const std::uint64_t term = core_->term();
    auto first = core_->propose(std::move(batch_));
    if (first.ok()) {
      for (std::size_t i = 0; i < batch_promises_.size(); ++i) {
        pending_writes_.emplace(*first + i, PendingWrite{term, std::move(batch_promises_[i])});
      }
    } else {
      const ClientReply refusal = first.error().code == ErrorCode::not_leader
                                      ? not_leader_reply()
                                      : error_reply(first.error().code, first.error().message);
      for (auto& promise : batch_promises_) promise.deliver(refusal);
    }
    batch_.clear();
    batch_promises_.clear();
  }
  bool membership_changed = false;
  for (;;) {
    raft::Ready ready = core_->take_ready();
    if (ready.empty()) break;
    for (auto& m : ready.send_now) transport_->send(std::move(m));
    if (ready.needs_sync) {
      const std::uint64_t last = log_->last_index();
      if (auto s = log_->sync(); !s.ok()) return fail(s.error());
      core_->on_synced(last);
    }
    for (auto& m : ready.send_after_sync) transport_->send(std::move(m));
    if (ready.apply_to != 0) dispatch_apply(ready.apply_from, ready.apply_to);
    for (NodeId to : ready.send_snapshot) send_snapshot(to);
    if (ready.install_snapshot) install_snapshot(*ready.install_snapshot);
    membership_changed |= ready.membership.has_value();
    for (const auto& confirmed : ready.reads) {
      auto it = unconfirmed_reads_.find(confirmed.request_id);
      if (it == unconfirmed_reads_.end()) continue;
      it->second.read_index = confirmed.read_index;
      serve_when_applied(std::move(it->second));
      unconfirmed_reads_.erase(it);
    }
    for (std::uint64_t id : ready.failed_reads) {
      auto it = unconfirmed_reads_.find(id);
      if (it == unconfirmed_reads_.end()) continue;
      it->second.promise.deliver(not_leader_reply());
      unconfirmed_reads_.erase(it);
    }
  }
  const bool leader = core_->role() == raft::Role::leader;
  const NodeId leader_id = core_->leader();
  if (was_leader_ && !leader && sender_) send(sender_, cancel_atom::value);
  if (leader && !was_leader_) {
    spdlog::info("node {}: leader of term {} (log up to {})", config_.raft.id, core_->term(),
                 log_->last_index());
  } else if (!leader && leader_id != 0 && leader_id != known_leader_) {
    spdlog::info("node {}: follows node {} in term {}", config_.raft.id, leader_id,
                 core_->term());
  }
  known_leader_ = leader ? config_.raft.id : leader_id;
  was_leader_ = leader;
  if (membership_changed || members_committed_ == core_->config_pending()) {
    announce_membership(core_->status());
  }
  if (!transfer_promises_.empty()) settle_transfers(core_->status());
}

void RaftActor::announce_membership(const raft::CoreStatus& status) {
  const bool committed = !status.config_pending;
  spdlog::info("node {}: configuration {} (index {}{})", config_.raft.id,
               raft::describe(status.membership), status.config_index,
               committed ? ", committed" : ", not committed yet");
  transport_->update_members(status.membership, committed);
  members_committed_ = committed;
}

caf::result<ClientReply> RaftActor::change_membership(const MembershipChange& change) {
  const raft::CoreStatus status = core_->status();
  if (status.role != raft::Role::leader) return not_leader_reply();
  if (static_cast<std::uint8_t>(change.type) >
      static_cast<std::uint8_t>(MembershipChangeType::remove)) {
    return error_reply(ErrorCode::invalid_argument, "unknown membership change");
  }
  if (!change.address.empty()) {
    if (auto address = network::parse_host_port(change.address); !address) {
      return error_reply(ErrorCode::invalid_argument,
                         "node " + std::to_string(change.node) + "'s address: " +
                             address.error().message);
    }
  }
  const raft::ConfigChange core_change{static_cast<raft::ConfigChangeType>(change.type),
                                       change.node, change.address};
  // A retried change whose first attempt committed (its reply was lost) is done: answer
  // as the first attempt would have, without a second entry.
  if (!status.config_pending && raft::already_in_effect(status.membership, core_change)) {
    ClientReply reply;
    reply.ok = reply.succeeded = true;
    reply.index = status.config_index;
    reply.leader = config_.raft.id;
    reply.message = "already in effect";
    return reply;
  }
  auto index = core_->propose_config_change(core_change);
  if (!index.ok()) {
    if (index.error().code == ErrorCode::not_leader) return not_leader_reply();
    return error_reply(index.error().code, index.error().message);
  }
  spdlog::info("node {}: proposed to {} node {} at index {}", config_.raft.id,
               raft::to_string(core_change.type), change.node, *index);
  auto promise = make_response_promise<ClientReply>();
  // Answered like a write: once the entry is applied, if it is still this term's entry.
  pending_writes_.emplace(*index, PendingWrite{status.term, promise});
  schedule_ready();
  return promise;
}

caf::result<ClientReply> RaftActor::transfer_leadership(NodeId target) {
  const raft::CoreStatus status = core_->status();
  ClientReply done;
  done.ok = done.succeeded = true;
  if (status.role != raft::Role::leader) {
    // A retry that reaches the node that took over: the transfer it asked for happened.
    if (target != 0 && status.leader == target) {
      done.leader = target;
      return done;
    }
    return not_leader_reply();
  }
  if (target == config_.raft.id) {
    done.leader = target;
    done.message = "node " + std::to_string(target) + " already leads";
    return done;
  }
  if (auto s = core_->transfer_leadership(target); !s.ok()) {
    return error_reply(s.error().code, s.error().message);
  }
  spdlog::info("node {}: handing leadership to node {}", config_.raft.id,
               core_->transferring_to());
  transfer_promises_.push_back(make_response_promise<ClientReply>());
  schedule_ready();
  return transfer_promises_.back();
}

void RaftActor::settle_transfers(const raft::CoreStatus& status) {
  if (transfer_promises_.empty()) return;
  ClientReply reply;
  if (status.role != raft::Role::leader) {
    // Stepped down: answer once the new leader is known here (the client's next write
    // goes there), or after an election timeout without news.
    const auto now = std::chrono::steady_clock::now();
    if (!transfer_stepped_down_) transfer_stepped_down_ = now;
    if (status.leader == 0 &&
        now - *transfer_stepped_down_ < config_.tick_interval * config_.raft.election_ticks) {
      return;
    }
    reply.ok = reply.succeeded = true;
    reply.leader = status.leader;
    reply.message = "leadership handed over";
  } else if (status.transferring_to == 0) {
    // Thesis §3.10: the target did not take over within an election timeout.
    reply = error_reply(ErrorCode::timeout, "leadership transfer gave up: the target did not "
                                            "take over within an election timeout; node " +
                                                std::to_string(config_.raft.id) + " still leads");
    reply.leader = config_.raft.id;
  } else {
    return;  // under way
  }
  for (auto& promise : transfer_promises_) promise.deliver(reply);
  transfer_promises_.clear();
  transfer_stepped_down_.reset();
}

void RaftActor::send_snapshot(NodeId to) {
  const std::uint64_t term = core_->term();
  const auto latest = store_ ? store_->latest() : std::nullopt;
  if (latest && latest->last_included.index >= log_->last_purged().index) {
    send(sender_, send_snap_atom::value, to, term, *latest);
    return;
  }
  if (!snapshotter_) {
    // Only a log purged by an earlier configuration can get here.
    spdlog::error("node {}: node {} needs a snapshot but snapshots are off here", config_.raft.id,
                  to);
    delayed_send(this, config_.snapshot.transfer.retry_backoff, snap_sent_atom::value, to, false);
    return;
  }
  // No stored snapshot covers the purged log (it was lost): take one now, then send it.
  request(snapshotter_, caf::infinite, snapshot_atom::value)
      .then(
          [this, to, term](SnapshotReply& reply) {
            if (reply.ok && sender_) {
              send(sender_, send_snap_atom::value, to, term, reply.metadata);
            } else {
              spdlog::error("node {}: no snapshot to send to node {}: {}", config_.raft.id, to,
                            reply.message);
              delayed_send(this, config_.snapshot.transfer.retry_backoff, snap_sent_atom::value,
                           to, false);
            }
          },
          [this, to](caf::error&) {
            delayed_send(this, config_.snapshot.transfer.retry_backoff, snap_sent_atom::value, to,
                         false);
          });
}

void RaftActor::install_snapshot(const SnapshotMetadata& metadata) {
  const auto path = store_->data_path(metadata.last_included);
  request(handler_, caf::infinite, install_atom::value, metadata, path.string())
      .then(
          [this](SnapshotReply& reply) {
            if (!reply.ok) {
              // The file was validated when it arrived: a state machine that cannot take
              // it cannot follow the leader any more (as with a failed apply).
              return fail(make_error(static_cast<ErrorCode>(reply.code),
                                     "installing snapshot: " + reply.message));
            }
            snapshot_installed(reply.metadata);
          },
          [this](caf::error& err) {
            fail(make_error(ErrorCode::internal, "installing snapshot: " + caf::to_string(err)));
          });
}

void RaftActor::snapshot_installed(const SnapshotMetadata& metadata) {
  const std::uint64_t index = metadata.last_included.index;
  spdlog::info("node {}: installed the snapshot at index {} term {}", config_.raft.id, index,
               metadata.last_included.term);
  applied_ = std::max(applied_, index);
  snapshot_index_ = std::max(snapshot_index_, index);
  core_->on_snapshot_installed(metadata);
  // Proposals this node made (as an earlier leader) at or below the snapshot: whether
  // they were applied is not known here any more.
  for (auto it = pending_writes_.begin(); it != pending_writes_.end() && it->first <= index;) {
    auto reply = error_reply(ErrorCode::timeout,
                             "outcome unknown: the node installed a snapshot covering entry " +
                                 std::to_string(it->first));
    it->second.promise.deliver(std::move(reply));
    it = pending_writes_.erase(it);
  }
  report_progress(true);
  serve_waiting_reads();
  schedule_ready();
}

void RaftActor::report_progress(bool now) {
  if (!snapshotter_ || applied_ == reported_.applied) return;
  // The snapshotter runs on a thread of its own: a report per applied chunk would wake it
  // hundreds of times a second under load, for a policy that fires every thousands of
  // entries. A report goes once a 64th of a trigger's threshold was applied; the rest
  // waits for the clock (every kProgressTicks ticks), so a trigger fires at most that late.
  const auto& policy = config_.snapshot.policy;
  const bool entries_step =
      policy.max_entries != 0 &&
      applied_ - reported_.applied >= std::max<std::uint64_t>(1, policy.max_entries / 64);
  const bool bytes_step =
      policy.max_log_bytes != 0 &&
      dispatched_bytes_ - reported_.log_bytes >= std::max<std::uint64_t>(1, policy.max_log_bytes / 64);
  if (!now && !entries_step && !bytes_step) return;
  reported_ = ApplyProgress{applied_, dispatched_bytes_};
  send(snapshotter_, progress_atom::value, reported_);
}

void RaftActor::dispatch_apply(std::uint64_t from, std::uint64_t to) {
  while (from <= to) {
    auto entries = log_->entries(from, to + 1, config_.max_apply_bytes);
    if (!entries.ok()) return fail(entries.error());
    from = entries->back().index + 1;
    for (const Entry& e : *entries) dispatched_bytes_ += e.payload.size();
    send(handler_, apply_atom::value, CommittedEntries{std::move(entries).value()});
  }
}

void RaftActor::applied(AppliedEntries entries) {
  if (entries.failed) {
    return fail(make_error(ErrorCode::internal, "state machine failed: " + entries.error));
  }
  applied_ = entries.last_applied.index;
  core_->on_applied(applied_);
  report_progress(false);
  for (std::size_t i = 0; i < entries.results.size(); ++i) {
    const ApplyResult& result = entries.results[i];
    const std::uint64_t applied_term = entries.terms.at(i);
    auto [first, last] = pending_writes_.equal_range(result.index);
    for (auto it = first; it != last; ++it) {
      ClientReply reply;
      // The proposal is what was applied only if the applied entry is of the term it was
      // proposed in; otherwise a later leader replaced it (Raft §5.3).
      if (it->second.term == applied_term) {
        reply.ok = true;
        reply.index = result.index;
        reply.succeeded = result.succeeded();
      } else {
        reply = error_reply(ErrorCode::not_leader,
                            "entry " + std::to_string(result.index) +
                                " was replaced by another leader's: not applied, safe to retry");
        reply.leader = core_->leader();
      }
      it->second.promise.deliver(std::move(reply));
    }
    pending_writes_.erase(first, last);
  }
  // Proposals at or below what is applied that got no result were replaced.
  for (auto it = pending_writes_.begin(); it != pending_writes_.end() && it->first <= applied_;) {
    it->second.promise.deliver(error_reply(ErrorCode::not_leader, "proposal was not committed"));
    it = pending_writes_.erase(it);
  }
  serve_waiting_reads();
  schedule_ready();
}

caf::result<SnapshotReply> RaftActor::snapshot() {
  if (!snapshotter_) {
    SnapshotReply reply;
    reply.code = static_cast<std::uint8_t>(ErrorCode::not_running);
    reply.message = "snapshots are off on node " + std::to_string(config_.raft.id);
    return reply;
  }
  auto promise = make_response_promise<SnapshotReply>();
  request(snapshotter_, caf::infinite, snapshot_atom::value)
      .then([promise](SnapshotReply& reply) mutable { promise.deliver(std::move(reply)); },
            [promise](caf::error& err) mutable {
              SnapshotReply reply;
              reply.code = static_cast<std::uint8_t>(ErrorCode::internal);
              reply.message = "snapshotter: " + caf::to_string(err);
              promise.deliver(std::move(reply));
            });
  return promise;
}

void RaftActor::purge(std::uint64_t index) {
  // Never beyond what this node applied: below the purge point only the state machine
  // (made durable by the snapshotter) holds those entries' effects.
  index = std::min({index, applied_, log_->last_index()});
  if (index <= log_->last_purged().index) return;
  const auto term = log_->term_at(index);
  if (!term) return;
  if (auto s = log_->purge_prefix({index, *term}); !s) return fail(s.error());
  spdlog::debug("node {}: log purged up to {}", config_.raft.id, index);
}

void RaftActor::serve_when_applied(PendingRead read) {
  if (read.read_index <= applied_) return serve(std::move(read));
  waiting_reads_.emplace(read.read_index, std::move(read));
}

void RaftActor::serve_waiting_reads() {
  while (!waiting_reads_.empty() && waiting_reads_.begin()->first <= applied_) {
    serve(std::move(waiting_reads_.begin()->second));
    waiting_reads_.erase(waiting_reads_.begin());
  }
}

void RaftActor::serve(PendingRead read) {
  auto promise = read.promise;
  request(handler_, caf::infinite, read_atom::value, std::move(read.keys))
      .then([promise](ClientReply& reply) mutable { promise.deliver(std::move(reply)); },
            [promise](caf::error& err) mutable {
              promise.deliver(error_reply(ErrorCode::internal,
                                          "state machine handler: " + caf::to_string(err)));
            });
}

NodeStatus RaftActor::node_status() const {
  const auto s = core_->status();
  NodeStatus out;
  out.id = s.id;
  out.role = static_cast<std::uint8_t>(s.role);
  out.term = s.term;
  out.leader = s.leader;
  out.commit = s.commit;
  out.applied = applied_;
  out.first_index = log_->first_index();
  out.last_index = s.last_log.index;
  out.last_term = s.last_log.term;
  out.snapshot_index = snapshot_index_;
  out.membership = s.membership;
  out.config_index = s.config_index;
  out.config_pending = s.config_pending;
  if (auto meta = sm_->snapshot_metadata()) {  // also one installed by other means
    out.snapshot_index = std::max(out.snapshot_index, meta->last_included.index);
  }
  return out;
}

ClientReply RaftActor::not_leader_reply() const {
  const NodeId leader = core_->leader();
  auto reply = error_reply(ErrorCode::not_leader,
                           leader == 0 ? "no leader known" : "leader=" + std::to_string(leader));
  reply.leader = leader;
  return reply;
}

void RaftActor::fail(const Error& error) {
  // A log that cannot be written or a state machine that cannot apply: continuing would
  // risk acknowledging what is not durable. Stop the node; its peers carry on.
  spdlog::critical("node {} stops: {}", config_.raft.id, error.to_string());
  quit(caf::make_error(caf::sec::runtime_error, error.to_string()));
}

}  // namespace raftor
