#include "raftor/actors/network/refusal_log.hpp"

#include <cctype>

namespace raftor::network {

std::string RefusalLog::reason_key(const std::string& reason) {
  std::string key;
  key.reserve(reason.size());
  for (char c : reason) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      if (key.empty() || key.back() != '#') key.push_back('#');
    } else {
      key.push_back(c);
    }
  }
  return key;
}

std::optional<std::uint64_t> RefusalLog::record(const std::string& sender,
                                                const std::string& reason, Clock::time_point now) {
  auto key = std::make_pair(sender, reason_key(reason));
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= kMaxEntries) entries_.clear();  // forget old ones: at worst, logs more
    entries_.emplace(std::move(key), Entry{now, 0});
    return 1;
  }
  Entry& entry = it->second;
  if (now - entry.last_logged < interval_) {
    ++entry.suppressed;
    return std::nullopt;
  }
  const std::uint64_t count = entry.suppressed + 1;
  entry = Entry{now, 0};
  return count;
}

}  // namespace raftor::network
