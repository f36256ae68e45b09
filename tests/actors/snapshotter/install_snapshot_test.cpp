// InstallSnapshot end to end (Raft §7): followers behind the leader's purged log catch up
// through chunked, resumable snapshot transfers, over LocalTransport with a filter that
// drops or damages chunks on their way.
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <vector>

#include "raftor/snapshot/checksum.hpp"
#include "snapshot_test_util.hpp"

namespace raftor::testing {
namespace {

constexpr NodeId kLate = 3;  // the follower that falls behind in every test

// What the filter saw of the chunks going to kLate.
struct ChunkLog {
  std::mutex mutex;
  std::vector<std::uint64_t> offsets;  // every chunk that got through, in order
  std::map<std::uint64_t, int> sends;  // offset -> chunks sent (delivered or not)
  std::uint64_t bytes = 0;
  std::uint64_t size = 0;  // of the snapshot being sent
  std::chrono::steady_clock::time_point first, last;

  void record(const raft::SnapshotChunk& chunk, bool delivered) {
    std::lock_guard lock(mutex);
    const auto now = std::chrono::steady_clock::now();
    if (sends.empty()) first = now;
    last = now;
    ++sends[chunk.offset];
    size = chunk.snapshot.size;
    if (!delivered) return;
    offsets.push_back(chunk.offset);
    bytes += chunk.data.size();
  }
  int sent_at(std::uint64_t offset) {
    std::lock_guard lock(mutex);
    return sends.count(offset) ? sends[offset] : 0;
  }
};

class InstallSnapshotTest : public SnapshotClusterTest {
 protected:
  // Snapshots every 200 entries keeping 50 below: a follower away for a few hundred
  // entries can only come back through a snapshot. Small chunks, quick timeouts.
  static LocalClusterOptions options() {
    auto o = snapshot_options(200, 50);
    o.snapshot.transfer.chunk_bytes = 64 << 10;
    o.snapshot.transfer.window = 4;
    o.snapshot.transfer.ack_timeout = 300ms;
    o.snapshot.transfer.max_timeouts = 50;
    o.snapshot.transfer.retry_backoff = 200ms;
    return o;
  }

  // Writes keys [from, to) with incompressible values of `bytes` each.
  static void write_large(LocalCluster& c, int from, int to, std::size_t bytes) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(from));
    const auto leader = c.wait_for_leader();
    ASSERT_TRUE(leader);
    for (int i = from; i < to; ++i) {
      std::string v(bytes, '\0');
      for (auto& ch : v) ch = static_cast<char>('a' + rng() % 26);
      if (!c.propose(*leader, command::put(key(i), v)).ok) {
        ASSERT_TRUE(c.put(key(i), v).ok);
      }
    }
  }

  // kLate's state machine holds exactly what the leader's does, for keys [0, n).
  static bool same_as_leader(LocalCluster& c, NodeId leader, int n) {
    for (int i = 0; i < n; i += 7) {
      auto a = c.read(leader, {key(i)}, ReadConsistency::eventual);
      auto b = c.read(kLate, {key(i)}, ReadConsistency::eventual);
      if (!a.ok || !b.ok || a.values != b.values || a.found != b.found) return false;
    }
    return true;
  }

  // Stops kLate, writes enough for the others to purge what it misses, starts it again.
  std::unique_ptr<LocalCluster> cluster_with_late_follower(
      int keys, std::size_t value_bytes, LocalClusterOptions o = options()) {
    auto c = cluster(o);
    const NodeId leader = *c->wait_for_leader();
    if (leader == kLate) {
      c->stop(kLate);
      c->start(kLate);
    }
    c->stop(kLate);
    write_large(*c, 0, keys, value_bytes);
    const NodeId now_leader = *c->wait_for_leader();
    EXPECT_TRUE(eventually([&] { return c->status(now_leader).first_index > 300; }))
        << "the leader never purged its log";
    // And no snapshot is due any more: one taken during a test's transfer would replace
    // the snapshot being sent (the transfer then starts over, rightly). The policy hears of
    // the last writes up to 10 ticks late (RaftActor::report_progress).
    EXPECT_TRUE(eventually([&] {
      const auto s = c->status(now_leader);
      return s.applied - s.snapshot_index < o.snapshot.policy.max_entries;
    })) << "the leader's snapshots did not catch up with its writes";
    return c;
  }
};

