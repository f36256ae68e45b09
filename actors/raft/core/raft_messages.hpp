// The messages Raft nodes exchange, as the pure core sees them: plain C++ values, no
// serialization. The network layer converts them to messages/rpc.proto.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "raftor/storage/types.hpp"

namespace raftor::raft {

// Raft §5.2 RequestVote; with pre_vote, thesis §9.6: `term` (in Message) is the term the
// sender would campaign in, and the receiver neither adopts it nor records a vote.
struct VoteRequest {
  LogId last_log;
  bool pre_vote = false;
  bool leadership_transfer = false;  // thesis §3.10: voters ignore their leader lease
};

struct VoteResponse {
  bool granted = false;
  bool pre_vote = false;
};

// Raft §5.3 AppendEntries. An empty `entries` is a heartbeat. `read_context` is echoed
// back so the leader can confirm leadership for ReadIndex (thesis §6.4).
struct AppendRequest {
  LogId prev;
  std::vector<Entry> entries;
  std::uint64_t commit = 0;
  std::uint64_t read_context = 0;
};

// On failure (fast backtracking, Raft §5.3 end, as etcd's findConflictByTerm):
// conflict_index is the follower's last entry that may still match the leader's log — the
// largest index <= min(prev.index, its last index) whose term is <= prev.term — and
// conflict_term its term there (0 at index 0). The leader retries with prev at its own
// largest index <= conflict_index whose term is <= conflict_term, skipping whole
// conflicting terms and a short log's missing tail in one round trip.
struct AppendResponse {
  bool success = false;
  std::uint64_t match_index = 0;     // success: the follower's log matches up to here
  std::uint64_t conflict_index = 0;  // failure: the follower's last entry that may match
  std::uint64_t conflict_term = 0;   // failure: term at conflict_index in the follower's log
  std::uint64_t read_context = 0;
};

// Raft §7 InstallSnapshot as the core sees it: the leader's snapshot has fully arrived on
// this node (the file itself travels in chunks beside the core, see SnapshotChunk), its
// checksum matched and it is stored locally. The answer is an AppendResponse whose
// match_index is the snapshot's last included index (as etcd's raft does).
struct SnapshotRequest {
  SnapshotMetadata snapshot;
};

// One piece of a snapshot file, leader -> follower (pb::InstallSnapshotChunk). Chunks go
// from the leader's snapshot sender to the follower's snapshot receiver; the core never
// sees them. A receiver resumes at the offset it asks for in its acknowledgement.
struct SnapshotChunk {
  SnapshotMetadata snapshot;
  std::uint64_t offset = 0;
  std::string data;
  std::uint64_t chunk_checksum = 0;  // XXH3-64 of data: a corrupt chunk is sent again
  bool done = false;                 // the last chunk
};

struct SnapshotChunkAck {
  LogId snapshot;                 // the snapshot being received
  std::uint64_t next_offset = 0;  // the offset the receiver wants next
  bool done = false;              // the whole file arrived and its checksum matched
  bool rejected = false;          // the whole file's checksum failed: start again
};

// Thesis §3.10 leadership transfer: the leader tells a caught-up voter to start an election
// at once (no pre-vote, voters ignore their leader lease for it). Sent in the leader's term.
struct TimeoutNow {};

struct Message {
  NodeId from = 0;
  NodeId to = 0;
  std::uint64_t term = 0;
  std::variant<VoteRequest, VoteResponse, AppendRequest, AppendResponse, SnapshotRequest,
               SnapshotChunk, SnapshotChunkAck, TimeoutNow>
      body;
};

std::string describe(const Message& message);  // one line, for logs and test failures

}  // namespace raftor::raft
