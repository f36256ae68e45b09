// Exactly-once client writes end to end (Raft thesis §6.3): a request retried with the same
// client id and sequence is applied once on every node, and its reply reports the first
// attempt's outcome. Each case is built so that applying the retry again would change the
// state or the reply.
#include <gtest/gtest.h>

#include <thread>

#include "../raft/local_cluster_test.hpp"
#include "raftor/tests/support/eventually.hpp"
#include "raftor/storage/command.hpp"

namespace raftor::testing {
namespace {

using namespace std::chrono_literals;

class ExactlyOnceTest : public LocalClusterTest {
 protected:
  // `key`'s value on node `id` once it applied up to `index` ("<absent>" / "<no answer>").
  static std::string value_after(LocalCluster& c, NodeId id, const std::string& key,
                                 std::uint64_t index, std::chrono::milliseconds timeout = 10s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (c.status(id).applied >= index) {
        auto r = c.read(id, {key}, ReadConsistency::eventual);
        if (!r.ok) return "<no answer>";
        return r.found.at(0) ? r.values.at(0) : "<absent>";
      }
      std::this_thread::sleep_for(10ms);
    }
    return "<no answer>";
  }

  // Client 7's `first` (seq 1) and its next write (k = "b", seq 2), then enough other
  // writes for snapshots (every 20 entries, 5 kept below) to purge them from the logs.
  static void write_and_bury(LocalCluster& c, const std::string& first) {
    ASSERT_TRUE(c.write(first).ok);
    ASSERT_TRUE(c.write(command::put("k", "b", {7, 2})).ok);
    for (int i = 0; i < 60; ++i) ASSERT_TRUE(c.put("fill" + std::to_string(i), "x").ok);
  }

  // `first` again: the retry reports success and k stays "b" (write_and_bury) everywhere.
  static void expect_retry_skipped(LocalCluster& c, const std::string& first) {
    auto retry = c.write(first);
    ASSERT_TRUE(retry.ok) << retry.message;
    EXPECT_TRUE(retry.succeeded);
    expect_everywhere(c, "k", "b", retry.index);
  }

