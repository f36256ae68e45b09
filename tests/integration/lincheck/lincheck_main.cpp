// raftor-lincheck: checks a JSON-lines KV history (history.hpp) for linearizability.
// Exit status: 0 linearizable, 1 violation, 2 bad input/usage or budget exhausted.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "raftor/tests/integration/lincheck/checker.hpp"
#include "raftor/tests/integration/lincheck/history.hpp"

namespace {

using namespace raftor::lincheck;

constexpr int kLinearizable = 0, kViolation = 1, kNoVerdict = 2;

int usage() {
  std::cerr << "usage: raftor-lincheck [--json] [--max-states-per-key N] <history.jsonl>\n";
  return kNoVerdict;
}

nlohmann::json to_json(const CheckResult& result, double millis) {
  nlohmann::json keys = nlohmann::json::array();
  for (const KeyResult& key : result.keys)
    keys.push_back({{"key", key.key},
                    {"verdict", to_string(key.verdict)},
                    {"operations", key.operations},
                    {"states_explored", key.states_explored},
                    {"explanation", key.explanation}});
  nlohmann::json out = {{"linearizable", result.linearizable},
                        {"verdict", to_string(result.verdict)},
                        {"operations", result.stats.operations},
                        {"keys", result.stats.keys},
                        {"failed_dropped", result.stats.failed_dropped},
                        {"unknown_reads_dropped", result.stats.unknown_reads_dropped},
                        {"unknown_writes", result.stats.unknown_writes},
                        {"unknown_writes_dropped", result.stats.unknown_writes_dropped},
                        {"states_explored", result.stats.states_explored},
                        {"millis", millis},
                        {"per_key", std::move(keys)}};
  out["violation"] = result.linearizable ? nlohmann::json(nullptr)
                                         : nlohmann::json{{"key", result.failed_key},
                                                          {"explanation", result.explanation}};
  return out;
}

std::string summary(const CheckResult& result, double millis) {
  const std::string counts = std::to_string(result.stats.operations) + " ops, " +
                             std::to_string(result.stats.keys) + " keys";
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.1f ms", millis);
  const std::string details =
      " (" + std::to_string(result.stats.states_explored) + " states explored, " + elapsed + ")";
  switch (result.verdict) {
    case Verdict::linearizable: return "linearizable: " + counts + details;
    case Verdict::not_linearizable:
      return "NOT linearizable: key \"" + result.failed_key + "\": " + result.explanation;
    case Verdict::unknown:
      return "UNKNOWN: key \"" + result.failed_key + "\": " + result.explanation + "; " + counts;
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  CheckOptions options;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      json = true;
    } else if (arg == "--max-states-per-key" && i + 1 < argc) {
      char* end = nullptr;
      options.max_states_per_key = std::strtoull(argv[++i], &end, 10);
      if (*end != '\0' || options.max_states_per_key == 0) return usage();
    } else if (!arg.empty() && arg[0] == '-') {
      return usage();
    } else if (path.empty()) {
      path = arg;
    } else {
      return usage();
    }
  }
  if (path.empty()) return usage();

  ParseResult parsed = parse_history_file(path);
  if (!parsed.ok()) {
    if (json)
      std::cout << nlohmann::json{{"verdict", "error"}, {"error", parsed.error}}.dump() << "\n";
    else
      std::cerr << "bad input: " << parsed.error << "\n";
    return kNoVerdict;
  }

  const auto start = std::chrono::steady_clock::now();
  const CheckResult result = check(parsed.history, options);
  const double millis =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  if (json)
    std::cout << to_json(result, millis).dump() << "\n";
  else
    std::cout << summary(result, millis) << "\n";
  switch (result.verdict) {
    case Verdict::linearizable: return kLinearizable;
    case Verdict::not_linearizable: return kViolation;
    case Verdict::unknown: return kNoVerdict;
  }
  return kNoVerdict;
}
