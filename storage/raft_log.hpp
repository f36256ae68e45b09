// The Raft log and hard state on disk (Raft figure 2, "persistent state on all servers").
//
// Writes (append, truncate_suffix, purge_prefix, save_hard_state) are applied in call order
// and become durable together at the next sync(): the caller batches many proposals into
// one append and one sync (group commit). Raft's rule "persist before you answer" is the
// caller's: it must sync() before replying to a vote or acknowledging entries.
// After a crash the log is the state after some prefix of the calls, and contains at
// least everything that was synced: a torn tail is dropped, never half-read.
// Reads see unsynced writes. Not thread-safe: one owner (the Raft actor) calls it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace raftor {

// entries()'s max_bytes rule (etcd's limitSize), shared by every implementation: an entry of
// `size` payload bytes joins a result of `count` entries holding `bytes` payload bytes if it
// is the first one, or if the total stays within max_bytes.
inline bool fits_max_bytes(std::size_t count, std::uint64_t bytes, std::uint64_t size,
                           std::uint64_t max_bytes) {
  return count == 0 || (bytes <= max_bytes && size <= max_bytes - bytes);
}

class RaftLog {
 public:
  virtual ~RaftLog() = default;

  // First index still stored (last_purged().index + 1) and last index (last_purged().index
  // when the log holds no entry). A fresh log: first 1, last 0.
  virtual std::uint64_t first_index() const = 0;
  virtual std::uint64_t last_index() const = 0;
  virtual LogId last_log_id() const = 0;
  // The last entry removed by purge_prefix ({0, 0} if none): its term is still known, as
  // AppendEntries' consistency check at first_index() needs it (Raft §5.3, §7).
  virtual LogId last_purged() const = 0;

  // Term at `index` for last_purged().index <= index <= last_index() (0 for index 0);
  // std::nullopt outside that range.
  virtual std::optional<std::uint64_t> term_at(std::uint64_t index) const = 0;

  // Entries [lo, hi), stopping early once max_bytes of payload are collected but always
  // returning at least one entry when lo < hi (etcd's Entries(lo, hi, maxSize)).
  // out_of_range if lo < first_index() or hi > last_index() + 1.
  virtual Result<std::vector<Entry>> entries(std::uint64_t lo, std::uint64_t hi,
                                             std::uint64_t max_bytes = UINT64_MAX) const = 0;

  // Appends entries; entries[0].index must be last_index() + 1 and indexes contiguous,
  // terms not decreasing (invalid_argument otherwise). Not durable until sync().
  virtual Status append(std::span<const Entry> entries) = 0;

  // Removes entries [from, last_index()] (a conflicting suffix, Raft §5.3).
  // from must be > last_purged().index: committed entries are never truncated.
  virtual Status truncate_suffix(std::uint64_t from) = 0;

  // Removes entries [first_index(), upto.index] once a snapshot covers them (Raft §7).
  // `upto` may lie beyond last_index() (a follower that installed a snapshot): the log is
  // then empty and continues at upto.index + 1.
  virtual Status purge_prefix(LogId upto) = 0;

  virtual Status save_hard_state(const HardState& state) = 0;
  virtual HardState hard_state() const = 0;

  // One fsync makes every write so far durable.
  virtual Status sync() = 0;
};

}  // namespace raftor
