#include "raftor/node/config_keys.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <type_traits>

namespace raftor::node {

namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};

// The accessor of one NodeConfig member, as the table's function pointer.
#define RAFTOR_FIELD(member) [](NodeConfig& c) -> ConfigField { return &c.member; }

const std::vector<ConfigKey> kKeys = {
    {"cluster", "id", "--cluster-id", "cluster name; the same on every node (required)",
     RAFTOR_FIELD(cluster_id)},
    {"cluster", "peers", "--peer",
     "every voter, this node included, as ID@HOST:PORT; repeat or comma-separate (required)",
     RAFTOR_FIELD(peers)},
    {"node", "id", "--id", "this node's id, one of the peers' ids (required)", RAFTOR_FIELD(id)},
    {"node", "join", "--join",
     "start as a learner joining a running cluster (then: raftorctl member add ID HOST:PORT)",
     RAFTOR_FIELD(join)},
    {"node", "listen", "--listen",
     "address to accept peers on; its port must be this node's port in the peers list",
     RAFTOR_FIELD(listen)},
    {"node", "data_dir", "--data-dir",
     "directory for the log, the state machine and snapshots (created if missing)",
     RAFTOR_FIELD(data_dir)},
    {"node", "state_machine", "--state-machine", "built-in state machine: rocksdb or file",
     RAFTOR_FIELD(state_machine)},
    {"node", "max_frame_bytes", "--max-frame-bytes",
     "longest message accepted on the port; above snapshot.chunk_bytes and raft.max_append_bytes",
     RAFTOR_FIELD(max_frame_bytes)},
    {"raft", "tick_ms", "--raft-tick-ms", "Raft clock period; other durations round down to it",
     RAFTOR_FIELD(raft.tick_ms)},
    {"raft", "heartbeat_interval_ms", "--raft-heartbeat-interval-ms",
     "leader heartbeat period; below the election timeout", RAFTOR_FIELD(raft.heartbeat_interval_ms)},
    {"raft", "election_timeout_ms", "--raft-election-timeout-ms",
     "follower silence before it campaigns (randomized up to twice this); >= 2 ticks",
     RAFTOR_FIELD(raft.election_timeout_ms)},
    {"raft", "lease_duration_ms", "--raft-lease-duration-ms",
     "leader lease for local reads, shorter than the election timeout by a tick; 0 = off",
     RAFTOR_FIELD(raft.lease_duration_ms)},
    {"raft", "max_append_bytes", "--raft-max-append-bytes",
     "entry bytes per AppendEntries message", RAFTOR_FIELD(raft.max_append_bytes)},
    {"raft", "max_inflight_appends", "--raft-max-inflight-appends",
     "AppendEntries in flight per follower (pipelining window)",
     RAFTOR_FIELD(raft.max_inflight_appends)},
    {"raft", "learner_promote_lag", "--raft-learner-promote-lag",
     "promote a learner once within this many entries of the leader; 0 = only by command",
     RAFTOR_FIELD(raft.learner_promote_lag)},
    {"snapshot", "enabled", "--snapshot-enabled",
     "take snapshots and purge the log below them; off = the log grows without bound",
     RAFTOR_FIELD(snapshot.enabled)},
    {"snapshot", "entries_threshold", "--snapshot-entries-threshold",
     "snapshot after this many applied entries; 0 = trigger off",
     RAFTOR_FIELD(snapshot.entries_threshold)},
    {"snapshot", "log_bytes_threshold", "--snapshot-log-bytes-threshold",
     "snapshot after this many committed payload bytes; 0 = trigger off",
     RAFTOR_FIELD(snapshot.log_bytes_threshold)},
    {"snapshot", "interval_ms", "--snapshot-interval-ms",
     "snapshot this long after the last one, if anything was applied; 0 = trigger off",
     RAFTOR_FIELD(snapshot.interval_ms)},
    {"snapshot", "keep", "--snapshot-keep", "snapshots kept on disk; >= 1",
     RAFTOR_FIELD(snapshot.keep)},
    {"snapshot", "retention_entries", "--snapshot-retention-entries",
     "log entries kept below the newest snapshot, so slow followers catch up from the log",
     RAFTOR_FIELD(snapshot.retention_entries)},
    {"snapshot", "chunk_bytes", "--snapshot-chunk-bytes",
     "chunk size when sending a snapshot to a follower; 1 byte to 64 MiB",
     RAFTOR_FIELD(snapshot.chunk_bytes)},
    {"snapshot", "transfer_bytes_per_sec", "--snapshot-transfer-bytes-per-sec",
     "bandwidth limit for sending snapshots; 0 = unlimited",
     RAFTOR_FIELD(snapshot.transfer_bytes_per_sec)},
    {"log", "level", "--log-level", "trace, debug, info, warn, error, critical or off",
     RAFTOR_FIELD(log.level)},
    {"log", "json", "--log-json", "one JSON object per line instead of text",
     RAFTOR_FIELD(log.json)},
    {"log", "file", "--log-file", "log to this file; empty = stderr", RAFTOR_FIELD(log.file)},
};

