// The simulated network: messages wait in flight for a random number of ticks (which also
// reorders them), may be dropped, duplicated or stuck for long (stale arrivals), and are
// lost on cut links. Every choice comes from the run's SimRandom.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "raftor/actors/raft/core/raft_messages.hpp"
#include "sim_events.hpp"
#include "sim_random.hpp"

namespace raftor::sim {

struct NetworkConditions {
  std::uint64_t min_delay = 1;  // ticks; >= 1 so that a message takes at least one step
  std::uint64_t max_delay = 2;
  std::uint64_t drop_ppm = 0;       // per million messages
  std::uint64_t duplicate_ppm = 0;  // the copy gets its own delay
  std::uint64_t long_delay_ppm = 0;
  std::uint64_t long_delay_max = 40;  // ticks: several election timeouts, so it arrives stale
};

class SimNetwork {
 public:
  SimNetwork(SimRandom& rng, EventLog& events) : rng_(rng), events_(events) {}

  void set_conditions(const NetworkConditions& conditions) { conditions_ = conditions; }
  const NetworkConditions& conditions() const { return conditions_; }

  void send(raft::Message message, std::uint64_t now);
  // Puts a message back to be delivered at `at` (its receiver is paused).
  void requeue(raft::Message message, std::uint64_t at);

  // Directed link cuts: block(a, b) loses a's messages to b, including those in flight.
  void block(NodeId from, NodeId to) { blocked_.emplace(from, to); }
  void heal() { blocked_.clear(); }
  bool blocked(NodeId from, NodeId to) const { return blocked_.count({from, to}) != 0; }
  bool partitioned() const { return !blocked_.empty(); }

  // Removes and returns the messages due at `now` on open links, in delivery order
  // (due time, then send order); messages on cut links are dropped.
  std::vector<raft::Message> take_due(std::uint64_t now);
  std::size_t in_flight() const { return queue_.size(); }

  std::uint64_t sent() const { return sent_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  void enqueue(raft::Message message, std::uint64_t at);
  std::uint64_t delay();

  SimRandom& rng_;
  EventLog& events_;
  NetworkConditions conditions_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, raft::Message> queue_;  // (due, seq)
  std::set<std::pair<NodeId, NodeId>> blocked_;
  std::uint64_t seq_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace raftor::sim
