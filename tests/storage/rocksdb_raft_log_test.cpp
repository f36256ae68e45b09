#include "raftor/storage/rocksdb_raft_log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace raftor {
namespace {

namespace stdfs = std::filesystem;

#define ASSERT_OK(expr)                                                           \
  do {                                                                            \
    const auto& assert_ok_result_ = (expr);                                       \
    ASSERT_TRUE(assert_ok_result_.ok()) << assert_ok_result_.error().to_string(); \
  } while (0)

#define EXPECT_OK(expr)                                                           \
  do {                                                                            \
    const auto& expect_ok_result_ = (expr);                                       \
    EXPECT_TRUE(expect_ok_result_.ok()) << expect_ok_result_.error().to_string(); \
  } while (0)

template <class R>
::testing::AssertionResult FailsWith(const R& result, ErrorCode code) {
  if (result.ok()) {
    return ::testing::AssertionFailure() << "succeeded, expected " << to_string(code);
  }
  if (result.error().code != code) {
    return ::testing::AssertionFailure()
           << "failed with " << result.error().to_string() << ", expected " << to_string(code);
  }
  return ::testing::AssertionSuccess() << result.error().to_string();
}

stdfs::path make_temp_dir() {
  std::string pattern = (stdfs::path(::testing::TempDir()) / "raftor_raft_log_XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << pattern << ": " << std::strerror(errno);
    return {};
  }
  return pattern;
}

std::string payload_for(std::uint64_t index, std::uint64_t term, std::size_t size) {
  std::string p = std::to_string(index) + "@" + std::to_string(term) + ":";
  p.resize(std::max(size, p.size()), static_cast<char>('a' + index % 26));
  return p;
}

Entry make_entry(std::uint64_t index, std::uint64_t term, std::string payload,
                 EntryType type = EntryType::normal) {
  return Entry{index, term, type, std::move(payload)};
}

// Entries [first, last] with one term and payloads of `size` bytes.
std::vector<Entry> make_entries(std::uint64_t first, std::uint64_t last, std::uint64_t term,
                                std::size_t size = 24) {
  std::vector<Entry> out;
  for (std::uint64_t i = first; i <= last; ++i) {
    out.push_back(make_entry(i, term, payload_for(i, term, size)));
  }
  return out;
}

class RocksDbRaftLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = make_temp_dir();
    ASSERT_FALSE(root_.empty());
    dir_ = root_ / "log";
    ASSERT_NO_FATAL_FAILURE(reopen());
  }

  void TearDown() override {
    log_.reset();
    std::error_code ec;
    if (!root_.empty()) stdfs::remove_all(root_, ec);
  }

  void reopen(RocksDbRaftLogOptions options = {}) {
    log_.reset();
    auto opened = RocksDbRaftLog::open(dir_, options);
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    log_ = std::move(opened).value();
  }

  // Every stored entry, checked against `expected` along with the bounds.
  void expect_log(const std::vector<Entry>& expected) {
    const std::uint64_t first = log_->first_index();
    ASSERT_EQ(log_->last_index() + 1 - first, expected.size());
    auto all = log_->entries(first, log_->last_index() + 1);
    ASSERT_OK(all);
    EXPECT_EQ(*all, expected);
    for (const Entry& e : expected) EXPECT_EQ(log_->term_at(e.index), e.term) << e.index;
  }

  // Opens the database under the log directly, bypassing RocksDbRaftLog (the log is closed).
  template <class F>
  void with_raw_db(F&& f) {
    log_.reset();
    rocksdb::DBOptions options;
    const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, {}}, {"log", {}}, {"meta", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    const rocksdb::Status st = rocksdb::DB::Open(options, dir_.string(), families, &handles, &db);
    ASSERT_TRUE(st.ok()) << st.ToString();
    f(*db, handles[1], handles[2]);
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    ASSERT_TRUE(db->Close().ok());
    delete db;
  }

  static std::string key(std::uint64_t index) {
    std::string k(8, '\0');
    for (int i = 7; i >= 0; --i, index >>= 8) k[i] = static_cast<char>(index & 0xff);
    return k;
  }

  stdfs::path root_;
  stdfs::path dir_;
  std::unique_ptr<RocksDbRaftLog> log_;
};

TEST_F(RocksDbRaftLogTest, FreshDirectoryOpensEmpty) {
  EXPECT_EQ(log_->first_index(), 1u);
  EXPECT_EQ(log_->last_index(), 0u);
  EXPECT_EQ(log_->last_log_id(), (LogId{0, 0}));
  EXPECT_EQ(log_->last_purged(), (LogId{0, 0}));
  EXPECT_EQ(log_->hard_state(), HardState{});
  EXPECT_EQ(log_->term_at(0), 0u);
  EXPECT_EQ(log_->term_at(1), std::nullopt);
  auto none = log_->entries(1, 1);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  EXPECT_OK(log_->sync());

  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(log_->first_index(), 1u);
  EXPECT_EQ(log_->last_index(), 0u);
  EXPECT_TRUE(stdfs::is_directory(dir_));
}

