#include "sim_node.hpp"

#include <algorithm>
#include <utility>

namespace raftor::sim {

SimNode::SimNode(raft::RaftConfig config, NodeHooks& hooks, bool reply_before_sync)
    : config_(std::move(config)), hooks_(hooks), reply_before_sync_(reply_before_sync) {}

SimNode::~SimNode() = default;

void SimNode::start(std::uint64_t keep_applied, std::uint64_t core_seed) {
  if (keep_applied > applied_entries_.size()) keep_applied = applied_entries_.size();
  // The state machine was flushed before its snapshot was announced (or installed it
  // durably): a restart never finds it behind its newest snapshot.
  keep_applied = std::max<std::uint64_t>(keep_applied, snapshot_.index);
  applied_entries_.resize(keep_applied);
  sm_ = std::make_unique<MemoryStateMachine>();
  (void)sm_->start();
  if (keep_applied != 0) {
    sm_->apply_chunk(applied_entries_, [&](Result<std::vector<ApplyResult>> r) {
      if (!r.ok()) hooks_.fail("driver", "restoring the state machine: " + r.error().to_string());
    });
  }
  applied_ = keep_applied;
  crash_before_sync_ = false;
  transfers_.clear();
  ++incarnation_;
  const LogId applied_id{applied_, applied_ == 0 ? 0 : applied_entries_.back().term};
  if (auto s = raft::align_log_with_state_machine(log_, applied_id); !s.ok()) {
    hooks_.fail("driver", "aligning the log with the state machine: " + s.error().to_string());
  }
  raft::RaftConfig config = config_;
  config.seed = core_seed;
  std::optional<SnapshotMetadata> snapshot;
  if (snapshot_.index != 0) {
    snapshot = SnapshotMetadata{snapshot_, snapshot_membership_, {}, 0, {}};
  }
  core_ = std::make_unique<raft::RaftCore>(config, log_, applied_, snapshot);
  hooks_.observe(id());
}

void SimNode::crash() {
  if (!up()) return;
  core_.reset();
  sm_.reset();
  log_.crash(hooks_.surviving_writes(id(), log_.unsynced_writes()));
  crash_before_sync_ = false;
  // Applied entries were committed and synced before they were applied: the durable log
  // must still hold every one of them, except those a durable snapshot covers.
  const std::uint64_t covered = std::max(snapshot_.index, log_.last_purged().index);
  for (const Entry& e : applied_entries_) {
    if (e.index <= covered) continue;
    if (log_.term_at(e.index) != std::optional<std::uint64_t>(e.term)) {
      hooks_.fail("durability",
                  "node " + std::to_string(id()) + " applied entry " + std::to_string(e.index) +
                      " (term " + std::to_string(e.term) + ") but its log after a crash has " +
                      (log_.term_at(e.index) ? "term " + std::to_string(*log_.term_at(e.index))
                                             : std::string("no entry")) +
                      " there");
      break;
    }
  }
  hooks_.crashed(id());
}

raft::CoreStatus SimNode::status() const {
  if (core_) return core_->status();
  raft::CoreStatus s;
  s.id = id();
  s.term = log_.hard_state().term;
  s.voted_for = log_.hard_state().voted_for;
  s.last_log = log_.last_log_id();
  s.first_index = log_.first_index();
  return s;
}

MemoryRaftLog SimNode::durable_log() const { return log_.durable(); }

void SimNode::tick() {
  ++ticks_;
  core_->tick();
  for (auto it = transfers_.begin(); it != transfers_.end();) {
    if (it->second > ticks_) {
      ++it;
      continue;
    }
    core_->report_snapshot(it->first, false);
    it = transfers_.erase(it);
  }
  hooks_.observe(id());
}

void SimNode::take_snapshot(std::uint64_t retention) {
  if (!up() || applied_ == 0 || applied_ <= snapshot_.index) return;
  const LogId at{applied_, applied_entries_.back().term};
  hooks_.snapshot_taken(id(), at, applied_entries_);
  snapshot_ = at;
  snapshot_membership_ = core_->membership_at(at.index);
  // The purger: never beyond the snapshot, never what is not applied.
  const std::uint64_t upto = at.index - std::min(retention, at.index);
  if (upto <= log_.last_purged().index || upto > log_.last_index()) return;
  const auto term = log_.term_at(upto);
  if (!term) return;
  if (auto s = log_.purge_prefix({upto, *term}); !s.ok()) {
    hooks_.fail("driver", "purge: " + s.error().to_string());
  }
  hooks_.observe(id());
}

void SimNode::send_snapshot(NodeId to) {
  if (snapshot_.index == 0 || snapshot_.index < log_.last_purged().index) {
    hooks_.fail("snapshot", "node " + std::to_string(id()) + " must send a snapshot to " +
                                std::to_string(to) + " but has none covering its purged log");
    return;
  }
  SnapshotMetadata meta;
  meta.last_included = snapshot_;
  meta.membership = snapshot_membership_;
  hooks_.send(raft::Message{id(), to, core_->status().term, raft::SnapshotRequest{meta}});
  transfers_.emplace_back(to, ticks_ + 4 * config_.election_ticks);
}

bool SimNode::install_snapshot(const SnapshotMetadata& snapshot) {
  const LogId at = snapshot.last_included;
  const std::vector<Entry>* state = hooks_.snapshot_data(at);
  if (state == nullptr || state->size() != at.index) {
    hooks_.fail("snapshot", "node " + std::to_string(id()) + " asked to install an unknown "
                            "snapshot at " + std::to_string(at.index));
    return false;
  }
  if (at.index <= applied_) {
    // Entries got there first (the real handler answers the same way): nothing to do.
    core_->on_snapshot_installed(snapshot);
    return true;
  }
  // What the snapshot adds counts as applied here: state machine safety covers it too.
  const std::uint64_t term = core_->status().term;
  for (std::size_t i = applied_; i < state->size(); ++i) hooks_.applied(id(), (*state)[i], term);
  applied_entries_ = *state;
  sm_ = std::make_unique<MemoryStateMachine>();
  (void)sm_->start();
  sm_->apply_chunk(applied_entries_, [&](Result<std::vector<ApplyResult>> r) {
    if (!r.ok()) hooks_.fail("driver", "installing a snapshot: " + r.error().to_string());
  });
  applied_ = at.index;
  if (at.index > snapshot_.index) {
    snapshot_ = at;
    snapshot_membership_ = snapshot.membership;
  }
  ++snapshots_installed_;
  core_->on_snapshot_installed(snapshot);
  return true;
}

void SimNode::step(const raft::Message& message) {
  core_->step(message);
  hooks_.observe(id());
}

Result<std::uint64_t> SimNode::propose(std::vector<std::string> payloads) {
  auto first = core_->propose(std::move(payloads));
  hooks_.observe(id());
  return first;
}

Result<std::uint64_t> SimNode::propose_config_change(const raft::ConfigChange& change) {
  auto index = core_->propose_config_change(change);
  hooks_.observe(id());
  return index;
}

Status SimNode::transfer_leadership(NodeId target) {
  auto s = core_->transfer_leadership(target);
  hooks_.observe(id());
  return s;
}

Status SimNode::read_index(std::uint64_t request_id) {
  auto s = core_->read_index(request_id);
  hooks_.observe(id());
  return s;
}

void SimNode::process_ready() {
  while (core_ != nullptr) {
    raft::Ready ready = core_->take_ready();
    if (ready.empty()) break;
    for (auto& m : ready.send_now) hooks_.send(std::move(m));
    if (reply_before_sync_) {
      for (auto& m : ready.send_after_sync) hooks_.send(std::move(m));
      ready.send_after_sync.clear();
    }
    if (ready.needs_sync) {
      if (crash_before_sync_) return crash();
      const std::uint64_t last = log_.last_index();
      (void)log_.sync();
      core_->on_synced(last);
    }
    for (auto& m : ready.send_after_sync) hooks_.send(std::move(m));
    // A broken apply stream would be offered again and again: stop this node's loop.
    if (ready.apply_to != 0 && !apply(ready.apply_from, ready.apply_to)) return;
    for (NodeId to : ready.send_snapshot) send_snapshot(to);
    if (ready.install_snapshot && !install_snapshot(*ready.install_snapshot)) return;
    for (const auto& read : ready.reads) hooks_.read_confirmed(id(), read);
    for (std::uint64_t request_id : ready.failed_reads) hooks_.read_failed(id(), request_id);
    hooks_.observe(id());
  }
}

bool SimNode::apply(std::uint64_t from, std::uint64_t to) {
  // This driver applies synchronously, so each batch must start right after the last.
  if (from != applied_ + 1 || to < from) {
    hooks_.fail("driver", "node " + std::to_string(id()) + " asked to apply [" +
                              std::to_string(from) + ", " + std::to_string(to) +
                              "] after applying up to " + std::to_string(applied_));
    return false;
  }
  auto entries = log_.entries(from, to + 1);
  if (!entries.ok() || entries->size() != to + 1 - from) {
    hooks_.fail("driver", "node " + std::to_string(id()) + " cannot read committed entries [" +
                              std::to_string(from) + ", " + std::to_string(to) + "]: " +
                              (entries.ok() ? "short read" : entries.error().to_string()));
    return false;
  }
  const std::uint64_t term = core_->status().term;
  for (const Entry& e : *entries) {
    applied_entries_.push_back(e);
    hooks_.applied(id(), e, term);
  }
  sm_->apply_chunk(std::move(entries).value(), [&](Result<std::vector<ApplyResult>> r) {
    if (!r.ok()) hooks_.fail("driver", "state machine rejected a chunk: " + r.error().to_string());
  });
  applied_ = to;
  core_->on_applied(to);
  return true;
}

}  // namespace raftor::sim
