#include "core_test_util.hpp"

namespace raftor::raft::test {

RaftConfig make_config(NodeId id, std::vector<NodeId> voters, std::vector<NodeId> learners) {
  RaftConfig cfg;
  cfg.id = id;
  cfg.voters = std::move(voters);
  cfg.learners = std::move(learners);
  cfg.election_ticks = 10;
  cfg.heartbeat_ticks = 1;
  cfg.seed = 42;
  return cfg;
}

std::vector<Entry> make_entries(std::vector<std::pair<std::uint64_t, std::uint64_t>> ids) {
  std::vector<Entry> out;
  for (auto [index, term] : ids) {
    out.push_back(Entry{index, term, EntryType::normal,
                        "i" + std::to_string(index) + "t" + std::to_string(term)});
  }
  return out;
}

std::vector<Entry> entry_run(std::uint64_t first, std::uint64_t last, std::uint64_t term) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ids;
  for (std::uint64_t i = first; i <= last; ++i) ids.emplace_back(i, term);
  return make_entries(ids);
}

Message append(NodeId from, NodeId to, std::uint64_t term, LogId prev,
               std::vector<Entry> entries, std::uint64_t commit, std::uint64_t context) {
  return Message{from, to, term, AppendRequest{prev, std::move(entries), commit, context}};
}

Message append_ok(NodeId from, NodeId to, std::uint64_t term, std::uint64_t match,
                  std::uint64_t context) {
  AppendResponse r;
  r.success = true;
  r.match_index = match;
  r.read_context = context;
  return Message{from, to, term, r};
}

Message append_reject(NodeId from, NodeId to, std::uint64_t term, LogId hint,
                      std::uint64_t context) {
  AppendResponse r;
  r.conflict_index = hint.index;
  r.conflict_term = hint.term;
  r.read_context = context;
  return Message{from, to, term, r};
}

Message vote_request(NodeId from, NodeId to, std::uint64_t term, LogId last, bool pre_vote,
                     bool transfer) {
  return Message{from, to, term, VoteRequest{last, pre_vote, transfer}};
}

Message vote_response(NodeId from, NodeId to, std::uint64_t term, bool granted,
                      bool pre_vote) {
  return Message{from, to, term, VoteResponse{granted, pre_vote}};
}

std::string describe_all(const std::vector<Message>& messages) {
  std::string out;
  for (const Message& m : messages) out += describe(m) + "\n";
  return out;
}

// --- Solo -------------------------------------------------------------------------------

Solo::Solo(RaftConfig cfg, std::vector<Entry> initial, HardState hard_state)
    : config(std::move(cfg)) {
  EXPECT_TRUE(config.validate().ok()) << config.validate().error().to_string();
  if (!initial.empty()) {
    EXPECT_TRUE(log.append(initial).ok());
  }
  EXPECT_TRUE(log.save_hard_state(hard_state).ok());
  EXPECT_TRUE(log.sync().ok());
  core = std::make_unique<RaftCore>(config, log);
}

Ready Solo::ready() {
  Ready r = core->take_ready();
  if (r.needs_sync) {
    EXPECT_TRUE(log.sync().ok());
    core->on_synced(log.last_index());
  }
  return r;
}

int Solo::tick_until_role_changes(int limit) {
  Role before = core->status().role;
  for (int i = 1; i <= limit; ++i) {
    core->tick();
    if (core->status().role != before) return i;
  }
  return -1;
}

void Solo::make_leader() {
  EXPECT_GT(tick_until_role_changes(), 0);
  if (core->status().role == Role::pre_candidate) {
    std::uint64_t campaign_term = core->status().term + 1;
    for (NodeId v : config.voters) {
      if (v != config.id) core->step(vote_response(v, config.id, campaign_term, true, true));
    }
  }
  ASSERT_EQ(core->status().role, Role::candidate) << to_string(core->status().role);
  for (NodeId v : config.voters) {
    if (v != config.id) core->step(vote_response(v, config.id, core->status().term, true));
  }
  ASSERT_EQ(core->status().role, Role::leader);
}

void Solo::make_leader_with_followers_in_sync() {
  make_leader();
  (void)ready();
  std::uint64_t last = log.last_index();
  std::uint64_t term = core->status().term;
  for (NodeId v : config.voters) {
    if (v != config.id) core->step(append_ok(v, config.id, term, last));
  }
  for (NodeId l : config.learners) {
    if (l != config.id) core->step(append_ok(l, config.id, term, last));
  }
  (void)ready();
}

void Solo::restart(std::uint64_t applied) {
  core.reset();
  log.crash();
  core = std::make_unique<RaftCore>(config, log, applied);
}

// --- Network ----------------------------------------------------------------------------

Network::Network(std::vector<NodeId> voters, std::vector<NodeId> learners,
                 const std::function<void(RaftConfig&)>& tweak)
    : tweak_(tweak) {
  std::vector<NodeId> all = voters;
  all.insert(all.end(), learners.begin(), learners.end());
  for (NodeId id : all) add_node(id, voters, learners);
}

