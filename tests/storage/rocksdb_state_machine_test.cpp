// RocksDbStateMachine beyond the StateMachineTestSuite: the RocksDB behaviour its design
// rests on (range tombstones in ingested SSTs), snapshot files left untouched by install,
// snapshots taken while applying, MultiGet order, exact len, reopen after install.
#include "raftor/storage/rocksdb_state_machine.hpp"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include "raftor/snapshot/checksum.hpp"
#include "raftor/storage/command.hpp"

namespace raftor {
namespace {

namespace stdfs = std::filesystem;

Entry put(std::uint64_t index, std::string_view key, std::string_view value,
          std::uint64_t term = 1) {
  return {index, term, EntryType::normal, command::put(key, value)};
}
Entry del(std::uint64_t index, std::string_view key) {
  return {index, 1, EntryType::normal, command::del(key)};
}
Entry cas(std::uint64_t index, std::string_view key, std::optional<std::string_view> expected,
          std::string_view value) {
  return {index, 1, EntryType::normal, command::cas(key, expected, value)};
}

Result<std::vector<ApplyResult>> apply_sync(StateMachine& sm, std::vector<Entry> chunk) {
  std::optional<Result<std::vector<ApplyResult>>> out;
  sm.apply_chunk(std::move(chunk),
                 [&](Result<std::vector<ApplyResult>> r) { out.emplace(std::move(r)); });
  EXPECT_TRUE(out.has_value()) << "done must run inline";
  if (!out) return make_error(ErrorCode::internal, "apply_chunk did not complete inline");
  return std::move(*out);
}

void apply_ok(StateMachine& sm, std::vector<Entry> chunk) {
  auto r = apply_sync(sm, std::move(chunk));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
}

std::optional<std::string> get(const StateMachine& sm, std::string_view key) {
  auto r = sm.get(key);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? *r : std::nullopt;
}

SnapshotMetadata snapshot_of(StateMachine& sm, const stdfs::path& path) {
  auto g = sm.generate_snapshot_data(path);
  EXPECT_TRUE(g.ok()) << g.error().to_string();
  if (!g.ok()) return {};
  return {g->last_included, {{1, 2, 3}, {}}, g->checksum, g->size};
}

std::string read_file(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const stdfs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

class RocksDbStateMachineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = stdfs::temp_directory_path() /
            ("raftor-rocksdb-sm-" + std::to_string(::getpid()) + "-" + info->name());
    stdfs::remove_all(root_);
    stdfs::create_directories(root_);
  }
  void TearDown() override { stdfs::remove_all(root_); }

  std::unique_ptr<RocksDbStateMachine> open(const std::string& name = "sm",
                                            RocksDbStateMachineOptions options = {}) {
    auto sm = std::make_unique<RocksDbStateMachine>(root_ / name, options);
    auto s = sm->start();
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return sm;
  }
  stdfs::path path(const std::string& name) const { return root_ / name; }

  stdfs::path root_;
};

// The install scheme depends on this RocksDB behaviour: a range tombstone in an ingested
// SST deletes the older keys it covers, but not the point keys of the same file (they
// share the file's sequence number, and a tombstone covers only strictly older ones), in
// the memtable, in flushed files, after compaction and after reopen.
TEST_F(RocksDbStateMachineTest, IngestedRangeTombstoneSparesPointKeysOfItsOwnFile) {
  rocksdb::Options options;
  options.create_if_missing = true;
  const std::string db_path = path("raw-db").string();
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, db_path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  ASSERT_TRUE(db->Put(wo, "ka", "old-a").ok());
  ASSERT_TRUE(db->Put(wo, "kb", "old-b").ok());
  ASSERT_TRUE(db->Flush(rocksdb::FlushOptions()).ok());  // some old keys in an SST
  ASSERT_TRUE(db->Put(wo, "kc", "old-c").ok());          // some in the memtable
  ASSERT_TRUE(db->Put(wo, "kd", "old-d").ok());
  ASSERT_TRUE(db->Put(wo, "z", "outside").ok());

  const std::string sst = path("ingest.sst").string();
  {
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options);
    ASSERT_TRUE(writer.Open(sst).ok());
    ASSERT_TRUE(writer.DeleteRange("k", "l").ok());
    ASSERT_TRUE(writer.Put("kb", "new-b").ok());  // overwrites a flushed key
    ASSERT_TRUE(writer.Put("kd", "new-d").ok());  // overwrites a memtable key
    ASSERT_TRUE(writer.Put("ke", "new-e").ok());  // a new key
    ASSERT_TRUE(writer.Finish().ok());
  }
  rocksdb::IngestExternalFileOptions ingest;
  ingest.write_global_seqno = false;
  ASSERT_TRUE(db->IngestExternalFile({sst}, ingest).ok());

