// InstallSnapshot (Raft §7), both sides. The snapshot file travels beside the core (the
// drivers' snapshot sender and receiver move it in chunks); the core decides *when* a
// follower needs one and what the log becomes once it is installed.
#include <algorithm>

#include "raftor/actors/raft/core/raft_core_impl.hpp"

namespace raftor::raft {

// --- leader -----------------------------------------------------------------------------

void RaftCore::Impl::start_snapshot(Progress& pr) {
  // Any local snapshot covers at least up to the purge point (the log is only purged
  // below a durable snapshot), so it is enough to bring the follower to first_index().
  pr.become_snapshot(log.last_purged().index);
  snapshots_to_send.push_back(pr.id);
}

void RaftCore::Impl::report_snapshot(NodeId follower, bool ok) {
  if (role != Role::leader) return;
  Progress* pr = progress_of(follower);
  if (pr == nullptr || pr->state != Progress::State::snapshot) return;
  // Success: the follower should now hold the snapshot; probe just after it (its own
  // acknowledgement, which moves match, may have arrived already). Failure: probe from
  // what it is known to hold; if that is still purged here, a new transfer starts.
  const std::uint64_t next = ok ? std::max(pr->match, pr->pending_snapshot) + 1 : pr->match + 1;
  pr->become_probe(next);
}

// --- follower ---------------------------------------------------------------------------

void RaftCore::Impl::handle_snapshot_request(const Message& m, const SnapshotRequest& req) {
  // step() made the terms equal; a leader never takes a snapshot from its own term (§5.2).
  if (role == Role::leader) return;
  if (role == Role::pre_candidate || role == Role::candidate) become_follower(term, m.from);
  leader = m.from;
  election_elapsed = 0;

  const LogId snap = req.snapshot.last_included;
  if (snap.index <= commit) {
    // Already covered: everything up to commit matches every leader's log (§5.4), so
    // acknowledge it and let replication continue from there.
    AppendResponse resp;
    resp.success = true;
    resp.match_index = commit;
    send_after_sync(m.from, term, resp);
    return;
  }
  if (installing && installing->index >= snap.index) return;  // the driver is on it
  installing = snap;
  snapshot_to_install = req.snapshot;
}

void RaftCore::Impl::on_snapshot_installed(const SnapshotMetadata& snapshot) {
  const LogId snap = snapshot.last_included;
  if (installing && installing->index <= snap.index) installing.reset();
  if (snap.index > commit) {
    // §7: "If existing log entry has same index and term as snapshot's last included
    // entry, retain log entries following it" — otherwise discard the entire log. The
    // discarded entries at or below the snapshot are all covered by it.
    if (term_or_zero(snap.index) != snap.term) {
      if (log.last_index() >= log.first_index()) (void)log.truncate_suffix(log.first_index());
      configs.truncate(snap.index + 1);  // their configuration entries went with them
    }
    (void)log.purge_prefix(snap);
    // Raft §7: a snapshot holds the latest configuration as of its last included entry;
    // configuration entries kept after it still override it (thesis §4.1).
    if (!snapshot.membership.voters.empty()) configs.rebase(snap.index, snapshot.membership);
    adopt_config();
    commit = snap.index;
    synced = std::max(synced, snap.index);
    dirty = true;  // the acknowledgement below waits for the log change to be synced
  }
  applied = std::max(applied, snap.index);
  handed = std::max(handed, snap.index);

  AppendResponse resp;
  resp.success = true;
  resp.match_index = std::max(commit, snap.index);
  if (leader != 0) send_after_sync(leader, term, resp);
}

// --- restart ----------------------------------------------------------------------------

Status align_log_with_state_machine(RaftLog& log, const LogId& applied) {
  if (applied.index == 0 || applied.index < log.last_purged().index) return {};
  if (log.term_at(applied.index) == std::optional<std::uint64_t>(applied.term)) return {};
  // The state machine holds a snapshot the log never caught up with: continue after it.
  if (log.last_index() >= log.first_index()) {
    if (auto s = log.truncate_suffix(log.first_index()); !s) return s;
  }
  if (auto s = log.purge_prefix(applied); !s) return s;
  return log.sync();
}

}  // namespace raftor::raft
