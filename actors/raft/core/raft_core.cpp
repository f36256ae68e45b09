// The public API, the rules every message passes before its role sees it (terms), the
// timers and the Ready hand-over. Role logic lives in election.cpp, follower.cpp,
// replication.cpp and leader_reads.cpp.
#include "raftor/actors/raft/core/raft_core.hpp"

#include <algorithm>
#include <cassert>
#include <type_traits>
#include <variant>

#include "raftor/actors/raft/core/raft_core_impl.hpp"

namespace raftor::raft {

const char* to_string(Role role) {
  switch (role) {
    case Role::follower: return "follower";
    case Role::pre_candidate: return "pre_candidate";
    case Role::candidate: return "candidate";
    case Role::leader: return "leader";
    case Role::learner: return "learner";
  }
  return "unknown";
}

const char* to_string(ConfigChangeType type) {
  switch (type) {
    case ConfigChangeType::add_learner: return "add learner";
    case ConfigChangeType::promote: return "promote";
    case ConfigChangeType::remove: return "remove";
  }
  return "unknown change";
}

bool Ready::empty() const {
  return send_now.empty() && send_after_sync.empty() && !needs_sync && apply_to == 0 &&
         reads.empty() && failed_reads.empty() && send_snapshot.empty() &&
         !install_snapshot.has_value() && !membership.has_value();
}

// --- RaftCore: forwards to Impl ---------------------------------------------------------

RaftCore::RaftCore(RaftConfig config, RaftLog& log, std::uint64_t applied,
                   const std::optional<SnapshotMetadata>& snapshot)
    : impl_(std::make_unique<Impl>(std::move(config), log, applied, snapshot)) {}
RaftCore::~RaftCore() = default;

void RaftCore::tick() { impl_->tick(); }
void RaftCore::step(const Message& message) { impl_->step(message); }
Result<std::uint64_t> RaftCore::propose(std::vector<std::string> payloads, EntryType type) {
  return impl_->propose(payloads, type);
}
Result<std::uint64_t> RaftCore::propose_config_change(const ConfigChange& change) {
  return impl_->propose_config_change(change);
}
Status RaftCore::transfer_leadership(NodeId target) { return impl_->transfer_leadership(target); }
Membership RaftCore::membership_at(std::uint64_t index) const {
  return impl_->membership_at(index);
}
Status RaftCore::read_index(std::uint64_t request_id) { return impl_->read_index(request_id); }
bool RaftCore::lease_valid() const { return impl_->lease_valid(); }
void RaftCore::on_synced(std::uint64_t synced_index) { impl_->on_synced(synced_index); }
void RaftCore::on_applied(std::uint64_t applied_index) { impl_->on_applied(applied_index); }
void RaftCore::on_snapshot_installed(const SnapshotMetadata& snapshot) {
  impl_->on_snapshot_installed(snapshot);
}
void RaftCore::report_snapshot(NodeId follower, bool ok) { impl_->report_snapshot(follower, ok); }
Ready RaftCore::take_ready() { return impl_->take_ready(); }
CoreStatus RaftCore::status() const { return impl_->status(); }
Role RaftCore::role() const { return impl_->role; }
std::uint64_t RaftCore::term() const { return impl_->term; }
NodeId RaftCore::leader() const { return impl_->leader; }
std::uint64_t RaftCore::commit() const { return impl_->commit; }
NodeId RaftCore::transferring_to() const { return impl_->transfer_target; }
bool RaftCore::config_pending() const { return impl_->configs.current_index() > impl_->commit; }

// --- Impl: construction and restart recovery --------------------------------------------

namespace {
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

RaftCore::Impl::Impl(RaftConfig config, RaftLog& raft_log, std::uint64_t applied_index,
                     const std::optional<SnapshotMetadata>& snapshot)
    : cfg(std::move(config)),
      log(raft_log),
      configs(Membership{cfg.voters, cfg.learners, cfg.addresses}, 0) {
  // The driver validates the config first (RaftConfig::validate()). Should it not, zero
  // settings become 1 so the core stays well-defined rather than dividing by zero.
  assert(cfg.validate().ok());
  cfg.election_ticks = std::max<std::uint32_t>(cfg.election_ticks, 1);
  cfg.heartbeat_ticks = std::max<std::uint32_t>(cfg.heartbeat_ticks, 1);
  cfg.max_inflight_appends = std::max<std::uint32_t>(cfg.max_inflight_appends, 1);
  cfg.max_append_bytes = std::max<std::uint64_t>(cfg.max_append_bytes, 1);
  // Thesis §4.1: the configuration is the latest one in the log; below the log's start the
  // snapshot records it, and with neither the bootstrap voters/learners apply.
  if (snapshot && !snapshot->membership.voters.empty()) {
    configs.rebase(snapshot->last_included.index, snapshot->membership);
  }
  load_config_from_log();
  in_force = configs.current();
  voters = in_force.voters;
  learners = in_force.learners;
  self_voter = voter(cfg.id);
  // Election timeouts are random per node but reproducible: same seed, same schedule.
  rng = cfg.seed ^ (cfg.id * 0xd6e8feb86659fd93ULL);
  // Figure 2: currentTerm and votedFor survive restarts; the log is whatever was synced.
  HardState hs = log.hard_state();
  term = hs.term;
  voted_for = hs.voted_for;
  // Everything the state machine applied was committed; nothing is handed over twice.
  commit = applied = handed = applied_index;
  synced = log.last_index();  // what a restarted log holds is durable
  role = self_voter ? Role::follower : Role::learner;
  reset_election_timer();
}

bool RaftCore::Impl::voter(NodeId node) const {
  return std::binary_search(voters.begin(), voters.end(), node);
}

bool RaftCore::Impl::learner(NodeId node) const {
  return std::binary_search(learners.begin(), learners.end(), node);
}

Error RaftCore::Impl::not_leader_error() const {
  return make_error(ErrorCode::not_leader, "node " + std::to_string(cfg.id) +
                                               " is not the leader (term " +
                                               std::to_string(term) +
                                               "); leader=" + std::to_string(leader));
}

void RaftCore::Impl::persist_hard_state() {
  // Figure 2: persisted before answering; buffered here, synced by the driver before it
  // sends Ready::send_after_sync.
  (void)log.save_hard_state(HardState{term, voted_for});
  dirty = true;
}

std::uint64_t RaftCore::Impl::random() { return splitmix64(rng); }

void RaftCore::Impl::reset_election_timer() {
  election_elapsed = 0;
  heartbeat_elapsed = 0;
  // §5.2: randomized in [election_ticks, 2 * election_ticks) so split votes are rare.
  randomized_timeout =
      cfg.election_ticks + static_cast<std::uint32_t>(random() % cfg.election_ticks);
}

bool RaftCore::Impl::in_lease() const {
  // Thesis §4.2.3 (disruptive servers): a server that heard from a current leader within
  // the minimum election timeout does not believe a leader is missing and ignores
  // RequestVote. A leader's own counter restarts every election_ticks (check-quorum).
  if (election_elapsed >= cfg.election_ticks) return false;
  if (leader != 0) return true;
  // With leases, a restarted server may have promised a leader not to vote before it
  // crashed: it waits one election timeout after booting before it votes (thesis §6.4.1).
  return cfg.lease_ticks > 0 && now < cfg.election_ticks;
}

std::uint64_t RaftCore::Impl::term_or_zero(std::uint64_t index) const {
  return log.term_at(index).value_or(0);
}

std::uint64_t RaftCore::Impl::find_conflict_by_term(std::uint64_t index,
                                                    std::uint64_t max_term) const {
  // Terms never decrease along a log, so binary-search the largest index <= `index` whose
  // term is <= max_term (down to the last purged entry, whose term is still known).
  std::uint64_t lo = log.last_purged().index;
  std::uint64_t hi = std::min(index, log.last_index());
  if (hi < lo) return hi;
  // Even the last purged entry has a newer term: the logs can only match below this log's
  // start, so the answer lies in the snapshot (the leader then sends it, Raft §7).
  if (term_or_zero(lo) > max_term) return lo == 0 ? 0 : lo - 1;
  while (lo < hi) {
    std::uint64_t mid = lo + (hi - lo + 1) / 2;
    if (term_or_zero(mid) <= max_term) lo = mid; else hi = mid - 1;
  }
  return lo;
}

void RaftCore::Impl::send_now(NodeId to, std::uint64_t msg_term, MessageBody body) {
  out_now.push_back(Message{cfg.id, to, msg_term, std::move(body)});
}

void RaftCore::Impl::send_after_sync(NodeId to, std::uint64_t msg_term, MessageBody body) {
  out_after_sync.push_back(Message{cfg.id, to, msg_term, std::move(body)});
}

// --- timers -----------------------------------------------------------------------------

void RaftCore::Impl::tick() {
  ++now;
  if (role == Role::leader) {
    tick_leader();
    return;
  }
  if (election_elapsed < UINT32_MAX) ++election_elapsed;
  // Learners never campaign: they are not part of any quorum.
  if (role == Role::learner) return;
  // §5.2: no word from a leader within the election timeout: campaign. A pre-candidate
  // or candidate whose round timed out starts a new one (split vote, lost messages).
  if (election_elapsed >= randomized_timeout) campaign();
}

// --- messages: the term rules -----------------------------------------------------------

void RaftCore::Impl::reject_stale(const Message& m) {
  // Figure 2: "reply false if term < currentTerm" — our term in the answer makes the
  // stale sender step down (§5.1). Answers to stale answers are never sent.
  if (const auto* req = std::get_if<AppendRequest>(&m.body)) {
    AppendResponse resp;
    resp.read_context = req->read_context;
    send_after_sync(m.from, term, resp);
  } else if (const auto* vote = std::get_if<VoteRequest>(&m.body)) {
    send_after_sync(m.from, term, VoteResponse{false, vote->pre_vote});
  } else if (std::holds_alternative<SnapshotRequest>(m.body)) {
    send_after_sync(m.from, term, AppendResponse{});
  }
}

void RaftCore::Impl::step(const Message& m) {
  if (m.to != cfg.id || m.from == cfg.id || m.from == 0) return;
  // Snapshot file chunks travel between the drivers' snapshot sender and receiver.
  if (std::holds_alternative<SnapshotChunk>(m.body) ||
      std::holds_alternative<SnapshotChunkAck>(m.body)) {
    return;
  }

  if (m.term > term) {
    if (const auto* req = std::get_if<VoteRequest>(&m.body)) {
      // Thesis §4.2.3: within the lease a vote request is ignored outright — no term
      // change, no answer — unless the leader itself asked for the election (§3.10).
      if (in_lease() && !req->leadership_transfer) return;
      // Thesis §9.6: a pre-vote request never changes the receiver's term.
      if (!req->pre_vote) become_follower(m.term, 0);
    } else if (const auto* resp = std::get_if<VoteResponse>(&m.body);
               resp != nullptr && resp->pre_vote && resp->granted) {
      // A granted pre-vote carries the term the pre-candidate would campaign in: it is
      // not a newer term. (A rejected one carries the voter's term and is adopted below.)
    } else {
      // §5.1: a higher term makes any server adopt it and become follower; the sender of
      // an AppendEntries or InstallSnapshot is the leader of that term.
      const bool from_leader = std::holds_alternative<AppendRequest>(m.body) ||
                               std::holds_alternative<SnapshotRequest>(m.body) ||
                               std::holds_alternative<TimeoutNow>(m.body);
      become_follower(m.term, from_leader ? m.from : 0);
    }
  } else if (m.term < term) {
    reject_stale(m);
    return;
  }

  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, VoteRequest>) {
          handle_vote_request(m, body);
        } else if constexpr (std::is_same_v<T, VoteResponse>) {
          handle_vote_response(m, body);
        } else if constexpr (std::is_same_v<T, AppendRequest>) {
          handle_append_request(m, body);
        } else if constexpr (std::is_same_v<T, AppendResponse>) {
          handle_append_response(m, body);
        } else if constexpr (std::is_same_v<T, SnapshotRequest>) {
          handle_snapshot_request(m, body);
        } else if constexpr (std::is_same_v<T, TimeoutNow>) {
          handle_timeout_now(m);
        }
      },
      m.body);
}