TEST_F(RocksDbRaftLogTest, AppendReadAndTermAt) {
  std::vector<Entry> expected = {
      make_entry(1, 1, "", EntryType::noop),
      make_entry(2, 1, std::string("bin\0ary\xff", 8)),
      make_entry(3, 1, "three"),
  };
  ASSERT_OK(log_->append(expected));
  std::vector<Entry> more = {make_entry(4, 2, "", EntryType::noop),
                             make_entry(5, 2, "members", EntryType::config),
                             make_entry(6, 5, std::string(10000, 'x'))};
  ASSERT_OK(log_->append(more));
  expected.insert(expected.end(), more.begin(), more.end());

  EXPECT_EQ(log_->first_index(), 1u);
  EXPECT_EQ(log_->last_index(), 6u);
  EXPECT_EQ(log_->last_log_id(), (LogId{6, 5}));
  EXPECT_EQ(log_->term_at(0), 0u);
  EXPECT_EQ(log_->term_at(3), 1u);
  EXPECT_EQ(log_->term_at(4), 2u);
  EXPECT_EQ(log_->term_at(6), 5u);
  EXPECT_EQ(log_->term_at(7), std::nullopt);
  ASSERT_NO_FATAL_FAILURE(expect_log(expected));

  auto middle = log_->entries(2, 5);
  ASSERT_OK(middle);
  EXPECT_EQ(*middle, std::vector<Entry>(expected.begin() + 1, expected.begin() + 4));
  auto empty = log_->entries(4, 4);
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());

  // Empty appends are no-ops.
  ASSERT_OK(log_->append({}));
  EXPECT_EQ(log_->last_index(), 6u);
}

TEST_F(RocksDbRaftLogTest, EntriesStopsAtMaxBytesButReturnsOne) {
  ASSERT_OK(log_->append(make_entries(1, 10, 1, 100)));
  auto count = [&](std::uint64_t lo, std::uint64_t hi, std::uint64_t max) -> std::size_t {
    auto r = log_->entries(lo, hi, max);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    if (!r.ok()) return 0;
    for (std::size_t i = 0; i < r->size(); ++i) EXPECT_EQ((*r)[i].index, lo + i);
    return r->size();
  };
  EXPECT_EQ(count(1, 11, UINT64_MAX), 10u);
  EXPECT_EQ(count(1, 11, 1000), 10u);
  EXPECT_EQ(count(1, 11, 999), 9u);
  EXPECT_EQ(count(1, 11, 300), 3u);
  EXPECT_EQ(count(1, 11, 299), 2u);
  EXPECT_EQ(count(1, 11, 100), 1u);
  EXPECT_EQ(count(1, 11, 99), 1u);  // always at least one
  EXPECT_EQ(count(1, 11, 0), 1u);
  EXPECT_EQ(count(4, 6, 1000), 2u);  // hi bounds it first
  EXPECT_EQ(count(7, 11, 250), 2u);

  // A first entry larger than max_bytes comes alone.
  ASSERT_OK(log_->append(
      std::vector<Entry>{make_entry(11, 1, std::string(5000, 'b')), make_entry(12, 1, "c")}));
  EXPECT_EQ(count(11, 13, 10), 1u);
  EXPECT_EQ(count(10, 13, 5100), 2u);
  // Empty payloads cost nothing.
  ASSERT_OK(log_->append(
      std::vector<Entry>{make_entry(13, 1, ""), make_entry(14, 1, ""), make_entry(15, 1, "")}));
  EXPECT_EQ(count(13, 16, 0), 3u);
}

TEST_F(RocksDbRaftLogTest, AppendRejectsBadBatchesAndChangesNothing) {
  ASSERT_OK(log_->append(make_entries(1, 5, 2)));
  const std::vector<Entry> before = *log_->entries(1, 6);

  // Not at last_index() + 1: a gap, an overlap, a restart at 1.
  EXPECT_TRUE(FailsWith(log_->append(make_entries(7, 8, 2)), ErrorCode::invalid_argument));
  EXPECT_TRUE(FailsWith(log_->append(make_entries(5, 6, 2)), ErrorCode::invalid_argument));
  EXPECT_TRUE(FailsWith(log_->append(make_entries(1, 1, 2)), ErrorCode::invalid_argument));
  // Not contiguous inside the batch.
  std::vector<Entry> gap = make_entries(6, 8, 2);
  gap[2].index = 9;
  EXPECT_TRUE(FailsWith(log_->append(gap), ErrorCode::invalid_argument));
  std::vector<Entry> repeat = make_entries(6, 7, 2);
  repeat[1].index = 6;
  EXPECT_TRUE(FailsWith(log_->append(repeat), ErrorCode::invalid_argument));
  // Term below the last entry's, or decreasing inside the batch.
  EXPECT_TRUE(FailsWith(log_->append(make_entries(6, 6, 1)), ErrorCode::invalid_argument));
  std::vector<Entry> down = make_entries(6, 8, 3);
  down[2].term = 2;
  EXPECT_TRUE(FailsWith(log_->append(down), ErrorCode::invalid_argument));
  // Unknown entry type.
  std::vector<Entry> odd = make_entries(6, 6, 3);
  odd[0].type = static_cast<EntryType>(7);
  EXPECT_TRUE(FailsWith(log_->append(odd), ErrorCode::invalid_argument));

  EXPECT_EQ(log_->last_log_id(), (LogId{5, 2}));
  EXPECT_EQ(*log_->entries(1, 6), before);
  EXPECT_EQ(log_->term_at(6), std::nullopt);

  // After a purge that emptied the log, last_purged's term is the floor.
  ASSERT_OK(log_->purge_prefix({20, 4}));
  EXPECT_TRUE(FailsWith(log_->append(make_entries(21, 21, 3)), ErrorCode::invalid_argument));
  EXPECT_TRUE(FailsWith(log_->append(make_entries(6, 6, 4)), ErrorCode::invalid_argument));
  ASSERT_OK(log_->append(make_entries(21, 22, 4)));

  ASSERT_OK(log_->sync());
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(log_->last_log_id(), (LogId{22, 4}));
}

