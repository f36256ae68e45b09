// Conversions between the C++ value types (storage/types.hpp) and their protobuf form.
#pragma once

#include "raftor/messages/log.pb.h"
#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace raftor {

pb::LogId to_proto(const LogId& id);
LogId from_proto(const pb::LogId& id);

pb::Entry to_proto(const Entry& entry);
Entry from_proto(const pb::Entry& entry);
Entry from_proto(pb::Entry&& entry);  // moves the payload

pb::Membership to_proto(const Membership& membership);
Membership from_proto(const pb::Membership& membership);

pb::SnapshotMetadata to_proto(const SnapshotMetadata& metadata);
SnapshotMetadata from_proto(const pb::SnapshotMetadata& metadata);

pb::HardState to_proto(const HardState& state);
HardState from_proto(const pb::HardState& state);

// Serialized forms, used where metadata is stored as a single value.
std::string serialize(const SnapshotMetadata& metadata);
Result<SnapshotMetadata> parse_snapshot_metadata(std::string_view bytes);

}  // namespace raftor
