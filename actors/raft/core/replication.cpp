// The leader (Raft §5.3, §5.4): proposals, per-follower progress with probe/replicate
// flow control, heartbeats, fast backtracking, commitment by counting, check-quorum.
#include <algorithm>
#include <string>

#include "raftor/actors/raft/core/raft_core_impl.hpp"

namespace raftor::raft {

namespace {
// Rejections in a row below match before the leader believes the follower lost entries.
constexpr std::uint32_t kRegressionsToBelieve = 3;
}  // namespace

Result<std::uint64_t> RaftCore::Impl::propose(std::vector<std::string>& payloads,
                                              EntryType type) {
  if (role != Role::leader) return not_leader_error();
  if (payloads.empty()) return make_error(ErrorCode::invalid_argument, "empty proposal");
  if (type == EntryType::config) {
    return make_error(ErrorCode::invalid_argument,
                      "configuration entries go through propose_config_change()");
  }
  if (transfer_target != 0) {
    // Thesis §3.10: proposals pause while leadership moves, or the target could never
    // catch up; the client retries (at the new leader, or here if the transfer aborts).
    return make_error(ErrorCode::busy, "node " + std::to_string(cfg.id) +
                                           " is handing leadership to node " +
                                           std::to_string(transfer_target) + ": retry");
  }
  // Group commit: the whole batch is one log write (and one sync); the AppendEntries for
  // it are built at take_ready(), so batches proposed in between share them too.
  const std::uint64_t first = log.last_index() + 1;
  scratch_entries.clear();
  scratch_entries.reserve(payloads.size());
  std::uint64_t index = first;
  for (std::string& payload : payloads) {
    scratch_entries.push_back(Entry{index++, term, type, std::move(payload)});
  }
  Status appended = log.append(scratch_entries);
  scratch_entries.clear();
  if (!appended.ok()) return appended.error();
  dirty = true;
  return first;
}

void RaftCore::Impl::tick_leader() {
  ++heartbeat_elapsed;
  ++election_elapsed;
  if (election_elapsed >= cfg.election_ticks) {
    election_elapsed = 0;
    // Thesis §6.2 (check-quorum): a leader that has not heard from a majority within an
    // election timeout may have been replaced; it steps down so clients look elsewhere.
    if (cfg.check_quorum && !quorum_active()) {
      become_follower(term, 0);
      return;
    }
    for (Progress& pr : peers) pr.recent_active = false;
  }
  tick_transfer();
  maybe_promote_learner();
  if (cfg.lease_ticks > 0) reads.prune_rounds(now, cfg.lease_ticks);
  if (heartbeat_elapsed >= cfg.heartbeat_ticks) {
    heartbeat_elapsed = 0;
    broadcast_heartbeat();  // §5.2: empty AppendEntries keep followers from campaigning
  }
}

bool RaftCore::Impl::quorum_active() const {
  std::size_t active = self_voter ? 1 : 0;
  for (const Progress& pr : peers) {
    if (pr.voter && pr.recent_active) ++active;
  }
  return active >= quorum();
}

Progress* RaftCore::Impl::progress_of(NodeId node) {
  for (Progress& pr : peers) {
    if (pr.id == node) return &pr;
  }
  return nullptr;
}

void RaftCore::Impl::send_empty_append(Progress& pr, std::uint64_t context) {
  // A heartbeat is an AppendEntries without entries (§5.2), with the same consistency
  // check at next - 1: in probe state it doubles as a retransmitted probe, in replicate
  // state a rejection reveals a lost message.
  AppendRequest req;
  std::uint64_t prev = pr.next - 1;
  std::optional<std::uint64_t> prev_term = log.term_at(prev);
  if (!prev_term) {
    prev = log.last_purged().index;  // behind our log's start: still confirm leadership
    prev_term = log.last_purged().term;
  }
  req.prev = {prev, *prev_term};
  req.commit = commit;  // figure 2: leaderCommit; the follower caps it at prev
  req.read_context = context;
  pr.commit_sent = commit;
  send_now(pr.id, term, std::move(req));
}

void RaftCore::Impl::broadcast_heartbeat() {
  std::uint64_t context = reads.new_round(now, cfg.lease_ticks > 0);
  for (Progress& pr : peers) send_empty_append(pr, context);
}

void RaftCore::Impl::send_entries(Progress& pr) {
  std::optional<std::uint64_t> prev_term = log.term_at(pr.next - 1);
  if (!prev_term) {
    // §7: the entries this follower needs were purged: only a snapshot brings it up.
    if (pr.next - 1 < log.last_purged().index) start_snapshot(pr);
    return;
  }
  auto batch = log.entries(pr.next, log.last_index() + 1, cfg.max_append_bytes);
  if (!batch.ok() || batch->empty()) return;
  AppendRequest req;
  req.prev = {pr.next - 1, *prev_term};
  req.entries = std::move(*batch);
  req.commit = commit;
  req.read_context = reads.context();
  std::uint64_t last = req.entries.back().index;
  pr.commit_sent = commit;
  pr.sent_entries(last);
  send_now(pr.id, term, std::move(req));
}

void RaftCore::Impl::flush_appends() {
  const std::uint64_t last = log.last_index();
  for (Progress& pr : peers) {
    bool sent = false;
    if (pr.state == Progress::State::snapshot) continue;  // heartbeats only, until installed
    if (pr.state == Progress::State::probe) {
      // Probe: one AppendEntries at a time until the answer shows where the logs match.
      if (!pr.probe_sent && pr.match < last && pr.next <= last) {
        send_entries(pr);
        sent = pr.probe_sent;
      }
    } else {
      // Replicate: pipeline up to max_inflight_appends messages of max_append_bytes.
      while (pr.can_send() && pr.next <= last) {
        std::uint64_t before = pr.next;
        send_entries(pr);
        if (pr.next == before) break;
        sent = true;
      }
      // Nothing new to send but the commit index moved: tell the follower now rather
      // than at the next heartbeat, so it applies without waiting.
      if (!sent && pr.commit_sent < commit && pr.match > pr.commit_sent) {
        send_empty_append(pr, reads.context());
      }
    }
  }
}

void RaftCore::Impl::handle_append_response(const Message& m, const AppendResponse& resp) {
  if (role != Role::leader) return;
  Progress* pr = progress_of(m.from);
  if (pr == nullptr) return;
  pr->recent_active = true;  // check-quorum: this follower accepts our leadership
  // Any answer in our term, success or not, acknowledges our leadership (thesis §6.4).
  on_read_ack(*pr, resp.read_context);

  if (pr->state == Progress::State::snapshot) {
    // A snapshot is on its way: rejections of heartbeats are expected until it is
    // installed. An acknowledgement at or past the purge point (the installed snapshot,
    // or a log that matched after all) lets entries flow again.
    if (resp.success && resp.match_index <= log.last_index()) {
      bool advanced = pr->on_success(resp.match_index);
      if (pr->match >= pr->pending_snapshot) pr->become_probe(pr->match + 1);
      if (advanced && pr->voter) maybe_commit();
    }
    return;
  }

  if (!resp.success) {
    // §5.3: decrement nextIndex and retry — fast: the follower says its last entry that
    // can match is (conflict_index, conflict_term); our last entry that can match it is
    // the largest index <= conflict_index whose term <= conflict_term (etcd's
    // findConflictByTerm). A stale rejection never moves next below match + 1.
    std::uint64_t probe_at = find_conflict_by_term(resp.conflict_index, resp.conflict_term);
    if (resp.conflict_index < pr->match) {
      // The follower says its log ends below what it acknowledged. Once, that is a stale
      // answer overtaken by a later acknowledgement (etcd ignores it). Again and again, the
      // follower lost entries it had synced (a damaged or replaced disk: outside Raft's
      // model), and probing above its log would go on forever. Lowering match is safe:
      // commit never moves back, and the follower acknowledges again what it gets again.
      if (++pr->regressions < kRegressionsToBelieve) return;
      pr->match = std::min(resp.conflict_index, probe_at);
      pr->regressions = 0;
    }
    pr->become_probe(std::min(pr->next, probe_at + 1));
    return;
  }

  if (resp.match_index > log.last_index()) return;  // not from our log: ignore
  bool advanced = pr->on_success(resp.match_index);
  if (pr->state == Progress::State::probe && resp.match_index >= pr->match) {
    pr->become_replicate();  // the match point is known: start pipelining
  }
  maybe_send_timeout_now(*pr);
  if (advanced && pr->voter) maybe_commit();  // last: may step down and clear peers
}

std::uint64_t RaftCore::Impl::self_match() const {
  // Our own copy counts only once durable (on_synced): no acknowledgement from memory.
  return std::min(synced, log.last_index());
}

void RaftCore::Impl::maybe_commit() {
  scratch_values.clear();
  if (self_voter) scratch_values.push_back(self_match());
  for (const Progress& pr : peers) {
    if (pr.voter) scratch_values.push_back(pr.match);
  }
  std::uint64_t n = quorum_value(scratch_values, quorum());
  // §5.3/§5.4.2: N is committed when a majority holds it *and* its term is ours:
  // entries of earlier terms are committed only indirectly (figure 8).
  if (n <= commit || term_or_zero(n) != term) return;
  commit = n;
  on_leader_commit_advanced();
  forget_removed_peers();
  maybe_step_down_removed();
}

}  // namespace raftor::raft