  auto expect_state = [&](const char* when) {
    const std::map<std::string, std::optional<std::string>> expected{
        {"ka", std::nullopt}, {"kb", "new-b"}, {"kc", std::nullopt},
        {"kd", "new-d"},      {"ke", "new-e"}, {"z", "outside"}};
    for (const auto& [key, value] : expected) {
      std::string got;
      const auto s = db->Get(rocksdb::ReadOptions(), key, &got);
      if (value) {
        EXPECT_TRUE(s.ok()) << when << ": " << key << ": " << s.ToString();
        EXPECT_EQ(got, *value) << when << ": " << key;
      } else {
        EXPECT_TRUE(s.IsNotFound()) << when << ": " << key << " survived the tombstone";
      }
    }
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    std::vector<std::string> keys;
    for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
    EXPECT_EQ(keys, (std::vector<std::string>{"kb", "kd", "ke", "z"})) << when;
  };
  expect_state("after ingestion");
  ASSERT_TRUE(db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr).ok());
  expect_state("after compaction");
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  ASSERT_TRUE(rocksdb::DB::Open(options, db_path, &raw).ok());
  db.reset(raw);
  expect_state("after reopen");
  ASSERT_TRUE(db->Close().ok());
}

TEST_F(RocksDbStateMachineTest, NotRunningBeforeStartAndAfterStop) {
  RocksDbStateMachine sm(path("sm"));
  EXPECT_FALSE(sm.is_running());
  EXPECT_EQ(sm.get("a").error().code, ErrorCode::not_running);
  EXPECT_EQ(sm.flush().error().code, ErrorCode::not_running);
  EXPECT_EQ(apply_sync(sm, {put(1, "a", "1")}).error().code, ErrorCode::not_running);
  EXPECT_EQ(sm.generate_snapshot_data(path("snap")).error().code, ErrorCode::not_running);
  ASSERT_TRUE(sm.start().ok());
  ASSERT_TRUE(sm.start().ok()) << "start twice is harmless";
  apply_ok(sm, {put(1, "a", "1")});
  ASSERT_TRUE(sm.stop().ok());
  EXPECT_EQ(sm.reset().error().code, ErrorCode::not_running);
  EXPECT_EQ(sm.len(), 0u);
  ASSERT_TRUE(sm.start().ok()) << "restart after stop";
  EXPECT_EQ(get(sm, "a"), "1");
  EXPECT_EQ(sm.last_applied(), (LogId{1, 1}));
}

