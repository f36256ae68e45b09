#include "raftor/storage/proto_convert.hpp"

namespace raftor {

pb::LogId to_proto(const LogId& id) {
  pb::LogId out;
  out.set_index(id.index);
  out.set_term(id.term);
  return out;
}

LogId from_proto(const pb::LogId& id) { return {id.index(), id.term()}; }

pb::Entry to_proto(const Entry& entry) {
  pb::Entry out;
  out.set_index(entry.index);
  out.set_term(entry.term);
  out.set_type(static_cast<pb::EntryType>(entry.type));
  out.set_payload(entry.payload);
  return out;
}

Entry from_proto(const pb::Entry& entry) {
  return {entry.index(), entry.term(), static_cast<EntryType>(entry.type()), entry.payload()};
}

Entry from_proto(pb::Entry&& entry) {
  return {entry.index(), entry.term(), static_cast<EntryType>(entry.type()),
          std::move(*entry.mutable_payload())};
}

pb::Membership to_proto(const Membership& membership) {
  pb::Membership out;
  for (NodeId id : membership.voters) out.add_voters(id);
  for (NodeId id : membership.learners) out.add_learners(id);
  for (const auto& [id, address] : membership.addresses) (*out.mutable_addresses())[id] = address;
  return out;
}

Membership from_proto(const pb::Membership& membership) {
  return {{membership.voters().begin(), membership.voters().end()},
          {membership.learners().begin(), membership.learners().end()},
          {membership.addresses().begin(), membership.addresses().end()}};
}

pb::SnapshotMetadata to_proto(const SnapshotMetadata& metadata) {
  pb::SnapshotMetadata out;
  *out.mutable_last_included() = to_proto(metadata.last_included);
  *out.mutable_membership() = to_proto(metadata.membership);
  out.set_checksum(metadata.checksum);
  out.set_size(metadata.size);
  out.set_client_sessions(metadata.client_sessions);
  return out;
}

SnapshotMetadata from_proto(const pb::SnapshotMetadata& metadata) {
  return {from_proto(metadata.last_included()), from_proto(metadata.membership()),
          metadata.checksum(), metadata.size(), metadata.client_sessions()};
}

pb::HardState to_proto(const HardState& state) {
  pb::HardState out;
  out.set_term(state.term);
  out.set_voted_for(state.voted_for);
  return out;
}

HardState from_proto(const pb::HardState& state) { return {state.term(), state.voted_for()}; }

std::string serialize(const SnapshotMetadata& metadata) {
  std::string out;
  to_proto(metadata).SerializeToString(&out);
  return out;
}

Result<SnapshotMetadata> parse_snapshot_metadata(std::string_view bytes) {
  pb::SnapshotMetadata proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return make_error(ErrorCode::corruption, "stored snapshot metadata does not parse");
  }
  return from_proto(proto);
}

}  // namespace raftor
