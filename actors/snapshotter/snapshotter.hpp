// The snapshotter: decides when to snapshot (snapshot/snapshot_policy.hpp) from the Raft
// actor's progress reports, and generates snapshots into the node's SnapshotStore.
//
// Generation runs in this actor's own mailbox (it is detached: generating blocks on the
// disk for as long as the state is large), while the Raft actor and the state-machine
// handler keep replicating and applying: StateMachine::generate_snapshot_data is safe
// concurrently with apply_chunk and picks its own consistent point. Progress reports that
// arrive meanwhile queue up and are checked once generation ends.
//
// A snapshot is announced only once it is safe to purge the log below it:
//   generate (temp file) -> the configuration at its index (asked of the Raft actor) ->
//   store commit (data + metadata durable) -> sm->flush() (the
//   applied state covering the snapshot is durable) -> persist_last_snapshot_metadata ->
//   snap_done to the Raft actor and the purger.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "raftor/actors/interfaces.hpp"
#include "raftor/snapshot/snapshot_policy.hpp"
#include "raftor/snapshot/snapshot_store.hpp"
#include "raftor/storage/state_machine.hpp"

namespace raftor {

struct SnapshotterConfig {
  NodeId id = 0;  // for logs
  snapshot::SnapshotPolicy policy;
  // How long generation waits for the Raft actor to name the configuration at the
  // snapshot's index (recorded in its metadata).
  std::chrono::milliseconds membership_timeout{30000};
  // After a failed generation, the policy does not trigger another one for this long
  // (a full disk would otherwise be retried at every applied batch). Requests still run.
  std::chrono::milliseconds retry_backoff{5000};
};

// Spawned detached: spawn<Snapshotter, caf::detached>(...).
class Snapshotter : public snapshotter_actor::base {
 public:
  Snapshotter(caf::actor_config& cfg, std::shared_ptr<StateMachine> state_machine,
              std::shared_ptr<snapshot::SnapshotStore> store, raft_actor raft,
              state_machine_handler_actor handler, purger_actor purger, SnapshotterConfig config);

  behavior_type make_behavior() override;
  void on_exit() override;

 private:
  using clock = std::chrono::steady_clock;

  void progress(const ApplyProgress& progress);
  void check_policy();
  SnapshotReply on_demand();
  // Generates, commits and announces a snapshot.
  Result<SnapshotMetadata> take_snapshot(std::string_view why);
  // The configuration in force at `index`, from the Raft actor (thesis §4.1: a snapshot
  // records the configuration as of its last included entry).
  Result<Membership> membership_at(std::uint64_t index);
  // The handler's exactly-once table as of `index`, serialized (empty when it has none).
  std::string client_sessions_at(std::uint64_t index);
  void schedule_tick();

  std::shared_ptr<StateMachine> sm_;
  std::shared_ptr<snapshot::SnapshotStore> store_;
  raft_actor raft_;
  state_machine_handler_actor handler_;
  purger_actor purger_;
  SnapshotterConfig config_;

  ApplyProgress latest_;                  // the last report
  std::uint64_t snapshot_index_ = 0;      // last included index of the newest snapshot
  std::uint64_t bytes_at_snapshot_ = 0;   // latest_.log_bytes when it was started
  clock::time_point snapshot_time_ = clock::now();
  clock::time_point retry_at_{};           // policy paused until then after a failure
};

}  // namespace raftor
