#include "random_schedule.hpp"

#include <algorithm>
#include <iostream>

#include "sim_cluster.hpp"

namespace raftor::sim {

namespace {

std::string str(std::uint64_t v) { return std::to_string(v); }

// Per-step probabilities (per million) of the run's activities.
struct Rates {
  std::uint64_t propose = 150'000;
  std::uint64_t propose_anywhere = 20'000;  // to a random node: mostly refused, not_leader path
  std::uint64_t burst = 5'000;  // 20..60 proposals at once: flow control, long AppendEntries
  std::uint64_t read = 30'000;
  std::uint64_t lease_read = 0;
  std::uint64_t network_fault = 0;
  std::uint64_t crash = 0;
  std::uint64_t restart = 20'000;  // per stopped node
  std::uint64_t pause = 0;
  std::uint64_t snapshot = 0;   // a random node snapshots and purges its log
  std::uint64_t retention = 0;  // entries it keeps below the snapshot
  std::uint64_t membership = 0;  // the leader adds, promotes or removes a node (§4.1)
  std::uint64_t transfer = 0;    // the leader hands leadership over (§3.10)
};

template <class T>
T pick(SimRandom& rng, std::initializer_list<T> choices) {
  return *(choices.begin() + rng.below(choices.size()));
}

struct Shape {
  ClusterOptions cluster;
  Rates rates;

