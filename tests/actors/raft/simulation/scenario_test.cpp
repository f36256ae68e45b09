// Fixed fault scenarios through the simulation harness: each sets up one classic hazard
// deliberately; the property checker watches the whole run and finish() adds liveness,
// convergence and "no acknowledged write lost".
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>

#include "raftor/messages/command.pb.h"
#include "sim_cluster.hpp"

namespace raftor::sim {
namespace {

ClusterOptions scenario_options(std::uint64_t seed, std::size_t nodes) {
  ClusterOptions o;
  o.seed = seed;
  o.nodes = nodes;
  o.raft.election_ticks = 10;
  o.raft.heartbeat_ticks = 1;
  o.network.min_delay = 1;
  o.network.max_delay = 1;  // exact timing: the scenarios count steps
  o.log_check_interval = 20;
  o.verbose = std::getenv("RAFTOR_SIM_VERBOSE") != nullptr;  // echo every event
  return o;
}

bool key_starts_with(const std::string& payload, std::string_view prefix) {
  pb::Command command;
  return command.ParseFromString(payload) && command.has_put() &&
         std::string_view(command.put().key()).substr(0, prefix.size()) == prefix;
}

std::size_t acked_with(const SimCluster& c, std::string_view prefix) {
  const auto& acked = c.checker().acked();
  return std::count_if(acked.begin(), acked.end(),
                       [&](const AckedWrite& w) { return key_starts_with(w.payload, prefix); });
}

std::size_t applied_with(SimCluster& c, NodeId id, std::string_view prefix) {
  const auto& applied = c.node(id).applied_entries();
  return std::count_if(applied.begin(), applied.end(),
                       [&](const Entry& e) { return key_starts_with(e.payload, prefix); });
}

NodeId wait_for_leader(SimCluster& c, std::uint64_t max_steps = 500) {
  EXPECT_TRUE(c.run_until([&] { return c.leader().has_value(); }, max_steps)) << c.report();
  return c.leader().value_or(0);
}

// Waits for a leader among `group` in a term above `term`.
NodeId wait_for_leader_in(SimCluster& c, const std::vector<NodeId>& group, std::uint64_t term,
                          std::uint64_t max_steps = 1000) {
  NodeId found = 0;
  c.run_until(
      [&] {
        for (NodeId id : group) {
          if (c.node(id).up() && c.node(id).status().role == raft::Role::leader &&
              c.node(id).status().term > term) {
            found = id;
          }
        }
        return found != 0;
      },
      max_steps);
  EXPECT_NE(found, 0u) << c.report();
  return found;
}

bool all_applied(SimCluster& c, std::uint64_t index) {
  for (NodeId id : c.ids()) {
    if (!c.node(id).up() || c.node(id).applied() < index) return false;
  }
  return true;
}

std::vector<NodeId> others(const SimCluster& c, std::initializer_list<NodeId> excluded) {
  std::vector<NodeId> out;
  for (NodeId id : c.ids()) {
    if (std::find(excluded.begin(), excluded.end(), id) == excluded.end()) out.push_back(id);
  }
  return out;
}

// A leader replicates entries to a minority and crashes before its own copy is durable;
// the majority elects a new leader whose entries replace them. They are never acknowledged
// and never applied; everything the new leader acknowledged survives.
TEST(RaftSimulationScenario, LeaderCrashWithUncommittedEntries) {
  for (bool before_sync : {false, true}) {
    SCOPED_TRACE(before_sync ? "crash before sync" : "crash after sync");
    SimCluster c(scenario_options(11, 5));
    const NodeId l1 = wait_for_leader(c);
    c.propose(l1, 3, "early");
    ASSERT_TRUE(c.run_until([&] { return acked_with(c, "early") == 3; }, 200)) << c.report();

    const auto rest = others(c, {l1});
    const NodeId s2 = rest[0];
    const std::vector<NodeId> majority(rest.begin() + 1, rest.end());
    c.split({{l1, s2}, majority});
    if (before_sync) c.crash_before_sync(l1);
    c.propose(l1, 5, "doomed");
    c.run(4);  // the entries reach s2, never the majority
    EXPECT_GE(c.node(s2).log().last_index(), c.node(majority[0]).log().last_index() + 5);
    c.crash(l1);

    const NodeId l2 = wait_for_leader_in(c, majority, 0);
    ASSERT_NE(l2, 0u);
    c.propose(l2, 5, "after");
    ASSERT_TRUE(c.run_until([&] { return acked_with(c, "after") == 5; }, 300)) << c.report();

    ASSERT_TRUE(c.finish()) << c.report();
    EXPECT_EQ(acked_with(c, "doomed"), 0u);
    for (NodeId id : c.ids()) EXPECT_EQ(applied_with(c, id, "doomed"), 0u) << "node " << id;
  }
}

// Raft figure 8: a leader must not commit an entry of an earlier term just because a
// majority stores it. Leader X (term Tc) copies the term-T1 entry at index i to a third
// node; flow control sends one entry per AppendEntries, so the copy is acknowledged before
// X's own entries reach anybody. X crashes right then. S5, whose log ends with a different
// entry at index i of a term between, is then elected and overwrites index i. Had X
// committed (and applied) index i, state machine safety would break here.
TEST(RaftSimulationScenario, Figure8OldTermEntryNotCommittedByCounting) {
  ClusterOptions o = scenario_options(21, 5);
  o.raft.max_append_bytes = 1;  // one entry per AppendEntries
  o.raft.max_inflight_appends = 1;
  SimCluster c(o);
  const NodeId s1 = wait_for_leader(c);
  ASSERT_TRUE(c.run_until(
      [&] {
        const auto s = c.node(s1).status();
        return s.commit == s.last_log.index && all_applied(c, s.commit);  // s1's no-op
      },
      200));
  const std::uint64_t base = c.node(s1).log().last_index();
  const auto rest = others(c, {s1});
  const NodeId s2 = rest[0];
  const std::vector<NodeId> majority(rest.begin() + 1, rest.end());

  // (a) s1 copies one entry (index base + 1, its term) to s2 only, then crashes.
  c.split({{s1, s2}, majority});
  c.propose(s1, 1, "old");
  const std::uint64_t t1 = c.node(s1).status().term;
  ASSERT_TRUE(c.run_until([&] { return c.node(s2).log().last_index() == base + 1; }, 20));
  c.crash(s1);

  // (b) s5 wins in the majority and writes its own entry at base + 1, which nobody
  // receives: it is isolated the moment it leads, its AppendEntries still in flight.
  const NodeId s5 = wait_for_leader_in(c, majority, t1);
  ASSERT_NE(s5, 0u);
  const std::uint64_t t5 = c.node(s5).status().term;
  c.isolate(s5);
  c.run(2);
  ASSERT_EQ(c.node(s5).log().last_index(), base + 1);
  c.crash(s5);

  // (c) s1 back, s5 still down: s1 or s2 (the only logs holding base + 1) leads in term Tc.
  c.heal();
  c.restart(s1, c.node(s1).applied_entries().size());
  std::vector<NodeId> third;
  for (NodeId id : majority) {
    if (id != s5) third.push_back(id);
  }
  const NodeId x = wait_for_leader_in(c, {s1, s2}, t5);
  ASSERT_NE(x, 0u);
  // Wait until a third node holds the old entry (a majority now stores it) ...
  bool majority_stores_old = false;
  ASSERT_TRUE(c.run_until(
      [&] {
        for (NodeId id : third) {
          const auto& log = c.node(id).log();
          if (log.last_index() == base + 1 && log.term_at(base + 1) == t1) {
            majority_stores_old = true;
          }
        }
        return majority_stores_old;
      },
      200))
      << c.report();
  // ... let its acknowledgement reach x, then cut x off (its next AppendEntries, carrying
  // its own entry, die in flight) and crash it.
  c.step();
  c.isolate(x);
  c.crash(x);
  EXPECT_TRUE(majority_stores_old);

  // (d) s5 returns; x's partner is cut off so that s5 (newer last term) wins with the rest.
  const NodeId partner = x == s1 ? s2 : s1;
  c.restart(s5, c.node(s5).applied_entries().size());
  c.isolate(partner);
  c.run(300);
  ASSERT_FALSE(c.failed()) << c.report();

  ASSERT_TRUE(c.finish()) << c.report();
  EXPECT_EQ(acked_with(c, "old"), 0u);
  // The hazard really happened: s5's entry replaced the once-majority-stored old one.
  EXPECT_EQ(c.node(s1).log().term_at(base + 1), t5);
}

// A leader cut off with one follower keeps accepting proposals until it notices; none of
// them may be acknowledged, its ReadIndex reads are never confirmed, and the majority's
// writes all survive the heal.
TEST(RaftSimulationScenario, PartitionedMinorityLeaderNeverAcknowledges) {
  SimCluster c(scenario_options(31, 5));
  const NodeId old_leader = wait_for_leader(c);
  c.propose(old_leader, 2, "before");
  ASSERT_TRUE(c.run_until([&] { return acked_with(c, "before") == 2; }, 200)) << c.report();

  const auto rest = others(c, {old_leader});
  const std::vector<NodeId> majority(rest.begin() + 1, rest.end());
  c.split({{old_leader, rest[0]}, majority});
  const std::uint64_t reads_before = c.checker().stats().reads_checked;
  std::size_t minority_proposals = 0;
  for (int i = 0; i < 30; ++i) {
    if (c.node(old_leader).status().role == raft::Role::leader) {
      minority_proposals += c.propose(old_leader, 2, "minority").size();
      c.read(old_leader);
    }
    c.step();
  }
  EXPECT_GT(minority_proposals, 0u);
  const NodeId new_leader = wait_for_leader_in(c, majority, 0);
  ASSERT_NE(new_leader, 0u);
  c.propose(new_leader, 10, "majority");
  ASSERT_TRUE(c.run_until([&] { return acked_with(c, "majority") == 10; }, 300)) << c.report();
  EXPECT_EQ(c.checker().stats().reads_checked, reads_before)
      << "a leader without a quorum confirmed a read";

  ASSERT_TRUE(c.finish()) << c.report();
  EXPECT_EQ(acked_with(c, "minority"), 0u);
  for (NodeId id : c.ids()) EXPECT_EQ(applied_with(c, id, "minority"), 0u) << "node " << id;
  EXPECT_EQ(acked_with(c, "majority"), 10u);
}

// A follower misses hundreds of entries (cut off) and catches up through many small
// AppendEntries once the link heals.
TEST(RaftSimulationScenario, LaggingFollowerCatchesUp) {
  for (std::size_t nodes : {3, 5}) {
    SCOPED_TRACE(std::to_string(nodes) + " nodes");
    ClusterOptions o = scenario_options(41, nodes);
    o.raft.max_append_bytes = 256;
    o.raft.max_inflight_appends = 4;
    SimCluster c(o);
    const NodeId leader = wait_for_leader(c);
    const NodeId lagging = others(c, {leader})[0];
    c.isolate(lagging);
    for (int round = 0; round < 50; ++round) {
      c.propose(leader, 8, "bulk");
      c.run(3);
    }
    ASSERT_TRUE(c.run_until([&] { return acked_with(c, "bulk") == 400; }, 300)) << c.report();
    EXPECT_EQ(applied_with(c, lagging, "bulk"), 0u);
    c.heal();
    const std::uint64_t target = c.node(leader).status().commit;
    EXPECT_TRUE(c.run_until([&] { return c.node(lagging).applied() >= target; }, 2000))
        << "lagging follower at " << c.node(lagging).applied() << " of " << target << "\n"
        << c.report();
    ASSERT_TRUE(c.finish()) << c.report();
    EXPECT_EQ(applied_with(c, lagging, "bulk"), 400u);
  }
}

// A follower crashes and restarts over and over while writes continue: sometimes losing its
// unsynced tail, its state machine rebuilt from nothing, from everything, or from a part.
TEST(RaftSimulationScenario, FollowerCrashRestartDuringWrites) {
  SimCluster c(scenario_options(51, 3));
  NodeId leader = wait_for_leader(c);
  const NodeId follower = others(c, {leader})[0];
  std::size_t proposed = 0;
  for (int round = 0; round < 30; ++round) {
    if (round % 2 == 0) {
      c.crash(follower);
    } else {
      c.crash_before_sync(follower);
    }
    for (int i = 0; i < 10; ++i) {
      if (auto l = c.leader()) proposed += c.propose(*l, 2, "w").size();
      c.step();
    }
    c.crash(follower);  // no-op when the armed crash already happened
    const std::size_t applied = c.node(follower).applied_entries().size();
    const std::uint64_t keep = round % 3 == 0 ? 0 : round % 3 == 1 ? applied : applied / 2;
    c.restart(follower, keep);
    c.run(10);
    ASSERT_FALSE(c.failed()) << c.report();
  }
  ASSERT_TRUE(c.finish()) << c.report();
  EXPECT_GT(acked_with(c, "w"), proposed / 2);
  EXPECT_EQ(applied_with(c, follower, "w"), applied_with(c, c.leader().value(), "w"));
}

}  // namespace
}  // namespace raftor::sim

