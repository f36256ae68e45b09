// The leader's side of a snapshot transfer: reads one stored snapshot file in chunks.
// The file is opened once and kept open, so the transfer survives the store pruning it
// (POSIX keeps an unlinked file readable while it is open) when newer snapshots arrive.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace raftor::snapshot {

class OutgoingSnapshot {
 public:
  // io_error if the file cannot be opened; corruption if its size is not metadata.size.
  static Result<OutgoingSnapshot> open(const std::filesystem::path& path,
                                       const SnapshotMetadata& metadata);
  OutgoingSnapshot(OutgoingSnapshot&& other) noexcept;
  OutgoingSnapshot& operator=(OutgoingSnapshot&& other) noexcept;
  OutgoingSnapshot(const OutgoingSnapshot&) = delete;
  OutgoingSnapshot& operator=(const OutgoingSnapshot&) = delete;
  ~OutgoingSnapshot();

  const SnapshotMetadata& metadata() const { return metadata_; }
  std::uint64_t size() const { return metadata_.size; }
  // Up to max_bytes from `offset` (fewer only at the end of the file) into `out`.
  Status read(std::uint64_t offset, std::uint64_t max_bytes, std::string& out) const;

 private:
  OutgoingSnapshot(int fd, SnapshotMetadata metadata) : fd_(fd), metadata_(std::move(metadata)) {}

  int fd_ = -1;
  SnapshotMetadata metadata_;
};

}  // namespace raftor::snapshot
