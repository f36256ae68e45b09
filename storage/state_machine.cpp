#include "raftor/storage/state_machine.hpp"

namespace raftor {

Result<std::vector<std::optional<std::string>>> StateMachine::get_multi(
    std::span<const std::string> keys) const {
  std::vector<std::optional<std::string>> out;
  out.reserve(keys.size());
  for (const auto& key : keys) {
    auto value = get(key);
    if (!value) return value.error();
    out.push_back(std::move(*value));
  }
  return out;
}

std::optional<std::uint64_t> StateMachine::entry_term(std::uint64_t index) const {
  if (const LogId applied = last_applied(); applied.index == index && index != 0) {
    return applied.term;
  }
  if (auto meta = snapshot_metadata(); meta && meta->last_included.index == index) {
    return meta->last_included.term;
  }
  return std::nullopt;
}

void StateMachine::flush_async(FlushDone done) { done(flush()); }

}  // namespace raftor
