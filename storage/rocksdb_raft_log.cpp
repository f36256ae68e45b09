#include "raftor/storage/rocksdb_raft_log.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <iterator>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "raftor/storage/fs_util.hpp"

namespace raftor {

namespace {

constexpr std::string_view kLogCf = "log";
constexpr std::string_view kMetaCf = "meta";

constexpr std::string_view kFormatKey = "format";
constexpr std::string_view kHardStateKey = "hard_state";
constexpr std::string_view kLastPurgedKey = "last_purged";
// Bump when the encoding of a log value or a meta record changes.
constexpr std::string_view kFormatVersion = "raftor-log-1";

constexpr std::size_t kEntryHeaderSize = 9;  // term (u64) + type (u8), then the payload

// A batch that grew past this (one huge append) is dropped instead of cleared, so it does
// not pin its memory for the life of the log.
constexpr std::size_t kInitialBatchBytes = 64 << 10;
constexpr std::size_t kMaxRetainedBatchBytes = 16 << 20;

void put_u64(char* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

std::uint64_t get_u64(const char* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

// Big-endian, so RocksDB's bytewise order is index order.
class IndexKey {
 public:
  explicit IndexKey(std::uint64_t index) { put_u64(bytes_.data(), index); }
  rocksdb::Slice slice() const { return {bytes_.data(), bytes_.size()}; }

 private:
  std::array<char, 8> bytes_;
};

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }

// A pair of u64 (hard state, last_purged): 16 bytes, big-endian.
std::array<char, 16> encode_pair(std::uint64_t a, std::uint64_t b) {
  std::array<char, 16> out;
  put_u64(out.data(), a);
  put_u64(out.data() + 8, b);
  return out;
}

Error rocks_error(std::string_view what, const rocksdb::Status& s) {
  const ErrorCode code = s.IsCorruption() ? ErrorCode::corruption : ErrorCode::io_error;
  return make_error(code, "raft log: " + std::string(what) + ": " + s.ToString());
}

Error invalid(std::string message) {
  return make_error(ErrorCode::invalid_argument, "raft log: " + std::move(message));
}

Error corrupt(std::string message) {
  return make_error(ErrorCode::corruption, "raft log: " + std::move(message));
}

Error corrupt_entry(std::uint64_t index, std::string_view what) {
  return corrupt("log entry " + std::to_string(index) + ": " + std::string(what));
}

bool valid_type(EntryType type) { return static_cast<std::uint8_t>(type) <= 2; }

Status check_header(std::uint64_t index, const rocksdb::Slice& value) {
  if (value.size() < kEntryHeaderSize) {
    return corrupt_entry(index, "stored value of " + std::to_string(value.size()) +
                                    " bytes is shorter than the 9-byte entry header");
  }
  if (!valid_type(static_cast<EntryType>(value[8]))) {
    return corrupt_entry(
        index, "unknown entry type " + std::to_string(static_cast<unsigned char>(value[8])));
  }
  return {};
}

rocksdb::ColumnFamilyOptions log_cf_options(const RocksDbRaftLogOptions& o,
                                            const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.format_version = 5;
  // No bloom filter: reads are seeks and scans over dense keys, never point misses.
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = o.write_buffer_size;
  cf.compression = rocksdb::kLZ4Compression;
  cf.bottommost_compression = rocksdb::kLZ4Compression;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

rocksdb::ColumnFamilyOptions small_cf_options() {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = 1 << 20;  // a few keys, rewritten on elections and purges
  return cf;
}

}  // namespace

// Reclaims the space of purged entries. The range tombstone hides them at once, but their
// bytes stay in the SST files until a compaction that has the tombstone among its inputs
// rewrites them. Waiting for that inside purge_prefix would block the Raft actor for as long
// as the compaction takes; merely marking the files (experimental::SuggestCompactRange) right
// after the purge does not help either, as the tombstone is still in the memtable: the marked
// files would be rewritten with their dead entries. So a thread of our own runs
// DB::CompactRange over the purged span (it flushes the memtable holding the tombstone first,
// then compacts every level overlapping the span) while the owner goes on. Purges that arrive
// while one runs are merged into the next run. Best effort: a failure costs disk space, not
// correctness, and is logged.
class PurgeCompactor {
 public:
  PurgeCompactor(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string name)
      : db_(db), cf_(cf), name_(std::move(name)), thread_([this] { run(); }) {}

  // Aborts a running compaction (DisableManualCompaction waits for it to stop) and joins.
  ~PurgeCompactor() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    db_->DisableManualCompaction();
    thread_.join();
  }

  PurgeCompactor(const PurgeCompactor&) = delete;
  PurgeCompactor& operator=(const PurgeCompactor&) = delete;

  // Compacts [lo, hi) soon.
  void schedule(std::uint64_t lo, std::uint64_t hi) {
    {
      std::lock_guard lock(mu_);
      if (pending_) {
        pending_->first = std::min(pending_->first, lo);
        pending_->second = std::max(pending_->second, hi);
      } else {
        pending_.emplace(lo, hi);
      }
    }
    cv_.notify_all();
  }

  // Blocks until every scheduled compaction has run.
  void wait_idle() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return stop_ || (!pending_ && !running_); });
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || pending_; });
      if (stop_) return;
      const auto [lo, hi] = *pending_;
      pending_.reset();
      running_ = true;
      lock.unlock();

      const IndexKey lo_key(lo);
      const IndexKey hi_key(hi);
      const rocksdb::Slice begin = lo_key.slice();
      const rocksdb::Slice end = hi_key.slice();
      rocksdb::CompactRangeOptions options;
      options.exclusive_manual_compaction = false;  // automatic compactions go on meanwhile
      const rocksdb::Status st = db_->CompactRange(options, cf_, &begin, &end);

      lock.lock();
      running_ = false;
      if (!st.ok() && !stop_) {
        spdlog::warn("raft log {}: compaction of purged entries [{}, {}) failed: {}", name_, lo,
                     hi, st.ToString());
      }
      cv_.notify_all();
    }
  }

  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const cf_;
  const std::string name_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> pending_;  // [lo, hi) to compact
  bool running_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: starts after everything it uses is initialized
};