TEST_F(RocksDbRaftLogTest, TruncateSuffixThenAppendWithNewTerm) {
  ASSERT_OK(log_->append(make_entries(1, 10, 1)));
  ASSERT_OK(log_->append(make_entries(11, 12, 2)));
  ASSERT_OK(log_->truncate_suffix(6));
  EXPECT_EQ(log_->last_index(), 5u);
  EXPECT_EQ(log_->last_log_id(), (LogId{5, 1}));
  EXPECT_EQ(log_->term_at(6), std::nullopt);
  EXPECT_TRUE(FailsWith(log_->entries(1, 7), ErrorCode::out_of_range));

  // The conflicting suffix is replaced by the new leader's entries (Raft §5.3).
  ASSERT_OK(log_->append(make_entries(6, 8, 3, 50)));
  std::vector<Entry> expected = make_entries(1, 5, 1);
  for (Entry& e : make_entries(6, 8, 3, 50)) expected.push_back(e);
  ASSERT_NO_FATAL_FAILURE(expect_log(expected));
  EXPECT_EQ(log_->last_log_id(), (LogId{8, 3}));

  // Nothing of the old suffix comes back on reopen: the range tombstone and the new puts
  // are replayed in order.
  ASSERT_OK(log_->sync());
  ASSERT_NO_FATAL_FAILURE(reopen());
  ASSERT_NO_FATAL_FAILURE(expect_log(expected));
  EXPECT_EQ(log_->term_at(9), std::nullopt);

  // Truncating everything leaves an empty log that continues where it started.
  ASSERT_OK(log_->truncate_suffix(1));
  EXPECT_EQ(log_->last_index(), 0u);
  EXPECT_EQ(log_->last_log_id(), (LogId{0, 0}));
  ASSERT_OK(log_->append(make_entries(1, 2, 4)));
  ASSERT_OK(log_->sync());
  ASSERT_NO_FATAL_FAILURE(reopen());
  ASSERT_NO_FATAL_FAILURE(expect_log(make_entries(1, 2, 4)));
}

TEST_F(RocksDbRaftLogTest, TruncateSuffixValidation) {
  ASSERT_OK(log_->append(make_entries(1, 10, 1)));
  ASSERT_OK(log_->truncate_suffix(11));  // last_index() + 1: nothing to remove
  EXPECT_EQ(log_->last_index(), 10u);
  EXPECT_TRUE(FailsWith(log_->truncate_suffix(12), ErrorCode::invalid_argument));
  EXPECT_TRUE(FailsWith(log_->truncate_suffix(0), ErrorCode::invalid_argument));

  ASSERT_OK(log_->purge_prefix({4, 1}));
  EXPECT_TRUE(FailsWith(log_->truncate_suffix(4), ErrorCode::invalid_argument));
  EXPECT_TRUE(FailsWith(log_->truncate_suffix(2), ErrorCode::invalid_argument));
  EXPECT_EQ(log_->last_index(), 10u);
  ASSERT_OK(log_->truncate_suffix(5));  // everything after the purged prefix
  EXPECT_EQ(log_->last_index(), 4u);
  EXPECT_EQ(log_->last_log_id(), (LogId{4, 1}));
  EXPECT_TRUE(FailsWith(log_->truncate_suffix(4), ErrorCode::invalid_argument));
}

TEST_F(RocksDbRaftLogTest, PurgePrefixKeepsTheLastPurgedTerm) {
  ASSERT_OK(log_->append(make_entries(1, 4, 1)));
  ASSERT_OK(log_->append(make_entries(5, 10, 2)));
  ASSERT_OK(log_->purge_prefix({6, 2}));
  EXPECT_EQ(log_->first_index(), 7u);
  EXPECT_EQ(log_->last_index(), 10u);
  EXPECT_EQ(log_->last_purged(), (LogId{6, 2}));
  EXPECT_EQ(log_->term_at(6), 2u);  // AppendEntries' check at first_index() needs it (§5.3)
  EXPECT_EQ(log_->term_at(5), std::nullopt);
  EXPECT_EQ(log_->term_at(0), std::nullopt);
  ASSERT_NO_FATAL_FAILURE(expect_log(make_entries(7, 10, 2)));

  // Purge again across a term change, then append on.
  ASSERT_OK(log_->append(make_entries(11, 13, 3)));
  ASSERT_OK(log_->purge_prefix({11, 3}));
  EXPECT_EQ(log_->first_index(), 12u);
  EXPECT_EQ(log_->last_log_id(), (LogId{13, 3}));
  ASSERT_OK(log_->append(make_entries(14, 14, 3)));
  ASSERT_NO_FATAL_FAILURE(expect_log(make_entries(12, 14, 3)));

  ASSERT_OK(log_->sync());
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(log_->last_purged(), (LogId{11, 3}));
  EXPECT_EQ(log_->term_at(11), 3u);
  ASSERT_NO_FATAL_FAILURE(expect_log(make_entries(12, 14, 3)));
}

