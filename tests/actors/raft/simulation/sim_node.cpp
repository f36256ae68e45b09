#include "sim_node.hpp"

#include <utility>

namespace raftor::sim {

SimNode::SimNode(raft::RaftConfig config, NodeHooks& hooks, bool reply_before_sync)
    : config_(std::move(config)), hooks_(hooks), reply_before_sync_(reply_before_sync) {}

SimNode::~SimNode() = default;

void SimNode::start(std::uint64_t keep_applied, std::uint64_t core_seed) {
  if (keep_applied > applied_entries_.size()) keep_applied = applied_entries_.size();
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
  ++incarnation_;
  raft::RaftConfig config = config_;
  config.seed = core_seed;
  core_ = std::make_unique<raft::RaftCore>(config, log_, applied_);
  hooks_.observe(id());
}

void SimNode::crash() {
  if (!up()) return;
  core_.reset();
  sm_.reset();
  log_.crash(hooks_.surviving_writes(id(), log_.unsynced_writes()));
  crash_before_sync_ = false;
  // Applied entries were committed and synced before they were applied: the durable log
  // must still hold every one of them.
  for (const Entry& e : applied_entries_) {
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
  core_->tick();
  hooks_.observe(id());
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
