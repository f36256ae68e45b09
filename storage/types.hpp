// Plain C++ value types shared by the log, the state machines and the actors.
// Their wire form is in messages/*.proto; conversions live in storage/proto_convert.hpp.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace raftor {

using NodeId = std::uint64_t;  // 0 means "none"

// Identifies one log entry. Ordered by (term, index), which is how Raft §5.4.1 compares
// how up to date two logs are.
struct LogId {
  std::uint64_t index = 0;
  std::uint64_t term = 0;

  friend bool operator==(const LogId&, const LogId&) = default;
  friend std::strong_ordering operator<=>(const LogId& a, const LogId& b) {
    if (auto c = a.term <=> b.term; c != 0) return c;
    return a.index <=> b.index;
  }
};

enum class EntryType : std::uint8_t { normal = 0, noop = 1, config = 2 };

struct Entry {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  EntryType type = EntryType::normal;
  std::string payload;  // normal: serialized pb::Command; config: serialized pb::Membership

  LogId id() const { return {index, term}; }
  friend bool operator==(const Entry&, const Entry&) = default;
};

// Raft figure 2: persistent state that must reach disk before answering any RPC.
struct HardState {
  std::uint64_t term = 0;
  NodeId voted_for = 0;

  friend bool operator==(const HardState&, const HardState&) = default;
};

// A cluster configuration (thesis §4.1): who votes, who only replicates, and — for members
// added at run time — how to reach them (empty for the bootstrap peers, configured apart).
struct Membership {
  std::vector<NodeId> voters;    // sorted
  std::vector<NodeId> learners;  // sorted
  std::map<NodeId, std::string> addresses;

  friend bool operator==(const Membership&, const Membership&) = default;
};

// Raw checksum bytes (XXH3-128, big-endian, 16 bytes); see snapshot/checksum.hpp.
using Checksum = std::string;

struct SnapshotMetadata {
  LogId last_included;
  Membership membership;
  Checksum checksum;
  std::uint64_t size = 0;
  // The exactly-once table of client requests (Raft thesis §6.3) as of last_included,
  // serialized by the state-machine handler (ClientSessions::encode); empty when unknown.
  // It travels and is stored with the metadata, so a node that installs the snapshot, or
  // restarts from it, recognises retries of requests the snapshot covers.
  std::string client_sessions;

  friend bool operator==(const SnapshotMetadata&, const SnapshotMetadata&) = default;
};

enum class ApplyOutcome : std::uint8_t {
  applied,          // the command took effect
  cas_mismatch,     // compare-and-swap found another value: a result, not an error
  already_applied,  // index <= last_applied: skipped, Raft re-delivered it
};

// Who sent a command and which of that client's requests it is (Raft thesis §6.3): a
// client retries a request with the same id, so it can be applied once. A command with
// client_id 0 or sequence 0 (proto3's "unset") is not tracked and never deduplicated.
struct RequestId {
  std::uint64_t client_id = 0;
  std::uint64_t sequence = 0;

  bool tracked() const { return client_id != 0 && sequence != 0; }
  friend bool operator==(const RequestId&, const RequestId&) = default;
};

// One per input entry of apply_chunk, in input order.
struct ApplyResult {
  std::uint64_t index = 0;
  ApplyOutcome outcome = ApplyOutcome::applied;

  bool succeeded() const { return outcome != ApplyOutcome::cas_mismatch; }
  friend bool operator==(const ApplyResult&, const ApplyResult&) = default;
};

}  // namespace raftor
