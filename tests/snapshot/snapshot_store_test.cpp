#include "raftor/snapshot/snapshot_store.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "raftor/snapshot/checksum.hpp"
#include "raftor/storage/command.hpp"
#include "raftor/storage/fs_util.hpp"
#include "raftor/storage/memory_state_machine.hpp"
#include "raftor/storage/proto_convert.hpp"

namespace raftor::snapshot {
namespace {

namespace stdfs = std::filesystem;

class SnapshotStoreTest : public ::testing::Test {
 protected:
  stdfs::path dir_ = stdfs::path(::testing::TempDir()) /
                     ("store-" + std::string(::testing::UnitTest::GetInstance()
                                                 ->current_test_info()
                                                 ->name()));
  const Membership membership_{{1, 2, 3}, {4}};

  void SetUp() override { stdfs::remove_all(dir_); }
  void TearDown() override { stdfs::remove_all(dir_); }

  std::unique_ptr<SnapshotStore> open(SnapshotStoreOptions options = {}) {
    auto store = SnapshotStore::open(dir_, options);
    EXPECT_TRUE(store.ok()) << store.error().to_string();
    return std::move(store).value();
  }

  static void write(const stdfs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }

  // What generate_snapshot_data would report for a file of `bytes` at `temp`.
  static GeneratedSnapshot generate(const stdfs::path& temp, LogId last,
                                    const std::string& bytes) {
    write(temp, bytes);
    return {last, checksum_of(bytes), bytes.size()};
  }

  SnapshotMetadata commit(SnapshotStore& store, LogId last, const std::string& bytes = "state") {
    const auto temp = store.temp_path();
    auto committed = store.commit(temp, generate(temp, last, bytes), membership_);
    EXPECT_TRUE(committed.ok()) << committed.error().to_string();
    return *committed;
  }

  std::set<std::string> files() const {
    std::set<std::string> out;
    for (const auto& e : stdfs::directory_iterator(dir_)) out.insert(e.path().filename().string());
    return out;
  }
};

TEST_F(SnapshotStoreTest, FreshDirectoryIsCreatedEmpty) {
  auto store = open();
  EXPECT_TRUE(stdfs::is_directory(dir_));
  EXPECT_FALSE(store->latest());
  EXPECT_TRUE(store->list().empty());
}

TEST_F(SnapshotStoreTest, CommitNamesFilesByIndexAndTermAndSurvivesReopen) {
  auto store = open();
  const auto meta = commit(*store, {42, 7}, "some state");
  EXPECT_EQ(meta.last_included, (LogId{42, 7}));
  EXPECT_EQ(meta.membership, membership_);
  EXPECT_EQ(meta.size, 10u);
  EXPECT_EQ(meta.checksum, checksum_of("some state"));
  EXPECT_EQ(files(), (std::set<std::string>{"snapshot-00000000000000000042-7.data",
                                            "snapshot-00000000000000000042-7.meta"}));
  EXPECT_EQ(store->data_path({42, 7}), dir_ / "snapshot-00000000000000000042-7.data");
  ASSERT_TRUE(store->latest());
  EXPECT_EQ(*store->latest(), meta);

  store.reset();
  auto reopened = open();
  ASSERT_TRUE(reopened->latest());
  EXPECT_EQ(*reopened->latest(), meta);
}

TEST_F(SnapshotStoreTest, KeepsTheNewestKAndDeletesOlderOnes) {
  auto store = open({.keep = 2});
  for (std::uint64_t i = 1; i <= 5; ++i) commit(*store, {i * 100, 1}, "state " + std::to_string(i));
  auto list = store->list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].last_included.index, 400u);
  EXPECT_EQ(list[1].last_included.index, 500u);
  EXPECT_EQ(files().size(), 4u) << "two snapshots: a data and a meta file each";
  EXPECT_FALSE(stdfs::exists(store->data_path({300, 1})));

  // Opening with a smaller keep prunes too; keep 0 still keeps one.
  store.reset();
  auto one = open({.keep = 0});
  ASSERT_EQ(one->list().size(), 1u);
  EXPECT_EQ(one->latest()->last_included.index, 500u);
  EXPECT_EQ(files().size(), 2u);
}

TEST_F(SnapshotStoreTest, SameIndexAgainKeepsTheDurableSnapshot) {
  auto store = open();
  const auto first = commit(*store, {10, 2}, "first");
  const auto temp = store->temp_path();
  auto again = store->commit(temp, generate(temp, {10, 2}, "second"), membership_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, first);
  EXPECT_FALSE(stdfs::exists(temp));
  EXPECT_EQ(files().size(), 2u);
}

TEST_F(SnapshotStoreTest, RefusesASnapshotOlderThanTheNewest) {
  auto store = open();
  commit(*store, {10, 2});
  const auto temp = store->temp_path();
  auto older = store->commit(temp, generate(temp, {5, 1}, "old"), membership_);
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(store->latest()->last_included.index, 10u);
  store->discard(temp);
  EXPECT_FALSE(stdfs::exists(temp));
}

