// RaftLog on RocksDB.
//
// Layout: column family "log" maps an 8-byte big-endian index to term (u64, big-endian),
// type (u8) and the payload; column family "meta" holds the hard state, the last purged
// LogId and a format version. Every mutating call is one WriteBatch written without fsync;
// sync() makes all of them durable with one fsync of the WAL (group commit). The WAL is
// recovered with kPointInTimeRecovery, so after a crash the log is the state after a prefix
// of the calls, as raft_log.hpp promises.
//
// first/last index, last_purged and the hard state are kept in memory, and so is the term
// of every stored index as a list of term runs (one LogId per term change, found at open by
// bisection): term_at() never touches the disk, and cannot fail. The newest entries are held
// in memory too (RecentEntries, up to recent_entries_bytes), so entries() of what was just
// appended -- AppendEntries to followers, committed batches to the state machine -- does
// not build a RocksDB iterator.
//
// purge_prefix deletes with a range tombstone in the same batch as the new last_purged, and
// hands the span to a background thread that compacts it (see PurgeCompactor in the .cpp):
// the caller never waits for a compaction.
//
// After a failed write or fsync the log refuses every further write and sync (io_error):
// what reached the disk is then unknown, and retrying an fsync can falsely succeed. The
// owner must reopen it (in practice, restart the node).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "raftor/storage/raft_log.hpp"
#include "raftor/storage/recent_entries.hpp"
#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace raftor {

class PurgeCompactor;

struct RocksDbRaftLogOptions {
  // fsync in sync(). false only for benchmarks that measure without fsync: sync() then
  // returns at once, and a machine crash can lose writes the caller believes durable.
  bool sync = true;
  // Memtable size of the "log" column family: larger means fewer, bigger flushes. The WAL
  // is kept up to twice this size before the column families holding it are flushed.
  std::size_t write_buffer_size = 64 << 20;
  // LRU cache of SST blocks, read by entries() once entries have left the memtable (a slow
  // follower catching up).
  std::size_t block_cache_size = 32 << 20;
  // RocksDB background flush and compaction threads.
  int max_background_jobs = 2;
  // The newest entries are also kept in memory up to this many bytes (recent_entries.hpp):
  // entries() of just-appended ones -- AppendEntries, committed batches -- skip RocksDB.
  // 0: every read goes to RocksDB.
  std::size_t recent_entries_bytes = 8 << 20;
};

class RocksDbRaftLog final : public RaftLog {
 public:
  // Opens the log in `dir`, creating it (and the directory) if needed: a fresh directory
  // opens empty (first 1, last 0). io_error if RocksDB cannot open it (including: another
  // RocksDbRaftLog has it open), corruption if what is stored is inconsistent.
  static Result<std::unique_ptr<RocksDbRaftLog>> open(const std::filesystem::path& dir,
                                                      RocksDbRaftLogOptions options = {});

  // Syncs what was written (best effort; a failure is logged) and closes the database.
  ~RocksDbRaftLog() override;

  RocksDbRaftLog(const RocksDbRaftLog&) = delete;
  RocksDbRaftLog& operator=(const RocksDbRaftLog&) = delete;

  std::uint64_t first_index() const override { return last_purged_.index + 1; }
  std::uint64_t last_index() const override { return last_index_; }
  LogId last_log_id() const override;
  LogId last_purged() const override { return last_purged_; }

  std::optional<std::uint64_t> term_at(std::uint64_t index) const override;

  Result<std::vector<Entry>> entries(std::uint64_t lo, std::uint64_t hi,
                                     std::uint64_t max_bytes = UINT64_MAX) const override;

  Status append(std::span<const Entry> entries) override;
  // from == last_index() + 1 removes nothing; from > last_index() + 1 is invalid_argument.
  Status truncate_suffix(std::uint64_t from) override;
  // When upto.index <= last_index(), upto.term must be the stored term at upto.index
  // (invalid_argument otherwise): a snapshot that disagrees with the log is installed by
  // truncate_suffix(first_index()) first, then purge_prefix (Raft §7: "discard the entire
  // log"). Purging exactly last_purged() again is a no-op.
  Status purge_prefix(LogId upto) override;

  Status save_hard_state(const HardState& state) override;
  HardState hard_state() const override { return hard_state_; }

  Status sync() override;

  const std::filesystem::path& dir() const { return dir_; }

  // Blocks until the background compaction of purged entries has caught up (tests, tools).
  void wait_for_purge_compaction();

 private:
  RocksDbRaftLog(std::filesystem::path dir, RocksDbRaftLogOptions options);

  Status load();
  Result<std::uint64_t> read_term(std::uint64_t index) const;
  Status find_term_changes(std::uint64_t lo, std::uint64_t lo_term, std::uint64_t hi,
                           std::uint64_t hi_term);
  Status check_writable() const;
  Status write_batch(const char* what);
  void schedule_compaction(std::uint64_t lo, std::uint64_t hi);
  void close();

  std::filesystem::path dir_;
  RocksDbRaftLogOptions options_;

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;  // unused, but RocksDB always has it
  rocksdb::ColumnFamilyHandle* log_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  // Reused by every mutating call: Clear() keeps its buffer, so a steady stream of appends
  // does not allocate per call.
  std::unique_ptr<rocksdb::WriteBatch> batch_;

  LogId last_purged_;
  std::uint64_t last_index_ = 0;
  HardState hard_state_;
  // {first index, term} of each run of equal terms in [first_index(), last_index()], by
  // index; empty when the log holds no entry. Terms never decrease along a log, so this is
  // short: one element per term that wrote entries.
  std::vector<LogId> term_runs_;
  // The stored log's newest entries, changed after every successful append, truncation
  // and purge.
  RecentEntries recent_;

  // Compacts purged spans on its own thread, started by the first purge.
  std::unique_ptr<PurgeCompactor> compactor_;

  bool unsynced_ = false;        // something was written since the last successful sync
  std::optional<Error> failed_;  // the write or fsync failure that made the log read-only
};

}  // namespace raftor
