#include "raftor/snapshot/checksum.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

namespace raftor::snapshot {

Hasher::Hasher() : state_(XXH3_createState()) {
  if (state_ == nullptr) throw std::bad_alloc();
  XXH3_128bits_reset(state_);
}

Hasher::Hasher(Hasher&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}

Hasher::~Hasher() {
  if (state_ != nullptr) XXH3_freeState(state_);
}

void Hasher::update(const void* data, std::size_t size) { XXH3_128bits_update(state_, data, size); }

Checksum Hasher::digest() const {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(state_));
  return Checksum(reinterpret_cast<const char*>(canonical.digest), sizeof(canonical.digest));
}

Checksum checksum_of(std::string_view bytes) {
  Hasher hasher;
  hasher.update(bytes);
  return hasher.digest();
}

std::uint64_t chunk_checksum(std::string_view bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

Result<Checksum> checksum_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(ErrorCode::io_error,
                      "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  Hasher hasher;
  std::vector<char> buffer(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return make_error(ErrorCode::io_error,
                        "cannot read " + path.string() + ": " + std::strerror(err));
    }
    hasher.update(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return hasher.digest();
}

Status verify_file_checksum(const std::filesystem::path& path, const Checksum& expected) {
  if (expected.empty()) {
    return make_error(ErrorCode::checksum_mismatch,
                      "snapshot " + path.string() + " has no checksum to validate against");
  }
  auto actual = checksum_file(path);
  if (!actual) return actual.error();
  if (*actual != expected) {
    return make_error(ErrorCode::checksum_mismatch, "snapshot " + path.string() +
                                                        ": expected checksum " + to_hex(expected) +
                                                        ", file has " + to_hex(*actual));
  }
  return {};
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

}  // namespace raftor::snapshot
