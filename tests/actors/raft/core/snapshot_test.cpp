// InstallSnapshot (Raft §7): when a leader sends snapshots, how a follower installs one,
// and how a log is aligned with an installed snapshot after a crash.
#include "core_test_util.hpp"

namespace raftor::raft::test {
namespace {

const std::vector<NodeId> kThree{1, 2, 3};

SnapshotMetadata snapshot_at(std::uint64_t index, std::uint64_t term) {
  SnapshotMetadata meta;
  meta.last_included = {index, term};
  return meta;
}

Message snapshot_request(NodeId from, NodeId to, std::uint64_t term, LogId at) {
  return Message{from, to, term, SnapshotRequest{snapshot_at(at.index, at.term)}};
}

// A leader of term `term` whose log holds [1, 11], replicated on follower 2 while
// follower 3 only acknowledged the first entry, and whose log was then purged up to 8
// (as the purger does after a snapshot).
struct PurgedLeader {
  PurgedLeader() : n(make_config(1, kThree)) {
    n.make_leader_with_followers_in_sync();
    term = n.status().term;
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(n->propose({"p" + std::to_string(i)}).ok());
    (void)n.ready();
    n->step(append_ok(2, 1, term, 11));
    n->step(append_ok(2, 1, term, 11));
    (void)n.ready();
    EXPECT_EQ(n.status().commit, 11u);
    n->on_applied(11);
    EXPECT_TRUE(n.log.purge_prefix({8, term}).ok());
  }
  Solo n;
  std::uint64_t term = 0;
};

TEST(RaftCoreSnapshot, LeaderSendsSnapshotToFollowerBehindItsLogStart) {
  PurgedLeader l;
  // Follower 3 was down: its rejection says it holds only the first entry.
  l.n->step(append_reject(3, 1, l.term, {1, l.term}));
  Ready r = l.n.ready();
  EXPECT_EQ(r.send_snapshot, std::vector<NodeId>{3});
  EXPECT_TRUE(only<AppendRequest>(r.send_now, 3).empty()) << describe_all(r.send_now);
  // Only once: the transfer is the driver's until it reports back.
  l.n->propose({"more"}).value();
  Ready again = l.n.ready();
  EXPECT_TRUE(again.send_snapshot.empty());
  for (const auto& [m, req] : only<AppendRequest>(again.send_now, 3)) {
    EXPECT_TRUE(req.entries.empty()) << "entries sent to a follower awaiting a snapshot";
  }
  EXPECT_FALSE(only<AppendRequest>(again.send_now, 2).empty());  // 2 keeps replicating
}

TEST(RaftCoreSnapshot, HeartbeatRejectionsAreIgnoredWhileTheSnapshotIsOnItsWay) {
  PurgedLeader l;
  l.n->step(append_reject(3, 1, l.term, {1, l.term}));
  ASSERT_EQ(l.n.ready().send_snapshot.size(), 1u);
  for (int i = 0; i < 5; ++i) {
    l.n->tick();
    l.n->step(append_reject(3, 1, l.term, {1, l.term}));
    Ready r = l.n.ready();
    EXPECT_TRUE(r.send_snapshot.empty()) << "a second transfer started";
  }
}

TEST(RaftCoreSnapshot, FollowerAcknowledgingTheSnapshotGetsEntriesAgain) {
  PurgedLeader l;
  l.n->step(append_reject(3, 1, l.term, {1, l.term}));
  (void)l.n.ready();
  // The follower installed a snapshot at 10 and says so (its AppendResponse).
  l.n->step(append_ok(3, 1, l.term, 10));
  Ready r = l.n.ready();
  auto to3 = only<AppendRequest>(r.send_now, 3);
  ASSERT_EQ(to3.size(), 1u) << describe_all(r.send_now);
  EXPECT_EQ(to3[0].second.prev, (LogId{10, l.term}));
  ASSERT_EQ(to3[0].second.entries.size(), 1u);
  EXPECT_EQ(to3[0].second.entries[0].index, 11u);
}

TEST(RaftCoreSnapshot, FailedTransferStartsAnotherAfterReport) {
  PurgedLeader l;
  l.n->step(append_reject(3, 1, l.term, {1, l.term}));
  ASSERT_EQ(l.n.ready().send_snapshot.size(), 1u);
  l.n->report_snapshot(3, false);
  EXPECT_EQ(l.n.ready().send_snapshot, std::vector<NodeId>{3});
}

TEST(RaftCoreSnapshot, ReportOfSuccessProbesRightAfterThePurgePoint) {
  PurgedLeader l;
  l.n->step(append_reject(3, 1, l.term, {1, l.term}));
  (void)l.n.ready();
  l.n->report_snapshot(3, true);
  auto to3 = only<AppendRequest>(l.n.ready().send_now, 3);
  ASSERT_EQ(to3.size(), 1u);
  EXPECT_EQ(to3[0].second.prev.index, 8u);
}

TEST(RaftCoreSnapshot, LeaderThatStepsDownForgetsSnapshotsToSend) {
  PurgedLeader l;
  l.n->step(append_reject(3, 1, l.term, {1, l.term}));
  l.n->step(append(2, 1, l.term + 1, {11, l.term}));  // a newer leader
  EXPECT_TRUE(l.n.ready().send_snapshot.empty());
}

TEST(RaftCoreSnapshot, FollowerInstallsSnapshotAndDiscardsAConflictingLog) {
  Solo f(make_config(2, kThree));
  f->step(append(1, 2, 1, {0, 0}, entry_run(1, 3, 1), 1));
  (void)f.ready();
  (void)f.ready();
  f->on_applied(1);
  f->step(snapshot_request(3, 2, 2, {10, 2}));  // leader 3, term 2
  Ready r = f.ready();
  ASSERT_TRUE(r.install_snapshot.has_value());
  EXPECT_EQ(r.install_snapshot->last_included, (LogId{10, 2}));
  EXPECT_TRUE(r.send_after_sync.empty()) << "acknowledged before the install";
  EXPECT_EQ(f.status().leader, 3u);

  f->on_snapshot_installed(*r.install_snapshot);
  EXPECT_EQ(f.log.last_purged(), (LogId{10, 2}));
  EXPECT_EQ(f.log.first_index(), 11u);
  EXPECT_EQ(f.log.last_index(), 10u);
  EXPECT_EQ(f.status().commit, 10u);
  Ready after = f.ready();
  EXPECT_TRUE(after.needs_sync);  // the log change is synced before the acknowledgement
  EXPECT_EQ(after.apply_to, 0u);  // nothing to apply: the snapshot is the state
  auto ack = only<AppendResponse>(after.send_after_sync, 3);
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_TRUE(ack[0].second.success);
  EXPECT_EQ(ack[0].second.match_index, 10u);
  // Replication continues right after the snapshot.
  f->step(append(3, 2, 2, {10, 2}, entry_run(11, 12, 2), 12));
  Ready next = f.ready();
  EXPECT_EQ(only<AppendResponse>(next.send_after_sync, 3).at(0).second.match_index, 12u);
  Ready apply = f.ready();
  EXPECT_EQ(apply.apply_from, 11u);
  EXPECT_EQ(apply.apply_to, 12u);
}

TEST(RaftCoreSnapshot, FollowerKeepsTheLogSuffixAfterAMatchingSnapshotEntry) {
  Solo f(make_config(2, kThree));
  f->step(append(1, 2, 2, {0, 0}, entry_run(1, 8, 2), 3));
  (void)f.ready();
  (void)f.ready();
  f->step(snapshot_request(1, 2, 2, {5, 2}));
  Ready r = f.ready();
  ASSERT_TRUE(r.install_snapshot.has_value());
  f->on_snapshot_installed(*r.install_snapshot);
  EXPECT_EQ(f.log.first_index(), 6u);
  EXPECT_EQ(f.log.last_index(), 8u);  // §7: entries following the snapshot are retained
  EXPECT_EQ(f.status().commit, 5u);
}

TEST(RaftCoreSnapshot, SnapshotAlreadyCoveredByCommitIsAcknowledgedNotInstalled) {
  Solo f(make_config(2, kThree));
  f->step(append(1, 2, 2, {0, 0}, entry_run(1, 8, 2), 8));
  (void)f.ready();
  (void)f.ready();
  f->step(snapshot_request(1, 2, 2, {5, 2}));
  Ready r = f.ready();
  EXPECT_FALSE(r.install_snapshot.has_value());
  auto ack = only<AppendResponse>(r.send_after_sync, 1);
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_TRUE(ack[0].second.success);
  EXPECT_EQ(ack[0].second.match_index, 8u);
}

TEST(RaftCoreSnapshot, SnapshotOfAStaleTermIsRefusedWithTheCurrentTerm) {
  Solo f(make_config(2, kThree));
  f->step(append(1, 2, 5, {0, 0}));
  (void)f.ready();
  f->step(snapshot_request(3, 2, 4, {10, 4}));
  Ready r = f.ready();
  EXPECT_FALSE(r.install_snapshot.has_value());
  auto answer = only<AppendResponse>(r.send_after_sync, 3);
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_FALSE(answer[0].second.success);
  EXPECT_EQ(answer[0].first.term, 5u);  // makes the stale leader step down (§5.1)
}

TEST(RaftCoreSnapshot, SnapshotOfANewerTermMakesTheCandidateFollowTheSender) {
  Solo f(make_config(2, kThree));
  ASSERT_GT(f.tick_until_role_changes(), 0);  // pre-candidate
  f->step(snapshot_request(3, 2, 7, {10, 7}));
  EXPECT_EQ(f.status().role, Role::follower);
  EXPECT_EQ(f.status().term, 7u);
  EXPECT_EQ(f.status().leader, 3u);
  EXPECT_TRUE(f.ready().install_snapshot.has_value());
}

TEST(RaftCoreSnapshot, AlignLogAfterACrashBetweenInstallAndLogChange) {
  MemoryRaftLog log;
  ASSERT_TRUE(log.append(entry_run(1, 3, 1)).ok());
  ASSERT_TRUE(log.sync().ok());
  // The state machine holds a snapshot at (10, 2); the log never followed.
  ASSERT_TRUE(align_log_with_state_machine(log, {10, 2}).ok());
  EXPECT_EQ(log.last_purged(), (LogId{10, 2}));
  EXPECT_EQ(log.last_index(), 10u);
  log.crash();  // it was synced
  EXPECT_EQ(log.first_index(), 11u);

  // A log that holds the applied entry is left alone.
  MemoryRaftLog whole;
  ASSERT_TRUE(whole.append(entry_run(1, 5, 1)).ok());
  ASSERT_TRUE(align_log_with_state_machine(whole, {3, 1}).ok());
  EXPECT_EQ(whole.first_index(), 1u);
  EXPECT_EQ(whole.last_index(), 5u);

  // One with another term there conflicts with the snapshot: it is replaced.
  MemoryRaftLog conflicting;
  ASSERT_TRUE(conflicting.append(entry_run(1, 5, 1)).ok());
  ASSERT_TRUE(align_log_with_state_machine(conflicting, {4, 2}).ok());
  EXPECT_EQ(conflicting.last_purged(), (LogId{4, 2}));
  EXPECT_EQ(conflicting.last_index(), 4u);
}

TEST(RaftCoreSnapshot, LaggingFollowerCatchesUpThroughASnapshotInANetwork) {
  Network net(kThree);
  NodeId leader = net.elect(1);
  ASSERT_EQ(leader, 1u);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(net.core(1).propose({"w" + std::to_string(i)}).ok());
  net.settle();
  ASSERT_EQ(net.node(3).applied.size(), 21u);
  // Node 3 is down while the leader purges its log below 15, then restarts.
  net.isolate(3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(net.core(1).propose({"x" + std::to_string(i)}).ok());
  net.settle();
  ASSERT_TRUE(net.node(1).log.purge_prefix({24, *net.node(1).log.term_at(24)}).ok());
  net.restart(3);
  net.heal();
  for (int i = 0; i < 3; ++i) {
    net.tick_all();
    net.settle();
  }
  ASSERT_TRUE(net.core(1).propose({"after"}).ok());
  net.settle();
  EXPECT_EQ(net.node(3).snapshots_installed, 1);
  EXPECT_EQ(net.node(3).applied, net.node(1).applied);
  EXPECT_EQ(net.node(3).log.last_index(), net.node(1).log.last_index());
  EXPECT_GT(net.node(3).log.first_index(), 24u);
}

TEST(RaftCoreSnapshot, NodeThatNeverJoinedCatchesUpThroughASnapshot) {
  Network net(kThree);
  net.isolate(3);  // configured, never started
  ASSERT_EQ(net.elect(1), 1u);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(net.core(1).propose({"w" + std::to_string(i)}).ok());
  net.settle();
  ASSERT_TRUE(net.node(1).log.purge_prefix({8, *net.node(1).log.term_at(8)}).ok());
  net.heal();
  net.tick_all();
  net.settle();
  EXPECT_EQ(net.node(3).snapshots_installed, 1);
  EXPECT_EQ(net.node(3).applied, net.node(1).applied);
  EXPECT_GT(net.node(3).log.first_index(), 8u);
}

}  // namespace
}  // namespace raftor::raft::test
