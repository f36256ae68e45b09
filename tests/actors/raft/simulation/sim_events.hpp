// The trace of a simulation run: a ring buffer of the last events (printed when a property
// fails), an optional verbose echo of every event (seed replay), and a fingerprint of the
// whole trace (two runs of one seed must produce the same fingerprint).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raftor/actors/raft/core/raft_messages.hpp"

namespace raftor::sim {

class EventLog {
 public:
  explicit EventLog(std::size_t capacity = 50, bool verbose = false);

  void set_step(std::uint64_t step) { step_ = step; }
  std::uint64_t step() const { return step_; }

  void note(std::string text);
  // Messages are described lazily (only when printed): describing every message of a
  // few hundred runs would dominate the run time.
  void message(const char* verb, raft::Message message);

  std::uint64_t fingerprint() const { return fingerprint_; }
  std::uint64_t count() const { return count_; }
  // The buffered events, oldest first, one per line.
  std::string dump() const;

 private:
  struct Event {
    std::uint64_t step = 0;
    std::string text;                      // a note, or the verb of a message event
    std::optional<raft::Message> message;
  };
  static std::string format(const Event& event);
  void push(Event event);

  std::vector<Event> ring_;
  std::size_t capacity_;
  std::size_t next_ = 0;
  bool verbose_;
  std::uint64_t step_ = 0;
  std::uint64_t count_ = 0;
  std::uint64_t fingerprint_ = 0xcbf29ce484222325ULL;
};

}  // namespace raftor::sim
