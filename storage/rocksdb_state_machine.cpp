#include "raftor/storage/rocksdb_state_machine.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "raftor/snapshot/checksum.hpp"
#include "raftor/storage/fs_util.hpp"
#include "raftor/storage/kv_apply.hpp"
#include "raftor/storage/proto_convert.hpp"

namespace raftor {

namespace {

constexpr char kDataPrefix = 'k';
constexpr std::string_view kDataBegin = "k";  // ["k", "l"): every user key, prefixed
constexpr std::string_view kDataEnd = "l";
constexpr std::string_view kMetaBegin = "m";  // ["m", "n"): every meta key
constexpr std::string_view kMetaEnd = "n";
constexpr std::string_view kLastAppliedKey = "m:last_applied";
constexpr std::string_view kSnapshotKey = "m:snapshot";
// reset() covers each column family from "" to here: above every key this class writes.
constexpr std::string_view kAllEnd = "\xff";

constexpr std::string_view kDataCf = "data";
constexpr std::string_view kMetaCf = "meta";

// A chunk batch that grew past this is dropped instead of cleared, so one huge chunk does
// not pin its memory for the life of the state machine.
constexpr std::size_t kMaxRetainedBatchBytes = 64 << 20;

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

Error rocks_error(std::string_view what, const rocksdb::Status& s) {
  const ErrorCode code = s.IsCorruption() ? ErrorCode::corruption : ErrorCode::io_error;
  return make_error(code, "rocksdb state machine: " + std::string(what) + ": " + s.ToString());
}

Error not_running_error() {
  return make_error(ErrorCode::not_running, "rocksdb state machine is not running");
}

std::string encode_log_id(LogId id) {
  std::string out(16, '\0');
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>((id.index >> (8 * i)) & 0xff);
    out[8 + i] = static_cast<char>((id.term >> (8 * i)) & 0xff);
  }
  return out;
}

std::optional<LogId> decode_log_id(std::string_view bytes) {
  if (bytes.size() != 16) return std::nullopt;
  LogId id;
  for (int i = 0; i < 8; ++i) {
    id.index |= std::uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
    id.term |= std::uint64_t{static_cast<unsigned char>(bytes[8 + i])} << (8 * i);
  }
  return id;
}

// Table format shared by the data column family and snapshot SSTs (an ingested snapshot
// becomes a data file as is, so it gets the same bloom filter and block size).
rocksdb::BlockBasedTableOptions table_options(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.cache_index_and_filter_blocks = false;
  t.format_version = 5;
  return t;
}

rocksdb::ColumnFamilyOptions data_cf_options(const RocksDbStateMachineOptions& o,
                                             const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = o.write_buffer_size;
  // L0/L1 uncompressed: flushes (competing with apply for CPU) stay cheap.
  cf.compression = rocksdb::kLZ4Compression;
  cf.compression_per_level = {rocksdb::kNoCompression, rocksdb::kNoCompression};
  cf.compression_per_level.resize(cf.num_levels, rocksdb::kLZ4Compression);
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options(cache)));
  return cf;
}

rocksdb::ColumnFamilyOptions meta_cf_options() {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = 4 << 20;  // a handful of keys, rewritten once per chunk
  return cf;
}

// Options for SstFileWriter/SstFileReader on snapshot files.
rocksdb::Options snapshot_sst_options(const RocksDbStateMachineOptions& o,
                                      const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::Options opts(rocksdb::DBOptions(), data_cf_options(o, cache));
  opts.compression = o.compress_snapshots ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
  opts.bottommost_compression = opts.compression;
  return opts;
}

// Removes a file on scope exit unless released (partial snapshot files, staging SSTs).
class FileRemover {
 public:
  explicit FileRemover(std::filesystem::path path) : path_(std::move(path)) {}
  ~FileRemover() {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove(path_, ec);
    }
  }
  FileRemover(const FileRemover&) = delete;
  FileRemover& operator=(const FileRemover&) = delete;
  void release() { path_.clear(); }

 private:
  std::filesystem::path path_;
};