TEST_F(RocksDbRaftLogTest, PurgePrefixValidation) {
  ASSERT_OK(log_->append(make_entries(1, 10, 2)));
  ASSERT_OK(log_->purge_prefix({5, 2}));
  ASSERT_OK(log_->purge_prefix({5, 2}));  // the same again: a no-op
  EXPECT_TRUE(FailsWith(log_->purge_prefix({4, 2}), ErrorCode::invalid_argument));  // backwards
  EXPECT_TRUE(FailsWith(log_->purge_prefix({5, 3}), ErrorCode::invalid_argument));
  EXPECT_TRUE(FailsWith(log_->purge_prefix({7, 1}), ErrorCode::invalid_argument));  // < last term
  EXPECT_TRUE(FailsWith(log_->purge_prefix({7, 3}), ErrorCode::invalid_argument));  // not the log's
  EXPECT_EQ(log_->last_purged(), (LogId{5, 2}));
  EXPECT_EQ(log_->first_index(), 6u);
  ASSERT_NO_FATAL_FAILURE(expect_log(make_entries(6, 10, 2)));
}

TEST_F(RocksDbRaftLogTest, PurgeBeyondLastIndexEmptiesTheLogAndContinuesAfterIt) {
  ASSERT_OK(log_->append(make_entries(1, 5, 1)));
  // A follower installed a snapshot that ends past its log (Raft §7).
  ASSERT_OK(log_->purge_prefix({20, 3}));
  EXPECT_EQ(log_->first_index(), 21u);
  EXPECT_EQ(log_->last_index(), 20u);
  EXPECT_EQ(log_->last_log_id(), (LogId{20, 3}));
  EXPECT_EQ(log_->term_at(20), 3u);
  EXPECT_EQ(log_->term_at(5), std::nullopt);
  EXPECT_EQ(log_->term_at(21), std::nullopt);
  auto none = log_->entries(21, 21);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(FailsWith(log_->append(make_entries(6, 6, 3)), ErrorCode::invalid_argument));

  ASSERT_OK(log_->sync());
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(log_->first_index(), 21u);
  EXPECT_EQ(log_->last_log_id(), (LogId{20, 3}));

  ASSERT_OK(log_->append(make_entries(21, 23, 3)));
  ASSERT_NO_FATAL_FAILURE(expect_log(make_entries(21, 23, 3)));
  // Purging exactly the last entry also empties the log.
  ASSERT_OK(log_->purge_prefix({23, 3}));
  EXPECT_EQ(log_->first_index(), 24u);
  EXPECT_EQ(log_->last_log_id(), (LogId{23, 3}));
  ASSERT_OK(log_->sync());
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(log_->first_index(), 24u);
  EXPECT_EQ(log_->last_log_id(), (LogId{23, 3}));
}

TEST_F(RocksDbRaftLogTest, RecentEntriesAnswerExactlyAsRocksDbWould) {
  // The same random appends, truncations and purges on a log whose recent entries are held
  // in memory (a small budget, so reads straddle its edge) and on one that reads RocksDB
  // only: every read must agree, max_bytes included.
  RocksDbRaftLogOptions cached;
  cached.recent_entries_bytes = 4 << 10;
  RocksDbRaftLogOptions uncached;
  uncached.recent_entries_bytes = 0;
  ASSERT_NO_FATAL_FAILURE(reopen(cached));
  auto other = RocksDbRaftLog::open(root_ / "uncached", uncached);
  ASSERT_OK(other);
  RocksDbRaftLog& plain = **other;

  std::mt19937_64 rng(7);
  std::uint64_t term = 1;
  for (int step = 0; step < 400; ++step) {
    const auto roll = rng() % 10;
    const std::uint64_t last = log_->last_index();
    if (roll < 6 || last < log_->first_index()) {
      if (rng() % 8 == 0) ++term;
      const std::uint64_t n = 1 + rng() % 20;
      std::vector<Entry> batch;
      for (std::uint64_t i = last + 1; i <= last + n; ++i) {
        batch.push_back(make_entry(i, term, payload_for(i, term, rng() % 300)));
      }
      ASSERT_OK(log_->append(batch));
      ASSERT_OK(plain.append(batch));
    } else if (roll < 8) {
      const std::uint64_t first = log_->first_index();
      const std::uint64_t from = first + rng() % (last - first + 2);
      ASSERT_OK(log_->truncate_suffix(from));
      ASSERT_OK(plain.truncate_suffix(from));
      ++term;  // what replaces them comes from a later leader
    } else {
      const std::uint64_t upto = log_->first_index() + rng() % (last - log_->first_index() + 1);
      const LogId id{upto, *log_->term_at(upto)};
      ASSERT_OK(log_->purge_prefix(id));
      ASSERT_OK(plain.purge_prefix(id));
    }
    ASSERT_EQ(log_->first_index(), plain.first_index());
    ASSERT_EQ(log_->last_index(), plain.last_index());
    if (log_->last_index() < log_->first_index()) continue;
    for (int read = 0; read < 8; ++read) {
      const std::uint64_t first = log_->first_index();
      const std::uint64_t span = log_->last_index() - first + 1;
      const std::uint64_t lo = first + rng() % span;
      const std::uint64_t hi = lo + 1 + rng() % (log_->last_index() - lo + 1);
      const std::uint64_t max_bytes = rng() % 3 == 0 ? UINT64_MAX : rng() % 2000;
      auto a = log_->entries(lo, hi, max_bytes);
      auto b = plain.entries(lo, hi, max_bytes);
      ASSERT_OK(a);
      ASSERT_OK(b);
      ASSERT_EQ(*a, *b) << "step " << step << ": entries [" << lo << ", " << hi << ") max "
                        << max_bytes;
    }
  }
}