RocksDbRaftLog::RocksDbRaftLog(std::filesystem::path dir, RocksDbRaftLogOptions options)
    : dir_(std::move(dir)),
      options_(options),
      batch_(std::make_unique<rocksdb::WriteBatch>(kInitialBatchBytes)),
      recent_(options.recent_entries_bytes) {}

Result<std::unique_ptr<RocksDbRaftLog>> RocksDbRaftLog::open(const std::filesystem::path& dir,
                                                             RocksDbRaftLogOptions options) {
  if (auto s = fs::create_directories(dir); !s) return s.error();

  rocksdb::DBOptions db;
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  // A torn or damaged WAL tail is dropped and recovery stops there: what survives is a
  // prefix of the write batches, i.e. of the calls (raft_log.hpp's crash guarantee).
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Durability comes from sync() below. manual_wal_flush stays false: each Write() hands its
  // batch to the OS at once, so a process crash (as opposed to a machine crash) loses
  // nothing, and DB::SyncWAL() then fdatasyncs every WAL file not yet synced -- also those
  // closed by a memtable switch -- and the directory when a new WAL file was created. With
  // manual_wal_flush = true the batches would sit in a RocksDB buffer until FlushWAL(true);
  // that saves one write(2) per call, which is noise next to the fsync it precedes.
  db.manual_wal_flush = false;
  db.max_background_jobs = options.max_background_jobs;
  // "meta" is written rarely and would pin old WAL files until its memtable flushes; this
  // bounds the WAL (and recovery time) by flushing the column families holding the oldest.
  db.max_total_wal_size = 2 * static_cast<std::uint64_t>(options.write_buffer_size);
  db.keep_log_file_num = 4;  // RocksDB's own info LOG files
  db.max_log_file_size = 8 << 20;

  auto cache = rocksdb::NewLRUCache(options.block_cache_size);
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, small_cf_options()},
      {std::string(kLogCf), log_cf_options(options, cache)},
      {std::string(kMetaCf), small_cf_options()},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status st = rocksdb::DB::Open(db, dir.string(), families, &handles, &raw);
  if (!st.ok()) return rocks_error("cannot open " + dir.string(), st);

  std::unique_ptr<RocksDbRaftLog> log(new RocksDbRaftLog(dir, options));
  log->db_.reset(raw);
  log->default_cf_ = handles[0];
  log->log_cf_ = handles[1];
  log->meta_cf_ = handles[2];
  if (auto s = log->load(); !s) return s.error();  // ~RocksDbRaftLog closes the database
  return log;
}

