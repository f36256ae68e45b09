// The purger and log purging end to end: the purge point, the Raft actor's cap at what it
// applied, restarts after a purge (RocksDB and in-memory state machines), and a log that
// stays bounded under a long write run.
#include "raftor/actors/purger/purger.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "../snapshotter/snapshot_test_util.hpp"

namespace raftor::testing {
namespace {

TEST(PurgePointTest, RetentionBelowTheSnapshotNeverBeyondIt) {
  EXPECT_EQ(purge_point(1000, 100), 900u);
  EXPECT_EQ(purge_point(1000, 0), 1000u) << "no retention: up to the snapshot, not beyond";
  EXPECT_EQ(purge_point(100, 100), 0u);
  EXPECT_EQ(purge_point(50, 100), 0u);
  EXPECT_EQ(purge_point(0, 0), 0u);
}

class PurgerTest : public SnapshotClusterTest {};

SnapshotMetadata snapshot_at(std::uint64_t index) {
  SnapshotMetadata m;
  m.last_included = {index, 1};
  return m;
}

// The purger alone, with a scoped actor standing in for the Raft actor.
TEST_F(PurgerTest, AsksForRetentionBelowEachNewerSnapshot) {
  caf::scoped_actor raft{system_};
  auto purger = system_.spawn<Purger>(caf::actor_cast<raft_actor>(raft.ptr()),
                                      PurgerConfig{1, /*retention=*/100});
  auto expect_purge = [&](std::optional<std::uint64_t> expected) {
    std::optional<std::uint64_t> got;
    raft->receive([&](purge_atom, std::uint64_t index) { got = index; },
                  caf::after(expected ? std::chrono::seconds(5) : std::chrono::milliseconds(200)) >>
                      [] {});
    EXPECT_EQ(got, expected);
  };
  raft->send(purger, snap_done_atom::value, snapshot_at(50));
  expect_purge(std::nullopt);  // within retention: nothing to purge
  raft->send(purger, snap_done_atom::value, snapshot_at(1000));
  expect_purge(900);
  raft->send(purger, snap_done_atom::value, snapshot_at(950));
  expect_purge(std::nullopt);  // never backwards
  raft->send(purger, snap_done_atom::value, snapshot_at(2000));
  expect_purge(1900);
  raft->send_exit(purger, caf::exit_reason::user_shutdown);
}

TEST_F(PurgerTest, RaftActorCapsAPurgeAtWhatItApplied) {
  auto c = cluster(snapshot_options(/*every_entries=*/0, /*retention=*/0));
  write_range(*c, 0, 40);
  const NodeId leader = *c->wait_for_leader();
  const auto before = c->status(leader);
  caf::anon_send(c->actor(leader), purge_atom::value, std::uint64_t{1'000'000});
  ASSERT_TRUE(eventually([&] { return c->status(leader).first_index > 1; }));
  const auto after = c->status(leader);
  EXPECT_LE(after.first_index, after.applied + 1);
  EXPECT_GE(after.last_index, before.last_index);
  // A purge below the current start changes nothing; the node keeps serving.
  caf::anon_send(c->actor(leader), purge_atom::value, std::uint64_t{2});
  write_range(*c, 40, 60);
  EXPECT_EQ(c->status(leader).first_index, after.first_index);
  auto r = c->get(key(59), ReadConsistency::linearizable);
  ASSERT_TRUE(r.ok && r.found.at(0));
}

TEST_F(PurgerTest, NodeRestartedAfterItsLogWasPurgedComesBackWithAllData) {
  auto c = cluster(snapshot_options(/*every_entries=*/100, /*retention=*/50));
  write_range(*c, 0, 1000, /*writers=*/4);
  for (NodeId id : c->ids()) {
    ASSERT_TRUE(eventually([&] { return c->status(id).first_index > 500; })) << "node " << id;
  }
  const NodeId leader = *c->wait_for_leader();
  const NodeId follower = leader == 1 ? 2 : 1;
  c->stop(follower);
  // Fewer writes than the retention while it is down: the leader's log still reaches back
  // to where the follower stopped (no InstallSnapshot needed).
  write_range(*c, 1000, 1020);
  c->start(follower);
  EXPECT_GT(c->status(follower).first_index, 500u) << "restarted on its purged log";
  ASSERT_TRUE(eventually([&] { return has_range(*c, follower, 1000, 1020); }));
  EXPECT_TRUE(has_range(*c, follower, 0, 1000));
  write_range(*c, 1020, 1040);
  EXPECT_TRUE(eventually([&] { return has_range(*c, follower, 1020, 1040); }));

  // The whole cluster, every log purged, restarts with everything.
  for (NodeId id : c->ids()) c->stop(id);
  c->start_all();
  ASSERT_TRUE(c->wait_for_leader());
  for (int i = 0; i < 1040; i += 97) {
    auto r = c->get(key(i), ReadConsistency::linearizable);
    ASSERT_TRUE(r.ok && r.found.at(0)) << key(i) << ": " << r.message;
    EXPECT_EQ(r.values.at(0), value(i));
  }
  for (NodeId id : c->ids()) EXPECT_TRUE(has_range(*c, id, 0, 1040)) << "node " << id;
  write_range(*c, 1040, 1050);
  for (NodeId id : c->ids()) {
    EXPECT_TRUE(eventually([&] { return has_range(*c, id, 1040, 1050); })) << "node " << id;
  }
}

TEST_F(PurgerTest, InMemoryStateMachineRestartsFromTheLocalSnapshot) {
  auto c = cluster(snapshot_options(100, 50, StateMachineKind::memory));
  write_range(*c, 0, 600, /*writers=*/4);
  const NodeId leader = *c->wait_for_leader();
  const NodeId follower = leader == 3 ? 2 : 3;
  ASSERT_TRUE(eventually([&] { return c->status(follower).first_index > 300; }));
  c->stop(follower);
  c->start(follower);  // an empty state machine, a log that starts past 300
  ASSERT_TRUE(eventually([&] { return has_range(*c, follower, 0, 600); }));
  write_range(*c, 600, 620);
  EXPECT_TRUE(eventually([&] { return has_range(*c, follower, 600, 620); }));
}

TEST_F(PurgerTest, NodeWhoseStateIsCoveredNeitherByItsLogNorBySnapshotsRefusesToStart) {
  auto c = cluster(snapshot_options(100, 50, StateMachineKind::memory));
  write_range(*c, 0, 400, /*writers=*/4);
  const NodeId leader = *c->wait_for_leader();
  const NodeId follower = leader == 3 ? 2 : 3;
  ASSERT_TRUE(eventually([&] { return c->status(follower).first_index > 200; }));
  c->stop(follower);
  std::filesystem::remove_all(c->snapshot_dir(follower));
  c->start(follower);
  EXPECT_EQ(c->status(follower).id, 0u) << "the node must stop rather than serve a gap";
  c->stop(follower);
  EXPECT_TRUE(c->put("others", "carry on").ok);
}

TEST_F(PurgerTest, LogStaysBoundedUnderALongWriteRun) {
  constexpr std::uint64_t kEvery = 200, kRetention = 100;
  auto options = snapshot_options(kEvery, kRetention);
  options.snapshot.keep = 2;
  auto c = cluster(options);
  const NodeId leader = *c->wait_for_leader();
  std::atomic<bool> writing{true};
  std::uint64_t max_entries = 0;  // the most the leader's log held at a sample
  std::thread sampler([&] {
    // status() only, not wait_for_leader(): the writers' retries use the cluster's leader
    // cache, which is not thread-safe.
    while (writing) {
      const auto s = c->status(leader);
      if (s.last_index >= s.first_index) {
        max_entries = std::max(max_entries, s.last_index - s.first_index + 1);
      }
      std::this_thread::sleep_for(20ms);
    }
  });
  write_range(*c, 0, 4000, /*writers=*/8);
  writing = false;
  sampler.join();
  std::printf("log entries at most %llu during the run (retention %llu + every %llu)\n",
              static_cast<unsigned long long>(max_entries),
              static_cast<unsigned long long>(kRetention), static_cast<unsigned long long>(kEvery));

  for (NodeId id : c->ids()) {
    // At rest, the last snapshot is less than kEvery entries old and the log holds
    // kRetention entries below it.
    ASSERT_TRUE(eventually([&] {
      const auto s = c->status(id);
      return s.applied == s.last_index && s.last_index - s.first_index + 1 < kRetention + kEvery;
    })) << "node " << id << ": first " << c->status(id).first_index << ", last "
        << c->status(id).last_index;
    EXPECT_GT(c->status(id).first_index, 3000u) << "node " << id;
  }
  for (NodeId id : c->ids()) c->stop(id);
  for (NodeId id : c->ids()) {
    EXPECT_EQ(count_with(files(c->snapshot_dir(id)), ".data"), 2u) << "node " << id;
  }
}

}  // namespace
}  // namespace raftor::testing
