#include "raftor/snapshot/kv_snapshot_file.hpp"

#include "raftor/storage/byte_order.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace raftor::snapshot {

namespace {
using byte_order::get_u32;
using byte_order::get_u64;
using byte_order::put_u32;
using byte_order::put_u64;

constexpr std::string_view kMagic = "RFTKVSN1";
constexpr std::uint32_t kTrailerMarker = 0xFFFFFFFFu;
constexpr std::size_t kHeaderSize = 8 + 8 + 8;
constexpr std::size_t kTrailerSize = 4 + 8;
constexpr std::size_t kBufferSize = 1 << 20;

Error io_error(std::string_view what, const std::filesystem::path& path, int err) {
  return make_error(ErrorCode::io_error,
                    std::string(what) + " " + path.string() + ": " + std::strerror(err));
}
Error corrupt(const std::filesystem::path& path, std::string_view why) {
  return make_error(ErrorCode::corruption, "snapshot " + path.string() + ": " + std::string(why));
}
}  // namespace

KvSnapshotWriter::KvSnapshotWriter(std::filesystem::path path, int fd, LogId last_included)
    : path_(std::move(path)), fd_(fd), last_included_(last_included) {
  buffer_.reserve(kBufferSize + 64);
}

KvSnapshotWriter::KvSnapshotWriter(KvSnapshotWriter&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      last_included_(other.last_included_),
      buffer_(std::move(other.buffer_)),
      records_(other.records_),
      size_(other.size_),
      hasher_(std::move(other.hasher_)),
      finished_(std::exchange(other.finished_, true)) {}

KvSnapshotWriter::~KvSnapshotWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!finished_ && !path_.empty()) ::unlink(path_.c_str());
}

Result<KvSnapshotWriter> KvSnapshotWriter::create(const std::filesystem::path& path,
                                                  LogId last_included) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", path, errno);
  KvSnapshotWriter writer(path, fd, last_included);
  writer.buffer_.append(kMagic);
  put_u64(writer.buffer_, last_included.index);
  put_u64(writer.buffer_, last_included.term);
  return Result<KvSnapshotWriter>(std::move(writer));
}

Status KvSnapshotWriter::drain() {
  hasher_.update(buffer_);
  std::size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write", path_, errno);
    }
    done += static_cast<std::size_t>(n);
  }
  size_ += buffer_.size();
  buffer_.clear();
  return {};
}

Status KvSnapshotWriter::add(std::string_view key, std::string_view value) {
  if (key.size() > UINT32_MAX - 1 || value.size() > UINT32_MAX) {
    return make_error(ErrorCode::invalid_argument, "snapshot record too large");
  }
  put_u32(buffer_, static_cast<std::uint32_t>(key.size()));
  put_u32(buffer_, static_cast<std::uint32_t>(value.size()));
  buffer_.append(key);
  buffer_.append(value);
  ++records_;
  if (buffer_.size() >= kBufferSize) return drain();
  return {};
}

Result<GeneratedSnapshot> KvSnapshotWriter::finish() {
  put_u32(buffer_, kTrailerMarker);
  put_u64(buffer_, records_);
  if (auto s = drain(); !s) return s.error();
  if (::fsync(fd_) != 0) return io_error("cannot fsync", path_, errno);
  ::close(std::exchange(fd_, -1));
  finished_ = true;
  return GeneratedSnapshot{last_included_, hasher_.digest(), size_};
}

Result<KvSnapshotHeader> read_kv_snapshot(
    const std::filesystem::path& path, const Checksum& expected,
    const std::function<void(std::string_view, std::string_view)>& on_record) {
  if (auto s = verify_file_checksum(path, expected); !s) return s.error();

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return io_error("cannot stat", path, err);
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size < kHeaderSize + kTrailerSize) {
    ::close(fd);
    return corrupt(path, "truncated: " + std::to_string(size) + " bytes");
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return io_error("cannot map", path, errno);
  ::madvise(map, size, MADV_SEQUENTIAL);
  const auto* data = static_cast<const unsigned char*>(map);
  struct Unmap {
    void* p;
    std::size_t n;
    ~Unmap() { ::munmap(p, n); }
  } unmap{map, size};

  if (std::memcmp(data, kMagic.data(), kMagic.size()) != 0) return corrupt(path, "bad magic");
  KvSnapshotHeader header;
  header.last_included = {get_u64(data + 8), get_u64(data + 16)};

  // Structural pass first, so that on_record never sees a prefix of a damaged file.
  const std::size_t body_end = size - kTrailerSize;
  std::uint64_t count = 0;
  for (std::size_t pos = kHeaderSize; pos < body_end; ++count) {
    if (body_end - pos < 8) return corrupt(path, "record header cut short");
    const std::uint64_t klen = get_u32(data + pos);
    const std::uint64_t vlen = get_u32(data + pos + 4);
    if (klen + vlen > body_end - pos - 8) return corrupt(path, "record runs past the end");
    pos += 8 + klen + vlen;
  }
  if (get_u32(data + body_end) != kTrailerMarker) return corrupt(path, "missing trailer");
  header.records = get_u64(data + body_end + 4);
  if (header.records != count) {
    return corrupt(path, "trailer counts " + std::to_string(header.records) + " records, found " +
                             std::to_string(count));
  }
  for (std::size_t pos = kHeaderSize; pos < body_end;) {
    const std::uint32_t klen = get_u32(data + pos);
    const std::uint32_t vlen = get_u32(data + pos + 4);
    const auto* key = reinterpret_cast<const char*>(data + pos + 8);
    on_record({key, klen}, {key + klen, vlen});
    pos += 8 + std::size_t{klen} + vlen;
  }
  return header;
}

}  // namespace raftor::snapshot
