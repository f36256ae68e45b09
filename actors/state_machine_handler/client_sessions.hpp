// The deduplication table of client requests (Raft thesis §6.3, "Implementing linearizable
// semantics"): per client, the highest sequence applied and its outcome, so that a retried
// request is reported, not applied a second time. Pure bookkeeping: no CAF, no I/O.
//
// Determinism. Whether an entry is applied must be the same on every replica, or their
// states diverge. So the table is a function of the applied log alone: requests are
// observed in log order, there is no wall-clock expiry (clocks differ between replicas),
// and eviction is by count only, least recently active first, activity being the log
// index of a client's last request. Observing a chunk at once or entry by entry gives the
// same table.
//
// Rules, for a request of a tracked client (RequestId::tracked()):
//   - unknown client, or a sequence above the client's latest: fresh, apply it;
//   - the client's latest sequence: a repeat, report the outcome recorded for it;
//   - below the latest: stale, report already_applied (only the latest outcome is kept).
// The thesis assumes one outstanding request per client, so its sequences reach the log
// in order. A client that pipelines requests may see a lower sequence committed after a
// higher one (e.g. sent to two leaders): that request is then treated as stale, NOT
// applied, and reported already_applied. Such clients must wait for each reply.
//
// Limits:
//   - An evicted client is forgotten, by every replica alike: its retry of an old request
//     is fresh again and applied a second time (everywhere, so the states stay equal).
//     With the default 100k clients, a client must retry before 100k others were active.
//   - The table is part of the replicated state, so it travels with snapshots: encode(X)
//     gives the table as of a snapshot's index X (the snapshot is generated while the
//     handler applies on, so the table may be ahead of X: the changes after X are undone
//     from a history kept for this, see keep_history), stored in the snapshot's metadata.
//     A node that installs the snapshot load()s it; a restarted node loads its newest
//     snapshot's table and replays the log's requests after it (StateMachineHandler).
//     A snapshot whose table could not be given (the history did not reach back far
//     enough, see kMaxHistory) carries none: a node that installs it, or restarts from it,
//     forgets the clients, and a retry of a request the snapshot covers is then applied
//     again on that node only (its state diverges from the others'); this is logged.
// Replies: a request replayed after a restart has no recorded outcome, so a retry of it
// reports already_applied (succeeded), even if the first attempt was a CAS mismatch.
//
// Memory: about 120 bytes per client, so some 12 MB at the default 100k clients.
//
// Tentative changes. Observing a chunk's requests changes the table at once (later entries
// of the same chunk must see earlier ones, evictions included), but a chunk that the state
// machine fails to apply must leave nothing behind: every change is journaled until
// commit() keeps it or rollback() undoes it exactly, eviction and order included.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <string>
#include <string_view>
#include <optional>
#include <unordered_map>
#include <vector>

#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace raftor {

enum class RequestVerdict : std::uint8_t {
  untracked,  // no client id or no sequence: always applied, never recorded
  fresh,      // apply it; it is now the client's latest request
  repeat,     // the client's latest request again: report its recorded outcome
  stale,      // older than the client's latest: report already_applied
};

struct Observation {
  RequestVerdict verdict = RequestVerdict::untracked;
  // repeat: the index at which the original was applied, and its outcome once known
  // (std::nullopt while the original is in the same, not yet committed, chunk).
  std::uint64_t original_index = 0;
  std::optional<ApplyOutcome> outcome;
};

class ClientSessions {
 public:
  static constexpr std::size_t kDefaultMaxClients = 100'000;

  explicit ClientSessions(std::size_t max_clients = kDefaultMaxClients);

  // The verdict on the request of the entry at `index`. Entries must be observed in
  // increasing index order. Journaled until commit() or rollback().
  Observation observe(RequestId id, std::uint64_t index);
  // The outcome of the fresh request applied at `index`, once the state machine reported
  // it. Ignored when the client's latest request is another one by now.
  void set_outcome(std::uint64_t client_id, std::uint64_t index, ApplyOutcome outcome);
  void commit();
  void rollback();
  // Forgets every client (an installed snapshot replaced the state the table describes).
  void clear();

  // Snapshots. With the history on, committed changes are kept until encode() passes
  // them, so that encode() can go back. One change per tracked request, ~72 bytes each; at
  // most kMaxHistory (~19 MB), older ones dropped: 26 snapshot intervals of the default
  // 10,000 entries, but a policy that lets more tracked requests than that pass between
  // two snapshots gets snapshots without a table (logged).
  static constexpr std::size_t kMaxHistory = 1 << 18;
  void keep_history(bool on);
  // The table as it was once every request in entries <= `index` was observed and none
  // after (also undoing a chunk observed but not yet committed), serialized
  // (pb::ClientSessionTable). History at or below `index` is dropped: snapshots only move
  // forward. out_of_range when the history does not reach back to `index`.
  Result<std::string> encode(std::uint64_t index);
  // Replaces the table with an encoded one, the state as of `index` (an installed
  // snapshot's). corruption if it does not parse; the table is then empty.
  Status load(std::string_view bytes, std::uint64_t index);

  std::size_t size() const { return by_client_.size(); }
  std::size_t max_clients() const { return max_clients_; }
  // The client's latest applied sequence, if the client is in the table.
  std::optional<std::uint64_t> latest_sequence(std::uint64_t client_id) const;
  // Client ids from least to most recently active (eviction order), for tests.
  std::vector<std::uint64_t> clients_by_activity() const;

 private:
  struct Session {
    std::uint64_t client_id = 0;
    std::uint64_t sequence = 0;       // highest applied
    std::uint64_t applied_index = 0;  // where that sequence was applied
    std::optional<ApplyOutcome> outcome;  // nullopt until set_outcome
    std::uint64_t last_active = 0;    // index of the client's last request: the LRU key
  };
  using Sessions = std::list<Session>;  // front: least recently active

  struct Change {
    enum class Kind : std::uint8_t { inserted, updated, evicted } kind;
    Sessions::iterator node;
    Session before;                  // updated: the values to restore
    Sessions::iterator next_before;  // updated: where the node stood
    std::uint64_t index = 0;         // the entry whose request made the change
  };
  // A committed change, for encode(): the client's session before it (none: inserted).
  struct Undo {
    std::uint64_t index = 0;
    std::uint64_t client_id = 0;
    std::optional<Session> before;
  };

  void insert(RequestId id, std::uint64_t index);
  void update(Sessions::iterator node, const Session& after, std::uint64_t index);
  void evict_least_recently_active(std::uint64_t index);
  Undo undo_of(const Change& change) const;

  std::size_t max_clients_;
  Sessions sessions_;
  std::unordered_map<std::uint64_t, Sessions::iterator> by_client_;
  // Until commit: evicted nodes are kept (spliced here, iterators stay valid) so that
  // rollback can put them back.
  Sessions evicted_;
  std::vector<Change> journal_;
  bool keep_history_ = false;
  std::deque<Undo> history_;        // committed changes, oldest first
  std::uint64_t history_floor_ = 0;  // encode() reaches back to this index, not below
};

}  // namespace raftor
