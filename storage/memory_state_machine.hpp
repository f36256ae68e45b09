// A state machine held entirely in memory: for tests and examples. Nothing survives the
// object; snapshots are real files (snapshot/kv_snapshot_file.hpp) so the snapshot and
// transfer paths are exercised exactly as with the persistent built-ins.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "raftor/messages/command.pb.h"
#include "raftor/storage/state_machine.hpp"

namespace raftor {

class MemoryStateMachine final : public StateMachine {
 public:
  MemoryStateMachine() = default;

  Status start() override;
  Status stop() override;
  bool is_running() const override { return running_.load(std::memory_order_acquire); }

  Result<std::optional<std::string>> get(std::string_view key) const override;
  std::size_t len() const override;

  void apply_chunk(std::vector<Entry> chunk, ApplyDone done) override;

  void update_last_applied(LogId last_applied) override;
  LogId last_applied() const override;
  Status persist_last_applied(LogId last_applied) override;

  void update_last_snapshot_metadata(const SnapshotMetadata& metadata) override;
  std::optional<SnapshotMetadata> snapshot_metadata() const override;
  Status persist_last_snapshot_metadata(const SnapshotMetadata& metadata) override;

  Result<GeneratedSnapshot> generate_snapshot_data(const std::filesystem::path& path) override;
  Status apply_snapshot_from_file(const SnapshotMetadata& metadata,
                                  const std::filesystem::path& path) override;

  Status save_hard_state() override { return check_running(); }
  Status flush() override { return check_running(); }
  Status reset() override;

 private:
  Status check_running() const;
  Result<std::vector<ApplyResult>> apply(const std::vector<Entry>& chunk);

  // Readers (get, len, generate_snapshot_data) share; apply and snapshot install exclude.
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::string, std::less<>> data_;
  LogId last_applied_;
  std::optional<SnapshotMetadata> snapshot_metadata_;
  std::atomic<bool> running_{false};
  pb::Command scratch_;  // reused by apply: no per-entry message allocation
};

}  // namespace raftor
