// The pluggable state machine: the application logic that committed Raft entries drive.
//
// raftor calls it from actors: the state-machine handler applies (apply_chunk, reset,
// apply_snapshot_from_file), the snapshotter generates snapshots and then calls flush(),
// persist_last_snapshot_metadata() and last_applied(), readers call get. So get, get_multi,
// len, last_applied, snapshot_metadata, generate_snapshot_data, flush and the persist_*
// calls must be safe while apply_chunk runs on another thread; raftor never calls two of
// the mutating methods (apply_chunk, apply_snapshot_from_file, reset) at once.
//
// Contract (enforced by raftor::testing::StateMachineTestSuite, tests/state_machine_suite):
//  1. apply_chunk is atomic per chunk: every entry of the chunk takes effect, or none does
//     (a malformed k-th entry leaves no partial write and the error names its index).
//  2. Idempotent: entries at or below last_applied are skipped (outcome already_applied);
//     Raft may re-deliver after a restart.
//  3. Results: one ApplyResult per input entry, in input order. A compare-and-swap whose
//     expectation does not hold is a result (cas_mismatch), not an error.
//  4. last_applied is persisted in the same atomic write as the data it describes, so
//     after a crash the state equals the state after some whole prefix of chunks.
//  5. generate_snapshot_data writes one self-contained file and returns a real checksum
//     of it (XXH3-128 via snapshot/checksum.hpp; never zeros).
//  6. apply_snapshot_from_file validates the checksum (and the file's structure) before it
//     touches state, then replaces the whole state atomically: a crash at any point leaves
//     the old state or the new one, never a mix. Keys absent from the snapshot are gone.
//  7. The destructor flushes: whatever apply_chunk acknowledged is durable after it.
//  8. Errors are returned, never thrown.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace raftor {

// What generate_snapshot_data produced. The state machine picks the point in time (its
// own consistent view), so it, not the caller, reports which entry the snapshot ends at.
struct GeneratedSnapshot {
  LogId last_included;
  Checksum checksum;
  std::uint64_t size = 0;
};

class StateMachine {
 public:
  using ApplyDone = std::function<void(Result<std::vector<ApplyResult>>)>;
  using FlushDone = std::function<void(Status)>;

  virtual ~StateMachine() = default;

  // --- lifecycle -------------------------------------------------------------------------
  // start() loads persisted state (last_applied, snapshot metadata) and makes the state
  // machine usable; calling it twice is harmless. Every other call fails with
  // ErrorCode::not_running before start() and after stop(). stop() flushes.
  virtual Status start() = 0;
  virtual Status stop() = 0;
  virtual bool is_running() const = 0;

  // --- reads (thread-safe, may run concurrently with apply_chunk) ------------------------
  virtual Result<std::optional<std::string>> get(std::string_view key) const = 0;
  // One element per key, in the order given; std::nullopt for an absent key.
  virtual Result<std::vector<std::optional<std::string>>> get_multi(
      std::span<const std::string> keys) const;
  // Term of the entry at `index` when the state machine still knows it: last_applied's and
  // the last snapshot's last included entry. std::nullopt otherwise.
  virtual std::optional<std::uint64_t> entry_term(std::uint64_t index) const;
  virtual std::size_t len() const = 0;  // number of keys
  bool is_empty() const { return len() == 0; }

  // --- apply -------------------------------------------------------------------------------
  // Applies a chunk of committed entries (ascending, contiguous indexes). `done` is called
  // exactly once, on any thread, possibly before apply_chunk returns. Normal entries carry a
  // serialized pb::Command (see storage/command.hpp); noop and config entries only advance
  // last_applied. The applied data and last_applied are written atomically but need not
  // be fsynced: Raft's log is the durable record, flush() makes them durable.
  virtual void apply_chunk(std::vector<Entry> chunk, ApplyDone done) = 0;

  // --- last applied ------------------------------------------------------------------------
  virtual void update_last_applied(LogId last_applied) = 0;  // in memory only
  virtual LogId last_applied() const = 0;
  virtual Status persist_last_applied(LogId last_applied) = 0;  // durable

  // --- snapshot metadata -------------------------------------------------------------------
  virtual void update_last_snapshot_metadata(const SnapshotMetadata& metadata) = 0;  // memory
  virtual std::optional<SnapshotMetadata> snapshot_metadata() const = 0;
  // All of it, client_sessions included (the exactly-once table the snapshot carries;
  // serialize() in proto_convert.hpp writes every field).
  virtual Status persist_last_snapshot_metadata(const SnapshotMetadata& metadata) = 0;

  // --- snapshots -----------------------------------------------------------------------------
  // Writes the state as of a consistent point (no later than the moment of the call) into
  // the single file `path` (created; its parent exists) and fsyncs it. May run
  // concurrently with apply_chunk and get.
  virtual Result<GeneratedSnapshot> generate_snapshot_data(const std::filesystem::path& path) = 0;
  // Validates `path` against metadata.checksum, then atomically replaces all state with
  // the snapshot's; afterwards last_applied() == metadata.last_included and
  // snapshot_metadata() == metadata, both durable. On any error the state is unchanged.
  virtual Status apply_snapshot_from_file(const SnapshotMetadata& metadata,
                                          const std::filesystem::path& path) = 0;

  // --- durability ----------------------------------------------------------------------------
  // Persists last_applied and snapshot metadata together, durably.
  virtual Status save_hard_state() = 0;
  // Makes everything applied so far durable (one fsync or equivalent).
  virtual Status flush() = 0;
  // Like flush(); `done` runs exactly once, on any thread. The default flushes inline and
  // then calls `done`; implementations with a background writer complete it later.
  virtual void flush_async(FlushDone done);
  // Removes all data and metadata, durably: afterwards the state machine is empty with
  // last_applied == {0, 0} and no snapshot metadata.
  virtual Status reset() = 0;
};

}  // namespace raftor
