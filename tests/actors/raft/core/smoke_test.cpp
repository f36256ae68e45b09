// A small randomized run of five cores — messages reordered, dropped, duplicated; nodes
// crashing and losing unsynced writes — checking Raft's safety properties (figure 3):
// election safety, state machine safety (every node applies the same entry at an index),
// and durability of what was applied. Then the network heals and everyone must converge.
// Seeds vary pre-vote, check-quorum, leases and the pipelining window.
// The full simulation harness lives in tests/actors/raft/simulation.
#include <map>
#include <random>

#include "core_test_util.hpp"

namespace raftor::raft::test {
namespace {

class Smoke {
 public:
  explicit Smoke(std::uint64_t seed)
      : net_({1, 2, 3, 4, 5}, {},
             [seed](RaftConfig& c) {
               c.seed = seed * 31 + c.id;
               c.max_inflight_appends = 1 + seed % 4;
               c.max_append_bytes = 16;
               c.pre_vote = seed % 2 == 0;
               c.check_quorum = seed % 3 != 0;
               if (seed % 5 == 0) c.lease_ticks = 5;
             }),
        rng_(seed) {}

  void run(int steps) {
    for (int i = 0; i < steps && !::testing::Test::HasFailure(); ++i) {
      std::uint64_t dice = rng_() % 100;
      NodeId node = 1 + rng_() % 5;
      if (dice < 25) {
        net_.tick(node);
      } else if (dice < 80) {
        net_.collect();
        deliver_some();
      } else if (dice < 92) {
        if (NodeId l = net_.leader(); l != 0) {
          (void)net_.core(l).propose({"v" + std::to_string(next_value_++)});
        }
      } else if (dice < 94) {
        crash(node);
      } else if (dice < 97) {
        if (NodeId l = net_.leader(); l != 0) (void)net_.core(l).read_index(i);
      } else {
        net_.collect();  // drop everything in flight: a short partition
        net_.queue().clear();
      }
      check();
    }
  }

  void converge() {
    for (int i = 0; i < 300; ++i) {
      net_.tick_all();
      net_.settle();
      check();
    }
    NodeId l = net_.leader();
    ASSERT_NE(l, 0u);
    std::uint64_t last = net_.node(l).log.last_index();
    for (NodeId id : net_.ids()) {
      EXPECT_EQ(net_.node(id).log.last_log_id(), net_.node(l).log.last_log_id()) << id;
      EXPECT_EQ(net_.node(id).applied.size(), last) << "node " << id;
    }
    EXPECT_GT(applied_.size(), 10u);  // progress was made
  }

 private:
  void deliver_some() {
    auto& q = net_.queue();
    for (int k = rng_() % 8; k > 0 && !q.empty(); --k) {
      std::size_t pick = rng_() % std::min<std::size_t>(q.size(), 4);  // reorder a little
      Message m = q[pick];
      std::uint64_t fate = rng_() % 100;
      if (fate >= 5) net_.deliver(m);         // 5% lost
      if (fate >= 97) continue;               // 3% duplicated: stays queued
      q.erase(q.begin() + static_cast<std::ptrdiff_t>(pick));
    }
  }

  void crash(NodeId id) {
    net_.restart(id);
    // Applied entries were durable before they were applied.
    for (const Entry& e : net_.node(id).applied) {
      ASSERT_EQ(net_.node(id).log.term_at(e.index), std::optional<std::uint64_t>(e.term))
          << "node " << id << " lost applied entry " << e.index;
    }
  }

  void check() {
    for (NodeId id : net_.ids()) {
      CoreStatus s = net_.core(id).status();
      if (s.role == Role::leader) {  // election safety: one leader per term
        auto [it, fresh] = leaders_.emplace(s.term, id);
        ASSERT_EQ(it->second, id) << "two leaders in term " << s.term;
      }
      const auto& applied = net_.node(id).applied;
      for (std::size_t i = checked_[id]; i < applied.size(); ++i) {  // state machine safety
        auto [it, fresh] = applied_.emplace(applied[i].index, applied[i]);
        ASSERT_EQ(it->second, applied[i]) << "node " << id << " applied a different entry "
                                          << applied[i].index;
      }
      checked_[id] = applied.size();
    }
  }

  Network net_;
  std::mt19937_64 rng_;
  std::uint64_t next_value_ = 0;
  std::map<std::uint64_t, NodeId> leaders_;
  std::map<std::uint64_t, Entry> applied_;
  std::map<NodeId, std::size_t> checked_;
};

TEST(RaftCoreSmoke, RandomScheduleKeepsSafetyAndConverges) {
  for (std::uint64_t seed = 1; seed <= 30 && !HasFailure(); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Smoke smoke(seed);
    smoke.run(4000);
    smoke.converge();
  }
}

}  // namespace
}  // namespace raftor::raft::test
