// The safety properties of Raft (figure 3) plus the client-visible ones, checked against
// what the simulated nodes do. The cluster feeds it every observation; the first violated
// property is kept as the run's failure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "raftor/actors/raft/core/raft_core.hpp"
#include "raftor/storage/raft_log.hpp"

namespace raftor::sim {

// A write whose proposer applied it at the index it was given, with the term it was
// proposed in: the client got "ok" (what the Raft actor replies).
struct AckedWrite {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::string payload;
  NodeId leader = 0;
  std::uint64_t step = 0;
};

struct CheckStats {
  std::uint64_t leaders = 0;
  std::uint64_t applied = 0;  // distinct committed indexes
  std::uint64_t acked = 0;
  std::uint64_t reads_checked = 0;
  std::uint64_t reads_failed = 0;
  std::uint64_t lease_reads_checked = 0;
  std::uint64_t log_checks = 0;
  std::uint64_t reused_proposal_indexes = 0;  // see proposals_
};

class PropertyChecker {
 public:
  bool failed() const { return failure_.has_value(); }
  const std::string& failure() const { return *failure_; }
  // Keeps the first failure only: later ones are usually its consequences.
  void fail(const std::string& property, const std::string& detail);

  void set_step(std::uint64_t step) { step_ = step; }

  // Election safety (one leader per term) and leader completeness (a new leader's log
  // holds every entry committed in an earlier term). Returns true for a new leader.
  bool on_leader(NodeId node, std::uint64_t term, const RaftLog& log);
  // Election safety from the wire: AppendEntries of a term all come from its leader.
  void on_append_sent(NodeId from, std::uint64_t term);

  // State machine safety; completes acknowledged writes. `term` is the node's current term.
  // Returns the write acknowledged by this apply, if any.
  const AckedWrite* on_applied(NodeId node, const Entry& entry, std::uint64_t term);
  void on_proposed(NodeId node, std::uint64_t index, std::uint64_t term, std::string payload);

  // Linearizable reads: a confirmed read_index covers every write acknowledged before the
  // read started.
  void on_read_issued(NodeId node, std::uint64_t request_id);
  void on_read_confirmed(NodeId node, const raft::ReadState& read);
  void on_read_failed(NodeId node, std::uint64_t request_id);
  // A lease read would be served at `commit`: it must cover every acknowledged write.
  void on_lease_read(NodeId node, std::uint64_t commit);

  void on_crash(NodeId node);  // its pending proposals and reads die with it

  // Log matching over logs of any nodes at any time (current and durable views): entries
  // with the same index and term have identical prefixes. Entries are remembered across
  // calls, so logs are also compared with what other nodes held earlier.
  void check_log(const std::string& name, const RaftLog& log);
  // Every entry a node applied is still in its log (committed entries are never removed).
  void check_applied_in_log(NodeId node, const std::vector<Entry>& applied, const RaftLog& log);
  // Final: every acknowledged write is applied on this node, at its index.
  void check_acked_applied(NodeId node, const std::vector<Entry>& applied);
  // Final: every read got an outcome.
  void check_no_pending_reads();
  std::size_t pending_reads() const;

  const std::vector<AckedWrite>& acked() const { return acked_; }
  std::uint64_t max_acked_index() const { return max_acked_index_; }
  std::uint64_t committed() const { return committed_.size(); }
  const CheckStats& stats() const { return stats_; }

 private:
  struct Committed {
    std::uint64_t term = 0;
    EntryType type = EntryType::normal;
    std::uint64_t payload_hash = 0;
    NodeId first_node = 0;
    std::uint64_t known_term = 0;  // the applier's term: the entry was committed by then
  };
  struct Proposal {
    std::uint64_t term = 0;
    std::string payload;
  };
  struct PendingRead {
    std::uint64_t min_index = 0;
    std::uint64_t step = 0;
  };

  std::optional<std::string> failure_;
  std::uint64_t step_ = 0;
  std::map<std::uint64_t, NodeId> leaders_;  // term -> leader
  std::vector<Committed> committed_;         // [i] describes index i + 1
  // node -> index -> proposals. One node can hold two at an index: it led, lost the
  // entry to another leader before applying it, and leads again.
  std::map<NodeId, std::multimap<std::uint64_t, Proposal>> proposals_;
  std::map<NodeId, std::map<std::uint64_t, PendingRead>> reads_;   // node -> request id
  std::vector<AckedWrite> acked_;
  std::uint64_t max_acked_index_ = 0;
  std::set<std::uint64_t> completeness_checked_;  // terms whose leader was checked
  // (index, term) -> hash of the log prefix ending there. Looked up, never iterated.
  struct LogIdHash {
    std::size_t operator()(const LogId& id) const {
      return id.index * 0x9e3779b97f4a7c15ULL ^ id.term;
    }
  };
  std::unordered_map<LogId, std::uint64_t, LogIdHash> prefixes_;
  CheckStats stats_;
};

std::uint64_t hash_entry(const Entry& entry, std::uint64_t seed);

}  // namespace raftor::sim
