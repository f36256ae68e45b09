#include "raftor/node/node_builder.hpp"

#include <spdlog/spdlog.h>

#include <optional>
#include <thread>

#include "raftor/actors/network/network_transport.hpp"
#include "raftor/actors/network/node_endpoint.hpp"
#include "raftor/actors/raft/raft_actor.hpp"
#include "raftor/actors/scheduler_tuning.hpp"
#include "raftor/node/config_validation.hpp"
#include "raftor/storage/file_state_machine.hpp"
#include "raftor/storage/rocksdb_raft_log.hpp"
#include "raftor/storage/rocksdb_state_machine.hpp"

namespace raftor {

void configure_actor_system(caf::actor_system_config& config) {
  tune_scheduler(config);
  config.load<caf::io::middleman>();
  register_message_types(config);
}

Result<std::shared_ptr<StateMachine>> make_builtin_state_machine(const node::NodeConfig& config) {
  if (config.state_machine == "rocksdb") {
    return std::shared_ptr<StateMachine>(
        std::make_shared<RocksDbStateMachine>(config.state_machine_dir()));
  }
  if (config.state_machine == "file") {
    return std::shared_ptr<StateMachine>(
        std::make_shared<FileStateMachine>(config.state_machine_dir()));
  }
  return make_error(ErrorCode::invalid_argument,
                    "unknown state machine '" + config.state_machine + "' (rocksdb or file)");
}

// --- Node ---------------------------------------------------------------------------------

struct Node::Parts {
  std::optional<network::NodeEndpoint> endpoint;
  std::shared_ptr<network::NetworkTransport> transport;
  std::shared_ptr<StateMachine> sm;
};

Node::Node(node::NodeConfig config, std::unique_ptr<caf::actor_system_config> owned_config,
           std::unique_ptr<caf::actor_system> owned_system, caf::actor_system* system)
    : config_(std::move(config)),
      owned_config_(std::move(owned_config)),
      owned_system_(std::move(owned_system)),
      system_(owned_system_ ? owned_system_.get() : system),
      parts_(std::make_unique<Parts>()) {}

Node::~Node() { stop(); }

std::uint16_t Node::port() const {
  return parts_->endpoint ? parts_->endpoint->port() : config_.listen.port;
}

void Node::stop() {
  if (stopped_) return;
  stopped_ = true;
  spdlog::info("node {}: stopping", config_.id);
  // No new peers' messages or client requests, no more messages out.
  if (parts_->endpoint) parts_->endpoint->stop();
  if (parts_->transport) parts_->transport->stop();
  if (raft_) {
    caf::scoped_actor self{*system_};
    self->monitor(raft_);
    self->send_exit(raft_, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {},
                  caf::after(std::chrono::seconds(60)) >> [this] {
                    spdlog::error("node {}: the Raft actor did not stop within 60 s", config_.id);
                  });
    raft_ = nullptr;
  }
  // The handler and snapshotter exit after the Raft actor (the snapshotter once a
  // generation in progress ends): wait until they release the state machine, so that its
  // last flush and close happen here, before the process goes on.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (parts_->sm && parts_->sm.use_count() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  parts_->sm.reset();
  parts_->transport.reset();
  parts_->endpoint.reset();
  spdlog::info("node {}: stopped", config_.id);
}

NodeStatus Node::status(std::chrono::milliseconds timeout) {
  NodeStatus out;
  if (!raft_) return out;
  caf::scoped_actor self{*system_};
  self->request(raft_, timeout, status_atom::value)
      .receive([&](NodeStatus& s) { out = s; }, [](const caf::error&) {});
  return out;
}

bool Node::running() { return status().id != 0; }

std::unique_ptr<client::Client> Node::client(client::ClientOptions options) {
  std::vector<client::Endpoint> endpoints;
  for (const node::PeerAddress& peer : config_.peers) {
    std::string host = peer.address.host;
    if (peer.id == config_.id && (host.empty() || host == "0.0.0.0")) host = "127.0.0.1";
    endpoints.push_back({peer.id, host, peer.id == config_.id ? port() : peer.address.port});
  }
  return std::make_unique<client::Client>(*system_, std::move(endpoints), std::move(options));
}

// --- NodeBuilder --------------------------------------------------------------------------

NodeBuilder::NodeBuilder(node::NodeConfig config) : config_(std::move(config)) {}

NodeBuilder& NodeBuilder::state_machine(std::shared_ptr<StateMachine> sm) {
  sm_ = std::move(sm);
  return *this;
}

NodeBuilder& NodeBuilder::raft_log(std::unique_ptr<RaftLog> log) {
  log_ = std::move(log);
  return *this;
}

NodeBuilder& NodeBuilder::actor_system(caf::actor_system& system) {
  system_ = &system;
  return *this;
}

Result<std::unique_ptr<Node>> NodeBuilder::start() {
  if (auto s = node::validate(config_); !s) return s.error();
  if (!sm_) {
    return make_error(ErrorCode::invalid_argument,
                      "node " + std::to_string(config_.id) +
                          ": no state machine: call NodeBuilder::state_machine() (the built-in "
                          "ones: make_builtin_state_machine())");
  }
  RaftActorConfig raft_config = node::to_raft_actor_config(config_);
  if (auto s = raft_config.raft.validate(); !s) return s.error();
  if (!log_) {
    auto log = RocksDbRaftLog::open(config_.log_dir());
    if (!log) return log.error();
    log_ = std::move(log).value();
  }
  if (auto s = sm_->start(); !s) return s.error();

  std::unique_ptr<caf::actor_system_config> owned_config;
  std::unique_ptr<caf::actor_system> owned_system;
  if (system_ == nullptr) {
    owned_config = std::make_unique<caf::actor_system_config>();
    configure_actor_system(*owned_config);
    owned_system = std::make_unique<caf::actor_system>(*owned_config);
  }
  std::unique_ptr<Node> node(new Node(config_, std::move(owned_config), std::move(owned_system),
                                      system_));
  caf::actor_system& system = node->system();

  network::NodeEndpointConfig endpoint;
  endpoint.self = config_.id;
  endpoint.cluster_id = config_.cluster_id;
  endpoint.host = config_.listen.host;
  endpoint.port = config_.listen.port;
  endpoint.max_frame_bytes = config_.max_frame_bytes;
  network::NetworkTransportConfig transport;
  transport.self = config_.id;
  transport.cluster_id = config_.cluster_id;
  for (const node::PeerAddress& peer : config_.peers) {
    endpoint.peers.insert(peer.id);
    if (peer.id != config_.id) {
      transport.peers.push_back({peer.id, peer.address.host, peer.address.port});
    } else {
      transport.self_address = node::to_string(peer.address);
    }
  }
  auto published = network::NodeEndpoint::start(system, endpoint);
  if (!published) return published.error();
  node->parts_->endpoint.emplace(std::move(published).value());
  transport.endpoint = node->parts_->endpoint->broker();
  node->parts_->transport = std::make_shared<network::NetworkTransport>(system, transport);

  node->raft_ = system.spawn<RaftActor, caf::detached>(raft_config, std::move(log_), sm_,
                                                       node->parts_->transport);
  node->parts_->endpoint->attach(node->raft_);
  node->parts_->sm = std::move(sm_);  // stop() waits for the node's actors to release it
  spdlog::info("node {} of cluster '{}' listening on {}:{} with {} peers", config_.id,
               config_.cluster_id, config_.listen.host, node->port(), config_.peers.size() - 1);
  return node;
}

}  // namespace raftor
