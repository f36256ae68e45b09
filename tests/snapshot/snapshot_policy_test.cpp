#include "raftor/snapshot/snapshot_policy.hpp"

#include <gtest/gtest.h>

namespace raftor::snapshot {
namespace {

using namespace std::chrono_literals;

SnapshotProgress progress(std::uint64_t entries, std::uint64_t bytes = 0,
                          std::chrono::milliseconds elapsed = 0ms) {
  return {entries, bytes, elapsed};
}

TEST(SnapshotPolicyTest, DefaultsAreOn) {
  const SnapshotPolicy policy;
  EXPECT_EQ(policy.max_entries, 10'000u);
  EXPECT_EQ(policy.max_log_bytes, 64u << 20);
  EXPECT_FALSE(should_snapshot(policy, progress(9'999, 1 << 20, 1s)));
  EXPECT_TRUE(should_snapshot(policy, progress(10'000)));
}

TEST(SnapshotPolicyTest, EachTriggerFiresOnItsOwn) {
  const SnapshotPolicy policy{100, 1000, 10s};
  EXPECT_EQ(snapshot_trigger(policy, progress(99, 999, 9s)), SnapshotTrigger::none);
  EXPECT_EQ(snapshot_trigger(policy, progress(100, 0, 0ms)), SnapshotTrigger::entries);
  EXPECT_EQ(snapshot_trigger(policy, progress(1, 1000, 0ms)), SnapshotTrigger::log_bytes);
  EXPECT_EQ(snapshot_trigger(policy, progress(1, 0, 10s)), SnapshotTrigger::interval);
  // Several at once: the first in the documented order.
  EXPECT_EQ(snapshot_trigger(policy, progress(500, 5000, 1h)), SnapshotTrigger::entries);
}

TEST(SnapshotPolicyTest, ZeroTurnsATriggerOff) {
  const SnapshotPolicy policy{0, 0, 0ms};
  EXPECT_FALSE(should_snapshot(policy, progress(1'000'000, 1ull << 40, 24h)));
  const SnapshotPolicy bytes_only{0, 1000, 0ms};
  EXPECT_FALSE(should_snapshot(bytes_only, progress(1'000'000, 999, 24h)));
  EXPECT_TRUE(should_snapshot(bytes_only, progress(1, 1000)));
}

TEST(SnapshotPolicyTest, NothingAppliedMeansNoSnapshot) {
  // An unchanged state needs no new snapshot, however long ago the last one was.
  const SnapshotPolicy policy{1, 1, 1ms};
  EXPECT_FALSE(should_snapshot(policy, progress(0, 0, 24h)));
}

TEST(SnapshotPolicyTest, TriggerNames) {
  EXPECT_EQ(to_string(SnapshotTrigger::entries), "entries");
  EXPECT_EQ(to_string(SnapshotTrigger::log_bytes), "log bytes");
  EXPECT_EQ(to_string(SnapshotTrigger::interval), "interval");
  EXPECT_EQ(to_string(SnapshotTrigger::none), "none");
}

}  // namespace
}  // namespace raftor::snapshot
