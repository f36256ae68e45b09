#include "raftor/snapshot/snapshot_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

#include "raftor/snapshot/checksum.hpp"
#include "raftor/storage/fs_util.hpp"
#include "raftor/storage/proto_convert.hpp"

namespace raftor::snapshot {

namespace stdfs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "snapshot-";
constexpr std::string_view kDataSuffix = ".data";
constexpr std::string_view kMetaSuffix = ".meta";
constexpr std::string_view kTempSuffix = ".tmp";

std::string base_name(const LogId& id) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "snapshot-%020llu-%llu", static_cast<unsigned long long>(id.index),
                static_cast<unsigned long long>(id.term));
  return buf;
}

std::optional<std::uint64_t> parse_u64(std::string_view digits) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
    return std::nullopt;
  }
  return value;
}

struct ParsedName {
  LogId id;
  bool meta = false;
};

// "snapshot-<20 digits>-<term>.data|.meta" -> its LogId; anything else -> nullopt.
std::optional<ParsedName> parse_name(std::string_view name) {
  if (!name.starts_with(kPrefix)) return std::nullopt;
  ParsedName out;
  if (name.ends_with(kDataSuffix)) {
    name.remove_suffix(kDataSuffix.size());
  } else if (name.ends_with(kMetaSuffix)) {
    name.remove_suffix(kMetaSuffix.size());
    out.meta = true;
  } else {
    return std::nullopt;
  }
  name.remove_prefix(kPrefix.size());
  if (name.size() < 22 || name[20] != '-') return std::nullopt;
  auto index = parse_u64(name.substr(0, 20));
  auto term = parse_u64(name.substr(21));
  if (!index || !term) return std::nullopt;
  out.id = {*index, *term};
  return out;
}

Result<std::string> read_file(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::io_error, "cannot open " + path.string());
  std::string bytes{std::istreambuf_iterator<char>(in), {}};
  if (in.bad()) return make_error(ErrorCode::io_error, "cannot read " + path.string());
  return bytes;
}

// Best effort: a file that cannot be removed is reported and left for the next open.
bool remove_file(const stdfs::path& path) {
  std::error_code ec;
  stdfs::remove(path, ec);
  if (ec) spdlog::warn("snapshot store: cannot remove {}: {}", path.string(), ec.message());
  return !ec;
}

struct Pair {
  std::optional<stdfs::path> data;
  std::optional<stdfs::path> meta;
};

}  // namespace

SnapshotStore::SnapshotStore(stdfs::path dir, SnapshotStoreOptions options)
    : dir_(std::move(dir)), options_(options) {}

Result<std::unique_ptr<SnapshotStore>> SnapshotStore::open(const stdfs::path& dir,
                                                           SnapshotStoreOptions options) {
  if (auto s = fs::create_directories(dir); !s) return s.error();
  std::unique_ptr<SnapshotStore> store(new SnapshotStore(dir, options));
  if (auto s = store->load(); !s) return s.error();
  return store;
}

Status SnapshotStore::load() {
  std::lock_guard lock(mutex_);
  std::map<std::pair<std::uint64_t, std::uint64_t>, Pair> found;  // by (index, term)
  bool removed = false;
  std::error_code ec;
  for (stdfs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const stdfs::path& path = it->path();
    const std::string name = path.filename().string();
    if (name.ends_with(kTempSuffix)) {
      spdlog::info("snapshot store: removing {} (interrupted generation)", path.string());
      removed |= remove_file(path);
      continue;
    }
    auto parsed = parse_name(name);
    if (!parsed) continue;  // not ours
    Pair& pair = found[{parsed->id.index, parsed->id.term}];
    (parsed->meta ? pair.meta : pair.data) = path;
  }
  if (ec) {
    return make_error(ErrorCode::io_error, "cannot list " + dir_.string() + ": " + ec.message());
  }

  for (auto& [key, pair] : found) {
    if (!pair.meta) {
      spdlog::info("snapshot store: removing {} (no metadata: interrupted generation)",
                   pair.data->string());
      removed |= remove_file(*pair.data);
      continue;
    }
    auto refuse = [&](const std::string& why) {
      spdlog::error("snapshot store: refusing snapshot {} in {}: {}", key.first, dir_.string(),
                    why);
      removed |= remove_file(*pair.meta);
      if (pair.data) removed |= remove_file(*pair.data);
    };
    if (!pair.data) {
      refuse("its data file is missing");
      continue;
    }
    auto bytes = read_file(*pair.meta);
    if (!bytes) {
      refuse(bytes.error().to_string());
      continue;
    }
    auto metadata = parse_snapshot_metadata(*bytes);
    if (!metadata) {
      refuse(metadata.error().to_string());
      continue;
    }
    const LogId named{key.first, key.second};
    if (metadata->last_included != named) {
      refuse("metadata names entry " + std::to_string(metadata->last_included.index) + "/" +
             std::to_string(metadata->last_included.term));
      continue;
    }
    const auto size = stdfs::file_size(*pair.data, ec);
    if (ec || size != metadata->size) {
      refuse(ec ? ec.message()
                : "data has " + std::to_string(size) + " bytes, metadata says " +
                      std::to_string(metadata->size));
      continue;
    }
    if (options_.verify_checksums) {
      if (auto s = verify_file_checksum(*pair.data, metadata->checksum); !s) {
        refuse(s.error().to_string());
        continue;
      }
    }
    // One committed entry per index: two terms at one index cannot both be snapshots of
    // committed state. Keep the later term (iteration is by term within an index).
    if (auto older = snapshots_.find(key.first); older != snapshots_.end()) {
      spdlog::error("snapshot store: two snapshots end at index {}: dropping term {}", key.first,
                    older->second.last_included.term);
      removed |= remove_file(meta_path(older->second.last_included));
      removed |= remove_file(data_path(older->second.last_included));
    }
    snapshots_[key.first] = std::move(*metadata);
  }
  if (removed) {
    if (auto s = fs::fsync_dir(dir_); !s) return s;
  }
  prune_locked();
  return {};
}

