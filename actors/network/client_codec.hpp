// The wire form of client replies (messages/client.proto) <-> the values the Raft actor
// answers with (actors/actor_messages.hpp). Shared by the node's endpoint and the client.
#pragma once

#include "raftor/actors/actor_messages.hpp"
#include "raftor/messages/client.pb.h"

namespace raftor::network {

void to_proto(const ClientReply& reply, pb::KvReply& out);
ClientReply from_proto(pb::KvReply&& reply);  // moves the values

void to_proto(const NodeStatus& status, pb::NodeStatusReply& out);
NodeStatus from_proto(const pb::NodeStatusReply& status);

void to_proto(const SnapshotReply& reply, pb::SnapshotReply& out);
SnapshotReply from_proto(const pb::SnapshotReply& reply);

}  // namespace raftor::network