TEST_F(RocksDbRaftLogTest, HardStateIsPersisted) {
  ASSERT_OK(log_->save_hard_state({3, 2}));
  EXPECT_EQ(log_->hard_state(), (HardState{3, 2}));
  ASSERT_OK(log_->sync());
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(log_->hard_state(), (HardState{3, 2}));

  ASSERT_OK(log_->save_hard_state({4, 0}));
  ASSERT_OK(log_->save_hard_state({4, 0}));
  ASSERT_OK(log_->save_hard_state({4, 7}));
  EXPECT_EQ(log_->hard_state(), (HardState{4, 7}));
  ASSERT_OK(log_->sync());
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(log_->hard_state(), (HardState{4, 7}));
  EXPECT_EQ(log_->last_index(), 0u);  // the hard state is no entry
}

TEST_F(RocksDbRaftLogTest, ReopenAfterSyncRestoresEverything) {
  // Terms change at uneven intervals (runs of 1 up to hundreds) so reopening has to find
  // every change by bisection.
  std::mt19937_64 rng(42);
  std::vector<Entry> expected;
  std::uint64_t term = 1;
  std::uint64_t index = 1;
  while (index <= 3000) {
    const std::uint64_t run = 1 + rng() % (rng() % 2 ? 3 : 400);
    std::vector<Entry> batch = make_entries(index, index + run - 1, term, rng() % 64);
    ASSERT_OK(log_->append(batch));
    expected.insert(expected.end(), batch.begin(), batch.end());
    index += run;
    term += 1 + rng() % 2;
  }
  ASSERT_OK(log_->truncate_suffix(2900));
  expected.resize(2899);
  ASSERT_OK(log_->append(make_entries(2900, 2950, term)));
  for (Entry& e : make_entries(2900, 2950, term)) expected.push_back(e);
  const LogId purged{123, expected[122].term};
  ASSERT_OK(log_->purge_prefix(purged));
  expected.erase(expected.begin(), expected.begin() + 123);
  ASSERT_OK(log_->save_hard_state({term, 3}));
  ASSERT_OK(log_->sync());

  const LogId last = log_->last_log_id();
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_EQ(log_->last_purged(), purged);
  EXPECT_EQ(log_->first_index(), 124u);
  EXPECT_EQ(log_->last_log_id(), last);
  EXPECT_EQ(log_->hard_state(), (HardState{term, 3}));
  EXPECT_EQ(log_->term_at(123), purged.term);
  ASSERT_NO_FATAL_FAILURE(expect_log(expected));
}

TEST_F(RocksDbRaftLogTest, ReadsSeeUnsyncedWritesAndCloseSyncsThem) {
  ASSERT_OK(log_->append(make_entries(1, 3, 1)));
  ASSERT_OK(log_->save_hard_state({1, 1}));
  ASSERT_NO_FATAL_FAILURE(expect_log(make_entries(1, 3, 1)));
  // No sync(): the destructor syncs and closes.
  ASSERT_NO_FATAL_FAILURE(reopen());
  ASSERT_NO_FATAL_FAILURE(expect_log(make_entries(1, 3, 1)));
  EXPECT_EQ(log_->hard_state(), (HardState{1, 1}));
}

TEST_F(RocksDbRaftLogTest, EntriesRejectsRangesOutsideTheLog) {
  ASSERT_OK(log_->append(make_entries(1, 10, 1)));
  ASSERT_OK(log_->purge_prefix({3, 1}));
  EXPECT_TRUE(FailsWith(log_->entries(3, 5), ErrorCode::out_of_range));  // purged
  EXPECT_TRUE(FailsWith(log_->entries(1, 5), ErrorCode::out_of_range));
  EXPECT_TRUE(FailsWith(log_->entries(0, 0), ErrorCode::out_of_range));
  EXPECT_TRUE(FailsWith(log_->entries(4, 12), ErrorCode::out_of_range));  // past the end
  EXPECT_TRUE(FailsWith(log_->entries(11, 12), ErrorCode::out_of_range));
  EXPECT_TRUE(FailsWith(log_->entries(8, 6), ErrorCode::invalid_argument));
  auto all = log_->entries(4, 11);
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), 7u);
  auto end = log_->entries(11, 11);  // empty range just past the end
  ASSERT_OK(end);
  EXPECT_TRUE(end->empty());
}

TEST_F(RocksDbRaftLogTest, SecondOpenOfTheSameDirectoryFails) {
  auto second = RocksDbRaftLog::open(dir_);
  EXPECT_TRUE(FailsWith(second, ErrorCode::io_error));  // RocksDB's LOCK file
}

