#include "raftor/snapshot/outgoing_snapshot.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace raftor::snapshot {

namespace {
Error io_error(const std::string& what, const std::filesystem::path& path) {
  return make_error(ErrorCode::io_error, what + " " + path.string() + ": " + std::strerror(errno));
}
}  // namespace

Result<OutgoingSnapshot> OutgoingSnapshot::open(const std::filesystem::path& path,
                                                const SnapshotMetadata& metadata) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open snapshot", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    auto err = io_error("cannot stat snapshot", path);
    ::close(fd);
    return err;
  }
  if (static_cast<std::uint64_t>(st.st_size) != metadata.size) {
    ::close(fd);
    return make_error(ErrorCode::corruption,
                      "snapshot " + path.string() + " has " + std::to_string(st.st_size) +
                          " bytes, its metadata says " + std::to_string(metadata.size));
  }
  // The file is read front to back once per transfer.
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return OutgoingSnapshot(fd, metadata);
}

OutgoingSnapshot::OutgoingSnapshot(OutgoingSnapshot&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), metadata_(std::move(other.metadata_)) {}

OutgoingSnapshot& OutgoingSnapshot::operator=(OutgoingSnapshot&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    metadata_ = std::move(other.metadata_);
  }
  return *this;
}

OutgoingSnapshot::~OutgoingSnapshot() {
  if (fd_ >= 0) ::close(fd_);
}

Status OutgoingSnapshot::read(std::uint64_t offset, std::uint64_t max_bytes,
                              std::string& out) const {
  if (offset > metadata_.size) {
    return make_error(ErrorCode::out_of_range, "offset " + std::to_string(offset) +
                                                   " is past the snapshot's end (" +
                                                   std::to_string(metadata_.size) + " bytes)");
  }
  const std::uint64_t want = std::min(max_bytes, metadata_.size - offset);
  out.resize(want);
  std::uint64_t done = 0;
  while (done < want) {
    const ssize_t n = ::pread(fd_, out.data() + done, want - done,
                              static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return make_error(ErrorCode::io_error, "reading snapshot at offset " +
                                                 std::to_string(offset + done) + ": " +
                                                 (n == 0 ? "unexpected end of file"
                                                         : std::strerror(errno)));
    }
    done += static_cast<std::uint64_t>(n);
  }
  return {};
}

}  // namespace raftor::snapshot
