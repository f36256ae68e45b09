// RecentEntries: what it holds mirrors the log's tail through appends, truncations, purges
// and its byte budget, and reads follow raft_log.hpp's max_bytes rule.
#include "raftor/storage/recent_entries.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace raftor {
namespace {

std::vector<Entry> make_entries(std::uint64_t first, std::uint64_t last, std::size_t size = 10) {
  std::vector<Entry> out;
  for (std::uint64_t i = first; i <= last; ++i) {
    out.push_back({i, 1 + i / 10, EntryType::normal, std::string(size, static_cast<char>('a' + i % 26))});
  }
  return out;
}

std::vector<std::uint64_t> indexes(const std::optional<std::vector<Entry>>& entries) {
  std::vector<std::uint64_t> out;
  if (entries) {
    for (const Entry& e : *entries) out.push_back(e.index);
  }
  return out;
}

TEST(RecentEntries, ReadsWhatWasAppendedAndMissesWhatItDoesNotHold) {
  RecentEntries recent(1 << 20);
  EXPECT_FALSE(recent.read(1, 2, UINT64_MAX));
  const auto appended = make_entries(5, 20);
  recent.append(appended);
  auto all = recent.read(5, 21, UINT64_MAX);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, appended);
  EXPECT_EQ(indexes(recent.read(7, 9, UINT64_MAX)), (std::vector<std::uint64_t>{7, 8}));
  EXPECT_FALSE(recent.read(4, 9, UINT64_MAX));    // starts below the window
  EXPECT_FALSE(recent.read(10, 22, UINT64_MAX));  // ends past the newest entry
  EXPECT_FALSE(recent.read(9, 9, UINT64_MAX));    // empty: the log answers that itself
}

TEST(RecentEntries, MaxBytesStopsBeforeTheEntryThatWouldPassItButKeepsOne) {
  RecentEntries recent(1 << 20);
  recent.append(make_entries(1, 10, 100));
  EXPECT_EQ(recent.read(1, 11, 250)->size(), 2u);   // 200 fits, 300 would not
  EXPECT_EQ(recent.read(1, 11, 300)->size(), 3u);   // exactly at the limit
  EXPECT_EQ(recent.read(1, 11, 0)->size(), 1u);     // always one
  EXPECT_EQ(recent.read(3, 11, 50)->size(), 1u);
}

TEST(RecentEntries, TruncationAndPurgeFollowTheLog) {
  RecentEntries recent(1 << 20);
  recent.append(make_entries(1, 10));
  recent.truncate_from(8);  // a new leader's entries replace 8..10
  EXPECT_FALSE(recent.read(7, 9, UINT64_MAX));
  auto replaced = make_entries(8, 12, 3);
  for (Entry& e : replaced) e.term = 9;
  recent.append(replaced);
  EXPECT_EQ(*recent.read(8, 13, UINT64_MAX), replaced);
  EXPECT_EQ(recent.read(7, 8, UINT64_MAX)->front().term, 1u);

  recent.purge_through(4);
  EXPECT_FALSE(recent.read(4, 6, UINT64_MAX));
  EXPECT_EQ(indexes(recent.read(5, 7, UINT64_MAX)), (std::vector<std::uint64_t>{5, 6}));
  recent.purge_through(100);  // a snapshot past the whole log
  EXPECT_EQ(recent.size(), 0u);
  EXPECT_EQ(recent.bytes(), 0u);
}

TEST(RecentEntries, AGapRestartsTheWindow) {
  RecentEntries recent(1 << 20);
  recent.append(make_entries(1, 5));
  recent.append(make_entries(9, 10));  // not after 5: only 9..10 can be vouched for
  EXPECT_FALSE(recent.read(5, 6, UINT64_MAX));
  EXPECT_EQ(indexes(recent.read(9, 11, UINT64_MAX)), (std::vector<std::uint64_t>{9, 10}));
}

TEST(RecentEntries, TheOldestGoWhenTheBudgetIsPassed) {
  const std::size_t per_entry = sizeof(Entry) + 100;
  RecentEntries recent(10 * per_entry);
  recent.append(make_entries(1, 25, 100));
  EXPECT_EQ(recent.size(), 10u);
  EXPECT_LE(recent.bytes(), 10 * per_entry);
  EXPECT_FALSE(recent.read(15, 16, UINT64_MAX));
  EXPECT_EQ(indexes(recent.read(16, 18, UINT64_MAX)), (std::vector<std::uint64_t>{16, 17}));

  RecentEntries off(0);
  off.append(make_entries(1, 3));
  EXPECT_EQ(off.size(), 0u);
  EXPECT_FALSE(off.read(1, 2, UINT64_MAX));
}

}  // namespace
}  // namespace raftor
