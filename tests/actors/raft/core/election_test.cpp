// Terms and leader election: Raft §5.1, §5.2, §5.4.1; pre-vote (thesis §9.6); disruptive
// servers (thesis §4.2.3).
#include <set>

#include "core_test_util.hpp"

namespace raftor::raft::test {
namespace {

const std::vector<NodeId> kThree{1, 2, 3};

// §5.1: a message with a higher term makes the receiver adopt it, forget its vote and
// follow; the sender of an AppendEntries is that term's leader.
TEST(RaftCore, FollowerUpdatesTermFromMessage) {
  Solo n(make_config(1, kThree), {}, HardState{1, 3});
  n->step(append(2, 1, 2, {0, 0}));
  CoreStatus s = n.status();
  EXPECT_EQ(s.role, Role::follower);
  EXPECT_EQ(s.term, 2u);
  EXPECT_EQ(s.leader, 2u);
  EXPECT_EQ(s.voted_for, 0u);
  Ready r = n.ready();
  EXPECT_TRUE(r.needs_sync);  // the new term is persisted before the answer leaves
  EXPECT_EQ(n.log.hard_state(), (HardState{2, 0}));
  ASSERT_EQ(only<AppendResponse>(r.send_after_sync).size(), 1u);
  EXPECT_EQ(only<AppendResponse>(r.send_after_sync)[0].first.term, 2u);
}

// §5.2: a candidate that discovers a higher term (any message) becomes follower.
TEST(RaftCore, CandidateFallsBackToFollowerOnHigherTerm) {
  RaftConfig cfg = make_config(1, kThree);
  cfg.pre_vote = false;
  Solo n(cfg);
  ASSERT_GT(n.tick_until_role_changes(), 0);
  ASSERT_EQ(n.status().role, Role::candidate);
  ASSERT_EQ(n.status().term, 1u);
  n->step(vote_response(2, 1, 4, false));  // a rejection from a node at term 4
  EXPECT_EQ(n.status().role, Role::follower);
  EXPECT_EQ(n.status().term, 4u);
  EXPECT_EQ(n.status().leader, 0u);
}

// §5.2: a candidate that receives AppendEntries from a leader of its own term follows it.
TEST(RaftCore, CandidateFollowsLeaderOfSameTerm) {
  RaftConfig cfg = make_config(1, kThree);
  cfg.pre_vote = false;
  Solo n(cfg);
  ASSERT_GT(n.tick_until_role_changes(), 0);
  n->step(append(3, 1, 1, {0, 0}));
  EXPECT_EQ(n.status().role, Role::follower);
  EXPECT_EQ(n.status().term, 1u);
  EXPECT_EQ(n.status().leader, 3u);
  EXPECT_EQ(n.status().voted_for, 1u);  // its vote in term 1 stands
}

// §5.1: a leader that sees a higher term in an answer steps down.
TEST(RaftCore, LeaderStepsDownOnHigherTerm) {
  Solo n(make_config(1, kThree));
  n.make_leader();
  std::uint64_t term = n.status().term;
  n->step(append_reject(2, 1, term + 1, {0, 0}));
  EXPECT_EQ(n.status().role, Role::follower);
  EXPECT_EQ(n.status().term, term + 1);
}

// Figure 2 "reply false if term < currentTerm": the stale sender learns the newer term.
TEST(RaftCore, StaleTermMessagesAreAnsweredWithCurrentTerm) {
  Solo n(make_config(1, kThree), {}, HardState{5, 0});
  n->step(append(2, 1, 3, {0, 0}, {}, 0, 9));
  n->step(vote_request(3, 1, 4, {10, 4}));
  n->step(append_ok(2, 1, 3, 7));  // stale answers are dropped
  Ready r = n.ready();
  auto resp = only<AppendResponse>(r.send_after_sync, 2);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_EQ(resp[0].first.term, 5u);
  EXPECT_FALSE(resp[0].second.success);
  EXPECT_EQ(resp[0].second.read_context, 9u);
  auto votes = only<VoteResponse>(r.send_after_sync, 3);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_FALSE(votes[0].second.granted);
  EXPECT_EQ(votes[0].first.term, 5u);
  EXPECT_EQ(r.send_after_sync.size(), 2u);
  EXPECT_EQ(n.status().term, 5u);
}

// §5.2 + §9.6: a follower that hears nothing for its election timeout first asks for
// pre-votes at term + 1 (term unchanged), then on a majority becomes candidate, increments
// its term, votes for itself (persisted) and requests votes — all after the sync.
TEST(RaftCore, FollowerStartsElectionAfterTimeout) {
  Solo n(make_config(1, kThree));
  int ticks = n.tick_until_role_changes();
  EXPECT_GE(ticks, 10);
  EXPECT_LT(ticks, 20);
  EXPECT_EQ(n.status().role, Role::pre_candidate);
  EXPECT_EQ(n.status().term, 0u);
  Ready pre = n.ready();
  EXPECT_TRUE(pre.send_now.empty());
  auto asks = only<VoteRequest>(pre.send_after_sync);
  ASSERT_EQ(asks.size(), 2u) << describe_all(pre.send_after_sync);
  for (auto& [m, req] : asks) {
    EXPECT_TRUE(req.pre_vote);
    EXPECT_EQ(m.term, 1u);
  }
  EXPECT_EQ(n.log.hard_state().term, 0u);

  n->step(vote_response(2, 1, 1, true, true));
  EXPECT_EQ(n.status().role, Role::candidate);
  EXPECT_EQ(n.status().term, 1u);
  EXPECT_EQ(n.status().voted_for, 1u);
  Ready vote = n.ready_without_sync();
  EXPECT_TRUE(vote.needs_sync);
  EXPECT_TRUE(vote.send_now.empty());
  auto requests = only<VoteRequest>(vote.send_after_sync);
  ASSERT_EQ(requests.size(), 2u);
  for (auto& [m, req] : requests) {
    EXPECT_FALSE(req.pre_vote);
    EXPECT_EQ(m.term, 1u);
  }
  EXPECT_EQ(n.log.hard_state(), (HardState{1, 1}));  // written; the driver syncs it

  n->step(vote_response(3, 1, 1, true));
  EXPECT_EQ(n.status().role, Role::leader);
}

// The ticks at which a node that never hears back starts a (pre-vote) campaign.
std::vector<int> campaign_ticks(const RaftConfig& cfg, int ticks) {
  Solo n(cfg);
  std::vector<int> at;
  for (int t = 1; t <= ticks; ++t) {
    n->tick();
    if (!only<VoteRequest>(n.ready().send_after_sync).empty()) at.push_back(t);
  }
  return at;
}

// §5.2: timeouts are random in [election_ticks, 2 * election_ticks), drawn again for
// every round, and reproducible: the same seed and id give the same schedule.
TEST(RaftCore, ElectionTimeoutRandomized) {
  std::set<int> timeouts;
  std::set<std::vector<int>> schedules;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    for (NodeId id : kThree) {
      RaftConfig cfg = make_config(id, kThree);
      cfg.seed = seed;
      std::vector<int> at = campaign_ticks(cfg, 200);
      EXPECT_EQ(at, campaign_ticks(cfg, 200)) << "seed " << seed << " id " << id;
      ASSERT_GE(at.size(), 10u);
      for (std::size_t i = 0; i < at.size(); ++i) {
        int timeout = at[i] - (i == 0 ? 0 : at[i - 1]);
        EXPECT_GE(timeout, 10);
        EXPECT_LT(timeout, 20);
        timeouts.insert(timeout);
      }
      schedules.insert(at);
    }
  }
  EXPECT_GE(timeouts.size(), 8u);     // spread over the whole range
  EXPECT_EQ(schedules.size(), 30u);  // the seed and the id both change the schedule
}

// §5.2: at most one vote per term, first come first served; persisted before answering.
TEST(RaftCore, VoteGrantedAtMostOncePerTerm) {
  Solo n(make_config(1, kThree));
  n->step(vote_request(2, 1, 1, {0, 0}));
  Ready first = n.ready_without_sync();
  EXPECT_TRUE(first.needs_sync);
  auto granted = only<VoteResponse>(first.send_after_sync, 2);
  ASSERT_EQ(granted.size(), 1u);
  EXPECT_TRUE(granted[0].second.granted);
  EXPECT_EQ(n.log.hard_state(), (HardState{1, 2}));
  ASSERT_TRUE(n.log.sync().ok());
  n->on_synced(n.log.last_index());

  n->step(vote_request(3, 1, 1, {0, 0}));
  auto refused = only<VoteResponse>(n.ready().send_after_sync, 3);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_FALSE(refused[0].second.granted);
  EXPECT_EQ(n.status().voted_for, 2u);

  n->step(vote_request(2, 1, 1, {0, 0}));  // the same candidate asking again: same answer
  auto again = only<VoteResponse>(n.ready().send_after_sync, 2);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].second.granted);
}

