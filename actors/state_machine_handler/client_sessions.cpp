#include "raftor/actors/state_machine_handler/client_sessions.hpp"

#include <algorithm>
#include <iterator>
#include <string>

#include "raftor/messages/log.pb.h"

namespace raftor {

ClientSessions::ClientSessions(std::size_t max_clients)
    : max_clients_(std::max<std::size_t>(max_clients, 1)) {}

Observation ClientSessions::observe(RequestId id, std::uint64_t index) {
  Observation out;
  if (!id.tracked()) return out;
  auto found = by_client_.find(id.client_id);
  if (found == by_client_.end()) {
    insert(id, index);
    if (by_client_.size() > max_clients_) evict_least_recently_active(index);
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
  update(node, after, index);
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
  if (keep_history_) {
    for (const Change& change : journal_) history_.push_back(undo_of(change));
    while (history_.size() > kMaxHistory) {
      history_floor_ = history_.front().index;  // encode() cannot go back past it any more
      history_.pop_front();
    }
  }
  journal_.clear();
  evicted_.clear();
}

ClientSessions::Undo ClientSessions::undo_of(const Change& change) const {
  switch (change.kind) {
    case Change::Kind::inserted:
      return {change.index, change.node->client_id, std::nullopt};
    case Change::Kind::updated:
      return {change.index, change.before.client_id, change.before};
    case Change::Kind::evicted:
      break;
  }
  // Evicted: the node sits in evicted_ until commit, as it was when evicted.
  return {change.index, change.node->client_id, *change.node};
}

void ClientSessions::keep_history(bool on) {
  keep_history_ = on;
  if (!on) history_.clear();
}

Result<std::string> ClientSessions::encode(std::uint64_t index) {
  if (!keep_history_ || index < history_floor_) {
    return make_error(ErrorCode::out_of_range,
                      "the client table's history does not reach back to index " +
                          std::to_string(index));
  }
  std::unordered_map<std::uint64_t, Session> table;
  table.reserve(by_client_.size());
  for (const Session& s : sessions_) table.emplace(s.client_id, s);
  auto undo = [&table](const Undo& u) {
    if (u.before) {
      table[u.client_id] = *u.before;
    } else {
      table.erase(u.client_id);
    }
  };
  // Newest first: the open chunk's changes, then the committed ones, while after `index`.
  for (auto c = journal_.rbegin(); c != journal_.rend() && c->index > index; ++c) undo(undo_of(*c));
  auto bound = journal_.empty() || journal_.front().index > index ? history_.rbegin()
                                                                   : history_.rend();
  for (auto u = bound; u != history_.rend() && u->index > index; ++u) undo(*u);
  while (!history_.empty() && history_.front().index <= index) history_.pop_front();
  history_floor_ = std::max(history_floor_, index);

  std::vector<const Session*> ordered;
  ordered.reserve(table.size());
  for (const auto& [id, session] : table) ordered.push_back(&session);
  // Eviction order is activity order, and activity indexes are unique per client.
  std::sort(ordered.begin(), ordered.end(),
            [](const Session* a, const Session* b) { return a->last_active < b->last_active; });
  pb::ClientSessionTable out;
  out.mutable_sessions()->Reserve(static_cast<int>(ordered.size()));
  for (const Session* s : ordered) {
    auto* p = out.add_sessions();
    p->set_client_id(s->client_id);
    p->set_sequence(s->sequence);
    p->set_applied_index(s->applied_index);
    p->set_outcome(s->outcome ? static_cast<std::uint32_t>(*s->outcome) + 1 : 0);
    p->set_last_active(s->last_active);
  }
  return out.SerializeAsString();
}

Status ClientSessions::load(std::string_view bytes, std::uint64_t index) {
  clear();
  history_.clear();
  history_floor_ = index;
  pb::ClientSessionTable table;
  if (!table.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return make_error(ErrorCode::corruption, "the client table does not parse");
  }
  for (const auto& p : table.sessions()) {
    if (p.client_id() == 0 || by_client_.count(p.client_id()) != 0 ||
        p.outcome() > static_cast<std::uint32_t>(ApplyOutcome::already_applied) + 1) {
      clear();
      return make_error(ErrorCode::corruption,
                        "the client table holds an invalid or repeated client " +
                            std::to_string(p.client_id()));
    }
    Session s{p.client_id(), p.sequence(), p.applied_index(), std::nullopt, p.last_active()};
    if (p.outcome() != 0) s.outcome = static_cast<ApplyOutcome>(p.outcome() - 1);
    sessions_.push_back(s);
    by_client_.emplace(s.client_id, std::prev(sessions_.end()));
  }
  // A table written with a larger limit: the least recently active go first, as here.
  while (by_client_.size() > max_clients_) {
    by_client_.erase(sessions_.front().client_id);
    sessions_.pop_front();
  }
  return {};
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
  journal_.push_back(Change{Change::Kind::inserted, node, {}, {}, index});
}

void ClientSessions::update(Sessions::iterator node, const Session& after, std::uint64_t index) {
  journal_.push_back(Change{Change::Kind::updated, node, *node, std::next(node), index});
  *node = after;
  // The most recently active client goes last; indexes only grow, so the list stays
  // sorted by last_active.
  sessions_.splice(sessions_.end(), sessions_, node);
}

void ClientSessions::evict_least_recently_active(std::uint64_t index) {
  const auto node = sessions_.begin();
  journal_.push_back(Change{Change::Kind::evicted, node, {}, {}, index});
  by_client_.erase(node->client_id);
  evicted_.splice(evicted_.end(), sessions_, node);
}

}  // namespace raftor
