// Leadership transfer (thesis §3.10): TimeoutNow to a caught-up voter, proposals paused
// meanwhile, abort after an election timeout, target chosen or the most up-to-date voter.
#include "core_test_util.hpp"

namespace raftor::raft::test {
namespace {

const std::vector<NodeId> kThree{1, 2, 3};

std::vector<Message> timeout_nows(const std::vector<Message>& messages, NodeId to = 0) {
  std::vector<Message> out;
  for (const Message& m : messages) {
    if (std::holds_alternative<TimeoutNow>(m.body) && (to == 0 || m.to == to)) out.push_back(m);
  }
  return out;
}

TEST(RaftTransfer, CaughtUpTargetTakesOverInTheNextTerm) {
  Network net(kThree);
  ASSERT_EQ(net.elect(1), 1u);
  ASSERT_TRUE(net.core(1).propose({"a"}).ok());
  net.settle();
  const std::uint64_t term = net.core(1).status().term;
  ASSERT_TRUE(net.core(1).transfer_leadership(3).ok());
  EXPECT_EQ(net.core(1).status().transferring_to, 3u);
  auto delivered = net.settle();
  EXPECT_EQ(timeout_nows(delivered, 3).size(), 1u) << describe_all(delivered);
  EXPECT_EQ(net.leader(), 3u);  // no election timeout had to pass
  EXPECT_EQ(net.core(3).status().term, term + 1);
  EXPECT_EQ(net.core(1).status().role, Role::follower);
  EXPECT_EQ(net.core(1).status().transferring_to, 0u);
  // The new leader serves writes; the old one points clients at it.
  ASSERT_TRUE(net.core(3).propose({"b"}).ok());
  net.settle();
  EXPECT_EQ(net.core(1).status().commit, net.node(3).log.last_index());
  auto refused = net.core(1).propose({"c"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::not_leader);
}

// The target is caught up first: TimeoutNow only once its log matches the leader's.
TEST(RaftTransfer, LaggingTargetIsCaughtUpBeforeTimeoutNow) {
  Solo n(make_config(1, kThree));
  n.make_leader_with_followers_in_sync();
  const std::uint64_t term = n.status().term;
  ASSERT_TRUE(n->propose({"a", "b"}).ok());
  (void)n.ready();
  const std::uint64_t last = n.log.last_index();
  ASSERT_TRUE(n->transfer_leadership(2).ok());
  EXPECT_TRUE(timeout_nows(n.ready().send_now).empty());
  n->step(append_ok(2, 1, term, last - 1));
  EXPECT_TRUE(timeout_nows(n.ready().send_now).empty());
  n->step(append_ok(2, 1, term, last));
  auto sent = timeout_nows(n.ready().send_now, 2);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].term, term);
}

// §3.10: proposals are refused (busy, retriable) while the transfer runs; after an
// election timeout without a new leader the transfer aborts and proposals resume.
TEST(RaftTransfer, ProposalsPausedThenResumeWhenTransferAborts) {
  Solo n(make_config(1, kThree));
  n.make_leader_with_followers_in_sync();
  ASSERT_TRUE(n->transfer_leadership(3).ok());
  auto paused = n->propose({"x"});
  ASSERT_FALSE(paused.ok());
  EXPECT_EQ(paused.error().code, ErrorCode::busy);
  EXPECT_NE(paused.error().message.find("node 3"), std::string::npos);
  auto change = n->propose_config_change({ConfigChangeType::add_learner, 4, {}});
  ASSERT_FALSE(change.ok());
  EXPECT_EQ(change.error().code, ErrorCode::busy);
  // Another target while one is under way: refused; the same one again: fine.
  EXPECT_EQ(n->transfer_leadership(2).error().code, ErrorCode::busy);
  EXPECT_TRUE(n->transfer_leadership(3).ok());
  const std::uint64_t term = n.status().term;
  for (int i = 0; i < 10; ++i) {  // election_ticks; followers keep answering (check-quorum)
    n->tick();
    n->step(append_ok(2, 1, term, n.log.last_index()));
    n->step(append_ok(3, 1, term, n.log.last_index()));
  }
  EXPECT_EQ(n.status().role, Role::leader);
  EXPECT_EQ(n.status().transferring_to, 0u);
  EXPECT_TRUE(n->propose({"x"}).ok());
}

TEST(RaftTransfer, MostUpToDateVoterChosenWhenNoTargetNamed) {
  Solo n(make_config(1, {1, 2, 3, 4}, {5}));
  n.make_leader();
  (void)n.ready();
  const std::uint64_t term = n.status().term;
  const std::uint64_t last = n.log.last_index();
  n->step(append_ok(2, 1, term, last - 1));
  n->step(append_ok(3, 1, term, last));
  n->step(append_ok(5, 1, term, last));  // a learner, however current, never leads
  ASSERT_TRUE(n->transfer_leadership().ok());
  EXPECT_EQ(n.status().transferring_to, 3u);
  EXPECT_EQ(timeout_nows(n.ready().send_now, 3).size(), 1u);
}

TEST(RaftTransfer, InvalidTargetsRefusedClearly) {
  Solo n(make_config(1, kThree, {4}));
  EXPECT_EQ(n->transfer_leadership(2).error().code, ErrorCode::not_leader);
  n.make_leader_with_followers_in_sync();
  auto learner = n->transfer_leadership(4);
  ASSERT_FALSE(learner.ok());
  EXPECT_EQ(learner.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(learner.error().message.find("learner"), std::string::npos);
  auto unknown = n->transfer_leadership(9);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("not a member"), std::string::npos);
  auto self = n->transfer_leadership(1);
  ASSERT_FALSE(self.ok());
  EXPECT_NE(self.error().message.find("already leads"), std::string::npos);
  EXPECT_EQ(n.status().transferring_to, 0u);

  Solo single(make_config(1, {1}));
  ASSERT_GT(single.tick_until_role_changes(), 0);  // a single voter elects itself at once
  ASSERT_EQ(single.status().role, Role::leader);
  auto alone = single->transfer_leadership();
  ASSERT_FALSE(alone.ok());
  EXPECT_NE(alone.error().message.find("no other voter"), std::string::npos);
}

// The target campaigns at once, without pre-vote, and flags its requests so voters that
// still hear from the leader (within their lease, §4.2.3) grant them.
TEST(RaftTransfer, TimeoutNowStartsFlaggedElectionWithoutPreVote) {
  Solo n(make_config(2, kThree));
  ASSERT_TRUE(n.config.pre_vote);
  n->step(append(1, 2, 3, {0, 0}));
  (void)n.ready();
  n->step(Message{1, 2, 3, TimeoutNow{}});
  EXPECT_EQ(n.status().role, Role::candidate);
  EXPECT_EQ(n.status().term, 4u);
  auto requests = only<VoteRequest>(n.ready().send_after_sync);
  ASSERT_EQ(requests.size(), 2u);
  for (auto& [m, req] : requests) {
    EXPECT_FALSE(req.pre_vote);
    EXPECT_TRUE(req.leadership_transfer);
    EXPECT_EQ(m.term, 4u);
  }
  // A stale TimeoutNow (an older term) and one to a learner do nothing.
  n->step(Message{1, 2, 3, TimeoutNow{}});
  EXPECT_EQ(n.status().term, 4u);
  Solo l(make_config(4, kThree, {4}));
  l->step(Message{1, 4, 1, TimeoutNow{}});
  EXPECT_EQ(l.status().role, Role::learner);
}

// Thesis §6.4.1: once TimeoutNow is out, voters may elect the target despite the lease
// they promised: the old leader serves no more lease reads in this term.
TEST(RaftTransfer, LeaseRevokedOnceTimeoutNowSent) {
  RaftConfig cfg = make_config(1, kThree);
  cfg.lease_ticks = 5;
  Solo n(cfg);
  n.make_leader_with_followers_in_sync();
  n->tick();
  std::uint64_t context = 0;
  for (auto& [m, req] : only<AppendRequest>(n.ready().send_now, 2)) context = req.read_context;
  ASSERT_NE(context, 0u);
  const std::uint64_t term = n.status().term;
  n->step(append_ok(2, 1, term, n.log.last_index(), context));
  n->step(append_ok(3, 1, term, n.log.last_index(), context));
  ASSERT_TRUE(n->lease_valid());
  ASSERT_TRUE(n->transfer_leadership(2).ok());
  EXPECT_FALSE(n->lease_valid());
  for (int i = 0; i < 12; ++i) n->tick();  // aborted: still no lease in this term
  EXPECT_EQ(n.status().transferring_to, 0u);
  EXPECT_FALSE(n->lease_valid());
}

}  // namespace
}  // namespace raftor::raft::test
