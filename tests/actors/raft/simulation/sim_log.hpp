// A node's disk: a MemoryRaftLog plus a journal of the writes made since the last sync(),
// so that a crash can keep any prefix of them. RaftLog's contract promises only "the state
// after some prefix of the calls, and at least everything synced"; MemoryRaftLog::crash()
// models the shortest such prefix, a torn crash any other.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "raftor/storage/memory_raft_log.hpp"

namespace raftor::sim {

class SimLog final : public RaftLog {
 public:
  std::uint64_t first_index() const override { return log_.first_index(); }
  std::uint64_t last_index() const override { return log_.last_index(); }
  LogId last_log_id() const override { return log_.last_log_id(); }
  LogId last_purged() const override { return log_.last_purged(); }
  std::optional<std::uint64_t> term_at(std::uint64_t index) const override {
    return log_.term_at(index);
  }
  Result<std::vector<Entry>> entries(std::uint64_t lo, std::uint64_t hi,
                                     std::uint64_t max_bytes = UINT64_MAX) const override {
    return log_.entries(lo, hi, max_bytes);
  }
  HardState hard_state() const override { return log_.hard_state(); }

  Status append(std::span<const Entry> entries) override;
  Status truncate_suffix(std::uint64_t from) override;
  Status purge_prefix(LogId upto) override;
  Status save_hard_state(const HardState& state) override;
  Status sync() override;

  std::size_t unsynced_writes() const { return journal_.size(); }
  // Crash and restart: the synced state plus the first `keep` unsynced writes.
  void crash(std::size_t keep = 0);
  MemoryRaftLog durable() const;  // what crash(0) would leave

 private:
  struct Append {
    std::vector<Entry> entries;
  };
  struct Truncate {
    std::uint64_t from;
  };
  struct Purge {
    LogId upto;
  };
  using Write = std::variant<Append, Truncate, Purge, HardState>;

  MemoryRaftLog log_;
  std::vector<Write> journal_;  // successful writes since the last sync, in call order
};

}  // namespace raftor::sim
