// The deduplication of one chunk of committed entries (Raft thesis §6.3), in two steps
// around StateMachine::apply_chunk:
//   before: every normal entry's request id is read (command::request_id, which skips the
//           operation) and observed in log order; duplicates become noop entries of the
//           same index and term, so the state machine skips them and still advances
//           last_applied over them;
//   after:  each duplicate's result becomes the outcome recorded for the original (a
//           retried compare-and-swap reports what the first attempt did), the fresh
//           requests' outcomes are recorded, and the table keeps the chunk (commit).
// A chunk the state machine fails to apply is abandoned: the table forgets it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "raftor/actors/state_machine_handler/client_sessions.hpp"
#include "raftor/storage/types.hpp"

namespace raftor {

class ChunkDeduplication {
 public:
  // `chunk`: ascending, contiguous indexes. Duplicates in it are replaced in place.
  ChunkDeduplication(std::vector<Entry>& chunk, ClientSessions& sessions);

  // apply_chunk succeeded with `results` (one per entry of the chunk, in order).
  void complete(std::vector<ApplyResult>& results);
  // apply_chunk failed: nothing of this chunk is recorded.
  void abandon();

  std::size_t duplicates() const { return duplicates_; }

 private:
  struct TrackedRequest {
    std::size_t position;  // in the chunk (and in its results)
    std::uint64_t client_id;
    std::uint64_t index;
    Observation observation;
  };

  ApplyOutcome duplicate_outcome(const Observation& observation,
                                 const std::vector<ApplyResult>& results) const;

  ClientSessions& sessions_;
  std::uint64_t first_index_ = 0;
  std::vector<TrackedRequest> tracked_;
  std::size_t duplicates_ = 0;
};

}  // namespace raftor