TEST_F(InstallSnapshotTest, LaggingFollowerCatchesUpBySnapshotWhileWritesContinue) {
  auto c = cluster_with_late_follower(600, 100);
  ChunkLog chunks;
  c->transport().set_filter([&](raft::Message& m) {
    if (auto* chunk = std::get_if<raft::SnapshotChunk>(&m.body)) chunks.record(*chunk, true);
    return true;
  });
  c->start(kLate);
  std::thread writer([&] { write_range(*c, 1000, 1600); });
  writer.join();
  ASSERT_TRUE(eventually([&] { return has_range(*c, kLate, 1000, 1600); }));
  const NodeId leader = *c->wait_for_leader();
  EXPECT_TRUE(same_as_leader(*c, leader, 600));
  const NodeStatus s = c->status(kLate);
  EXPECT_GT(s.snapshot_index, 300u) << "caught up without a snapshot?";
  EXPECT_GT(s.first_index, 300u);
  EXPECT_GT(chunks.sent_at(0), 0);
  // It keeps replicating normally afterwards.
  ASSERT_TRUE(c->put("after", "snapshot").ok);
  EXPECT_TRUE(eventually([&] {
    auto r = c->read(kLate, {"after"}, ReadConsistency::eventual);
    return r.ok && r.found.at(0);
  }));
}

TEST_F(InstallSnapshotTest, NodeThatNeverRanCatchesUpBySnapshot) {
  auto c = std::make_unique<LocalCluster>(system_, options());
  c->start(1);
  c->start(2);
  ASSERT_TRUE(c->wait_for_leader());
  write_range(*c, 0, 800, 4);
  const NodeId leader = *c->wait_for_leader();
  ASSERT_TRUE(eventually([&] { return c->status(leader).first_index > 300; }));
  c->start(kLate);
  ASSERT_TRUE(eventually([&] { return has_range(*c, kLate, 0, 800); }));
  EXPECT_GT(c->status(kLate).snapshot_index, 300u);
  // Restarted, it comes back from its own disk: the installed snapshot and the log after it.
  c->stop(kLate);
  c->start(kLate);
  ASSERT_TRUE(eventually([&] { return has_range(*c, kLate, 0, 800); }));
}

TEST_F(InstallSnapshotTest, InterruptedTransferResumesFromItsOffset) {
  // About 2.4 MB of state: some 40 chunks of 64 KiB.
  auto c = cluster_with_late_follower(600, 4000);
  ChunkLog chunks;
  std::atomic<bool> cut{false};
  std::atomic<bool> was_cut{false};
  std::atomic<std::size_t> delivered_before_cut{0};
  c->transport().set_filter([&](raft::Message& m) {
    auto* chunk = std::get_if<raft::SnapshotChunk>(&m.body);
    if (chunk == nullptr || m.to != kLate) return true;
    if (!was_cut && chunk->offset >= (1u << 20)) {  // a disconnect after 1 MiB
      was_cut = true;
      cut = true;
      std::lock_guard lock(chunks.mutex);
      delivered_before_cut = chunks.offsets.size();
    }
    chunks.record(*chunk, !cut);
    return !cut;
  });
  c->start(kLate);
  ASSERT_TRUE(eventually([&] { return was_cut.load(); }));
  std::this_thread::sleep_for(1500ms);  // several ack timeouts: the sender retries, unheard
  cut = false;
  const NodeId leader = *c->wait_for_leader();
  ASSERT_TRUE(eventually([&] { return c->status(kLate).applied >= c->status(leader).commit; }));
  EXPECT_TRUE(same_as_leader(*c, leader, 600));

  std::lock_guard lock(chunks.mutex);
  ASSERT_GT(chunks.offsets.size(), delivered_before_cut.load());
  // After the cut, the transfer went on from where it stopped, not from the beginning.
  const std::uint64_t resumed_at = chunks.offsets[delivered_before_cut];
  EXPECT_GE(resumed_at, 1u << 20);
  for (std::size_t i = delivered_before_cut; i < chunks.offsets.size(); ++i) {
    EXPECT_NE(chunks.offsets[i], 0u) << "the transfer started over";
  }
  std::string sequence;
  for (auto o : chunks.offsets) sequence += std::to_string(o >> 16) + " ";
  EXPECT_LT(chunks.bytes, chunks.size + chunks.size / 2)
      << "delivered bytes: " << chunks.bytes << ", chunks (64 KiB units): " << sequence;
}