TEST_F(RocksDbRaftLogTest, DamagedStoredValueIsCorruptionNamingTheIndex) {
  ASSERT_OK(log_->append(make_entries(1, 5, 1)));
  ASSERT_OK(log_->sync());
  ASSERT_NO_FATAL_FAILURE(with_raw_db([](rocksdb::DB& db, auto* log_cf, auto*) {
    ASSERT_TRUE(db.Put({}, log_cf, key(3), "short").ok());
  }));
  ASSERT_NO_FATAL_FAILURE(reopen());
  auto read = log_->entries(1, 6);
  ASSERT_TRUE(FailsWith(read, ErrorCode::corruption));
  EXPECT_NE(read.error().message.find("entry 3"), std::string::npos) << read.error().message;
  auto before = log_->entries(1, 3);  // the entries before it still read
  ASSERT_OK(before);
  EXPECT_EQ(before->size(), 2u);

  // An unknown type byte.
  ASSERT_NO_FATAL_FAILURE(with_raw_db([](rocksdb::DB& db, auto* log_cf, auto*) {
    ASSERT_TRUE(db.Put({}, log_cf, key(3), std::string(8, '\0') + "\x01\x09" + "x").ok());
  }));
  ASSERT_NO_FATAL_FAILURE(reopen());
  read = log_->entries(2, 4);
  ASSERT_TRUE(FailsWith(read, ErrorCode::corruption));
  EXPECT_NE(read.error().message.find("entry 3"), std::string::npos) << read.error().message;

  // Damage at the last entry is found when opening.
  ASSERT_NO_FATAL_FAILURE(with_raw_db([](rocksdb::DB& db, auto* log_cf, auto*) {
    ASSERT_TRUE(db.Put({}, log_cf, key(5), "x").ok());
  }));
  auto opened = RocksDbRaftLog::open(dir_);
  ASSERT_TRUE(FailsWith(opened, ErrorCode::corruption));
  EXPECT_NE(opened.error().message.find("entry 5"), std::string::npos) << opened.error().message;
}

TEST_F(RocksDbRaftLogTest, MissingEntryIsCorruption) {
  ASSERT_OK(log_->append(make_entries(1, 5, 1)));
  ASSERT_OK(log_->sync());
  ASSERT_NO_FATAL_FAILURE(with_raw_db([](rocksdb::DB& db, auto* log_cf, auto*) {
    ASSERT_TRUE(db.Delete({}, log_cf, key(3)).ok());
  }));
  ASSERT_NO_FATAL_FAILURE(reopen());
  auto read = log_->entries(1, 6);
  ASSERT_TRUE(FailsWith(read, ErrorCode::corruption));
  EXPECT_NE(read.error().message.find("entry 3"), std::string::npos) << read.error().message;

  // A log that does not start right after last_purged does not open.
  ASSERT_NO_FATAL_FAILURE(with_raw_db([](rocksdb::DB& db, auto* log_cf, auto*) {
    ASSERT_TRUE(db.Delete({}, log_cf, key(1)).ok());
  }));
  EXPECT_TRUE(FailsWith(RocksDbRaftLog::open(dir_), ErrorCode::corruption));
}

TEST_F(RocksDbRaftLogTest, ManyPurgesAcrossFlushedFiles) {
  // A small memtable puts most entries in SST files, so purges meet flushed data.
  RocksDbRaftLogOptions small;
  small.write_buffer_size = 64 << 10;
  ASSERT_NO_FATAL_FAILURE(reopen(small));
  std::uint64_t term = 1;
  for (std::uint64_t first = 1; first <= 20000; first += 500) {
    if (first % 3000 == 1) ++term;
    ASSERT_OK(log_->append(make_entries(first, first + 499, term, 120)));
    ASSERT_OK(log_->sync());
    if (first > 2000) {
      const std::uint64_t upto = first - 1500;
      ASSERT_OK(log_->purge_prefix({upto, *log_->term_at(upto)}));
    }
  }
  const LogId last = log_->last_log_id();
  const LogId purged = log_->last_purged();
  auto before = log_->entries(log_->first_index(), log_->last_index() + 1);
  ASSERT_OK(before);
  ASSERT_OK(log_->sync());
  ASSERT_NO_FATAL_FAILURE(reopen(small));
  EXPECT_EQ(log_->last_log_id(), last);
  EXPECT_EQ(log_->last_purged(), purged);
  ASSERT_NO_FATAL_FAILURE(expect_log(*before));
  // Paging with max_bytes walks the whole log.
  std::uint64_t next = log_->first_index();
  while (next <= log_->last_index()) {
    auto page = log_->entries(next, log_->last_index() + 1, 4096);
    ASSERT_OK(page);
    ASSERT_FALSE(page->empty());
    ASSERT_EQ(page->front().index, next);
    next = page->back().index + 1;
  }

  // The purged entries' space comes back: once the background compaction has caught up, no
  // SST file of the log holds only purged entries.
  ASSERT_OK(log_->purge_prefix({19000, *log_->term_at(19000)}));
  log_->wait_for_purge_compaction();
  const std::string first_key = key(log_->first_index());
  std::size_t log_files = 0;
  ASSERT_NO_FATAL_FAILURE(with_raw_db([&](rocksdb::DB& db, auto*, auto*) {
    std::vector<rocksdb::LiveFileMetaData> files;
    db.GetLiveFilesMetaData(&files);
    for (const auto& f : files) {
      if (f.column_family_name != "log") continue;
      ++log_files;
      EXPECT_GE(f.largestkey, first_key) << f.name << " at level " << f.level;
    }
  }));
  EXPECT_GT(log_files, 0u);
}

TEST_F(RocksDbRaftLogTest, WithoutSyncOptionTheLogStillWorks) {
  RocksDbRaftLogOptions no_sync;
  no_sync.sync = false;
  ASSERT_NO_FATAL_FAILURE(reopen(no_sync));
  ASSERT_OK(log_->append(make_entries(1, 100, 1)));
  ASSERT_OK(log_->sync());
  ASSERT_NO_FATAL_FAILURE(reopen(no_sync));
  ASSERT_NO_FATAL_FAILURE(expect_log(make_entries(1, 100, 1)));
}

