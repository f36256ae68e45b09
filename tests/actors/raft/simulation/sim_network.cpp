#include "sim_network.hpp"

namespace raftor::sim {

std::uint64_t SimNetwork::delay() {
  if (conditions_.long_delay_ppm != 0 && rng_.chance(conditions_.long_delay_ppm)) {
    return rng_.between(conditions_.max_delay, conditions_.long_delay_max);
  }
  return rng_.between(conditions_.min_delay, conditions_.max_delay);
}

void SimNetwork::send(raft::Message message, std::uint64_t now) {
  ++sent_;
  if (conditions_.drop_ppm != 0 && rng_.chance(conditions_.drop_ppm)) {
    ++dropped_;
    events_.message("drop(random)", std::move(message));
    return;
  }
  if (conditions_.duplicate_ppm != 0 && rng_.chance(conditions_.duplicate_ppm)) {
    enqueue(message, now + delay());
  }
  enqueue(std::move(message), now + delay());
}

void SimNetwork::requeue(raft::Message message, std::uint64_t at) {
  enqueue(std::move(message), at);
}

void SimNetwork::enqueue(raft::Message message, std::uint64_t at) {
  queue_.emplace(std::make_pair(at, seq_++), std::move(message));
}

std::vector<raft::Message> SimNetwork::take_due(std::uint64_t now) {
  std::vector<raft::Message> out;
  auto it = queue_.begin();
  for (; it != queue_.end() && it->first.first <= now; ++it) {
    if (blocked(it->second.from, it->second.to)) {
      ++dropped_;
      events_.message("drop(partition)", std::move(it->second));
      continue;
    }
    out.push_back(std::move(it->second));
  }
  queue_.erase(queue_.begin(), it);
  return out;
}

}  // namespace raftor::sim
