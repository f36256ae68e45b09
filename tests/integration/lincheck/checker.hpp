// Linearizability of a KV history (history.hpp) against a per-key register model
// (register_model.hpp).
//
// A KV store is linearizable iff each key's register is (P-compositionality, Herlihy & Wing
// 1990; Horn & Kroening 2015), so each key is checked alone with Wing & Gong's backtracking
// search (1993) plus Lowe's memoization of (linearized set, model state) (2017), the design of
// Porcupine (github.com/anishathalye/porcupine); see key_search.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "raftor/tests/integration/lincheck/history.hpp"

namespace raftor::lincheck {

enum class Verdict { linearizable, not_linearizable, unknown };  // unknown: budget exhausted
std::string_view to_string(Verdict verdict);

struct CheckOptions {
  // Search states (steps to a node not known to fail) per key before giving up with
  // Verdict::unknown. Each failed node is cached with a bitset of the key's operations.
  std::size_t max_states_per_key = 1'000'000;
};

struct KeyResult {
  std::string key;
  Verdict verdict = Verdict::linearizable;
  std::size_t operations = 0;       // ok and unknown operations, without unknown reads
  std::size_t states_explored = 0;
  std::size_t unknown_writes_dropped = 0;  // see CheckStats
  std::string explanation;          // empty when linearizable
};

struct CheckStats {
  std::size_t operations = 0;       // all operations in the history
  std::size_t keys = 0;
  std::size_t failed_dropped = 0;   // "fail": never took effect
  std::size_t unknown_reads_dropped = 0;  // a get without a result constrains nothing
  std::size_t unknown_writes = 0;   // may or may not have taken effect
  std::size_t unknown_writes_dropped = 0;  // ... of a value nothing observes (shortcut)
  std::size_t states_explored = 0;
};

struct CheckResult {
  Verdict verdict = Verdict::linearizable;
  bool linearizable = true;
  std::vector<KeyResult> keys;      // sorted by key
  // The first key (in key order) that is not linearizable, else the first one that ran out of
  // budget; empty when linearizable.
  std::string failed_key;
  std::string explanation;
  CheckStats stats;
};

CheckResult check(const History& history, const CheckOptions& options = {});

}  // namespace raftor::lincheck
