// The configurations a node's log and snapshot define, newest last (thesis §4.1: a server
// uses the latest configuration in its log, committed or not, so a truncated configuration
// entry brings back the one before it). Also the single-server change rules and the
// configuration entry's payload.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "raftor/actors/raft/core/raft_core.hpp"
#include "raftor/storage/status.hpp"
#include "raftor/storage/types.hpp"

namespace raftor::raft {

class ConfigHistory {
 public:
  // `base` is in force from `base_index` on (0: the bootstrap; else a snapshot's index).
  ConfigHistory(Membership base, std::uint64_t base_index);

  const Membership& current() const { return configs_.back().second; }
  std::uint64_t current_index() const { return configs_.back().first; }
  // A configuration entry at `index` (above every one known) was appended.
  void append(std::uint64_t index, Membership membership);
  // The log suffix from `from` on was removed: its configurations go with it (never the
  // base). Returns whether the current configuration changed.
  bool truncate(std::uint64_t from);
  // A snapshot at `index` holding `membership` replaces everything at or below `index`.
  void rebase(std::uint64_t index, Membership membership);
  // Forgets configurations superseded at or below `index` (it stays answerable).
  void compact(std::uint64_t index);
  // The configuration in force at `index` (the base for anything below it).
  const Membership& at(std::uint64_t index) const;

 private:
  std::vector<std::pair<std::uint64_t, Membership>> configs_;  // ascending index, never empty
};

bool is_voter(const Membership& m, NodeId id);
bool is_learner(const Membership& m, NodeId id);
// Sorted ids, as Membership keeps them.
Membership normalized(Membership m);

// The configuration after `change`, or why the change does not fit `m` (invalid_argument).
Result<Membership> apply_change(const Membership& m, const ConfigChange& change);

// Whether `m` already reflects `change` (a retried request whose first attempt worked):
// the node is a learner (with that address, if one is given), a voter, or not a member.
bool already_in_effect(const Membership& m, const ConfigChange& change);

// A configuration entry's payload: a serialized pb::Membership.
std::string encode_membership(const Membership& m);
Result<Membership> decode_membership(std::string_view payload);

std::string describe(const Membership& m);  // "voters {1,2} learners {4}"

}  // namespace raftor::raft
