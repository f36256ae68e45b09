// One key's operations as the search sees them: a register that holds a value or nothing,
// over interned values, plus sound simplifications that run before the search.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "raftor/tests/integration/lincheck/history.hpp"

namespace raftor::lincheck {

using ValueId = std::int32_t;  // index into the key's distinct values
inline constexpr ValueId kAbsent = -1;

struct RegisterOp {
  const Operation* source;
  ValueId value = kAbsent;     // put/cas: written; get: read
  ValueId expected = kAbsent;  // cas
  // The latest it can take effect: the source's return time, or earlier once tightened.
  std::int64_t return_time = kNeverReturned;
  bool known() const { return source->outcome == Outcome::ok; }
};

// Applies `op` to `state`; false when `op` cannot take effect in that state.
bool step(const RegisterOp& op, ValueId& state);

class KeyHistory {
 public:
  void add(const Operation& op);  // an ok or unknown operation ("fail" never took effect)

  const std::vector<RegisterOp>& ops() const { return ops_; }
  std::string name(ValueId value) const;  // "\"v1\"", "absent", ...

  // A read or successful cas requiring a value that nothing writes fits no order; returns an
  // explanation of the first such operation, or "".
  std::string find_read_of_unwritten_value() const;
  // Drops unknown writes that provably cannot matter; returns how many.
  std::size_t drop_unobserved_unknown_writes();
  // Gives all written values that no operation observes one ValueId, so states that no
  // operation can tell apart share cache entries.
  void merge_unobserved_values();
  // An unknown write that is the only writer of a value some known operation observes must
  // have taken effect before that observer returned: gives it that return time.
  void bound_unknown_writes_of_observed_values();
  // The never-returning unknown writes, grouped by effect (puts of one value, deletes, cas
  // with the same expected and new value), each group in call-time order. The search takes
  // each group's members in that order only (see key_search.cpp).
  std::vector<std::vector<std::size_t>> interchangeable_unknown_writes() const;

 private:
  ValueId intern(const std::optional<std::string>& value);
  std::vector<bool> observed_values() const;  // indexed by slot(ValueId)

  std::vector<RegisterOp> ops_;
  std::vector<std::string> value_names_;  // ValueId -> value
  std::unordered_map<std::string, ValueId> value_ids_;
  std::optional<ValueId> unobserved_;  // the merged value, once merge_unobserved_values ran
};

}  // namespace raftor::lincheck