TEST_F(RocksDbStateMachineTest, CasSeesEarlierWritesOfTheSameChunk) {
  auto sm = open();
  auto r = apply_sync(*sm, {put(1, "a", "1"), cas(2, "a", "1", "2"), cas(3, "a", "1", "3"),
                            del(4, "a"), cas(5, "a", std::nullopt, "5"), cas(6, "b", "x", "y")});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  std::vector<ApplyOutcome> outcomes;
  for (const auto& x : *r) outcomes.push_back(x.outcome);
  EXPECT_EQ(outcomes,
            (std::vector<ApplyOutcome>{ApplyOutcome::applied, ApplyOutcome::applied,
                                       ApplyOutcome::cas_mismatch, ApplyOutcome::applied,
                                       ApplyOutcome::applied, ApplyOutcome::cas_mismatch}));
  EXPECT_EQ(get(*sm, "a"), "5");
  EXPECT_EQ(get(*sm, "b"), std::nullopt);

  // Keys the chunk has not written are read from the DB, before and after the chunk's
  // first CAS (which starts tracking the chunk's writes).
  r = apply_sync(
      *sm, {cas(7, "a", "5", "7"), put(8, "c", "8"), cas(9, "a", "5", "x"), cas(10, "c", "8", "10"),
            del(11, "c"), cas(12, "c", std::nullopt, "12"), cas(13, "a", "7", "13")});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  outcomes.clear();
  for (const auto& x : *r) outcomes.push_back(x.outcome);
  EXPECT_EQ(outcomes, (std::vector<ApplyOutcome>{ApplyOutcome::applied, ApplyOutcome::applied,
                                                 ApplyOutcome::cas_mismatch, ApplyOutcome::applied,
                                                 ApplyOutcome::applied, ApplyOutcome::applied,
                                                 ApplyOutcome::applied}));
  EXPECT_EQ(get(*sm, "a"), "13");
  EXPECT_EQ(get(*sm, "c"), "12");
  // The next chunk starts with no tracked writes.
  r = apply_sync(*sm, {cas(14, "c", "12", "14"), cas(15, "a", "7", "no")});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ((*r)[0].outcome, ApplyOutcome::applied);
  EXPECT_EQ((*r)[1].outcome, ApplyOutcome::cas_mismatch);
}