// --- crash test --------------------------------------------------------------------------
//
// The child (this binary re-executed with --gtest_filter naming the test and
// kCrashChildEnv set) appends, truncates, purges and syncs in a loop and reports on a pipe:
//   "A <i>"  before an append that may leave entries up to i,
//   "S <i>"  after sync() returned with last_index() == i,
//   "P <i>"  before purge_prefix through i,
//   "E <message>" on an error, then it exits.
// Round r writes term 2r+1; every fourth iteration it also appends entries of term 2r+2 and
// truncates them again before syncing, so they can survive a crash but never a sync.

constexpr const char* kCrashChildEnv = "RAFTOR_RAFTLOG_CRASH_CHILD";
constexpr int kCrashRounds = 6;

std::string crash_payload(std::uint64_t index, std::uint64_t term) {
  return payload_for(index, term, (index * 7919 + term * 104729) % 200);
}

RocksDbRaftLogOptions crash_options() {
  RocksDbRaftLogOptions o;
  o.write_buffer_size = 64 << 10;  // memtable switches, flushes and WAL rotation mid-run
  o.block_cache_size = 1 << 20;
  return o;
}

void child_report(int fd, const std::string& line) {
  const std::string out = line + "\n";  // < PIPE_BUF: written atomically
  if (::write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) ::_exit(4);
}

template <class R>
void child_check(int fd, const R& result, const char* what) {
  if (result.ok()) return;
  child_report(fd, std::string("E ") + what + ": " + result.error().to_string());
  ::_exit(3);
}

[[noreturn]] void run_crash_child(const std::string& spec) {
  std::istringstream in(spec);
  int fd = -1;
  std::uint64_t round = 0;
  std::string dir;
  in >> fd >> round;
  std::getline(in >> std::ws, dir);

  auto opened = RocksDbRaftLog::open(dir, crash_options());
  child_check(fd, opened, "open");
  RocksDbRaftLog& log = **opened;
  const std::uint64_t term = 2 * round + 1;
  child_check(fd, log.save_hard_state({term, 1}), "save_hard_state");

  std::mt19937_64 rng(round);
  std::vector<Entry> batch;
  for (std::uint64_t iter = 0; iter < 1'000'000; ++iter) {
    // A large first batch reaches a memtable flush early in every round.
    const std::uint64_t n = iter == 0 ? 600 : 1 + rng() % 32;
    const std::uint64_t first = log.last_index() + 1;
    const std::uint64_t last = first + n - 1;
    batch.clear();
    for (std::uint64_t i = first; i <= last; ++i) {
      batch.push_back(make_entry(i, term, crash_payload(i, term)));
    }
    child_report(fd, "A " + std::to_string(last));
    child_check(fd, log.append(batch), "append");

    if (iter % 4 == 3) {
      const std::uint64_t m = 1 + rng() % 3;
      batch.clear();
      for (std::uint64_t i = last + 1; i <= last + m; ++i) {
        batch.push_back(make_entry(i, term + 1, crash_payload(i, term + 1)));
      }
      child_report(fd, "A " + std::to_string(last + m));
      child_check(fd, log.append(batch), "append of the doomed suffix");
      child_check(fd, log.truncate_suffix(last + 1), "truncate_suffix");
    }

    child_check(fd, log.sync(), "sync");
    child_report(fd, "S " + std::to_string(log.last_index()));

    if (iter % 8 == 7 && last > 400 && last - 400 > log.last_purged().index) {
      const std::uint64_t upto = last - 400;
      child_report(fd, "P " + std::to_string(upto));
      child_check(fd, log.purge_prefix({upto, *log.term_at(upto)}), "purge_prefix");
    }
  }
  child_report(fd, "E the child was never killed");
  ::_exit(5);
}

class RocksDbRaftLogCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* spec = std::getenv(kCrashChildEnv)) run_crash_child(spec);
    root_ = make_temp_dir();
    ASSERT_FALSE(root_.empty());
  }
  void TearDown() override {
    std::error_code ec;
    if (!root_.empty()) stdfs::remove_all(root_, ec);
  }
  stdfs::path root_;
};

struct ChildReport {
  std::uint64_t max_appended = 0;   // "A": no entry beyond this may exist
  std::uint64_t max_synced = 0;     // "S": every entry up to this must exist
  std::uint64_t durable_purge = 0;  // the last "P" before the last "S"
  std::vector<std::uint64_t> purges;
  std::vector<std::string> errors;
  bool synced = false;
};

// Parses complete lines out of `buffer`, leaving a partial last line in it.
void parse_reports(std::string& buffer, ChildReport& report) {
  std::size_t start = 0;
  for (std::size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
    const std::string line = buffer.substr(start, nl - start);
    if (line.size() < 2) continue;
    if (line[0] == 'E') {
      report.errors.push_back(line.substr(2));
      continue;
    }
    const std::uint64_t value = std::stoull(line.substr(2));
    switch (line[0]) {
      case 'A': report.max_appended = std::max(report.max_appended, value); break;
      case 'S':
        report.max_synced = std::max(report.max_synced, value);
        report.synced = true;
        if (!report.purges.empty()) report.durable_purge = report.purges.back();
        break;
      case 'P': report.purges.push_back(value); break;
      default: report.errors.push_back("unknown report: " + line);
    }
  }
  buffer.erase(0, start);
}

