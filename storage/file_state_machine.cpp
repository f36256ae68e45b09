#include "raftor/storage/file_state_machine.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <spdlog/spdlog.h>

#include "raftor/snapshot/kv_snapshot_file.hpp"
#include "raftor/storage/file_record_log.hpp"
#include "raftor/storage/fs_util.hpp"
#include "raftor/storage/kv_apply.hpp"
#include "raftor/storage/proto_convert.hpp"

namespace raftor {

using record_log::begin_record;
using record_log::BodyReader;
using record_log::finish_record;
using record_log::put_u32;
using record_log::put_u64;
using record_log::put_u8;
using record_log::RecordFileBuilder;
using record_log::RecordLog;
using Map = FileStateMachine::Map;

namespace {
// Record bodies start with their kind:
//   chunk          last_applied index u64, term u64 | op*   one per apply_chunk
//   load           op*                                     state written by a rewrite
//   last_applied   index u64 | term u64
//   snapshot_meta  serialized pb::SnapshotMetadata
//   state          index u64 | term u64 | has_meta u8 | [serialized pb::SnapshotMetadata]
// op: put u8=1 | key_len u32 | key | value_len u32 | value,  or  del u8=2 | key_len u32 | key
enum RecordKind : std::uint8_t {
  kChunk = 1,
  kLoad = 2,
  kLastApplied = 3,
  kSnapshotMeta = 4,
  kState = 5,
};
enum OpKind : std::uint8_t { kPut = 1, kDel = 2 };

constexpr std::size_t kPutOverhead = 1 + 4 + 4;
constexpr std::size_t kLoadRecordTarget = 256 << 10;  // bytes of puts per record in a rewrite
constexpr std::size_t kKeepRecordCapacity = 16 << 20;  // larger scratch buffers are freed
constexpr std::string_view kLockName = "LOCK";
constexpr std::string_view kCompactTmp = "data.compact.tmp";
constexpr std::string_view kInstallTmp = "data.install.tmp";
constexpr std::string_view kResetTmp = "data.reset.tmp";

// What a key costs in a rewritten file: the compaction trigger compares against it.
std::uint64_t live_cost(std::size_t key, std::size_t value) { return kPutOverhead + key + value; }

void map_put(Map& data, std::uint64_t& live, std::string_view key, std::string_view value) {
  auto it = data.lower_bound(key);
  if (it != data.end() && it->first == key) {
    live = live - it->second.size() + value.size();
    it->second.assign(value);
  } else {
    data.emplace_hint(it, key, value);
    live += live_cost(key.size(), value.size());
  }
}

bool map_del(Map& data, std::uint64_t& live, std::string_view key) {
  auto it = data.find(key);
  if (it == data.end()) return false;
  live -= live_cost(it->first.size(), it->second.size());
  data.erase(it);
  return true;
}

void encode_put(std::string& out, std::string_view key, std::string_view value) {
  put_u8(out, kPut);
  put_u32(out, static_cast<std::uint32_t>(key.size()));
  out.append(key);
  put_u32(out, static_cast<std::uint32_t>(value.size()));
  out.append(value);
}

void encode_del(std::string& out, std::string_view key) {
  put_u8(out, kDel);
  put_u32(out, static_cast<std::uint32_t>(key.size()));
  out.append(key);
}

void encode_log_id(std::string& out, LogId id) {
  put_u64(out, id.index);
  put_u64(out, id.term);
}

// Applies the chunk to the map and records each effective write into the chunk's record,
// so the record holds exactly what the map saw (CAS sees the chunk's earlier writes).
class LoggingTarget final : public KvTarget {
 public:
  LoggingTarget(Map& data, std::uint64_t& live, std::string& record)
      : data_(data), live_(live), record_(record) {}

  Result<bool> holds(std::string_view key, const std::string* expected) override {
    auto it = data_.find(key);
    if (expected == nullptr) return it == data_.end();
    return it != data_.end() && it->second == *expected;
  }
  Status put(std::string_view key, std::string_view value) override {
    map_put(data_, live_, key, value);
    encode_put(record_, key, value);
    return {};
  }
  Status del(std::string_view key) override {
    if (map_del(data_, live_, key)) encode_del(record_, key);
    return {};
  }

