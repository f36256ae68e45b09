#include "raftor/actors/state_machine_handler/chunk_deduplication.hpp"

#include "raftor/storage/command.hpp"

namespace raftor {

ChunkDeduplication::ChunkDeduplication(std::vector<Entry>& chunk, ClientSessions& sessions)
    : sessions_(sessions) {
  if (chunk.empty()) return;
  first_index_ = chunk.front().index;
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    Entry& entry = chunk[i];
    if (entry.type != EntryType::normal) continue;
    // A payload that does not parse carries no id: the state machine reports it.
    const auto id = command::request_id(entry.payload);
    if (!id || !id->tracked()) continue;
    const Observation seen = sessions_.observe(*id, entry.index);
    tracked_.push_back(TrackedRequest{i, id->client_id, entry.index, seen});
    if (seen.verdict == RequestVerdict::repeat || seen.verdict == RequestVerdict::stale) {
      entry.type = EntryType::noop;
      entry.payload.clear();
      ++duplicates_;
    }
  }
}

void ChunkDeduplication::complete(std::vector<ApplyResult>& results) {
  for (const TrackedRequest& request : tracked_) {
    ApplyResult& result = results.at(request.position);
    switch (request.observation.verdict) {
      case RequestVerdict::fresh:
        sessions_.set_outcome(request.client_id, request.index, result.outcome);
        break;
      case RequestVerdict::repeat:
      case RequestVerdict::stale:
        result.outcome = duplicate_outcome(request.observation, results);
        break;
      case RequestVerdict::untracked:
        break;
    }
  }
  sessions_.commit();
  tracked_.clear();
}

void ChunkDeduplication::abandon() {
  sessions_.rollback();
  tracked_.clear();
}

ApplyOutcome ChunkDeduplication::duplicate_outcome(const Observation& observation,
                                                   const std::vector<ApplyResult>& results) const {
  if (observation.outcome) return *observation.outcome;
  // A repeat of a request earlier in this chunk: its outcome is that entry's result (a
  // fresh result, never rewritten above).
  const std::uint64_t original = observation.original_index;
  if (original >= first_index_ && original - first_index_ < results.size()) {
    return results[original - first_index_].outcome;
  }
  return ApplyOutcome::already_applied;
}

}  // namespace raftor
