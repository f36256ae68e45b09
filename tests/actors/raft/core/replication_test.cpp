// Log replication and commitment: Raft §5.3, §5.4.2, §8, figure 2's AppendEntries rules;
// flow control and group commit (etcd's Progress, thesis §10.2).
#include "core_test_util.hpp"

namespace raftor::raft::test {
namespace {

const std::vector<NodeId> kThree{1, 2, 3};

std::vector<Entry> log_of(const MemoryRaftLog& log) {
  auto all = log.entries(log.first_index(), log.last_index() + 1);
  EXPECT_TRUE(all.ok());
  return all.ok() ? *all : std::vector<Entry>{};
}

// §8: a new leader appends a no-op of its term and starts replicating it at once.
TEST(RaftCore, LeaderAppendsNoopOnElection) {
  Solo n(make_config(1, kThree), make_entries({{1, 1}}), HardState{1, 0});
  n.make_leader();
  EXPECT_EQ(n.status().term, 2u);
  ASSERT_EQ(n.log.last_index(), 2u);
  auto noop = n.log.entries(2, 3);
  ASSERT_TRUE(noop.ok());
  EXPECT_EQ((*noop)[0].type, EntryType::noop);
  EXPECT_EQ((*noop)[0].term, 2u);
  EXPECT_TRUE((*noop)[0].payload.empty());
  Ready r = n.ready();
  EXPECT_TRUE(r.needs_sync);
  for (NodeId peer : {2, 3}) {
    auto sent = only<AppendRequest>(r.send_now, peer);
    ASSERT_EQ(sent.size(), 1u) << describe_all(r.send_now);
    EXPECT_EQ(sent[0].second.prev, (LogId{1, 1}));
    ASSERT_EQ(sent[0].second.entries.size(), 1u);
    EXPECT_EQ(sent[0].second.entries[0].index, 2u);
  }
}

// §5.2: the leader sends empty AppendEntries every heartbeat_ticks, carrying leaderCommit,
// with a fresh read context each round.
TEST(RaftCore, LeaderBcastBeat) {
  RaftConfig cfg = make_config(1, kThree);
  cfg.heartbeat_ticks = 3;
  Solo n(cfg);
  n.make_leader_with_followers_in_sync();
  ASSERT_EQ(n.status().commit, 1u);
  std::uint64_t last_context = 0;
  for (int round = 0; round < 2; ++round) {
    n->tick();
    n->tick();
    EXPECT_TRUE(only<AppendRequest>(n.ready().send_now).empty());
    n->tick();
    Ready r = n.ready();
    EXPECT_TRUE(r.send_after_sync.empty());
    auto beats = only<AppendRequest>(r.send_now);
    ASSERT_EQ(beats.size(), 2u) << describe_all(r.send_now);
    for (auto& [m, req] : beats) {
      EXPECT_TRUE(req.entries.empty());
      EXPECT_EQ(req.commit, 1u);
      EXPECT_EQ(req.prev, (LogId{1, 1}));
      EXPECT_EQ(m.term, 1u);
      EXPECT_GT(req.read_context, last_context);
    }
    last_context = beats[0].second.read_context;
  }
}

// §5.4.2 / figure 8: a leader never commits an entry of an earlier term by counting
// replicas; it becomes committed once an entry of the current term is.
TEST(RaftCore, LeaderCommitsOnlyCurrentTermByCounting) {
  Solo n(make_config(1, kThree), make_entries({{1, 1}, {2, 2}}), HardState{2, 0});
  n.make_leader();  // term 3, no-op at index 3
  (void)n.ready();
  ASSERT_EQ(n.status().term, 3u);
  n->step(append_ok(2, 1, 3, 2));  // index 2 (term 2) is now on a majority
  EXPECT_EQ(n.status().commit, 0u);
  EXPECT_EQ(n.ready().apply_to, 0u);
  n->step(append_ok(2, 1, 3, 3));  // the no-op of term 3 reaches the majority
  EXPECT_EQ(n.status().commit, 3u);
  Ready r = n.ready();
  EXPECT_EQ(r.apply_from, 1u);
  EXPECT_EQ(r.apply_to, 3u);
}

// The leader's own copy counts only once synced (on_synced): no acknowledgement from
// memory. A majority of followers alone may commit, but nothing is applied locally
// before the local sync.
TEST(RaftCore, LeaderCountsItselfOnlyAfterSync) {
  Solo n(make_config(1, kThree));
  n.make_leader_with_followers_in_sync();
  ASSERT_EQ(n.status().commit, 1u);

  auto first = n->propose({"a"});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 2u);
  Ready r = n.ready_without_sync();
  EXPECT_TRUE(r.needs_sync);
  EXPECT_EQ(only<AppendRequest>(r.send_now).size(), 2u);  // sent before our own sync
  n->step(append_ok(2, 1, 1, 2));
  EXPECT_EQ(n.status().commit, 1u);  // 2 of 3 would need our unsynced copy
  ASSERT_TRUE(n.log.sync().ok());
  n->on_synced(2);
  EXPECT_EQ(n.status().commit, 2u);
  EXPECT_EQ(n.ready().apply_to, 2u);

