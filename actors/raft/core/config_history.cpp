#include "raftor/actors/raft/core/config_history.hpp"

#include <algorithm>

#include "raftor/storage/proto_convert.hpp"

namespace raftor::raft {

ConfigHistory::ConfigHistory(Membership base, std::uint64_t base_index) {
  configs_.emplace_back(base_index, normalized(std::move(base)));
}

void ConfigHistory::append(std::uint64_t index, Membership membership) {
  // A configuration entry at or below the newest one known is the same entry seen again.
  if (index <= current_index()) return;
  configs_.emplace_back(index, normalized(std::move(membership)));
}

bool ConfigHistory::truncate(std::uint64_t from) {
  const std::size_t before = configs_.size();
  while (configs_.size() > 1 && configs_.back().first >= from) configs_.pop_back();
  return configs_.size() != before;
}

void ConfigHistory::rebase(std::uint64_t index, Membership membership) {
  auto keep = std::find_if(configs_.begin(), configs_.end(),
                           [&](const auto& c) { return c.first > index; });
  std::vector<std::pair<std::uint64_t, Membership>> rest(std::make_move_iterator(keep),
                                                         std::make_move_iterator(configs_.end()));
  configs_.clear();
  configs_.emplace_back(index, normalized(std::move(membership)));
  for (auto& c : rest) configs_.push_back(std::move(c));
}

void ConfigHistory::compact(std::uint64_t index) {
  // Keep the newest configuration at or below `index`: it is the one in force there.
  std::size_t first = 0;
  while (first + 1 < configs_.size() && configs_[first + 1].first <= index) ++first;
  configs_.erase(configs_.begin(), configs_.begin() + static_cast<std::ptrdiff_t>(first));
}

const Membership& ConfigHistory::at(std::uint64_t index) const {
  std::size_t i = 0;
  while (i + 1 < configs_.size() && configs_[i + 1].first <= index) ++i;
  return configs_[i].second;
}

bool is_voter(const Membership& m, NodeId id) {
  return std::binary_search(m.voters.begin(), m.voters.end(), id);
}

bool is_learner(const Membership& m, NodeId id) {
  return std::binary_search(m.learners.begin(), m.learners.end(), id);
}

Membership normalized(Membership m) {
  std::sort(m.voters.begin(), m.voters.end());
  std::sort(m.learners.begin(), m.learners.end());
  return m;
}

namespace {
Error misfit(const ConfigChange& change, const std::string& why) {
  return make_error(ErrorCode::invalid_argument, std::string("cannot ") +
                                                     to_string(change.type) + " node " +
                                                     std::to_string(change.node) + ": " + why);
}

void erase_id(std::vector<NodeId>& ids, NodeId id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
}
}  // namespace

Result<Membership> apply_change(const Membership& m, const ConfigChange& change) {
  const NodeId id = change.node;
  if (id == 0) return misfit(change, "0 means \"no node\"");
  Membership next = m;
  switch (change.type) {
    case ConfigChangeType::add_learner:
      if (is_voter(m, id)) return misfit(change, "it is already a voter");
      if (is_learner(m, id)) return misfit(change, "it is already a learner");
      next.learners.push_back(id);
      if (!change.address.empty()) next.addresses[id] = change.address;
      break;
    case ConfigChangeType::promote:
      if (is_voter(m, id)) return misfit(change, "it is already a voter");
      if (!is_learner(m, id)) return misfit(change, "it is not a member (add it as a learner first)");
      erase_id(next.learners, id);
      next.voters.push_back(id);
      if (!change.address.empty()) next.addresses[id] = change.address;
      break;
    case ConfigChangeType::remove:
      if (!is_voter(m, id) && !is_learner(m, id)) return misfit(change, "it is not a member");
      if (is_voter(m, id) && m.voters.size() == 1) {
        return misfit(change, "it is the last voter (a cluster needs at least one)");
      }
      erase_id(next.voters, id);
      erase_id(next.learners, id);
      next.addresses.erase(id);
      break;
  }
  return normalized(std::move(next));
}

bool already_in_effect(const Membership& m, const ConfigChange& change) {
  switch (change.type) {
    case ConfigChangeType::add_learner: {
      if (!is_learner(m, change.node)) return false;
      auto it = m.addresses.find(change.node);
      return change.address.empty() || (it != m.addresses.end() && it->second == change.address);
    }
    case ConfigChangeType::promote:
      return is_voter(m, change.node);
    case ConfigChangeType::remove:
      return !is_voter(m, change.node) && !is_learner(m, change.node);
  }
  return false;
}

std::string encode_membership(const Membership& m) {
  std::string out;
  to_proto(m).SerializeToString(&out);
  return out;
}

Result<Membership> decode_membership(std::string_view payload) {
  pb::Membership proto;
  if (!proto.ParseFromArray(payload.data(), static_cast<int>(payload.size())) ||
      proto.voters_size() == 0) {
    return make_error(ErrorCode::malformed_entry,
                      "configuration entry does not hold a membership with a voter");
  }
  return normalized(from_proto(proto));
}

std::string describe(const Membership& m) {
  auto list = [](const std::vector<NodeId>& ids) {
    std::string out = "{";
    for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
    return out + "}";
  };
  return "voters " + list(m.voters) + " learners " + list(m.learners);
}

}  // namespace raftor::raft
