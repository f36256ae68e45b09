#include "raftor/actors/purger/purger.hpp"

#include <spdlog/spdlog.h>

namespace raftor {

std::uint64_t purge_point(std::uint64_t snapshot_index, std::uint64_t retention) {
  return snapshot_index > retention ? snapshot_index - retention : 0;
}

Purger::Purger(caf::actor_config& cfg, raft_actor raft, PurgerConfig config)
    : purger_actor::base(cfg), raft_(std::move(raft)), config_(config) {}

Purger::behavior_type Purger::make_behavior() {
  return {
      [this](snap_done_atom, const SnapshotMetadata& metadata) { snapshot_durable(metadata); },
  };
}

void Purger::on_exit() {
  raft_ = nullptr;  // break the handle cycle with the Raft actor
}

void Purger::snapshot_durable(const SnapshotMetadata& metadata) {
  const std::uint64_t upto = purge_point(metadata.last_included.index, config_.retention);
  if (upto <= requested_) return;  // the log never grows back at its start
  requested_ = upto;
  spdlog::debug("node {}: purge the log up to {} (snapshot at {})", config_.id, upto,
                metadata.last_included.index);
  if (raft_) send(raft_, purge_atom::value, upto);
}

}  // namespace raftor
