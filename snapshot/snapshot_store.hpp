// A node's snapshot directory.
//
// A snapshot is two files named by its last included entry:
//   snapshot-<index, 20 digits>-<term>.data   the state machine's snapshot file
//   snapshot-<index, 20 digits>-<term>.meta   serialize(SnapshotMetadata)
// Commit order makes the pair crash-safe: the data file is generated under a temporary
// name, fsynced, durably renamed to its final name, and only then is the metadata written
// (fs::atomic_write_file). So a .meta file always names a complete, durable data file, and
// a .data file without .meta is an interrupted generation. Pruning removes .meta first.
//
// open() removes what an interrupted generation or prune left (*.tmp, data without meta),
// and refuses, with a logged error, a snapshot whose data is missing or does not match its
// metadata (size, checksum): its files are removed and it is not listed.
//
// Thread-safe: the snapshotter commits while others (status, a future InstallSnapshot
// sender) read latest().
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "raftor/storage/state_machine.hpp"
#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace raftor::snapshot {

struct SnapshotStoreOptions {
  std::size_t keep = 2;           // snapshots kept; older ones are deleted (at least 1 is kept)
  bool verify_checksums = true;   // open() re-reads every data file to check its checksum
};

class SnapshotStore {
 public:
  // Opens `dir`, creating it if needed, and cleans it up as described above. io_error if
  // the directory cannot be created or listed.
  static Result<std::unique_ptr<SnapshotStore>> open(const std::filesystem::path& dir,
                                                     SnapshotStoreOptions options = {});

  SnapshotStore(const SnapshotStore&) = delete;
  SnapshotStore& operator=(const SnapshotStore&) = delete;

  // A fresh path in the directory to generate (or receive) a snapshot file into. It is not
  // a snapshot until commit(); open() removes anything left at such a path.
  std::filesystem::path temp_path();

  // Makes the complete file at `temp` the snapshot `metadata` describes (its size must be
  // metadata.size; its checksum is the producer's to get right): fsync, rename, metadata
  // file, then prune to `keep`. If the store already holds a snapshot ending at the same
  // index, `temp` is removed and the stored snapshot's metadata returned. A snapshot older
  // than the newest one is refused (invalid_argument); `temp` is then left to the caller.
  Result<SnapshotMetadata> commit(const std::filesystem::path& temp,
                                  const SnapshotMetadata& metadata);
  // The same, from what StateMachine::generate_snapshot_data reported.
  Result<SnapshotMetadata> commit(const std::filesystem::path& temp,
                                  const GeneratedSnapshot& generated,
                                  const Membership& membership);
  // Removes a temporary file after a failed generation (best effort).
  void discard(const std::filesystem::path& temp);

  std::optional<SnapshotMetadata> latest() const;
  // The newest snapshot's last entry, without copying its metadata (which carries the
  // client table, up to megabytes): for checks made often.
  std::optional<LogId> latest_id() const;
  std::vector<SnapshotMetadata> list() const;  // oldest first
  // Where the snapshot ending at `id` lives (whether or not it exists).
  std::filesystem::path data_path(const LogId& id) const;
  std::filesystem::path meta_path(const LogId& id) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  SnapshotStore(std::filesystem::path dir, SnapshotStoreOptions options);

  Status load();
  void prune_locked();

  const std::filesystem::path dir_;
  const SnapshotStoreOptions options_;
  mutable std::mutex mutex_;
  std::map<std::uint64_t, SnapshotMetadata> snapshots_;  // by last included index
  std::uint64_t next_temp_ = 0;
};

}  // namespace raftor::snapshot
