// The Raft actor: drives the pure protocol core (actors/raft/core) with real time, a real
// log and real peers, and owns the node's state-machine handler, snapshotter and purger.
//
// Group commit: client proposals and peer messages are only *collected* as they arrive;
// a ready_atom the actor sends itself marks the end of what is queued, and then the core's
// output is processed once — one log append and one fsync for everything collected. Under
// load the mailbox fills while the actor waits on fsync, so batches grow with the load.
#pragma once

#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <vector>

#include "raftor/actors/interfaces.hpp"
#include "raftor/actors/raft/core/raft_core.hpp"
#include "raftor/actors/raft/peer_transport.hpp"
#include "raftor/actors/snapshotter/snapshot_sender.hpp"
#include "raftor/actors/state_machine_handler/state_machine_handler.hpp"
#include "raftor/messages/command.pb.h"
#include "raftor/snapshot/snapshot_policy.hpp"
#include "raftor/snapshot/snapshot_store.hpp"
#include "raftor/storage/raft_log.hpp"
#include "raftor/storage/state_machine.hpp"

namespace raftor {

// Snapshots and log purging (the snapshotter and purger actors). On by default, but only
// with a directory: without one the node logs a warning and its log grows without bound.
struct SnapshotConfig {
  bool enabled = true;
  std::filesystem::path dir;  // the node's snapshot store
  snapshot::SnapshotPolicy policy;
  std::size_t keep = 2;            // snapshots kept on disk
  std::uint64_t retention = 1000;  // log entries kept below the newest snapshot
  SnapshotTransferConfig transfer;  // InstallSnapshot: chunks, window, bandwidth, timeouts
};

struct RaftActorConfig {
  raft::RaftConfig raft;
  std::chrono::milliseconds tick_interval{10};
  std::uint64_t max_apply_bytes = 4 << 20;  // per message to the handler
  StateMachineHandlerConfig handler;
  SnapshotConfig snapshot;
};

// Spawned detached (it blocks on fsync): spawn<RaftActor, caf::detached>(...).
class RaftActor : public raft_actor::base {
 public:
  RaftActor(caf::actor_config& cfg, RaftActorConfig config, std::unique_ptr<RaftLog> log,
            std::shared_ptr<StateMachine> state_machine, std::shared_ptr<PeerTransport> transport);
  ~RaftActor() override;

  behavior_type make_behavior() override;
  void on_exit() override;

 private:
  struct PendingWrite {
    std::uint64_t term;
    caf::typed_response_promise<ClientReply> promise;
  };
  struct PendingRead {
    std::vector<std::string> keys;
    caf::typed_response_promise<ClientReply> promise;
    std::uint64_t read_index = 0;
  };

  caf::result<ClientReply> propose(std::string payload);
  caf::result<ClientReply> read(std::vector<std::string> keys, ReadConsistency consistency);
  void applied(AppliedEntries applied);
  // Membership (thesis §4.1) and leadership transfer (§3.10), for clients.
  caf::result<ClientReply> change_membership(const MembershipChange& change);
  caf::result<ClientReply> transfer_leadership(NodeId target);
  void settle_transfers(const raft::CoreStatus& status);
  // Tells the transport whom to reach and accept: at start, when the configuration
  // changes and when its entry commits (only then may removed members be let go).
  void announce_membership(const raft::CoreStatus& status);
  caf::result<SnapshotReply> snapshot();
  void purge(std::uint64_t index);
  // InstallSnapshot (Raft §7): the leader sends its newest snapshot; a follower installs
  // one it received through the handler, then tells the core.
  void send_snapshot(NodeId to);
  void install_snapshot(const SnapshotMetadata& metadata);
  void snapshot_installed(const SnapshotMetadata& metadata);
  void route_peer_message(raft::Message& message);
  void open_snapshot_store();
  void restore_from_snapshot();
  // The newest snapshot ending at or below `at_most`: the one installed in the state
  // machine or the store's newest, whichever is later.
  std::optional<SnapshotMetadata> newest_snapshot(
      std::uint64_t at_most = std::numeric_limits<std::uint64_t>::max()) const;
  void spawn_snapshotter();
  // Hands the handler the client requests it applied before this start (thesis §6.3).
  void replay_applied_requests();
  NodeStatus node_status() const;

  void schedule_ready();
  void process_ready();  // the core's output: send, sync, apply, reads
  void dispatch_apply(std::uint64_t from, std::uint64_t to);
  // Tells the snapshotter how far the state machine got: at once when `now`, else only
  // once enough was applied to matter to its policy.
  void report_progress(bool now);
  void serve_when_applied(PendingRead read);
  void serve(PendingRead read);
  void serve_waiting_reads();
  ClientReply not_leader_reply() const;
  void fail(const Error& error);

  RaftActorConfig config_;
  std::unique_ptr<RaftLog> log_;
  std::shared_ptr<StateMachine> sm_;
  std::shared_ptr<PeerTransport> transport_;
  std::unique_ptr<raft::RaftCore> core_;
  state_machine_handler_actor handler_;
  std::shared_ptr<snapshot::SnapshotStore> store_;  // null when snapshots are off
  snapshotter_actor snapshotter_;
  purger_actor purger_;
  snapshot_sender_actor sender_;
  snapshot_receiver_actor receiver_;
  bool was_leader_ = false;
  NodeId known_leader_ = 0;  // for logging leadership changes once
  std::uint64_t snapshot_index_ = 0;  // newest durable snapshot (status)
  std::uint64_t dispatched_bytes_ = 0;  // payload bytes handed to the handler (policy)
  ApplyProgress reported_;               // the snapshotter's latest report
  static constexpr unsigned kProgressTicks = 10;  // a report of the rest at most this often
  unsigned ticks_since_progress_ = 0;
  std::optional<Error> startup_error_;   // reported (and the node stopped) once spawned

  std::uint64_t applied_ = 0;
  bool ready_scheduled_ = false;
  pb::Command proposal_scratch_;     // reused to validate proposals: no message per call
  std::vector<std::string> batch_;  // proposals collected since the last ready
  std::vector<caf::typed_response_promise<ClientReply>> batch_promises_;
  std::vector<caf::typed_response_promise<ClientReply>> transfer_promises_;
  std::optional<std::chrono::steady_clock::time_point> transfer_stepped_down_;
  bool members_committed_ = false;  // what announce_membership() last told the transport
  // By log index. A multimap: a leader can lose an uncommitted proposal, lead again and
  // reuse its index; the entry's term at apply tells which proposal was applied.
  std::multimap<std::uint64_t, PendingWrite> pending_writes_;
  std::uint64_t next_read_id_ = 1;
  std::map<std::uint64_t, PendingRead> unconfirmed_reads_;    // by request id
  std::multimap<std::uint64_t, PendingRead> waiting_reads_;  // by read index
};

}  // namespace raftor
