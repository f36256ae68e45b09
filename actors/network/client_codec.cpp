#include "raftor/actors/network/client_codec.hpp"

#include "raftor/storage/proto_convert.hpp"

namespace raftor::network {

void to_proto(const ClientReply& reply, pb::KvReply& out) {
  out.set_ok(reply.ok);
  out.set_code(reply.code);
  out.set_message(reply.message);
  out.set_leader(reply.leader);
  out.set_index(reply.index);
  out.set_succeeded(reply.succeeded);
  out.mutable_values()->Reserve(static_cast<int>(reply.values.size()));
  for (const auto& v : reply.values) out.add_values(v);
  out.mutable_found()->Reserve(static_cast<int>(reply.found.size()));
  for (bool f : reply.found) out.add_found(f);
}

ClientReply from_proto(pb::KvReply&& reply) {
  ClientReply out;
  out.ok = reply.ok();
  out.code = static_cast<std::uint8_t>(reply.code());
  out.message = std::move(*reply.mutable_message());
  out.leader = reply.leader();
  out.index = reply.index();
  out.succeeded = reply.succeeded();
  out.values.reserve(static_cast<std::size_t>(reply.values_size()));
  for (auto& v : *reply.mutable_values()) out.values.push_back(std::move(v));
  out.found.assign(reply.found().begin(), reply.found().end());
  return out;
}

void to_proto(const NodeStatus& s, pb::NodeStatusReply& out) {
  out.set_id(s.id);
  out.set_role(s.role);
  out.set_term(s.term);
  out.set_leader(s.leader);
  out.set_commit(s.commit);
  out.set_applied(s.applied);
  out.set_first_index(s.first_index);
  out.set_last_index(s.last_index);
  out.set_last_term(s.last_term);
  out.set_snapshot_index(s.snapshot_index);
  *out.mutable_membership() = raftor::to_proto(s.membership);
  out.set_config_index(s.config_index);
  out.set_config_pending(s.config_pending);
}

NodeStatus from_proto(const pb::NodeStatusReply& s) {
  NodeStatus out;
  out.id = s.id();
  out.role = static_cast<std::uint8_t>(s.role());
  out.term = s.term();
  out.leader = s.leader();
  out.commit = s.commit();
  out.applied = s.applied();
  out.first_index = s.first_index();
  out.last_index = s.last_index();
  out.last_term = s.last_term();
  out.snapshot_index = s.snapshot_index();
  out.membership = raftor::from_proto(s.membership());
  out.config_index = s.config_index();
  out.config_pending = s.config_pending();
  return out;
}

void to_proto(const SnapshotReply& reply, pb::SnapshotReply& out) {
  out.set_ok(reply.ok);
  out.set_code(reply.code);
  out.set_message(reply.message);
  *out.mutable_metadata() = raftor::to_proto(reply.metadata);
}

SnapshotReply from_proto(const pb::SnapshotReply& reply) {
  return SnapshotReply{reply.ok(), static_cast<std::uint8_t>(reply.code()), reply.message(),
                       raftor::from_proto(reply.metadata())};
}

}  // namespace raftor::network