// §5.4.1: no vote for a candidate whose log is less up to date (last term, then length).
TEST(RaftCore, VoteRefusedForStaleLog) {
  auto granted = [](LogId candidate_last) {
    Solo n(make_config(1, kThree), make_entries({{1, 1}, {2, 2}}), HardState{2, 0});
    n->step(vote_request(2, 1, 3, candidate_last));
    auto v = only<VoteResponse>(n.ready().send_after_sync, 2);
    EXPECT_EQ(v.size(), 1u);
    return !v.empty() && v[0].second.granted;
  };
  EXPECT_FALSE(granted({3, 1}));  // longer, but an older last term
  EXPECT_FALSE(granted({1, 2}));  // same last term, shorter
  EXPECT_TRUE(granted({2, 2}));   // equal
  EXPECT_TRUE(granted({1, 3}));   // newer last term wins even if shorter
}

// Thesis §4.2.3: a server that heard from a leader within the minimum election timeout
// ignores vote requests (no term change, no answer) unless a leadership transfer asks.
TEST(RaftCore, VoteRequestIgnoredWithinLeaderLease) {
  Solo n(make_config(1, kThree));
  n->step(append(2, 1, 1, {0, 0}));
  (void)n.ready();
  n->step(vote_request(3, 1, 2, {5, 1}));
  n->step(vote_request(3, 1, 2, {5, 1}, true));
  Ready ignored = n.ready();
  EXPECT_TRUE(ignored.send_after_sync.empty()) << describe_all(ignored.send_after_sync);
  EXPECT_EQ(n.status().term, 1u);
  EXPECT_EQ(n.status().leader, 2u);

  n->step(vote_request(3, 1, 2, {5, 1}, false, true));  // leadership transfer
  auto v = only<VoteResponse>(n.ready().send_after_sync, 3);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0].second.granted);
  EXPECT_EQ(n.status().term, 2u);
}

