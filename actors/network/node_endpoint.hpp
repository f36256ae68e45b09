// A node's published endpoint: the one host:port at which other nodes and clients reach it.
//
//   peer's NetworkTransport ──(peer_bytes, bytes)──▶ NodeEndpoint ──decode──▶ (peer, raft::Message) ──▶ Raft actor
//   client ──propose/read/status/snapshot──▶ NodeEndpoint ──delegate──▶ Raft actor ──reply──▶ client
//
// Peer bytes are decoded here with PeerCodec, which refuses other clusters, other protocol
// versions, unknown senders, misaddressed and malformed messages; refusals are counted and
// logged (rate-limited) and the node keeps serving. The Raft actor is attached after spawn
// (it needs its transport first); until then clients get not_running and peer messages are
// dropped.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "raftor/actors/interfaces.hpp"
#include "raftor/actors/network/peer_codec.hpp"
#include "raftor/actors/network/refusal_log.hpp"
#include "raftor/storage/status.hpp"

namespace raftor::network {

struct NodeEndpointConfig {
  NodeId self = 0;
  std::string cluster_id;
  std::set<NodeId> peers;        // node ids accepted as senders of Raft messages
  std::string host = "127.0.0.1";  // the address to listen on ("" or "0.0.0.0": all)
  std::uint16_t port = 0;          // 0: a free port, see NodeEndpoint::port()
};

struct EndpointCounters {
  std::atomic<std::uint64_t> delivered{0};   // to the Raft actor
  std::atomic<std::uint64_t> refused{0};     // by the codec
  std::atomic<std::uint64_t> unattached{0};  // good, but no Raft actor yet
};

class NodeEndpointActor : public node_endpoint_control_actor::base {
 public:
  NodeEndpointActor(caf::actor_config& cfg, NodeEndpointConfig config,
                    std::shared_ptr<EndpointCounters> counters);

  behavior_type make_behavior() override;
  const char* name() const override { return "raftor.node_endpoint"; }

 private:
  void deliver(const std::string& bytes);
  void log_refusal(const Error& error);
  ClientReply not_attached_reply() const;

  NodeId self_;
  PeerCodec codec_;
  std::shared_ptr<EndpointCounters> counters_;
  raft_actor raft_;
  RefusalLog refusals_;
};

// Spawns and publishes an endpoint; stop() (or the destructor) unpublishes it and ends the
// actor, which the actor system needs before it can be destroyed.
class NodeEndpoint {
 public:
  // Errors name the address, e.g. when the port is taken.
  static Result<NodeEndpoint> start(caf::actor_system& system, NodeEndpointConfig config);

  NodeEndpoint(NodeEndpoint&& other) noexcept;
  NodeEndpoint& operator=(NodeEndpoint&& other) noexcept;
  ~NodeEndpoint();

  // Hands the endpoint the node's Raft actor; thread-safe, non-blocking.
  void attach(const raft_actor& raft) const;
  // Unpublishes (the port is free once this returns) and ends the actor. Blocks briefly on
  // the middleman: call it from a plain thread, not from inside an actor. Idempotent.
  void stop();

  std::uint16_t port() const { return port_; }
  const node_endpoint_actor& actor() const { return published_; }
  const EndpointCounters& counters() const { return *counters_; }

 private:
  NodeEndpoint(caf::actor_system& system, node_endpoint_control_actor actor,
               std::shared_ptr<EndpointCounters> counters, std::uint16_t port);

  caf::actor_system* system_ = nullptr;  // null once stopped (or moved from)
  node_endpoint_control_actor actor_;
  node_endpoint_actor published_;  // the same actor, as other processes see it
  std::shared_ptr<EndpointCounters> counters_;
  std::uint16_t port_ = 0;
};

}  // namespace raftor::network
