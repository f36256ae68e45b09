// Writes keep committing while the leader generates a large (128 MB) snapshot: generation
// runs in the snapshotter's own mailbox, concurrently with replication and apply. Only
// "proposals committed inside the generation window" is asserted: no wall-clock bound.
// (About 7 s on a 2-core VM, most of it loading the state through Raft.)
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "snapshot_test_util.hpp"

namespace raftor::testing {
namespace {

struct Window {
  std::chrono::steady_clock::time_point start, end;
};

class LargeSnapshot : public SnapshotClusterTest {
 protected:
  void run(std::size_t state_mb) {
    constexpr std::size_t kValueBytes = 256 << 10;  // incompressible: the file is the state's size
    const std::size_t values = state_mb * (1 << 20) / kValueBytes;
    auto options = snapshot_options(/*every_entries=*/0, /*retention=*/1'000'000);
    options.snapshot.policy.max_log_bytes = 0;
    auto c = cluster(options);
    const NodeId leader = *c->wait_for_leader();

    // The state: `values` random values, written by 4 clients.
    std::vector<std::thread> loaders;
    std::atomic<int> load_failures{0};
    for (int w = 0; w < 4; ++w) {
      loaders.emplace_back([&, w] {
        std::mt19937_64 rng(w);
        std::string v(kValueBytes, '\0');
        for (std::size_t i = w; i < values; i += 4) {
          for (std::size_t b = 0; b < v.size(); b += 8) {
            const std::uint64_t r = rng();
            std::memcpy(v.data() + b, &r, 8);
          }
          auto reply = c->propose(leader, command::put("big-" + std::to_string(i), v), 30s);
          if (!reply.ok) ++load_failures;
        }
      });
    }
    for (auto& t : loaders) t.join();
    ASSERT_EQ(load_failures.load(), 0);

    // A client that keeps writing, recording when each acknowledged write was sent and
    // answered.
    std::atomic<bool> writing{true};
    std::atomic<int> acked_count{0};
    std::vector<Window> acked;  // read once the writer is joined
    std::thread writer([&] {
      for (int i = 0; writing; ++i) {
        const auto sent = std::chrono::steady_clock::now();
        auto reply = c->propose(leader, command::put(key(i), value(i)), 10s);
        if (!reply.ok) continue;
        acked.push_back({sent, std::chrono::steady_clock::now()});
        ++acked_count;
      }
    });
    while (acked_count < 20) std::this_thread::sleep_for(1ms);  // the writer is going

    const auto start = std::chrono::steady_clock::now();
    auto reply = snapshot(*c, leader, 10min);
    const auto end = std::chrono::steady_clock::now();
    writing = false;
    writer.join();
    ASSERT_TRUE(reply.ok) << reply.message;

    std::size_t during = 0;  // writes sent after generation began and answered before it ended
    for (const auto& w : acked) during += (w.start >= start && w.end <= end);
    const double seconds = std::chrono::duration<double>(end - start).count();
    const double mb = static_cast<double>(reply.metadata.size) / 1e6;
    std::printf("snapshot of %.1f MB in %.2f s (%.0f MB/s); %zu writes committed meanwhile\n", mb,
                seconds, mb / seconds, during);
    EXPECT_GE(reply.metadata.size, state_mb * (1 << 20));
    EXPECT_GT(during, 0u) << "no write committed while the snapshot was generated";
  }
};

TEST_F(LargeSnapshot, WritesCommitWhileA128MbSnapshotIsGenerated) { run(128); }

}  // namespace
}  // namespace raftor::testing
