#include "property_checks.hpp"

#include "sim_random.hpp"

namespace raftor::sim {

namespace {
std::string str(std::uint64_t v) { return std::to_string(v); }

std::uint64_t hash_payload(const std::string& payload) {
  return fnv1a(payload.data(), payload.size());
}
}  // namespace

std::uint64_t hash_entry(const Entry& entry, std::uint64_t seed) {
  std::uint64_t h = fnv1a_u64(entry.index, seed);
  h = fnv1a_u64(entry.term, h);
  h = fnv1a_u64(static_cast<std::uint64_t>(entry.type), h);
  return fnv1a(entry.payload.data(), entry.payload.size(), h);
}

void PropertyChecker::fail(const std::string& property, const std::string& detail) {
  if (failure_) return;
  failure_ = property + " violated at step " + str(step_) + ": " + detail;
}

bool PropertyChecker::on_leader(NodeId node, std::uint64_t term, const RaftLog& log) {
  auto [it, inserted] = leaders_.emplace(term, node);
  if (!inserted && it->second != node) {
    fail("election safety", "nodes " + str(it->second) + " and " + str(node) +
                                " are both leader of term " + str(term));
    return false;
  }
  if (!completeness_checked_.insert(term).second) return false;
  ++stats_.leaders;
  // Only entries known committed in an earlier term bind this leader: a leader of a lower
  // term can still be elected later by delayed votes, and it may lack newer commits.
  for (std::uint64_t i = 1; i <= committed_.size(); ++i) {
    const Committed& c = committed_[i - 1];
    if (c.known_term >= term) continue;
    if (i < log.first_index()) continue;  // compacted: committed by definition
    auto t = log.term_at(i);
    if (t != std::optional<std::uint64_t>(c.term)) {
      fail("leader completeness",
           "node " + str(node) + " became leader of term " + str(term) + " without entry " +
               str(i) + " (term " + str(c.term) + "), committed by term " + str(c.known_term) +
               "; its log has " + (t ? "term " + str(*t) : std::string("nothing")) +
               " there, last index " + str(log.last_index()));
      return true;
    }
  }
  return true;
}

void PropertyChecker::on_append_sent(NodeId from, std::uint64_t term) {
  auto [it, inserted] = leaders_.emplace(term, from);
  if (!inserted && it->second != from) {
    fail("election safety", "node " + str(from) + " sent AppendEntries in term " + str(term) +
                                ", whose leader is node " + str(it->second));
  }
}

const AckedWrite* PropertyChecker::on_applied(NodeId node, const Entry& e, std::uint64_t term) {
  const std::uint64_t h = hash_payload(e.payload);
  if (e.index <= committed_.size()) {
    const Committed& c = committed_[e.index - 1];
    if (c.term != e.term || c.type != e.type || c.payload_hash != h) {
      fail("state machine safety",
           "node " + str(node) + " applied index " + str(e.index) + " term " + str(e.term) +
               " payload#" + str(h) + ", node " + str(c.first_node) + " applied term " +
               str(c.term) + " payload#" + str(c.payload_hash) + " there");
    }
  } else if (e.index == committed_.size() + 1) {
    committed_.push_back(Committed{e.term, e.type, h, node, term});
    ++stats_.applied;
  } else {
    fail("state machine safety", "node " + str(node) + " applied index " + str(e.index) +
                                     " before any node applied " + str(committed_.size() + 1));
  }

  auto by_node = proposals_.find(node);
  if (by_node == proposals_.end()) return nullptr;
  const AckedWrite* ack = nullptr;
  auto [lo, hi] = by_node->second.equal_range(e.index);
  for (auto it = lo; it != hi; ++it) {
    // The actor's rule: acknowledged only if the entry still has the proposal's term.
    if (it->second.term != e.term) continue;
    if (it->second.payload != e.payload) {
      fail("acknowledged write", "node " + str(node) + " proposed a different payload at index " +
                                     str(e.index) + " in term " + str(e.term) +
                                     " than the entry it applied there");
    }
    acked_.push_back(AckedWrite{e.index, e.term, e.payload, node, step_});
    max_acked_index_ = std::max(max_acked_index_, e.index);
    ++stats_.acked;
    ack = &acked_.back();
  }
  by_node->second.erase(lo, hi);
  return ack;
}

void PropertyChecker::on_proposed(NodeId node, std::uint64_t index, std::uint64_t term,
                                  std::string payload) {
  auto& pending = proposals_[node];
  if (pending.count(index) != 0) ++stats_.reused_proposal_indexes;
  pending.emplace(index, Proposal{term, std::move(payload)});
}

void PropertyChecker::on_read_issued(NodeId node, std::uint64_t request_id) {
  reads_[node][request_id] = PendingRead{max_acked_index_, step_};
}

void PropertyChecker::on_read_confirmed(NodeId node, const raft::ReadState& read) {
  auto& pending = reads_[node];
  auto it = pending.find(read.request_id);
  if (it == pending.end()) {
    fail("read", "node " + str(node) + " confirmed read " + str(read.request_id) +
                     ", which is not pending (never issued or answered twice)");
    return;
  }
  ++stats_.reads_checked;
  if (read.read_index < it->second.min_index) {
    fail("linearizable read",
         "node " + str(node) + " confirmed read " + str(read.request_id) + " (issued at step " +
             str(it->second.step) + ") at read_index " + str(read.read_index) +
             ", but a write at index " + str(it->second.min_index) +
             " was acknowledged before the read was issued");
  }
  pending.erase(it);
}

void PropertyChecker::on_read_failed(NodeId node, std::uint64_t request_id) {
  auto& pending = reads_[node];
  auto it = pending.find(request_id);
  if (it == pending.end()) {
    fail("read", "node " + str(node) + " failed read " + str(request_id) +
                     ", which is not pending (never issued or answered twice)");
    return;
  }
  ++stats_.reads_failed;
  pending.erase(it);
}

void PropertyChecker::on_lease_read(NodeId node, std::uint64_t commit) {
  ++stats_.lease_reads_checked;
  if (commit < max_acked_index_) {
    fail("linearizable lease read",
         "node " + str(node) + " holds a valid lease with commit " + str(commit) +
             ", but a write at index " + str(max_acked_index_) + " was already acknowledged");
  }
}

void PropertyChecker::on_crash(NodeId node) {
  proposals_.erase(node);
  reads_.erase(node);
}

void PropertyChecker::check_log(const std::string& name, const RaftLog& log) {
  ++stats_.log_checks;
  const std::uint64_t first = log.first_index();
  const std::uint64_t last = log.last_index();
  std::uint64_t h = 0xcbf29ce484222325ULL;
  if (first > 1) {
    auto it = prefixes_.find(log.last_purged());
    if (it == prefixes_.end()) return;  // nothing to anchor the compacted prefix to
    h = it->second;
  }
  if (last < first) return;
  auto entries = log.entries(first, last + 1);
  if (!entries.ok()) {
    fail("log", name + ": " + entries.error().to_string());
    return;
  }
  for (const Entry& e : *entries) {
    h = hash_entry(e, h);
    auto [it, inserted] = prefixes_.emplace(e.id(), h);
    if (!inserted && it->second != h) {
      fail("log matching", name + " holds entry " + str(e.index) + " of term " + str(e.term) +
                               " but its log up to there differs from another log (now or " +
                               "earlier) holding the same index and term");
      return;
    }
  }
}

void PropertyChecker::check_applied_in_log(NodeId node, const std::vector<Entry>& applied,
                                           const RaftLog& log) {
  for (const Entry& e : applied) {
    if (e.index < log.first_index()) continue;
    auto t = log.term_at(e.index);
    if (t != std::optional<std::uint64_t>(e.term)) {
      fail("committed entry removed",
           "node " + str(node) + " applied entry " + str(e.index) + " of term " + str(e.term) +
               " but its log now has " + (t ? "term " + str(*t) : std::string("nothing")) +
               " there");
      return;
    }
  }
}

void PropertyChecker::check_acked_applied(NodeId node, const std::vector<Entry>& applied) {
  for (const AckedWrite& w : acked_) {
    if (w.index > applied.size()) {
      fail("acknowledged write lost", "node " + str(node) + " applied only up to " +
                                          str(applied.size()) + ", not the write acknowledged " +
                                          "at index " + str(w.index));
      return;
    }
    const Entry& e = applied[w.index - 1];
    if (e.term != w.term || e.payload != w.payload) {
      fail("acknowledged write lost",
           "node " + str(node) + " applied term " + str(e.term) + " at index " + str(w.index) +
               ", where node " + str(w.leader) + " acknowledged a write of term " + str(w.term) +
               " at step " + str(w.step));
      return;
    }
  }
}

std::size_t PropertyChecker::pending_reads() const {
  std::size_t n = 0;
  for (const auto& [node, pending] : reads_) n += pending.size();
  return n;
}

void PropertyChecker::check_no_pending_reads() {
  for (const auto& [node, pending] : reads_) {
    if (!pending.empty()) {
      fail("read liveness", "node " + str(node) + " never answered read " +
                                str(pending.begin()->first) + " issued at step " +
                                str(pending.begin()->second.step));
      return;
    }
  }
}

}  // namespace raftor::sim
