// Snapshot checksums: XXH3-128 (libxxhash) over a file's bytes, stored as 16 raw bytes.
// Fast enough (> 10 GB/s) that checksumming never bounds snapshot throughput.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <xxhash.h>

#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace raftor::snapshot {

// Incremental XXH3-128.
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(Hasher&& other) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  Hasher& operator=(Hasher&&) = delete;

  void update(const void* data, std::size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  Checksum digest() const;

 private:
  XXH3_state_t* state_;
};

Checksum checksum_of(std::string_view bytes);
// XXH3-64 of one transfer chunk: catches a chunk damaged on its way (a whole snapshot is
// still checked against its XXH3-128 checksum once it has arrived).
std::uint64_t chunk_checksum(std::string_view bytes);
Result<Checksum> checksum_file(const std::filesystem::path& path);

// checksum_mismatch (naming the file, both checksums in hex) unless `path` hashes to
// `expected`; io_error if it cannot be read; checksum_mismatch for an empty `expected`.
Status verify_file_checksum(const std::filesystem::path& path, const Checksum& expected);

std::string to_hex(std::string_view bytes);

}  // namespace raftor::snapshot