// Runs a RocksDB scan on a helper thread and hands its records to the calling thread in
// blocks. Iterating (~0.5 us per key) and building an SST (~0.3 us per key) cost about the
// same, so on two cores the pipeline nearly halves snapshot generation time.
class ScanPipeline {
 public:
  ScanPipeline(rocksdb::Iterator& it, rocksdb::Slice start) : it_(it), start_(start) {}
  ~ScanPipeline() {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  ScanPipeline(const ScanPipeline&) = delete;
  ScanPipeline& operator=(const ScanPipeline&) = delete;

  // Starts the scan; false if no thread could be created.
  bool start() {
    try {
      thread_ = std::thread([this] { produce(); });
      return true;
    } catch (const std::system_error&) {
      return false;
    }
  }

  // Replaces `block` (returned for reuse) with the next block of records, each
  // u32 key size | u32 value size | key | value. false once the scan has ended.
  bool next(std::string& block) {
    std::unique_lock lock(mutex_);
    if (block.capacity() != 0) {
      block.clear();
      free_.push_back(std::move(block));
    }
    cv_.wait(lock, [&] { return !full_.empty() || finished_; });
    if (full_.empty()) return false;
    block = std::move(full_.front());
    full_.pop_front();
    cv_.notify_all();
    return true;
  }

  // After next() returned false: whether the scan reached its end.
  rocksdb::Status status() {
    std::lock_guard lock(mutex_);
    return status_;
  }

  template <class F>
  static rocksdb::Status for_each(const std::string& block, F&& on_record) {
    for (std::size_t pos = 0; pos + 8 <= block.size();) {
      std::uint32_t sizes[2];
      std::memcpy(sizes, block.data() + pos, sizeof sizes);
      pos += sizeof sizes;
      const rocksdb::Slice key(block.data() + pos, sizes[0]);
      const rocksdb::Slice value(block.data() + pos + sizes[0], sizes[1]);
      pos += std::size_t{sizes[0]} + sizes[1];
      if (auto s = on_record(key, value); !s.ok()) return s;
    }
    return rocksdb::Status::OK();
  }

 private:
  static constexpr std::size_t kBlockBytes = 1 << 20;
  static constexpr std::size_t kMaxQueued = 4;

  void produce() {
    std::string block;
    block.reserve(kBlockBytes);
    for (it_.Seek(start_); it_.Valid(); it_.Next()) {
      const rocksdb::Slice key = it_.key();
      const rocksdb::Slice value = it_.value();
      const std::uint32_t sizes[2] = {static_cast<std::uint32_t>(key.size()),
                                      static_cast<std::uint32_t>(value.size())};
      block.append(reinterpret_cast<const char*>(sizes), sizeof sizes);
      block.append(key.data(), key.size());
      block.append(value.data(), value.size());
      if (block.size() >= kBlockBytes && !hand_over(block)) return;
    }
    rocksdb::Status status = it_.status();
    if (!block.empty() && !hand_over(block)) return;
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
    finished_ = true;
    cv_.notify_all();
  }

  // Queues `block` and gives the producer an empty one; false when cancelled.
  bool hand_over(std::string& block) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return full_.size() < kMaxQueued || cancelled_; });
    if (cancelled_) return false;
    full_.push_back(std::move(block));
    if (free_.empty()) {
      block = std::string();
      block.reserve(kBlockBytes);
    } else {
      block = std::move(free_.back());
      free_.pop_back();
    }
    cv_.notify_all();
    return true;
  }

  rocksdb::Iterator& it_;
  const rocksdb::Slice start_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> full_;
  std::vector<std::string> free_;
  bool finished_ = false;
  bool cancelled_ = false;
  rocksdb::Status status_;
  std::thread thread_;
};

}  // namespace

// The KvTarget of apply_kv_chunk: writes go into a plain WriteBatch, reused across chunks.
// A CAS must see the chunk's earlier writes; rather than index every write (a
// WriteBatchWithIndex costs about as much per put as the memtable insert itself), the
// first CAS of a chunk indexes the batch so far into a hash map, which later writes of
// that chunk keep current. Chunks without CAS pay nothing for it.
class RocksDbStateMachine::BatchTarget final : public KvTarget {
 public:
  BatchTarget() : batch_(kInitialBatchBytes) {}

  void begin(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
    db_ = db;
    cf_ = cf;
    // A batch that grew huge is dropped, so one big chunk does not pin its memory.
    if (batch_.GetDataSize() > kMaxRetainedBatchBytes) {
      batch_ = rocksdb::WriteBatch(kInitialBatchBytes);
    }
    batch_.Clear();
    if (overlay_.size() > kMaxRetainedOverlayKeys) overlay_ = {};
    overlay_.clear();
    indexed_ = false;
  }

