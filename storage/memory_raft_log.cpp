#include "raftor/storage/memory_raft_log.hpp"

#include <string>

namespace raftor {

namespace {
Error invalid(std::string message) { return make_error(ErrorCode::invalid_argument, std::move(message)); }
}  // namespace

LogId MemoryRaftLog::last_log_id() const {
  if (state_.entries.empty()) return state_.last_purged;
  return state_.entries.back().id();
}

std::optional<std::uint64_t> MemoryRaftLog::term_at(std::uint64_t index) const {
  if (index == state_.last_purged.index) return state_.last_purged.term;
  if (index < first_index() || index > last_index()) return std::nullopt;
  return state_.entries[index - first_index()].term;
}

Result<std::vector<Entry>> MemoryRaftLog::entries(std::uint64_t lo, std::uint64_t hi,
                                                  std::uint64_t max_bytes) const {
  if (lo > hi) {
    return invalid("entries: lo " + std::to_string(lo) + " > hi " + std::to_string(hi));
  }
  if (lo < first_index() || hi > last_index() + 1) {
    return make_error(ErrorCode::out_of_range,
                      "entries [" + std::to_string(lo) + ", " + std::to_string(hi) +
                          ") outside the log [" + std::to_string(first_index()) + ", " +
                          std::to_string(last_index()) + "]");
  }
  std::vector<Entry> out;
  std::uint64_t bytes = 0;
  for (std::uint64_t i = lo; i < hi; ++i) {
    const Entry& e = state_.entries[i - first_index()];
    if (!fits_max_bytes(out.size(), bytes, e.payload.size(), max_bytes)) break;
    bytes += e.payload.size();
    out.push_back(e);
  }
  return out;
}

Status MemoryRaftLog::append(std::span<const Entry> entries) {
  std::uint64_t expect = last_index() + 1;
  std::uint64_t term = last_log_id().term;
  for (const Entry& e : entries) {
    if (e.index != expect) {
      return invalid("append expected index " + std::to_string(expect) + ", got " +
                     std::to_string(e.index));
    }
    if (e.term < term) {
      return invalid("append of entry " + std::to_string(e.index) + " with term " +
                     std::to_string(e.term) + " below " + std::to_string(term));
    }
    ++expect;
    term = e.term;
  }
  state_.entries.insert(state_.entries.end(), entries.begin(), entries.end());
  dirty_ = true;
  return {};
}

Status MemoryRaftLog::truncate_suffix(std::uint64_t from) {
  if (from <= state_.last_purged.index) {
    return invalid("cannot truncate at " + std::to_string(from) + ": entries up to " +
                   std::to_string(state_.last_purged.index) + " are purged (committed)");
  }
  if (from > last_index() + 1) {
    return invalid("cannot truncate at " + std::to_string(from) + ": the log ends at " +
                   std::to_string(last_index()));
  }
  if (from > last_index()) return {};
  state_.entries.erase(state_.entries.begin() + static_cast<std::ptrdiff_t>(from - first_index()),
                       state_.entries.end());
  dirty_ = true;
  return {};
}

Status MemoryRaftLog::purge_prefix(LogId upto) {
  if (upto.index < state_.last_purged.index) {
    return invalid("purge to " + std::to_string(upto.index) + " is below the last purge " +
                   std::to_string(state_.last_purged.index));
  }
  if (auto term = term_at(upto.index); term && *term != upto.term) {
    return invalid("purge to " + std::to_string(upto.index) + " names term " +
                   std::to_string(upto.term) + " but the log has " + std::to_string(*term));
  }
  if (upto.index >= last_index()) {
    state_.entries.clear();
  } else {
    state_.entries.erase(state_.entries.begin(),
                         state_.entries.begin() +
                             static_cast<std::ptrdiff_t>(upto.index + 1 - first_index()));
  }
  state_.last_purged = upto;
  dirty_ = true;
  return {};
}

Status MemoryRaftLog::save_hard_state(const HardState& state) {
  state_.hard_state = state;
  dirty_ = true;
  return {};
}

Status MemoryRaftLog::sync() {
  if (dirty_) {
    durable_ = state_;
    dirty_ = false;
  }
  ++syncs_;
  return {};
}

void MemoryRaftLog::crash() {
  state_ = durable_;
  dirty_ = false;
}

}  // namespace raftor
