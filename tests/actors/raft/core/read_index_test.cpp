// Linearizable reads without log writes: ReadIndex and leases (thesis §6.4, §6.4.1).
#include "core_test_util.hpp"

namespace raftor::raft::test {
namespace {

const std::vector<NodeId> kThree{1, 2, 3};

std::uint64_t context_sent_to(const Ready& r, NodeId to) {
  auto sent = only<AppendRequest>(r.send_now, to);
  EXPECT_FALSE(sent.empty()) << describe_all(r.send_now);
  return sent.empty() ? 0 : sent.back().second.read_context;
}

// §6.4 step 1: a new leader answers no read before an entry of its term is committed
// (it does not know its predecessor's commit index until then).
TEST(RaftCore, ReadIndexWaitsForCurrentTermCommit) {
  Solo n(make_config(1, kThree), make_entries({{1, 1}}), HardState{1, 0});
  n.make_leader();
  (void)n.ready();
  ASSERT_TRUE(n->read_index(5).ok());
  Ready waiting = n.ready();
  EXPECT_TRUE(waiting.reads.empty());
  for (auto& [m, req] : only<AppendRequest>(waiting.send_now)) EXPECT_EQ(req.read_context, 0u);

  n->step(append_ok(2, 1, 2, 2));  // the no-op (index 2, term 2) commits
  ASSERT_EQ(n.status().commit, 2u);
  Ready round = n.ready();
  EXPECT_TRUE(round.reads.empty());
  std::uint64_t context = context_sent_to(round, 3);
  ASSERT_GT(context, 0u);
  n->step(append_ok(3, 1, 2, 2, context));
  Ready done = n.ready();
  ASSERT_EQ(done.reads.size(), 1u);
  EXPECT_EQ(done.reads[0].request_id, 5u);
  EXPECT_EQ(done.reads[0].read_index, 2u);
}

// §6.4 steps 2-3: read_index = commit at the request; released once a majority of voters
// (the leader included) acknowledged a heartbeat round started after the request.
TEST(RaftCore, ReadIndexNeedsQuorumHeartbeat) {
  Solo n(make_config(1, {1, 2, 3, 4, 5}));
  n.make_leader_with_followers_in_sync();
  ASSERT_EQ(n.status().commit, 1u);
  ASSERT_TRUE(n->read_index(7).ok());
  ASSERT_TRUE(n->read_index(8).ok());
  ASSERT_TRUE(n->propose({"later"}).ok());  // does not move the read index
  Ready round = n.ready();
  std::uint64_t context = context_sent_to(round, 2);
  auto beats = only<AppendRequest>(round.send_now);
  std::size_t heartbeats = 0;
  for (auto& [m, req] : beats) heartbeats += req.entries.empty() ? 1 : 0;
  EXPECT_EQ(heartbeats, 4u);  // one round for both reads
  EXPECT_TRUE(round.reads.empty());

  n->step(append_ok(2, 1, 1, 1, context));
  EXPECT_TRUE(n.ready().reads.empty());  // 2 of 5
  n->step(append_ok(3, 1, 1, 1, context - 1));
  EXPECT_TRUE(n.ready().reads.empty());  // an older round proves nothing about the read
  n->step(append_reject(4, 1, 1, {1, 1}, context));  // a rejection still acknowledges us
  Ready done = n.ready();
  ASSERT_EQ(done.reads.size(), 2u);
  EXPECT_EQ(done.reads[0].request_id, 7u);
  EXPECT_EQ(done.reads[0].read_index, 1u);
  EXPECT_EQ(done.reads[1].request_id, 8u);
  EXPECT_EQ(done.reads[1].read_index, 1u);
}

// §6.4: a leader that loses leadership cannot confirm anything: pending reads fail, and
// later ones are refused with not_leader.
TEST(RaftCore, ReadIndexFailsOnStepDown) {
  Solo n(make_config(1, kThree));
  n.make_leader();
  (void)n.ready();
  ASSERT_TRUE(n->read_index(1).ok());  // waits for the no-op
  n->step(append_ok(2, 1, 1, 1));
  ASSERT_TRUE(n->read_index(2).ok());  // waits for the heartbeat round
  (void)n.ready();
  ASSERT_TRUE(n->read_index(3).ok());
  n->step(append(3, 1, 2, {1, 1}));  // a new leader in term 2
  Ready r = n.ready();
  EXPECT_TRUE(r.reads.empty());
  EXPECT_EQ(r.failed_reads, (std::vector<std::uint64_t>{1, 2, 3}));
  Status refused = n->read_index(4);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::not_leader);
  EXPECT_NE(refused.error().message.find("leader=3"), std::string::npos);
}

// §6.4 with a new leader that never commits: check-quorum deposes it and its reads fail.
TEST(RaftCore, ReadIndexWaitingForCommitFailsOnCheckQuorum) {
  Solo n(make_config(1, kThree));
  n.make_leader();
  (void)n.ready();
  ASSERT_TRUE(n->read_index(9).ok());
  for (int i = 0; i < 10; ++i) n->tick();
  EXPECT_EQ(n.status().role, Role::follower);
  EXPECT_EQ(n.ready().failed_reads, (std::vector<std::uint64_t>{9}));
}

// §6.4.1: the lease holds for lease_ticks from the *send* time of the messages a majority
// acknowledged, only on a leader whose term has a committed entry.
TEST(RaftCore, LeaseValidOnlyWithinLease) {
  RaftConfig cfg = make_config(1, kThree);
  cfg.lease_ticks = 5;
  cfg.lease_drift_ticks = 2;
  Solo n(cfg);
  n.make_leader();
  (void)n.ready();
  n->tick();
  std::uint64_t early = context_sent_to(n.ready(), 2);
  n->step(append_ok(2, 1, 1, 0, early));
  EXPECT_FALSE(n->lease_valid());  // acknowledged, but nothing of this term committed

  n->step(append_ok(2, 1, 1, 1));  // the no-op commits
  ASSERT_EQ(n.status().commit, 1u);
  EXPECT_TRUE(n->lease_valid());   // the ack of `early` (sent 0 ticks ago) holds
  n->tick();                       // round sent at tick T
  std::uint64_t context = context_sent_to(n.ready(), 3);
  n->step(append_ok(3, 1, 1, 1, context));
  for (int i = 0; i < 4; ++i) {
    n->tick();  // heartbeats go out, nobody answers
    (void)n.ready();
    EXPECT_TRUE(n->lease_valid()) << "tick T+" << i + 1;
  }
  n->tick();  // T + 5: lease_ticks since the acknowledged round was sent
  (void)n.ready();
  EXPECT_FALSE(n->lease_valid());
  n->tick();
  std::uint64_t fresh = context_sent_to(n.ready(), 2);
  n->step(append_ok(2, 1, 1, 1, fresh));
  EXPECT_TRUE(n->lease_valid());

  Solo follower(make_config(2, kThree, {}));
  EXPECT_FALSE(follower->lease_valid());
  Solo no_lease(make_config(1, kThree));
  no_lease.make_leader_with_followers_in_sync();
  EXPECT_FALSE(no_lease->lease_valid());  // lease_ticks = 0: disabled
}

}  // namespace
}  // namespace raftor::raft::test
