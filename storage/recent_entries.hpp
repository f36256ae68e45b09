// The newest entries of a log, kept in memory up to a byte budget. A leader reads what it
// just appended to send it to every follower, and every node reads each committed batch to
// hand it to the state machine, within milliseconds of the append: served from here, those
// reads skip the storage engine (for RocksDB an iterator per read, built over the purge
// range tombstones). The owner mirrors every successful change of the stored log here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "raftor/storage/types.hpp"

namespace raftor {

class RecentEntries {
 public:
  explicit RecentEntries(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Entries appended to the log (contiguous, right after the newest held one; anything
  // else restarts the window at them). The oldest go once the budget is exceeded.
  void append(std::span<const Entry> entries);
  // The log dropped every entry from `index` on.
  void truncate_from(std::uint64_t index);
  // The log purged every entry up to `index`.
  void purge_through(std::uint64_t index);
  void clear();

  // Entries [lo, hi) under raft_log.hpp's max_bytes rule (stop before the entry that would
  // pass it, but return at least one), if all of them are held; nullopt otherwise.
  std::optional<std::vector<Entry>> read(std::uint64_t lo, std::uint64_t hi,
                                         std::uint64_t max_bytes) const;

  std::size_t size() const { return entries_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  static std::size_t cost(const Entry& e) { return sizeof(Entry) + e.payload.size(); }
  void evict();

  const std::size_t max_bytes_;
  std::deque<Entry> entries_;  // contiguous indexes
  std::size_t bytes_ = 0;
};

}  // namespace raftor