void Network::add_node(NodeId id, std::vector<NodeId> voters, std::vector<NodeId> learners) {
  auto n = std::make_unique<Node>();
  n->config = make_config(id, std::move(voters), std::move(learners));
  n->config.seed = 1000 + id;
  if (tweak_) tweak_(n->config);
  EXPECT_TRUE(n->config.validate().ok());
  n->core = std::make_unique<RaftCore>(n->config, n->log);
  nodes_[id] = std::move(n);
}

void Network::compact(NodeId id) {
  Node& n = node(id);
  const LogId snap{n.applied.size(), n.applied.empty() ? 0 : n.applied.back().term};
  snapshots_[snap] = n.applied;
  SnapshotMetadata meta;
  meta.last_included = snap;
  meta.membership = n.core->membership_at(snap.index);
  n.snapshot = meta;
  EXPECT_TRUE(n.log.purge_prefix(snap).ok());
}

std::vector<NodeId> Network::ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

bool Network::collect() {
  bool moved = false;
  for (auto& [id, n] : nodes_) {
    Ready r = n->core->take_ready();
    if (r.empty()) continue;
    moved = true;
    if (r.needs_sync) {
      EXPECT_TRUE(n->log.sync().ok());
      n->core->on_synced(n->log.last_index());
    }
    for (Message& m : r.send_now) queue_.push_back(std::move(m));
    for (Message& m : r.send_after_sync) queue_.push_back(std::move(m));
    if (r.apply_to != 0) {
      EXPECT_EQ(r.apply_from, n->applied.size() + 1) << "node " << id;
      auto entries = n->log.entries(r.apply_from, r.apply_to + 1);
      EXPECT_TRUE(entries.ok());
      if (entries.ok()) n->applied.insert(n->applied.end(), entries->begin(), entries->end());
      n->core->on_applied(r.apply_to);
    }
    for (NodeId to : r.send_snapshot) {
      // The snapshot is the leader's applied state; its file "arrives" as one message.
      LogId snap{n->applied.size(), n->applied.empty() ? 0 : n->applied.back().term};
      snapshots_[snap] = n->applied;
      SnapshotMetadata meta;
      meta.last_included = snap;
      meta.membership = n->core->membership_at(snap.index);
      queue_.push_back(Message{id, to, n->core->status().term, SnapshotRequest{meta}});
    }
    if (r.install_snapshot) {
      auto it = snapshots_.find(r.install_snapshot->last_included);
      EXPECT_NE(it, snapshots_.end()) << "node " << id << " installs an unknown snapshot";
      if (it != snapshots_.end()) n->applied = it->second;
      n->snapshot = *r.install_snapshot;
      n->core->on_snapshot_installed(*r.install_snapshot);
      ++n->snapshots_installed;
    }
    if (r.membership) n->memberships.push_back(*r.membership);
    n->reads.insert(n->reads.end(), r.reads.begin(), r.reads.end());
    n->failed_reads.insert(n->failed_reads.end(), r.failed_reads.begin(), r.failed_reads.end());
  }
  return moved;
}

void Network::deliver(const Message& m) {
  if (dropped(m)) return;
  auto it = nodes_.find(m.to);
  if (it != nodes_.end()) it->second->core->step(m);
}

std::vector<Message> Network::settle() {
  std::vector<Message> delivered;
  for (int round = 0; round < 10000; ++round) {
    bool moved = collect();
    if (queue_.empty() && !moved) return delivered;
    while (!queue_.empty()) {
      Message m = std::move(queue_.front());
      queue_.pop_front();
      if (!dropped(m)) delivered.push_back(m);
      deliver(m);
    }
  }
  ADD_FAILURE() << "the network did not settle";
  return delivered;
}

void Network::tick_all() {
  for (auto& [id, n] : nodes_) n->core->tick();
}

NodeId Network::elect(NodeId id) {
  Role before = core(id).status().role;
  for (int i = 0; i < 100 && core(id).status().role == before; ++i) tick(id);
  settle();
  return leader();
}

NodeId Network::leader() const {
  NodeId found = 0;
  std::uint64_t term = 0;
  for (const auto& [id, n] : nodes_) {
    CoreStatus s = n->core->status();
    if (s.role == Role::leader && s.term >= term) {
      found = id;
      term = s.term;
    }
  }
  return found;
}

void Network::restart(NodeId id) {
  Node& n = node(id);
  n.core.reset();
  n.log.crash();
  const LogId applied{n.applied.size(), n.applied.empty() ? 0 : n.applied.back().term};
  EXPECT_TRUE(align_log_with_state_machine(n.log, applied).ok());
  n.core = std::make_unique<RaftCore>(n.config, n.log, n.applied.size(), n.snapshot);
}

}  // namespace raftor::raft::test
