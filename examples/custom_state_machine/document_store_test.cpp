// The whole StateMachineTestSuite against the document store, plus what it adds.
#include <gtest/gtest.h>

#include <fstream>

#include <raftor/storage/command.hpp>
#include <raftor/tests/state_machine_suite/state_machine_test_suite.hpp>

#include "document_store.hpp"

RAFTOR_STATE_MACHINE_SUITE(DocumentStore, {
    .build = [](const std::filesystem::path& dir) {
      return std::make_unique<docstore::DocumentStore>(dir);
    },
})

RAFTOR_STATE_MACHINE_PERF_SUITE(DocumentStore, {
    .build = [](const std::filesystem::path& dir) {
      return std::make_unique<docstore::DocumentStore>(dir);
    },
})

namespace {

raftor::Entry put(std::uint64_t index, std::string_view id, std::string_view body) {
  return {index, 1, raftor::EntryType::normal, raftor::command::put(id, body)};
}

void apply(docstore::DocumentStore& store, std::vector<raftor::Entry> chunk) {
  bool called = false;
  store.apply_chunk(std::move(chunk), [&](auto result) {
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    called = true;
  });
  ASSERT_TRUE(called);
}

class DocumentStoreTest : public ::testing::Test {
 protected:
  std::filesystem::path dir_ = std::filesystem::path(::testing::TempDir()) / "docstore-test";
  void SetUp() override { std::filesystem::remove_all(dir_); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
};

TEST_F(DocumentStoreTest, RevisionsCountEveryWriteAndSurviveRestart) {
  {
    docstore::DocumentStore store(dir_);
    ASSERT_TRUE(store.start().ok());
    apply(store, {put(1, "users/ada", "{\"lang\":\"c++\"}"), put(2, "users/ada", "{\"lang\":\"raft\"}"),
                  put(3, "users/bob", "{}"), put(4, "orders/1", "{}")});
    EXPECT_EQ(store.revision("users/ada"), 2u);
    EXPECT_EQ(store.revision("users/bob"), 1u);
    EXPECT_EQ(store.revision("users/eve"), std::nullopt);
    EXPECT_EQ(store.count_in_collection("users"), 2u);
    EXPECT_EQ(store.count_in_collection("orders"), 1u);
    EXPECT_EQ(store.count_in_collection("user"), 0u);
  }
  docstore::DocumentStore store(dir_);
  ASSERT_TRUE(store.start().ok());
  EXPECT_EQ(store.revision("users/ada"), 2u);
  EXPECT_EQ(store.get("users/ada").value(), "{\"lang\":\"raft\"}");
  EXPECT_EQ(store.last_applied(), (raftor::LogId{4, 1}));
}

TEST_F(DocumentStoreTest, CorruptCheckpointIsRefusedAtStart) {
  {
    docstore::DocumentStore store(dir_);
    ASSERT_TRUE(store.start().ok());
    apply(store, {put(1, "a/b", "c")});
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(30);
    f.put('X');
  }
  docstore::DocumentStore store(dir_);
  auto started = store.start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, raftor::ErrorCode::checksum_mismatch) << started.error().to_string();
}

}  // namespace