  std::string describe() const {
    const auto& r = cluster.raft;
    const auto& n = cluster.network;
    return str(cluster.nodes) + " voters + " + str(cluster.learners) + " learners + " +
           str(cluster.spares) + " spares, promote_learner_lag=" +
           (r.promote_learner_lag ? str(*r.promote_learner_lag) : std::string("off")) +
           ", election_ticks=" + str(r.election_ticks) +
           " heartbeat_ticks=" + str(r.heartbeat_ticks) + " pre_vote=" + str(r.pre_vote) +
           " check_quorum=" + str(r.check_quorum) + " lease_ticks=" + str(r.lease_ticks) +
           " max_append_bytes=" + str(r.max_append_bytes) +
           " max_inflight=" + str(r.max_inflight_appends) + "; delay " + str(n.min_delay) +
           ".." + str(n.max_delay) + " drop " + str(n.drop_ppm) + "ppm dup " +
           str(n.duplicate_ppm) + "ppm long " + str(n.long_delay_ppm) + "ppm; faults: net " +
           str(rates.network_fault) + "ppm crash " + str(rates.crash) + "ppm" +
           (cluster.torn_crashes ? " (torn)" : "") + " pause " + str(rates.pause) + "ppm" +
           " snapshot " + str(rates.snapshot) + "ppm retention " + str(rates.retention) +
           "; membership " + str(rates.membership) + "ppm transfer " + str(rates.transfer) + "ppm";
  }
};

Shape choose_shape(std::uint64_t seed) {
  SimRandom rng(mix_seed(seed, 1));
  Shape s;
  s.cluster.seed = seed;
  s.cluster.nodes = pick<std::size_t>(rng, {3, 5});
  s.cluster.learners = rng.chance(250'000) ? 1 : 0;
  raft::RaftConfig& r = s.cluster.raft;
  r.election_ticks = pick<std::uint32_t>(rng, {6, 10, 10});  // 6: elections race delays
  r.heartbeat_ticks = pick<std::uint32_t>(rng, {1, 1, 2, 3});
  r.pre_vote = rng.chance(666'666);
  r.check_quorum = rng.chance(666'666);
  r.max_append_bytes = pick<std::uint64_t>(rng, {64, 1024, 1 << 20});
  r.max_inflight_appends = pick<std::uint32_t>(rng, {1, 4, 64});
  // A lease is only sound while clocks run at the same rate and voters remember whom they
  // heard from: runs with leases have no crashes and no pauses (thesis §6.4.1).
  const bool lease = r.check_quorum && rng.chance(250'000);
  if (lease) r.lease_ticks = r.election_ticks / 2;

  NetworkConditions& n = s.cluster.network;
  n.max_delay = pick<std::uint64_t>(rng, {1, 2, 3, 4});
  n.drop_ppm = pick<std::uint64_t>(rng, {0, 10'000, 50'000, 150'000});
  n.duplicate_ppm = pick<std::uint64_t>(rng, {0, 10'000, 50'000});
  n.long_delay_ppm = pick<std::uint64_t>(rng, {0, 0, 5'000});

  s.rates.network_fault = pick<std::uint64_t>(rng, {0, 3'000, 10'000});
  s.rates.crash = lease ? 0 : pick<std::uint64_t>(rng, {0, 1'000, 4'000, 15'000});
  s.cluster.torn_crashes = rng.chance(500'000);
  s.rates.pause = lease ? 0 : pick<std::uint64_t>(rng, {0, 1'000});
  // Half the runs snapshot and purge, some so eagerly that lagging or restarted nodes
  // can only catch up through InstallSnapshot (Raft §7).
  s.rates.snapshot = pick<std::uint64_t>(rng, {0, 0, 2'000, 20'000});
  s.rates.retention = pick<std::uint64_t>(rng, {0, 2, 20});
  s.rates.lease_read = lease ? 30'000 : 0;
  // Membership changes and leadership transfers (thesis chapter 4, §3.10), in most runs.
  // Drawn from a separate stream so the shapes above stay what they were for each seed.
  SimRandom more(mix_seed(seed, 2));
  s.cluster.spares = pick<std::size_t>(more, {0, 1, 2});
  s.rates.membership = pick<std::uint64_t>(more, {0, 1'000, 3'000, 10'000});
  s.rates.transfer = pick<std::uint64_t>(more, {0, 1'000, 5'000});
  // Automatic promotion in two thirds of the runs, within 0, 5 or 50 entries of the leader.
  const std::uint64_t lag = pick<std::uint64_t>(more, {0, 5, 50});
  if (more.chance(666'666)) r.promote_learner_lag = lag;
  return s;
}

NodeId random_node(SimCluster& c) { return 1 + c.rng().below(c.ids().size()); }

void network_fault(SimCluster& c) {
  SimRandom& rng = c.rng();
  const auto ids = c.ids();
  const std::uint64_t r = rng.below(100);
  if (r < 30) {
    c.heal();
  } else if (r < 50) {  // a random split into two non-empty groups
    std::vector<std::vector<NodeId>> groups(2);
    const std::uint64_t mask = 1 + rng.below((1ULL << ids.size()) - 2);
    for (std::size_t i = 0; i < ids.size(); ++i) groups[(mask >> i) & 1].push_back(ids[i]);
    c.split(groups);
  } else if (r < 65) {
    c.isolate(random_node(c));
  } else if (r < 85) {
    auto l = c.leader();
    c.isolate(l ? *l : random_node(c));
  } else {
    const NodeId a = random_node(c);
    const NodeId b = random_node(c);
    if (a != b) c.block(a, b);
  }
}

// One single-server change at the leader (thesis §4.1): add a non-member as a learner,
// promote a learner, or remove any member — the leader itself included — while at least
// two voters remain. Refusals (a change pending, a transfer) are part of the test.
void change_membership(SimCluster& c) {
  SimRandom& rng = c.rng();
  auto l = c.leader();
  if (!l || c.paused(*l)) return;
  const Membership m = c.node(*l).status().membership;
  auto in = [](const std::vector<NodeId>& ids, NodeId id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  std::vector<NodeId> outsiders;
  for (NodeId id : c.ids()) {
    if (!in(m.voters, id) && !in(m.learners, id)) outsiders.push_back(id);
  }
  const std::uint64_t r = rng.below(100);
  raft::ConfigChange change;
  if (r < 35 && !outsiders.empty()) {
    change = {raft::ConfigChangeType::add_learner, outsiders[rng.below(outsiders.size())],
              "sim:" + std::to_string(rng.below(1000))};
  } else if (r < 65 && !m.learners.empty()) {
    change = {raft::ConfigChangeType::promote, m.learners[rng.below(m.learners.size())], {}};
  } else {
    std::vector<NodeId> removable = m.learners;
    if (m.voters.size() > 2) removable.insert(removable.end(), m.voters.begin(), m.voters.end());
    if (removable.empty()) return;
    change = {raft::ConfigChangeType::remove, removable[rng.below(removable.size())], {}};
  }
  c.change_membership(*l, change);
}

void transfer_leadership(SimCluster& c) {
  SimRandom& rng = c.rng();
  auto l = c.leader();
  if (!l || c.paused(*l)) return;
  // Half to the most up-to-date voter, half to any node (learners and outsiders refused).
  const NodeId target = rng.chance(500'000) ? 0 : random_node(c);
  c.transfer_leadership(*l, target);
}

void crash_someone(SimCluster& c) {
  SimRandom& rng = c.rng();
  NodeId victim = random_node(c);
  if (auto l = c.leader(); l && rng.chance(300'000)) victim = *l;
  if (!c.node(victim).up()) return;
  if (rng.chance(500'000)) {
    c.crash_before_sync(victim);
  } else {
    c.crash(victim);
  }
}

void one_step(SimCluster& c, const Rates& rates) {
  SimRandom& rng = c.rng();
  if (rng.chance(rates.propose)) {
    auto leaders = c.leaders();
    if (!leaders.empty()) {
      const NodeId l = leaders[rng.below(leaders.size())];
      if (!c.paused(l)) c.propose(l, 1 + rng.below(3));
    }
  }
  if (rng.chance(rates.burst)) {
    if (auto l = c.leader(); l && !c.paused(*l)) c.propose(*l, rng.between(20, 60));
  }
  if (rng.chance(rates.propose_anywhere)) {
    const NodeId n = random_node(c);
    if (!c.paused(n)) c.propose(n);
  }
  if (rng.chance(rates.read)) {
    auto leaders = c.leaders();
    if (!leaders.empty()) {
      const NodeId l = leaders[rng.below(leaders.size())];
      if (!c.paused(l)) c.read(l);
    }
  }
  if (rates.lease_read != 0 && rng.chance(rates.lease_read)) {
    for (NodeId l : c.leaders()) c.lease_read(l);
  }
  if (rates.network_fault != 0 && rng.chance(rates.network_fault)) network_fault(c);
  if (rates.crash != 0 && rng.chance(rates.crash)) crash_someone(c);
  if (rates.pause != 0 && rng.chance(rates.pause)) c.pause(random_node(c), 1 + rng.below(30));
  if (rates.snapshot != 0 && rng.chance(rates.snapshot)) c.take_snapshot(random_node(c), rates.retention);
  if (rates.membership != 0 && rng.chance(rates.membership)) change_membership(c);
  if (rates.transfer != 0 && rng.chance(rates.transfer)) transfer_leadership(c);
  for (NodeId id : c.ids()) {
    if (!c.node(id).up() && rng.chance(rates.restart)) c.restart(id);
  }
  c.step();
}

}  // namespace

ScheduleOutcome run_random_schedule(std::uint64_t seed, const ScheduleOptions& options) {
  Shape shape = choose_shape(seed);
  shape.cluster.verbose = options.verbose;
  shape.cluster.broken_driver = options.broken_driver;
  ScheduleOutcome out;
  out.shape = shape.describe();
  if (options.verbose) std::cout << "seed " << seed << ": " << out.shape << '\n';

  SimCluster cluster(shape.cluster);
  for (std::uint64_t i = 0; i < options.steps && !cluster.failed(); ++i) {
    one_step(cluster, shape.rates);
  }
  out.ok = cluster.finish();
  out.report = cluster.report();
  out.fingerprint = cluster.events().fingerprint();
  out.steps = cluster.now();
  out.crashes = cluster.crashes();
  out.snapshots_installed = cluster.snapshots_installed();
  out.config_changes = cluster.config_changes();
  out.transfers = cluster.transfers();
  out.stats = cluster.checker().stats();
  return out;
}

}  // namespace raftor::sim