  ASSERT_TRUE(n->propose({"b"}).ok());
  (void)n.ready_without_sync();
  n->step(append_ok(2, 1, 1, 3));
  n->step(append_ok(3, 1, 1, 3));
  EXPECT_EQ(n.status().commit, 3u);  // both followers hold it durably
  Ready pending = n.ready_without_sync();
  EXPECT_EQ(pending.apply_to, 0u);   // ... but our log has not synced it yet
  EXPECT_TRUE(pending.needs_sync);
  ASSERT_TRUE(n.log.sync().ok());
  n->on_synced(3);
  Ready applied = n.ready();
  EXPECT_EQ(applied.apply_from, 3u);
  EXPECT_EQ(applied.apply_to, 3u);
}

// Figure 2: a follower acknowledges entries only after they are durable: the answer is in
// send_after_sync with needs_sync set; a crash before the sync loses both.
TEST(RaftCore, FollowerAcknowledgesOnlyAfterSync) {
  Solo n(make_config(2, kThree));
  n->step(append(1, 2, 1, {0, 0}, entry_run(1, 3, 1)));
  Ready r = n.ready_without_sync();
  EXPECT_TRUE(r.needs_sync);
  EXPECT_TRUE(r.send_now.empty());
  auto ack = only<AppendResponse>(r.send_after_sync, 1);
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_TRUE(ack[0].second.success);
  EXPECT_EQ(ack[0].second.match_index, 3u);
  EXPECT_TRUE(n.ready_without_sync().needs_sync);  // until the driver reports the sync

  n.restart();  // the driver crashed before syncing: the ack was never sent
  EXPECT_EQ(n.log.last_index(), 0u);
  EXPECT_EQ(n.status().term, 0u);

  n->step(append(1, 2, 1, {0, 0}, entry_run(1, 3, 1)));
  (void)n.ready();
  EXPECT_FALSE(n.ready().needs_sync);
  n.restart();
  EXPECT_EQ(n.log.last_index(), 3u);
}

// §5.3: reply false if the log has no entry at prev.index with prev.term; the log is left
// alone, and the answer carries the last entry that may still match.
TEST(RaftCore, FollowerRejectsMismatchedPrev) {
  Solo n(make_config(2, kThree), make_entries({{1, 1}, {2, 1}, {3, 2}}), HardState{2, 0});
  n->step(append(1, 2, 3, {3, 3}, make_entries({{4, 3}})));  // term differs at 3
  n->step(append(1, 2, 3, {6, 3}, make_entries({{7, 3}})));  // beyond our log
  n->step(append(1, 2, 3, {2, 2}, make_entries({{3, 3}})));  // term 1 at 2, not 2
  Ready r = n.ready();
  auto answers = only<AppendResponse>(r.send_after_sync, 1);
  ASSERT_EQ(answers.size(), 3u);
  for (auto& [m, resp] : answers) EXPECT_FALSE(resp.success);
  EXPECT_EQ(answers[0].second.conflict_index, 3u);  // (3, 2): term 2 <= 3 may match
  EXPECT_EQ(answers[0].second.conflict_term, 2u);
  EXPECT_EQ(answers[1].second.conflict_index, 3u);  // short log: our last entry
  EXPECT_EQ(answers[1].second.conflict_term, 2u);
  EXPECT_EQ(answers[2].second.conflict_index, 2u);  // (2, 1): term 1 <= 2
  EXPECT_EQ(answers[2].second.conflict_term, 1u);
  EXPECT_EQ(log_of(n.log), make_entries({{1, 1}, {2, 1}, {3, 2}}));
  EXPECT_EQ(n.status().leader, 1u);
  EXPECT_EQ(n.status().term, 3u);
}

// Figure 2 rule 3: an existing entry that conflicts with a new one (same index, other
// term) is deleted with everything after it; then the new entries are appended.
TEST(RaftCore, FollowerTruncatesConflictingSuffix) {
  Solo n(make_config(2, kThree), make_entries({{1, 1}, {2, 1}, {3, 2}, {4, 2}, {5, 2}}),
         HardState{2, 0});
  n->step(append(1, 2, 3, {2, 1}, make_entries({{3, 3}, {4, 3}}), 2));
  Ready r = n.ready();
  EXPECT_EQ(log_of(n.log), make_entries({{1, 1}, {2, 1}, {3, 3}, {4, 3}}));
  auto ack = only<AppendResponse>(r.send_after_sync, 1);
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_TRUE(ack[0].second.success);
  EXPECT_EQ(ack[0].second.match_index, 4u);
  EXPECT_EQ(n.status().commit, 2u);
  n.restart(0);  // durable after the sync
  EXPECT_EQ(log_of(n.log), make_entries({{1, 1}, {2, 1}, {3, 3}, {4, 3}}));
}

// Figure 2 rules 3-4: entries already present are skipped, never truncated, so a
// duplicated or reordered old AppendEntries is harmless and commit never goes back.
TEST(RaftCore, FollowerIgnoresStaleDuplicateAppend) {
  Solo n(make_config(2, kThree));
  n->step(append(1, 2, 1, {0, 0}, entry_run(1, 3, 1), 0));
  n->step(append(1, 2, 1, {3, 1}, entry_run(4, 5, 1), 4));
  (void)n.ready();
  n->step(append(1, 2, 1, {0, 0}, entry_run(1, 2, 1), 1));  // the old one, late
  Ready r = n.ready();
  EXPECT_FALSE(r.needs_sync);  // nothing was written
  EXPECT_EQ(n.log.last_index(), 5u);
  EXPECT_EQ(log_of(n.log), entry_run(1, 5, 1));
  EXPECT_EQ(n.status().commit, 4u);
  auto ack = only<AppendResponse>(r.send_after_sync, 1);
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_TRUE(ack[0].second.success);
  EXPECT_EQ(ack[0].second.match_index, 2u);  // true, and below the leader's match: no harm
}

// Figure 2 rule 5: commitIndex = min(leaderCommit, index of last new entry): a follower
// does not commit entries of its log the leader has not confirmed.
TEST(RaftCore, FollowerCommitIsMinOfLeaderCommitAndLastNewEntry) {
  Solo n(make_config(2, kThree), entry_run(1, 5, 1), HardState{1, 0});
  n->step(append(1, 2, 2, {2, 1}, {}, 5));  // a heartbeat confirming up to 2 only
  EXPECT_EQ(n.status().commit, 2u);
  n->step(append(1, 2, 2, {2, 1}, make_entries({{3, 1}}), 5));
  EXPECT_EQ(n.status().commit, 3u);
  n->step(append(1, 2, 2, {5, 1}, {}, 4));
  EXPECT_EQ(n.status().commit, 4u);
  Ready r = n.ready();
  EXPECT_EQ(r.apply_from, 1u);
  EXPECT_EQ(r.apply_to, 4u);
}

// §5.3 end (etcd's findConflictByTerm on both sides): the leader skips a whole
// conflicting term in one round trip instead of one entry per round trip.
TEST(RaftCore, FastBacktrackingSkipsConflictingTerm) {
  std::vector<Entry> leader_log = entry_run(1, 3, 1);
  for (const Entry& e : entry_run(4, 12, 4)) leader_log.push_back(e);
  std::vector<Entry> follower_log = entry_run(1, 3, 1);
  for (const Entry& e : entry_run(4, 20, 2)) follower_log.push_back(e);
  Solo leader(make_config(1, kThree), leader_log, HardState{4, 0});
  Solo follower(make_config(2, kThree), follower_log, HardState{2, 0});
  leader.make_leader();  // term 5, no-op at 13
  ASSERT_EQ(leader.status().term, 5u);

  int requests = 0;
  std::string trace;
  Ready out = leader.ready();
  for (int round = 0; round < 20; ++round) {
    auto to_follower = only<AppendRequest>(out.send_now, 2);
    if (to_follower.empty()) break;
    for (auto& [m, req] : to_follower) {
      if (!req.entries.empty()) ++requests;
      follower->step(m);
      trace += describe(m) + "\n";
    }
    for (const Message& m : follower.ready().send_after_sync) {
      trace += describe(m) + "\n";
      leader->step(m);
    }
    out = leader.ready();
  }
  // probe at 12 -> hint (12, 2) -> probe at 3 -> success (then only a commit notice)
  EXPECT_EQ(requests, 2) << trace;
  EXPECT_EQ(log_of(follower.log), log_of(leader.log));
  EXPECT_EQ(leader.status().commit, 13u);
}

// etcd's Progress: in probe state one AppendEntries at a time until the follower answers.
TEST(RaftCore, ProbeSendsOneAppendAtATime) {
  Solo n(make_config(1, kThree));
  n.make_leader();
  Ready first = n.ready();
  EXPECT_EQ(only<AppendRequest>(first.send_now, 2).size(), 1u);  // the no-op probe
  ASSERT_TRUE(n->propose({"a"}).ok());
  EXPECT_TRUE(only<AppendRequest>(n.ready().send_now, 2).empty());  // still probing
  n->step(append_ok(2, 1, 1, 1));
  Ready after = n.ready();
  auto sent = only<AppendRequest>(after.send_now, 2);
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_EQ(sent[0].second.entries.size(), 1u);
  EXPECT_EQ(sent[0].second.entries[0].payload, "a");
  EXPECT_TRUE(only<AppendRequest>(after.send_now, 3).empty());
}

// Replicate state pipelines up to max_inflight_appends messages, each within
// max_append_bytes; acknowledgements open the window again.
TEST(RaftCore, PipelinedAppendsRespectWindow) {
  RaftConfig cfg = make_config(1, kThree);
  cfg.max_inflight_appends = 2;
  cfg.max_append_bytes = 1;  // one one-byte entry per message
  Solo n(cfg);
  n.make_leader_with_followers_in_sync();
  ASSERT_TRUE(n->propose({"a", "b", "c", "d", "e"}).ok());  // indexes 2..6
  auto firsts = [](const Ready& r, NodeId to) {
    std::vector<std::uint64_t> out;
    for (auto& [m, req] : only<AppendRequest>(r.send_now, to)) {
      EXPECT_EQ(req.entries.size(), 1u);
      if (!req.entries.empty()) out.push_back(req.entries[0].index);
    }
    return out;
  };
  Ready r = n.ready();
  EXPECT_EQ(firsts(r, 2), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(firsts(r, 3), (std::vector<std::uint64_t>{2, 3}));
  n->step(append_ok(2, 1, 1, 2));
  r = n.ready();
  EXPECT_EQ(firsts(r, 2), (std::vector<std::uint64_t>{4}));
  EXPECT_TRUE(firsts(r, 3).empty());
  n->step(append_ok(2, 1, 1, 4));
  r = n.ready();
  EXPECT_EQ(firsts(r, 2), (std::vector<std::uint64_t>{5, 6}));
}

// Group commit: proposals made between two take_ready() calls travel in one AppendEntries
// per follower; each propose() is one log write returning its first index.
TEST(RaftCore, ProposalsBatchIntoOneAppend) {
  Solo n(make_config(1, kThree));
  n.make_leader_with_followers_in_sync();
  auto a = n->propose({"a"});
  auto bc = n->propose({"b", "c"});
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(bc.ok());
  EXPECT_EQ(*a, 2u);
  EXPECT_EQ(*bc, 3u);
  Ready r = n.ready();
  for (NodeId peer : {2, 3}) {
    auto sent = only<AppendRequest>(r.send_now, peer);
    ASSERT_EQ(sent.size(), 1u) << describe_all(r.send_now);
    ASSERT_EQ(sent[0].second.entries.size(), 3u);
    EXPECT_EQ(sent[0].second.entries[0].payload, "a");
    EXPECT_EQ(sent[0].second.entries[2].payload, "c");
    EXPECT_EQ(sent[0].second.prev, (LogId{1, 1}));
  }
}

// Only the leader accepts proposals; others name the leader they know.
TEST(RaftCore, ProposeOnFollowerReturnsNotLeader) {
  Solo n(make_config(1, kThree));
  auto unknown = n->propose({"x"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::not_leader);
  EXPECT_NE(unknown.error().message.find("leader=0"), std::string::npos);
  n->step(append(2, 1, 1, {0, 0}));
  auto known = n->propose({"x"});
  ASSERT_FALSE(known.ok());
  EXPECT_EQ(known.error().code, ErrorCode::not_leader);
  EXPECT_NE(known.error().message.find("leader=2"), std::string::npos);
  EXPECT_EQ(n.log.last_index(), 0u);
}

// Thesis §6.2: a leader that has not heard from a majority for an election timeout
// steps down; one that has keeps leading.
TEST(RaftCore, CheckQuorumStepsDown) {
  Network net(kThree);
  ASSERT_EQ(net.elect(1), 1u);
  for (int i = 0; i < 50; ++i) {
    net.tick_all();
    net.settle();
  }
  EXPECT_EQ(net.leader(), 1u);
  net.isolate(1);
  int ticks = 0;
  while (net.core(1).status().role == Role::leader && ticks < 100) {
    net.tick(1);
    net.settle();
    ++ticks;
  }
  EXPECT_EQ(net.core(1).status().role, Role::follower);
  EXPECT_LE(ticks, 20);  // within two election timeouts
  EXPECT_EQ(net.core(1).status().leader, 0u);
}

// Committed entries are handed to the state machine in order, exactly once, on every
// node; on_applied records the progress.
TEST(RaftCore, CommittedEntriesAppliedOnceEverywhere) {
  Network net(kThree);
  ASSERT_EQ(net.elect(1), 1u);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(net.core(1).propose({"p" + std::to_string(i)}).ok());
    net.settle();
    net.tick_all();
    net.settle();
  }
  for (NodeId id : kThree) {
    const auto& applied = net.node(id).applied;
    ASSERT_EQ(applied.size(), 6u) << "node " << id;
    EXPECT_EQ(applied[0].type, EntryType::noop);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(applied[i + 1].payload, "p" + std::to_string(i));
    EXPECT_EQ(net.core(id).status().applied, 6u);
    EXPECT_EQ(net.core(id).status().commit, 6u);
  }
}

// Learners receive the log but are in no quorum: their acknowledgements commit nothing.
TEST(RaftCore, LearnerNeverCampaignsOrCounts) {
  Network net(kThree, {4});
  for (int i = 0; i < 100; ++i) net.tick(4);
  EXPECT_FALSE(net.collect());  // nothing to send, nothing written
  EXPECT_EQ(net.core(4).status().role, Role::learner);
  ASSERT_EQ(net.elect(1), 1u);
  std::uint64_t commit = net.core(1).status().commit;
  net.isolate(2);
  net.isolate(3);
  ASSERT_TRUE(net.core(1).propose({"x"}).ok());
  net.settle();
  EXPECT_EQ(net.node(4).log.last_index(), net.node(1).log.last_index());
  EXPECT_EQ(net.core(1).status().commit, commit);
  net.heal();
  net.tick(1);
  net.settle();
  EXPECT_EQ(net.core(1).status().commit, net.node(1).log.last_index());
  EXPECT_EQ(net.core(4).status().role, Role::learner);
}

// One voter: elected on timeout, commits on its own sync, reads at once.
TEST(RaftCore, SingleNodeElectsAndCommits) {
  Solo n(make_config(1, {1}));
  ASSERT_GT(n.tick_until_role_changes(), 0);
  ASSERT_EQ(n.status().role, Role::leader);
  EXPECT_EQ(n.status().commit, 0u);  // the no-op is not durable yet
  Ready r = n.ready();
  EXPECT_TRUE(r.needs_sync);
  EXPECT_TRUE(r.send_now.empty());
  EXPECT_EQ(n.status().commit, 1u);
  Ready applied = n.ready();
  EXPECT_EQ(applied.apply_from, 1u);
  EXPECT_EQ(applied.apply_to, 1u);
  auto index = n->propose({"a", "b"});
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(*index, 2u);
  (void)n.ready();
  Ready more = n.ready();
  EXPECT_EQ(more.apply_from, 2u);
  EXPECT_EQ(more.apply_to, 3u);
  ASSERT_TRUE(n->read_index(7).ok());
  Ready read = n.ready();
  ASSERT_EQ(read.reads.size(), 1u);
  EXPECT_EQ(read.reads[0].request_id, 7u);
  EXPECT_EQ(read.reads[0].read_index, 3u);
}

// A follower that missed entries (lost messages) catches up: the heartbeat's consistency
// check reveals the gap and the leader falls back to probing.
TEST(RaftCore, LostAppendRecoveredByHeartbeat) {
  Network net(kThree);
  ASSERT_EQ(net.elect(1), 1u);
  net.isolate(3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(net.core(1).propose({"lost" + std::to_string(i)}).ok());
    net.settle();  // messages to 3 are dropped, 2 acknowledges
  }
  net.heal();
  ASSERT_TRUE(net.core(1).propose({"after"}).ok());
  net.settle();
  for (int i = 0; i < 3; ++i) {
    net.tick_all();
    net.settle();
  }
  EXPECT_EQ(log_of(net.node(3).log), log_of(net.node(1).log));
  EXPECT_EQ(net.core(3).status().commit, net.node(1).log.last_index());
}

}  // namespace
}  // namespace raftor::raft::test