  rocksdb::WriteBatch& batch() { return batch_; }

  Result<bool> holds(std::string_view key, const std::string* expected) override {
    if (!indexed_) {
      if (auto s = index(); !s) return s.error();
    }
    set_key(key);
    if (auto it = overlay_.find(key_); it != overlay_.end()) {
      if (!it->second) return expected == nullptr;
      return expected != nullptr && *it->second == *expected;
    }
    value_.Reset();
    const rocksdb::Status s = db_->Get(read_options_, cf_, key_, &value_);
    if (s.IsNotFound()) return expected == nullptr;
    if (!s.ok()) return rocks_error("compare-and-swap read", s);
    return expected != nullptr && view(value_) == *expected;
  }

  Status put(std::string_view key, std::string_view value) override {
    set_key(key);
    if (auto s = batch_.Put(cf_, key_, slice(value)); !s.ok()) return rocks_error("put", s);
    if (indexed_) overlay_[key_].emplace(value);
    return {};
  }

  Status del(std::string_view key) override {
    set_key(key);
    if (auto s = batch_.Delete(cf_, key_); !s.ok()) return rocks_error("delete", s);
    if (indexed_) overlay_[key_].reset();
    return {};
  }

 private:
  static constexpr std::size_t kInitialBatchBytes = 256 << 10;
  static constexpr std::size_t kMaxRetainedOverlayKeys = 1 << 16;

  // Replays the batch so far (data column family only at this point) into overlay_.
  Status index() {
    struct Indexer final : rocksdb::WriteBatch::Handler {
      explicit Indexer(Overlay& o) : overlay(o) {}
      rocksdb::Status PutCF(std::uint32_t, const rocksdb::Slice& key,
                            const rocksdb::Slice& value) override {
        overlay[key.ToString()].emplace(view(value));
        return rocksdb::Status::OK();
      }
      rocksdb::Status DeleteCF(std::uint32_t, const rocksdb::Slice& key) override {
        overlay[key.ToString()].reset();
        return rocksdb::Status::OK();
      }
      Overlay& overlay;
    } indexer(overlay_);
    if (auto s = batch_.Iterate(&indexer); !s.ok()) return rocks_error("index chunk batch", s);
    indexed_ = true;
    return {};
  }

  void set_key(std::string_view key) {
    key_.resize(1);
    key_[0] = kDataPrefix;
    key_.append(key);
  }

  using Overlay = std::unordered_map<std::string, std::optional<std::string>>;

  rocksdb::DB* db_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_ = nullptr;
  rocksdb::WriteBatch batch_;
  Overlay overlay_;  // prefixed key -> value in this chunk (nullopt: deleted)
  bool indexed_ = false;
  rocksdb::ReadOptions read_options_;
  std::string key_;  // reused: no allocation per entry once it has grown
  rocksdb::PinnableSlice value_;
};

RocksDbStateMachine::RocksDbStateMachine(std::filesystem::path dir,
                                         RocksDbStateMachineOptions options)
    : dir_(std::move(dir)),
      options_(options),
      block_cache_(rocksdb::NewLRUCache(options.block_cache_size)),
      target_(std::make_unique<BatchTarget>()) {}

RocksDbStateMachine::~RocksDbStateMachine() {
  if (auto s = stop(); !s) {
    spdlog::error("rocksdb state machine {}: stop on destruction failed: {}", dir_.string(),
                  s.error().to_string());
  }
}

// --- lifecycle ---------------------------------------------------------------------------

