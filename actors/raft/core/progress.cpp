#include "raftor/actors/raft/core/progress.hpp"

#include <algorithm>
#include <functional>

namespace raftor::raft {

void Inflights::add(std::uint64_t last_index) {
  if (full()) return;  // callers check can_send(); never overwrite
  buffer_[(start_ + count_) % buffer_.size()] = last_index;
  ++count_;
}

void Inflights::free_up_to(std::uint64_t index) {
  while (count_ > 0 && buffer_[start_] <= index) {
    start_ = (start_ + 1) % buffer_.size();
    --count_;
  }
  if (count_ == 0) start_ = 0;
}

void Progress::reset(std::uint64_t next_index) {
  state = State::probe;
  pending_snapshot = 0;
  match = 0;
  next = next_index;
  probe_sent = false;
  inflight.reset();
  regressions = 0;
  recent_active = false;
  commit_sent = 0;
  acked_context = 0;
  acked_tick = 0;
}

bool Progress::on_success(std::uint64_t match_index) {
  regressions = 0;
  bool advanced = match_index > match;
  if (advanced) match = match_index;
  next = std::max(next, match_index + 1);
  inflight.free_up_to(match_index);
  probe_sent = false;
  return advanced;
}

void Progress::become_probe(std::uint64_t next_index) {
  state = State::probe;
  pending_snapshot = 0;
  next = std::max(next_index, match + 1);
  probe_sent = false;
  inflight.reset();
}

void Progress::become_replicate() {
  state = State::replicate;
  pending_snapshot = 0;
  next = match + 1;
  probe_sent = false;
  inflight.reset();
}

void Progress::become_snapshot(std::uint64_t purged_index) {
  state = State::snapshot;
  pending_snapshot = purged_index;
  probe_sent = false;
  inflight.reset();
}

bool Progress::can_send() const {
  switch (state) {
    case State::probe: return !probe_sent;
    case State::replicate: return !inflight.full();
    case State::snapshot: return false;
  }
  return false;
}

void Progress::sent_entries(std::uint64_t last) {
  if (state == State::probe) {
    probe_sent = true;  // next stays: a probe does not advance it optimistically
  } else {
    next = last + 1;
    inflight.add(last);
  }
}

std::uint64_t quorum_value(std::span<std::uint64_t> values, std::size_t quorum) {
  if (values.empty() || quorum == 0 || quorum > values.size()) return 0;
  auto nth = values.begin() + static_cast<std::ptrdiff_t>(quorum - 1);
  std::nth_element(values.begin(), nth, values.end(), std::greater<>());
  return *nth;
}

}  // namespace raftor::raft
