// Membership changes, one server at a time (thesis chapter 4): configuration entries in
// force as soon as they are in the log (§4.1), one uncommitted change at a time and only
// after the leader committed an entry of its term (§4.1 safety fix), learners (§4.2.1),
// removal of followers and of the leader (§4.2.2), disruptive removed servers (§4.2.3),
// the configuration in snapshots and across restarts.
#include "core_test_util.hpp"
#include "raftor/actors/raft/core/config_history.hpp"

namespace raftor::raft::test {
namespace {

const std::vector<NodeId> kThree{1, 2, 3};

ConfigChange add_learner(NodeId id, std::string address = {}) {
  return {ConfigChangeType::add_learner, id, std::move(address)};
}
ConfigChange promote(NodeId id) { return {ConfigChangeType::promote, id, {}}; }
ConfigChange remove_node(NodeId id) { return {ConfigChangeType::remove, id, {}}; }

Entry config_entry(std::uint64_t index, std::uint64_t term, Membership m) {
  return Entry{index, term, EntryType::config, encode_membership(m)};
}

// Proposes `change` at the leader and settles; returns the entry's index.
std::uint64_t change(Network& net, NodeId leader, const ConfigChange& c) {
  auto index = net.core(leader).propose_config_change(c);
  EXPECT_TRUE(index.ok()) << index.error().to_string();
  net.settle();
  return index.ok() ? *index : 0;
}

// --- the configuration history and the change rules ---------------------------------------

TEST(ConfigHistory, LatestInForceTruncationFallsBackSnapshotRebases) {
  ConfigHistory h(Membership{{3, 1, 2}, {}, {}}, 0);
  EXPECT_EQ(h.current().voters, (std::vector<NodeId>{1, 2, 3}));  // kept sorted
  h.append(5, Membership{{1, 2, 3}, {4}, {}});
  h.append(9, Membership{{1, 2, 3, 4}, {}, {}});
  EXPECT_EQ(h.current_index(), 9u);
  EXPECT_EQ(h.at(4).learners, std::vector<NodeId>{});
  EXPECT_EQ(h.at(5).learners, std::vector<NodeId>{4});
  EXPECT_EQ(h.at(100).voters.size(), 4u);
  EXPECT_FALSE(h.truncate(10));  // nothing at or after 10
  EXPECT_TRUE(h.truncate(9));    // §4.1: back to the previous configuration
  EXPECT_EQ(h.current_index(), 5u);
  h.compact(7);  // the configuration in force at 7 (from 5) stays answerable
  EXPECT_EQ(h.at(7).learners, std::vector<NodeId>{4});
  EXPECT_FALSE(h.truncate(1));  // never below the base
  h.rebase(20, Membership{{2}, {}, {}});
  EXPECT_EQ(h.current_index(), 20u);
  EXPECT_EQ(h.current().voters, std::vector<NodeId>{2});
}

TEST(ConfigHistory, ChangeRulesRejectWhatDoesNotFit) {
  const Membership m{{1, 2, 3}, {4}, {}};
  auto expect_invalid = [&](ConfigChange c, const std::string& words) {
    auto r = apply_change(m, c);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().message;
  };
  expect_invalid(add_learner(2), "already a voter");
  expect_invalid(add_learner(4), "already a learner");
  expect_invalid(add_learner(0), "no node");
  expect_invalid(promote(1), "already a voter");
  expect_invalid(promote(9), "not a member");
  expect_invalid(remove_node(9), "not a member");
  auto single = apply_change(Membership{{1}, {}, {}}, remove_node(1));
  ASSERT_FALSE(single.ok());
  EXPECT_NE(single.error().message.find("last voter"), std::string::npos);

  auto added = apply_change(m, add_learner(5, "10.0.0.5:7000"));
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(added->learners, (std::vector<NodeId>{4, 5}));
  EXPECT_EQ(added->addresses.at(5), "10.0.0.5:7000");
  auto promoted = apply_change(m, promote(4));
  ASSERT_TRUE(promoted.ok());
  EXPECT_EQ(promoted->voters, (std::vector<NodeId>{1, 2, 3, 4}));
  EXPECT_TRUE(promoted->learners.empty());
  auto removed = apply_change(*added, remove_node(5));
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, m);  // its address goes too

