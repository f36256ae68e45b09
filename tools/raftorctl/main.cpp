// raftorctl: a command-line client of a raftor cluster. See `raftorctl --help`.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "raftor/tools/raftorctl/ctl_args.hpp"
#include "raftor/tools/raftorctl/ctl_commands.hpp"

int main(int argc, char** argv) {
  using namespace raftor;
  std::optional<std::string> env_endpoints;
  if (const char* env = std::getenv("RAFTOR_ENDPOINTS")) env_endpoints = env;
  auto parsed = ctl::parse_command_line(argc, argv, env_endpoints);
  if (!parsed.invocation) {
    (parsed.exit_code == ctl::kExitOk ? std::cout : std::cerr) << parsed.output
        << (parsed.output.ends_with('\n') ? "" : "\n");
    return parsed.exit_code;
  }
  const auto& invocation = *parsed.invocation;
  client::Client client(invocation.endpoints, ctl::client_options(invocation));
  return ctl::run(invocation, client, std::cout, std::cerr);
}