TEST_F(SnapshotStoreTest, RefusesAFileWhoseSizeIsNotTheMetadatas) {
  auto store = open();
  const auto temp = store->temp_path();
  auto generated = generate(temp, {10, 2}, "state");
  generated.size += 1;
  auto r = store->commit(temp, generated, membership_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::corruption);
  EXPECT_FALSE(store->latest());
}

TEST_F(SnapshotStoreTest, OpenRemovesLeftoversOfInterruptedGenerations) {
  {
    auto store = open();
    commit(*store, {100, 3}, "good state");
  }
  auto meta_of = [&](LogId id, const std::string& bytes) {
    return serialize(SnapshotMetadata{id, membership_, checksum_of(bytes), bytes.size()});
  };
  const auto name = [](std::uint64_t index, std::uint64_t term, const char* ext) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "snapshot-%020llu-%llu.%s",
                  static_cast<unsigned long long>(index), static_cast<unsigned long long>(term),
                  ext);
    return std::string(buf);
  };
  // A generation cut short before its rename, and a metadata write cut short.
  write(dir_ / "snapshot-generating-0.tmp", "partial");
  write(dir_ / (name(300, 3, "meta") + ".tmp"), "partial");
  // Renamed but no metadata yet (newer than the good one: it must not become latest).
  write(dir_ / name(200, 3, "data"), "no meta");
  // Metadata whose data is missing.
  write(dir_ / name(90, 3, "meta"), meta_of({90, 3}, "gone"));
  // Data damaged after commit: same size, other bytes.
  write(dir_ / name(80, 3, "data"), "bad state!");
  write(dir_ / name(80, 3, "meta"), meta_of({80, 3}, "bad_state!"));
  // Truncated data.
  write(dir_ / name(70, 3, "data"), "short");
  write(dir_ / name(70, 3, "meta"), meta_of({70, 3}, "short and long"));
  // Metadata that does not parse, and metadata naming another entry.
  write(dir_ / name(60, 3, "data"), "x");
  write(dir_ / name(60, 3, "meta"), "\xff\xff\xff not a protobuf");
  write(dir_ / name(50, 3, "data"), "y");
  write(dir_ / name(50, 3, "meta"), meta_of({51, 3}, "y"));
  // Not the store's: left alone.
  write(dir_ / "README", "hello");

  auto store = open({.keep = 10});
  ASSERT_EQ(store->list().size(), 1u);
  EXPECT_EQ(store->latest()->last_included, (LogId{100, 3}));
  EXPECT_EQ(files(), (std::set<std::string>{name(100, 3, "data"), name(100, 3, "meta"), "README"}));
}

TEST_F(SnapshotStoreTest, ChecksumVerificationCanBeSkippedButSizeIsAlwaysChecked) {
  {
    auto store = open();
    commit(*store, {100, 3}, "good state");
  }
  write(dir_ / "snapshot-00000000000000000100-3.data", "GOOD STATE");  // same size
  EXPECT_EQ(open({.verify_checksums = false})->list().size(), 1u);
  EXPECT_TRUE(open({.verify_checksums = true})->list().empty());
}

TEST_F(SnapshotStoreTest, TempPathsAreFreshAndInTheStore) {
  auto store = open();
  const auto a = store->temp_path();
  const auto b = store->temp_path();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.parent_path(), dir_);
}

// The store with a real state machine: generate into a temp path, commit, install the
// committed file into another state machine.
TEST_F(SnapshotStoreTest, HoldsStateMachineSnapshotsThatInstallElsewhere) {
  MemoryStateMachine source;
  ASSERT_TRUE(source.start().ok());
  std::vector<Entry> chunk;
  for (std::uint64_t i = 1; i <= 50; ++i) {
    chunk.push_back({i, 1, EntryType::normal, command::put("k" + std::to_string(i), "v")});
  }
  source.apply_chunk(std::move(chunk),
                     [](Result<std::vector<ApplyResult>> r) { ASSERT_TRUE(r.ok()); });

  auto store = open();
  const auto temp = store->temp_path();
  auto generated = source.generate_snapshot_data(temp);
  ASSERT_TRUE(generated.ok()) << generated.error().to_string();
  auto meta = store->commit(temp, *generated, membership_);
  ASSERT_TRUE(meta.ok()) << meta.error().to_string();
  EXPECT_EQ(meta->last_included, (LogId{50, 1}));

  MemoryStateMachine target;
  ASSERT_TRUE(target.start().ok());
  ASSERT_TRUE(target.apply_snapshot_from_file(*meta, store->data_path(meta->last_included)).ok());
  EXPECT_EQ(target.len(), 50u);
  EXPECT_EQ(target.last_applied(), (LogId{50, 1}));
}

}  // namespace
}  // namespace raftor::snapshot