Status RocksDbStateMachine::start() {
  std::unique_lock life(lifecycle_);
  if (db_) return {};
  const std::filesystem::path db_dir = dir_ / "db";
  if (auto s = fs::create_directories(db_dir); !s) return s;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = options_.max_background_jobs;
  db_options.keep_log_file_num = 3;
  db_options.max_manifest_file_size = 64 << 20;

  std::vector<rocksdb::ColumnFamilyDescriptor> families{
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {std::string(kDataCf), data_cf_options(options_, block_cache_)},
      {std::string(kMetaCf), meta_cf_options()},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s =
      rocksdb::DB::Open(db_options, db_dir.string(), families, &handles, &raw);
  if (!s.ok()) return rocks_error("open " + db_dir.string(), s);
  db_.reset(raw);
  raw->DestroyColumnFamilyHandle(handles[0]);  // the DB keeps its own default handle
  data_cf_ = handles[1];
  meta_cf_ = handles[2];

  // Load what the last instance persisted.
  auto fail = [this](Error e) -> Status {
    (void)close_locked();  // the load error is the one worth reporting
    return e;
  };
  LogId applied;
  std::optional<SnapshotMetadata> snapshot;
  std::string value;
  rocksdb::Status g = db_->Get(rocksdb::ReadOptions(), meta_cf_, slice(kLastAppliedKey), &value);
  if (g.ok()) {
    auto id = decode_log_id(value);
    if (!id) {
      return fail(make_error(ErrorCode::corruption, "rocksdb state machine " + dir_.string() +
                                                        ": stored last_applied has " +
                                                        std::to_string(value.size()) + " bytes"));
    }
    applied = *id;
  } else if (!g.IsNotFound()) {
    return fail(rocks_error("read last_applied", g));
  }
  g = db_->Get(rocksdb::ReadOptions(), meta_cf_, slice(kSnapshotKey), &value);
  if (g.ok()) {
    auto parsed = parse_snapshot_metadata(value);
    if (!parsed) return fail(parsed.error());
    snapshot = std::move(*parsed);
  } else if (!g.IsNotFound()) {
    return fail(rocks_error("read snapshot metadata", g));
  }
  {
    std::lock_guard lock(meta_mutex_);
    last_applied_ = applied;
    snapshot_metadata_ = std::move(snapshot);
  }
  running_.store(true, std::memory_order_release);
  return {};
}

Status RocksDbStateMachine::stop() {
  std::unique_lock life(lifecycle_);
  if (!db_) return {};
  running_.store(false, std::memory_order_release);
  Status flushed = flush_locked();
  Status closed = close_locked();
  if (!flushed) return flushed;
  return closed;
}

Status RocksDbStateMachine::flush_locked() {
  // With automatic WAL flushing every write already reached the OS; FlushWAL(true) also
  // fsyncs the WAL, which covers both column families.
  if (auto s = db_->FlushWAL(true); !s.ok()) return rocks_error("sync WAL", s);
  return {};
}

Status RocksDbStateMachine::close_locked() {
  for (auto* cf : {data_cf_, meta_cf_}) {
    if (cf != nullptr) db_->DestroyColumnFamilyHandle(cf);
  }
  data_cf_ = meta_cf_ = nullptr;
  const rocksdb::Status s = db_->Close();
  db_.reset();
  if (!s.ok()) return rocks_error("close", s);
  return {};
}

// --- reads -------------------------------------------------------------------------------

Result<std::optional<std::string>> RocksDbStateMachine::get(std::string_view key) const {
  std::shared_lock life(lifecycle_);
  if (!db_) return not_running_error();
  std::string k;
  k.reserve(key.size() + 1);
  k += kDataPrefix;
  k += key;
  rocksdb::PinnableSlice value;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), data_cf_, k, &value);
  if (s.IsNotFound()) return std::optional<std::string>{};
  if (!s.ok()) return rocks_error("get", s);
  return std::optional<std::string>{std::string(view(value))};
}

Result<std::vector<std::optional<std::string>>> RocksDbStateMachine::get_multi(
    std::span<const std::string> keys) const {
  std::shared_lock life(lifecycle_);
  if (!db_) return not_running_error();
  std::vector<std::string> prefixed(keys.size());
  std::vector<rocksdb::Slice> slices(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    prefixed[i].reserve(keys[i].size() + 1);
    prefixed[i] += kDataPrefix;
    prefixed[i] += keys[i];
    slices[i] = prefixed[i];
  }
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  // Batched MultiGet: one lookup pass, results in input order.
  db_->MultiGet(rocksdb::ReadOptions(), data_cf_, keys.size(), slices.data(), values.data(),
                statuses.data(), /*sorted_input=*/false);
  std::vector<std::optional<std::string>> out(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return rocks_error("multi-get", statuses[i]);
    out[i].emplace(view(values[i]));
  }
  return out;
}

