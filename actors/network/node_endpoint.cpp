#include "raftor/actors/network/node_endpoint.hpp"

#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include <utility>

namespace raftor::network {

NodeEndpointActor::NodeEndpointActor(caf::actor_config& cfg, NodeEndpointConfig config,
                                     std::shared_ptr<EndpointCounters> counters)
    : node_endpoint_control_actor::base(cfg),
      self_(config.self),
      codec_{std::move(config.cluster_id), config.self, std::move(config.peers)},
      counters_(std::move(counters)) {}

auto NodeEndpointActor::make_behavior() -> behavior_type {
  return {
      [this](peer_bytes_atom, const std::string& bytes) { deliver(bytes); },
      [this](propose_atom, std::string& payload) -> caf::result<ClientReply> {
        if (!raft_) return not_attached_reply();
        return delegate(raft_, propose_atom::value, std::move(payload));
      },
      [this](read_atom, std::vector<std::string>& keys,
             ReadConsistency consistency) -> caf::result<ClientReply> {
        if (!raft_) return not_attached_reply();
        return delegate(raft_, read_atom::value, std::move(keys), consistency);
      },
      [this](status_atom) -> caf::result<NodeStatus> {
        if (!raft_) return caf::make_error(caf::sec::runtime_error, not_attached_reply().message);
        return delegate(raft_, status_atom::value);
      },
      [this](snapshot_atom) -> caf::result<SnapshotReply> {
        if (!raft_) {
          const auto reply = not_attached_reply();
          return SnapshotReply{false, reply.code, reply.message, {}};
        }
        return delegate(raft_, snapshot_atom::value);
      },
      [this](attach_atom, raft_actor& raft) { raft_ = std::move(raft); },
  };
}

void NodeEndpointActor::deliver(const std::string& bytes) {
  auto message = codec_.decode(bytes);
  if (!message.ok()) {
    counters_->refused.fetch_add(1, std::memory_order_relaxed);
    log_refusal(message.error());
    return;
  }
  if (!raft_) {
    counters_->unattached.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  caf::anon_send(raft_, peer_atom::value, std::move(message).value());
  counters_->delivered.fetch_add(1, std::memory_order_relaxed);
}

void NodeEndpointActor::log_refusal(const Error& error) {
  // The sending CAF node: the claimed sender id inside the bytes may be what is wrong.
  const auto& sender = current_sender();
  const std::string from = sender ? to_string(sender->node()) : std::string("an anonymous sender");
  if (auto count = refusals_.record(from, error.message, RefusalLog::Clock::now())) {
    spdlog::warn("node {}: refused {} message(s) from {} in the last second or more; latest: {}",
                 self_, *count, from, error.message);
  }
}

ClientReply NodeEndpointActor::not_attached_reply() const {
  ClientReply reply;
  reply.code = static_cast<std::uint8_t>(ErrorCode::not_running);
  reply.message = "node " + std::to_string(self_) + " is starting: its Raft actor is not running yet";
  return reply;
}

// --- NodeEndpoint ------------------------------------------------------------------------

Result<NodeEndpoint> NodeEndpoint::start(caf::actor_system& system, NodeEndpointConfig config) {
  const std::string host = config.host;
  const std::uint16_t requested = config.port;
  const NodeId self = config.self;
  auto counters = std::make_shared<EndpointCounters>();
  auto actor = system.spawn<NodeEndpointActor>(std::move(config), counters);
  auto published = caf::actor_cast<node_endpoint_actor>(actor);
  // reuse_addr: a restarted node gets its port back while old connections sit in TIME_WAIT.
  // It does not let two listeners share a port: a taken port still fails here.
  auto port = system.middleman().publish(published, requested, host.empty() ? nullptr : host.c_str(),
                                         /*reuse_addr=*/true);
  if (!port) {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    return make_error(ErrorCode::io_error,
                      "node " + std::to_string(self) + ": cannot listen on " + host + ":" +
                          std::to_string(requested) + " (is the port taken?): " +
                          system.render(port.error()));
  }
  spdlog::info("node {}: listening on {}:{}", self, host, *port);
  return NodeEndpoint(system, std::move(actor), std::move(counters), *port);
}

NodeEndpoint::NodeEndpoint(caf::actor_system& system, node_endpoint_control_actor actor,
                           std::shared_ptr<EndpointCounters> counters, std::uint16_t port)
    : system_(&system),
      actor_(std::move(actor)),
      published_(caf::actor_cast<node_endpoint_actor>(actor_)),
      counters_(std::move(counters)),
      port_(port) {}

NodeEndpoint::NodeEndpoint(NodeEndpoint&& other) noexcept
    : system_(std::exchange(other.system_, nullptr)),
      actor_(std::move(other.actor_)),
      published_(std::move(other.published_)),
      counters_(std::move(other.counters_)),
      port_(other.port_) {}

NodeEndpoint& NodeEndpoint::operator=(NodeEndpoint&& other) noexcept {
  if (this != &other) {
    stop();
    system_ = std::exchange(other.system_, nullptr);
    actor_ = std::move(other.actor_);
    published_ = std::move(other.published_);
    counters_ = std::move(other.counters_);
    port_ = other.port_;
  }
  return *this;
}

NodeEndpoint::~NodeEndpoint() { stop(); }

void NodeEndpoint::attach(const raft_actor& raft) const {
  caf::anon_send(actor_, attach_atom::value, raft);
}

void NodeEndpoint::stop() {
  if (system_ == nullptr) return;
  if (auto r = system_->middleman().unpublish(published_, port_); !r) {
    spdlog::warn("unpublishing port {}: {}", port_, system_->render(r.error()));
  }
  caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
  system_ = nullptr;
}

}  // namespace raftor::network
