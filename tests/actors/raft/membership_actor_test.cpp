// Membership changes (thesis chapter 4) and leadership transfer (§3.10) through the Raft
// actor: an in-process cluster of real actors on RocksDB logs, driven by member_atom and
// transfer_atom as a client's requests arrive at a node. The protocol rules themselves are
// tested in tests/actors/raft/core/membership_test.cpp and transfer_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "local_cluster_test.hpp"
#include "raftor/tests/support/eventually.hpp"
#include "raftor/snapshot/snapshot_store.hpp"
#include "raftor/storage/command.hpp"

namespace raftor::testing {
namespace {

using namespace std::chrono_literals;

MembershipChange add_learner(NodeId id) { return {MembershipChangeType::add_learner, id, {}}; }
MembershipChange promote(NodeId id) { return {MembershipChangeType::promote, id, {}}; }
MembershipChange remove(NodeId id) { return {MembershipChangeType::remove, id, {}}; }

class MembershipActorTest : public LocalClusterTest {
 protected:
  static bool has(LocalCluster& c, NodeId id, const std::string& key, const std::string& value) {
    auto r = c.read(id, {key}, ReadConsistency::eventual);
    return r.ok && r.found.at(0) && r.values.at(0) == value;
  }

  static void write_keys(LocalCluster& c, int from, int to) {
    for (int i = from; i < to; ++i) {
      auto r = c.put("k" + std::to_string(i), "v" + std::to_string(i));
      ASSERT_TRUE(r.ok) << r.message;
    }
  }

