#include "raftor/storage/file_record_log.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include <spdlog/spdlog.h>
#include <xxhash.h>

#include "raftor/storage/fs_util.hpp"

namespace raftor::record_log {

namespace {
constexpr std::string_view kMagic = "RFTFSMD1";
constexpr std::size_t kDrainSize = 1 << 20;

Error os_error(std::string_view what, const std::filesystem::path& path, int err) {
  return make_error(ErrorCode::io_error,
                    std::string(what) + " " + path.string() + ": " + std::strerror(err));
}


Status write_all(int fd, const std::filesystem::path& path, std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("cannot write", path, errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

// A read-only view of a whole file, unmapped on scope exit.
struct Mapping {
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (data != nullptr) ::munmap(const_cast<unsigned char*>(data), size);
  }
};

// nullopt when a whole record with a matching checksum starts at `pos`, else why not.
std::optional<std::string> damage_at(const Mapping& m, std::size_t pos, std::uint32_t& len) {
  const std::size_t remaining = m.size - pos;
  if (remaining < kRecordHeaderSize) {
    return "record header cut short (" + std::to_string(remaining) + " bytes)";
  }
  len = get_u32(m.data + pos);
  if (len > remaining - kRecordHeaderSize) {
    return "record cut short (body of " + std::to_string(len) + " bytes, " +
           std::to_string(remaining - kRecordHeaderSize) + " present)";
  }
  if (XXH3_64bits(m.data + pos + kRecordHeaderSize, len) != get_u64(m.data + pos + 4)) {
    return std::string("record checksum mismatch");
  }
  return std::nullopt;
}

// The first offset >= from holding a valid record, if any. Only runs after damage was
// found; `plausible` rejects almost every offset before it is hashed.
std::optional<std::size_t> find_valid_record(const Mapping& m, std::size_t from,
                                             const PlausibleFn& plausible) {
  if (m.size < kRecordHeaderSize) return std::nullopt;
  for (std::size_t p = from; p + kRecordHeaderSize <= m.size; ++p) {
    const std::uint32_t len = get_u32(m.data + p);
    if (len == 0 || len > m.size - p - kRecordHeaderSize) continue;
    const std::string_view body(reinterpret_cast<const char*>(m.data + p + kRecordHeaderSize),
                                len);
    if (!plausible(body)) continue;
    if (XXH3_64bits(body.data(), len) == get_u64(m.data + p + 4)) return p;
  }
  return std::nullopt;
}
}  // namespace


std::size_t begin_record(std::string& out) {
  const std::size_t start = out.size();
  out.append(kRecordHeaderSize, '\0');
  return start;
}

Status finish_record(std::string& out, std::size_t start) {
  const std::size_t len = out.size() - start - kRecordHeaderSize;
  if (len > UINT32_MAX) {
    out.resize(start);
    return make_error(ErrorCode::invalid_argument,
                      "record of " + std::to_string(len) + " bytes exceeds the 4 GiB limit");
  }
  const std::uint64_t sum = XXH3_64bits(out.data() + start + kRecordHeaderSize, len);
  for (int i = 0; i < 4; ++i) out[start + i] = static_cast<char>(len >> (8 * i));
  set_u64(out, start + 4, sum);
  return {};
}

bool BodyReader::u8(std::uint8_t& v) {
  if (rest_.empty()) return false;
  v = static_cast<std::uint8_t>(rest_.front());
  rest_.remove_prefix(1);
  return true;
}
bool BodyReader::u32(std::uint32_t& v) {
  if (rest_.size() < 4) return false;
  v = get_u32(reinterpret_cast<const unsigned char*>(rest_.data()));
  rest_.remove_prefix(4);
  return true;
}
bool BodyReader::u64(std::uint64_t& v) {
  if (rest_.size() < 8) return false;
  v = get_u64(reinterpret_cast<const unsigned char*>(rest_.data()));
  rest_.remove_prefix(8);
  return true;
}
bool BodyReader::bytes(std::size_t n, std::string_view& out) {
  if (rest_.size() < n) return false;
  out = rest_.substr(0, n);
  rest_.remove_prefix(n);
  return true;
}

// --- RecordLog -----------------------------------------------------------------------------

RecordLog::RecordLog(std::filesystem::path path, int fd, std::uint64_t size)
    : path_(std::move(path)), fd_(fd), size_(size) {}

RecordLog::~RecordLog() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<RecordLog>> RecordLog::open(const std::filesystem::path& path,
                                                   const PlausibleFn& plausible,
                                                   const VisitFn& visit) {
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0) return os_error("cannot open", path, errno);
  std::unique_ptr<RecordLog> log(new RecordLog(path, fd, 0));
  struct stat st {};
  if (::fstat(fd, &st) != 0) return os_error("cannot stat", path, errno);
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size < kMagic.size()) {
    return make_error(ErrorCode::corruption, "data file " + path.string() + " is " +
                                                 std::to_string(size) +
                                                 " bytes, shorter than its header");
  }

