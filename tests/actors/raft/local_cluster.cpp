#include "local_cluster.hpp"

#include <stdlib.h>

#include <thread>

#include "raftor/storage/command.hpp"
#include "raftor/storage/memory_state_machine.hpp"
#include "raftor/storage/rocksdb_raft_log.hpp"
#include "raftor/storage/rocksdb_state_machine.hpp"

namespace raftor::testing {

LocalClusterOptions snapshot_options(std::uint64_t every_entries, std::uint64_t retention,
                                     StateMachineKind kind) {
  LocalClusterOptions options;
  options.state_machine = kind;
  options.snapshot.enabled = true;
  options.snapshot.policy.max_entries = every_entries;
  options.snapshot.policy.max_log_bytes = 0;
  options.snapshot.policy.max_interval = std::chrono::milliseconds(0);
  options.snapshot.retention = retention;
  return options;
}

caf::actor_system_config& test_system_config() {
  static caf::actor_system_config config = [] {
    caf::actor_system_config c;
    register_message_types(c);
    return c;
  }();
  return config;
}

LocalCluster::LocalCluster(caf::actor_system& system, LocalClusterOptions options)
    : system_(system), options_(options) {
  std::string pattern = (std::filesystem::temp_directory_path() / "raftor-cluster-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  for (int i = 1; i <= options_.nodes; ++i) ids_.push_back(static_cast<NodeId>(i));
  founders_ = ids_;
}

LocalCluster::~LocalCluster() {
  for (NodeId id : ids_) {
    if (running(id)) stop(id);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void LocalCluster::start(NodeId id) {
  if (running(id)) return;
  const auto node_dir = this->node_dir(id);
  RocksDbRaftLogOptions log_options;
  log_options.sync = options_.sync;
  auto log = RocksDbRaftLog::open(node_dir / "log", log_options);
  if (!log.ok()) throw std::runtime_error(log.error().to_string());

  std::shared_ptr<StateMachine> sm;
  if (options_.state_machine == StateMachineKind::rocksdb) {
    sm = std::make_shared<RocksDbStateMachine>(node_dir / "sm");
  } else {
    sm = std::make_shared<MemoryStateMachine>();  // empty after a restart: re-applied from the log
  }
  if (auto s = sm->start(); !s.ok()) throw std::runtime_error(s.error().to_string());

  RaftActorConfig config;
  config.raft.id = id;
  config.raft.voters = founders_;
  if (joiners_.count(id)) config.raft.learners = {id};
  config.raft.promote_learner_lag = options_.promote_learner_lag;
  config.raft.election_ticks = options_.election_ticks;
  config.raft.heartbeat_ticks = options_.heartbeat_ticks;
  config.raft.lease_ticks = options_.lease_ticks;
  config.raft.seed = options_.seed;
  config.tick_interval = options_.tick;
  config.snapshot = options_.snapshot;
  config.snapshot.dir = snapshot_dir(id);
  if (auto s = config.raft.validate(); !s.ok()) throw std::runtime_error(s.error().to_string());

  auto actor = system_.spawn<RaftActor, caf::detached>(config, std::move(log).value(), sm, transport_);
  actors_[id] = actor;
  state_machines_[id] = sm;
  transport_->attach(id, actor);
}

void LocalCluster::stop(NodeId id) {
  auto it = actors_.find(id);
  if (it == actors_.end()) return;
  transport_->detach(id);
  caf::scoped_actor self{system_};
  self->monitor(it->second);
  self->send_exit(it->second, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {});
  actors_.erase(it);
  // The linked handler and snapshotter exit after the Raft actor, the snapshotter only once
  // a generation in progress ends: wait until they let go of the state machine, so that a
  // restart can open its files again.
  std::weak_ptr<StateMachine> sm = state_machines_.at(id);
  state_machines_.erase(id);
  const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!sm.expired() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void LocalCluster::start_all() {
  for (NodeId id : ids_) start(id);
}

void LocalCluster::start_joining(NodeId id) {
  if (std::find(ids_.begin(), ids_.end(), id) == ids_.end()) ids_.push_back(id);
  joiners_.insert(id);
  start(id);
}

NodeStatus LocalCluster::status(NodeId id) {
  caf::scoped_actor self{system_};
  NodeStatus out;
  self->request(actors_.at(id), std::chrono::seconds(5), status_atom::value)
      .receive([&](const NodeStatus& s) { out = s; }, [](const caf::error&) {});
  return out;
}

std::optional<NodeId> LocalCluster::wait_for_leader(std::chrono::milliseconds timeout,
                                                    std::optional<NodeId> excluding) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::map<std::uint64_t, NodeId> leader_of_term;
    for (NodeId id : ids_) {
      if (!running(id)) continue;
      const auto s = status(id);
      if (s.role == static_cast<std::uint8_t>(raft::Role::leader) && id != excluding) {
        leader_of_term[s.term] = id;
      }
    }
    if (!leader_of_term.empty()) {
      last_leader_ = leader_of_term.rbegin()->second;
      return last_leader_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

ClientReply LocalCluster::propose(NodeId id, std::string payload, std::chrono::milliseconds timeout) {
  return ask(id, timeout, propose_atom::value, std::move(payload));
}

ClientReply LocalCluster::read(NodeId id, std::vector<std::string> keys,
                               ReadConsistency consistency, std::chrono::milliseconds timeout) {
  return ask(id, timeout, read_atom::value, std::move(keys), consistency);
}

ClientReply LocalCluster::with_retries(std::chrono::milliseconds deadline,
                                       const std::function<ClientReply(NodeId)>& attempt) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  ClientReply last;
  while (std::chrono::steady_clock::now() < until) {
    NodeId target = last_leader_;
    if (target == 0 || !running(target)) {
      auto leader = wait_for_leader(std::chrono::milliseconds(500));
      if (!leader) continue;
      target = *leader;
    }
    last = attempt(target);
    if (last.ok) return last;
    const auto code = static_cast<ErrorCode>(last.code);
    if (code != ErrorCode::not_leader && code != ErrorCode::timeout && code != ErrorCode::busy) {
      return last;
    }
    last_leader_ = (last.leader != 0 && running(last.leader)) ? last.leader : 0;
    if (last_leader_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return last;
}

ClientReply LocalCluster::member(NodeId id, MembershipChange change,
                                 std::chrono::milliseconds timeout) {
  return ask(id, timeout, member_atom::value, std::move(change));
}

ClientReply LocalCluster::member(MembershipChange change, std::chrono::milliseconds deadline) {
  return with_retries(deadline, [&](NodeId id) {
    return member(id, change, std::chrono::milliseconds(1000));
  });
}

ClientReply LocalCluster::transfer(NodeId id, NodeId target, std::chrono::milliseconds timeout) {
  return ask(id, timeout, transfer_atom::value, target);
}

ClientReply LocalCluster::write(const std::string& payload, std::chrono::milliseconds deadline) {
  return with_retries(deadline, [&](NodeId id) {
    return propose(id, payload, std::chrono::milliseconds(1000));
  });
}

ClientReply LocalCluster::put(const std::string& key, const std::string& value,
                              std::chrono::milliseconds deadline) {
  return write(command::put(key, value), deadline);
}

ClientReply LocalCluster::get(const std::string& key, ReadConsistency consistency,
                              std::chrono::milliseconds deadline) {
  return with_retries(deadline, [&](NodeId id) {
    return read(id, {key}, consistency, std::chrono::milliseconds(1000));
  });
}

}  // namespace raftor::testing
