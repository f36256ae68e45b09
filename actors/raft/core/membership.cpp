// Cluster membership changes, one server at a time (thesis chapter 4): configuration
// entries, learners and their promotion, removal (of the leader too).
#include <algorithm>
#include <string>

#include "raftor/actors/raft/core/raft_core_impl.hpp"

namespace raftor::raft {

namespace {
Error busy(std::string why) { return make_error(ErrorCode::busy, std::move(why)); }
}  // namespace

void RaftCore::Impl::load_config_from_log() {
  // Restart: replay the configuration entries the log holds after the base (snapshot or
  // bootstrap). Uncommitted ones count too (§4.1) and are kept for a later truncation.
  std::uint64_t lo = std::max(log.first_index(), configs.current_index() + 1);
  const std::uint64_t hi = log.last_index() + 1;
  while (lo < hi) {
    auto batch = log.entries(lo, hi, 4u << 20);
    if (!batch.ok() || batch->empty()) break;
    note_config_entries(*batch);
    lo = batch->back().index + 1;
  }
}

void RaftCore::Impl::note_config_entries(std::span<const Entry> entries) {
  bool changed = false;
  for (const Entry& e : entries) {
    if (e.type != EntryType::config) continue;
    // Every node decodes the same bytes the same way: a payload that does not parse is
    // skipped alike everywhere, never half-applied.
    auto membership = decode_membership(e.payload);
    if (!membership.ok()) continue;
    configs.append(e.index, std::move(membership).value());
    changed = true;
  }
  if (changed) adopt_config();
}

void RaftCore::Impl::note_log_truncated(std::uint64_t from) {
  // Thesis §4.1: "a log entry for a configuration change can be removed (if leadership
  // changes); in this case, a server must be prepared to fall back to the previous
  // configuration in its log".
  if (configs.truncate(from)) adopt_config();
}

void RaftCore::Impl::adopt_config() {
  const Membership& next = configs.current();
  if (next == in_force) return;
  in_force = next;
  voters = in_force.voters;
  learners = in_force.learners;
  self_voter = voter(cfg.id);
  config_changed = true;
  if (role == Role::leader) {
    sync_peers();
    if (transfer_target != 0 && !voter(transfer_target)) transfer_target = 0;
    // The lease is earned again from acknowledgements under the new configuration.
    lease_start = 0;
    // A removed voter may have been the one holding commitment back.
    maybe_commit();
    return;
  }
  // Thesis §4.2.1: learners never campaign; a promoted learner starts as a follower with
  // a fresh election timer, a removed voter stops campaigning at once.
  if (self_voter && role == Role::learner) {
    role = Role::follower;
    reset_election_timer();
  } else if (!self_voter && role != Role::learner) {
    role = Role::learner;
    votes.clear();
  }
}

void RaftCore::Impl::sync_peers() {
  // Progress for every member but us: new members start probing at our log's end (§5.3),
  // promotion flips `voter`. Removed ones still get the log until their removal commits
  // (forget_removed_peers), so they learn of it, but count for nothing.
  for (Progress& pr : peers) {
    if (!voter(pr.id) && !learner(pr.id)) {
      pr.voter = false;
      pr.removed = true;
    }
  }
  forget_removed_peers();
  const std::uint64_t last = log.last_index();
  auto ensure = [&](NodeId id, bool is_voter) {
    if (id == cfg.id) return;
    if (Progress* pr = progress_of(id)) {
      pr->voter = is_voter;
      pr->removed = false;
      return;
    }
    peers.emplace_back(id, is_voter, cfg.max_inflight_appends);
    peers.back().reset(last + 1);
    peers.back().recent_active = true;  // check-quorum: give it an election timeout
    send_empty_append(peers.back(), reads.context());  // probe now, not at the next tick
  };
  for (NodeId v : voters) ensure(v, true);
  for (NodeId l : learners) ensure(l, false);
  snapshots_to_send.erase(std::remove_if(snapshots_to_send.begin(), snapshots_to_send.end(),
                                         [&](NodeId id) { return progress_of(id) == nullptr; }),
                          snapshots_to_send.end());
}

Result<std::uint64_t> RaftCore::Impl::propose_config_change(const ConfigChange& change) {
  if (role != Role::leader) return not_leader_error();
  if (transfer_target != 0) {
    return busy("leadership is being handed to node " + std::to_string(transfer_target));
  }
  // Thesis §4.1, the single-server safety fix: a leader may not append a configuration
  // entry until it has committed an entry of its own term, or two changes begun by
  // different leaders could overlap without a common majority.
  if (!term_committed) {
    return busy("the new leader has not committed an entry of its term yet (thesis §4.1)");
  }
  // Thesis §4.1: one change at a time; the next only once this one is committed.
  if (configs.current_index() > commit) {
    return busy("the configuration change at index " + std::to_string(configs.current_index()) +
                " is not committed yet: one change at a time");
  }
  auto next = apply_change(in_force, change);
  if (!next.ok()) return next.error();
  Entry entry{log.last_index() + 1, term, EntryType::config, encode_membership(*next)};
  if (Status s = log.append({&entry, 1}); !s.ok()) return s.error();
  dirty = true;
  configs.append(entry.index, std::move(next).value());
  adopt_config();  // §4.1: in force on the leader as soon as it is in its log
  return entry.index;
}

void RaftCore::Impl::maybe_promote_learner() {
  if (!cfg.promote_learner_lag || !term_committed || transfer_target != 0 ||
      configs.current_index() > commit) {
    return;
  }
  const std::uint64_t last = log.last_index();
  for (const Progress& pr : peers) {
    // Thesis §4.2.1: a learner that has caught up (within the configured lag) and is
    // answering can join the quorum without slowing commitment.
    if (pr.voter || pr.removed || !pr.recent_active ||
        pr.match + *cfg.promote_learner_lag < last) {
      continue;
    }
    const NodeId id = pr.id;  // propose_config_change() rebuilds `peers`
    (void)propose_config_change(ConfigChange{ConfigChangeType::promote, id, {}});
    return;
  }
}

void RaftCore::Impl::forget_removed_peers() {
  if (configs.current_index() > commit) return;
  peers.erase(std::remove_if(peers.begin(), peers.end(),
                             [](const Progress& pr) { return pr.removed; }),
              peers.end());
}

void RaftCore::Impl::maybe_step_down_removed() {
  // Thesis §4.2.2: a leader that is not in the configuration it manages steps down once
  // that configuration is committed. It hands leadership to a caught-up voter on the way
  // out (§3.10), so the cluster does not wait an election timeout.
  if (role != Role::leader || self_voter || configs.current_index() > commit) return;
  if (Progress* best = most_up_to_date_voter(); best && best->match == log.last_index()) {
    send_now(best->id, term, TimeoutNow{});
  }
  become_follower(term, 0);
}

Membership RaftCore::Impl::membership_at(std::uint64_t index) const {
  return configs.at(index);
}

}  // namespace raftor::raft
