// The snapshotter end to end, in an in-process cluster on real RocksDB logs: snapshots per
// policy while writes continue, on demand, keep-K, cleanup of interrupted generations.
#include <gtest/gtest.h>

#include <fstream>

#include "raftor/snapshot/snapshot_store.hpp"
#include "raftor/storage/rocksdb_state_machine.hpp"
#include "snapshot_test_util.hpp"

namespace raftor::testing {
namespace {

class SnapshotterTest : public SnapshotClusterTest {};

TEST_F(SnapshotterTest, TakesSnapshotsPerPolicyWhileWritesContinue) {
  auto c = cluster(snapshot_options(/*every_entries=*/100, /*retention=*/100'000));
  const NodeId leader = *c->wait_for_leader();
  std::set<std::uint64_t> seen;  // snapshot indexes the leader reported during the run
  for (int round = 0; round < 6; ++round) {
    write_range(*c, round * 100, (round + 1) * 100);
    seen.insert(c->status(leader).snapshot_index);
  }
  seen.erase(0);
  EXPECT_GE(seen.size(), 3u) << "snapshots should follow the writes, not only come at the end";
  // Every node snapshots on its own, and a snapshot never runs ahead of what is applied.
  for (NodeId id : c->ids()) {
    ASSERT_TRUE(eventually([&] { return c->status(id).snapshot_index >= 500; })) << "node " << id;
    const auto s = c->status(id);
    EXPECT_LE(s.snapshot_index, s.applied);
  }
  // The newest snapshot holds the state up to its index: install it elsewhere.
  for (NodeId id : c->ids()) c->stop(id);
  auto store = snapshot::SnapshotStore::open(c->snapshot_dir(leader));
  ASSERT_TRUE(store.ok());
  auto latest = (*store)->latest();
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->membership.voters, (std::vector<NodeId>{1, 2, 3}));
  RocksDbStateMachine target(c->node_dir(leader) / "installed");
  ASSERT_TRUE(target.start().ok());
  auto installed =
      target.apply_snapshot_from_file(*latest, (*store)->data_path(latest->last_included));
  ASSERT_TRUE(installed.ok()) << installed.error().to_string();
  EXPECT_EQ(target.last_applied(), latest->last_included);
  // Keys are written in order, one entry each after the leader's no-op(s): the snapshot
  // holds the first (index - no-ops) of them.
  EXPECT_LE(target.len(), latest->last_included.index);
  const int covered = static_cast<int>(latest->last_included.index) - 5;
  for (int i = 0; i < covered; i += 37) {
    auto v = target.get(key(i));
    ASSERT_TRUE(v.ok() && v->has_value()) << key(i) << " missing from the snapshot";
    EXPECT_EQ(**v, value(i));
  }
}

TEST_F(SnapshotterTest, LogBytesTriggerFires) {
  auto options = snapshot_options(/*every_entries=*/0, /*retention=*/100'000);
  options.snapshot.policy.max_log_bytes = 32 << 10;
  auto c = cluster(options);
  const NodeId leader = *c->wait_for_leader();
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(c->put(key(i), std::string(1024, 'x')).ok);
  EXPECT_TRUE(eventually([&] { return c->status(leader).snapshot_index > 0; }));
}

TEST_F(SnapshotterTest, TimeTriggerFiresOnceWritesStop) {
  auto options = snapshot_options(/*every_entries=*/0, /*retention=*/100'000);
  options.snapshot.policy.max_interval = 300ms;
  auto c = cluster(options);
  write_range(*c, 0, 10);
  const NodeId leader = *c->wait_for_leader();
  // No further writes: only the snapshotter's own clock can trigger this one.
  ASSERT_TRUE(eventually([&] { return c->status(leader).snapshot_index >= 10; }));
  const auto first = c->status(leader).snapshot_index;
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(c->status(leader).snapshot_index, first) << "nothing applied: no new snapshot";
}

TEST_F(SnapshotterTest, EntriesTriggerFiresWhenWritesStopJustPastIt) {
  // The Raft actor reports progress to the snapshotter in steps of a 64th of the threshold
  // (here 10 entries) and the rest on its clock: writes that stop just past the threshold,
  // between two steps, must still trigger the snapshot.
  auto c = cluster(snapshot_options(/*every_entries=*/640, /*retention=*/100'000));
  const NodeId leader = *c->wait_for_leader();
  const auto start = c->status(leader).applied;  // the leader's no-op(s)
  write_range(*c, 0, static_cast<int>(640 - start + 5));
  ASSERT_TRUE(eventually([&] { return c->status(leader).snapshot_index >= 640; }))
      << "snapshot index " << c->status(leader).snapshot_index;
  EXPECT_LE(c->status(leader).snapshot_index, c->status(leader).applied);
}

TEST_F(SnapshotterTest, OnDemandSnapshot) {
  auto c = cluster(snapshot_options(/*every_entries=*/0, /*retention=*/1000));
  write_range(*c, 0, 50);
  const NodeId leader = *c->wait_for_leader();
  const auto applied = c->status(leader).applied;

  auto reply = snapshot(*c, leader);
  ASSERT_TRUE(reply.ok) << reply.message;
  EXPECT_GE(reply.metadata.last_included.index, applied);
  EXPECT_GT(reply.metadata.size, 0u);
  EXPECT_EQ(reply.metadata.checksum.size(), 16u);
  EXPECT_EQ(reply.metadata.membership.voters, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_EQ(c->status(leader).snapshot_index, reply.metadata.last_included.index);
  EXPECT_EQ(c->state_machine(leader)->snapshot_metadata(), reply.metadata)
      << "the state machine persists the metadata of its newest snapshot";
  auto names = files(c->snapshot_dir(leader));
  EXPECT_EQ(count_with(names, ".data"), 1u);
  EXPECT_EQ(count_with(names, ".meta"), 1u);

  // Nothing applied since: the same snapshot, no new file.
  auto again = snapshot(*c, leader);
  ASSERT_TRUE(again.ok) << again.message;
  EXPECT_EQ(again.metadata, reply.metadata);
  EXPECT_EQ(files(c->snapshot_dir(leader)), names);

  // Followers snapshot on request too.
  const NodeId follower = leader == 1 ? 2 : 1;
  ASSERT_TRUE(eventually([&] { return c->status(follower).applied >= applied; }));
  auto theirs = snapshot(*c, follower);
  ASSERT_TRUE(theirs.ok) << theirs.message;
  EXPECT_GE(theirs.metadata.last_included.index, applied);
}

TEST_F(SnapshotterTest, SnapshotRequestWhenSnapshotsAreOff) {
  LocalClusterOptions options;  // snapshots off
  auto c = cluster(options);
  ASSERT_TRUE(c->put("k", "v").ok);
  auto reply = snapshot(*c, *c->wait_for_leader());
  ASSERT_FALSE(reply.ok);
  EXPECT_EQ(static_cast<ErrorCode>(reply.code), ErrorCode::not_running);
}

TEST_F(SnapshotterTest, KeepsOnlyTheLastKSnapshots) {
  auto options = snapshot_options(/*every_entries=*/50, /*retention=*/100'000);
  options.snapshot.keep = 2;
  auto c = cluster(options);
  write_range(*c, 0, 400, /*writers=*/4);
  for (NodeId id : c->ids()) {
    ASSERT_TRUE(eventually([&] { return c->status(id).snapshot_index >= 300; })) << "node " << id;
  }
  for (NodeId id : c->ids()) c->stop(id);  // no generation in flight while we look
  for (NodeId id : c->ids()) {
    const auto names = files(c->snapshot_dir(id));
    EXPECT_EQ(count_with(names, ".data"), 2u) << "node " << id;
    EXPECT_EQ(count_with(names, ".meta"), 2u) << "node " << id;
    EXPECT_EQ(count_with(names, ".tmp"), 0u) << "node " << id;
  }
}

TEST_F(SnapshotterTest, LeftoversOfAnInterruptedGenerationAreCleanedAtStart) {
  auto c = cluster(snapshot_options(/*every_entries=*/0, /*retention=*/1000));
  write_range(*c, 0, 30);
  const NodeId leader = *c->wait_for_leader();
  const NodeId node = leader == 3 ? 2 : 3;
  ASSERT_TRUE(eventually([&] { return c->status(node).applied >= 30; }));
  auto good = snapshot(*c, node);
  ASSERT_TRUE(good.ok) << good.message;
  c->stop(node);

  // What a crash during generation or commit leaves behind.
  const auto dir = c->snapshot_dir(node);
  std::ofstream(dir / "snapshot-generating-0.tmp") << "half a snapshot";
  std::ofstream(dir / "snapshot-00000000000000000999-9.data") << "renamed, no metadata yet";
  std::ofstream(dir / "snapshot-00000000000000000998-9.meta.tmp") << "half a metadata file";

  c->start(node);
  const auto names = files(dir);
  EXPECT_EQ(count_with(names, ".tmp"), 0u);
  EXPECT_EQ(names.count("snapshot-00000000000000000999-9.data"), 0u);
  EXPECT_EQ(count_with(names, ".data"), 1u) << "the committed snapshot survives";
  EXPECT_EQ(c->status(node).snapshot_index, good.metadata.last_included.index);
  // And the node keeps working.
  ASSERT_TRUE(c->put("after", "restart").ok);
  ASSERT_TRUE(eventually([&] {
    auto r = c->read(node, {"after"}, ReadConsistency::eventual);
    return r.ok && r.found.at(0);
  }));
  auto next = snapshot(*c, node);
  ASSERT_TRUE(next.ok) << next.message;
  EXPECT_GT(next.metadata.last_included.index, good.metadata.last_included.index);
}

}  // namespace
}  // namespace raftor::testing