 private:
  Map& data_;
  std::uint64_t& live_;
  std::string& record_;
};

// Where replay puts what it reads; decode_body with no target only checks structure.
struct ReplayTarget {
  Map& data;
  std::uint64_t& live;
  LogId& last_applied;
  std::optional<SnapshotMetadata>& metadata;
};

const char* decode_log_id(BodyReader& r, LogId& id) {
  if (!r.u64(id.index) || !r.u64(id.term)) return "last applied cut short";
  return nullptr;
}

const char* decode_metadata(std::string_view bytes, ReplayTarget* target) {
  if (target == nullptr) return nullptr;  // structure only: skip the protobuf parse
  auto meta = parse_snapshot_metadata(bytes);
  if (!meta) return "snapshot metadata does not parse";
  target->metadata = std::move(*meta);
  return nullptr;
}

const char* decode_ops(BodyReader& r, ReplayTarget* target) {
  while (!r.done()) {
    std::uint8_t op = 0;
    std::uint32_t len = 0;
    std::string_view key;
    std::string_view value;
    if (!r.u8(op) || !r.u32(len) || !r.bytes(len, key)) return "operation cut short";
    if (op == kPut) {
      if (!r.u32(len) || !r.bytes(len, value)) return "put cut short";
      if (target != nullptr) map_put(target->data, target->live, key, value);
    } else if (op == kDel) {
      if (target != nullptr) map_del(target->data, target->live, key);
    } else {
      return "unknown operation";
    }
  }
  return nullptr;
}

// nullptr when `body` is a well-formed record (applied to `target` if given), else why not.
const char* decode_body(std::string_view body, ReplayTarget* target) {
  BodyReader r(body);
  std::uint8_t kind = 0;
  if (!r.u8(kind)) return "empty record";
  LogId id;
  switch (kind) {
    case kChunk:
      if (auto why = decode_log_id(r, id)) return why;
      if (target != nullptr) target->last_applied = id;
      return decode_ops(r, target);
    case kLoad:
      return decode_ops(r, target);
    case kLastApplied:
      if (auto why = decode_log_id(r, id)) return why;
      if (!r.done()) return "trailing bytes after last applied";
      if (target != nullptr) target->last_applied = id;
      return nullptr;
    case kSnapshotMeta:
      return decode_metadata(r.rest(), target);
    case kState: {
      if (auto why = decode_log_id(r, id)) return why;
      std::uint8_t has_meta = 0;
      if (!r.u8(has_meta) || has_meta > 1) return "bad state record";
      if (has_meta == 0 && !r.done()) return "trailing bytes after state";
      if (target != nullptr) {
        target->last_applied = id;
        target->metadata.reset();
      }
      return has_meta == 1 ? decode_metadata(r.rest(), target) : nullptr;
    }
    default:
      return "unknown record kind";
  }
}

void encode_state(std::string& out, LogId last_applied,
                  const std::optional<SnapshotMetadata>& metadata) {
  const std::size_t start = begin_record(out);
  put_u8(out, kState);
  encode_log_id(out, last_applied);
  put_u8(out, metadata ? 1 : 0);
  if (metadata) out.append(serialize(*metadata));
  (void)finish_record(out, start);  // small: cannot exceed the limit
}

// A complete data file holding `data` and the metadata, fsynced under `tmp`; the caller
// commits it over the live file.
Result<RecordFileBuilder> write_state_file(const std::filesystem::path& tmp, const Map& data,
                                           LogId last_applied,
                                           const std::optional<SnapshotMetadata>& metadata) {
  auto builder = RecordFileBuilder::create(tmp);
  if (!builder) return builder.error();
  std::string& buf = builder->buffer();
  std::optional<std::size_t> start;  // of the load record being filled
  for (const auto& [key, value] : data) {
    if (!start) {
      start = begin_record(buf);
      put_u8(buf, kLoad);
    }
    encode_put(buf, key, value);
    if (buf.size() - *start >= kLoadRecordTarget) {
      if (auto s = finish_record(buf, *start); !s) return s.error();
      start.reset();
      if (auto s = builder->drain_if_full(); !s) return s.error();
    }
  }
  if (start) {
    if (auto s = finish_record(buf, *start); !s) return s.error();
  }
  encode_state(buf, last_applied, metadata);
  if (auto s = builder->finish(); !s) return s.error();
  return builder;
}

Status sync_log(const RecordLog& log) { return log.sync(); }
}  // namespace

FileStateMachine::FileStateMachine(std::filesystem::path dir, FileStateMachineOptions options)
    : dir_(std::move(dir)), options_(options) {}

FileStateMachine::~FileStateMachine() {
  if (auto s = stop(); !s) {
    spdlog::error("file state machine {}: stop failed: {}", dir_.string(), s.error().to_string());
  }
}

// --- lifecycle -------------------------------------------------------------------------------

Status FileStateMachine::start() {
  std::unique_lock lock(mutex_);
  if (is_running()) return {};
  {
    std::error_code ec;
    const bool existed = std::filesystem::is_directory(dir_, ec);
    if (auto s = fs::create_directories(dir_); !s) return s;
    // A new directory's entry is durable only once its parent is synced.
    if (!existed) {
      if (auto s = fs::fsync_dir(dir_.parent_path()); !s) return s;
    }
  }

  const auto lock_path = dir_ / kLockName;
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) {
    return make_error(ErrorCode::io_error,
                      "cannot open " + lock_path.string() + ": " + std::strerror(errno));
  }
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(lock_fd);
    if (err == EWOULDBLOCK) {
      return make_error(ErrorCode::io_error,
                        "state machine directory " + dir_.string() +
                            " is already open in another FileStateMachine (" +
                            lock_path.string() + " is locked)");
    }
    return make_error(ErrorCode::io_error,
                      "cannot lock " + lock_path.string() + ": " + std::strerror(err));
  }
  auto fail = [&](Error error) -> Status {
    ::close(lock_fd);
    data_.clear();
    live_bytes_ = 0;
    last_applied_ = {};
    snapshot_metadata_.reset();
    return error;
  };

  // Leftovers of a rewrite interrupted by a crash: the data file is still the old one.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("data") && name.ends_with(".tmp")) {
      spdlog::info("file state machine {}: removing stale {}", dir_.string(), name);
      std::filesystem::remove(entry.path(), ec);
      if (ec) {
        return fail(make_error(ErrorCode::io_error,
                               "cannot remove " + entry.path().string() + ": " + ec.message()));
      }
    }
  }
  if (ec) {
    return fail(make_error(ErrorCode::io_error,
                           "cannot list " + dir_.string() + ": " + ec.message()));
  }

  const auto path = data_path();
  if (!std::filesystem::exists(path, ec)) {
    if (auto s = RecordLog::create_empty(path); !s) return fail(s.error());
  }

  data_.clear();
  live_bytes_ = 0;
  last_applied_ = {};
  snapshot_metadata_.reset();
  ReplayTarget target{data_, live_bytes_, last_applied_, snapshot_metadata_};
  auto log = RecordLog::open(
      path, [](std::string_view body) { return decode_body(body, nullptr) == nullptr; },
      [&](std::uint64_t offset, std::string_view body) -> Status {
        if (const char* why = decode_body(body, &target)) {
          return make_error(ErrorCode::corruption, "data file " + path.string() +
                                                       ": bad record at offset " +
                                                       std::to_string(offset) + ": " + why);
        }
        return {};
      });
  if (!log) return fail(log.error());

  log_ = std::move(*log);
  lock_fd_ = lock_fd;
  compaction_retry_at_ = 0;
  {
    std::lock_guard guard(poison_mutex_);
    poisoned_.store(false, std::memory_order_release);
    poison_reason_.clear();
  }
  running_.store(true, std::memory_order_release);
  return {};
}