  auto round_trip = decode_membership(encode_membership(*added));
  ASSERT_TRUE(round_trip.ok());
  EXPECT_EQ(*round_trip, *added);
  EXPECT_FALSE(decode_membership("not a membership \xff").ok());
}

// --- the leader's rules ------------------------------------------------------------------

// §4.1 safety fix: no configuration entry before an entry of the leader's term commits.
TEST(RaftMembership, NoChangeBeforeLeaderCommittedItsTerm) {
  Solo n(make_config(1, kThree));
  n.make_leader();
  (void)n.ready();
  auto early = n->propose_config_change(add_learner(4));
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, ErrorCode::busy);
  EXPECT_NE(early.error().message.find("§4.1"), std::string::npos);
  const std::uint64_t term = n.status().term;
  n->step(append_ok(2, 1, term, n.log.last_index()));
  ASSERT_EQ(n.status().commit, n.log.last_index());
  EXPECT_TRUE(n->propose_config_change(add_learner(4)).ok());
}

// §4.1: in force in the leader's log at once, committed or not; one change at a time.
TEST(RaftMembership, OneUncommittedChangeAtATimeInForceAtOnce) {
  Solo n(make_config(1, kThree));
  n.make_leader_with_followers_in_sync();
  auto index = n->propose_config_change(add_learner(4, "h4:1"));
  ASSERT_TRUE(index.ok());
  CoreStatus s = n.status();
  EXPECT_EQ(s.membership.learners, std::vector<NodeId>{4});
  EXPECT_EQ(s.membership.addresses.at(4), "h4:1");
  EXPECT_EQ(s.config_index, *index);
  EXPECT_TRUE(s.config_pending);
  Ready r = n.ready();
  ASSERT_TRUE(r.membership.has_value());  // the driver connects to node 4 now
  EXPECT_EQ(r.membership->learners, std::vector<NodeId>{4});
  // The new learner is replicated to at once (probing from the leader's log end).
  EXPECT_FALSE(only<AppendRequest>(r.send_now, 4).empty()) << describe_all(r.send_now);

  auto second = n->propose_config_change(add_learner(5));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::busy);
  EXPECT_NE(second.error().message.find("one change at a time"), std::string::npos);
  // Commitment needs a majority of voters: the learner's acknowledgement counts for nothing.
  const std::uint64_t term = s.term;
  n->step(append_ok(4, 1, term, *index));
  EXPECT_LT(n.status().commit, *index);
  n->step(append_ok(2, 1, term, *index));
  EXPECT_EQ(n.status().commit, *index);
  EXPECT_FALSE(n.status().config_pending);
  EXPECT_TRUE(n->propose_config_change(add_learner(5)).ok());
  // Configuration entries only through propose_config_change().
  auto raw = n->propose({"x"}, EntryType::config);
  ASSERT_FALSE(raw.ok());
  EXPECT_EQ(raw.error().code, ErrorCode::invalid_argument);
}

