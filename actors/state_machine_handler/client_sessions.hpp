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
//   - The table is in memory only. After a restart the node rebuilds it from the entries
//     still in its log (those the state machine had applied are replayed, see
//     StateMachineHandler); requests in entries already purged (covered by a snapshot) are
//     lost. A retry whose first attempt was purged from the log of a node that restarted
//     since is applied again on that node while the others skip it: the replicas' states
//     diverge.
//   - Installing a snapshot clears the table: it does not travel in snapshots. A retry
//     whose first attempt is covered by the installed snapshot is applied again on that
//     node only: the same divergence.
//   Persisting the table inside snapshots (a change of the built-in snapshot formats)
//   would remove the last two.
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
#include <list>
#include <optional>
#include <unordered_map>
#include <vector>

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
  };

  void insert(RequestId id, std::uint64_t index);
  void update(Sessions::iterator node, const Session& after);
  void evict_least_recently_active();

  std::size_t max_clients_;
  Sessions sessions_;
  std::unordered_map<std::uint64_t, Sessions::iterator> by_client_;
  // Until commit: evicted nodes are kept (spliced here, iterators stay valid) so that
  // rollback can put them back.
  Sessions evicted_;
  std::vector<Change> journal_;
};

}  // namespace raftor
