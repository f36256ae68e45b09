// The follower's side of a snapshot transfer: one snapshot being received into a
// temporary file of the node's SnapshotStore.
//
// Chunks must arrive in order; any other offset is answered with the offset wanted, so
// the sender resumes there (after a lost chunk, a reconnect, or a new leader sending the
// same snapshot). A chunk whose XXH3-64 does not match is dropped and asked for again.
// Once the last byte is in, the whole file is checked against the snapshot's XXH3-128
// (hashed as it arrives, so it is never re-read) and only then committed to the store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

#include "raftor/snapshot/checksum.hpp"
#include "raftor/snapshot/snapshot_store.hpp"
#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace raftor::snapshot {

enum class ChunkVerdict : std::uint8_t {
  accepted,      // written; next_offset() moved on
  out_of_order,  // not the offset wanted: ignored, ask for next_offset()
  corrupt,       // its checksum failed: ignored, ask for it again
};

class IncomingSnapshot {
 public:
  // Creates the temporary file. io_error if it cannot.
  static Result<std::unique_ptr<IncomingSnapshot>> begin(SnapshotStore& store,
                                                         const SnapshotMetadata& metadata);
  ~IncomingSnapshot();  // removes the temporary file unless finish() committed it
  IncomingSnapshot(const IncomingSnapshot&) = delete;
  IncomingSnapshot& operator=(const IncomingSnapshot&) = delete;

  const SnapshotMetadata& metadata() const { return metadata_; }
  std::uint64_t next_offset() const { return received_; }
  bool complete() const { return received_ == metadata_.size; }

  // io_error if the write fails (the transfer cannot go on).
  Result<ChunkVerdict> accept(std::uint64_t offset, std::string_view data,
                              std::uint64_t data_checksum);

  // After complete(): checksum_mismatch if the whole file is not what the metadata says
  // (the caller starts over), else the snapshot is durable in the store.
  Result<SnapshotMetadata> finish();

 private:
  IncomingSnapshot(SnapshotStore& store, SnapshotMetadata metadata,
                   std::filesystem::path temp, int fd);

  SnapshotStore& store_;
  SnapshotMetadata metadata_;
  std::filesystem::path temp_;
  int fd_ = -1;
  std::uint64_t received_ = 0;
  Hasher hasher_;
  bool committed_ = false;
};

}  // namespace raftor::snapshot
