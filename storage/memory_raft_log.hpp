// A RaftLog in memory, for tests and simulations. It models durability exactly as the
// interface states it: writes are visible at once but only become durable at sync(), and
// crash() drops everything written since the last sync — so a simulated node can lose its
// unsynced tail the way a real one does.
#pragma once

#include <deque>
#include <variant>

#include "raftor/storage/raft_log.hpp"

namespace raftor {

class MemoryRaftLog final : public RaftLog {
 public:
  std::uint64_t first_index() const override { return state_.last_purged.index + 1; }
  std::uint64_t last_index() const override {
    return state_.last_purged.index + state_.entries.size();
  }
  LogId last_log_id() const override;
  LogId last_purged() const override { return state_.last_purged; }
  std::optional<std::uint64_t> term_at(std::uint64_t index) const override;
  Result<std::vector<Entry>> entries(std::uint64_t lo, std::uint64_t hi,
                                     std::uint64_t max_bytes = UINT64_MAX) const override;
  Status append(std::span<const Entry> entries) override;
  Status truncate_suffix(std::uint64_t from) override;
  Status purge_prefix(LogId upto) override;
  Status save_hard_state(const HardState& state) override;
  HardState hard_state() const override { return state_.hard_state; }
  Status sync() override;

  // Simulates a crash and restart: the log returns to its state at the last sync().
  void crash();
  std::uint64_t syncs() const { return syncs_; }

 private:
  struct State {
    std::deque<Entry> entries;
    LogId last_purged;
    HardState hard_state;
  };
  State state_;
  State durable_;
  bool dirty_ = false;
  std::uint64_t syncs_ = 0;
};

}  // namespace raftor
