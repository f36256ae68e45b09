// PeerTransport between processes: Raft messages travel as messages/rpc.proto bytes in peer
// frames (frame.hpp) to the peers' endpoints (node_endpoint.hpp).
//
//   RaftActor ──send()──▶ encode (caller's thread) ──▶ PeerConnector ══TCP══▶ peer's NodeEndpoint
//
// send() never blocks: it encodes and enqueues; the connector drops what it cannot deliver.
// Call stop() before the actor system is destroyed (the connector runs until told to exit).
#pragma once

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raftor/actors/network/peer_codec.hpp"
#include "raftor/actors/network/peer_connector.hpp"
#include "raftor/actors/raft/peer_transport.hpp"

namespace raftor::network {

struct NetworkTransportConfig {
  NodeId self = 0;
  std::string cluster_id;
  std::vector<PeerAddress> peers;  // the other nodes (this node may be listed: it is skipped)
  ReconnectPolicy reconnect;
  // "HOST:PORT" where the peers reach this node: sent with requests, so that a node that
  // does not know this one yet can answer. Optional.
  std::string self_address;
  // This node's endpoint broker (NodeEndpoint::broker()), told by update_members() whose
  // Raft messages to accept. Optional.
  caf::actor endpoint;
};

class NetworkTransport final : public PeerTransport {
 public:
  // Spawns the connector, which starts connecting to every peer in the background.
  NetworkTransport(caf::actor_system& system, NetworkTransportConfig config);
  ~NetworkTransport() override;  // stop()
  NetworkTransport(const NetworkTransport&) = delete;
  NetworkTransport& operator=(const NetworkTransport&) = delete;

  // Thread-safe; never blocks.
  void send(raft::Message message) override;
  // Dials new members, drops removed ones once committed, and tells the endpoint whom to
  // accept messages from. Thread-safe; never blocks.
  void update_members(const Membership& members, bool committed) override;

  // Ends the connector (idempotent). Afterwards send() only counts drops.
  void stop();

  std::uint64_t forwarded() const { return counters_->forwarded.load(); }
  std::uint64_t dropped() const { return counters_->dropped.load(); }
  bool connected(NodeId peer) const;

 private:
  PeerCodec codec_;
  std::shared_ptr<TransportCounters> counters_;
  caf::actor connector_;  // the PeerConnector broker  // never reset: send() reads it without a lock
  NodeId self_ = 0;
  caf::actor endpoint_;           // may be null
  std::set<NodeId> configured_;   // the configured peers' ids
  std::atomic<bool> stopped_{false};
};

}  // namespace raftor::network
