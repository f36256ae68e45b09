// Where a NodeConfig comes from, weakest first: the defaults in node_config.hpp, then the
// file named by --config, then command-line flags, then RAFTOR_<SECTION>_<KEY> environment
// variables (so a deployment can pin a value whatever the command line says). Every key has
// one flag and one variable; --help lists them all.
#pragma once

#include <map>
#include <string>
#include <variant>

#include "raftor/node/node_config.hpp"
#include "raftor/storage/status.hpp"

namespace raftor::node {

// --help was given: print `text` to stdout and exit 0.
struct HelpRequested {
  std::string text;
};

using LoadedNodeConfig = std::variant<NodeConfig, HelpRequested>;

// Not validated: call validate() (config_validation.hpp) next. Errors (invalid_argument,
// or io_error for an unreadable file) name the flag, variable or file key at fault; an
// unknown flag or RAFTOR_* variable is an error.
Result<LoadedNodeConfig> load_node_config(int argc, const char* const* argv,
                                          const std::map<std::string, std::string>& env);

// The process environment as load_node_config takes it (pass ::environ).
std::map<std::string, std::string> environment_map(const char* const* environ);

// The environment step alone, over `config`: every RAFTOR_* variable must name a key.
Status apply_environment(const std::map<std::string, std::string>& env, NodeConfig& config);

}  // namespace raftor::node
