// raftor's default state machine: a key-value store in RocksDB.
//
// Layout (one DB in dir/db; column families besides "default"):
//   data  'k' + user key -> value   (the user key space is exactly ["k", "l"), so one range
//                                    tombstone covers it), plus kSnapshotMarkerKey, written
//                                    only by snapshot files (see below)
//   meta  "m:last_applied" -> LogId (16 bytes, little-endian index then term)
//         "m:snapshot"     -> serialize(SnapshotMetadata)   (meta keys live in ["m", "n"))
//
// Applying a chunk is one WriteBatch (data + last_applied) written without fsync: Raft's
// log is the durable record, flush() syncs the WAL. Compare-and-swap reads through an
// overlay of the chunk's own writes, built only once a chunk holds a CAS.
//
// A snapshot is a single SST file of the data column family, written from a RocksDB
// snapshot while apply continues. It carries a range tombstone over ["k", "l") and a marker
// key holding its last included LogId, and is installed together with a locally built meta
// SST by one IngestExternalFiles call, which RocksDB records atomically in its MANIFEST.
#pragma once

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "raftor/messages/command.pb.h"
#include "raftor/storage/state_machine.hpp"

namespace rocksdb {
class Cache;
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace raftor {

struct RocksDbStateMachineOptions {
  // Memtable size of the data column family. Smaller than RocksDB's 64 MiB on purpose: a
  // replicated KV store sees overwrites of hot keys, each a new version in the memtable
  // until it flushes, so a big memtable is mostly dead versions -- every insert searches a
  // deeper skip list (cache and TLB misses: two thirds of the handler's CPU per put at
  // 64 MiB) and every snapshot scan steps over them. 8 MiB cut the nodes' CPU per put by
  // ~8% (127 vs 138 us, medians of 6 alternated runs of `make bench-nodes`) at the cost of
  // more, smaller flushes. Raise it for large values or key spaces written once.
  std::size_t write_buffer_size = 8 << 20;
  // Shared LRU block cache for reads of the data column family.
  std::size_t block_cache_size = 64 << 20;
  // RocksDB flush/compaction threads.
  int max_background_jobs = 2;
  // LZ4-compress snapshot SSTs: smaller transfers, slower generation (values are often
  // incompressible). Off by default. (The data column family uses LZ4 from level 2 down.)
  bool compress_snapshots = false;
};

class RocksDbStateMachine final : public StateMachine {
 public:
  // The key in the data column family under which a snapshot SST records its last
  // included LogId. Outside the user key space, so never visible through get/len.
  static constexpr std::string_view kSnapshotMarkerKey = "~snapshot";

  explicit RocksDbStateMachine(std::filesystem::path dir, RocksDbStateMachineOptions options = {});
  ~RocksDbStateMachine() override;  // stop(): flushes, closes
  RocksDbStateMachine(const RocksDbStateMachine&) = delete;
  RocksDbStateMachine& operator=(const RocksDbStateMachine&) = delete;

  Status start() override;
  Status stop() override;
  bool is_running() const override { return running_.load(std::memory_order_acquire); }

  Result<std::optional<std::string>> get(std::string_view key) const override;
  Result<std::vector<std::optional<std::string>>> get_multi(
      std::span<const std::string> keys) const override;
  // Exact, by counting the keys of a consistent iterator: O(number of keys), about 0.4 us
  // per key (1M keys: ~0.4 s of CPU). Keeping a count instead would need a point lookup
  // before every put and delete on the apply path. 0 when not running.
  std::size_t len() const override;

  // Completes `done` inline.
  void apply_chunk(std::vector<Entry> chunk, ApplyDone done) override;

  void update_last_applied(LogId last_applied) override;
  LogId last_applied() const override;
  Status persist_last_applied(LogId last_applied) override;

  void update_last_snapshot_metadata(const SnapshotMetadata& metadata) override;
  std::optional<SnapshotMetadata> snapshot_metadata() const override;
  Status persist_last_snapshot_metadata(const SnapshotMetadata& metadata) override;

  Result<GeneratedSnapshot> generate_snapshot_data(const std::filesystem::path& path) override;
  // Copies the file into the DB (the file at `path` is left byte-for-byte unchanged).
  Status apply_snapshot_from_file(const SnapshotMetadata& metadata,
                                  const std::filesystem::path& path) override;

  Status save_hard_state() override;
  Status flush() override;  // syncs the WAL
  Status reset() override;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  class BatchTarget;

  // Callers hold lifecycle_ (shared or exclusive) and have checked db_.
  Status flush_locked();
  Status close_locked();
  Status write_meta_synced(bool last_applied, bool snapshot);
  Result<std::vector<ApplyResult>> apply(const std::vector<Entry>& chunk);

  const std::filesystem::path dir_;
  const RocksDbStateMachineOptions options_;
  const std::shared_ptr<rocksdb::Cache> block_cache_;

  // Shared by every operation for its duration, exclusive for start/stop: the DB and its
  // handles stay valid while anything uses them.
  mutable std::shared_mutex lifecycle_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* data_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  std::atomic<bool> running_{false};

  // In-memory last_applied and snapshot metadata (readers run concurrently with apply).
  mutable std::mutex meta_mutex_;
  LogId last_applied_;
  std::optional<SnapshotMetadata> snapshot_metadata_;

  // The mutating paths (apply_chunk, apply_snapshot_from_file, reset) are serialized by
  // raftor; this mutex only makes misuse safe. It guards the reusable apply buffers.
  std::mutex apply_mutex_;
  std::unique_ptr<BatchTarget> target_;  // owns the chunk's WriteBatch, reused across chunks
  pb::Command scratch_;
};

}  // namespace raftor
