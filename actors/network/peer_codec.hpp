// The wire form of Raft messages between nodes: raft::Message <-> PeerMessage bytes
// (messages/rpc.proto). Decoding checks the envelope before anything reaches Raft: the
// cluster id, the protocol version, the sender (a configured peer) and the receiver (this
// node). Every refusal is an error naming what was wrong; nothing is thrown.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "raftor/actors/raft/core/raft_messages.hpp"
#include "raftor/storage/status.hpp"

namespace raftor::network {

inline constexpr std::uint32_t kProtocolVersion = 1;

struct PeerCodec {
  std::string cluster_id;
  NodeId self = 0;
  std::set<NodeId> peers;  // node ids this node accepts messages from
  // A node that is not a voter (a learner joining a cluster, a removed node) accepts any
  // sender of its cluster: it does not vote or campaign, and the cluster's leader may be a
  // node added after its configuration was written.
  bool any_sender = false;
  // Where this node's peers reach it, sent with every request (Header.from_address).
  std::string self_address;

  std::string encode(const raft::Message& message) const;
  // `from_address`, if given, receives the sender's address ("" when it sent none).
  Result<raft::Message> decode(std::string_view bytes, std::string* from_address = nullptr) const;
};

}  // namespace raftor::network
