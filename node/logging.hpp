// The node's logging, from its [log] settings: spdlog's default logger writes to stderr or
// a file, as text or as one JSON object per line ({"ts","level","node","msg"}, with the
// message escaped, for log shippers).
#pragma once

#include "raftor/node/node_config.hpp"
#include "raftor/storage/status.hpp"

namespace raftor::node {

// io_error if the log file cannot be opened; invalid_argument for an unknown level.
Status configure_logging(const NodeConfig& config);

}  // namespace raftor::node
