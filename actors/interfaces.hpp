// The typed interfaces of raftor's actors, declared once (as CAF's own examples do).
//
//   client ──propose/read/status──▶ Raft actor ──apply──▶ state-machine handler ──▶ StateMachine
//                                       ▲   ◀──applied──┘
//                     peers ──peer──────┘
//
//   Raft actor ──progress──▶ snapshotter ──generate──▶ StateMachine, SnapshotStore
//        ▲  ◀──────snapdone───────┘    └──snapdone──▶ purger ──purge──▶ Raft actor
//
//   InstallSnapshot (Raft §7), leader ──chunks──▶ follower:
//   Raft actor ──sendsnap──▶ snapshot sender ──SnapshotChunk──▶ (peer) snapshot receiver
//        ▲  ◀──snapsent (failed)──┘  ◀──SnapshotChunkAck──────────────────┘  │ snaprecv
//        └── follower's Raft actor ◀────────────────────────────────────────┘
//            ──install──▶ state-machine handler ──apply_snapshot_from_file──▶ StateMachine
//
// Each actor has its own mailbox: the state machine is only touched by the handler, so
// apply never shares a lock with the Raft actor. Both are spawned detached (own thread):
// they block on fsync and RocksDB writes, which must not stall CAF's scheduler threads.
// The snapshotter (detached too) generates snapshots in its own mailbox while the others
// keep replicating and applying; the purger then has the Raft actor trim the log.
#pragma once

#include <caf/all.hpp>

#include "raftor/actors/actor_messages.hpp"
#include "raftor/actors/raft/core/raft_messages.hpp"

// Raft messages between nodes of one process travel as C++ values; across processes the
// network layer turns them into messages/rpc.proto bytes, so CAF never serializes them.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(raftor::raft::Message)

namespace raftor {

using raft_actor = caf::typed_actor<
    // A client write: payload is a serialized pb::Command. Replies after it is applied.
    caf::replies_to<propose_atom, std::string>::with<ClientReply>,
    // A client read of keys at the chosen consistency.
    caf::replies_to<read_atom, std::vector<std::string>, ReadConsistency>::with<ClientReply>,
    caf::replies_to<status_atom>::with<NodeStatus>,
    // Membership (thesis §4.1): one change, answered once its configuration entry is
    // committed (the entry's index) or refused (not_leader, busy, invalid_argument).
    caf::replies_to<member_atom, MembershipChange>::with<ClientReply>,
    // Leadership transfer (thesis §3.10) to this voter (0: the most up-to-date one),
    // answered once another node leads (its id in `leader`) or the transfer gave up.
    caf::replies_to<transfer_atom, NodeId>::with<ClientReply>,
    // From the snapshotter: the configuration in force at a log index (a snapshot's).
    caf::replies_to<membership_atom, std::uint64_t>::with<Membership>,
    // From peers.
    caf::reacts_to<peer_atom, raft::Message>,
    // From the handler: entries applied up to a point, with their results.
    caf::reacts_to<applied_atom, AppliedEntries>,
    // Internal: the election/heartbeat clock, and "process what accumulated" (group commit).
    caf::reacts_to<tick_atom>,
    caf::reacts_to<ready_atom>,
    // A client asks for a snapshot now: forwarded to the snapshotter.
    caf::replies_to<snapshot_atom>::with<SnapshotReply>,
    // From the snapshotter: a new snapshot is durable.
    caf::reacts_to<snap_done_atom, SnapshotMetadata>,
    // From the purger: remove log entries up to this index (capped at what is applied).
    caf::reacts_to<purge_atom, std::uint64_t>,
    // From the snapshot sender: the transfer to this follower failed (true: it completed).
    caf::reacts_to<snap_sent_atom, NodeId, bool>,
    // From the snapshot receiver: the leader (NodeId, of this term) sent this snapshot
    // whole; it is validated and stored, ready to install.
    caf::reacts_to<snap_recv_atom, NodeId, std::uint64_t, SnapshotMetadata>>;

using state_machine_handler_actor = caf::typed_actor<
    // From the Raft actor: committed entries, in order, to apply in chunks.
    caf::reacts_to<apply_atom, CommittedEntries>,
    // From the Raft actor, at start and before any entry: requests applied before the
    // restart, to rebuild the deduplication table.
    caf::reacts_to<replay_atom, AppliedRequests>,
    // Reads served from the applied state.
    caf::replies_to<read_atom, std::vector<std::string>>::with<ClientReply>,
    // From the snapshotter: the exactly-once table as of a snapshot's index, serialized
    // for its metadata (empty when no client is known or the table cannot go back there).
    caf::replies_to<sessions_atom, std::uint64_t>::with<std::string>,
    // Internal: an asynchronous apply_chunk completed.
    caf::reacts_to<chunk_done_atom, AppliedEntries>,
    // From the Raft actor: replace the state with this stored snapshot file (after the
    // entries queued before it are applied).
    caf::replies_to<install_atom, SnapshotMetadata, std::string>::with<SnapshotReply>>;

using snapshotter_actor = caf::typed_actor<
    // From the Raft actor after each applied batch: checked against the snapshot policy.
    caf::reacts_to<progress_atom, ApplyProgress>,
    // On demand: generates a snapshot (or returns the latest if nothing was applied since).
    caf::replies_to<snapshot_atom>::with<SnapshotReply>,
    // Internal: re-checks the policy's time trigger.
    caf::reacts_to<tick_atom>>;

using snapshot_sender_actor = caf::typed_actor<
    // From the Raft actor (leader): send this stored snapshot to a follower, in this term.
    caf::reacts_to<send_snap_atom, NodeId, std::uint64_t, SnapshotMetadata>,
    // From the Raft actor: a follower's SnapshotChunkAck.
    caf::reacts_to<peer_atom, raft::Message>,
    // From the Raft actor: leadership lost; every transfer stops.
    caf::reacts_to<cancel_atom>,
    // Internal: timeouts and the bandwidth limit.
    caf::reacts_to<tick_atom>>;

using snapshot_receiver_actor = caf::typed_actor<
    // From the Raft actor: a SnapshotChunk of the leader's.
    caf::reacts_to<peer_atom, raft::Message>>;

using purger_actor = caf::typed_actor<
    // From the snapshotter: a snapshot and the state it covers are durable.
    caf::reacts_to<snap_done_atom, SnapshotMetadata>>;

// Registers every type above with a CAF configuration (both ends of a connection must).
void register_message_types(caf::actor_system_config& config);

}  // namespace raftor

// --- network transport (actors/network) --------------------------------------------------
// The node's endpoint and the peer connector are CAF io brokers speaking raftor's own framed
// protocol (actors/network/frame.hpp), not typed actors reachable over CAF's network: no
// actor of a node is published, so no remote process can send one a CAF message.
