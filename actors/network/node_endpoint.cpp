#include "raftor/actors/network/node_endpoint.hpp"

#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "raftor/actors/network/endpoint_broker.hpp"

namespace raftor::network {

Result<NodeEndpoint> NodeEndpoint::start(caf::actor_system& system, NodeEndpointConfig config) {
  const std::string host = config.host;
  const std::uint16_t requested = config.port;
  const NodeId self = config.self;
  auto& backend = system.middleman().backend();
  // Bound here, on the caller's thread, so that a taken port is an error of start().
  // reuse_addr: a restarted node gets its port back while old connections sit in TIME_WAIT.
  // It does not let two listeners share a port: a taken port still fails here.
  auto doorman = backend.new_tcp_doorman(requested, host.empty() ? nullptr : host.c_str(),
                                         /*reuse_addr=*/true);
  if (!doorman) {
    return make_error(ErrorCode::io_error,
                      "node " + std::to_string(self) + ": cannot listen on " + host + ":" +
                          std::to_string(requested) + " (is the port taken?): " +
                          system.render(doorman.error()));
  }
  const std::uint16_t port = (*doorman)->port();
  auto counters = std::make_shared<EndpointCounters>();
  caf::actor_config cfg{&backend};
  auto broker = system.spawn_class<EndpointBroker, caf::no_spawn_options>(
      cfg, std::move(*doorman), std::move(config), counters);
  spdlog::info("node {}: listening on {}:{}", self, host, port);
  return NodeEndpoint(system, std::move(broker), std::move(counters), port);
}

NodeEndpoint::NodeEndpoint(caf::actor_system& system, caf::actor broker,
                           std::shared_ptr<EndpointCounters> counters, std::uint16_t port)
    : system_(&system), broker_(std::move(broker)), counters_(std::move(counters)), port_(port) {}

NodeEndpoint::NodeEndpoint(NodeEndpoint&& other) noexcept
    : system_(std::exchange(other.system_, nullptr)),
      broker_(std::move(other.broker_)),
      counters_(std::move(other.counters_)),
      port_(other.port_) {}

NodeEndpoint& NodeEndpoint::operator=(NodeEndpoint&& other) noexcept {
  if (this != &other) {
    stop();
    system_ = std::exchange(other.system_, nullptr);
    broker_ = std::move(other.broker_);
    counters_ = std::move(other.counters_);
    port_ = other.port_;
  }
  return *this;
}

NodeEndpoint::~NodeEndpoint() { stop(); }

void NodeEndpoint::attach(const raft_actor& raft) const {
  caf::anon_send(broker_, attach_atom::value, raft);
}

void NodeEndpoint::stop() {
  if (system_ == nullptr) return;
  {
    // Waits for the broker to close its sockets, so that the port is free on return
    // (a restarted node binds it again at once).
    caf::scoped_actor self{*system_};
    self->monitor(broker_);
    self->send(broker_, close_port_atom::value);
    bool down = false;
    self->receive_while([&] { return !down; })(
        [&](const caf::down_msg&) { down = true; },
        caf::after(std::chrono::seconds(5)) >> [&] {
          spdlog::warn("node endpoint on port {}: the broker did not stop in time", port_);
          caf::anon_send_exit(broker_, caf::exit_reason::kill);
          down = true;
        });
  }
  broker_ = nullptr;
  system_ = nullptr;
}

}  // namespace raftor::network
