// A built-in state machine kept in memory (an ordered map) and made durable by an
// append-only record file in its directory (storage/file_record_log.hpp):
//
//   <dir>/LOCK   flock'ed while an instance has the directory open
//   <dir>/data   the record file: one record per applied chunk (its puts and deletes plus
//                the new last_applied, so a chunk is atomic on disk) and metadata records
//
// Appends go to the page cache (no fsync per chunk: Raft's log is the durable record);
// flush() and the persist_* calls fdatasync. start() replays the file, dropping a torn tail
// and refusing mid-file damage. The file is rewritten whole (tmp file, fsync, rename) when
// it outgrows the live data, when a snapshot is installed and on reset(), so a crash at any
// point leaves the old state or the new one.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "raftor/messages/command.pb.h"
#include "raftor/storage/state_machine.hpp"

namespace raftor {

namespace record_log {
class RecordLog;
}

struct FileStateMachineOptions {
  // The data file is compacted once it is at least this large and more than
  // compaction_ratio times the size the live data takes when written out.
  std::uint64_t compaction_min_bytes = std::uint64_t{64} << 20;
  std::uint64_t compaction_ratio = 2;
};

class FileStateMachine final : public StateMachine {
 public:
  explicit FileStateMachine(std::filesystem::path dir, FileStateMachineOptions options = {});
  ~FileStateMachine() override;  // stops (flushes)
  FileStateMachine(const FileStateMachine&) = delete;
  FileStateMachine& operator=(const FileStateMachine&) = delete;

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

  Status save_hard_state() override;
  Status flush() override;
  Status reset() override;

  // The record file, for tests and tools.
  std::filesystem::path data_path() const { return dir_ / "data"; }

  using Map = std::map<std::string, std::string, std::less<>>;

 private:
  Status usable() const;  // not_running, or io_error once poisoned
  void poison(const Error& cause);
  Result<std::vector<ApplyResult>> apply(const std::vector<Entry>& chunk);
  // Appends the record built in record_ (page cache only); caller holds mutex_ exclusively.
  Status append_locked();
  // fdatasync; a failure poisons (the kernel may have dropped the unwritten pages).
  Status flush_log(const record_log::RecordLog& log);
  void maybe_compact_locked();
  Status close_locked();

  const std::filesystem::path dir_;
  const FileStateMachineOptions options_;

  // Readers (get, len, generate_snapshot_data, flush's handle copy) share; apply, the
  // persist calls, snapshot install, reset and lifecycle exclude.
  mutable std::shared_mutex mutex_;
  Map data_;
  std::uint64_t live_bytes_ = 0;  // data_ as written out by a compaction
  LogId last_applied_;
  std::optional<SnapshotMetadata> snapshot_metadata_;
  // Shared so that flush() can fdatasync outside the lock while a compaction swaps files.
  std::shared_ptr<record_log::RecordLog> log_;
  std::uint64_t compaction_retry_at_ = 0;  // backoff after a failed compaction
  int lock_fd_ = -1;
  std::string record_;   // reused for every chunk's record: no per-entry allocation
  pb::Command scratch_;  // reused to decode commands

  std::atomic<bool> running_{false};
  std::atomic<bool> poisoned_{false};
  mutable std::mutex poison_mutex_;
  std::string poison_reason_;
};

}  // namespace raftor
