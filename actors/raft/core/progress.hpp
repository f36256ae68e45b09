// What a leader knows about one follower's log (etcd's tracker.Progress; Raft figure 2
// "volatile state on leaders": nextIndex[] and matchIndex[]), plus the flow-control window.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "raftor/storage/types.hpp"

namespace raftor::raft {

// Ring buffer of the last index carried by each AppendEntries in flight to one follower.
// Its capacity is the pipelining window (RaftConfig::max_inflight_appends); allocated once.
class Inflights {
 public:
  explicit Inflights(std::size_t capacity = 1) : buffer_(capacity == 0 ? 1 : capacity) {}

  bool full() const { return count_ == buffer_.size(); }
  std::size_t count() const { return count_; }
  void add(std::uint64_t last_index);
  // An acknowledgement up to `index` frees every message ending at or below it.
  void free_up_to(std::uint64_t index);
  void reset() { start_ = count_ = 0; }

 private:
  std::vector<std::uint64_t> buffer_;
  std::size_t start_ = 0;
  std::size_t count_ = 0;
};

struct Progress {
  // probe: one AppendEntries at a time until the leader learns where the logs match;
  // replicate: the match is known, entries are pipelined and next advances optimistically;
  // snapshot: the follower needs entries this leader has purged, so it is being sent a
  // snapshot (Raft §7) and gets no entries until it has installed one.
  enum class State : std::uint8_t { probe, replicate, snapshot };

  Progress(NodeId node, bool is_voter, std::size_t window)
      : id(node), voter(is_voter), inflight(window) {}

  NodeId id = 0;
  bool voter = true;
  // Removed by the configuration in force, which is not committed yet: still sent the
  // log so it learns of its removal (and stops campaigning, thesis §4.2.3), never counted.
  bool removed = false;
  State state = State::probe;
  std::uint64_t match = 0;  // highest index known to be replicated on the follower
  std::uint64_t next = 1;   // next index to send
  bool probe_sent = false;  // probe: an AppendEntries with entries is awaiting its answer
  // snapshot: the follower must reach at least this index (the leader's purge point when
  // the transfer started) before entries flow again.
  std::uint64_t pending_snapshot = 0;
  Inflights inflight;

  // Rejections in a row saying the follower's log ends below `match` (see
  // handle_append_response: a follower that lost entries it acknowledged).
  std::uint32_t regressions = 0;
  bool recent_active = false;     // answered since the last check-quorum (thesis §6.2)
  std::uint64_t commit_sent = 0;  // the leader commit index this follower was last told
  std::uint64_t acked_context = 0;   // highest read_context it echoed (thesis §6.4)
  std::uint64_t acked_tick = 0;      // send tick + 1 of that message, for leases; 0 = none

  // A new leader knows nothing yet: probe from the end of its own log (Raft §5.3).
  void reset(std::uint64_t next_index);
  // A successful AppendEntries answer: returns whether match advanced.
  bool on_success(std::uint64_t match_index);
  void become_probe(std::uint64_t next_index);
  void become_replicate();
  void become_snapshot(std::uint64_t purged_index);
  // Whether an AppendEntries with entries may go out now (flow control; never while a
  // snapshot is on its way).
  bool can_send() const;
  // An AppendEntries carrying [next, last] went out.
  void sent_entries(std::uint64_t last);
};

// The value a majority of `values` has reached: the quorum-th largest (Raft §5.3/§5.4:
// an index replicated on a majority). Reorders `values`.
std::uint64_t quorum_value(std::span<std::uint64_t> values, std::size_t quorum);

}  // namespace raftor::raft