Status FileStateMachine::stop() {
  std::unique_lock lock(mutex_);
  if (!is_running()) return {};
  return close_locked();
}

Status FileStateMachine::close_locked() {
  Status status = sync_log(*log_);
  log_.reset();  // closes once a concurrent flush() lets go of it
  ::close(std::exchange(lock_fd_, -1));
  running_.store(false, std::memory_order_release);
  Map().swap(data_);  // a stopped instance holds no data
  live_bytes_ = 0;
  return status;
}

Status FileStateMachine::usable() const {
  if (!is_running()) {
    return make_error(ErrorCode::not_running,
                      "file state machine " + dir_.string() + " is not running");
  }
  if (poisoned_.load(std::memory_order_acquire)) {
    std::lock_guard guard(poison_mutex_);
    return make_error(ErrorCode::io_error, "file state machine " + dir_.string() +
                                               " refuses work after a failed write: " +
                                               poison_reason_);
  }
  return {};
}

// Memory and disk may now disagree: only a restart (which replays the file) may go on.
void FileStateMachine::poison(const Error& cause) {
  std::lock_guard guard(poison_mutex_);
  if (poisoned_.load(std::memory_order_relaxed)) return;
  poison_reason_ = cause.to_string();
  poisoned_.store(true, std::memory_order_release);
  spdlog::error("file state machine {}: {}; refusing further work until restarted",
                dir_.string(), poison_reason_);
}

// --- reads -----------------------------------------------------------------------------------

Result<std::optional<std::string>> FileStateMachine::get(std::string_view key) const {
  std::shared_lock lock(mutex_);
  if (auto s = usable(); !s) return s.error();
  auto it = data_.find(key);
  if (it == data_.end()) return std::optional<std::string>{};
  return std::optional<std::string>{it->second};
}

