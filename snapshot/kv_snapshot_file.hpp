// A portable key-value snapshot file, used by the in-memory and file-based state machines
// (and available to custom ones):
//
//   header   "RFTKVSN1" | last_included.index u64 | last_included.term u64
//   records  key_len u32 | value_len u32 | key | value          (any number, any order)
//   trailer  0xFFFFFFFF u32 | record count u64
//
// Integers are little-endian. The whole file's XXH3-128 is computed while writing (no
// second pass) and is what SnapshotMetadata::checksum holds; the reader validates it
// before it hands out a single record, then checks the structure (truncation, lengths,
// count), so a damaged file is refused before any state is touched.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "raftor/snapshot/checksum.hpp"
#include "raftor/storage/state_machine.hpp"

namespace raftor::snapshot {

class KvSnapshotWriter {
 public:
  // Creates (truncates) `path`.
  static Result<KvSnapshotWriter> create(const std::filesystem::path& path, LogId last_included);

  KvSnapshotWriter(KvSnapshotWriter&& other) noexcept;
  KvSnapshotWriter& operator=(KvSnapshotWriter&&) = delete;
  ~KvSnapshotWriter();  // closes; an unfinished file is removed

  Status add(std::string_view key, std::string_view value);
  // Writes the trailer, fsyncs, closes. The result describes the finished file.
  Result<GeneratedSnapshot> finish();

 private:
  KvSnapshotWriter(std::filesystem::path path, int fd, LogId last_included);
  Status write(const void* data, std::size_t size);
  Status drain();

  std::filesystem::path path_;
  int fd_ = -1;
  LogId last_included_;
  std::string buffer_;
  std::uint64_t records_ = 0;
  std::uint64_t size_ = 0;
  Hasher hasher_;
  bool finished_ = false;
};

struct KvSnapshotHeader {
  LogId last_included;
  std::uint64_t records = 0;
};

// Validates `path` against `expected` (checksum_mismatch), then its structure
// (corruption), calling `on_record` for each record only after both passed: a failure
// never delivers a partial record stream.
Result<KvSnapshotHeader> read_kv_snapshot(
    const std::filesystem::path& path, const Checksum& expected,
    const std::function<void(std::string_view key, std::string_view value)>& on_record);

}  // namespace raftor::snapshot
