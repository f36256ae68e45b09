#include "raftor/actors/network/network_transport.hpp"

#include <caf/io/all.hpp>

#include "raftor/actors/raft/core/config_history.hpp"

namespace raftor::network {

namespace {
PeerCodec codec_for(const NetworkTransportConfig& config) {
  PeerCodec codec{config.cluster_id, config.self, {}};
  codec.self_address = config.self_address;
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
    : codec_(codec_for(config)),
      counters_(std::make_shared<TransportCounters>()),
      self_(config.self),
      endpoint_(config.endpoint) {
  for (const auto& peer : config.peers) configured_.insert(peer.id);
  auto connector = connector_config(config);
  for (const auto& peer : connector.peers) counters_->set_connected(peer.id, false);
  // A broker: it runs on the middleman's multiplexer, which owns its sockets.
  caf::actor_config cfg{&system.middleman().backend()};
  connector_ = system.spawn_class<PeerConnector, caf::no_spawn_options>(cfg, std::move(connector),
                                                                         counters_);
  // The endpoint tells the connector the addresses senders it does not know announce.
  if (endpoint_) caf::anon_send(endpoint_, connector_atom::value, connector_);
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

void NetworkTransport::update_members(const Membership& members, bool committed) {
  if (stopped_.load(std::memory_order_acquire)) return;
  caf::anon_send(connector_, members_atom::value, members, committed);
  if (!endpoint_) return;
  // The node's endpoint accepts Raft messages from its configured peers and every member.
  std::set<NodeId> senders = configured_;
  senders.insert(members.voters.begin(), members.voters.end());
  senders.insert(members.learners.begin(), members.learners.end());
  caf::anon_send(endpoint_, members_atom::value,
                 std::vector<NodeId>(senders.begin(), senders.end()),
                 !raft::is_voter(members, self_));
}

bool NetworkTransport::connected(NodeId peer) const { return counters_->connected(peer); }

}  // namespace raftor::network