std::size_t FileStateMachine::len() const {
  std::shared_lock lock(mutex_);
  return data_.size();
}

// --- apply -----------------------------------------------------------------------------------

void FileStateMachine::apply_chunk(std::vector<Entry> chunk, ApplyDone done) {
  done(apply(chunk));
}

Result<std::vector<ApplyResult>> FileStateMachine::apply(const std::vector<Entry>& chunk) {
  std::unique_lock lock(mutex_);
  if (auto s = usable(); !s) return s.error();

  // Every entry adds at most one operation no larger than its payload plus framing: refuse
  // a chunk whose record could exceed the format's limit before anything changes.
  std::uint64_t bound = 1 + 16;
  for (const Entry& e : chunk) bound += e.payload.size() + kPutOverhead;
  if (bound > UINT32_MAX) {
    return make_error(ErrorCode::invalid_argument,
                      "chunk of " + std::to_string(chunk.size()) +
                          " entries is too large for one record; split it");
  }

  record_.clear();
  const std::size_t start = begin_record(record_);
  put_u8(record_, kChunk);
  const std::size_t id_at = record_.size();
  encode_log_id(record_, {});  // filled in once the chunk's last applied entry is known
  const std::size_t no_ops = record_.size();

  LoggingTarget target(data_, live_bytes_, record_);
  auto outcome = apply_kv_chunk(chunk, last_applied_, target, scratch_);
  if (!outcome) {
    // apply_kv_chunk validates before writing; a write without its record would diverge.
    if (record_.size() != no_ops) poison(outcome.error());
    return outcome.error();
  }
  if (!outcome->last_applied) return std::move(outcome->results);  // all re-delivered

  record_log::set_u64(record_, id_at, outcome->last_applied->index);
  record_log::set_u64(record_, id_at + 8, outcome->last_applied->term);
  if (auto s = finish_record(record_, start); !s) {
    poison(s.error());
    return s.error();
  }
  if (auto s = append_locked(); !s) return s.error();
  last_applied_ = *outcome->last_applied;
  maybe_compact_locked();
  return std::move(outcome->results);
}

Status FileStateMachine::append_locked() {
  Status s = log_->append(record_);
  if (record_.capacity() > kKeepRecordCapacity) std::string().swap(record_);
  if (!s) poison(s.error());
  return s;
}

void FileStateMachine::maybe_compact_locked() {
  const std::uint64_t size = log_->size();
  const std::uint64_t ratio = std::max<std::uint64_t>(options_.compaction_ratio, 1);
  if (size < options_.compaction_min_bytes || size < compaction_retry_at_ ||
      size / ratio <= live_bytes_) {
    return;
  }
  auto retry_later = [&](const Error& error) {
    compaction_retry_at_ = size + std::max<std::uint64_t>(options_.compaction_min_bytes, 1);
    spdlog::warn("file state machine {}: compaction failed, the data file stays as it is: {}",
                 dir_.string(), error.to_string());
  };
  auto built = write_state_file(dir_ / kCompactTmp, data_, last_applied_, snapshot_metadata_);
  if (!built) return retry_later(built.error());
  auto committed = built->commit(data_path());
  if (!committed.log) return retry_later(committed.status.error());
  log_ = std::move(committed.log);
  compaction_retry_at_ = 0;
  if (!committed.status) return poison(committed.status.error());
  spdlog::info("file state machine {}: compacted the data file from {} to {} bytes",
               dir_.string(), size, log_->size());
}

// --- last applied and snapshot metadata --------------------------------------------------------

void FileStateMachine::update_last_applied(LogId last_applied) {
  std::unique_lock lock(mutex_);
  last_applied_ = last_applied;
}

LogId FileStateMachine::last_applied() const {
  std::shared_lock lock(mutex_);
  return last_applied_;
}

void FileStateMachine::update_last_snapshot_metadata(const SnapshotMetadata& metadata) {
  std::unique_lock lock(mutex_);
  snapshot_metadata_ = metadata;
}

std::optional<SnapshotMetadata> FileStateMachine::snapshot_metadata() const {
  std::shared_lock lock(mutex_);
  return snapshot_metadata_;
}

Status FileStateMachine::persist_last_applied(LogId last_applied) {
  std::shared_ptr<RecordLog> log;
  {
    std::unique_lock lock(mutex_);
    if (auto s = usable(); !s) return s;
    last_applied_ = last_applied;
    record_.clear();
    const std::size_t start = begin_record(record_);
    put_u8(record_, kLastApplied);
    encode_log_id(record_, last_applied);
    (void)finish_record(record_, start);
    if (auto s = append_locked(); !s) return s;
    log = log_;
  }
  return flush_log(*log);  // outside the lock: readers need not wait for the disk
}