TEST(RaftMembership, InvalidChangesAndFollowersRefuse) {
  Solo n(make_config(1, kThree, {4}));
  auto follower = n->propose_config_change(add_learner(5));
  ASSERT_FALSE(follower.ok());
  EXPECT_EQ(follower.error().code, ErrorCode::not_leader);
  n.make_leader_with_followers_in_sync();
  auto r = n->propose_config_change(promote(2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message.find("already a voter"), std::string::npos);
}

// --- learners ------------------------------------------------------------------------------

// §4.2.1: a node added as a learner catches up from the log, applies, never votes nor
// campaigns; it is promoted by command and then counts.
TEST(RaftMembership, LearnerCatchesUpNeverVotesThenPromoted) {
  Network net(kThree);
  ASSERT_EQ(net.elect(1), 1u);
  ASSERT_TRUE(net.core(1).propose({"a", "b", "c"}).ok());
  net.settle();
  net.add_node(4, kThree, {4});
  const std::uint64_t added = change(net, 1, add_learner(4));
  EXPECT_EQ(net.node(4).log.last_log_id(), net.node(1).log.last_log_id());
  EXPECT_EQ(net.node(4).applied.size(), net.node(1).log.last_index());
  for (NodeId id : {1, 2, 3, 4}) {
    EXPECT_EQ(net.core(id).status().membership.learners, std::vector<NodeId>{4}) << id;
    EXPECT_EQ(net.core(id).status().config_index, added) << id;
  }
  EXPECT_EQ(net.core(4).status().role, Role::learner);
  // A learner hearing nothing never campaigns.
  net.isolate(1);
  for (int i = 0; i < 100; ++i) net.tick(4);
  net.collect();
  for (const Message& m : net.queue()) {
    EXPECT_NE(m.from, 4u) << describe(m);
  }
  net.queue().clear();
  net.heal();

  const std::uint64_t promoted = change(net, 1, promote(4));
  for (NodeId id : {1, 2, 3, 4}) {
    EXPECT_EQ(net.core(id).status().membership.voters, (std::vector<NodeId>{1, 2, 3, 4})) << id;
    EXPECT_GE(net.core(id).status().commit, promoted) << id;
  }
  EXPECT_EQ(net.core(4).status().role, Role::follower);
  // Four voters: a write needs three acknowledgements. With 2 and 3 cut off, 1 and 4 are
  // not enough; with only 3 cut off, they are.
  net.isolate(2);
  net.isolate(3);
  auto w = net.core(1).propose({"d"});
  ASSERT_TRUE(w.ok());
  net.settle();
  EXPECT_LT(net.core(1).status().commit, *w);
  net.heal();
  net.isolate(3);
  for (NodeId id : {1, 2, 4}) net.tick(id);
  net.settle();
  EXPECT_GE(net.core(1).status().commit, *w);
}

// §4.2.1 with automatic promotion: a learner within the configured lag becomes a voter.
TEST(RaftMembership, LearnerPromotedAutomaticallyWithinLag) {
  Network net(kThree, {}, [](RaftConfig& c) { c.promote_learner_lag = 2; });
  ASSERT_EQ(net.elect(1), 1u);
  net.add_node(4, kThree, {4});
  net.isolate(4);  // far behind: not promoted
  change(net, 1, add_learner(4));
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(net.core(1).propose({"x" + std::to_string(i)}).ok());
    net.tick(1);
    net.settle();
  }
  EXPECT_EQ(net.core(1).status().membership.learners, std::vector<NodeId>{4});
  net.heal();
  for (int i = 0; i < 5; ++i) {
    net.tick(1);
    net.settle();
  }
  for (NodeId id : {1, 2, 3, 4}) {
    EXPECT_EQ(net.core(id).status().membership.voters, (std::vector<NodeId>{1, 2, 3, 4})) << id;
  }
  EXPECT_EQ(net.core(4).status().role, Role::follower);
}

// Thesis §4.1 (servers answer RPCs whatever their own configuration says): a learner
// whose promotion reached the candidate but not itself still votes, or the three live
// voters of {1,2,3,4} could never elect a leader while node 1 is gone.
TEST(RaftMembership, LearnerThatMissedItsPromotionStillVotes) {
  Network net(kThree, {4});
  ASSERT_EQ(net.elect(1), 1u);
  net.isolate(3);
  net.isolate(4);
  ASSERT_TRUE(net.core(1).propose_config_change(promote(4)).ok());
  net.settle();  // reaches node 2 only: not committed (3 of 4 needed)
  ASSERT_EQ(net.core(2).status().membership.voters, (std::vector<NodeId>{1, 2, 3, 4}));
  ASSERT_EQ(net.core(4).status().role, Role::learner);
  net.heal();
  net.isolate(1);
  const std::uint64_t term = net.core(1).status().term;
  for (int i = 0; i < 200 && net.core(2).status().role != Role::leader; ++i) {
    for (NodeId id : {2, 3, 4}) net.tick(id);
    net.settle();
  }
  ASSERT_EQ(net.core(2).status().role, Role::leader);
  EXPECT_GT(net.core(2).status().term, term);
  net.settle();
  EXPECT_EQ(net.core(4).status().role, Role::follower);  // its promotion arrived
  EXPECT_FALSE(net.core(2).status().config_pending);
}

