// The values raftor's actors exchange, and the atoms that name the requests. Every type
// here has an inspect() overload, so it can be registered with CAF and cross the network
// (register_message_types in actors/interfaces.hpp).
#pragma once

#include <caf/all.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "raftor/storage/types.hpp"

namespace raftor {

// --- atoms (CAF 0.17: at most 10 characters) -------------------------------------------------
using propose_atom = caf::atom_constant<caf::atom("propose")>;
using read_atom = caf::atom_constant<caf::atom("read")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using peer_atom = caf::atom_constant<caf::atom("peer")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using apply_atom = caf::atom_constant<caf::atom("apply")>;
using applied_atom = caf::atom_constant<caf::atom("applied")>;
using chunk_done_atom = caf::atom_constant<caf::atom("chunkdone")>;
using fetch_atom = caf::atom_constant<caf::atom("fetch")>;
using connect_peer_atom = caf::atom_constant<caf::atom("connpeer")>;
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using progress_atom = caf::atom_constant<caf::atom("progress")>;
using snap_done_atom = caf::atom_constant<caf::atom("snapdone")>;
using purge_atom = caf::atom_constant<caf::atom("purge")>;
using send_snap_atom = caf::atom_constant<caf::atom("sendsnap")>;
using snap_sent_atom = caf::atom_constant<caf::atom("snapsent")>;
using snap_recv_atom = caf::atom_constant<caf::atom("snaprecv")>;
using install_atom = caf::atom_constant<caf::atom("install")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using replay_atom = caf::atom_constant<caf::atom("replay")>;
using member_atom = caf::atom_constant<caf::atom("member")>;
using transfer_atom = caf::atom_constant<caf::atom("transfer")>;
using membership_atom = caf::atom_constant<caf::atom("membership")>;
// Snapshotter -> handler: the exactly-once table as of a snapshot's index, serialized.
using sessions_atom = caf::atom_constant<caf::atom("sessions")>;

enum class ReadConsistency : std::uint8_t {
  linearizable = 0,  // ReadIndex: confirmed by a quorum, then served once applied (thesis §6.4)
  lease = 1,         // served by the leader while its lease holds: no round trip
  eventual = 2,      // served by any node from what it has applied: may be stale
};

// The answer to a client request (write or read).
struct ClientReply {
  bool ok = false;
  std::uint8_t code = 0;  // ErrorCode when !ok
  std::string message;
  NodeId leader = 0;       // the leader this node knows (set with not_leader)
  std::uint64_t index = 0;  // writes: the entry's index; reads: the applied index served at
  bool succeeded = false;   // writes: false when a compare-and-swap did not match
  std::vector<std::string> values;  // reads: one per key ("" when absent; see found)
  std::vector<bool> found;          // reads: whether each key exists
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ClientReply& x) {
  return f(caf::meta::type_name("raftor.ClientReply"), x.ok, x.code, x.message, x.leader, x.index,
           x.succeeded, x.values, x.found);
}

// A node's view of itself, for status commands and tests.
struct NodeStatus {
  NodeId id = 0;
  std::uint8_t role = 0;  // raft::Role
  std::uint64_t term = 0;
  NodeId leader = 0;
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  std::uint64_t first_index = 0;
  std::uint64_t last_index = 0;
  std::uint64_t last_term = 0;
  std::uint64_t snapshot_index = 0;
  // The cluster configuration this node uses (the latest in its log, thesis §4.1), the
  // entry that set it (0: the bootstrap configuration) and whether that entry is committed.
  Membership membership;
  std::uint64_t config_index = 0;
  bool config_pending = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Membership& x);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, NodeStatus& x) {
  return f(caf::meta::type_name("raftor.NodeStatus"), x.id, x.role, x.term, x.leader, x.commit,
           x.applied, x.first_index, x.last_index, x.last_term, x.snapshot_index, x.membership,
           x.config_index, x.config_pending);
}

// A client's membership change (thesis §4.1, one server at a time), for the Raft actor.
enum class MembershipChangeType : std::uint8_t {
  add_learner = 0,  // a new node receives the log but does not vote yet
  promote = 1,      // a learner becomes a voter
  remove = 2,       // a voter or learner leaves the cluster
};

struct MembershipChange {
  MembershipChangeType type = MembershipChangeType::add_learner;
  NodeId node = 0;
  std::string address;  // add_learner: "HOST:PORT" where the other members reach the node
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, MembershipChange& x) {
  return f(caf::meta::type_name("raftor.MembershipChange"), x.type, x.node, x.address);
}

// Raft actor -> handler: committed entries to apply, in order.
struct CommittedEntries {
  std::vector<Entry> entries;
};

