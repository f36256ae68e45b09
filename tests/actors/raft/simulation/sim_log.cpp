#include "sim_log.hpp"

namespace raftor::sim {

Status SimLog::append(std::span<const Entry> entries) {
  Status s = log_.append(entries);
  if (s.ok()) journal_.push_back(Append{{entries.begin(), entries.end()}});
  return s;
}

Status SimLog::truncate_suffix(std::uint64_t from) {
  Status s = log_.truncate_suffix(from);
  if (s.ok()) journal_.push_back(Truncate{from});
  return s;
}

Status SimLog::purge_prefix(LogId upto) {
  Status s = log_.purge_prefix(upto);
  if (s.ok()) journal_.push_back(Purge{upto});
  return s;
}

Status SimLog::save_hard_state(const HardState& state) {
  Status s = log_.save_hard_state(state);
  if (s.ok()) journal_.push_back(state);
  return s;
}

Status SimLog::sync() {
  journal_.clear();
  return log_.sync();
}

void SimLog::crash(std::size_t keep) {
  log_.crash();
  if (keep > journal_.size()) keep = journal_.size();
  // Replaying cannot fail: each write succeeded on exactly this state before.
  for (std::size_t i = 0; i < keep; ++i) {
    std::visit(
        [&](const auto& w) {
          using T = std::decay_t<decltype(w)>;
          if constexpr (std::is_same_v<T, Append>) {
            (void)log_.append(w.entries);
          } else if constexpr (std::is_same_v<T, Truncate>) {
            (void)log_.truncate_suffix(w.from);
          } else if constexpr (std::is_same_v<T, Purge>) {
            (void)log_.purge_prefix(w.upto);
          } else {
            (void)log_.save_hard_state(w);
          }
        },
        journal_[i]);
  }
  (void)log_.sync();  // what survived the crash is what the restarted node finds on disk
  journal_.clear();
}

MemoryRaftLog SimLog::durable() const {
  MemoryRaftLog copy = log_;
  copy.crash();
  return copy;
}

}  // namespace raftor::sim
