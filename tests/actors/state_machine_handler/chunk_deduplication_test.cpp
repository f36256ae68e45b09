// ChunkDeduplication: duplicates become noops before apply_chunk, and their results the
// original outcomes after it; a failed chunk records nothing.
#include "raftor/actors/state_machine_handler/chunk_deduplication.hpp"

#include <gtest/gtest.h>

#include <map>

#include "raftor/storage/command.hpp"

namespace raftor {
namespace {

Entry put(std::uint64_t index, std::string value, RequestId id, std::uint64_t term = 3) {
  return {index, term, EntryType::normal, command::put("k", value, id)};
}

// What a state machine reports for `chunk`: `applied` unless told otherwise.
std::vector<ApplyResult> results_for(const std::vector<Entry>& chunk,
                                     std::map<std::uint64_t, ApplyOutcome> special = {}) {
  std::vector<ApplyResult> out;
  for (const Entry& e : chunk) {
    auto it = special.find(e.index);
    out.push_back({e.index, it == special.end() ? ApplyOutcome::applied : it->second});
  }
  return out;
}

TEST(ChunkDeduplicationTest, DuplicateBecomesANoopOfTheSameIndexAndTerm) {
  ClientSessions sessions;
  std::vector<Entry> chunk{put(1, "a", {7, 1}), put(2, "b", {7, 2}), put(3, "a", {7, 1}, 4)};
  ChunkDeduplication dedup(chunk, sessions);
  EXPECT_EQ(dedup.duplicates(), 1u);
  EXPECT_EQ(chunk[0].type, EntryType::normal);
  EXPECT_EQ(chunk[1].type, EntryType::normal);
  EXPECT_EQ(chunk[2].type, EntryType::noop);
  EXPECT_EQ(chunk[2].index, 3u);
  EXPECT_EQ(chunk[2].term, 4u);
  EXPECT_TRUE(chunk[2].payload.empty());
  auto results = results_for(chunk);
  dedup.complete(results);
  EXPECT_EQ(results[2].outcome, ApplyOutcome::already_applied) << "stale: older than seq 2";
}

TEST(ChunkDeduplicationTest, RepeatInTheSameChunkReportsTheOriginalsResult) {
  ClientSessions sessions;
  std::vector<Entry> chunk{
      {1, 1, EntryType::normal, command::cas("k", "x", "y", {9, 1})},
      {2, 1, EntryType::normal, command::cas("k", "x", "y", {9, 1})},
  };
  ChunkDeduplication dedup(chunk, sessions);
  EXPECT_EQ(chunk[1].type, EntryType::noop);
  auto results = results_for(chunk, {{1, ApplyOutcome::cas_mismatch}});
  dedup.complete(results);
  EXPECT_EQ(results[0].outcome, ApplyOutcome::cas_mismatch);
  EXPECT_EQ(results[1].outcome, ApplyOutcome::cas_mismatch);
}

TEST(ChunkDeduplicationTest, RepeatInALaterChunkReportsTheRecordedOutcome) {
  ClientSessions sessions;
  std::vector<Entry> first{{1, 1, EntryType::normal, command::cas("k", "x", "y", {9, 1})}};
  ChunkDeduplication dedup_first(first, sessions);
  auto first_results = results_for(first, {{1, ApplyOutcome::cas_mismatch}});
  dedup_first.complete(first_results);

  std::vector<Entry> second{{2, 1, EntryType::normal, command::cas("k", "x", "y", {9, 1})},
                            put(3, "z", {}), put(4, "w", {9, 2})};
  ChunkDeduplication dedup_second(second, sessions);
  EXPECT_EQ(second[0].type, EntryType::noop);
  EXPECT_EQ(second[1].type, EntryType::normal) << "no client id: never deduplicated";
  EXPECT_EQ(second[2].type, EntryType::normal);
  auto results = results_for(second);
  dedup_second.complete(results);
  EXPECT_EQ(results[0].outcome, ApplyOutcome::cas_mismatch);
  EXPECT_EQ(results[1].outcome, ApplyOutcome::applied);
  EXPECT_EQ(results[2].outcome, ApplyOutcome::applied);
  EXPECT_EQ(sessions.latest_sequence(9), 2u);
}

TEST(ChunkDeduplicationTest, ConfigNoopAndMalformedEntriesPassThrough) {
  ClientSessions sessions;
  std::vector<Entry> chunk{
      {1, 1, EntryType::config, "membership bytes"},
      {2, 1, EntryType::noop, ""},
      {3, 1, EntryType::normal, std::string("\xff\xfe garbage", 10)},
  };
  const auto before = chunk;
  ChunkDeduplication dedup(chunk, sessions);
  EXPECT_EQ(chunk, before) << "the state machine reports the malformed entry itself";
  auto results = results_for(chunk);
  dedup.complete(results);
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(ChunkDeduplicationTest, AbandonedChunkRecordsNothing) {
  ClientSessions sessions;
  std::vector<Entry> chunk{put(1, "a", {7, 1}), put(2, "b", {8, 1})};
  ChunkDeduplication dedup(chunk, sessions);
  dedup.abandon();
  EXPECT_EQ(sessions.size(), 0u);
  // Applied again (after a restart, say), they are fresh.
  std::vector<Entry> again{put(1, "a", {7, 1}), put(2, "b", {8, 1})};
  ChunkDeduplication retry(again, sessions);
  EXPECT_EQ(retry.duplicates(), 0u);
}

}  // namespace
}  // namespace raftor