  static std::vector<NodeId> voters(LocalCluster& c, NodeId at) {
    return c.status(at).membership.voters;
  }
};

TEST_F(MembershipActorTest, LearnerCatchesUpAndIsPromotedOnceCloseEnough) {
  LocalClusterOptions options;
  options.promote_learner_lag = 5;
  auto c = cluster(options);
  write_keys(*c, 0, 50);
  c->start_joining(4);
  // Before it is added, node 4 is a learner that nobody replicates to.
  EXPECT_EQ(c->status(4).role, static_cast<std::uint8_t>(raft::Role::learner));

  auto added = c->member(add_learner(4));
  ASSERT_TRUE(added.ok) << added.message;
  EXPECT_GT(added.index, 0u);
  // Close enough to the leader's log: promoted without a command (thesis §4.2.1).
  ASSERT_TRUE(eventually([&] { return voters(*c, 4) == std::vector<NodeId>{1, 2, 3, 4}; }));
  ASSERT_TRUE(eventually([&] { return has(*c, 4, "k49", "v49"); }));
  EXPECT_EQ(c->status(4).role, static_cast<std::uint8_t>(raft::Role::follower));
  // A four-voter cluster commits with node 4 in the quorum.
  write_keys(*c, 50, 60);
  EXPECT_TRUE(eventually([&] { return has(*c, 4, "k59", "v59"); }));
}

TEST_F(MembershipActorTest, LearnerAddedAfterThePurgeCatchesUpByInstallSnapshot) {
  auto options = snapshot_options(/*every_entries=*/50, /*retention=*/10);
  options.promote_learner_lag = 5;
  auto c = cluster(options);
  write_keys(*c, 0, 200);
  const NodeId leader = *c->wait_for_leader();
  ASSERT_TRUE(eventually([&] { return c->status(leader).first_index > 100; }));
  c->start_joining(4);
  ASSERT_TRUE(c->member(add_learner(4)).ok);
  // The entries it needs are gone from every log: only a snapshot brings it up to date.
  ASSERT_TRUE(eventually([&] { return c->status(4).snapshot_index > 100; }));
  ASSERT_TRUE(eventually([&] { return has(*c, 4, "k10", "v10") && has(*c, 4, "k199", "v199"); }));
  ASSERT_TRUE(eventually([&] { return voters(*c, leader) == std::vector<NodeId>{1, 2, 3, 4}; }));
  // The snapshot told node 4 the configuration below the log it received.
  EXPECT_EQ(voters(*c, 4), (std::vector<NodeId>{1, 2, 3, 4}));
}

TEST_F(MembershipActorTest, PromoteAndRemoveByCommand) {
  auto c = cluster();
  write_keys(*c, 0, 20);
  c->start_joining(4);
  ASSERT_TRUE(c->member(add_learner(4)).ok);
  const NodeId leader = *c->wait_for_leader();
  // No automatic promotion configured: node 4 stays a learner until told.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(c->status(leader).membership.learners, std::vector<NodeId>{4});

  auto promoted = c->member(promote(4));
  ASSERT_TRUE(promoted.ok) << promoted.message;
  EXPECT_EQ(voters(*c, leader), (std::vector<NodeId>{1, 2, 3, 4}));

  // Remove a follower other than node 4, then stop it: the remaining three commit.
  const NodeId gone = leader == 1 ? 2 : 1;
  auto removed = c->member(remove(gone));
  ASSERT_TRUE(removed.ok) << removed.message;
  EXPECT_GT(removed.index, promoted.index);
  c->stop(gone);
  write_keys(*c, 20, 30);
  for (NodeId id : c->ids()) {
    if (id == gone) continue;
    EXPECT_TRUE(eventually([&] { return has(*c, id, "k29", "v29"); })) << "node " << id;
    const auto s = c->status(id);
    EXPECT_EQ(std::count(s.membership.voters.begin(), s.membership.voters.end(), gone), 0);
    EXPECT_FALSE(s.config_pending);
  }
}

TEST_F(MembershipActorTest, RetriedChangeThatTookEffectSucceedsWithoutASecondEntry) {
  auto c = cluster();
  c->start_joining(4);
  auto first = c->member(add_learner(4));
  ASSERT_TRUE(first.ok) << first.message;
  auto again = c->member(add_learner(4));
  ASSERT_TRUE(again.ok) << again.message;
  EXPECT_EQ(again.index, first.index);
  // A change that does not fit is refused, not retried.
  auto bad = c->member(promote(9));
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.code, static_cast<std::uint8_t>(ErrorCode::invalid_argument)) << bad.message;
  auto bad_address = c->member({MembershipChangeType::add_learner, 5, "no-port"});
  EXPECT_EQ(bad_address.code, static_cast<std::uint8_t>(ErrorCode::invalid_argument));
  // A follower refuses and names the leader.
  const NodeId leader = *c->wait_for_leader();
  const NodeId follower = leader == 1 ? 2 : 1;
  auto refused = c->member(follower, promote(4));
  EXPECT_EQ(refused.code, static_cast<std::uint8_t>(ErrorCode::not_leader));
  EXPECT_EQ(refused.leader, leader);
}

TEST_F(MembershipActorTest, LeaderThatRemovesItselfStepsDownAndTheOthersGoOn) {
  auto c = cluster();
  write_keys(*c, 0, 10);
  const NodeId old_leader = *c->wait_for_leader();
  auto removed = c->member(old_leader, remove(old_leader));
  ASSERT_TRUE(removed.ok) << removed.message;
  // Thesis §4.2.2: it steps down once the change commits and hands leadership over.
  ASSERT_TRUE(eventually([&] {
    auto leader = c->wait_for_leader(100ms, old_leader);
    return leader && *leader != old_leader;
  }));
  EXPECT_NE(c->status(old_leader).role, static_cast<std::uint8_t>(raft::Role::leader));
  c->stop(old_leader);
  write_keys(*c, 10, 20);
  for (NodeId id : c->ids()) {
    if (id == old_leader) continue;
    EXPECT_TRUE(eventually([&] { return has(*c, id, "k19", "v19"); })) << "node " << id;
  }
}

TEST_F(MembershipActorTest, TransferToANamedNodeWhileWritesContinue) {
  auto c = cluster();
  const NodeId leader = *c->wait_for_leader();
  const NodeId target = leader == 3 ? 2 : 3;
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0};
  std::string failure;
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      auto r = c->put("w" + std::to_string(i), "x");
      if (!r.ok) {
        failure = r.message;
        return;
      }
      acknowledged = i + 1;
    }
  });
  ASSERT_TRUE(eventually([&] { return acknowledged > 20; }));
  auto moved = c->transfer(leader, target);
  const int at_transfer = acknowledged;
  ASSERT_TRUE(eventually([&] { return acknowledged > at_transfer + 20; }));
  stop = true;
  writer.join();
  ASSERT_TRUE(moved.ok) << moved.message;
  EXPECT_EQ(moved.leader, target);
  EXPECT_TRUE(failure.empty()) << "a write failed during the transfer: " << failure;
  EXPECT_EQ(c->status(target).role, static_cast<std::uint8_t>(raft::Role::leader));
  const int last = acknowledged - 1;
  EXPECT_TRUE(has(*c, target, "w" + std::to_string(last), "x"));
}

