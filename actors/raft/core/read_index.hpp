// Leader-side bookkeeping for linearizable reads (thesis §6.4): ReadIndex requests waiting
// for the term's first commit, requests waiting for a quorum to confirm leadership, and the
// heartbeat rounds ("read contexts") that confirm it. Also remembers when each round was
// sent so acknowledgements can extend the leader lease (thesis §6.4.1).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "raftor/actors/raft/core/raft_core.hpp"

namespace raftor::raft {

class ReadTracker {
 public:
  // A new leadership term: contexts restart at 1 (answers from older terms are dropped
  // by their term before they reach the tracker).
  void reset();

  // The newest context: every AppendEntries carries it; an acknowledgement of context c
  // proves the follower still accepted this leader after round c started.
  std::uint64_t context() const { return context_; }
  // Starts a heartbeat round at tick `now`; returns its context.
  std::uint64_t new_round(std::uint64_t now, bool remember_tick);
  bool round_wanted() const { return round_wanted_; }
  // The tick at which `context`'s round started, if still remembered.
  std::optional<std::uint64_t> round_tick(std::uint64_t context) const;
  // Forget rounds started `keep` or more ticks before `now` (useless for the lease).
  void prune_rounds(std::uint64_t now, std::uint64_t keep);

  // Before an entry of the leader's term is committed, reads wait here (thesis §6.4 step 1).
  void wait_for_commit(std::uint64_t request_id) { before_commit_.push_back(request_id); }
  std::vector<std::uint64_t> take_waiting() { return std::exchange(before_commit_, {}); }

  // Records read_index for a request; the next round (context() + 1) confirms it.
  void add(std::uint64_t request_id, std::uint64_t read_index);
  bool has_pending() const { return !pending_.empty(); }
  // A quorum acknowledged contexts up to `confirmed`: release the reads they confirm.
  void release(std::uint64_t confirmed, std::vector<ReadState>& out);
  // Leadership lost: every waiting read fails.
  void fail_all(std::vector<std::uint64_t>& out);

 private:
  struct Pending {
    std::uint64_t request_id;
    std::uint64_t read_index;
    std::uint64_t context;
  };
  std::uint64_t context_ = 0;
  bool round_wanted_ = false;
  std::deque<Pending> pending_;  // contexts never decrease along the queue
  std::vector<std::uint64_t> before_commit_;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> rounds_;  // (context, tick)
};

}  // namespace raftor::raft
