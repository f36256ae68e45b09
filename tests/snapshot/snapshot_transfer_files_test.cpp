// The two ends of a snapshot transfer on disk: OutgoingSnapshot reads a stored snapshot in
// chunks (and keeps reading it after the store pruned it); IncomingSnapshot assembles
// chunks in order, refuses damaged ones and commits only a file matching its checksum.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "raftor/snapshot/checksum.hpp"
#include "raftor/snapshot/incoming_snapshot.hpp"
#include "raftor/snapshot/outgoing_snapshot.hpp"
#include "raftor/snapshot/snapshot_store.hpp"

namespace raftor::snapshot {
namespace {

namespace stdfs = std::filesystem;

class SnapshotTransferFilesTest : public ::testing::Test {
 protected:
  stdfs::path dir_ = stdfs::path(::testing::TempDir()) /
                     ("transfer-" + std::string(::testing::UnitTest::GetInstance()
                                                    ->current_test_info()
                                                    ->name()));
  void SetUp() override { stdfs::remove_all(dir_); }
  void TearDown() override { stdfs::remove_all(dir_); }

  std::unique_ptr<SnapshotStore> open_store(std::size_t keep = 2) {
    auto store = SnapshotStore::open(dir_, {.keep = keep});
    EXPECT_TRUE(store.ok());
    return std::move(store).value();
  }

  static std::string random_bytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string out(n, '\0');
    for (auto& c : out) c = static_cast<char>(rng());
    return out;
  }

  // Commits `bytes` as the snapshot at `index` into `store`.
  static SnapshotMetadata store_snapshot(SnapshotStore& store, std::uint64_t index,
                                         const std::string& bytes) {
    const auto temp = store.temp_path();
    std::ofstream(temp, std::ios::binary) << bytes;
    SnapshotMetadata meta{{index, 2}, {{1, 2, 3}, {}}, checksum_of(bytes), bytes.size()};
    auto committed = store.commit(temp, meta);
    EXPECT_TRUE(committed.ok());
    return meta;
  }

  static std::string read_all(const stdfs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

TEST_F(SnapshotTransferFilesTest, ChunksRoundTripIntoTheReceiversStore) {
  auto sender_store = open_store();
  const std::string bytes = random_bytes(300'000, 1);
  const auto meta = store_snapshot(*sender_store, 50, bytes);
  auto out = OutgoingSnapshot::open(sender_store->data_path(meta.last_included), meta);
  ASSERT_TRUE(out.ok()) << out.error().to_string();

  const auto receiver_dir = dir_ / "receiver";
  auto receiver_store = SnapshotStore::open(receiver_dir).value();
  auto in = IncomingSnapshot::begin(*receiver_store, meta);
  ASSERT_TRUE(in.ok());
  std::string chunk;
  for (std::uint64_t offset = 0; offset < meta.size; offset += chunk.size()) {
    ASSERT_TRUE(out->read(offset, 64 << 10, chunk).ok());
    auto verdict = (*in)->accept(offset, chunk, chunk_checksum(chunk));
    ASSERT_TRUE(verdict.ok());
    EXPECT_EQ(*verdict, ChunkVerdict::accepted);
  }
  ASSERT_TRUE((*in)->complete());
  auto stored = (*in)->finish();
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  EXPECT_EQ(receiver_store->latest(), meta);
  EXPECT_EQ(read_all(receiver_store->data_path(meta.last_included)), bytes);
}

TEST_F(SnapshotTransferFilesTest, OutOfOrderAndCorruptChunksAreRefusedWithTheOffsetWanted) {
  auto store = open_store();
  const std::string bytes = random_bytes(1000, 2);
  SnapshotMetadata meta{{9, 1}, {}, checksum_of(bytes), bytes.size()};
  auto in = IncomingSnapshot::begin(*store, meta).value();
  const std::string_view first(bytes.data(), 400);
  const std::string_view second(bytes.data() + 400, 600);
  EXPECT_EQ(*in->accept(400, second, chunk_checksum(second)), ChunkVerdict::out_of_order);
  std::string damaged(first);
  damaged[3] ^= 1;
  EXPECT_EQ(*in->accept(0, damaged, chunk_checksum(first)), ChunkVerdict::corrupt);
  EXPECT_EQ(in->next_offset(), 0u);
  EXPECT_EQ(*in->accept(0, first, chunk_checksum(first)), ChunkVerdict::accepted);
  EXPECT_EQ(*in->accept(0, first, chunk_checksum(first)), ChunkVerdict::out_of_order);  // a dup
  EXPECT_EQ(in->next_offset(), 400u);
  EXPECT_EQ(*in->accept(400, second, chunk_checksum(second)), ChunkVerdict::accepted);
  EXPECT_TRUE(in->complete());
  EXPECT_TRUE(in->finish().ok());
}

TEST_F(SnapshotTransferFilesTest, WholeFileNotMatchingItsChecksumIsRefusedAndLeavesNothing) {
  auto store = open_store();
  const std::string bytes = random_bytes(5000, 3);
  SnapshotMetadata meta{{9, 1}, {}, checksum_of(bytes), bytes.size()};
  std::string wrong = bytes;
  wrong[4000] ^= 0x10;  // damaged before its chunk checksum was computed
  {
    auto in = IncomingSnapshot::begin(*store, meta).value();
    ASSERT_EQ(*in->accept(0, wrong, chunk_checksum(wrong)), ChunkVerdict::accepted);
    auto stored = in->finish();
    ASSERT_FALSE(stored.ok());
    EXPECT_EQ(stored.error().code, ErrorCode::checksum_mismatch);
  }
  EXPECT_FALSE(store->latest().has_value());
  for (const auto& entry : stdfs::directory_iterator(dir_)) {
    ADD_FAILURE() << "left behind: " << entry.path();
  }
}

TEST_F(SnapshotTransferFilesTest, AbandonedTransferRemovesItsTemporaryFile) {
  auto store = open_store();
  const std::string bytes = random_bytes(5000, 4);
  {
    auto in = IncomingSnapshot::begin(*store, {{9, 1}, {}, checksum_of(bytes), bytes.size()}).value();
    ASSERT_TRUE(in->accept(0, std::string_view(bytes).substr(0, 100),
                           chunk_checksum(std::string_view(bytes).substr(0, 100)))
                    .ok());
  }
  EXPECT_TRUE(stdfs::is_empty(dir_));
}

TEST_F(SnapshotTransferFilesTest, SenderKeepsReadingASnapshotTheStorePruned) {
  auto store = open_store(/*keep=*/1);
  const std::string bytes = random_bytes(10'000, 5);
  const auto meta = store_snapshot(*store, 10, bytes);
  auto out = OutgoingSnapshot::open(store->data_path(meta.last_included), meta);
  ASSERT_TRUE(out.ok());
  store_snapshot(*store, 20, random_bytes(100, 6));  // prunes the one being sent
  ASSERT_FALSE(stdfs::exists(store->data_path(meta.last_included)));
  std::string chunk;
  ASSERT_TRUE(out->read(0, bytes.size(), chunk).ok());
  EXPECT_EQ(chunk, bytes);
  EXPECT_FALSE(out->read(bytes.size() + 1, 10, chunk).ok());
}

TEST_F(SnapshotTransferFilesTest, SenderRefusesAFileOfTheWrongSize) {
  auto store = open_store();
  auto meta = store_snapshot(*store, 10, random_bytes(1000, 7));
  meta.size = 999;
  auto out = OutgoingSnapshot::open(store->data_path(meta.last_included), meta);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::corruption);
}

}  // namespace
}  // namespace raftor::snapshot
