#include "bench_options.hpp"

#include "raftor/tools/raftorctl/ctl_args.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <map>
#include <unistd.h>

namespace raftor::bench {

const char* to_string(Operation op) {
  switch (op) {
    case Operation::put: return "put";
    case Operation::get: return "get";
    case Operation::lease_get: return "lease-get";
    case Operation::eventual_get: return "eventual-get";
    case Operation::cas: return "cas";
    case Operation::mix: return "mix";
  }
  return "?";
}

Result<std::variant<BenchOptions, HelpRequested>> parse_bench_options(int argc, char** argv) {
  BenchOptions o;
  std::string endpoints;
  std::string op = "put";
  double seconds = 5;
  long long timeout_ms = 2000, deadline_ms = 10000;
  CLI::App app{
      "raftor-bench: puts load on a raftor cluster and reports throughput and latency.\n"
      "Every client keeps one request in flight; --clients sets the concurrency."};
  app.add_option("--endpoints", endpoints, "ID@HOST:PORT,... (default: $RAFTOR_ENDPOINTS)");
  app.add_option("--clients", o.clients, "concurrent clients (requests in flight)")
      ->check(CLI::Range(1u, 4096u));
  app.add_option("--threads", o.threads,
                 "threads driving the clients (each client has a connection of its own)")
      ->check(CLI::Range(1u, 256u));
  app.add_option("--requests", o.requests, "total requests (default: run for --duration)");
  app.add_option("--duration", seconds, "seconds to run when --requests is not given");
  app.add_option("--op", op, "put | get (linearizable) | lease-get | eventual-get | cas | mix")
      ->check(CLI::IsMember({"put", "get", "lease-get", "eventual-get", "cas", "mix"}));
  app.add_option("--read-percent", o.read_percent, "mix: share of linearizable gets")
      ->check(CLI::Range(0u, 100u));
  app.add_option("--key-space", o.key_space, "distinct keys")->check(CLI::Range(1ull, 1ull << 40));
  app.add_option("--key-size", o.key_size, "bytes per key")->check(CLI::Range(8ul, 4096ul));
  app.add_option("--value-size", o.value_size, "bytes per value")->check(CLI::Range(1ul, 1ul << 24));
  app.add_flag("--sequential-keys", o.sequential_keys,
               "keys in order 0, 1, 2, ... across all clients (wrapping at --key-space), "
               "instead of random: --op put --sequential-keys --requests N fills N keys");
  app.add_option("--timeout-ms", timeout_ms, "per request to one node");
  app.add_option("--deadline-ms", deadline_ms, "per operation, leader discovery and retries included");
  app.add_option("--json", o.json_path, "write the results to this JSON file");
  app.add_option("--history", o.history_path,
                 "record every operation (JSON lines, for raftor-lincheck)");
  bool no_progress = false;
  app.add_flag("--no-progress", no_progress, "no progress line even on a terminal");
  app.add_flag("--quiet", o.quiet, "no summary on stdout");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return std::variant<BenchOptions, HelpRequested>(HelpRequested{app.help()});
  } catch (const CLI::ParseError& e) {
    return make_error(ErrorCode::invalid_argument, e.what());
  }
  if (endpoints.empty()) {
    if (const char* env = std::getenv("RAFTOR_ENDPOINTS")) endpoints = env;
  }
  if (endpoints.empty()) {
    return make_error(ErrorCode::invalid_argument, "no endpoints: --endpoints or RAFTOR_ENDPOINTS");
  }
  auto parsed = ctl::parse_endpoints(endpoints);  // the same syntax as raftorctl
  if (!parsed) return parsed.error();
  o.endpoints = std::move(parsed).value();
  if (o.threads > o.clients) {
    return make_error(ErrorCode::invalid_argument, "--threads must not exceed --clients");
  }
  static const std::map<std::string, Operation> ops = {
      {"put", Operation::put}, {"get", Operation::get}, {"lease-get", Operation::lease_get},
      {"eventual-get", Operation::eventual_get}, {"cas", Operation::cas}, {"mix", Operation::mix}};
  o.operation = ops.at(op);
  o.duration = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  o.request_timeout = std::chrono::milliseconds(timeout_ms);
  o.deadline = std::chrono::milliseconds(deadline_ms);
  o.progress = !no_progress && ::isatty(STDERR_FILENO);
  return std::variant<BenchOptions, HelpRequested>(std::move(o));
}

}  // namespace raftor::bench
