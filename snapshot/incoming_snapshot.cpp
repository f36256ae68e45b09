#include "raftor/snapshot/incoming_snapshot.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace raftor::snapshot {

Result<std::unique_ptr<IncomingSnapshot>> IncomingSnapshot::begin(
    SnapshotStore& store, const SnapshotMetadata& metadata) {
  auto temp = store.temp_path();
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_error(ErrorCode::io_error,
                      "cannot create " + temp.string() + ": " + std::strerror(errno));
  }
  return std::unique_ptr<IncomingSnapshot>(
      new IncomingSnapshot(store, metadata, std::move(temp), fd));
}

IncomingSnapshot::IncomingSnapshot(SnapshotStore& store, SnapshotMetadata metadata,
                                   std::filesystem::path temp, int fd)
    : store_(store), metadata_(std::move(metadata)), temp_(std::move(temp)), fd_(fd) {}

IncomingSnapshot::~IncomingSnapshot() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) store_.discard(temp_);
}

Result<ChunkVerdict> IncomingSnapshot::accept(std::uint64_t offset, std::string_view data,
                                              std::uint64_t data_checksum) {
  if (offset != received_ || received_ + data.size() > metadata_.size) {
    return ChunkVerdict::out_of_order;
  }
  if (chunk_checksum(data) != data_checksum) return ChunkVerdict::corrupt;
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return make_error(ErrorCode::io_error,
                        "writing " + temp_.string() + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  hasher_.update(data);
  received_ += data.size();
  return ChunkVerdict::accepted;
}

Result<SnapshotMetadata> IncomingSnapshot::finish() {
  if (!complete()) {
    return make_error(ErrorCode::invalid_argument,
                      "snapshot incomplete: " + std::to_string(received_) + " of " +
                          std::to_string(metadata_.size) + " bytes");
  }
  const Checksum got = hasher_.digest();
  if (got != metadata_.checksum) {
    return make_error(ErrorCode::checksum_mismatch,
                      "received snapshot at index " +
                          std::to_string(metadata_.last_included.index) + " hashes to " +
                          to_hex(got) + ", expected " + to_hex(metadata_.checksum));
  }
  ::close(fd_);
  fd_ = -1;
  auto committed = store_.commit(temp_, metadata_);  // fsync, rename, metadata
  if (committed) committed_ = true;
  return committed;
}

}  // namespace raftor::snapshot
