// The broker behind a NetworkTransport: one outbound TCP connection per peer, over which it
// writes this node's Raft messages as peer frames (frame.hpp) to the peer's NodeEndpoint.
//
//   NetworkTransport ──(to, bytes)──▶ PeerConnector ══peer frames══▶ peer's EndpointBroker
//
// It runs on CAF's multiplexer thread and never blocks there: a connect runs on a detached
// helper (tcp_connect.hpp says why), which hands the connected socket back; the broker
// adopts it (add_scribe). A lost connection shows up as connection_closed_msg; reconnecting
// waits on a timer with jittered exponential backoff. Frames for a peer that is not
// connected, or whose unsent bytes already exceed the queue limit (a stalled peer), are
// dropped and counted: Raft retries, and a queue for a dead peer would only deliver stale
// messages late. Frames written while a previous write is in progress leave together in
// the next write (CAF's stream buffers them), so a burst costs one system call, not one each.
#pragma once

#include <caf/io/all.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "raftor/actors/interfaces.hpp"
#include "raftor/actors/network/tcp_connect.hpp"

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
  std::chrono::milliseconds connect_timeout{1000};  // one TCP connect
};

// Shared between the transport (any thread) and its connector.
struct TransportCounters {
  std::atomic<std::uint64_t> forwarded{0};  // written to a connected peer's socket buffer
  std::atomic<std::uint64_t> dropped{0};    // no connection, queue full, or an unknown peer id
  // Whether each peer is connected now; peers come and go with the membership.
  bool connected(NodeId peer) const;
  void set_connected(NodeId peer, bool connected);
  void forget(NodeId peer);

 private:
  mutable std::mutex mutex_;
  std::map<NodeId, bool> connected_;
};

struct PeerConnectorConfig {
  NodeId self = 0;
  // The configured peers: dialled from the start at these addresses; other members at the
  // address their configuration entry names.
  std::vector<PeerAddress> peers;
  ReconnectPolicy reconnect;
  // Unsent bytes per peer beyond which frames are dropped (a peer that stopped reading).
  std::size_t max_queued_bytes = 128u << 20;
  std::uint64_t seed = std::random_device{}();  // for the jitter
};

// A connect attempt's outcome, from the helper thread to the broker. The socket closes
// itself if the broker is gone before it adopts it.
struct ConnectOutcome {
  std::shared_ptr<UniqueFd> socket;  // set when connected
  std::string error;
};

class PeerConnector : public caf::io::broker {
 public:
  PeerConnector(caf::actor_config& cfg, PeerConnectorConfig config,
                std::shared_ptr<TransportCounters> counters);

  caf::behavior make_behavior() override;
  const char* name() const override { return "raftor.peer_connector"; }

 private:
  struct Link {
    PeerAddress address;
    std::optional<caf::io::connection_handle> connection;  // set while connected
    bool connecting = false;       // a connect attempt is in flight
    bool ever_connected = false;   // logs "unreachable" once before the first connection
    bool reported_unreachable = false;
    std::chrono::milliseconds next_delay{0};
  };

  void forward(NodeId to, const std::string& bytes);
  // Dials members not linked yet (at the configured address, else the membership's);
  // once the configuration is committed, closes the links to nodes no longer in it.
  void update_members(const Membership& members, bool committed);
  // A node this one accepts messages from without knowing it (see PeerCodec::any_sender)
  // announced its address: link to it, so that the answers reach it.
  void learn_address(NodeId peer, const std::string& address);
  void add_link(const PeerAddress& address);  // a new link, dialled at once
  void connect(NodeId peer);
  void on_connect_outcome(NodeId peer, ConnectOutcome& outcome);
  void on_closed(caf::io::connection_handle hdl);
  void retry_later(Link& link);

  PeerConnectorConfig config_;
  std::shared_ptr<TransportCounters> counters_;
  std::map<NodeId, Link> links_;
  std::set<NodeId> warned_no_address_;  // members logged once as having no known address
  std::minstd_rand jitter_;
};

}  // namespace raftor::network

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(raftor::network::ConnectOutcome)