stdfs::path SnapshotStore::temp_path() {
  std::lock_guard lock(mutex_);
  return dir_ / ("snapshot-generating-" + std::to_string(next_temp_++) + std::string(kTempSuffix));
}

Result<SnapshotMetadata> SnapshotStore::commit(const stdfs::path& temp,
                                               const GeneratedSnapshot& generated,
                                               const Membership& membership) {
  return commit(temp, SnapshotMetadata{generated.last_included, membership, generated.checksum,
                                       generated.size});
}

Result<SnapshotMetadata> SnapshotStore::commit(const stdfs::path& temp,
                                               const SnapshotMetadata& metadata) {
  std::lock_guard lock(mutex_);
  const std::uint64_t index = metadata.last_included.index;
  if (auto it = snapshots_.find(index); it != snapshots_.end()) {
    remove_file(temp);  // the same state again: keep the durable one
    return it->second;
  }
  if (!snapshots_.empty() && index < snapshots_.rbegin()->first) {
    return make_error(ErrorCode::invalid_argument,
                      "snapshot at " + std::to_string(index) + " is older than the newest, at " +
                          std::to_string(snapshots_.rbegin()->first));
  }
  std::error_code ec;
  const auto size = stdfs::file_size(temp, ec);
  if (ec) {
    return make_error(ErrorCode::io_error, "cannot stat " + temp.string() + ": " + ec.message());
  }
  if (size != metadata.size) {
    return make_error(ErrorCode::corruption, temp.string() + " has " + std::to_string(size) +
                                                 " bytes, its metadata says " +
                                                 std::to_string(metadata.size));
  }
  if (metadata.checksum.empty()) {
    return make_error(ErrorCode::invalid_argument, "snapshot metadata without a checksum");
  }
  // Data durable under its final name before the metadata that vouches for it.
  const stdfs::path data = data_path(metadata.last_included);
  if (auto s = fs::fsync_file(temp); !s) return s.error();
  if (auto s = fs::durable_rename(temp, data); !s) return s.error();
  if (auto s = fs::atomic_write_file(meta_path(metadata.last_included), serialize(metadata)); !s) {
    remove_file(data);  // without metadata it is an interrupted generation anyway
    return s.error();
  }
  snapshots_[index] = metadata;
  prune_locked();
  return metadata;
}

void SnapshotStore::discard(const stdfs::path& temp) {
  std::error_code ec;
  stdfs::remove(temp, ec);  // generate_snapshot_data may already have removed it
}

void SnapshotStore::prune_locked() {
  const std::size_t keep = std::max<std::size_t>(options_.keep, 1);
  bool removed = false;
  while (snapshots_.size() > keep) {
    const LogId id = snapshots_.begin()->second.last_included;
    // Metadata first: a crash in between leaves data without metadata, which open() removes.
    removed |= remove_file(meta_path(id));
    removed |= remove_file(data_path(id));
    snapshots_.erase(snapshots_.begin());
  }
  if (removed) {
    if (auto s = fs::fsync_dir(dir_); !s) spdlog::warn("snapshot store: {}", s.error().to_string());
  }
}

std::optional<SnapshotMetadata> SnapshotStore::latest() const {
  std::lock_guard lock(mutex_);
  if (snapshots_.empty()) return std::nullopt;
  return snapshots_.rbegin()->second;
}

std::optional<LogId> SnapshotStore::latest_id() const {
  std::lock_guard lock(mutex_);
  if (snapshots_.empty()) return std::nullopt;
  return snapshots_.rbegin()->second.last_included;
}

std::vector<SnapshotMetadata> SnapshotStore::list() const {
  std::lock_guard lock(mutex_);
  std::vector<SnapshotMetadata> out;
  out.reserve(snapshots_.size());
  for (const auto& [index, metadata] : snapshots_) out.push_back(metadata);
  return out;
}

stdfs::path SnapshotStore::data_path(const LogId& id) const {
  return dir_ / (base_name(id) + std::string(kDataSuffix));
}

stdfs::path SnapshotStore::meta_path(const LogId& id) const {
  return dir_ / (base_name(id) + std::string(kMetaSuffix));
}

}  // namespace raftor::snapshot
