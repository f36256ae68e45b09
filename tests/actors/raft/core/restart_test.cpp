// Restart recovery (figure 2 "persistent state"): term, vote and log come back from the
// durable log; what was not synced is gone, and nothing depending on it was sent.
#include "core_test_util.hpp"

namespace raftor::raft::test {
namespace {

const std::vector<NodeId> kThree{1, 2, 3};

TEST(RaftCore, RestartRecoversTermVoteAndLog) {
  Solo n(make_config(2, kThree));
  n->step(vote_request(3, 2, 5, {0, 0}));
  n->step(append(3, 2, 5, {0, 0}, entry_run(1, 3, 5), 2));
  Ready synced = n.ready();
  ASSERT_TRUE(synced.needs_sync);
  EXPECT_EQ(synced.apply_to, 0u);  // applied only once durable here: the next Ready
  Ready applied = n.ready();
  EXPECT_EQ(applied.apply_from, 1u);
  EXPECT_EQ(applied.apply_to, 2u);
  n->on_applied(2);

  n->step(append(1, 2, 6, {3, 5}, entry_run(4, 5, 6), 5));  // term 6: not synced
  Ready unsynced = n.ready_without_sync();
  EXPECT_TRUE(unsynced.needs_sync);
  EXPECT_EQ(n.status().commit, 5u);
  EXPECT_EQ(unsynced.apply_to, 3u);  // 4 and 5 are committed but not durable here
  EXPECT_EQ(n.status().term, 6u);

  n.restart(2);  // the state machine had applied 2 (it crashed before applying 3)
  CoreStatus s = n.status();
  EXPECT_EQ(s.role, Role::follower);
  EXPECT_EQ(s.term, 5u);
  EXPECT_EQ(s.voted_for, 3u);
  EXPECT_EQ(s.last_log, (LogId{3, 5}));
  EXPECT_EQ(s.commit, 2u);
  EXPECT_EQ(s.applied, 2u);
  EXPECT_EQ(s.leader, 0u);
  // Nothing is handed over twice; the vote of term 5 still binds.
  Ready after = n.ready();
  EXPECT_EQ(after.apply_to, 0u);
  n->step(vote_request(1, 2, 5, {9, 5}));
  auto v = only<VoteResponse>(n.ready().send_after_sync, 1);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_FALSE(v[0].second.granted);
  // The leader's next AppendEntries commits what the state machine has not seen yet.
  n->step(append(3, 2, 5, {3, 5}, {}, 3));
  Ready more = n.ready();
  EXPECT_EQ(more.apply_from, 3u);
  EXPECT_EQ(more.apply_to, 3u);
}

TEST(RaftCore, RestartedLearnerStaysLearner) {
  Solo n(make_config(4, kThree, {4}));
  n->step(append(1, 4, 2, {0, 0}, entry_run(1, 2, 2)));
  (void)n.ready();
  n.restart();
  EXPECT_EQ(n.status().role, Role::learner);
  EXPECT_EQ(n.status().term, 2u);
  EXPECT_EQ(n.log.last_index(), 2u);
}

// Thesis §6.4.1: with leases, a server may have promised a leader not to vote before it
// restarted; it waits one election timeout after booting before voting.
TEST(RaftCore, RestartedNodeWithLeaseDefersVoting) {
  RaftConfig cfg = make_config(2, kThree);
  cfg.lease_ticks = 5;
  Solo n(cfg);
  n->step(vote_request(3, 2, 1, {0, 0}));
  EXPECT_TRUE(n.ready().send_after_sync.empty());
  EXPECT_EQ(n.status().term, 0u);
  for (int i = 0; i < 10; ++i) n->tick();
  n->step(vote_request(3, 2, 2, {0, 0}));
  auto v = only<VoteResponse>(n.ready().send_after_sync, 3);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0].second.granted);

  Solo plain(make_config(2, kThree));  // without leases, no wait
  plain->step(vote_request(3, 2, 1, {0, 0}));
  auto granted = only<VoteResponse>(plain.ready().send_after_sync, 3);
  ASSERT_EQ(granted.size(), 1u);
  EXPECT_TRUE(granted[0].second.granted);
}

}  // namespace
}  // namespace raftor::raft::test
