// Configuration of one Raft node's protocol core. Time is in ticks: the driver (the Raft
// actor, or a simulation) calls RaftCore::tick() at a fixed interval.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <optional>
#include <vector>

#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace raftor::raft {

struct RaftConfig {
  NodeId id = 0;
  // The bootstrap membership, used while neither the log nor the snapshot records one
  // (thesis §4.1: afterwards the latest configuration entry in the log rules). A node that
  // joins a running cluster is configured as a learner (or anything that does not make it
  // a voter on its own): the leader's log then tells it the real configuration.
  std::vector<NodeId> voters;    // including `id` if it votes
  std::vector<NodeId> learners;  // receive the log, never vote or campaign
  // How the bootstrap members are reached ("HOST:PORT"; optional): copied into every
  // configuration entry, so a node that joins later learns where its peers are.
  std::map<NodeId, std::string> addresses;

  // Automatic promotion (thesis §4.2.1): the leader promotes a learner to voter once its
  // log is within this many entries of the leader's. nullopt: only by command. 0 waits
  // for a moment with nothing in flight, which a steady write stream may never leave.
  std::optional<std::uint64_t> promote_learner_lag;

  // A follower campaigns after a random timeout in [election_ticks, 2 * election_ticks)
  // without hearing from a leader (Raft §5.2).
  std::uint32_t election_ticks = 10;
  std::uint32_t heartbeat_ticks = 1;
  bool pre_vote = true;      // thesis §9.6
  bool check_quorum = true;  // a leader not hearing from a majority for election_ticks steps down
  // Lease reads: the leader answers reads locally for lease_ticks after a majority
  // acknowledged it. Must be below election_ticks - lease_drift_ticks (0 = disabled).
  std::uint32_t lease_ticks = 0;
  std::uint32_t lease_drift_ticks = 1;

  // Replication flow control: bytes of entries per AppendEntries and AppendEntries in
  // flight per follower (pipelining window).
  std::uint64_t max_append_bytes = 1 << 20;
  std::uint32_t max_inflight_appends = 64;

  std::uint64_t seed = 0;  // randomizes election timeouts (per node: mix in the id)

  // invalid_argument with a message naming the setting: heartbeat >= election timeout,
  // lease not shorter than the election timeout minus the drift margin, id in neither
  // list, duplicate ids, no voters, zero timeouts or window.
  Status validate() const;
};

}  // namespace raftor::raft
