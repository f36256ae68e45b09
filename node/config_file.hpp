// The TOML configuration file (its documented form: node/raftor-node.example.toml). Keys
// are grouped in the sections [cluster], [node], [raft], [snapshot] and [log]; a key the
// file leaves out keeps its value.
#pragma once

#include <filesystem>
#include <string_view>

#include "raftor/node/node_config.hpp"
#include "raftor/storage/status.hpp"

namespace raftor::node {

// Applies the file over `config`, all or nothing. Errors: io_error if it cannot be read;
// invalid_argument for a syntax error, an unknown key or a value of the wrong type, every
// problem on its own line, naming the key and the file.
Status apply_config_file(const std::filesystem::path& file, NodeConfig& config);

// The same for TOML text; `file_name` is what messages call it.
Status apply_config_text(std::string_view toml_text, std::string_view file_name,
                         NodeConfig& config);

}  // namespace raftor::node
