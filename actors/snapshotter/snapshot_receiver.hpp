// The follower's snapshot receiver: assembles the leader's SnapshotChunks into a snapshot
// of the node's SnapshotStore (snapshot/incoming_snapshot.hpp), answers every chunk with
// the offset it wants next, and hands a complete, validated snapshot to the Raft actor,
// which installs it (Raft §7).
//
// One snapshot is received at a time. A chunk of another snapshot (a newer leader, or the
// same leader after a newer snapshot) replaces the partial one; a chunk of the same
// snapshot from another leader continues it, so a leader change resumes the transfer.
#pragma once

#include <memory>
#include <optional>

#include "raftor/actors/interfaces.hpp"
#include "raftor/actors/raft/peer_transport.hpp"
#include "raftor/snapshot/incoming_snapshot.hpp"
#include "raftor/snapshot/snapshot_store.hpp"

namespace raftor {

// Spawned detached: it writes and fsyncs the snapshot file.
class SnapshotReceiver : public snapshot_receiver_actor::base {
 public:
  SnapshotReceiver(caf::actor_config& cfg, NodeId self,
                   std::shared_ptr<snapshot::SnapshotStore> store,
                   std::shared_ptr<PeerTransport> transport, raft_actor raft);

  behavior_type make_behavior() override;
  void on_exit() override;

 private:
  void on_chunk(const raft::Message& m, const raft::SnapshotChunk& chunk);
  void answer(const raft::Message& m, const LogId& snapshot, std::uint64_t next_offset,
              bool done = false, bool rejected = false);

  const NodeId self_;
  std::shared_ptr<snapshot::SnapshotStore> store_;
  std::shared_ptr<PeerTransport> transport_;
  raft_actor raft_;
  std::unique_ptr<snapshot::IncomingSnapshot> incoming_;
  std::optional<SnapshotMetadata> received_;  // the last one completed (late chunks: "done")
};

}  // namespace raftor
