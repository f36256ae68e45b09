// Partitions the history by key and checks each key's register on its own.
#include "raftor/tests/integration/lincheck/checker.hpp"

#include <map>

#include "raftor/tests/integration/lincheck/key_search.hpp"
#include "raftor/tests/integration/lincheck/register_model.hpp"

namespace raftor::lincheck {
namespace {

KeyResult check_key(const std::string& name, KeyHistory& key, const CheckOptions& options) {
  KeyResult result;
  result.key = name;
  result.operations = key.ops().size();
  result.explanation = key.find_read_of_unwritten_value();
  if (!result.explanation.empty()) {
    result.verdict = Verdict::not_linearizable;
    return result;
  }
  result.unknown_writes_dropped = key.drop_unobserved_unknown_writes();
  key.merge_unobserved_values();
  key.bound_unknown_writes_of_observed_values();
  KeySearchResult search = search_key(key, options.max_states_per_key);
  result.verdict = search.verdict;
  result.states_explored = search.states_explored;
  result.explanation = std::move(search.explanation);
  if (result.verdict == Verdict::unknown)
    result.explanation = "unknown (budget exhausted): explored " +
                         std::to_string(options.max_states_per_key) + " states of " +
                         std::to_string(key.ops().size()) + " operations without a verdict";
  return result;
}

}  // namespace

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::linearizable: return "linearizable";
    case Verdict::not_linearizable: return "not linearizable";
    case Verdict::unknown: return "unknown";
  }
  return "?";
}

CheckResult check(const History& history, const CheckOptions& options) {
  CheckResult result;
  result.stats.operations = history.operations.size();

  std::map<std::string, KeyHistory> keys;
  for (const Operation& op : history.operations) {
    KeyHistory& key = keys[op.key];  // a key with only dropped operations still counts
    if (op.outcome == Outcome::fail) {
      ++result.stats.failed_dropped;
      continue;
    }
    if (op.outcome == Outcome::unknown) {
      if (op.kind == OpKind::get) {
        ++result.stats.unknown_reads_dropped;
        continue;
      }
      ++result.stats.unknown_writes;
    }
    key.add(op);
  }
  result.stats.keys = keys.size();

  for (auto& [name, key] : keys) {
    KeyResult key_result = check_key(name, key, options);
    result.stats.states_explored += key_result.states_explored;
    result.stats.unknown_writes_dropped += key_result.unknown_writes_dropped;
    const bool first_of_its_kind =
        key_result.verdict == Verdict::not_linearizable
            ? result.verdict != Verdict::not_linearizable
            : key_result.verdict == Verdict::unknown && result.verdict == Verdict::linearizable;
    if (first_of_its_kind) {
      result.verdict = key_result.verdict;
      result.failed_key = name;
      result.explanation = key_result.explanation;
    }
    result.keys.push_back(std::move(key_result));
  }
  result.linearizable = result.verdict == Verdict::linearizable;
  return result;
}

}  // namespace raftor::lincheck
