// A node's endpoint: the one host:port at which other nodes and clients reach it, served by
// an EndpointBroker (endpoint_broker.hpp) that speaks raftor's framed protocol (frame.hpp).
//
//   peer's NetworkTransport ══peer frames══▶ NodeEndpoint ──(peer, raft::Message)──▶ Raft actor
//   client ══client requests══▶ NodeEndpoint ──request──▶ Raft actor ──reply──▶ client
//
// Peer messages are decoded with PeerCodec, which refuses other clusters, other protocol
// versions, unknown senders, misaddressed and malformed messages; refusals are counted and
// logged (rate-limited) and the node keeps serving. The Raft actor is attached after start
// (it needs its transport first); until then clients get not_running and peer messages are
// dropped.
#pragma once

#include <caf/all.hpp>

#include <cstdint>
#include <memory>

#include "raftor/actors/interfaces.hpp"
#include "raftor/actors/network/node_endpoint_config.hpp"
#include "raftor/storage/status.hpp"

namespace raftor::network {

// Owns the endpoint's broker; stop() (or the destructor) closes the port and ends the
// broker, which the actor system needs before it can be destroyed.
class NodeEndpoint {
 public:
  // Binds the port before returning; errors name the address, e.g. when the port is taken.
  static Result<NodeEndpoint> start(caf::actor_system& system, NodeEndpointConfig config);

  NodeEndpoint(NodeEndpoint&& other) noexcept;
  NodeEndpoint& operator=(NodeEndpoint&& other) noexcept;
  ~NodeEndpoint();

  // Hands the endpoint the node's Raft actor; thread-safe, non-blocking.
  void attach(const raft_actor& raft) const;
  // Closes the port and every connection, then ends the broker. Waits (briefly) for the
  // broker: call it from a plain thread, not from inside an actor. Idempotent.
  void stop();

  std::uint16_t port() const { return port_; }
  // The broker, for the node's transport (NetworkTransportConfig::endpoint).
  const caf::actor& broker() const { return broker_; }
  const EndpointCounters& counters() const { return *counters_; }

 private:
  NodeEndpoint(caf::actor_system& system, caf::actor broker,
               std::shared_ptr<EndpointCounters> counters, std::uint16_t port);

  caf::actor_system* system_ = nullptr;  // null once stopped (or moved from)
  caf::actor broker_;
  std::shared_ptr<EndpointCounters> counters_;
  std::uint16_t port_ = 0;
};

}  // namespace raftor::network