#undef RAFTOR_FIELD

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Error expected(const ConfigKey& key, std::string_view text) {
  return make_error(ErrorCode::invalid_argument,
                    "expected " + expected_type(key) + ", got '" + std::string(text) + "'");
}

template <class Int>
bool parse_unsigned(std::string_view text, Int& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

bool parse_bool(std::string_view text, bool& out) {
  const std::string word = upper(text);
  if (word == "TRUE" || word == "1" || word == "YES" || word == "ON") {
    out = true;
  } else if (word == "FALSE" || word == "0" || word == "NO" || word == "OFF") {
    out = false;
  } else {
    return false;
  }
  return true;
}

Result<std::vector<PeerAddress>> parse_peer_list(std::string_view text) {
  std::vector<PeerAddress> peers;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      auto peer = parse_peer_address(item);
      if (!peer) return peer.error();
      peers.push_back(std::move(*peer));
    }
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return peers;
}

}  // namespace

std::string ConfigKey::path() const { return std::string(section) + "." + std::string(name); }

std::string ConfigKey::env_name() const {
  return "RAFTOR_" + upper(section) + "_" + upper(name);
}

const std::vector<ConfigKey>& config_keys() { return kKeys; }

const ConfigKey* find_config_key(std::string_view section, std::string_view name) {
  auto it = std::find_if(kKeys.begin(), kKeys.end(), [&](const ConfigKey& key) {
    return key.section == section && key.name == name;
  });
  return it == kKeys.end() ? nullptr : &*it;
}

bool is_config_section(std::string_view section) {
  return std::any_of(kKeys.begin(), kKeys.end(),
                     [&](const ConfigKey& key) { return key.section == section; });
}

std::string expected_type(const ConfigKey& key) {
  NodeConfig scratch;
  return std::visit(
      Overloaded{
          [](std::uint64_t*) -> std::string { return "a non-negative integer"; },
          [](std::uint32_t*) -> std::string {
            return "an integer in [0, " +
                   std::to_string(std::numeric_limits<std::uint32_t>::max()) + "]";
          },
          [](bool*) -> std::string { return "a boolean"; },
          [](std::string*) -> std::string { return "a string"; },
          [](std::filesystem::path*) -> std::string { return "a string (a path)"; },
          [](HostPort*) -> std::string { return "a string \"HOST:PORT\""; },
          [](std::vector<PeerAddress>*) -> std::string {
            return "an array of strings \"ID@HOST:PORT\"";
          },
      },
      key.field(scratch));
}

std::string_view type_placeholder(const ConfigKey& key) {
  NodeConfig scratch;
  return std::visit(Overloaded{
                        [](std::uint64_t*) -> std::string_view { return "N"; },
                        [](std::uint32_t*) -> std::string_view { return "N"; },
                        [](bool*) -> std::string_view { return "BOOL"; },
                        [](std::string*) -> std::string_view { return "TEXT"; },
                        [](std::filesystem::path*) -> std::string_view { return "PATH"; },
                        [](HostPort*) -> std::string_view { return "HOST:PORT"; },
                        [](std::vector<PeerAddress>*) -> std::string_view {
                          return "ID@HOST:PORT";
                        },
                    },
                    key.field(scratch));
}

std::string default_text(const ConfigKey& key) {
  NodeConfig defaults;
  return std::visit(Overloaded{
                        [](std::uint64_t* v) { return std::to_string(*v); },
                        [](std::uint32_t* v) { return std::to_string(*v); },
                        [](bool* v) { return std::string(*v ? "true" : "false"); },
                        [](std::string* v) { return *v; },
                        [](std::filesystem::path* v) { return v->string(); },
                        [](HostPort* v) { return to_string(*v); },
                        [](std::vector<PeerAddress>* v) {
                          std::string out;
                          for (const PeerAddress& peer : *v) {
                            out += (out.empty() ? "" : ",") + to_string(peer);
                          }
                          return out;
                        },
                    },
                    key.field(defaults));
}

Status set_from_text(const ConfigKey& key, NodeConfig& config, std::string_view text) {
  return std::visit(
      Overloaded{
          [&](auto* number) -> Status {
            using Int = std::remove_pointer_t<decltype(number)>;
            static_assert(std::is_unsigned_v<Int>);
            Int value{};
            if (!parse_unsigned(text, value)) return expected(key, text);
            *number = value;
            return {};
          },
          [&](bool* flag) -> Status {
            if (!parse_bool(text, *flag)) return expected(key, text);
            return {};
          },
          [&](std::string* value) -> Status {
            *value = std::string(text);
            return {};
          },
          [&](std::filesystem::path* value) -> Status {
            *value = std::filesystem::path(std::string(text));
            return {};
          },
          [&](HostPort* value) -> Status {
            auto parsed = parse_host_port(text);
            if (!parsed) return parsed.error();
            *value = std::move(*parsed);
            return {};
          },
          [&](std::vector<PeerAddress>* value) -> Status {
            auto parsed = parse_peer_list(text);
            if (!parsed) return parsed.error();
            *value = std::move(*parsed);
            return {};
          },
      },
      key.field(config));
}

}  // namespace raftor::node