  static void expect_everywhere(LocalCluster& c, const std::string& key, const std::string& value,
                                std::uint64_t index) {
    for (NodeId id : c.ids()) {
      if (!c.running(id)) continue;
      EXPECT_EQ(value_after(c, id, key, index), value) << "node " << id;
    }
  }
};

TEST_F(ExactlyOnceTest, RepeatedPutWithoutClientIdIsAppliedAgain) {
  // The control: without a request id nothing is deduplicated, so the cases below would
  // see the retry's effect if deduplication did not work.
  auto c = cluster();
  const std::string first = command::put("k", "a");
  ASSERT_TRUE(c->write(first).ok);
  ASSERT_TRUE(c->write(command::put("k", "b")).ok);
  auto again = c->write(first);
  ASSERT_TRUE(again.ok) << again.message;
  expect_everywhere(*c, "k", "a", again.index);
}

TEST_F(ExactlyOnceTest, RetriedPutIsAppliedOnce) {
  auto c = cluster();
  const std::string first = command::put("k", "a", {7, 1});
  ASSERT_TRUE(c->write(first).ok);
  ASSERT_TRUE(c->write(command::put("k", "b", {7, 2})).ok);
  // The client never saw seq 1's reply and sends it again.
  auto retry = c->write(first);
  ASSERT_TRUE(retry.ok) << retry.message;
  EXPECT_TRUE(retry.succeeded);
  expect_everywhere(*c, "k", "b", retry.index);
  // The latest request again, right after itself: also applied once.
  ASSERT_TRUE(c->write(command::put("k", "c", {8, 1})).ok);
  auto twice = c->write(command::put("k", "c", {8, 1}));
  ASSERT_TRUE(c->write(command::put("k", "d")).ok);
  auto thrice = c->write(command::put("k", "c", {8, 1}));
  ASSERT_TRUE(twice.ok && thrice.ok);
  expect_everywhere(*c, "k", "d", thrice.index);
}

TEST_F(ExactlyOnceTest, RetriedCompareAndSwapReportsTheOriginalOutcome) {
  auto c = cluster();
  ASSERT_TRUE(c->put("lock", "free").ok);
  const std::string take = command::cas("lock", "free", "held-by-9", {9, 1});
  auto won = c->write(take);
  ASSERT_TRUE(won.ok) << won.message;
  EXPECT_TRUE(won.succeeded);
  // Applied again, the CAS would find "held-by-9" and report a mismatch.
  auto won_again = c->write(take);
  ASSERT_TRUE(won_again.ok) << won_again.message;
  EXPECT_TRUE(won_again.succeeded) << "the retry reports the first attempt's success";

  const std::string steal = command::cas("lock", "free", "held-by-9-twice", {9, 2});
  auto lost = c->write(steal);
  ASSERT_TRUE(lost.ok);
  EXPECT_FALSE(lost.succeeded);
  ASSERT_TRUE(c->put("lock", "free").ok);  // another client releases it
  // Applied again, the CAS would now succeed.
  auto lost_again = c->write(steal);
  ASSERT_TRUE(lost_again.ok) << lost_again.message;
  EXPECT_FALSE(lost_again.succeeded) << "the retry reports the first attempt's mismatch";
  expect_everywhere(*c, "lock", "free", lost_again.index);
}

TEST_F(ExactlyOnceTest, RetryToANewLeaderIsAppliedOnce) {
  auto c = cluster();
  const auto old_leader = c->wait_for_leader();
  ASSERT_TRUE(old_leader);
  const std::string first = command::put("k", "a", {7, 1});
  ASSERT_TRUE(c->propose(*old_leader, first).ok);
  ASSERT_TRUE(c->propose(*old_leader, command::put("k", "b", {7, 2})).ok);
  c->stop(*old_leader);
  const auto new_leader = c->wait_for_leader(10s, old_leader);
  ASSERT_TRUE(new_leader) << "no new leader after the old one stopped";
  // The client timed out on the old leader and retries seq 1 with the new one.
  auto retry = c->write(first);
  ASSERT_TRUE(retry.ok) << retry.message;
  EXPECT_TRUE(retry.succeeded);
  expect_everywhere(*c, "k", "b", retry.index);
  // The old leader comes back and applies its log again from the start (memory state
  // machine): it rebuilds the table on the way and skips the retry too.
  c->start(*old_leader);
  EXPECT_EQ(value_after(*c, *old_leader, "k", retry.index), "b");
}

TEST_F(ExactlyOnceTest, RestartedNodeRebuildsTheTableFromItsLog) {
  // A persistent state machine does not apply its entries again after a restart; the
  // Raft actor replays their request ids instead. Without that, the restarted node alone
  // would apply the retry: its state would diverge from the others'.
  LocalClusterOptions options;
  options.state_machine = StateMachineKind::rocksdb;
  auto c = cluster(options);
  const auto leader = c->wait_for_leader();
  ASSERT_TRUE(leader);
  const NodeId follower = *leader == 3 ? 2 : 3;
  const std::string first = command::put("k", "a", {7, 1});
  ASSERT_TRUE(c->write(first).ok);
  auto second = c->write(command::put("k", "b"));
  ASSERT_TRUE(second.ok);
  ASSERT_EQ(value_after(*c, follower, "k", second.index), "b");
  c->stop(follower);
  c->start(follower);
  auto retry = c->write(first);
  ASSERT_TRUE(retry.ok) << retry.message;
  expect_everywhere(*c, "k", "b", retry.index);
}

TEST_F(ExactlyOnceTest, RetryAfterAFullRestartIsAppliedOnce) {
  LocalClusterOptions options;
  options.state_machine = StateMachineKind::rocksdb;
  auto c = cluster(options);
  const std::string first = command::cas("k", std::nullopt, "a", {7, 1});  // create if absent
  ASSERT_TRUE(c->write(first).ok);
  ASSERT_TRUE(c->write(command::del("k")).ok);
  for (NodeId id : c->ids()) c->stop(id);
  c->start_all();
  auto retry = c->write(first);
  ASSERT_TRUE(retry.ok) << retry.message;
  EXPECT_TRUE(retry.succeeded) << "outcome unknown after a restart: reported already_applied";
  expect_everywhere(*c, "k", "<absent>", retry.index);
}

TEST_F(ExactlyOnceTest, NodeThatInstalledASnapshotSkipsARetryItCovers) {
  // The first attempt reaches a lagging follower only inside a snapshot (the leader purged
  // those entries): the table travels in the snapshot's metadata, or that node alone would
  // apply the retry.
  auto c = cluster(snapshot_options(/*every_entries=*/20, /*retention=*/5));
  const auto leader = c->wait_for_leader();
  ASSERT_TRUE(leader);
  const NodeId lagging = *leader == 3 ? 2 : 3;
  c->stop(lagging);
  const std::string first = command::put("k", "a", {7, 1});
  ASSERT_NO_FATAL_FAILURE(write_and_bury(*c, first));
  ASSERT_TRUE(eventually([&] { return c->status(*leader).first_index > 10; }))
      << "the leader should have purged the first attempt's entry";
  c->start(lagging);
  ASSERT_TRUE(eventually([&] { return c->status(lagging).snapshot_index > 0; }))
      << "node " << lagging << " should catch up through InstallSnapshot";
  expect_retry_skipped(*c, first);
}

TEST_F(ExactlyOnceTest, NodeRestartedAfterThePurgeSkipsARetryItsSnapshotCovers) {
  // A persistent state machine restarts with a log that no longer holds the first
  // attempt: the table comes from its newest snapshot, then the log after it.
  auto c = cluster(snapshot_options(/*every_entries=*/20, /*retention=*/5));
  const auto leader = c->wait_for_leader();
  ASSERT_TRUE(leader);
  const NodeId follower = *leader == 3 ? 2 : 3;
  const std::string first = command::put("k", "a", {7, 1});
  ASSERT_NO_FATAL_FAILURE(write_and_bury(*c, first));
  ASSERT_TRUE(eventually([&] { return c->status(follower).first_index > 10; }))
      << "the follower should have purged the first attempt's entry";
  c->stop(follower);
  c->start(follower);
  expect_retry_skipped(*c, first);
}

}  // namespace
}  // namespace raftor::testing