std::size_t RocksDbStateMachine::len() const {
  std::shared_lock life(lifecycle_);
  if (!db_) return 0;
  rocksdb::ReadOptions ro;
  const rocksdb::Slice lower = slice(kDataBegin);
  const rocksdb::Slice upper = slice(kDataEnd);
  ro.iterate_lower_bound = &lower;
  ro.iterate_upper_bound = &upper;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, data_cf_));
  std::size_t count = 0;
  for (it->Seek(lower); it->Valid(); it->Next()) ++count;
  if (!it->status().ok()) {
    spdlog::error("rocksdb state machine {}: len: {}", dir_.string(), it->status().ToString());
  }
  return count;
}

// --- apply -------------------------------------------------------------------------------

void RocksDbStateMachine::apply_chunk(std::vector<Entry> chunk, ApplyDone done) {
  auto result = apply(chunk);
  done(std::move(result));  // outside every lock: `done` may call back into this object
}

Result<std::vector<ApplyResult>> RocksDbStateMachine::apply(const std::vector<Entry>& chunk) {
  std::shared_lock life(lifecycle_);
  if (!db_) return not_running_error();
  std::lock_guard lock(apply_mutex_);
  target_->begin(db_.get(), data_cf_);
  auto outcome = apply_kv_chunk(chunk, last_applied(), *target_, scratch_);
  if (!outcome) return outcome.error();  // nothing was written: the batch is discarded
  if (outcome->last_applied) {
    rocksdb::WriteBatch& batch = target_->batch();
    // Same batch as the data: after a crash, data and last_applied agree (contract 4).
    if (auto s = batch.Put(meta_cf_, slice(kLastAppliedKey), encode_log_id(*outcome->last_applied));
        !s.ok()) {
      return rocks_error("put last_applied", s);
    }
    rocksdb::WriteOptions wo;
    wo.sync = false;  // Raft's log is the durable record; flush() syncs the WAL
    if (auto s = db_->Write(wo, &batch); !s.ok()) {
      return rocks_error("write chunk", s);
    }
    std::lock_guard meta(meta_mutex_);
    last_applied_ = *outcome->last_applied;
  }
  return std::move(outcome->results);
}

// --- last applied and snapshot metadata ------------------------------------------------------

void RocksDbStateMachine::update_last_applied(LogId last_applied) {
  std::lock_guard lock(meta_mutex_);
  last_applied_ = last_applied;
}

LogId RocksDbStateMachine::last_applied() const {
  std::lock_guard lock(meta_mutex_);
  return last_applied_;
}

Status RocksDbStateMachine::persist_last_applied(LogId last_applied) {
  std::shared_lock life(lifecycle_);
  if (!db_) return not_running_error();
  update_last_applied(last_applied);
  return write_meta_synced(true, false);
}

void RocksDbStateMachine::update_last_snapshot_metadata(const SnapshotMetadata& metadata) {
  std::lock_guard lock(meta_mutex_);
  snapshot_metadata_ = metadata;
}

std::optional<SnapshotMetadata> RocksDbStateMachine::snapshot_metadata() const {
  std::lock_guard lock(meta_mutex_);
  return snapshot_metadata_;
}

Status RocksDbStateMachine::persist_last_snapshot_metadata(const SnapshotMetadata& metadata) {
  std::shared_lock life(lifecycle_);
  if (!db_) return not_running_error();
  update_last_snapshot_metadata(metadata);
  return write_meta_synced(false, true);
}

Status RocksDbStateMachine::save_hard_state() {
  std::shared_lock life(lifecycle_);
  if (!db_) return not_running_error();
  return write_meta_synced(true, true);
}