namespace raftor::sim {
namespace {

bool is_voter_at(SimCluster& c, NodeId at, NodeId id) {
  const auto v = c.node(at).status().membership.voters;
  return std::find(v.begin(), v.end(), id) != v.end();
}

// The example in the simulator: a one-node cluster grows to three (each newcomer
// added as a learner, caught up, promoted) while a client keeps writing; no write is
// refused or lost, and the third node's vote then matters.
TEST(RaftSimulationScenario, SingleNodeExpansionWhileWriting) {
  ClusterOptions o = scenario_options(31, 1);
  o.spares = 2;
  o.raft.promote_learner_lag = 5;  // promoted automatically once within 5 entries
  SimCluster c(o);
  const NodeId l = wait_for_leader(c);
  ASSERT_EQ(l, 1u);
  std::size_t refused = 0;
  std::size_t proposed = 0;
  auto write_for = [&](std::uint64_t steps) {
    for (std::uint64_t i = 0; i < steps; ++i) {
      if (i % 3 == 0) {
        if (c.propose(l, 1, "w").empty()) ++refused;
        ++proposed;
      }
      c.step();
    }
  };
  write_for(30);
  for (NodeId joiner : {2, 3}) {
    ASSERT_TRUE(c.change_membership(l, {raft::ConfigChangeType::add_learner, joiner, "n"}));
    for (int round = 0; round < 40 && !is_voter_at(c, l, joiner); ++round) write_for(5);
    ASSERT_TRUE(is_voter_at(c, l, joiner)) << c.report();
    write_for(30);
  }
  EXPECT_EQ(c.node(l).status().membership.voters, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_EQ(refused, 0u);
  ASSERT_TRUE(c.run_until([&] { return acked_with(c, "w") == proposed; }, 300)) << c.report();
  // Three voters now: with node 3 cut off, 1 and 2 still commit; with 2 and 3 cut off,
  // node 1 alone cannot.
  c.isolate(3);
  c.propose(l, 1, "two");
  ASSERT_TRUE(c.run_until([&] { return acked_with(c, "two") == 1; }, 100)) << c.report();
  c.heal();
  c.split({{1}, {2, 3}});
  c.propose(l, 1, "alone");
  c.run(8);
  EXPECT_EQ(acked_with(c, "alone"), 0u);
  ASSERT_TRUE(c.finish()) << c.report();
}

// Thesis §4.2.2 under faults: the leader removes itself while one follower is cut off;
// it keeps leading until the change commits (with the remaining follower), then steps
// down and hands over; the cluster continues with the two voters left.
TEST(RaftSimulationScenario, LeaderRemovesItselfDuringPartition) {
  SimCluster c(scenario_options(41, 3));
  const NodeId l = wait_for_leader(c);
  c.propose(l, 3, "before");
  ASSERT_TRUE(c.run_until([&] { return acked_with(c, "before") == 3; }, 200)) << c.report();
  const auto rest = others(c, {l});
  c.isolate(rest[0]);
  ASSERT_TRUE(c.change_membership(l, {raft::ConfigChangeType::remove, l, {}}));
  EXPECT_EQ(c.node(l).status().role, raft::Role::leader);
  // Voters {rest}: both needed, one is cut off: the change cannot commit yet.
  c.run(30);
  EXPECT_TRUE(c.node(l).status().config_pending);
  const std::uint64_t term = c.node(l).status().term;
  c.heal();
  const NodeId next = wait_for_leader_in(c, rest, term, 300);
  ASSERT_NE(next, 0u);
  EXPECT_NE(c.node(l).status().role, raft::Role::leader);
  c.propose(next, 3, "after");
  ASSERT_TRUE(c.run_until([&] { return acked_with(c, "after") == 3; }, 300)) << c.report();
  ASSERT_TRUE(c.finish()) << c.report();
  EXPECT_EQ(c.membership().voters, rest);
}

// Thesis §3.10 under faults: a transfer to a node that cannot be reached aborts after an
// election timeout and writes resume at the same leader; a transfer to a reachable one
// then completes in the next term.
TEST(RaftSimulationScenario, LeadershipTransferAbortsThenCompletes) {
  SimCluster c(scenario_options(51, 3));
  const NodeId l = wait_for_leader(c);
  const auto rest = others(c, {l});
  c.isolate(rest[0]);
  ASSERT_TRUE(c.transfer_leadership(l, rest[0]));
  EXPECT_TRUE(c.propose(l, 1, "paused").empty());  // busy during the transfer
  c.run(12);
  EXPECT_EQ(c.leader(), l);
  EXPECT_EQ(c.node(l).status().transferring_to, 0u);
  EXPECT_FALSE(c.propose(l, 1, "resumed").empty());
  c.heal();
  ASSERT_TRUE(c.run_until([&] { return acked_with(c, "resumed") == 1; }, 200)) << c.report();
  const std::uint64_t term = c.node(l).status().term;
  ASSERT_TRUE(c.transfer_leadership(l, rest[1]));
  const NodeId next = wait_for_leader_in(c, {rest[1]}, term, 100);
  EXPECT_EQ(next, rest[1]);
  EXPECT_EQ(c.node(rest[1]).status().term, term + 1);
  ASSERT_TRUE(c.finish()) << c.report();
}

}  // namespace
}  // namespace raftor::sim
