#include "raftor/actors/state_machine_handler/client_sessions.hpp"

#include <algorithm>
#include <iterator>

namespace raftor {

ClientSessions::ClientSessions(std::size_t max_clients)
    : max_clients_(std::max<std::size_t>(max_clients, 1)) {}

Observation ClientSessions::observe(RequestId id, std::uint64_t index) {
  Observation out;
  if (!id.tracked()) return out;
  auto found = by_client_.find(id.client_id);
  if (found == by_client_.end()) {
    insert(id, index);
    if (by_client_.size() > max_clients_) evict_least_recently_active();
    out.verdict = RequestVerdict::fresh;
    return out;
  }
  const auto node = found->second;
  Session after = *node;
  after.last_active = index;  // any request, even a duplicate, shows the client is alive
  if (id.sequence > node->sequence) {
    after.sequence = id.sequence;
    after.applied_index = index;
    after.outcome.reset();
    out.verdict = RequestVerdict::fresh;
  } else if (id.sequence == node->sequence) {
    out.verdict = RequestVerdict::repeat;
    out.original_index = node->applied_index;
    out.outcome = node->outcome;
  } else {
    out.verdict = RequestVerdict::stale;
    out.outcome = ApplyOutcome::already_applied;
  }
  update(node, after);
  return out;
}

void ClientSessions::set_outcome(std::uint64_t client_id, std::uint64_t index,
                                 ApplyOutcome outcome) {
  auto found = by_client_.find(client_id);
  if (found == by_client_.end() || found->second->applied_index != index) return;
  // Not journaled: the session changed in the open batch (its applied_index is in it),
  // so rollback restores the values from before that change anyway.
  found->second->outcome = outcome;
}

void ClientSessions::commit() {
  journal_.clear();
  evicted_.clear();
}

void ClientSessions::rollback() {
  // In reverse, each change meets the table exactly as it left it, so the iterators it
  // kept (nodes are never destroyed before commit) still point where they did.
  for (auto change = journal_.rbegin(); change != journal_.rend(); ++change) {
    switch (change->kind) {
      case Change::Kind::inserted:
        by_client_.erase(change->node->client_id);
        sessions_.erase(change->node);
        break;
      case Change::Kind::updated:
        *change->node = change->before;
        sessions_.splice(change->next_before, sessions_, change->node);
        break;
      case Change::Kind::evicted:
        sessions_.splice(sessions_.begin(), evicted_, change->node);
        by_client_[change->node->client_id] = change->node;
        break;
    }
  }
  journal_.clear();
  evicted_.clear();
}

void ClientSessions::clear() {
  sessions_.clear();
  by_client_.clear();
  evicted_.clear();
  journal_.clear();
}

std::optional<std::uint64_t> ClientSessions::latest_sequence(std::uint64_t client_id) const {
  auto found = by_client_.find(client_id);
  if (found == by_client_.end()) return std::nullopt;
  return found->second->sequence;
}

std::vector<std::uint64_t> ClientSessions::clients_by_activity() const {
  std::vector<std::uint64_t> out;
  out.reserve(sessions_.size());
  for (const Session& s : sessions_) out.push_back(s.client_id);
  return out;
}

void ClientSessions::insert(RequestId id, std::uint64_t index) {
  sessions_.push_back(Session{id.client_id, id.sequence, index, std::nullopt, index});
  const auto node = std::prev(sessions_.end());
  by_client_.emplace(id.client_id, node);
  journal_.push_back(Change{Change::Kind::inserted, node, {}, {}});
}

void ClientSessions::update(Sessions::iterator node, const Session& after) {
  journal_.push_back(Change{Change::Kind::updated, node, *node, std::next(node)});
  *node = after;
  // The most recently active client goes last; indexes only grow, so the list stays
  // sorted by last_active.
  sessions_.splice(sessions_.end(), sessions_, node);
}

void ClientSessions::evict_least_recently_active() {
  const auto node = sessions_.begin();
  journal_.push_back(Change{Change::Kind::evicted, node, {}, {}});
  by_client_.erase(node->client_id);
  evicted_.splice(evicted_.end(), sessions_, node);
}

}  // namespace raftor
