// The configuration of one raftor-node process: who it is, who its peers are, where its
// data lives, and how it is tuned. Read from a TOML file, flags and RAFTOR_* environment
// variables (config_overrides.hpp), checked by validate() (config_validation.hpp), then
// turned into the Raft actor's configuration. Times are in milliseconds here and in ticks
// inside Raft.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "raftor/actors/network/host_port.hpp"
#include "raftor/actors/raft/raft_actor.hpp"
#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace raftor::node {

using network::HostPort;
using network::parse_host_port;
using network::to_string;

// One voter of the cluster, as written "ID@HOST:PORT".
struct PeerAddress {
  NodeId id = 0;
  HostPort address;

  friend bool operator==(const PeerAddress&, const PeerAddress&) = default;
};

// "ID@HOST:PORT" with ID > 0.
Result<PeerAddress> parse_peer_address(std::string_view text);
std::string to_string(const PeerAddress& peer);

inline constexpr std::array<std::string_view, 2> kStateMachineKinds = {"rocksdb", "file"};
// spdlog's level names.
inline constexpr std::array<std::string_view, 7> kLogLevels = {
    "trace", "debug", "info", "warn", "error", "critical", "off"};

struct RaftSettings {
  std::uint32_t tick_ms = 10;
  std::uint32_t heartbeat_interval_ms = 50;
  std::uint32_t election_timeout_ms = 500;
  std::uint32_t lease_duration_ms = 0;  // 0 = lease reads off (reads go through ReadIndex)
  std::uint64_t max_append_bytes = 1 << 20;
  std::uint32_t max_inflight_appends = 64;
  // The leader promotes a learner to voter once its log is within this many entries of
  // its own (thesis §4.2.1); 0 = only by command (raftorctl member promote).
  std::uint64_t learner_promote_lag = 1000;

  friend bool operator==(const RaftSettings&, const RaftSettings&) = default;
};

struct SnapshotSettings {
  bool enabled = true;
  // Triggers (0 = that trigger off), as in snapshot::SnapshotPolicy.
  std::uint64_t entries_threshold = 10'000;
  std::uint64_t log_bytes_threshold = 64 << 20;
  std::uint64_t interval_ms = 3'600'000;
  std::uint32_t keep = 2;                   // snapshots kept on disk
  std::uint64_t retention_entries = 1000;  // log entries kept below the newest snapshot
  // Sending a snapshot to a lagging follower.
  std::uint64_t chunk_bytes = 1 << 20;
  std::uint64_t transfer_bytes_per_sec = 0;  // 0 = unlimited

  friend bool operator==(const SnapshotSettings&, const SnapshotSettings&) = default;
};

struct LogSettings {
  std::string level = "info";  // one of kLogLevels
  bool json = false;           // one JSON object per line instead of text
  std::filesystem::path file;  // empty = stderr

  friend bool operator==(const LogSettings&, const LogSettings&) = default;
};

struct NodeConfig {
  std::string cluster_id;  // required: peers refuse messages from other clusters
  NodeId id = 0;           // required; must be one of `peers`
  HostPort listen{"0.0.0.0", 7000};
  // Every voter, this node included: every node of a cluster gets the same list. A node
  // that joins a running cluster lists itself and the members it can reach first.
  std::vector<PeerAddress> peers;
  // Start as a learner of a running cluster instead of as one of its founding voters: the
  // other peers are the cluster's members as far as this node knows; the leader's log
  // tells it the real configuration once an operator added it (raftorctl member add).
  bool join = false;
  std::filesystem::path data_dir = "raftor-data";
  std::string state_machine = "rocksdb";  // one of kStateMachineKinds
  // The longest frame (peer message or client request) the node's port accepts; a longer
  // one closes its connection. Must fit a snapshot chunk and an AppendEntries batch.
  std::uint64_t max_frame_bytes = (64u << 20) + (1u << 20);
  RaftSettings raft;
  SnapshotSettings snapshot;
  LogSettings log;

  std::filesystem::path log_dir() const { return data_dir / "log"; }
  std::filesystem::path state_machine_dir() const { return data_dir / "state_machine"; }
  std::filesystem::path snapshot_dir() const { return data_dir / "snapshots"; }

  friend bool operator==(const NodeConfig&, const NodeConfig&) = default;
};

// Milliseconds become ticks rounded down (ms / tick_ms), so a lease never outlasts what was
// configured. The voters are the peers' ids; snapshots go to snapshot_dir(). Meant for a
// validated config, but never divides by zero.
RaftActorConfig to_raft_actor_config(const NodeConfig& config);

}  // namespace raftor::node