// Handler -> Raft actor: the outcome of applying up to `last_applied`.
struct AppliedEntries {
  LogId last_applied;
  std::vector<ApplyResult> results;  // in index order
  std::vector<std::uint64_t> terms;  // the term of each applied entry, parallel to results
  bool failed = false;               // the state machine refused the batch: `error` says why
  std::string error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, LogId& x) {
  return f(caf::meta::type_name("raftor.LogId"), x.index, x.term);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Entry& x) {
  return f(caf::meta::type_name("raftor.Entry"), x.index, x.term, x.type, x.payload);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ApplyResult& x) {
  return f(caf::meta::type_name("raftor.ApplyResult"), x.index, x.outcome);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, CommittedEntries& x) {
  return f(caf::meta::type_name("raftor.CommittedEntries"), x.entries);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, AppliedEntries& x) {
  return f(caf::meta::type_name("raftor.AppliedEntries"), x.last_applied, x.results, x.terms,
           x.failed, x.error);
}

// Raft actor -> handler, once at start: the client requests of the entries the state
// machine applied before the node (re)started and the log still holds, in index order,
// so that the deduplication table is rebuilt from them (thesis §6.3).
struct AppliedRequest {
  std::uint64_t index = 0;
  std::uint64_t client_id = 0;
  std::uint64_t sequence = 0;
};

struct AppliedRequests {
  // At restart, in the first message only: the exactly-once table of the snapshot the
  // state machine's state grew from (SnapshotMetadata::client_sessions), as of
  // sessions_index (0: none); `requests` then follow it.
  std::string sessions;
  std::uint64_t sessions_index = 0;
  std::vector<AppliedRequest> requests;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, AppliedRequest& x) {
  return f(caf::meta::type_name("raftor.AppliedRequest"), x.index, x.client_id, x.sequence);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, AppliedRequests& x) {
  return f(caf::meta::type_name("raftor.AppliedRequests"), x.sessions, x.sessions_index,
           x.requests);
}

// --- snapshots ----------------------------------------------------------------------------

// Raft actor -> snapshotter, after each applied batch: totals since the node started.
struct ApplyProgress {
  std::uint64_t applied = 0;    // last applied index
  std::uint64_t log_bytes = 0;  // payload bytes of the entries handed to the state machine
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ApplyProgress& x) {
  return f(caf::meta::type_name("raftor.ApplyProgress"), x.applied, x.log_bytes);
}

// The answer to a snapshot request: the snapshot now durable in the node's store.
struct SnapshotReply {
  bool ok = false;
  std::uint8_t code = 0;  // ErrorCode when !ok
  std::string message;
  SnapshotMetadata metadata;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Membership& x) {
  return f(caf::meta::type_name("raftor.Membership"), x.voters, x.learners,
           x.addresses);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SnapshotMetadata& x) {
  return f(caf::meta::type_name("raftor.SnapshotMetadata"), x.last_included, x.membership,
           x.checksum, x.size, x.client_sessions);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SnapshotReply& x) {
  return f(caf::meta::type_name("raftor.SnapshotReply"), x.ok, x.code, x.message, x.metadata);
}

}  // namespace raftor

// --- network transport (actors/network) --------------------------------------------------
namespace raftor {

// An encoded raft::Message (messages/rpc.proto bytes) for the peer connector to send.
using peer_bytes_atom = caf::atom_constant<caf::atom("peerbytes")>;
// Hands a node's endpoint its (local) Raft actor, once spawned.
using attach_atom = caf::atom_constant<caf::atom("attach")>;
// A node's endpoint: close the port and every connection, then end (NodeEndpoint::stop).
using close_port_atom = caf::atom_constant<caf::atom("closeport")>;
// The connector's timer: try to (re)connect to a peer.
using reconnect_atom = caf::atom_constant<caf::atom("reconnect")>;
// The outcome of a connect attempt to a peer (see tcp_connect.hpp): a socket or why not.
using connected_atom = caf::atom_constant<caf::atom("connected")>;
// The cluster's configuration changed: the connector dials new members (and lets removed
// ones go once the change commits); the endpoint accepts messages from the members.
using members_atom = caf::atom_constant<caf::atom("members")>;
// Endpoint -> its node's connector: a sender this node does not know announced where it is
// reached (a leader, to a learner that joined knowing only some members).
using peer_address_atom = caf::atom_constant<caf::atom("peeraddr")>;
// Transport -> its node's endpoint: the connector, for peer_address_atom.
using connector_atom = caf::atom_constant<caf::atom("connector")>;

}  // namespace raftor
