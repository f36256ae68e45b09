#include "raftor/actors/raft/core/read_index.hpp"

namespace raftor::raft {

void ReadTracker::reset() {
  context_ = 0;
  round_wanted_ = false;
  pending_.clear();
  before_commit_.clear();
  rounds_.clear();
}

std::uint64_t ReadTracker::new_round(std::uint64_t now, bool remember_tick) {
  ++context_;
  round_wanted_ = false;
  if (remember_tick) rounds_.emplace_back(context_, now);
  return context_;
}

std::optional<std::uint64_t> ReadTracker::round_tick(std::uint64_t context) const {
  // Acknowledgements are for recent rounds: search from the newest.
  for (auto it = rounds_.rbegin(); it != rounds_.rend(); ++it) {
    if (it->first == context) return it->second;
    if (it->first < context) break;
  }
  return std::nullopt;
}

void ReadTracker::prune_rounds(std::uint64_t now, std::uint64_t keep) {
  // Always keep the newest round: appends carry its context.
  while (rounds_.size() > 1 && now - rounds_.front().second >= keep) rounds_.pop_front();
}

void ReadTracker::add(std::uint64_t request_id, std::uint64_t read_index) {
  pending_.push_back({request_id, read_index, context_ + 1});
  round_wanted_ = true;
}

void ReadTracker::release(std::uint64_t confirmed, std::vector<ReadState>& out) {
  while (!pending_.empty() && pending_.front().context <= confirmed) {
    out.push_back({pending_.front().request_id, pending_.front().read_index});
    pending_.pop_front();
  }
}

void ReadTracker::fail_all(std::vector<std::uint64_t>& out) {
  for (std::uint64_t id : before_commit_) out.push_back(id);
  for (const Pending& p : pending_) out.push_back(p.request_id);
  before_commit_.clear();
  pending_.clear();
  round_wanted_ = false;
}

}  // namespace raftor::raft