Status RocksDbRaftLog::load() {
  const rocksdb::ReadOptions ro;
  std::string value;

  rocksdb::Status st = db_->Get(ro, meta_cf_, slice(kFormatKey), &value);
  const bool fresh = st.IsNotFound();
  if (!st.ok() && !fresh) return rocks_error("cannot read the format record", st);
  if (!fresh && value != kFormatVersion) {
    return corrupt("unsupported format '" + value + "' in " + dir_.string() + " (expected '" +
                   std::string(kFormatVersion) + "')");
  }

  st = db_->Get(ro, meta_cf_, slice(kHardStateKey), &value);
  if (st.ok()) {
    if (value.size() != 16) {
      return corrupt("hard state record has " + std::to_string(value.size()) + " bytes, not 16");
    }
    hard_state_ = {get_u64(value.data()), get_u64(value.data() + 8)};
  } else if (!st.IsNotFound()) {
    return rocks_error("cannot read the hard state", st);
  }

  st = db_->Get(ro, meta_cf_, slice(kLastPurgedKey), &value);
  if (st.ok()) {
    if (value.size() != 16) {
      return corrupt("last_purged record has " + std::to_string(value.size()) + " bytes, not 16");
    }
    last_purged_ = {get_u64(value.data()), get_u64(value.data() + 8)};
  } else if (!st.IsNotFound()) {
    return rocks_error("cannot read last_purged", st);
  }

  // Find the stored range. The scan starts at first_index(): keys below it are covered by
  // purge range tombstones, and stepping over them one by one would be slow until compacted.
  const IndexKey lower(first_index());
  const rocksdb::Slice lower_slice = lower.slice();
  rocksdb::ReadOptions scan;
  scan.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan, log_cf_));
  it->SeekToLast();
  last_index_ = last_purged_.index;
  if (it->Valid()) {
    if (it->key().size() != 8) {
      return corrupt("log key of " + std::to_string(it->key().size()) + " bytes, not 8");
    }
    last_index_ = get_u64(it->key().data());
    it->Seek(lower_slice);
    if (!it->Valid() || it->key().size() != 8 || get_u64(it->key().data()) != first_index()) {
      if (!it->status().ok()) return rocks_error("cannot scan the log", it->status());
      return corrupt("the log does not start right after last_purged " +
                     std::to_string(last_purged_.index) + ": entry " +
                     std::to_string(first_index()) + " is missing");
    }
  }
  if (!it->status().ok()) return rocks_error("cannot scan the log", it->status());
  it.reset();

  if (fresh) {
    if (last_index_ != 0 || last_purged_ != LogId{} || hard_state_ != HardState{}) {
      return corrupt(dir_.string() + " holds data but no format record: not a raft log");
    }
    batch_->Clear();
    if (auto s = batch_->Put(meta_cf_, slice(kFormatKey), slice(kFormatVersion)); !s.ok()) {
      return rocks_error("cannot write the format record", s);
    }
    if (auto s = write_batch("cannot write the format record"); !s) return s;
  }

  term_runs_.clear();
  if (last_index_ > last_purged_.index) {
    auto first_term = read_term(first_index());
    if (!first_term) return first_term.error();
    auto last_term = read_term(last_index_);
    if (!last_term) return last_term.error();
    if (*first_term < last_purged_.term) {
      return corrupt_entry(first_index(), "term " + std::to_string(*first_term) +
                                              " is below last_purged's term " +
                                              std::to_string(last_purged_.term));
    }
    term_runs_.push_back({first_index(), *first_term});
    if (auto s = find_term_changes(first_index(), *first_term, last_index_, *last_term); !s) {
      return s;
    }
  }
  return {};
}

Result<std::uint64_t> RocksDbRaftLog::read_term(std::uint64_t index) const {
  const IndexKey key(index);
  rocksdb::PinnableSlice value;
  const rocksdb::Status st = db_->Get(rocksdb::ReadOptions(), log_cf_, key.slice(), &value);
  if (st.IsNotFound()) {
    return corrupt_entry(index, "missing, although the log holds [" +
                                    std::to_string(first_index()) + ", " +
                                    std::to_string(last_index_) + "]");
  }
  if (!st.ok()) return rocks_error("cannot read log entry " + std::to_string(index), st);
  if (auto s = check_header(index, value); !s) return s.error();
  return get_u64(value.data());
}

