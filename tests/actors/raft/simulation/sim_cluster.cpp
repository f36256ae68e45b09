#include "sim_cluster.hpp"

#include <algorithm>
#include <utility>

#include "raftor/actors/raft/core/config_history.hpp"

#include "raftor/storage/command.hpp"

namespace raftor::sim {

namespace {
std::string str(std::uint64_t v) { return std::to_string(v); }

std::string describe_groups(const std::vector<std::vector<NodeId>>& groups) {
  std::string out;
  for (const auto& g : groups) {
    out += out.empty() ? "{" : " | {";
    for (std::size_t i = 0; i < g.size(); ++i) out += (i ? "," : "") + str(g[i]);
    out += "}";
  }
  return out;
}
}  // namespace

SimCluster::SimCluster(ClusterOptions options)
    : options_(std::move(options)),
      rng_(options_.seed),
      events_(options_.event_capacity, options_.verbose),
      network_(rng_, events_) {
  network_.set_conditions(options_.network);
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  for (NodeId id = 1; id <= options_.nodes; ++id) voters.push_back(id);
  for (NodeId id = options_.nodes + 1; id <= options_.nodes + options_.learners; ++id) {
    learners.push_back(id);
  }
  ever_voters_.insert(voters.begin(), voters.end());
  const std::size_t total = options_.nodes + options_.learners + options_.spares;
  for (NodeId id = 1; id <= total; ++id) {
    raft::RaftConfig config = options_.raft;
    config.id = id;
    config.voters = voters;
    config.learners = learners;
    // A spare joins later: it starts as a learner of the configuration, so it neither
    // campaigns nor counts until the leader's log says otherwise.
    if (id > options_.nodes + options_.learners) config.learners.push_back(id);
    if (auto s = config.validate(); !s.ok()) checker_.fail("config", s.error().to_string());
    NodeHooks& hooks = *this;  // the base is private: convert here, not in make_unique
    nodes_.push_back(std::make_unique<SimNode>(config, hooks, options_.broken_driver));
    paused_until_.push_back(0);
    last_commit_.push_back(0);
  }
  for (auto& n : nodes_) n->start(0, mix_seed(options_.seed, n->id() * 1000));
}

SimCluster::~SimCluster() = default;

// --- time ------------------------------------------------------------------------------------

void SimCluster::step() {
  ++now_;
  events_.set_step(now_);
  checker_.set_step(now_);
  for (auto& n : nodes_) {
    if (n->up() && !paused(n->id())) n->tick();
  }
  for (raft::Message& m : network_.take_due(now_)) {
    if (m.to == 0 || m.to > nodes_.size() || !node(m.to).up()) {
      events_.message("drop(down)", std::move(m));
      continue;
    }
    if (paused(m.to)) {
      const std::uint64_t at = paused_until_[m.to - 1];
      network_.requeue(std::move(m), at);
      continue;
    }
    SimNode& to = node(m.to);
    to.step(m);
    events_.message("deliver", std::move(m));
    // The actor batches several messages per driver loop when its mailbox is busy.
    if (rng_.chance(500'000)) to.process_ready();
  }
  for (auto& n : nodes_) {
    if (n->up() && !paused(n->id())) n->process_ready();
  }
  // Copying durable views is the costliest check: every other sweep.
  const std::uint64_t every = options_.log_check_interval;
  if (every != 0 && now_ % every == 0) check_logs(now_ % (2 * every) == 0);
}

void SimCluster::run(std::uint64_t steps) {
  for (std::uint64_t i = 0; i < steps && !failed(); ++i) step();
}

bool SimCluster::run_until(const std::function<bool()>& done, std::uint64_t max_steps) {
  for (std::uint64_t i = 0; i < max_steps && !failed(); ++i) {
    if (done()) return true;
    step();
  }
  return !failed() && done();
}

// --- workload ----------------------------------------------------------------------------------

std::vector<NodeId> SimCluster::ids() const {
  std::vector<NodeId> out;
  for (const auto& n : nodes_) out.push_back(n->id());
  return out;
}

std::vector<NodeId> SimCluster::leaders() const {
  std::vector<NodeId> out;
  for (const auto& n : nodes_) {
    if (n->up() && n->status().role == raft::Role::leader) out.push_back(n->id());
  }
  return out;
}

std::optional<NodeId> SimCluster::leader() const {
  std::optional<NodeId> best;
  std::uint64_t best_term = 0;
  for (NodeId id : leaders()) {
    const std::uint64_t term = nodes_[id - 1]->status().term;
    if (!best || term > best_term) {
      best = id;
      best_term = term;
    }
  }
  return best;
}

std::vector<std::uint64_t> SimCluster::propose(NodeId id, std::size_t count,
                                               const std::string& key_prefix) {
  SimNode& n = node(id);
  if (!n.up()) return {};
  std::vector<std::string> payloads;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t p = ++proposals_;
    // Few keys, so writes overwrite each other; every value is unique.
    payloads.push_back(command::put(key_prefix + str(p % 8), "v" + str(p)));
  }
  const std::uint64_t term = n.status().term;
  auto first = n.propose(payloads);
  if (!first.ok()) {
    events_.note("propose " + str(count) + " to node " + str(id) + " refused: " +
                 first.error().to_string());
    return {};
  }
  std::vector<std::uint64_t> indexes;
  for (std::size_t i = 0; i < count; ++i) {
    indexes.push_back(*first + i);
    checker_.on_proposed(id, *first + i, term, std::move(payloads[i]));
  }
  events_.note("propose " + str(count) + " to node " + str(id) + ": indexes " + str(*first) +
               ".." + str(*first + count - 1) + " term " + str(term));
  return indexes;
}

bool SimCluster::read(NodeId id) {
  SimNode& n = node(id);
  if (!n.up()) return false;
  const std::uint64_t request = ++read_ids_;
  if (!n.read_index(request).ok()) return false;
  checker_.on_read_issued(id, request);
  events_.note("read " + str(request) + " at node " + str(id) + " (acked up to " +
               str(checker_.max_acked_index()) + ")");
  return true;
}

bool SimCluster::change_membership(NodeId id, const raft::ConfigChange& change) {
  SimNode& n = node(id);
  if (!n.up()) return false;
  auto index = n.propose_config_change(change);
  events_.note(std::string("membership: ") + raft::to_string(change.type) + " node " +
               str(change.node) + " at node " + str(id) + ": " +
               (index.ok() ? "index " + str(*index) + " -> " +
                                 raft::describe(n.status().membership)
                           : "refused: " + index.error().to_string()));
  if (index.ok()) ++config_changes_;
  return index.ok();
}

bool SimCluster::transfer_leadership(NodeId id, NodeId target) {
  SimNode& n = node(id);
  if (!n.up()) return false;
  auto s = n.transfer_leadership(target);
  events_.note("transfer leadership from node " + str(id) + " to " +
               (target == 0 ? std::string("the most up-to-date voter") : "node " + str(target)) +
               (s.ok() ? ": started, target " + str(n.status().transferring_to)
                       : ": refused: " + s.error().to_string()));
  if (s.ok()) ++transfers_;
  return s.ok();
}

Membership SimCluster::membership() const {
  if (auto l = leader()) return nodes_[*l - 1]->status().membership;
  return nodes_[0]->status().membership;
}

bool SimCluster::member(NodeId id) const {
  const Membership m = membership();
  return std::binary_search(m.voters.begin(), m.voters.end(), id) ||
         std::binary_search(m.learners.begin(), m.learners.end(), id);
}

void SimCluster::lease_read(NodeId id) {
  SimNode& n = node(id);
  if (n.up() && n.lease_valid()) checker_.on_lease_read(id, n.status().commit);
}

// --- faults ------------------------------------------------------------------------------------

void SimCluster::crash(NodeId id) {
  if (node(id).up()) node(id).crash();
}

void SimCluster::crash_before_sync(NodeId id) {
  if (!node(id).up()) return;
  events_.note("node " + str(id) + " will crash at its next sync");
  node(id).crash_before_next_sync();
}

void SimCluster::restart(NodeId id, std::optional<std::uint64_t> keep_applied) {
  SimNode& n = node(id);
  if (n.up()) return;
  const std::uint64_t keep =
      keep_applied ? *keep_applied : rng_.below(n.applied_entries().size() + 1);
  paused_until_[id - 1] = 0;
  last_commit_[id - 1] = 0;
  n.start(keep, mix_seed(options_.seed, id * 1000 + n.incarnation()));
  events_.note("restart node " + str(id) + " with " + str(n.applied()) + " applied, log up to " +
               str(n.log().last_index()) + ", term " + str(n.status().term));
}

void SimCluster::pause(NodeId id, std::uint64_t ticks) {
  paused_until_[id - 1] = now_ + ticks;
  events_.note("pause node " + str(id) + " for " + str(ticks) + " ticks");
}

void SimCluster::isolate(NodeId id) {
  for (NodeId other : ids()) {
    if (other == id) continue;
    network_.block(id, other);
    network_.block(other, id);
  }
  events_.note("isolate node " + str(id));
}

void SimCluster::split(const std::vector<std::vector<NodeId>>& groups) {
  for (std::size_t a = 0; a < groups.size(); ++a) {
    for (std::size_t b = 0; b < groups.size(); ++b) {
      if (a == b) continue;
      for (NodeId x : groups[a]) {
        for (NodeId y : groups[b]) network_.block(x, y);
      }
    }
  }
  events_.note("partition " + describe_groups(groups));
}

void SimCluster::block(NodeId from, NodeId to) {
  network_.block(from, to);
  events_.note("cut link " + str(from) + " -> " + str(to));
}

void SimCluster::heal() {
  network_.heal();
  events_.note("heal");
}

void SimCluster::set_network(const NetworkConditions& conditions) {
  network_.set_conditions(conditions);
}

// --- snapshots -----------------------------------------------------------------------------

void SimCluster::take_snapshot(NodeId id, std::uint64_t retention) {
  SimNode& n = node(id);
  if (!n.up()) return;
  const std::uint64_t before = n.log().first_index();
  n.take_snapshot(retention);
  if (n.snapshot().index != 0) {
    events_.note("node " + str(id) + " snapshot at " + str(n.snapshot().index) + ", log from " +
                 str(before) + " to " + str(n.log().first_index()));
  }
}

std::uint64_t SimCluster::snapshots_installed() const {
  std::uint64_t total = 0;
  for (const auto& n : nodes_) total += n->snapshots_installed();
  return total;
}

void SimCluster::snapshot_taken(NodeId node, const LogId& at, const std::vector<Entry>& state) {
  auto [it, inserted] = snapshots_.emplace(at, state);
  if (!inserted && it->second != state) {
    checker_.fail("state machine safety", "node " + str(node) + " took a snapshot at index " +
                                              str(at.index) + " term " + str(at.term) +
                                              " that differs from another node's there");
  }
}

const std::vector<Entry>* SimCluster::snapshot_data(const LogId& at) {
  auto it = snapshots_.find(at);
  if (it == snapshots_.end()) return nullptr;
  events_.note("snapshot at " + str(at.index) + " installed");
  return &it->second;
}

// --- hooks -------------------------------------------------------------------------------------

void SimCluster::send(raft::Message message) {
  if (std::holds_alternative<raft::AppendRequest>(message.body)) {
    checker_.on_append_sent(message.from, message.term);
  }
  if (never_voter(message.from)) {
    const auto* vote = std::get_if<raft::VoteResponse>(&message.body);
    if (std::holds_alternative<raft::VoteRequest>(message.body) || (vote && vote->granted)) {
      checker_.fail("learners never vote", "learner " + str(message.from) + " sent " +
                                               raft::describe(message));
    }
  }
  network_.send(std::move(message), now_);
}

void SimCluster::applied(NodeId node, const Entry& entry, std::uint64_t term) {
  if (const AckedWrite* ack = checker_.on_applied(node, entry, term)) {
    events_.note("ack index " + str(ack->index) + " term " + str(ack->term) + " by node " +
                 str(node));
  }
}

void SimCluster::read_confirmed(NodeId node, const raft::ReadState& read) {
  events_.note("read " + str(read.request_id) + " confirmed at node " + str(node) +
               " read_index " + str(read.read_index));
  checker_.on_read_confirmed(node, read);
}

void SimCluster::read_failed(NodeId node, std::uint64_t request_id) {
  events_.note("read " + str(request_id) + " failed at node " + str(node));
  checker_.on_read_failed(node, request_id);
}

void SimCluster::observe(NodeId id) {
  const SimNode& n = *nodes_[id - 1];
  const raft::CoreStatus s = n.status();
  // Within one run of a node its commit index only grows, and covers only entries it has.
  std::uint64_t& last_commit = last_commit_[id - 1];
  if (s.commit < last_commit || s.commit > s.last_log.index) {
    checker_.fail("commit index", "node " + str(id) + " has commit " + str(s.commit) +
                                      " after " + str(last_commit) + ", last log index " +
                                      str(s.last_log.index));
  }
  last_commit = s.commit;
  // A configuration in a log (committed or not) is where a voter can come from.
  ever_voters_.insert(s.membership.voters.begin(), s.membership.voters.end());
  if (s.role != raft::Role::leader) return;
  if (never_voter(id)) checker_.fail("learners never vote", "learner " + str(id) + " leads");
  if (checker_.on_leader(id, s.term, n.log())) {
    events_.note("node " + str(id) + " is leader of term " + str(s.term) + ", log up to " +
                 str(s.last_log.index) + " (term " + str(s.last_log.term) + "), commit " +
                 str(s.commit));
  }
}

std::size_t SimCluster::surviving_writes(NodeId node, std::size_t unsynced) {
  if (!options_.torn_crashes || unsynced == 0) return 0;
  const std::size_t keep = rng_.below(unsynced + 1);
  events_.note("node " + str(node) + " keeps " + str(keep) + " of " + str(unsynced) +
               " unsynced writes");
  return keep;
}

void SimCluster::crashed(NodeId node) {
  ++crashes_;
  checker_.on_crash(node);
  events_.note("crash node " + str(node));
}

void SimCluster::fail(std::string property, std::string detail) { checker_.fail(property, detail); }

// --- checks ------------------------------------------------------------------------------------

void SimCluster::check_logs(bool durable_views) {
  for (const auto& n : nodes_) {
    const std::string name = "node " + str(n->id());
    checker_.check_log(name, n->log());
    if (n->up()) {
      if (durable_views) checker_.check_log(name + " (durable)", n->durable_log());
      checker_.check_applied_in_log(n->id(), n->applied_entries(), n->log());
    }
  }
}

bool SimCluster::acked_since(std::size_t first, const std::string& key_prefix) const {
  const auto& acked = checker_.acked();
  for (std::size_t i = first; i < acked.size(); ++i) {
    pb::Command command;
    if (command.ParseFromString(acked[i].payload) && command.has_put() &&
        command.put().key().rfind(key_prefix, 0) == 0) {
      return true;
    }
  }
  return false;
}

bool SimCluster::converged() const {
  auto l = leader();
  if (!l) return false;
  const LogId last = nodes_[*l - 1]->status().last_log;
  for (const auto& n : nodes_) {
    if (!member(n->id())) continue;  // removed, or never added: nothing to catch up with
    if (!n->up() || paused(n->id())) return false;
    const raft::CoreStatus s = n->status();
    if (s.last_log != last || s.commit != last.index || n->applied() != last.index) return false;
  }
  return true;
}

bool SimCluster::finish(const FinishOptions& options) {
  if (failed()) return false;
  heal();
  NetworkConditions calm;
  network_.set_conditions(calm);
  for (auto& n : nodes_) {
    paused_until_[n->id() - 1] = 0;
    n->cancel_pending_crash();
    if (!n->up()) restart(n->id());
  }
  events_.note("finish: healed, every node running");

  // Liveness: some leader commits a fresh write. Re-propose whenever leadership moved.
  const std::size_t acked_before = checker_.acked().size();
  NodeId proposer = 0;
  std::uint64_t proposer_term = 0;
  const bool committed = run_until(
      [&] {
        if (acked_since(acked_before, "final")) return true;
        auto l = leader();
        if (l && (*l != proposer || node(*l).status().term != proposer_term)) {
          if (!propose(*l, 1, "final").empty()) {
            proposer = *l;
            proposer_term = node(*l).status().term;
          }
        }
        return false;
      },
      options.leader_steps);
  if (failed()) return false;
  if (!committed) {
    checker_.fail("liveness", "no write committed within " + str(options.leader_steps) +
                                  " steps after healing (leader: " +
                                  (leader() ? str(*leader()) : std::string("none")) + ")");
    return false;
  }
  if (!run_until([&] { return converged(); }, options.converge_steps)) {
    if (!failed()) {
      std::string detail = "nodes did not converge within " + str(options.converge_steps) +
                           " steps:";
      for (const auto& n : nodes_) {
        const raft::CoreStatus s = n->status();
        detail += " [node " + str(n->id()) + " " + raft::to_string(s.role) + " term " +
                  str(s.term) + " last " + str(s.last_log.index) + "/" + str(s.last_log.term) +
                  " commit " + str(s.commit) + " applied " + str(n->applied()) + "]";
      }
      checker_.fail("liveness", detail);
    }
    return false;
  }
  check_logs();
  for (const auto& n : nodes_) {
    if (member(n->id())) checker_.check_acked_applied(n->id(), n->applied_entries());
  }
  // Reads still waiting need a heartbeat round or two to be confirmed or failed.
  run_until([&] { return checker_.pending_reads() == 0; }, options.read_steps);
  checker_.check_no_pending_reads();
  return !failed();
}

std::string SimCluster::report() const {
  std::string out = "seed=" + str(options_.seed) + ": " +
                    (failed() ? checker_.failure() : std::string("no failure"));
  const CheckStats& s = checker_.stats();
  out += "\nafter " + str(now_) + " steps: " + str(s.leaders) + " leaders, " +
         str(s.applied) + " committed, " + str(s.acked) + " acknowledged, " +
         str(s.reads_checked) + " reads, " + str(crashes_) + " crashes, " +
         str(snapshots_.size()) + " snapshots (" + str(snapshots_installed()) + " installed), " +
         str(network_.sent()) + " messages (" + str(network_.dropped()) + " lost)";
  out += "\nlast " + std::string("events:\n") + events_.dump();
  return out;
}

}  // namespace raftor::sim