Status RocksDbStateMachine::write_meta_synced(bool last_applied, bool snapshot) {
  rocksdb::WriteBatch batch;
  {
    std::lock_guard lock(meta_mutex_);
    if (last_applied) batch.Put(meta_cf_, slice(kLastAppliedKey), encode_log_id(last_applied_));
    if (snapshot) {
      if (snapshot_metadata_) {
        batch.Put(meta_cf_, slice(kSnapshotKey), serialize(*snapshot_metadata_));
      } else {
        batch.Delete(meta_cf_, slice(kSnapshotKey));
      }
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = db_->Write(wo, &batch); !s.ok()) return rocks_error("write metadata", s);
  return {};
}

// --- snapshots -------------------------------------------------------------------------------

Result<GeneratedSnapshot> RocksDbStateMachine::generate_snapshot_data(
    const std::filesystem::path& path) {
  std::shared_lock life(lifecycle_);
  if (!db_) return not_running_error();

  // A RocksDB snapshot: apply continues while the file is written, and data and
  // last_applied are read at the same sequence number.
  struct SnapshotGuard {
    rocksdb::DB* db;
    const rocksdb::Snapshot* snapshot;
    ~SnapshotGuard() { db->ReleaseSnapshot(snapshot); }
  } guard{db_.get(), db_->GetSnapshot()};

  rocksdb::ReadOptions ro;
  ro.snapshot = guard.snapshot;
  LogId last_included;
  std::string value;
  if (auto s = db_->Get(ro, meta_cf_, slice(kLastAppliedKey), &value); s.ok()) {
    auto id = decode_log_id(value);
    if (!id) return make_error(ErrorCode::corruption, "stored last_applied is malformed");
    last_included = *id;
  } else if (!s.IsNotFound()) {
    return rocks_error("read last_applied", s);
  }

  rocksdb::EnvOptions env_options;
  env_options.bytes_per_sync = 1 << 20;  // write back while writing: the final fsync is short
  // invalidate_page_cache=false: checksum_file reads the file right back.
  rocksdb::SstFileWriter writer(env_options, snapshot_sst_options(options_, block_cache_), nullptr,
                                /*invalidate_page_cache=*/false);
  if (auto s = writer.Open(path.string()); !s.ok()) {
    return rocks_error("create snapshot " + path.string(), s);
  }
  FileRemover remover(path);  // no partial file is left behind on error
  // Ingesting the file then replaces the whole user key space: the tombstone deletes
  // every older key, not the keys of the file itself (same sequence number).
  if (auto s = writer.DeleteRange(slice(kDataBegin), slice(kDataEnd)); !s.ok()) {
    return rocks_error("write snapshot tombstone", s);
  }

  const rocksdb::Slice lower = slice(kDataBegin);
  const rocksdb::Slice upper = slice(kDataEnd);
  ro.iterate_lower_bound = &lower;
  ro.iterate_upper_bound = &upper;
  ro.fill_cache = false;  // a full scan would evict the working set
  ro.readahead_size = 2 << 20;
  ro.async_io = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, data_cf_));
  {
    ScanPipeline scan(*it, lower);  // scans on a helper thread; stopped and joined on return
    if (!scan.start()) return make_error(ErrorCode::internal, "cannot start a snapshot thread");
    std::string block;
    while (scan.next(block)) {
      auto s = ScanPipeline::for_each(block, [&](const rocksdb::Slice& k, const rocksdb::Slice& v) {
        return writer.Put(k, v);
      });
      if (!s.ok()) return rocks_error("write snapshot " + path.string(), s);
    }
    if (auto s = scan.status(); !s.ok()) return rocks_error("scan for snapshot", s);
  }
  it.reset();
  // Sorts after every data key; records where the snapshot ends, checked on install.
  if (auto s = writer.Put(slice(kSnapshotMarkerKey), encode_log_id(last_included)); !s.ok()) {
    return rocks_error("write snapshot marker", s);
  }
  rocksdb::ExternalSstFileInfo info;
  if (auto s = writer.Finish(&info); !s.ok()) {  // Finish also fsyncs the file
    return rocks_error("finish snapshot " + path.string(), s);
  }
  if (auto s = fs::fsync_file(path); !s) return s.error();  // not relying on the above
  auto checksum = snapshot::checksum_file(path);
  if (!checksum) return checksum.error();
  remover.release();
  return GeneratedSnapshot{last_included, std::move(*checksum), info.file_size};
}

