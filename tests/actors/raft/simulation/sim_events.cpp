#include "sim_events.hpp"

#include <iostream>
#include <type_traits>

#include "sim_random.hpp"

namespace raftor::sim {

namespace {
// The fields that shape a run; cheaper than hashing describe()'s text.
std::uint64_t hash_message(const raft::Message& m, std::uint64_t h) {
  h = fnv1a_u64(m.from, h);
  h = fnv1a_u64(m.to, h);
  h = fnv1a_u64(m.term, h);
  h = fnv1a_u64(m.body.index(), h);
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, raft::VoteRequest>) {
          h = fnv1a_u64(body.last_log.index, h);
          h = fnv1a_u64(body.last_log.term, h);
          h = fnv1a_u64(body.pre_vote, h);
        } else if constexpr (std::is_same_v<T, raft::VoteResponse>) {
          h = fnv1a_u64(body.granted, h);
          h = fnv1a_u64(body.pre_vote, h);
        } else if constexpr (std::is_same_v<T, raft::AppendRequest>) {
          h = fnv1a_u64(body.prev.index, h);
          h = fnv1a_u64(body.prev.term, h);
          h = fnv1a_u64(body.entries.size(), h);
          h = fnv1a_u64(body.commit, h);
          h = fnv1a_u64(body.read_context, h);
        } else if constexpr (std::is_same_v<T, raft::AppendResponse>) {
          h = fnv1a_u64(body.success, h);
          h = fnv1a_u64(body.match_index, h);
          h = fnv1a_u64(body.conflict_index, h);
          h = fnv1a_u64(body.read_context, h);
        } else if constexpr (std::is_same_v<T, raft::SnapshotRequest>) {
          h = fnv1a_u64(body.snapshot.last_included.index, h);
          h = fnv1a_u64(body.snapshot.last_included.term, h);
        }  // chunks never travel in the simulation
      },
      m.body);
  return h;
}
}  // namespace

EventLog::EventLog(std::size_t capacity, bool verbose)
    : capacity_(capacity == 0 ? 1 : capacity), verbose_(verbose) {
  ring_.reserve(capacity_);
}

void EventLog::note(std::string text) {
  fingerprint_ = fnv1a(text.data(), text.size(), fnv1a_u64(step_, fingerprint_));
  push(Event{step_, std::move(text), std::nullopt});
}

void EventLog::message(const char* verb, raft::Message message) {
  fingerprint_ = hash_message(message, fnv1a(verb, std::char_traits<char>::length(verb),
                                             fnv1a_u64(step_, fingerprint_)));
  push(Event{step_, verb, std::move(message)});
}

void EventLog::push(Event event) {
  ++count_;
  if (verbose_) std::cout << format(event) << '\n';
  if (ring_.size() < capacity_) {
    ring_.push_back(std::move(event));
  } else {
    ring_[next_] = std::move(event);
  }
  next_ = (next_ + 1) % capacity_;
}

std::string EventLog::format(const Event& event) {
  std::string line = "[step " + std::to_string(event.step) + "] " + event.text;
  if (event.message) line += " " + raft::describe(*event.message);
  return line;
}

std::string EventLog::dump() const {
  std::string out;
  const std::size_t n = ring_.size();
  const std::size_t start = n < capacity_ ? 0 : next_;
  for (std::size_t i = 0; i < n; ++i) out += format(ring_[(start + i) % n]) + "\n";
  return out;
}

}  // namespace raftor::sim