namespace raftor::raft::test {
namespace {

// A follower whose disk lost entries it had acknowledged (outside Raft's model) says so
// in every rejection; the leader must not probe above its log forever. A single stale
// rejection (reordered behind a later acknowledgement) is ignored.
TEST(RaftCore, LeaderBelievesAFollowerThatLostAcknowledgedEntriesOnlyWhenItRepeats) {
  Solo n(make_config(1, {1, 2, 3}));
  n.make_leader_with_followers_in_sync();
  const std::uint64_t term = n.status().term;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(n->propose({"p" + std::to_string(i)}).ok());
  (void)n.ready();
  n->step(append_ok(2, 1, term, 11));
  n->step(append_ok(3, 1, term, 11));
  (void)n.ready();

  n->step(append_reject(3, 1, term, {4, term}));  // stale: ignored
  n->tick();
  auto once = only<AppendRequest>(n.ready().send_now, 3);
  for (const auto& [m, req] : once) EXPECT_GE(req.prev.index, 11u) << describe(m);

  n->step(append_reject(3, 1, term, {4, term}));
  n->step(append_reject(3, 1, term, {4, term}));  // the third in a row: believed
  auto again = only<AppendRequest>(n.ready().send_now, 3);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again.back().second.prev.index, 4u);
  EXPECT_EQ(n.status().commit, 11u);  // commit never moves back
}

}  // namespace
}  // namespace raftor::raft::test