// Terms never decrease along the log, so equal terms at lo and hi mean one run in between:
// bisection finds every term change with O(changes * log(entries)) reads, not a full scan.
Status RocksDbRaftLog::find_term_changes(std::uint64_t lo, std::uint64_t lo_term, std::uint64_t hi,
                                         std::uint64_t hi_term) {
  if (lo_term == hi_term) return {};
  if (lo_term > hi_term) {
    return corrupt("terms decrease between log entries " + std::to_string(lo) + " (term " +
                   std::to_string(lo_term) + ") and " + std::to_string(hi) + " (term " +
                   std::to_string(hi_term) + ")");
  }
  if (hi == lo + 1) {
    term_runs_.push_back({hi, hi_term});
    return {};
  }
  const std::uint64_t mid = lo + (hi - lo) / 2;
  auto mid_term = read_term(mid);
  if (!mid_term) return mid_term.error();
  if (auto s = find_term_changes(lo, lo_term, mid, *mid_term); !s) return s;
  return find_term_changes(mid, *mid_term, hi, hi_term);
}

RocksDbRaftLog::~RocksDbRaftLog() { close(); }

void RocksDbRaftLog::close() {
  if (!db_) return;
  compactor_.reset();  // before the handles it uses go
  if (unsynced_ && !failed_ && options_.sync) {
    if (const rocksdb::Status st = db_->SyncWAL(); !st.ok()) {
      spdlog::error("raft log {}: sync on close failed: {}", dir_.string(), st.ToString());
    }
  }
  for (rocksdb::ColumnFamilyHandle* h : {log_cf_, meta_cf_, default_cf_}) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h);
  }
  log_cf_ = meta_cf_ = default_cf_ = nullptr;
  if (const rocksdb::Status st = db_->Close(); !st.ok()) {
    spdlog::error("raft log {}: close failed: {}", dir_.string(), st.ToString());
  }
  db_.reset();
}

LogId RocksDbRaftLog::last_log_id() const {
  if (term_runs_.empty()) return last_purged_;
  return {last_index_, term_runs_.back().term};
}

std::optional<std::uint64_t> RocksDbRaftLog::term_at(std::uint64_t index) const {
  if (index == last_purged_.index) return last_purged_.term;  // {0, 0} before any purge
  if (index < last_purged_.index || index > last_index_) return std::nullopt;
  if (index >= term_runs_.back().index) return term_runs_.back().term;  // the common case
  // The last run starting at or before `index`.
  auto it = std::upper_bound(term_runs_.begin(), term_runs_.end(), index,
                             [](std::uint64_t i, const LogId& run) { return i < run.index; });
  return std::prev(it)->term;
}

Result<std::vector<Entry>> RocksDbRaftLog::entries(std::uint64_t lo, std::uint64_t hi,
                                                   std::uint64_t max_bytes) const {
  if (lo > hi) {
    return invalid("entries [" + std::to_string(lo) + ", " + std::to_string(hi) +
                   "): lo is above hi");
  }
  if (lo < first_index() || hi > last_index_ + 1) {
    return make_error(ErrorCode::out_of_range, "raft log: entries [" + std::to_string(lo) + ", " +
                                                   std::to_string(hi) + ") outside the stored [" +
                                                   std::to_string(first_index()) + ", " +
                                                   std::to_string(last_index_ + 1) + ")");
  }
  std::vector<Entry> out;
  if (lo == hi) return out;
  if (auto held = recent_.read(lo, hi, max_bytes)) return std::move(*held);

  const IndexKey lo_key(lo);
  const IndexKey hi_key(hi);
  const rocksdb::Slice upper = hi_key.slice();
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));

  out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(hi - lo, 1024)));
  std::uint64_t bytes = 0;  // payload bytes in `out`
  std::uint64_t index = lo;
  for (it->Seek(lo_key.slice()); index < hi; it->Next(), ++index) {
    if (!it->Valid()) {
      if (!it->status().ok()) return rocks_error("cannot read the log", it->status());
      return corrupt_entry(index, "missing from the stored range");
    }
    const rocksdb::Slice key = it->key();
    if (key.size() != 8 || get_u64(key.data()) != index) {
      return corrupt_entry(index, "missing from the stored range");
    }
    const rocksdb::Slice value = it->value();
    if (auto s = check_header(index, value); !s) return s.error();
    const std::uint64_t size = value.size() - kEntryHeaderSize;
    if (!fits_max_bytes(out.size(), bytes, size, max_bytes)) break;
    const std::uint64_t term = get_u64(value.data());
    if (const std::uint64_t loaded = *term_at(index); term != loaded) {
      return corrupt_entry(index, "stored term " + std::to_string(term) +
                                      " differs from the term found at open, " +
                                      std::to_string(loaded));
    }
    Entry& e = out.emplace_back();
    e.index = index;
    e.term = term;
    e.type = static_cast<EntryType>(value[8]);
    e.payload.assign(value.data() + kEntryHeaderSize, size);
    bytes += size;
  }
  return out;
}