TEST_F(MembershipActorTest, WritesDuringAFailedTransferWaitAndThenCommit) {
  auto c = cluster();
  const NodeId leader = *c->wait_for_leader();
  const NodeId target = leader == 3 ? 2 : 3;
  ASSERT_TRUE(c->put("before", "1").ok);
  c->stop(target);  // it cannot catch up, so the transfer gives up after an election timeout
  ClientReply write;
  std::thread writer([&] {
    std::this_thread::sleep_for(20ms);  // proposed while the transfer is under way
    write = c->propose(leader, command::put("during", "2"), 5s);
  });
  auto moved = c->transfer(leader, target);
  writer.join();
  EXPECT_FALSE(moved.ok);
  EXPECT_EQ(moved.code, static_cast<std::uint8_t>(ErrorCode::timeout)) << moved.message;
  EXPECT_EQ(moved.leader, leader);
  // The write was held back, not refused, and committed once proposals resumed (§3.10).
  EXPECT_TRUE(write.ok) << write.message;
  EXPECT_EQ(c->status(leader).role, static_cast<std::uint8_t>(raft::Role::leader));
}

TEST_F(MembershipActorTest, ConfigurationSurvivesRestartAfterThePurge) {
  auto c = cluster(snapshot_options(/*every_entries=*/50, /*retention=*/10));
  c->start_joining(4);
  ASSERT_TRUE(c->member(add_learner(4)).ok);
  ASSERT_TRUE(c->member(promote(4)).ok);
  const NodeId leader = *c->wait_for_leader();
  const NodeId gone = leader == 1 ? 2 : 1;
  ASSERT_TRUE(c->member(remove(gone)).ok);
  c->stop(gone);
  const std::vector<NodeId> expected = voters(*c, leader);
  write_keys(*c, 0, 200);
  // The configuration entries are purged from every log: only snapshots record them.
  for (NodeId id : c->ids()) {
    if (id == gone) continue;
    ASSERT_TRUE(eventually([&] { return c->status(id).first_index > 20; })) << "node " << id;
    auto store = snapshot::SnapshotStore::open(c->snapshot_dir(id));
    ASSERT_TRUE(store.ok());
    auto latest = (*store)->latest();
    ASSERT_TRUE(latest);
    EXPECT_EQ(latest->membership.voters, expected) << "node " << id;
  }
  for (NodeId id : c->ids()) c->stop(id);
  for (NodeId id : c->ids()) {
    if (id != gone) c->start(id);
  }
  ASSERT_TRUE(c->wait_for_leader().has_value());
  for (NodeId id : c->ids()) {
    if (id == gone) continue;
    EXPECT_EQ(voters(*c, id), expected) << "node " << id;
  }
  // Three voters of three, none of them the removed node: writes commit.
  EXPECT_TRUE(c->put("after", "restart").ok);
}

}  // namespace
}  // namespace raftor::testing
