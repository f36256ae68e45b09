#include "raftor/node/config_validation.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

namespace raftor::node {

namespace {

using Problems = std::vector<std::string>;
using std::to_string;

bool contains(const auto& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string list(const auto& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

void check_cluster(const NodeConfig& config, Problems& problems) {
  if (config.cluster_id.empty()) {
    problems.push_back("cluster.id is missing: name the cluster, the same on every node");
  }
  if (config.peers.empty()) {
    problems.push_back(
        "cluster.peers is empty: list every voter, this node included, as ID@HOST:PORT");
  }
  std::map<NodeId, int> times_listed;
  std::map<std::string, NodeId> node_at;  // "host:port" -> the first node listed there
  for (const PeerAddress& peer : config.peers) {
    if (++times_listed[peer.id] == 2) {
      problems.push_back("cluster.peers lists node " + to_string(peer.id) + " more than once");
    }
    const std::string address = node::to_string(peer.address);
    if (auto [it, first] = node_at.emplace(address, peer.id); !first) {
      problems.push_back("cluster.peers: nodes " + to_string(it->second) + " and " +
                         to_string(peer.id) + " both use " + address);
    }
  }
}

void check_this_node(const NodeConfig& config, Problems& problems) {
  if (config.id == 0) {
    problems.push_back("node.id is missing: set this node's id (0 is not a node id)");
    return;
  }
  auto self = std::find_if(config.peers.begin(), config.peers.end(),
                           [&](const PeerAddress& peer) { return peer.id == config.id; });
  if (self == config.peers.end()) {
    if (config.peers.empty()) return;  // already reported
    std::vector<std::string> ids;
    for (const PeerAddress& peer : config.peers) ids.push_back(to_string(peer.id));
    problems.push_back("node.id " + to_string(config.id) + " is not in cluster.peers (" +
                       list(ids) + "): the peers list must include this node");
    return;
  }
  if (config.join && config.peers.size() < 2) {
    problems.push_back("node.join is set but cluster.peers lists no member of the cluster to "
                       "join: add at least one as ID@HOST:PORT");
  }
  if (self->address.port != config.listen.port) {
    problems.push_back("node.listen port " + to_string(config.listen.port) +
                       " differs from this node's cluster.peers entry " +
                       node::to_string(*self) + ": peers would dial a port nobody listens on");
  }
}

// RaftConfig owns the lease rule (lease + drift < election, in ticks): ask it about the
// converted lease and election timeout alone, so it repeats nothing reported elsewhere.
void check_lease_rule(const NodeConfig& config, Problems& problems) {
  const raft::RaftConfig converted = to_raft_actor_config(config).raft;
  raft::RaftConfig lease_only;
  lease_only.id = 1;
  lease_only.voters = {1};
  lease_only.election_ticks = converted.election_ticks;
  lease_only.heartbeat_ticks = 1;
  lease_only.lease_ticks = converted.lease_ticks;
  lease_only.lease_drift_ticks = converted.lease_drift_ticks;
  if (auto status = lease_only.validate(); !status) {
    problems.push_back("raft.lease_duration_ms (" + to_string(config.raft.lease_duration_ms) +
                       ") is too long for raft.election_timeout_ms (" +
                       to_string(config.raft.election_timeout_ms) + ") at raft.tick_ms " +
                       to_string(config.raft.tick_ms) + ": " + status.error().message);
  }
}

void check_timing(const NodeConfig& config, Problems& problems) {
  const RaftSettings& raft = config.raft;
  const std::string tick = " (raft.tick_ms = " + to_string(raft.tick_ms) + ")";
  if (raft.heartbeat_interval_ms >= raft.election_timeout_ms) {
    problems.push_back("raft.heartbeat_interval_ms (" + to_string(raft.heartbeat_interval_ms) +
                       ") must be below raft.election_timeout_ms (" +
                       to_string(raft.election_timeout_ms) +
                       "), or followers time out between heartbeats");
  }
  if (raft.tick_ms == 0) {
    problems.push_back("raft.tick_ms must be > 0");
    return;  // the rules below are in ticks
  }
  if (raft.heartbeat_interval_ms < raft.tick_ms) {
    problems.push_back("raft.heartbeat_interval_ms (" + to_string(raft.heartbeat_interval_ms) +
                       ") is shorter than one tick" + tick);
  }
  const bool election_ok = raft.election_timeout_ms / raft.tick_ms >= 2;
  if (!election_ok) {
    problems.push_back("raft.election_timeout_ms (" + to_string(raft.election_timeout_ms) +
                       ") must be at least 2 ticks" + tick +
                       ": timeouts are randomized in whole ticks");
  }
  if (raft.lease_duration_ms > 0 && raft.lease_duration_ms < raft.tick_ms) {
    problems.push_back("raft.lease_duration_ms (" + to_string(raft.lease_duration_ms) +
                       ") is shorter than one tick" + tick + ": set 0 to turn lease reads off");
  } else if (raft.lease_duration_ms > 0 && election_ok) {
    check_lease_rule(config, problems);
  }
}

void check_raft_tuning(const NodeConfig& config, Problems& problems) {
  if (config.raft.max_append_bytes == 0) problems.push_back("raft.max_append_bytes must be > 0");
  if (config.raft.max_inflight_appends == 0) {
    problems.push_back("raft.max_inflight_appends must be > 0 (the replication window)");
  }
}

void check_snapshot(const NodeConfig& config, Problems& problems) {
  constexpr std::uint64_t kMaxChunkBytes = 64 << 20;
  if (config.snapshot.keep == 0) {
    problems.push_back("snapshot.keep must be >= 1: the newest snapshot is what the log "
                       "is purged against");
  }
  if (config.snapshot.chunk_bytes == 0 || config.snapshot.chunk_bytes > kMaxChunkBytes) {
    problems.push_back("snapshot.chunk_bytes (" + to_string(config.snapshot.chunk_bytes) +
                       ") must be between 1 and " + to_string(kMaxChunkBytes) + " (64 MiB)");
  }
}

// A peer frame carries a snapshot chunk or an AppendEntries batch in an envelope (metadata,
// membership, per-entry fields): the frame limit must leave room for that envelope.
void check_frame_limit(const NodeConfig& config, Problems& problems) {
  constexpr std::uint64_t kEnvelopeBytes = 64 << 10;
  constexpr std::uint64_t kMaxFrameBytes = 1u << 30;
  const std::uint64_t needed =
      std::max(config.snapshot.chunk_bytes, config.raft.max_append_bytes) + kEnvelopeBytes;
  if (config.max_frame_bytes < needed || config.max_frame_bytes > kMaxFrameBytes) {
    problems.push_back("node.max_frame_bytes (" + to_string(config.max_frame_bytes) +
                       ") must be between " + to_string(needed) +
                       " (the larger of snapshot.chunk_bytes and raft.max_append_bytes, plus "
                       "64 KiB of envelope) and " + to_string(kMaxFrameBytes) + " (1 GiB)");
  }
}

void check_names(const NodeConfig& config, Problems& problems) {
  if (!contains(kStateMachineKinds, config.state_machine)) {
    problems.push_back("node.state_machine '" + config.state_machine + "' is unknown (" +
                       list(kStateMachineKinds) + ")");
  }
  if (!contains(kLogLevels, config.log.level)) {
    problems.push_back("log.level '" + config.log.level + "' is unknown (" + list(kLogLevels) +
                       ")");
  }
}

}  // namespace

std::vector<std::string> config_problems(const NodeConfig& config) {
  Problems problems;
  check_cluster(config, problems);
  check_this_node(config, problems);
  check_timing(config, problems);
  check_raft_tuning(config, problems);
  check_snapshot(config, problems);
  check_frame_limit(config, problems);
  check_names(config, problems);
  if (problems.empty()) {
    // A backstop: whatever else the Raft core refuses.
    if (auto raft = to_raft_actor_config(config).raft.validate(); !raft) {
      problems.push_back(raft.error().message);
    }
  }
  return problems;
}

std::optional<std::string> data_dir_problem(const std::filesystem::path& data_dir) {
  namespace fs = std::filesystem;
  const std::string name = "node.data_dir '" + data_dir.string() + "'";
  if (data_dir.empty()) return "node.data_dir is empty";
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return name + " cannot be created: " + ec.message();
  if (!fs::is_directory(data_dir, ec)) return name + " is not a directory";

  const fs::path probe = data_dir / ".raftor-write-probe";
  {
    std::ofstream out(probe, std::ios::binary | std::ios::trunc);
    out << "raftor";
    out.flush();
    if (!out) return name + " is not writable: " + std::strerror(errno);
  }
  if (!fs::remove(probe, ec) || ec) {
    return name + ": cannot remove the probe file " + probe.string() + ": " + ec.message();
  }
  return std::nullopt;
}

Status validate(const NodeConfig& config) {
  std::vector<std::string> problems = config_problems(config);
  if (auto dir = data_dir_problem(config.data_dir)) problems.push_back(std::move(*dir));
  if (problems.empty()) return {};
  std::string message = "invalid node configuration (" + to_string(problems.size()) +
                        (problems.size() == 1 ? " problem):" : " problems):");
  for (const std::string& problem : problems) message += "\n  " + problem;
  return make_error(ErrorCode::invalid_argument, message);
}

}  // namespace raftor::node
