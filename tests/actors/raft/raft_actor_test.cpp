// The Raft actor and the state-machine handler end to end: an in-process cluster of real
// actors on RocksDB logs with fsync, driven through the client messages.
#include <gtest/gtest.h>

#include <thread>

#include "local_cluster_test.hpp"
#include "raftor/storage/command.hpp"

namespace raftor::testing {
namespace {

using namespace std::chrono_literals;

class RaftActorTest : public LocalClusterTest {
 protected:
  // Polls a node's applied state (eventual read) until `key` has `value`.
  static bool eventually_has(LocalCluster& c, NodeId id, const std::string& key,
                             const std::string& value, std::chrono::milliseconds timeout = 10s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto r = c.read(id, {key}, ReadConsistency::eventual);
      if (r.ok && r.found.at(0) && r.values.at(0) == value) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

TEST_F(RaftActorTest, ElectsExactlyOneLeaderAndEveryoneKnowsIt) {
  auto c = cluster();
  auto leader = c->wait_for_leader();
  ASSERT_TRUE(leader.has_value());
  // A write commits only once the leader is established everywhere it matters.
  ASSERT_TRUE(c->put("k", "v").ok);
  const auto term = c->status(*leader).term;
  int leaders = 0;
  for (NodeId id : c->ids()) {
    const auto s = c->status(id);
    if (s.role == static_cast<std::uint8_t>(raft::Role::leader) && s.term == term) ++leaders;
  }
  EXPECT_EQ(leaders, 1);
}

TEST_F(RaftActorTest, WriteIsAcknowledgedAfterApplyAndReachesEveryNode) {
  auto c = cluster();
  auto reply = c->put("answer", "42");
  ASSERT_TRUE(reply.ok) << reply.message;
  EXPECT_TRUE(reply.succeeded);
  EXPECT_GT(reply.index, 0u);
  for (NodeId id : c->ids()) EXPECT_TRUE(eventually_has(*c, id, "answer", "42")) << "node " << id;
}

TEST_F(RaftActorTest, LinearizableReadSeesAcknowledgedWrite) {
  auto c = cluster();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c->put("k", std::to_string(i)).ok);
    auto r = c->get("k", ReadConsistency::linearizable);
    ASSERT_TRUE(r.ok) << r.message;
    ASSERT_TRUE(r.found.at(0));
    EXPECT_EQ(r.values.at(0), std::to_string(i));
  }
}

TEST_F(RaftActorTest, FollowerRefusesWritesAndNamesTheLeader) {
  auto c = cluster();
  auto leader = c->wait_for_leader();
  ASSERT_TRUE(leader);
  ASSERT_TRUE(c->put("warm", "up").ok);
  const NodeId follower = *leader == 1 ? 2 : 1;
  auto r = c->propose(follower, command::put("a", "b"));
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(static_cast<ErrorCode>(r.code), ErrorCode::not_leader);
  EXPECT_EQ(r.leader, *leader);
  auto read = c->read(follower, {"a"}, ReadConsistency::linearizable);
  EXPECT_FALSE(read.ok) << "a follower must not serve linearizable reads itself";
  EXPECT_EQ(static_cast<ErrorCode>(read.code), ErrorCode::not_leader) << read.message;
  EXPECT_EQ(read.leader, *leader);
}

TEST_F(RaftActorTest, CompareAndSwapResultComesBack) {
  auto c = cluster();
  auto leader = c->wait_for_leader();
  ASSERT_TRUE(leader);
  ASSERT_TRUE(c->put("lock", "free").ok);
  auto won = c->propose(*leader, command::cas("lock", "free", "held-by-1"));
  ASSERT_TRUE(won.ok) << won.message;
  EXPECT_TRUE(won.succeeded);
  auto lost = c->propose(*leader, command::cas("lock", "free", "held-by-2"));
  ASSERT_TRUE(lost.ok) << lost.message;
  EXPECT_FALSE(lost.succeeded) << "a CAS mismatch is a result, not an error";
  auto r = c->get("lock", ReadConsistency::linearizable);
  EXPECT_EQ(r.values.at(0), "held-by-1");
}

TEST_F(RaftActorTest, MalformedProposalIsRefusedBeforeTheLog) {
  auto c = cluster();
  auto leader = c->wait_for_leader();
  ASSERT_TRUE(leader);
  auto r = c->propose(*leader, std::string("\xff\xfe garbage", 10));
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(static_cast<ErrorCode>(r.code), ErrorCode::malformed_entry);
  EXPECT_TRUE(c->put("still", "works").ok);
}

TEST_F(RaftActorTest, LeaderFailoverLosesNoAcknowledgedWrite) {
  auto c = cluster();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(c->put("k" + std::to_string(i), "v" + std::to_string(i)).ok);
  const auto old_leader = c->wait_for_leader();
  ASSERT_TRUE(old_leader);
  c->stop(*old_leader);
  auto new_leader = c->wait_for_leader(10s, old_leader);
  ASSERT_TRUE(new_leader) << "no new leader after the old one stopped";
  EXPECT_NE(*new_leader, *old_leader);
  for (int i = 0; i < 50; ++i) {
    auto r = c->get("k" + std::to_string(i), ReadConsistency::linearizable);
    ASSERT_TRUE(r.ok) << r.message;
    ASSERT_TRUE(r.found.at(0)) << "acknowledged write k" << i << " lost";
    EXPECT_EQ(r.values.at(0), "v" + std::to_string(i));
  }
  EXPECT_TRUE(c->put("after", "failover").ok);
  c->start(*old_leader);
  EXPECT_TRUE(eventually_has(*c, *old_leader, "after", "failover")) << "restarted node caught up";
}

TEST_F(RaftActorTest, RestartedFollowerCatchesUp) {
  auto c = cluster();
  auto leader = c->wait_for_leader();
  ASSERT_TRUE(leader);
  const NodeId follower = *leader == 3 ? 2 : 3;
  ASSERT_TRUE(c->put("before", "1").ok);
  c->stop(follower);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(c->put("while-down-" + std::to_string(i), "x").ok);
  c->start(follower);
  EXPECT_TRUE(eventually_has(*c, follower, "before", "1"));
  EXPECT_TRUE(eventually_has(*c, follower, "while-down-29", "x"));
}

TEST_F(RaftActorTest, FullClusterRestartKeepsEverything) {
  LocalClusterOptions options;
  options.state_machine = StateMachineKind::rocksdb;
  auto c = cluster(options);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(c->put("k" + std::to_string(i), std::to_string(i)).ok);
  for (NodeId id : c->ids()) c->stop(id);
  c->start_all();
  for (int i = 0; i < 30; ++i) {
    auto r = c->get("k" + std::to_string(i), ReadConsistency::linearizable);
    ASSERT_TRUE(r.ok) << r.message;
    ASSERT_TRUE(r.found.at(0)) << "k" << i << " lost across a full restart";
    EXPECT_EQ(r.values.at(0), std::to_string(i));
  }
}

TEST_F(RaftActorTest, IsolatedLeaderStepsDownAndMajorityMovesOn) {
  auto c = cluster();
  auto old_leader = c->wait_for_leader();
  ASSERT_TRUE(old_leader);
  ASSERT_TRUE(c->put("k", "before").ok);
  c->transport().isolate(*old_leader);
  auto new_leader = c->wait_for_leader(10s, old_leader);
  ASSERT_TRUE(new_leader);
  // The isolated node must not confirm a linearizable read: it cannot reach a quorum.
  auto stale = c->read(*old_leader, {"k"}, ReadConsistency::linearizable, 500ms);
  EXPECT_FALSE(stale.ok) << "an isolated old leader served a linearizable read";
  ASSERT_TRUE(c->put("k", "after").ok);
  c->transport().heal();
  EXPECT_TRUE(eventually_has(*c, *old_leader, "k", "after"));
}

TEST_F(RaftActorTest, LeaseReadServedByLeader) {
  LocalClusterOptions options;
  options.lease_ticks = 10;
  auto c = cluster(options);
  ASSERT_TRUE(c->put("k", "v").ok);
  auto r = c->get("k", ReadConsistency::lease);
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.values.at(0), "v");
}

TEST_F(RaftActorTest, ConcurrentProposersAllGetAnswers) {
  auto c = cluster();
  auto leader = c->wait_for_leader();
  ASSERT_TRUE(leader);
  ASSERT_TRUE(c->put("warm", "up").ok);
  constexpr int kProposers = 64, kEach = 20;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProposers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) {
        auto r = c->propose(*leader, command::put("p" + std::to_string(p) + "-" + std::to_string(i), "v"));
        if (r.ok) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kProposers * kEach);
  auto r = c->get("p63-19", ReadConsistency::linearizable);
  EXPECT_TRUE(r.ok && r.found.at(0));
}

}  // namespace
}  // namespace raftor::testing