Status RocksDbRaftLog::check_writable() const {
  if (failed_) {
    return make_error(ErrorCode::io_error,
                      "raft log: read-only after an earlier failure (" + failed_->message + ")");
  }
  if (!db_) return make_error(ErrorCode::internal, "raft log: used after close");
  return {};
}

Status RocksDbRaftLog::write_batch(const char* what) {
  rocksdb::WriteOptions wo;
  wo.sync = false;  // group commit: sync() makes it durable
  const rocksdb::Status st = db_->Write(wo, batch_.get());
  if (batch_->GetDataSize() > kMaxRetainedBatchBytes) {
    batch_ = std::make_unique<rocksdb::WriteBatch>(kInitialBatchBytes);
  } else {
    batch_->Clear();
  }
  if (!st.ok()) {
    failed_ = rocks_error(what, st);
    return *failed_;
  }
  unsynced_ = true;
  return {};
}

Status RocksDbRaftLog::append(std::span<const Entry> entries) {
  if (auto s = check_writable(); !s) return s;
  if (entries.empty()) return {};

  // Validate everything before writing anything: a rejected call changes nothing.
  if (entries.front().index != last_index_ + 1) {
    return invalid("append: first entry has index " + std::to_string(entries.front().index) +
                   ", expected last_index() + 1 = " + std::to_string(last_index_ + 1));
  }
  std::uint64_t prev_term = last_log_id().term;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.index != entries.front().index + i) {
      return invalid("append: entries are not contiguous: index " + std::to_string(e.index) +
                     " follows " + std::to_string(entries[i - 1].index));
    }
    if (e.term < prev_term) {
      return invalid("append: entry " + std::to_string(e.index) + " has term " +
                     std::to_string(e.term) + ", below the term " + std::to_string(prev_term) +
                     " of the entry before it (terms never decrease along a log, Raft §5.3)");
    }
    if (!valid_type(e.type)) {
      return invalid("append: entry " + std::to_string(e.index) + " has unknown type " +
                     std::to_string(static_cast<unsigned>(e.type)));
    }
    prev_term = e.term;
  }

  batch_->Clear();
  for (const Entry& e : entries) {
    // Key and header live on the stack and the payload is referenced, not copied: the only
    // copy is into the batch's own (reused) buffer.
    const IndexKey key(e.index);
    std::array<char, kEntryHeaderSize> header;
    put_u64(header.data(), e.term);
    header[8] = static_cast<char>(e.type);
    const rocksdb::Slice key_part = key.slice();
    const std::array<rocksdb::Slice, 2> value_parts = {rocksdb::Slice(header.data(), header.size()),
                                                       slice(e.payload)};
    const rocksdb::Status st = batch_->Put(log_cf_, rocksdb::SliceParts(&key_part, 1),
                                           rocksdb::SliceParts(value_parts.data(), 2));
    if (!st.ok()) {
      batch_->Clear();
      return rocks_error("append: cannot batch entry " + std::to_string(e.index), st);
    }
  }
  if (auto s = write_batch("append"); !s) return s;

  for (const Entry& e : entries) {
    if (term_runs_.empty() || term_runs_.back().term != e.term) {
      term_runs_.push_back({e.index, e.term});
    }
  }
  last_index_ = entries.back().index;
  recent_.append(entries);
  return {};
}

Status RocksDbRaftLog::truncate_suffix(std::uint64_t from) {
  if (auto s = check_writable(); !s) return s;
  if (from <= last_purged_.index) {
    return invalid("truncate_suffix(" + std::to_string(from) +
                   "): at or below last_purged().index = " + std::to_string(last_purged_.index) +
                   "; purged entries are committed and never truncated (Raft §5.4)");
  }
  if (from > last_index_ + 1) {
    return invalid("truncate_suffix(" + std::to_string(from) +
                   "): beyond last_index() + 1 = " + std::to_string(last_index_ + 1));
  }
  if (from == last_index_ + 1) return {};  // nothing to remove

  batch_->Clear();
  const IndexKey begin(from);
  const IndexKey end(last_index_ + 1);
  if (auto st = batch_->DeleteRange(log_cf_, begin.slice(), end.slice()); !st.ok()) {
    return rocks_error("truncate_suffix: cannot batch the range deletion", st);
  }
  if (auto s = write_batch("truncate_suffix"); !s) return s;

  last_index_ = from - 1;
  while (!term_runs_.empty() && term_runs_.back().index >= from) term_runs_.pop_back();
  recent_.truncate_from(from);
  return {};
}

