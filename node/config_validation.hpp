// Checks a loaded NodeConfig before the node starts, and reports every problem at once:
// fixing a config one error per restart is slow.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "raftor/node/node_config.hpp"
#include "raftor/storage/status.hpp"

namespace raftor::node {

// invalid_argument with every problem on its own line, or ok. Creates the data directory
// and writes and removes a probe file in it: the only sure test that the node can write
// there.
Status validate(const NodeConfig& config);

// The checks that need no disk, one message each, in key order.
std::vector<std::string> config_problems(const NodeConfig& config);

// Why the node cannot write in `data_dir` (after creating it), if it cannot.
std::optional<std::string> data_dir_problem(const std::filesystem::path& data_dir);

}  // namespace raftor::node
