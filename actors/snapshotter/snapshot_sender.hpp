// The leader's snapshot sender: streams stored snapshots to followers whose next entry
// was purged (Raft §7), in chunks, with flow control, resumption and a bandwidth limit.
//
// Per follower, a window of chunks is in flight. The first chunk of a transfer goes out
// alone: the receiver's answer names the offset it wants, which lets a transfer resume
// where an earlier one (this leader's or a previous leader's, of the same snapshot) broke
// off. Each answer moves the window; an answer asking for an earlier offset (a lost or
// corrupt chunk) rewinds to it; a rejected whole file starts over from zero. A transfer
// without any answer for ack_timeout is retried from the last acknowledged offset, and
// after max_timeouts such rounds it fails: the Raft actor is told after retry_backoff and
// the core starts a new one when the follower is still behind.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>

#include "raftor/actors/interfaces.hpp"
#include "raftor/actors/raft/peer_transport.hpp"
#include "raftor/snapshot/outgoing_snapshot.hpp"
#include "raftor/snapshot/snapshot_store.hpp"

namespace raftor {

struct SnapshotTransferConfig {
  std::uint64_t chunk_bytes = 1 << 20;  // per SnapshotChunk
  std::uint32_t window = 4;             // chunks in flight per follower
  std::uint64_t bytes_per_second = 0;   // all transfers together; 0 = unlimited
  std::chrono::milliseconds ack_timeout{3000};
  std::uint32_t max_timeouts = 5;  // unanswered rounds in a row before the transfer fails
  std::uint32_t max_restarts = 3;  // whole-file checksum failures before it fails
  std::chrono::milliseconds retry_backoff{1000};  // before a failure is reported
};

// Spawned detached: reading the snapshot file blocks on the disk.
class SnapshotSender : public snapshot_sender_actor::base {
 public:
  SnapshotSender(caf::actor_config& cfg, NodeId self, std::shared_ptr<snapshot::SnapshotStore> store,
                 std::shared_ptr<PeerTransport> transport, raft_actor raft,
                 SnapshotTransferConfig config);

  behavior_type make_behavior() override;
  void on_exit() override;

 private:
  using clock = std::chrono::steady_clock;

  struct Transfer {
    Transfer(NodeId follower, std::uint64_t leader_term, snapshot::OutgoingSnapshot snapshot)
        : to(follower), term(leader_term), file(std::move(snapshot)) {}

    NodeId to = 0;
    std::uint64_t term = 0;
    snapshot::OutgoingSnapshot file;
    std::uint64_t acked = 0;  // the receiver holds [0, acked)
    std::uint64_t next = 0;   // next offset to send
    bool probing = true;      // one chunk out until the receiver names its offset
    std::uint64_t rewound_to = UINT64_MAX;  // last rewind: don't repeat it per stale answer
    std::uint32_t timeouts = 0;
    std::uint32_t restarts = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t logged_quarter = 0;
    clock::time_point started;
    clock::time_point last_answer;
  };

  void start(NodeId to, std::uint64_t term, const SnapshotMetadata& metadata);
  void on_ack(NodeId from, const raft::SnapshotChunkAck& ack);
  void on_tick();
  void pump(Transfer& t);
  bool take_budget(std::uint64_t bytes);
  void finish(NodeId to, bool ok, const std::string& why);
  void schedule_tick();

  const NodeId self_;
  std::shared_ptr<snapshot::SnapshotStore> store_;
  std::shared_ptr<PeerTransport> transport_;
  raft_actor raft_;
  SnapshotTransferConfig config_;
  std::map<NodeId, Transfer> transfers_;
  bool tick_scheduled_ = false;
  // Bandwidth limit: a token bucket of bytes, refilled at bytes_per_second.
  double budget_ = 0;
  clock::time_point budget_at_ = clock::now();
};

}  // namespace raftor