// ... and once the leader has been silent for election_ticks, votes are possible again.
TEST(RaftCore, VoteGrantedAfterLeaderLeaseExpires) {
  RaftConfig cfg = make_config(1, kThree);
  cfg.seed = 7;
  Solo n(cfg);
  n->step(append(2, 1, 1, {0, 0}));
  for (int i = 0; i < 10; ++i) n->tick();  // below the randomized timeout
  ASSERT_EQ(n.status().role, Role::follower);
  n->step(vote_request(3, 1, 2, {5, 1}));
  auto v = only<VoteResponse>(n.ready().send_after_sync, 3);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0].second.granted);
}

// Thesis §9.6: granting a pre-vote changes nothing on the receiver (no term, no vote,
// nothing to persist), and asking for one changes nothing on the sender.
TEST(RaftCore, PreVoteDoesNotChangeTerm) {
  Solo voter(make_config(1, kThree), {}, HardState{1, 0});
  voter->step(vote_request(2, 1, 2, {0, 0}, true));
  Ready r = voter.ready_without_sync();
  EXPECT_FALSE(r.needs_sync);
  auto v = only<VoteResponse>(r.send_after_sync, 2);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0].second.granted);
  EXPECT_TRUE(v[0].second.pre_vote);
  EXPECT_EQ(v[0].first.term, 2u);  // the campaign term, so the asker can count it
  EXPECT_EQ(voter.status().term, 1u);
  EXPECT_EQ(voter.status().voted_for, 0u);

  Solo asker(make_config(2, kThree), {}, HardState{1, 0});
  ASSERT_GT(asker.tick_until_role_changes(), 0);
  EXPECT_EQ(asker.status().role, Role::pre_candidate);
  EXPECT_EQ(asker.status().term, 1u);
  EXPECT_FALSE(asker.ready_without_sync().needs_sync);
}

// §9.6: a rejected pre-vote carrying a higher term does update the pre-candidate.
TEST(RaftCore, PreVoteRejectionWithHigherTermUpdatesTerm) {
  Solo n(make_config(1, kThree), {}, HardState{1, 0});
  ASSERT_GT(n.tick_until_role_changes(), 0);
  n->step(vote_response(2, 1, 5, false, true));
  EXPECT_EQ(n.status().role, Role::follower);
  EXPECT_EQ(n.status().term, 5u);
}