TEST_F(RocksDbStateMachineTest, MalformedEntryLeavesNoPartialWrite) {
  auto sm = open();
  apply_ok(*sm, {put(1, "a", "1")});
  auto r =
      apply_sync(*sm, {put(2, "a", "2"), put(3, "b", "3"), {4, 1, EntryType::normal, "\xff\xff"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::malformed_entry);
  EXPECT_NE(r.error().message.find('4'), std::string::npos) << r.error().message;
  EXPECT_EQ(get(*sm, "a"), "1");
  EXPECT_EQ(get(*sm, "b"), std::nullopt);
  EXPECT_EQ(sm->last_applied(), (LogId{1, 1}));
  // The reused batch holds nothing of the failed chunk.
  apply_ok(*sm, {put(2, "c", "3")});
  EXPECT_EQ(get(*sm, "a"), "1");
  EXPECT_EQ(get(*sm, "b"), std::nullopt);
  EXPECT_EQ(sm->len(), 2u);
}

TEST_F(RocksDbStateMachineTest, GetMultiKeepsInputOrder) {
  auto sm = open();
  apply_ok(*sm, {put(1, "b", "vb"), put(2, "a", "va"), put(3, "z", "vz"), put(4, "", "empty")});
  const std::vector<std::string> keys{"z", "missing", "a", "b", "a", "", "zz"};
  auto r = sm->get_multi(keys);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, (std::vector<std::optional<std::string>>{"vz", std::nullopt, "va", "vb", "va",
                                                         "empty", std::nullopt}));
  auto none = sm->get_multi({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(RocksDbStateMachineTest, LenIsExactAcrossOverwritesDeletesSnapshotAndReset) {
  auto sm = open();
  EXPECT_TRUE(sm->is_empty());
  apply_ok(*sm, {put(1, "a", "1"), put(2, "b", "1"), put(3, "a", "2"), put(4, "c", "1")});
  EXPECT_EQ(sm->len(), 3u);
  apply_ok(*sm, {del(5, "missing"), del(6, "b"), del(7, "b"), cas(8, "d", std::nullopt, "1"),
                 cas(9, "e", "x", "1")});
  EXPECT_EQ(sm->len(), 3u);  // a, c, d
  ASSERT_TRUE(sm->flush().ok());

  const auto meta = snapshot_of(*sm, path("snap"));  // {a, c, d}
  apply_ok(*sm, {put(10, "f", "1"), put(11, "g", "1"), del(12, "a")});
  EXPECT_EQ(sm->len(), 4u);  // c, d, f, g
  ASSERT_TRUE(sm->apply_snapshot_from_file(meta, path("snap")).ok());
  EXPECT_EQ(sm->len(), 3u);
  EXPECT_EQ(get(*sm, "a"), "2");
  EXPECT_EQ(get(*sm, "f"), std::nullopt);

  apply_ok(*sm, {put(10, "h", "1"), put(11, "a", "3")});
  EXPECT_EQ(sm->len(), 4u);
  ASSERT_TRUE(sm->reset().ok());
  EXPECT_EQ(sm->len(), 0u);
  EXPECT_TRUE(sm->is_empty());
  apply_ok(*sm, {put(1, "a", "1")});
  EXPECT_EQ(sm->len(), 1u);
}

TEST_F(RocksDbStateMachineTest, SnapshotFileIsUnchangedByInstallAndCanBeInstalledAgain) {
  auto leader = open("leader");
  std::vector<Entry> chunk;
  for (std::uint64_t i = 1; i <= 500; ++i) chunk.push_back(put(i, "key" + std::to_string(i), "v"));
  apply_ok(*leader, std::move(chunk));
  const auto meta = snapshot_of(*leader, path("snap"));
  EXPECT_EQ(meta.last_included, (LogId{500, 1}));
  EXPECT_EQ(meta.size, stdfs::file_size(path("snap")));
  const std::string before = read_file(path("snap"));

  for (const char* name : {"f1", "f2"}) {
    auto follower = open(name);
    apply_ok(*follower, {put(1, "stale", "x")});
    ASSERT_TRUE(follower->flush().ok());
    auto s = follower->apply_snapshot_from_file(meta, path("snap"));
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    EXPECT_EQ(follower->len(), 500u);
    EXPECT_EQ(get(*follower, "stale"), std::nullopt);
    ASSERT_TRUE(stdfs::exists(path("snap"))) << "install must not consume the file";
    EXPECT_EQ(read_file(path("snap")), before) << "install modified the snapshot file";
    EXPECT_TRUE(snapshot::verify_file_checksum(path("snap"), meta.checksum).ok());
  }
  // The leader can install its own file too (a follower that became leader, say).
  ASSERT_TRUE(leader->apply_snapshot_from_file(meta, path("snap")).ok());
  EXPECT_EQ(read_file(path("snap")), before);
}

TEST_F(RocksDbStateMachineTest, DamagedOrMismatchedSnapshotsAreRefusedAndStateUntouched) {
  auto sm = open();
  apply_ok(*sm, {put(1, "a", "1"), put(2, "b", "2")});
  const auto meta = snapshot_of(*sm, path("snap"));
  const std::string pristine = read_file(path("snap"));
  apply_ok(*sm, {put(3, "c", "3")});

  auto expect_refused = [&](const SnapshotMetadata& m, const stdfs::path& p, ErrorCode code,
                            const std::string& what) {
    auto s = sm->apply_snapshot_from_file(m, p);
    ASSERT_FALSE(s.ok()) << what << " was accepted";
    EXPECT_EQ(s.error().code, code) << what << ": " << s.error().to_string();
    EXPECT_EQ(sm->len(), 3u) << what;
    EXPECT_EQ(get(*sm, "c"), "3") << what;
    EXPECT_EQ(sm->last_applied(), (LogId{3, 1})) << what;
    EXPECT_EQ(sm->snapshot_metadata(), std::nullopt) << what;
  };

  write_file(path("snap"), pristine.substr(0, pristine.size() / 2));
  expect_refused(meta, path("snap"), ErrorCode::checksum_mismatch, "a truncated file");
  std::string flipped = pristine;
  flipped[flipped.size() / 3] ^= 0x20;
  write_file(path("snap"), flipped);
  expect_refused(meta, path("snap"), ErrorCode::checksum_mismatch, "a flipped byte");
  write_file(path("snap"), pristine);

  // The right checksum, but metadata naming another entry than the file holds.
  SnapshotMetadata other = meta;
  other.last_included = {7, 3};
  expect_refused(other, path("snap"), ErrorCode::corruption, "a last_included mismatch");

  // A file whose checksum matches but that is no snapshot of ours.
  write_file(path("garbage"), "this is not an SST file at all");
  SnapshotMetadata garbage = meta;
  garbage.checksum = snapshot::checksum_file(path("garbage")).value();
  expect_refused(garbage, path("garbage"), ErrorCode::corruption, "a non-SST file");

  // An SST without the tombstone and marker: it would merge, not replace.
  {
    rocksdb::SstFileWriter writer{rocksdb::EnvOptions(), rocksdb::Options()};
    ASSERT_TRUE(writer.Open(path("foreign.sst").string()).ok());
    ASSERT_TRUE(writer.Put("kx", "y").ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  SnapshotMetadata foreign = meta;
  foreign.checksum = snapshot::checksum_file(path("foreign.sst")).value();
  expect_refused(foreign, path("foreign.sst"), ErrorCode::corruption, "a foreign SST");

  ASSERT_TRUE(sm->apply_snapshot_from_file(meta, path("snap")).ok());
  EXPECT_EQ(sm->len(), 2u);
}

// generate_snapshot_data works from a RocksDB snapshot: apply keeps running on another
// thread while the file is written, and the file holds exactly the state at last_included.
TEST_F(RocksDbStateMachineTest, ApplyContinuesWhileSnapshotIsGenerated) {
  auto sm = open();
  constexpr std::uint64_t kChunk = 1000;
  constexpr std::uint64_t kCycle = 997;  // overwritten keys: key "c<i % kCycle>" = i
  const std::string filler(100, 'x');
  // Entry i writes "u<i>" (unique) and, for odd i, overwrites "c<i % kCycle>"; every 10th
  // entry deletes the unique key of entry i - 5.
  auto entry = [&](std::uint64_t i) -> Entry {
    if (i % 10 == 0) return del(i, "u" + std::to_string(i - 5));
    if (i % 2 == 1) return put(i, "c" + std::to_string(i % kCycle), std::to_string(i));
    return put(i, "u" + std::to_string(i), filler);
  };
  std::uint64_t next = 1;
  auto next_chunk = [&] {
    std::vector<Entry> chunk;
    for (std::uint64_t j = 0; j < kChunk; ++j) chunk.push_back(entry(next++));
    return chunk;
  };
  for (int c = 0; c < 200; ++c) apply_ok(*sm, next_chunk());  // 200K entries to copy

  std::atomic<bool> generating{false};
  std::atomic<bool> stop{false};
  std::atomic<int> chunks_during_generation{0};
  std::thread applier([&] {
    while (!stop.load()) {
      const bool during = generating.load();
      auto r = apply_sync(*sm, next_chunk());
      ASSERT_TRUE(r.ok()) << r.error().to_string();
      if (during && generating.load()) chunks_during_generation.fetch_add(1);
    }
  });
  while (sm->last_applied().index < 210 * kChunk) std::this_thread::yield();
  generating = true;
  const auto meta = snapshot_of(*sm, path("snap"));
  generating = false;
  stop = true;
  applier.join();
  EXPECT_GT(chunks_during_generation.load(), 0) << "apply was blocked by snapshot generation";
  const std::uint64_t last = meta.last_included.index;
  EXPECT_EQ(last % kChunk, 0u) << "a snapshot ends between chunks";
  EXPECT_GT(sm->last_applied().index, last);

  // Install into a fresh state machine and compare with the model of entries 1..last.
  std::map<std::string, std::string> model;
  for (std::uint64_t i = 1; i <= last; ++i) {
    if (i % 10 == 0) {
      model.erase("u" + std::to_string(i - 5));
    } else if (i % 2 == 1) {
      model["c" + std::to_string(i % kCycle)] = std::to_string(i);
    } else {
      model["u" + std::to_string(i)] = filler;
    }
  }
  auto probe = open("probe");
  auto s = probe->apply_snapshot_from_file(meta, path("snap"));
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(probe->last_applied(), meta.last_included);
  EXPECT_EQ(probe->len(), model.size());
  for (std::uint64_t j = 0; j < kCycle; ++j) {
    const std::string key = "c" + std::to_string(j);
    auto it = model.find(key);
    ASSERT_EQ(get(*probe, key), it == model.end() ? std::nullopt : std::optional(it->second))
        << key;
  }
  // The first entries after the snapshot are not in it.
  EXPECT_EQ(get(*probe, "u" + std::to_string(last + 2)), std::nullopt);
  EXPECT_EQ(get(*probe, "u" + std::to_string(last - 2)), filler);
}

TEST_F(RocksDbStateMachineTest, ReopenAfterSnapshotInstall) {
  SnapshotMetadata meta;
  {
    auto leader = open("leader");
    apply_ok(*leader, {put(1, "a", "1"), put(2, "b", "2", 2), put(3, "c", "3", 2)});
    meta = snapshot_of(*leader, path("snap"));
  }
  {
    auto follower = open("follower");
    apply_ok(*follower, {put(1, "old", "x"), put(2, "b", "old")});
    ASSERT_TRUE(follower->apply_snapshot_from_file(meta, path("snap")).ok());
    apply_ok(*follower, {put(4, "d", "4", 2)});
    // Destructor: stop() syncs the WAL.
  }
  for (int round = 0; round < 2; ++round) {
    auto follower = open("follower");
    EXPECT_EQ(follower->last_applied(), (LogId{4 + std::uint64_t(round), 2}));
    EXPECT_EQ(follower->snapshot_metadata(), meta);
    EXPECT_EQ(follower->entry_term(3), 2u);
    EXPECT_EQ(get(*follower, "old"), std::nullopt);
    EXPECT_EQ(get(*follower, "b"), "2");
    EXPECT_EQ(get(*follower, "d"), "4");
    EXPECT_EQ(follower->len(), 4u + round);
    apply_ok(*follower, {put(5 + round, "e" + std::to_string(round), "x", 2)});
    ASSERT_TRUE(follower->stop().ok());
  }
}

TEST_F(RocksDbStateMachineTest, ResetIsDurable) {
  {
    auto sm = open();
    apply_ok(*sm, {put(1, "a", "1")});
    const auto meta = snapshot_of(*sm, path("snap"));
    ASSERT_TRUE(sm->persist_last_snapshot_metadata(meta).ok());
    ASSERT_TRUE(sm->reset().ok());
  }
  auto sm = open();
  EXPECT_EQ(sm->len(), 0u);
  EXPECT_EQ(sm->last_applied(), LogId{});
  EXPECT_EQ(sm->snapshot_metadata(), std::nullopt);
  EXPECT_EQ(get(*sm, "a"), std::nullopt);
}

// Ad-hoc throughput numbers (the Google Benchmark targets are the reference):
//   --gtest_also_run_disabled_tests --gtest_filter='*Throughput*'
TEST_F(RocksDbStateMachineTest, DISABLED_Throughput) {
  using Clock = std::chrono::steady_clock;
  RocksDbStateMachineOptions options;
  if (const char* mb = std::getenv("RAFTOR_TP_WRITE_BUFFER_MB")) {
    options.write_buffer_size = std::strtoull(mb, nullptr, 10) << 20;
  }
  options.compress_snapshots = std::getenv("RAFTOR_TP_COMPRESS") != nullptr;
  auto sm = open("sm", options);
  const std::string value(100, 'v');
  constexpr std::uint64_t kChunk = 1000;
  const char* entries_env = std::getenv("RAFTOR_TP_ENTRIES");
  const std::uint64_t kEntries = entries_env ? std::strtoull(entries_env, nullptr, 10) : 1'000'000;
  const char* seq_env = std::getenv("RAFTOR_TP_SEQUENTIAL");
  const bool sequential = seq_env != nullptr && *seq_env != 0;
  std::vector<std::vector<Entry>> chunks;
  for (std::uint64_t i = 1; i <= kEntries; i += kChunk) {
    std::vector<Entry> chunk;
    for (std::uint64_t j = i; j < i + kChunk; ++j) {
      char key[32];
      std::snprintf(key, sizeof key, "key%012llu",
                    static_cast<unsigned long long>(sequential ? j : j * 7919 % kEntries));
      chunk.push_back(put(j, key, value));
    }
    chunks.push_back(std::move(chunk));
  }
  auto thread_cpu = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
  };
  auto process_cpu = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
  };
  auto t0 = Clock::now();
  const double cpu0 = thread_cpu();
  const double pcpu0 = process_cpu();
  for (auto& chunk : chunks) apply_ok(*sm, std::move(chunk));
  ASSERT_TRUE(sm->flush().ok());
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = thread_cpu() - cpu0;
  const double pcpu = process_cpu() - pcpu0;
  std::printf(
      "apply (%s keys): %llu entries in %.3f s = %.0f entries/s (CPU time: applying "
      "thread %.3f s = %.0f entries/s, whole process %.3f s)\n",
      sequential ? "sequential" : "random", static_cast<unsigned long long>(kEntries), secs,
      kEntries / secs, cpu, kEntries / cpu, pcpu);
  if (std::getenv("RAFTOR_TP_APPLY_ONLY") != nullptr) return;

  t0 = Clock::now();
  double c0 = thread_cpu();
  const std::size_t n = sm->len();
  secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("len: %zu keys in %.3f s (CPU %.3f s)\n", n, secs, thread_cpu() - c0);

  ASSERT_TRUE(sm->flush().ok());
  t0 = Clock::now();
  c0 = thread_cpu();
  double p0 = process_cpu();
  const auto meta = snapshot_of(*sm, path("snap"));
  secs = std::chrono::duration<double>(Clock::now() - t0).count();
  double c = thread_cpu() - c0;
  const double payload_mb = static_cast<double>(n) * (value.size() + 16) / 1e6;
  std::printf(
      "generate: %.1f MB file (%.1f MB of keys+values) in %.3f s = %.0f MB/s "
      "(CPU: calling thread %.3f s, whole process %.3f s)\n",
      meta.size / 1e6, payload_mb, secs, payload_mb / secs, c, process_cpu() - p0);

  auto other = open("other");
  t0 = Clock::now();
  c0 = thread_cpu();
  ASSERT_TRUE(other->apply_snapshot_from_file(meta, path("snap")).ok());
  secs = std::chrono::duration<double>(Clock::now() - t0).count();
  c = thread_cpu() - c0;
  std::printf("install: %.3f s = %.0f MB/s (CPU %.3f s)\n", secs, meta.size / 1e6 / secs, c);

  // The same from the installed copy: one SST, no memtable (a compacted state).
  t0 = Clock::now();
  c0 = thread_cpu();
  const auto again = snapshot_of(*other, path("snap2"));
  secs = std::chrono::duration<double>(Clock::now() - t0).count();
  c = thread_cpu() - c0;
  std::printf("generate from one SST: %.3f s = %.0f MB/s (CPU %.3f s)\n", secs, payload_mb / secs,
              c);
  EXPECT_EQ(again.size, meta.size);
  EXPECT_EQ(other->len(), n);
}

}  // namespace
}  // namespace raftor