Status RocksDbStateMachine::apply_snapshot_from_file(const SnapshotMetadata& metadata,
                                                     const std::filesystem::path& path) {
  std::shared_lock life(lifecycle_);
  if (!db_) return not_running_error();
  std::lock_guard lock(apply_mutex_);

  // 1. The checksum: nothing is touched unless the file is the one the metadata names.
  if (auto s = snapshot::verify_file_checksum(path, metadata.checksum); !s) return s;

  // 2. The structure: an SST with one range tombstone whose last key is our marker, and
  // the marker agrees with the metadata.
  const rocksdb::Options sst_options = snapshot_sst_options(options_, block_cache_);
  {
    auto corrupt = [&](const std::string& why) {
      return make_error(ErrorCode::corruption, "snapshot " + path.string() + ": " + why);
    };
    rocksdb::SstFileReader reader(sst_options);
    if (auto s = reader.Open(path.string()); !s.ok()) {
      return corrupt("not a RocksDB state machine snapshot (" + s.ToString() + ")");
    }
    auto props = reader.GetTableProperties();
    if (!props || props->num_range_deletions != 1) {
      return corrupt("expected exactly one range tombstone");
    }
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(ro));
    it->SeekToLast();
    if (!it->Valid() || view(it->key()) != kSnapshotMarkerKey) {
      return corrupt(it->status().ok() ? "no snapshot marker" : it->status().ToString());
    }
    auto marked = decode_log_id(view(it->value()));
    if (!marked) return corrupt("malformed snapshot marker");
    if (*marked != metadata.last_included) {
      return corrupt("file ends at index " + std::to_string(marked->index) + " term " +
                     std::to_string(marked->term) + ", metadata says index " +
                     std::to_string(metadata.last_included.index) + " term " +
                     std::to_string(metadata.last_included.term));
    }
    it->SeekToFirst();
    if (!it->Valid() || (view(it->key()) != kSnapshotMarkerKey &&
                         (it->key().empty() || it->key()[0] != kDataPrefix))) {
      return corrupt("holds keys outside the data key space");
    }
  }

  // 3. The meta SST: replaces last_applied and the snapshot metadata.
  const std::filesystem::path meta_path = dir_ / "install-meta.sst";
  FileRemover remove_meta(meta_path);
  {
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), sst_options);
    rocksdb::Status s = writer.Open(meta_path.string());
    if (s.ok()) s = writer.DeleteRange(slice(kMetaBegin), slice(kMetaEnd));
    if (s.ok()) s = writer.Put(slice(kLastAppliedKey), encode_log_id(metadata.last_included));
    if (s.ok()) s = writer.Put(slice(kSnapshotKey), serialize(metadata));
    if (s.ok()) s = writer.Finish();
    if (!s.ok()) return rocks_error("write " + meta_path.string(), s);
  }

  // 4. Both files in one IngestExternalFiles call: RocksDB records them in one MANIFEST
  // write, so a crash leaves the old state or the new one.
  rocksdb::IngestExternalFileOptions copy;
  copy.move_files = false;           // the snapshot file may be re-sent: copy, never modify
  copy.write_global_seqno = false;   // the sequence number goes to the MANIFEST, not the copy
  copy.snapshot_consistency = true;  // concurrent generate_snapshot_data keeps its view
  copy.allow_blocking_flush = true;  // the memtable overlaps the tombstone: flush it first
  copy.verify_checksums_before_ingest = false;  // the XXH3 check above covers the bytes
  rocksdb::IngestExternalFileOptions move = copy;
  move.move_files = true;  // our own staging file: link it in
  std::vector<rocksdb::IngestExternalFileArg> args(2);
  args[0].column_family = data_cf_;
  args[0].external_files = {path.string()};
  args[0].options = copy;
  args[1].column_family = meta_cf_;
  args[1].external_files = {meta_path.string()};
  args[1].options = move;
  if (auto s = db_->IngestExternalFiles(args); !s.ok()) {
    return rocks_error("ingest snapshot " + path.string(), s);
  }

  std::lock_guard meta(meta_mutex_);
  last_applied_ = metadata.last_included;
  snapshot_metadata_ = metadata;
  return {};
}

// --- durability --------------------------------------------------------------------------------

Status RocksDbStateMachine::flush() {
  std::shared_lock life(lifecycle_);
  if (!db_) return not_running_error();
  return flush_locked();
}

Status RocksDbStateMachine::reset() {
  std::shared_lock life(lifecycle_);
  if (!db_) return not_running_error();
  std::lock_guard lock(apply_mutex_);
  rocksdb::WriteBatch batch;
  for (auto* cf : {data_cf_, meta_cf_}) {
    if (auto s = batch.DeleteRange(cf, rocksdb::Slice(""), slice(kAllEnd)); !s.ok()) {
      return rocks_error("reset", s);
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = db_->Write(wo, &batch); !s.ok()) return rocks_error("reset", s);
  std::lock_guard meta(meta_mutex_);
  last_applied_ = {};
  snapshot_metadata_.reset();
  return {};
}

}  // namespace raftor
