#include "raftor/storage/recent_entries.hpp"

#include <algorithm>

#include "raftor/storage/raft_log.hpp"

namespace raftor {

void RecentEntries::append(std::span<const Entry> entries) {
  if (max_bytes_ == 0 || entries.empty()) return;
  if (!entries_.empty() && entries.front().index != entries_.back().index + 1) clear();
  for (const Entry& e : entries) {
    bytes_ += cost(e);
    entries_.push_back(e);
  }
  evict();
}

void RecentEntries::truncate_from(std::uint64_t index) {
  while (!entries_.empty() && entries_.back().index >= index) {
    bytes_ -= cost(entries_.back());
    entries_.pop_back();
  }
}

void RecentEntries::purge_through(std::uint64_t index) {
  while (!entries_.empty() && entries_.front().index <= index) {
    bytes_ -= cost(entries_.front());
    entries_.pop_front();
  }
}

void RecentEntries::clear() {
  entries_.clear();
  bytes_ = 0;
}

void RecentEntries::evict() {
  while (bytes_ > max_bytes_ && !entries_.empty()) {
    bytes_ -= cost(entries_.front());
    entries_.pop_front();
  }
}

std::optional<std::vector<Entry>> RecentEntries::read(std::uint64_t lo, std::uint64_t hi,
                                                      std::uint64_t max_bytes) const {
  if (lo >= hi || entries_.empty() || lo < entries_.front().index ||
      hi > entries_.back().index + 1) {
    return std::nullopt;
  }
  std::vector<Entry> out;
  out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(hi - lo, 1024)));
  std::uint64_t bytes = 0;
  for (auto it = entries_.begin() + static_cast<std::ptrdiff_t>(lo - entries_.front().index);
       it != entries_.end() && it->index < hi; ++it) {
    const std::uint64_t size = it->payload.size();
    if (!fits_max_bytes(out.size(), bytes, size, max_bytes)) break;
    out.push_back(*it);
    bytes += size;
  }
  return out;
}

}  // namespace raftor