// A learner whose entries were purged at the leader catches up by snapshot; the
// configuration travels in the snapshot's metadata.
TEST(RaftMembership, LearnerCatchesUpBySnapshotWithConfiguration) {
  Network net(kThree);
  ASSERT_EQ(net.elect(1), 1u);
  net.add_node(4, kThree, {4});
  net.isolate(4);
  change(net, 1, add_learner(4, "h4:1"));
  ASSERT_TRUE(net.core(1).propose({"a", "b"}).ok());
  net.settle();
  net.compact(1);
  ASSERT_GT(net.node(1).log.first_index(), 2u);
  net.heal();
  net.tick(1);
  net.settle();
  EXPECT_EQ(net.node(4).snapshots_installed, 1);
  EXPECT_EQ(net.node(4).applied.size(), net.node(1).applied.size());
  CoreStatus s = net.core(4).status();
  EXPECT_EQ(s.membership.learners, std::vector<NodeId>{4});
  EXPECT_EQ(s.membership.addresses.at(4), "h4:1");
  ASSERT_FALSE(net.node(4).memberships.empty());
  EXPECT_EQ(net.node(4).memberships.back().learners, std::vector<NodeId>{4});
}

// --- followers: in force once in the log, undone with it ----------------------------------

TEST(RaftMembership, FollowerUsesUncommittedConfigAndFallsBackWhenTruncated) {
  Solo n(make_config(2, kThree));
  const Membership grown{{1, 2, 3}, {4}, {}};
  n->step(append(1, 2, 1, {0, 0}, {config_entry(1, 1, grown)}, 0));
  EXPECT_EQ(n.status().membership, grown);  // §4.1: not committed, already in force
  EXPECT_TRUE(n.status().config_pending);
  Ready r = n.ready();
  ASSERT_TRUE(r.membership.has_value());
  EXPECT_EQ(*r.membership, grown);
  // A leader of term 2 never had that entry: it is replaced, the configuration falls back.
  n->step(append(3, 2, 2, {0, 0}, make_entries({{1, 2}}), 0));
  EXPECT_EQ(n.status().membership.learners, std::vector<NodeId>{});
  EXPECT_EQ(n.status().config_index, 0u);
  Ready back = n.ready();
  ASSERT_TRUE(back.membership.has_value());
  EXPECT_EQ(back.membership->voters, kThree);
}

// A follower removed by an entry in its log stops campaigning at once (§4.1 + §4.2.3).
TEST(RaftMembership, RemovedFollowerStopsCampaigning) {
  Solo n(make_config(3, kThree));
  n->step(append(1, 3, 1, {0, 0}, {config_entry(1, 1, Membership{{1, 2}, {}, {}})}, 1));
  (void)n.ready();
  EXPECT_EQ(n.status().role, Role::learner);
  for (int i = 0; i < 100; ++i) n->tick();
  EXPECT_TRUE(only<VoteRequest>(n.ready().send_after_sync).empty());
}

// --- removal --------------------------------------------------------------------------------

TEST(RaftMembership, RemovedFollowerLearnsOfItAndIsNoLongerReplicated) {
  Network net(kThree);
  ASSERT_EQ(net.elect(1), 1u);
  const std::uint64_t index = change(net, 1, remove_node(3));
  EXPECT_EQ(net.core(1).status().membership.voters, (std::vector<NodeId>{1, 2}));
  EXPECT_GE(net.core(1).status().commit, index);
  // Node 3 got the entry that removed it before the leader forgot it.
  EXPECT_EQ(net.core(3).status().membership.voters, (std::vector<NodeId>{1, 2}));
  EXPECT_EQ(net.core(3).status().role, Role::learner);
  ASSERT_TRUE(net.core(1).propose({"after"}).ok());
  net.tick(1);
  auto delivered = net.settle();
  for (const Message& m : delivered) EXPECT_NE(m.to, 3u) << describe(m);
  // Two voters: both are needed, node 3 is not.
  EXPECT_EQ(net.core(1).status().commit, net.node(1).log.last_index());
}

