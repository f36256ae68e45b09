// Starting a raftor node from a NodeConfig:
//
//   auto node = raftor::NodeBuilder(config).state_machine(my_state_machine).start();
//   if (!node) { /* node.error() says what is wrong */ }
//   (*node)->status();  ...  (*node)->stop();
//
// start() validates the config, opens the Raft log (RocksDB) under data_dir/log, opens
// the node's endpoint on config.listen (peers and clients connect there), starts the
// network transport to the other peers and spawns the Raft actor (which spawns the
// state-machine handler, snapshotter, purger and the snapshot sender/receiver).
//
// The node runs in an actor system of its own (with CAF's middleman loaded: its multiplexer
// runs the endpoint and peer-connector brokers) unless one is
// given with actor_system(): it must then have the middleman loaded and raftor's message
// types registered (configure_actor_system()), and outlive the node.
#pragma once

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <memory>

#include "raftor/actors/interfaces.hpp"
#include "raftor/client/client.hpp"
#include "raftor/node/node_config.hpp"
#include "raftor/storage/raft_log.hpp"
#include "raftor/storage/state_machine.hpp"

namespace raftor {

// Loads the middleman and registers raftor's message types: for a system a user creates
// to run nodes in (NodeBuilder::actor_system) or to talk to them.
void configure_actor_system(caf::actor_system_config& config);

// The built-in state machine the config names ("rocksdb", the default, or "file"), in
// config.state_machine_dir().
Result<std::shared_ptr<StateMachine>> make_builtin_state_machine(const node::NodeConfig& config);

class Node {
 public:
  ~Node();  // stop()
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Graceful: stops accepting peers and clients, stops the Raft actor and its helpers (the
  // state machine is flushed, the log synced and closed) and waits for them. Idempotent.
  // Blocks: call it from a plain thread, never from inside an actor.
  void stop();

  NodeId id() const { return config_.id; }
  const node::NodeConfig& config() const { return config_; }
  std::uint16_t port() const;        // the endpoint's port (config.listen.port, or the one picked for 0)
  raft_actor actor() const { return raft_; }
  caf::actor_system& system() { return *system_; }
  // The node's own view (role, term, leader, commit, applied, log, snapshot); id 0 if the
  // node stopped (or failed: a log or state machine error stops it).
  NodeStatus status(std::chrono::milliseconds timeout = std::chrono::seconds(2));
  bool running();
  // A client of this node's cluster (every peer of the config is an endpoint), in this
  // node's actor system: writes find the leader wherever it is. Use it from one thread
  // (see client/client.hpp) and drop it before the node.
  std::unique_ptr<client::Client> client(client::ClientOptions options = {});

 private:
  friend class NodeBuilder;
  struct Parts;
  Node(node::NodeConfig config, std::unique_ptr<caf::actor_system_config> owned_config,
       std::unique_ptr<caf::actor_system> owned_system, caf::actor_system* system);

  node::NodeConfig config_;
  // An own system's config must outlive it (CAF keeps a reference); both outlive parts_.
  std::unique_ptr<caf::actor_system_config> owned_config_;
  std::unique_ptr<caf::actor_system> owned_system_;
  caf::actor_system* system_;
  std::unique_ptr<Parts> parts_;
  raft_actor raft_;
  bool stopped_ = false;
};

class NodeBuilder {
 public:
  explicit NodeBuilder(node::NodeConfig config);

  // Required: the application's state machine (not started yet: the node starts it).
  // make_builtin_state_machine() gives the built-in one the config names.
  NodeBuilder& state_machine(std::shared_ptr<StateMachine> sm);
  // Optional: another Raft log (the default is RocksDB in config.log_dir()).
  NodeBuilder& raft_log(std::unique_ptr<RaftLog> log);
  // Optional: run inside this system (see the file comment) instead of an own one.
  NodeBuilder& actor_system(caf::actor_system& system);

  // invalid_argument naming every problem of the config, or a missing state machine;
  // io_error when the port is taken or the data cannot be opened.
  Result<std::unique_ptr<Node>> start();

 private:
  node::NodeConfig config_;
  std::shared_ptr<StateMachine> sm_;
  std::unique_ptr<RaftLog> log_;
  caf::actor_system* system_ = nullptr;
};

}  // namespace raftor