Status RocksDbRaftLog::purge_prefix(LogId upto) {
  if (auto s = check_writable(); !s) return s;
  const std::string where =
      "purge_prefix({" + std::to_string(upto.index) + ", " + std::to_string(upto.term) + "}): ";
  if (upto.index < last_purged_.index) {
    return invalid(where + "purging backwards, already purged through " +
                   std::to_string(last_purged_.index));
  }
  if (upto.index == last_purged_.index) {
    if (upto.term == last_purged_.term) return {};
    return invalid(where + "index already purged with term " + std::to_string(last_purged_.term));
  }
  if (upto.term < last_purged_.term) {
    return invalid(where + "term below last_purged's term " + std::to_string(last_purged_.term));
  }
  if (upto.index == UINT64_MAX) return invalid(where + "index out of range");
  if (upto.index <= last_index_) {
    const std::uint64_t stored = *term_at(upto.index);
    if (stored != upto.term) {
      return invalid(where + "the log has term " + std::to_string(stored) +
                     " at that index; truncate the conflicting log first (Raft §7)");
    }
  }

  // Entries and the new last_purged in one batch: a crash keeps both or neither.
  batch_->Clear();
  const std::uint64_t first = first_index();
  const std::uint64_t end = std::min(upto.index, last_index_) + 1;  // exclusive
  const IndexKey begin_key(first);
  const IndexKey end_key(end);
  if (first < end) {
    if (auto st = batch_->DeleteRange(log_cf_, begin_key.slice(), end_key.slice()); !st.ok()) {
      return rocks_error("purge_prefix: cannot batch the range deletion", st);
    }
  }
  const auto record = encode_pair(upto.index, upto.term);
  if (auto st = batch_->Put(meta_cf_, slice(kLastPurgedKey),
                            rocksdb::Slice(record.data(), record.size()));
      !st.ok()) {
    batch_->Clear();
    return rocks_error("purge_prefix: cannot batch last_purged", st);
  }
  if (auto s = write_batch("purge_prefix"); !s) return s;

  last_purged_ = upto;
  recent_.purge_through(upto.index);
  if (upto.index >= last_index_) {
    last_index_ = upto.index;
    term_runs_.clear();
  } else {
    const std::uint64_t new_first = upto.index + 1;
    auto keep = std::upper_bound(term_runs_.begin(), term_runs_.end(), new_first,
                                 [](std::uint64_t i, const LogId& run) { return i < run.index; });
    term_runs_.erase(term_runs_.begin(), std::prev(keep));
    term_runs_.front().index = new_first;
  }
  if (first < end) schedule_compaction(first, end);
  return {};
}

void RocksDbRaftLog::schedule_compaction(std::uint64_t lo, std::uint64_t hi) {
  if (!compactor_) compactor_ = std::make_unique<PurgeCompactor>(db_.get(), log_cf_, dir_.string());
  compactor_->schedule(lo, hi);
}

void RocksDbRaftLog::wait_for_purge_compaction() {
  if (compactor_) compactor_->wait_idle();
}

Status RocksDbRaftLog::save_hard_state(const HardState& state) {
  if (auto s = check_writable(); !s) return s;
  if (state == hard_state_) return {};  // already written; the next sync covers it
  batch_->Clear();
  const auto record = encode_pair(state.term, state.voted_for);
  if (auto st =
          batch_->Put(meta_cf_, slice(kHardStateKey), rocksdb::Slice(record.data(), record.size()));
      !st.ok()) {
    batch_->Clear();
    return rocks_error("save_hard_state: cannot batch the record", st);
  }
  if (auto s = write_batch("save_hard_state"); !s) return s;
  hard_state_ = state;
  return {};
}

Status RocksDbRaftLog::sync() {
  if (auto s = check_writable(); !s) return s;
  if (!unsynced_) return {};
  if (options_.sync) {
    if (const rocksdb::Status st = db_->SyncWAL(); !st.ok()) {
      failed_ = rocks_error("sync", st);
      return *failed_;
    }
  }
  unsynced_ = false;
  return {};
}

}  // namespace raftor
