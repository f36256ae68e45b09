// The append-only record file under FileStateMachine: framing, checksums, crash recovery
// and whole-file replacement.
//
//   file    "RFTFSMD1" | record*
//   record  body_len u32 | XXH3-64(body) u64 | body            (integers little-endian)
//
// Each append is one write(2), so a crash (or a failed write) leaves at most the last record
// torn. What a body means is up to the owner; this file only knows its bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "raftor/storage/byte_order.hpp"
#include "raftor/storage/status.hpp"

namespace raftor::record_log {

inline constexpr std::size_t kRecordHeaderSize = 4 + 8;

using byte_order::get_u32;
using byte_order::get_u64;
using byte_order::put_u32;
using byte_order::put_u64;
using byte_order::put_u8;
using byte_order::set_u64;

// Starts a record at the end of `out` (placeholder header); the caller then appends the
// body and calls finish_record, which fills in length and checksum. Bodies over 4 GiB fail.
std::size_t begin_record(std::string& out);
Status finish_record(std::string& out, std::size_t start);

// Reads a body front to back; every read fails (returns false) rather than run past the end.
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : rest_(body) {}
  bool u8(std::uint8_t& v);
  bool u32(std::uint32_t& v);
  bool u64(std::uint64_t& v);
  bool bytes(std::size_t n, std::string_view& out);
  std::string_view rest() const { return rest_; }
  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// Whether a checksum-valid body is structurally one of the owner's records. Used while
// searching past a damaged record for valid ones, to skip hashing most candidate offsets.
using PlausibleFn = std::function<bool(std::string_view body)>;
// Called for each whole record in file order; an error aborts open().
using VisitFn = std::function<Status(std::uint64_t offset, std::string_view body)>;

class RecordLog {
 public:
  // Opens the existing file at `path`, hands every whole record to `visit`, and truncates a
  // damaged tail (the last record cut short or failing its checksum, with no valid record
  // after it) with a warning. A damaged record followed by a valid one is refused with
  // ErrorCode::corruption naming both offsets: committed data is never dropped silently.
  static Result<std::unique_ptr<RecordLog>> open(const std::filesystem::path& path,
                                                 const PlausibleFn& plausible,
                                                 const VisitFn& visit);
  // Creates `path` (must not exist) holding only the file header, durably.
  static Status create_empty(const std::filesystem::path& path);

  RecordLog(const RecordLog&) = delete;
  RecordLog& operator=(const RecordLog&) = delete;
  ~RecordLog();

  // Appends whole framed records with one write(2) (page cache only). On failure it tries
  // to cut the file back to its previous size so no torn record stays in the middle.
  Status append(std::string_view records);
  // fdatasync. Safe to call concurrently with append (it reads nothing append changes).
  Status sync() const;
  std::uint64_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  friend class RecordFileBuilder;
  RecordLog(std::filesystem::path path, int fd, std::uint64_t size);

  std::filesystem::path path_;
  int fd_;
  std::uint64_t size_;
};

// Writes a complete new record file under a temporary name, then moves it over the live
// file: a crash at any step leaves the old file or the new one. An unfinished builder
// removes its temporary file.
class RecordFileBuilder {
 public:
  static Result<RecordFileBuilder> create(const std::filesystem::path& tmp_path);
  RecordFileBuilder(RecordFileBuilder&& other) noexcept;
  RecordFileBuilder& operator=(RecordFileBuilder&&) = delete;
  ~RecordFileBuilder();

  // Append framed records here; call drain_if_full() now and then to bound memory.
  std::string& buffer() { return buffer_; }
  Status drain_if_full();
  // Writes what is buffered and fsyncs the file.
  Status finish();

  struct Committed {
    std::unique_ptr<RecordLog> log;  // set once the new file is at `target`, even if...
    Status status;                   // ...the directory fsync then failed (not durable)
  };
  // After finish(): durable_rename(tmp, target). Returns the new file open for appending.
  Committed commit(const std::filesystem::path& target);

 private:
  RecordFileBuilder(std::filesystem::path tmp_path, int fd);
  Status drain();

  std::filesystem::path tmp_path_;
  int fd_;
  std::uint64_t size_ = 0;
  std::string buffer_;
};

}  // namespace raftor::record_log
