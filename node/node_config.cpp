#include "raftor/node/node_config.hpp"

#include <algorithm>
#include <charconv>

namespace raftor::node {

namespace {

Error bad_format(std::string_view expected, std::string_view text) {
  return make_error(ErrorCode::invalid_argument,
                    "expected " + std::string(expected) + ", got '" + std::string(text) + "'");
}

// The whole of `text` as a decimal number in [min, max].
bool parse_number(std::string_view text, std::uint64_t min, std::uint64_t max,
                  std::uint64_t& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end && out >= min && out <= max;
}

constexpr std::string_view kPeerFormat = "ID@HOST:PORT with ID > 0 and port 1-65535";

}  // namespace

Result<PeerAddress> parse_peer_address(std::string_view text) {
  const auto at = text.find('@');
  std::uint64_t id = 0;
  if (at == std::string_view::npos ||
      !parse_number(text.substr(0, at), 1, UINT64_MAX, id)) {
    return bad_format(kPeerFormat, text);
  }
  auto address = parse_host_port(text.substr(at + 1));
  if (!address) return bad_format(kPeerFormat, text);
  return PeerAddress{id, std::move(*address)};
}

std::string to_string(const PeerAddress& peer) {
  return std::to_string(peer.id) + "@" + to_string(peer.address);
}

RaftActorConfig to_raft_actor_config(const NodeConfig& config) {
  const std::uint32_t tick_ms = std::max<std::uint32_t>(config.raft.tick_ms, 1);
  RaftActorConfig out;
  out.tick_interval = std::chrono::milliseconds(tick_ms);

  raft::RaftConfig& raft = out.raft;
  raft.id = config.id;
  raft.voters.clear();
  raft.learners.clear();
  for (const PeerAddress& peer : config.peers) {
    // A joining node is a learner of its bootstrap configuration: it never campaigns, and
    // the configuration entries it receives replace this one (thesis §4.1).
    if (config.join && peer.id == config.id) {
      raft.learners.push_back(peer.id);
    } else {
      raft.voters.push_back(peer.id);
    }
    raft.addresses[peer.id] = to_string(peer.address);
  }
  if (config.raft.learner_promote_lag > 0) {
    raft.promote_learner_lag = config.raft.learner_promote_lag;
  }
  raft.election_ticks = config.raft.election_timeout_ms / tick_ms;
  raft.heartbeat_ticks = config.raft.heartbeat_interval_ms / tick_ms;
  raft.lease_ticks = config.raft.lease_duration_ms / tick_ms;
  raft.max_append_bytes = config.raft.max_append_bytes;
  raft.max_inflight_appends = config.raft.max_inflight_appends;

  SnapshotConfig& snapshot = out.snapshot;
  snapshot.enabled = config.snapshot.enabled;
  snapshot.dir = config.snapshot_dir();
  snapshot.policy.max_entries = config.snapshot.entries_threshold;
  snapshot.policy.max_log_bytes = config.snapshot.log_bytes_threshold;
  snapshot.policy.max_interval = std::chrono::milliseconds(config.snapshot.interval_ms);
  snapshot.keep = config.snapshot.keep;
  snapshot.retention = config.snapshot.retention_entries;
  return out;
}

}  // namespace raftor::node