// §4.2.2: a leader removing itself keeps leading (without counting itself) until the
// change commits, then steps down, handing over to a caught-up voter (TimeoutNow).
TEST(RaftMembership, RemovedLeaderStepsDownAfterCommitAndHandsOver) {
  Network net(kThree);
  ASSERT_EQ(net.elect(1), 1u);
  const std::uint64_t term = net.core(1).status().term;
  auto index = net.core(1).propose_config_change(remove_node(1));
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(net.core(1).status().role, Role::leader);  // not yet committed
  auto delivered = net.settle();
  EXPECT_NE(net.core(1).status().role, Role::leader);
  EXPECT_EQ(net.core(1).status().membership.voters, (std::vector<NodeId>{2, 3}));
  bool handed = false;
  for (const Message& m : delivered) {
    if (std::holds_alternative<TimeoutNow>(m.body)) handed = m.from == 1;
  }
  EXPECT_TRUE(handed) << describe_all(delivered);
  const NodeId next = net.leader();
  ASSERT_TRUE(next == 2 || next == 3);  // elected without waiting for a timeout
  EXPECT_EQ(net.core(next).status().term, term + 1);
  // The new leader commits without node 1; node 1 never campaigns again.
  ASSERT_TRUE(net.core(next).propose({"x"}).ok());
  net.settle();
  EXPECT_EQ(net.core(next).status().commit, net.node(next).log.last_index());
  for (int i = 0; i < 100; ++i) net.tick(1);
  net.collect();
  for (const Message& m : net.queue()) EXPECT_NE(m.from, 1u) << describe(m);
}

// §4.2.3: a removed server that never learnt of it times out and asks for votes with
// higher terms; servers that hear from the leader ignore it, and the leader stays.
TEST(RaftMembership, RemovedServerDoesNotDisruptTheCluster) {
  Network net(kThree, {}, [](RaftConfig& c) { c.pre_vote = false; });
  ASSERT_EQ(net.elect(1), 1u);
  net.isolate(3);
  change(net, 1, remove_node(3));
  ASSERT_EQ(net.core(3).status().membership.voters, kThree);  // it never heard
  const std::uint64_t term = net.core(1).status().term;
  net.heal();
  for (int i = 0; i < 60; ++i) {
    net.tick_all();
    net.settle();
  }
  EXPECT_EQ(net.leader(), 1u);
  EXPECT_EQ(net.core(1).status().term, term);
  EXPECT_EQ(net.core(2).status().term, term);
  EXPECT_GT(net.core(3).status().term, term);  // it tried
}

// --- restart and snapshots -----------------------------------------------------------------

TEST(RaftMembership, ConfigurationSurvivesRestartFromLogAndSnapshot) {
  Solo n(make_config(1, kThree));
  n.make_leader_with_followers_in_sync();
  auto index = n->propose_config_change(add_learner(4, "h4:1"));
  ASSERT_TRUE(index.ok());
  (void)n.ready();
  n.restart();
  EXPECT_EQ(n.status().membership.learners, std::vector<NodeId>{4});
  EXPECT_EQ(n.status().config_index, *index);
  EXPECT_EQ(n->membership_at(*index - 1).learners, std::vector<NodeId>{});
  EXPECT_EQ(n->membership_at(*index).learners, std::vector<NodeId>{4});

  // The log purged below a snapshot that recorded a membership: that one is in force...
  MemoryRaftLog log;
  SnapshotMetadata snap;
  snap.last_included = {10, 2};
  snap.membership = Membership{{1, 2}, {5}, {}};
  ASSERT_TRUE(log.purge_prefix(snap.last_included).ok());
  RaftCore from_snapshot(make_config(1, kThree), log, 10, snap);
  EXPECT_EQ(from_snapshot.status().membership, snap.membership);
  EXPECT_EQ(from_snapshot.status().config_index, 10u);
  // ...until a configuration entry after it in the log overrides it.
  const Entry later = config_entry(11, 2, Membership{{1, 2, 5}, {}, {}});
  ASSERT_TRUE(log.append({&later, 1}).ok());
  RaftCore with_entry(make_config(1, kThree), log, 10, snap);
  EXPECT_EQ(with_entry.status().membership.voters, (std::vector<NodeId>{1, 2, 5}));
  // An existing log without configuration entries keeps the bootstrap configuration.
  MemoryRaftLog plain;
  auto entries = entry_run(1, 5, 1);
  ASSERT_TRUE(plain.append(entries).ok());
  RaftCore bootstrap(make_config(1, kThree), plain);
  EXPECT_EQ(bootstrap.status().membership.voters, kThree);
  EXPECT_EQ(bootstrap.status().config_index, 0u);
}

}  // namespace
}  // namespace raftor::raft::test