TEST_F(InstallSnapshotTest, CorruptChunkIsSentAgain) {
  auto c = cluster_with_late_follower(600, 2000);
  ChunkLog chunks;
  std::atomic<bool> damaged{false};
  constexpr std::uint64_t kVictim = 2 * (64 << 10);
  c->transport().set_filter([&](raft::Message& m) {
    auto* chunk = std::get_if<raft::SnapshotChunk>(&m.body);
    if (chunk == nullptr || m.to != kLate) return true;
    if (chunk->offset == kVictim && !damaged.exchange(true)) chunk->data[100] ^= 0x5a;
    chunks.record(*chunk, true);
    return true;
  });
  c->start(kLate);
  const NodeId leader = *c->wait_for_leader();
  ASSERT_TRUE(eventually([&] { return c->status(kLate).applied >= c->status(leader).commit; }));
  EXPECT_TRUE(damaged.load());
  EXPECT_TRUE(same_as_leader(*c, leader, 600));
  EXPECT_GE(chunks.sent_at(kVictim), 2) << "the damaged chunk was not sent again";
  EXPECT_EQ(chunks.sent_at(0), 1) << "one bad chunk must not restart the whole transfer";
}

TEST_F(InstallSnapshotTest, CorruptWholeFileIsRefusedAndFetchedAgain) {
  auto c = cluster_with_late_follower(600, 2000);
  ChunkLog chunks;
  std::atomic<bool> damaged{false};
  c->transport().set_filter([&](raft::Message& m) {
    auto* chunk = std::get_if<raft::SnapshotChunk>(&m.body);
    if (chunk == nullptr || m.to != kLate) return true;
    if (chunk->offset == (64 << 10) && !damaged.exchange(true)) {
      // Damaged where the chunk checksum cannot see it (a bad disk at the sender, say):
      // only the whole file's checksum catches this.
      chunk->data[7] ^= 0x01;
      chunk->chunk_checksum = snapshot::chunk_checksum(chunk->data);
    }
    chunks.record(*chunk, true);
    return true;
  });
  c->start(kLate);
  const NodeId leader = *c->wait_for_leader();
  ASSERT_TRUE(eventually([&] { return c->status(kLate).applied >= c->status(leader).commit; }));
  EXPECT_TRUE(same_as_leader(*c, leader, 600));
  EXPECT_GE(chunks.sent_at(0), 2) << "the refused file was not fetched again from the start";
}

TEST_F(InstallSnapshotTest, BandwidthLimitPacesTheTransfer) {
  auto o = options();
  o.snapshot.transfer.bytes_per_second = 1'000'000;
  auto c = cluster_with_late_follower(600, 2000, o);  // about 1.2 MB of state
  ChunkLog chunks;
  c->transport().set_filter([&](raft::Message& m) {
    if (auto* chunk = std::get_if<raft::SnapshotChunk>(&m.body); chunk && m.to == kLate) {
      chunks.record(*chunk, true);
    }
    return true;
  });
  c->start(kLate);
  const NodeId leader = *c->wait_for_leader();
  ASSERT_TRUE(eventually([&] { return c->status(kLate).applied >= c->status(leader).commit; }));
  std::lock_guard lock(chunks.mutex);
  ASSERT_GT(chunks.size, 500'000u);
  // The token bucket lets at most one burst (100 KB) through at once: the rest takes at
  // least its size over the rate. A lower bound only: a slow machine cannot fail it.
  const double seconds = std::chrono::duration<double>(chunks.last - chunks.first).count();
  const double floor = static_cast<double>(chunks.size - 100'000) / 1e6;
  EXPECT_GE(seconds, floor * 0.9) << chunks.size << " bytes in " << seconds << " s";
}

}  // namespace
}  // namespace raftor::testing