  std::optional<std::size_t> cut_at;  // where a damaged tail begins
  {
    Mapping m;
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) return os_error("cannot map", path, errno);
    m.data = static_cast<const unsigned char*>(map);
    m.size = size;
    ::madvise(map, size, MADV_SEQUENTIAL);
    if (std::memcmp(m.data, kMagic.data(), kMagic.size()) != 0) {
      return make_error(ErrorCode::corruption,
                        "data file " + path.string() + " has a bad magic: not a raftor file");
    }
    std::size_t pos = kMagic.size();
    while (pos < size) {
      std::uint32_t len = 0;
      if (auto damage = damage_at(m, pos, len)) {
        if (auto next = find_valid_record(m, pos + 1, plausible)) {
          return make_error(ErrorCode::corruption,
                            "data file " + path.string() + " is damaged at offset " +
                                std::to_string(pos) + " (" + *damage +
                                ") but a valid record follows at offset " +
                                std::to_string(*next) + "; refusing to drop committed data");
        }
        spdlog::warn("data file {}: dropping a damaged tail of {} bytes at offset {} ({}), "
                     "left by an interrupted write",
                     path.string(), size - pos, pos, *damage);
        cut_at = pos;
        break;
      }
      const std::string_view body(
          reinterpret_cast<const char*>(m.data + pos + kRecordHeaderSize), len);
      if (auto s = visit(pos, body); !s) return s.error();
      pos += kRecordHeaderSize + len;
    }
  }
  log->size_ = size;
  if (cut_at) {
    // Durably, so that later appends never follow the damaged bytes.
    if (::ftruncate(fd, static_cast<off_t>(*cut_at)) != 0) {
      return os_error("cannot truncate", path, errno);
    }
    if (::fsync(fd) != 0) return os_error("cannot fsync", path, errno);
    log->size_ = *cut_at;
  }
  return log;
}

Status RecordLog::create_empty(const std::filesystem::path& path) {
  return fs::atomic_write_file(path, kMagic);
}

Status RecordLog::append(std::string_view records) {
  if (auto s = write_all(fd_, path_, records); !s) {
    // Best effort: a torn record followed by later appends would read as mid-file damage.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
      spdlog::error("data file {}: cannot cut back a failed append: {}", path_.string(),
                    std::strerror(errno));
    }
    return s;
  }
  size_ += records.size();
  return {};
}

Status RecordLog::sync() const {
  if (::fdatasync(fd_) != 0) return os_error("cannot fdatasync", path_, errno);
  return {};
}

// --- RecordFileBuilder -----------------------------------------------------------------------

RecordFileBuilder::RecordFileBuilder(std::filesystem::path tmp_path, int fd)
    : tmp_path_(std::move(tmp_path)), fd_(fd) {
  buffer_.reserve(kDrainSize + 4096);
  buffer_.append(kMagic);
}

RecordFileBuilder::RecordFileBuilder(RecordFileBuilder&& other) noexcept
    : tmp_path_(std::exchange(other.tmp_path_, {})),
      fd_(std::exchange(other.fd_, -1)),
      size_(other.size_),
      buffer_(std::move(other.buffer_)) {}

RecordFileBuilder::~RecordFileBuilder() {
  if (fd_ >= 0) ::close(fd_);
  if (!tmp_path_.empty()) ::unlink(tmp_path_.c_str());
}

Result<RecordFileBuilder> RecordFileBuilder::create(const std::filesystem::path& tmp_path) {
  // O_APPEND: once committed, this descriptor is the live file's appender.
  const int fd =
      ::open(tmp_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return os_error("cannot create", tmp_path, errno);
  return RecordFileBuilder(tmp_path, fd);
}

Status RecordFileBuilder::drain() {
  if (auto s = write_all(fd_, tmp_path_, buffer_); !s) return s;
  size_ += buffer_.size();
  buffer_.clear();
  return {};
}

Status RecordFileBuilder::drain_if_full() {
  return buffer_.size() >= kDrainSize ? drain() : Status{};
}

Status RecordFileBuilder::finish() {
  if (auto s = drain(); !s) return s;
  if (::fsync(fd_) != 0) return os_error("cannot fsync", tmp_path_, errno);
  return {};
}

RecordFileBuilder::Committed RecordFileBuilder::commit(const std::filesystem::path& target) {
  Committed out;
  if (auto s = fs::durable_rename(tmp_path_, target); !s) {
    std::error_code ec;
    if (std::filesystem::exists(tmp_path_, ec) || ec) {
      out.status = s;  // not renamed: the old file is untouched; the destructor removes tmp
      return out;
    }
    out.status = s;  // renamed, but the directory fsync failed
  }
  out.log.reset(new RecordLog(target, std::exchange(fd_, -1), size_));
  tmp_path_.clear();
  return out;
}

}  // namespace raftor::record_log
