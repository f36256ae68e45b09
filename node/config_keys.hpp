// Every configuration key in one table. The TOML file's keys, the command-line flags, the
// RAFTOR_<SECTION>_<KEY> environment variables and --help are all derived from it, so they
// cannot drift apart.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "raftor/node/node_config.hpp"
#include "raftor/storage/status.hpp"

namespace raftor::node {

// Where a key's value lives in a NodeConfig; which alternative it is gives the key's type.
using ConfigField = std::variant<std::uint64_t*, std::uint32_t*, bool*, std::string*,
                                 std::filesystem::path*, HostPort*, std::vector<PeerAddress>*>;

struct ConfigKey {
  std::string_view section;  // "raft"
  std::string_view name;     // "election_timeout_ms"
  std::string_view flag;     // "--raft-election-timeout-ms"
  std::string_view help;     // one line, for --help
  ConfigField (*field)(NodeConfig&);

  std::string path() const;      // "raft.election_timeout_ms", as in the file
  std::string env_name() const;  // "RAFTOR_RAFT_ELECTION_TIMEOUT_MS"
};

// In file order: cluster, node, raft, snapshot, log.
const std::vector<ConfigKey>& config_keys();
const ConfigKey* find_config_key(std::string_view section, std::string_view name);
bool is_config_section(std::string_view section);

// For messages: "an integer in [0, 4294967295]", "a boolean", ...
std::string expected_type(const ConfigKey& key);
// For --help: "N", "HOST:PORT", ...
std::string_view type_placeholder(const ConfigKey& key);
// The key's default as text.
std::string default_text(const ConfigKey& key);

// Sets the key from text: a flag's or an environment variable's value. Booleans are
// true/false/1/0/yes/no/on/off; peer lists are comma-separated. The error says what was
// expected; the caller adds where the text came from.
Status set_from_text(const ConfigKey& key, NodeConfig& config, std::string_view text);

}  // namespace raftor::node