// §9.6: a majority of pre-vote rejections ends the round; stale grants do not count.
TEST(RaftCore, PreVoteNeedsMajorityOfGrants) {
  Solo n(make_config(1, {1, 2, 3, 4, 5}), {}, HardState{3, 0});
  ASSERT_GT(n.tick_until_role_changes(), 0);
  n->step(vote_response(2, 1, 3, true, true));  // names our term, not the campaign's: stale
  n->step(vote_response(3, 1, 4, true, true));
  EXPECT_EQ(n.status().role, Role::pre_candidate);
  n->step(vote_response(3, 1, 4, true, true));  // a duplicate counts once
  EXPECT_EQ(n.status().role, Role::pre_candidate);
  n->step(vote_response(4, 1, 3, false, true));
  n->step(vote_response(5, 1, 3, false, true));
  n->step(vote_response(2, 1, 3, false, true));
  EXPECT_EQ(n.status().role, Role::follower);
  EXPECT_EQ(n.status().term, 3u);
}

// Thesis §9.6 + §4.2.3: a partitioned server keeps failing pre-votes without raising its
// term; when it rejoins, nobody listens to it and the leader keeps its term.
TEST(RaftCore, PreVoteRejoiningNodeDoesNotDisruptLeader) {
  Network net(kThree);
  NodeId leader = net.elect(1);
  ASSERT_EQ(leader, 1u);
  std::uint64_t term = net.core(1).status().term;
  net.isolate(3);
  for (int i = 0; i < 100; ++i) {
    net.tick_all();
    net.settle();
  }
  EXPECT_EQ(net.core(3).status().term, term);
  EXPECT_NE(net.core(3).status().role, Role::leader);
  net.heal();
  for (int i = 0; i < 5; ++i) {
    net.tick_all();
    net.settle();
  }
  EXPECT_EQ(net.leader(), 1u);
  EXPECT_EQ(net.core(1).status().term, term);
  EXPECT_EQ(net.core(3).status().role, Role::follower);
  EXPECT_EQ(net.core(3).status().leader, 1u);
}

// Without pre-vote the same partition makes the isolated server's term climb (the
// disruption pre-vote exists to prevent).
TEST(RaftCore, WithoutPreVoteIsolatedNodeRaisesItsTerm) {
  Network net(kThree, {}, [](RaftConfig& c) { c.pre_vote = false; });
  ASSERT_EQ(net.elect(1), 1u);
  std::uint64_t term = net.core(1).status().term;
  net.isolate(3);
  for (int i = 0; i < 100; ++i) {
    net.tick_all();
    net.settle();
  }
  EXPECT_GT(net.core(3).status().term, term + 2);
}

// Learners are in no quorum: they never campaign. Asked for a vote they answer (thesis
// §4.1, as etcd's learners do): only a candidate whose newer configuration already made
// them voters asks, and only its count includes them.
TEST(RaftCore, LearnerNeverCampaignsButAnswersVoteRequests) {
  Solo n(make_config(4, kThree, {4}));
  EXPECT_EQ(n.status().role, Role::learner);
  for (int i = 0; i < 200; ++i) n->tick();
  EXPECT_EQ(n.status().role, Role::learner);
  EXPECT_TRUE(n.ready().send_after_sync.empty());
  n->step(vote_request(2, 4, 1, {9, 9}));
  auto v = only<VoteResponse>(n.ready().send_after_sync);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0].second.granted);
  EXPECT_EQ(n.status().voted_for, 2u);
  EXPECT_EQ(n.status().role, Role::learner);
  for (int i = 0; i < 200; ++i) n->tick();
  EXPECT_TRUE(only<VoteRequest>(n.ready().send_after_sync).empty());
}

// A cluster of one voter elects itself on its first timeout, pre-vote or not.
TEST(RaftCore, SingleNodeElectsItselfOnTimeout) {
  for (bool pre_vote : {true, false}) {
    RaftConfig cfg = make_config(1, {1});
    cfg.pre_vote = pre_vote;
    Solo n(cfg);
    int ticks = n.tick_until_role_changes();
    EXPECT_GE(ticks, 10);
    EXPECT_EQ(n.status().role, Role::leader);
    EXPECT_EQ(n.status().term, 1u);
    EXPECT_EQ(n.status().voted_for, 1u);
  }
}

}  // namespace
}  // namespace raftor::raft::test
