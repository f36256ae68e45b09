#include "raftor/tests/integration/lincheck/register_model.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace raftor::lincheck {
namespace {

std::size_t slot(ValueId v) { return static_cast<std::size_t>(v + 1); }  // kAbsent -> 0

// The value `op` leaves in the register if it takes effect and writes, or nullopt.
std::optional<ValueId> written_value(const RegisterOp& op) {
  switch (op.source->kind) {
    case OpKind::put: return op.value;
    case OpKind::del: return kAbsent;
    case OpKind::cas:
      if (!op.known() || op.source->succeeded) return op.value;
      return std::nullopt;
    case OpKind::get: return std::nullopt;
  }
  return std::nullopt;
}

// The value `op` requires the register to hold (a read, a successful cas), or nullopt.
std::optional<ValueId> required_value(const RegisterOp& op) {
  if (op.source->kind == OpKind::get) return op.value;
  if (op.source->kind == OpKind::cas && op.known() && op.source->succeeded) return op.expected;
  return std::nullopt;
}

bool is_failed_cas(const RegisterOp& op) {
  return op.source->kind == OpKind::cas && op.known() && !op.source->succeeded;
}

}  // namespace

bool step(const RegisterOp& op, ValueId& state) {
  switch (op.source->kind) {
    case OpKind::put: state = op.value; return true;
    case OpKind::del: state = kAbsent; return true;
    case OpKind::get: return state == op.value;  // only gets with a result get here
    case OpKind::cas: {
      const bool matches = state == op.expected;
      // An unknown cas succeeds or fails as the state dictates: either way it is legal.
      if (!op.known() || op.source->succeeded) {
        if (matches) state = op.value;
        return matches || !op.known();
      }
      return !matches;  // a failed cas saw another value and changed nothing
    }
  }
  return false;
}

void KeyHistory::add(const Operation& op) {
  const ValueId value = intern(op.value);  // sequenced: value ids follow first appearance
  ops_.push_back({&op, value, intern(op.expected), op.return_time});
}

ValueId KeyHistory::intern(const std::optional<std::string>& value) {
  if (!value) return kAbsent;
  auto [it, inserted] = value_ids_.try_emplace(*value, static_cast<ValueId>(value_names_.size()));
  if (inserted) value_names_.push_back(*value);
  return it->second;
}

std::string KeyHistory::name(ValueId value) const {
  if (value == kAbsent) return "absent";
  if (value == unobserved_) return "a value no operation reads";
  return "\"" + value_names_[static_cast<std::size_t>(value)] + "\"";
}

std::vector<bool> KeyHistory::observed_values() const {
  std::vector<bool> observed(value_names_.size() + 1);
  for (const RegisterOp& op : ops_) {
    if (op.source->kind == OpKind::get) observed[slot(op.value)] = true;
    if (op.source->kind == OpKind::cas) observed[slot(op.expected)] = true;  // even if failed
  }
  return observed;
}

std::string KeyHistory::find_read_of_unwritten_value() const {
  std::vector<bool> written(value_names_.size() + 1);
  written[slot(kAbsent)] = true;  // the initial state
  for (const RegisterOp& op : ops_)
    if (auto v = written_value(op)) written[slot(*v)] = true;
  for (const RegisterOp& op : ops_)
    if (auto v = required_value(op); v && !written[slot(*v)])
      return describe(*op.source) + " requires the value " + name(*v) +
             ", which no operation on this key writes";
  return {};
}

// An unknown write of a value nothing observes (no read of it, no cas expecting it) can only
// matter by making a failed cas legal. Without failed cas on the key, take any linearization
// and remove the write: between it and the next write there can be no get and no known cas,
// and unknown cas there can move to the end. Dropping such writes matters because an unknown
// write never returns, so it would otherwise stay a candidate for the rest of the search.
std::size_t KeyHistory::drop_unobserved_unknown_writes() {
  if (std::any_of(ops_.begin(), ops_.end(), is_failed_cas)) return 0;
  const std::vector<bool> observed = observed_values();
  return std::erase_if(ops_, [&](const RegisterOp& op) {
    auto v = written_value(op);
    return !op.known() && v && !observed[slot(*v)];
  });
}

// Sound because no get reads and no cas compares against any of these values: every
// operation treats them alike.
void KeyHistory::merge_unobserved_values() {
  const std::vector<bool> observed = observed_values();
  for (RegisterOp& op : ops_) {
    auto v = written_value(op);
    if (!v || *v == kAbsent || observed[slot(*v)]) continue;
    if (!unobserved_) {
      unobserved_ = static_cast<ValueId>(value_names_.size());
      value_names_.emplace_back();
    }
    op.value = *unobserved_;
  }
}

void KeyHistory::bound_unknown_writes_of_observed_values() {
  std::vector<int> writers(value_names_.size() + 1);
  std::vector<std::int64_t> first_return(value_names_.size() + 1, kNeverReturned);
  for (const RegisterOp& op : ops_) {
    if (auto v = written_value(op)) ++writers[slot(*v)];
    if (auto v = required_value(op); v && op.known())
      first_return[slot(*v)] = std::min(first_return[slot(*v)], op.return_time);
  }
  for (RegisterOp& op : ops_) {
    auto v = written_value(op);
    if (op.known() || !v || *v == kAbsent || writers[slot(*v)] != 1) continue;
    // An observer returning before the write's call is a violation the search will find.
    if (first_return[slot(*v)] >= op.source->call_time)
      op.return_time = std::min(op.return_time, first_return[slot(*v)]);
  }
}

std::vector<std::vector<std::size_t>> KeyHistory::interchangeable_unknown_writes() const {
  // Same transition function: kind, expected (cas), value after (put, cas).
  using Effect = std::tuple<OpKind, ValueId, ValueId>;
  std::map<Effect, std::vector<std::size_t>> by_effect;
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    const RegisterOp& op = ops_[i];
    const OpKind kind = op.source->kind;
    if (op.known() || op.return_time != kNeverReturned || kind == OpKind::get) continue;
    by_effect[{kind, kind == OpKind::cas ? op.expected : kAbsent,
               kind == OpKind::del ? kAbsent : op.value}]
        .push_back(i);
  }
  std::vector<std::vector<std::size_t>> groups;
  for (auto& [effect, group] : by_effect) {
    std::stable_sort(group.begin(), group.end(), [&](std::size_t a, std::size_t b) {
      return ops_[a].source->call_time < ops_[b].source->call_time;
    });
    groups.push_back(std::move(group));
  }
  return groups;
}

}  // namespace raftor::lincheck
