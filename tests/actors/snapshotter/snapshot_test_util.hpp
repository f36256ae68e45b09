// Helpers shared by the snapshotter's cluster tests: a fixture with an actor system, polling,
// snapshot requests and a look at a node's snapshot directory.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "../raft/local_cluster.hpp"
#include "raftor/tests/support/eventually.hpp"
#include "raftor/storage/command.hpp"

namespace raftor::testing {

using namespace std::chrono_literals;

class SnapshotClusterTest : public ::testing::Test {
 protected:
  caf::actor_system system_{test_system_config()};

  std::unique_ptr<LocalCluster> cluster(LocalClusterOptions options) {
    auto c = std::make_unique<LocalCluster>(system_, options);
    c->start_all();
    EXPECT_TRUE(c->wait_for_leader());
    return c;
  }

  static bool eventually(const std::function<bool()>& condition,
                         std::chrono::milliseconds timeout = 20s) {
    return testing::eventually(condition, timeout);
  }

  SnapshotReply snapshot(LocalCluster& c, NodeId id, std::chrono::milliseconds timeout = 60s) {
    caf::scoped_actor self{system_};
    SnapshotReply out;
    out.message = "no reply";
    self->request(c.actor(id), timeout, snapshot_atom::value)
        .receive([&](SnapshotReply& r) { out = std::move(r); },
                 [&](const caf::error& e) { out.message = caf::to_string(e); });
    return out;
  }

  static std::string key(int i) { return "key-" + std::to_string(i); }
  static std::string value(int i) { return "value-" + std::to_string(i); }

  // Writes keys [from, to) through the leader, `writers` at a time.
  static void write_range(LocalCluster& c, int from, int to, int writers = 1) {
    const auto leader = c.wait_for_leader();
    ASSERT_TRUE(leader);
    std::vector<std::thread> threads;
    std::atomic<int> failed{0};
    std::mutex retry_mutex;  // LocalCluster::put (leader discovery) is not thread-safe
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        for (int i = from + w; i < to; i += writers) {
          if (c.propose(*leader, command::put(key(i), value(i))).ok) continue;
          std::lock_guard lock(retry_mutex);
          if (!c.put(key(i), value(i)).ok) ++failed;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failed.load(), 0);
  }

  // Every key in [from, to) readable with its value from `id`'s applied state.
  static bool has_range(LocalCluster& c, NodeId id, int from, int to) {
    for (int i = from; i < to; ++i) {
      auto r = c.read(id, {key(i)}, ReadConsistency::eventual);
      if (!r.ok || !r.found.at(0) || r.values.at(0) != value(i)) return false;
    }
    return true;
  }

  static std::set<std::string> files(const std::filesystem::path& dir) {
    std::set<std::string> out;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      out.insert(it->path().filename().string());
    }
    return out;
  }
  static std::size_t count_with(const std::set<std::string>& names, std::string_view suffix) {
    std::size_t n = 0;
    for (const auto& name : names) n += name.ends_with(suffix);
    return n;
  }
};

}  // namespace raftor::testing
