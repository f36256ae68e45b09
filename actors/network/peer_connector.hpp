// The actor behind a NetworkTransport: keeps one connection per peer through CAF's
// middleman and forwards encoded Raft messages to the peers' endpoints.
//
// Everything here is event-based: an attempt first probes the peer's address on a detached
// helper (tcp_probe.hpp says why), then asks the middleman actor to connect; a lost peer
// shows up as a down_msg of its endpoint's proxy; reconnecting waits on a timer with
// exponential backoff. Bytes for a peer that is not connected are dropped and counted: Raft
// retries, and a queue for a dead peer would only deliver stale messages late.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "raftor/actors/interfaces.hpp"

namespace raftor::network {

struct PeerAddress {
  NodeId id = 0;
  std::string host;
  std::uint16_t port = 0;
};

// How the connector (re)connects to a peer. Waits between attempts: `initial` after a loss,
// doubling up to `max`, each drawn from [d/2, d] so that nodes do not retry in lockstep.
struct ReconnectPolicy {
  std::chrono::milliseconds initial{50};
  std::chrono::milliseconds max{2000};
  std::chrono::milliseconds probe_timeout{1000};     // TCP reachability, before the middleman
  std::chrono::milliseconds connect_timeout{10000};  // the middleman's connect and handshake
};

// Shared between the transport (any thread) and its connector actor.
struct TransportCounters {
  std::atomic<std::uint64_t> forwarded{0};  // handed to CAF for a connected peer
  std::atomic<std::uint64_t> dropped{0};    // no connection (or an unknown peer id)
  std::map<NodeId, std::atomic<bool>> connected;  // one key per peer, fixed at construction
};

struct PeerConnectorConfig {
  NodeId self = 0;
  std::vector<PeerAddress> peers;
  ReconnectPolicy reconnect;
  std::uint64_t seed = std::random_device{}();  // for the jitter
};

class PeerConnector : public peer_connector_actor::base {
 public:
  PeerConnector(caf::actor_config& cfg, PeerConnectorConfig config,
                std::shared_ptr<TransportCounters> counters);

  behavior_type make_behavior() override;
  const char* name() const override { return "raftor.peer_connector"; }

 private:
  struct Link {
    PeerAddress address;
    node_endpoint_actor endpoint;  // set while connected
    bool connecting = false;       // a probe or connect request is in flight
    bool ever_connected = false;   // logs "unreachable" once before the first connection
    bool reported_unreachable = false;
    std::chrono::milliseconds next_delay{0};
  };

  void forward(NodeId to, std::string& bytes);
  void probe(NodeId peer);
  void connect(NodeId peer);
  void on_connected(NodeId peer, caf::strong_actor_ptr ptr, const std::set<std::string>& ifs);
  void on_connect_failed(NodeId peer, const std::string& why);
  void on_down(const caf::down_msg& down);
  void retry_later(Link& link);
  void set_connected(NodeId peer, bool connected);

  PeerConnectorConfig config_;
  std::shared_ptr<TransportCounters> counters_;
  std::map<NodeId, Link> links_;
  std::set<std::string> endpoint_interface_;  // what a peer's published actor must offer
  std::minstd_rand jitter_;
};

}  // namespace raftor::network
