#include "raftor/actors/network/network_transport.hpp"

#include <caf/io/all.hpp>

namespace raftor::network {

namespace {
PeerCodec codec_for(const NetworkTransportConfig& config) {
  PeerCodec codec{config.cluster_id, config.self, {}};
  for (const auto& peer : config.peers) codec.peers.insert(peer.id);
  return codec;
}

PeerConnectorConfig connector_config(const NetworkTransportConfig& config) {
  PeerConnectorConfig out;
  out.self = config.self;
  out.reconnect = config.reconnect;
  for (const auto& peer : config.peers) {
    if (peer.id != config.self) out.peers.push_back(peer);
  }
  return out;
}
}  // namespace

NetworkTransport::NetworkTransport(caf::actor_system& system, NetworkTransportConfig config)
    : codec_(codec_for(config)), counters_(std::make_shared<TransportCounters>()) {
  auto connector = connector_config(config);
  for (const auto& peer : connector.peers) counters_->connected.try_emplace(peer.id, false);
  // A broker: it runs on the middleman's multiplexer, which owns its sockets.
  caf::actor_config cfg{&system.middleman().backend()};
  connector_ = system.spawn_class<PeerConnector, caf::no_spawn_options>(cfg, std::move(connector),
                                                                         counters_);
}

NetworkTransport::~NetworkTransport() { stop(); }

void NetworkTransport::send(raft::Message message) {
  if (stopped_.load(std::memory_order_acquire)) {
    counters_->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const NodeId to = message.to;
  caf::anon_send(connector_, peer_bytes_atom::value, to, codec_.encode(message));
}

void NetworkTransport::stop() {
  if (stopped_.exchange(true)) return;
  caf::anon_send_exit(connector_, caf::exit_reason::user_shutdown);
}

bool NetworkTransport::connected(NodeId peer) const {
  auto it = counters_->connected.find(peer);
  return it != counters_->connected.end() && it->second.load(std::memory_order_acquire);
}

}  // namespace raftor::network