// --- durability, application and the Ready hand-over ------------------------------------

void RaftCore::Impl::on_synced(std::uint64_t synced_index) {
  synced = std::max(synced, std::min(synced_index, log.last_index()));
  dirty = false;
  // The leader counts its own copy only once it is durable (§5.4.2 with thesis §10.2.1).
  if (role == Role::leader) maybe_commit();
}

void RaftCore::Impl::on_applied(std::uint64_t applied_index) {
  applied = std::max(applied, applied_index);
  // Snapshots are taken at or after the applied index: older configurations are not asked.
  configs.compact(std::min(applied, commit));
}

Ready RaftCore::Impl::take_ready() {
  if (role == Role::leader) {
    flush_reads();
    // Replication is produced here, so proposals made since the last take_ready() travel
    // in one AppendEntries per follower.
    flush_appends();
  }
  Ready ready;
  ready.send_now = std::exchange(out_now, {});
  ready.send_after_sync = std::exchange(out_after_sync, {});
  // Stays set in every Ready until the driver reports a sync: no answer that depends on
  // the write can be sent while it is still volatile.
  ready.needs_sync = dirty;
  // Committed entries go to the state machine once, and only once durable here: a
  // restart then never finds the state machine ahead of its own log.
  std::uint64_t upto = std::min(commit, synced);
  if (upto > handed) {
    ready.apply_from = handed + 1;
    ready.apply_to = upto;
    handed = upto;
  }
  ready.reads = std::exchange(ready_reads, {});
  ready.failed_reads = std::exchange(failed_reads, {});
  ready.send_snapshot = std::exchange(snapshots_to_send, {});
  // Replication may have committed past the snapshot since it was received: then the
  // entries already bring the state machine there and the snapshot is not needed.
  if (snapshot_to_install && snapshot_to_install->last_included.index <= commit) {
    snapshot_to_install.reset();
    installing.reset();
  }
  ready.install_snapshot = std::exchange(snapshot_to_install, std::nullopt);
  if (config_changed) {
    ready.membership = in_force;
    config_changed = false;
  }
  return ready;
}

CoreStatus RaftCore::Impl::status() const {
  CoreStatus s;
  s.id = cfg.id;
  s.role = role;
  s.term = term;
  s.leader = leader;
  s.voted_for = voted_for;
  s.commit = commit;
  s.applied = applied;
  s.last_log = log.last_log_id();
  s.first_index = log.first_index();
  s.membership = in_force;
  s.config_index = configs.current_index();
  s.config_pending = configs.current_index() > commit;
  s.transferring_to = transfer_target;
  return s;
}

}  // namespace raftor::raft
