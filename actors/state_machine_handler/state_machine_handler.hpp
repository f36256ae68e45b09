// The state-machine handler actor: owns the application's StateMachine. It receives
// committed entries from the Raft actor, applies them in chunks through apply_chunk (one
// chunk in flight at a time, so chunks apply in log order), reports each chunk's results
// back, and serves reads from the applied state. It also installs snapshots received from
// the leader (apply_snapshot_from_file), in order with the entries: never during a chunk.
//
// Exactly-once client writes (Raft thesis §6.3): before each chunk, entries repeating a
// request already applied (same client id and sequence) become noops, and their results
// are the original outcomes; see ClientSessions for the rules and ChunkDeduplication for
// the steps. The table is in memory: at start the Raft actor replays the requests of the
// entries still in its log up to the state machine's last_applied (replay_atom), and the
// entries after it are applied again, which rebuilds the table for the retained log.
// Requests in purged entries are lost with a restart, and an installed snapshot clears
// the table: the limits are spelled out in client_sessions.hpp.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>

#include "raftor/actors/interfaces.hpp"
#include "raftor/actors/state_machine_handler/chunk_deduplication.hpp"
#include "raftor/actors/state_machine_handler/client_sessions.hpp"
#include "raftor/storage/state_machine.hpp"

namespace raftor {

struct StateMachineHandlerConfig {
  std::size_t chunk_entries = 512;  // entries per apply_chunk
  // Clients whose latest request the deduplication table remembers; beyond, the least
  // recently active is forgotten. Must be the same on every node (determinism).
  std::size_t max_clients = ClientSessions::kDefaultMaxClients;
  // Snapshots are taken: keep the history that lets the table be given as of a snapshot's
  // index (ClientSessions::keep_history).
  bool snapshots = false;
};

// Spawned detached: apply_chunk blocks on the state machine's storage.
class StateMachineHandler : public state_machine_handler_actor::base {
 public:
  StateMachineHandler(caf::actor_config& cfg, std::shared_ptr<StateMachine> state_machine,
                      raft_actor raft, StateMachineHandlerConfig config);

  behavior_type make_behavior() override;
  void on_exit() override;

 private:
  void enqueue(std::vector<Entry> entries);
  void apply_next();
  void chunk_done(AppliedEntries applied);
  void replay(const AppliedRequests& history);
  // Replaces the exactly-once table with a snapshot's (as of `index`), logging a bad one.
  void load_sessions(const std::string& table, std::uint64_t index);
  ClientReply read(const std::vector<std::string>& keys) const;
  // Installs the snapshots asked for once every entry queued before them is applied.
  void install_when_idle();

  struct PendingInstall {
    SnapshotMetadata metadata;
    std::string path;
    caf::typed_response_promise<SnapshotReply> promise;
  };

  std::shared_ptr<StateMachine> sm_;
  raft_actor raft_;
  StateMachineHandlerConfig config_;
  std::deque<Entry> queue_;
  bool applying_ = false;
  ClientSessions sessions_;
  std::optional<ChunkDeduplication> in_flight_;  // the chunk being applied
  std::vector<PendingInstall> installs_;
};

}  // namespace raftor
