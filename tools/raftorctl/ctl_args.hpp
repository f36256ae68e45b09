// raftorctl's command line: what to run, against which endpoints, how to print it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raftor/actors/actor_messages.hpp"
#include "raftor/client/endpoint.hpp"
#include "raftor/storage/status.hpp"

namespace raftor::ctl {

// Exit codes (also listed in --help).
inline constexpr int kExitOk = 0;
inline constexpr int kExitNo = 1;      // get: the key does not exist; cas: it did not swap
inline constexpr int kExitUsage = 2;   // bad arguments
inline constexpr int kExitFailed = 3;  // the request failed: unreachable, no leader, an error

enum class Command {
  put, get, del, cas, status, leader, snapshot,
  member_list, member_add, member_promote, member_remove, transfer_leader,
};

struct Invocation {
  std::vector<client::Endpoint> endpoints;
  bool json = false;
  std::chrono::milliseconds timeout{5000};  // the deadline of each call
  Command command = Command::status;
  std::string key;
  std::string value;                      // put: the value; cas: the new value
  std::optional<std::string> expected;    // cas: nullopt with --expect-absent
  ReadConsistency consistency = ReadConsistency::linearizable;
  std::optional<NodeId> node;             // snapshot --node; member add/promote/remove;
                                          // transfer-leader's target (none: any voter)
  std::string address;                    // member add: HOST:PORT
};

// Either an invocation to run, or what to print and the exit code (help, usage errors).
struct ParsedCommandLine {
  std::optional<Invocation> invocation;
  int exit_code = kExitOk;
  std::string output;  // help (stdout) or a one-line usage error (stderr)
};

// `env_endpoints`: the value of RAFTOR_ENDPOINTS, used when --endpoints is not given.
ParsedCommandLine parse_command_line(int argc, const char* const* argv,
                                     std::optional<std::string> env_endpoints);

// "1@127.0.0.1:7001,2@127.0.0.1:7002" (IPv6 as "3@[::1]:7003").
Result<std::vector<client::Endpoint>> parse_endpoints(std::string_view text);

std::optional<ReadConsistency> parse_consistency(std::string_view text);
std::string_view to_string(ReadConsistency consistency);

}  // namespace raftor::ctl