Status FileStateMachine::persist_last_snapshot_metadata(const SnapshotMetadata& metadata) {
  std::shared_ptr<RecordLog> log;
  {
    std::unique_lock lock(mutex_);
    if (auto s = usable(); !s) return s;
    snapshot_metadata_ = metadata;
    record_.clear();
    const std::size_t start = begin_record(record_);
    put_u8(record_, kSnapshotMeta);
    record_.append(serialize(metadata));
    if (auto s = finish_record(record_, start); !s) return s;
    if (auto s = append_locked(); !s) return s;
    log = log_;
  }
  return flush_log(*log);
}

Status FileStateMachine::save_hard_state() {
  std::shared_ptr<RecordLog> log;
  {
    std::unique_lock lock(mutex_);
    if (auto s = usable(); !s) return s;
    record_.clear();
    encode_state(record_, last_applied_, snapshot_metadata_);
    if (auto s = append_locked(); !s) return s;
    log = log_;
  }
  return flush_log(*log);
}

// --- durability --------------------------------------------------------------------------------

Status FileStateMachine::flush() {
  std::shared_ptr<RecordLog> log;
  {
    std::shared_lock lock(mutex_);
    if (auto s = usable(); !s) return s;
    log = log_;
  }
  // If a compaction swaps files meanwhile, syncing the old one is harmless: the new file
  // was fsynced whole before it replaced it.
  return flush_log(*log);
}

Status FileStateMachine::flush_log(const RecordLog& log) {
  Status s = sync_log(log);
  // After a failed fdatasync the kernel may have dropped the dirty pages: a later fsync
  // could succeed without them, so nothing written since can be trusted.
  if (!s) poison(s.error());
  return s;
}

Status FileStateMachine::reset() {
  Map old;  // destroyed after the lock is released
  std::unique_lock lock(mutex_);
  if (auto s = usable(); !s) return s;
  auto built = write_state_file(dir_ / kResetTmp, Map{}, LogId{}, std::nullopt);
  if (!built) return built.error();
  auto committed = built->commit(data_path());
  if (!committed.log) return committed.status;
  log_ = std::move(committed.log);
  old.swap(data_);
  live_bytes_ = 0;
  last_applied_ = {};
  snapshot_metadata_.reset();
  compaction_retry_at_ = 0;
  if (!committed.status) poison(committed.status.error());
  return committed.status;
}

// --- snapshots -----------------------------------------------------------------------------------

Result<GeneratedSnapshot> FileStateMachine::generate_snapshot_data(
    const std::filesystem::path& path) {
  std::shared_lock lock(mutex_);  // a consistent view: apply waits until the file is written
  if (auto s = usable(); !s) return s.error();
  auto writer = snapshot::KvSnapshotWriter::create(path, last_applied_);
  if (!writer) return writer.error();
  for (const auto& [key, value] : data_) {
    if (auto s = writer->add(key, value); !s) return s.error();
  }
  return writer->finish();
}

Status FileStateMachine::apply_snapshot_from_file(const SnapshotMetadata& metadata,
                                                  const std::filesystem::path& path) {
  {
    std::shared_lock lock(mutex_);
    if (auto s = usable(); !s) return s;
  }
  // Load and write the new data file without the lock: only the switch excludes readers.
  Map loaded;
  std::uint64_t live = 0;
  auto header = snapshot::read_kv_snapshot(
      path, metadata.checksum,
      [&](std::string_view key, std::string_view value) { map_put(loaded, live, key, value); });
  if (!header) return header.error();
  if (header->last_included != metadata.last_included) {
    return make_error(ErrorCode::corruption,
                      "snapshot " + path.string() + " ends at index " +
                          std::to_string(header->last_included.index) + ", metadata says " +
                          std::to_string(metadata.last_included.index));
  }
  auto built = write_state_file(dir_ / kInstallTmp, loaded, metadata.last_included, metadata);
  if (!built) return built.error();

  std::unique_lock lock(mutex_);  // released before `loaded` (now the old map) is destroyed
  if (auto s = usable(); !s) return s;
  auto committed = built->commit(data_path());
  if (!committed.log) return committed.status;  // the old file is untouched
  log_ = std::move(committed.log);
  data_.swap(loaded);
  live_bytes_ = live;
  last_applied_ = metadata.last_included;
  snapshot_metadata_ = metadata;
  compaction_retry_at_ = 0;
  if (!committed.status) poison(committed.status.error());
  return committed.status;
}

}  // namespace raftor
