// The purger: once a snapshot and the state it covers are durable, asks the Raft actor to
// remove the log prefix the snapshot makes redundant, keeping `retention` entries below
// the snapshot so that followers a little behind (or restarting) still catch up from the
// log rather than needing the whole snapshot.
//
// Crash-safe by construction: it only ever hears of snapshots the snapshotter made durable
// together with the state machine's applied state (flush), the Raft actor caps the index
// at what it has applied, and RaftLog::purge_prefix records the purge atomically.
#pragma once

#include <cstdint>

#include "raftor/actors/interfaces.hpp"

namespace raftor {

struct PurgerConfig {
  NodeId id = 0;                  // for logs
  std::uint64_t retention = 1000;  // entries kept below the newest snapshot
};

// Where to purge to after a snapshot ending at `snapshot_index`: retention entries below
// it, never beyond it. 0 means nothing to purge.
std::uint64_t purge_point(std::uint64_t snapshot_index, std::uint64_t retention);

// Does not block: spawned on the scheduler.
class Purger : public purger_actor::base {
 public:
  Purger(caf::actor_config& cfg, raft_actor raft, PurgerConfig config);

  behavior_type make_behavior() override;
  void on_exit() override;

 private:
  void snapshot_durable(const SnapshotMetadata& metadata);

  raft_actor raft_;
  PurgerConfig config_;
  std::uint64_t requested_ = 0;  // the highest purge point asked for so far
};

}  // namespace raftor
