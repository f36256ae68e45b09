// What a node's endpoint (node_endpoint.hpp) listens on and accepts, and what it counts.
#pragma once

#include <atomic>
#include <cstdint>
#include <set>
#include <string>

#include "raftor/actors/network/frame.hpp"
#include "raftor/storage/types.hpp"

namespace raftor::network {

struct NodeEndpointConfig {
  NodeId self = 0;
  std::string cluster_id;
  std::set<NodeId> peers;          // node ids accepted as senders of Raft messages
  std::string host = "127.0.0.1";  // the address to listen on ("" or "0.0.0.0": all)
  std::uint16_t port = 0;          // 0: a free port, see NodeEndpoint::port()
  // A longer frame closes its connection. Must exceed the snapshot chunk size (and the
  // largest AppendEntries) plus envelope: node/config_validation.cpp checks it.
  std::size_t max_frame_bytes = kDefaultMaxFrameBytes;
  // Client requests one connection may have waiting for the Raft actor; more are refused
  // at once (a client that never reads its replies must not grow the node without bound).
  std::uint32_t max_pending_per_connection = 4096;
};

struct EndpointCounters {
  std::atomic<std::uint64_t> delivered{0};     // peer messages handed to the Raft actor
  std::atomic<std::uint64_t> refused{0};       // peer messages refused by the codec
  std::atomic<std::uint64_t> unattached{0};    // good, but no Raft actor yet
  std::atomic<std::uint64_t> requests{0};      // client requests received
  std::atomic<std::uint64_t> bad_streams{0};   // connections closed for a bad frame
};

}  // namespace raftor::network