TEST_F(RocksDbRaftLogCrashTest, SigkillKeepsEverySyncedEntry) {
  std::uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("RAFTOR_RAFTLOG_CRASH_SEED")) seed = std::stoull(s);
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE("RAFTOR_RAFTLOG_CRASH_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);

  const stdfs::path dir = root_ / "log";
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string filter =
      std::string("--gtest_filter=") + info->test_suite_name() + "." + info->name();

  std::vector<std::uint64_t> known_term = {0};  // index -> term, for entries already verified
  LogId known_purged;
  std::uint64_t start = 1;  // where the next child appends

  for (int round = 0; round < kCrashRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::uint64_t term = 2 * static_cast<std::uint64_t>(round) + 1;

    int fds[2];
    ASSERT_EQ(::pipe(fds), 0) << std::strerror(errno);
    ASSERT_EQ(::fcntl(fds[0], F_SETFD, FD_CLOEXEC), 0);

    // Everything the child needs is built before fork(): between fork and exec only
    // async-signal-safe calls are allowed (the parent has RocksDB and gtest threads).
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, "GTEST_", 6) != 0) env_strings.emplace_back(*e);  // no XML output
    }
    env_strings.push_back(std::string(kCrashChildEnv) + "=" + std::to_string(fds[1]) + " " +
                          std::to_string(round) + " " + dir.string());
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe";
    std::string filter_arg = filter;
    std::vector<char*> argv = {exe.data(), filter_arg.data(), nullptr};

    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0) << std::strerror(errno);
    if (pid == 0) {
      const int null_fd = ::open("/dev/null", O_WRONLY);
      if (null_fd >= 0) ::dup2(null_fd, STDOUT_FILENO);  // the child's gtest chatter
      ::execve(exe.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(fds[1]);

    // Read reports until the first sync, then for a random delay, then kill.
    ChildReport report;
    std::string buffer;
    bool eof = false;
    auto read_some = [&](int timeout_ms) {
      pollfd p{fds[0], POLLIN, 0};
      const int ready = ::poll(&p, 1, timeout_ms);
      if (ready <= 0) return;
      char chunk[4096];
      const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
      if (n <= 0) {
        eof = n == 0 || errno != EINTR;
        return;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
      parse_reports(buffer, report);
    };
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!report.synced && !eof && std::chrono::steady_clock::now() < give_up) read_some(100);
    const auto delay = std::chrono::milliseconds(rng() % 60);
    const auto kill_at = std::chrono::steady_clock::now() + delay;
    while (!eof && std::chrono::steady_clock::now() < kill_at) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          kill_at - std::chrono::steady_clock::now());
      read_some(static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    }
    ::kill(pid, SIGKILL);
    while (!eof) read_some(1000);
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);

    for (const std::string& e : report.errors) ADD_FAILURE() << "child: " << e;
    ASSERT_TRUE(report.errors.empty());
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child ended on its own, status " << status;
    ASSERT_TRUE(report.synced) << "the child never synced";
    SCOPED_TRACE("killed after " + std::to_string(delay.count()) + " ms; synced through " +
                 std::to_string(report.max_synced) + ", appended through " +
                 std::to_string(report.max_appended));

    // Recover and check.
    auto opened = RocksDbRaftLog::open(dir, crash_options());
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    RocksDbRaftLog& log = **opened;

    EXPECT_EQ(log.hard_state(), (HardState{term, 1}));  // saved before the first sync

    // last_purged: one the child asked for (or the earlier one), at least the durable one.
    const LogId purged = log.last_purged();
    std::set<std::uint64_t> allowed(report.purges.begin(), report.purges.end());
    allowed.insert(known_purged.index);
    EXPECT_TRUE(allowed.count(purged.index)) << "last_purged " << purged.index;
    EXPECT_GE(purged.index, report.durable_purge);
    EXPECT_GE(purged.index, known_purged.index);
    EXPECT_EQ(log.first_index(), purged.index + 1);

    // Synced entries survive; nothing beyond what was appended appears.
    EXPECT_GE(log.last_index(), report.max_synced);
    EXPECT_LE(log.last_index(), std::max(report.max_appended, start - 1));

    // Contiguous (entries() fails on a hole), each entry the one written at that index.
    auto all = log.entries(log.first_index(), log.last_index() + 1);
    ASSERT_TRUE(all.ok()) << all.error().to_string();
    ASSERT_EQ(all->size(), log.last_index() + 1 - log.first_index());
    auto expected_term = [&](std::uint64_t index) -> std::uint64_t {
      return index < start ? known_term.at(index) : term;
    };
    if (purged.index > 0) {
      EXPECT_EQ(purged.term, expected_term(purged.index));
    }
    std::uint64_t prev_term = purged.term;
    for (const Entry& e : *all) {
      ASSERT_GE(e.term, prev_term) << "terms decrease at " << e.index;
      prev_term = e.term;
      EXPECT_EQ(e.type, EntryType::normal);
      EXPECT_EQ(e.payload, crash_payload(e.index, e.term)) << e.index;
      EXPECT_EQ(log.term_at(e.index), e.term);
      if (e.index < start || e.index <= report.max_synced) {
        ASSERT_EQ(e.term, expected_term(e.index)) << "entry " << e.index;
      } else {
        ASSERT_TRUE(e.term == term || e.term == term + 1) << "entry " << e.index;
      }
    }

    // What survived is the next round's starting point.
    known_term.resize(log.last_index() + 1, 0);
    for (const Entry& e : *all) known_term[e.index] = e.term;
    if (purged.index > 0) known_term[purged.index] = purged.term;
    known_purged = purged;
    start = log.last_index() + 1;
  }
}

}  // namespace
}  // namespace raftor
