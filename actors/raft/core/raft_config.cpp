#include "raftor/actors/raft/core/raft_config.hpp"

#include <algorithm>
#include <string>

namespace raftor::raft {

namespace {
Status invalid(std::string message) {
  return make_error(ErrorCode::invalid_argument, "raft config: " + std::move(message));
}

bool contains(const std::vector<NodeId>& ids, NodeId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}
}  // namespace

Status RaftConfig::validate() const {
  if (id == 0) return invalid("id must not be 0 (0 means \"no node\")");
  if (voters.empty()) return invalid("voters is empty: a cluster needs at least one voter");
  std::vector<NodeId> all(voters);
  all.insert(all.end(), learners.begin(), learners.end());
  if (contains(all, 0)) return invalid("node id 0 in voters or learners (0 means \"no node\")");
  std::sort(all.begin(), all.end());
  if (auto dup = std::adjacent_find(all.begin(), all.end()); dup != all.end()) {
    return invalid("node " + std::to_string(*dup) +
                   " listed twice in voters/learners (a learner is not a voter)");
  }
  if (!contains(all, id)) {
    return invalid("id " + std::to_string(id) + " is in neither voters nor learners");
  }
  if (election_ticks == 0) return invalid("election_ticks must be > 0");
  if (heartbeat_ticks == 0) return invalid("heartbeat_ticks must be > 0");
  if (heartbeat_ticks >= election_ticks) {
    return invalid("heartbeat_ticks (" + std::to_string(heartbeat_ticks) +
                   ") must be below election_ticks (" + std::to_string(election_ticks) +
                   "), or followers time out between heartbeats");
  }
  if (lease_ticks > 0 &&
      std::uint64_t{lease_ticks} + lease_drift_ticks >= std::uint64_t{election_ticks}) {
    return invalid("lease_ticks (" + std::to_string(lease_ticks) +
                   ") must be below election_ticks - lease_drift_ticks (" +
                   std::to_string(election_ticks) + " - " +
                   std::to_string(lease_drift_ticks) +
                   "): a new leader could be elected while the old lease still runs");
  }
  if (max_inflight_appends == 0) {
    return invalid("max_inflight_appends must be > 0 (the replication window)");
  }
  if (max_append_bytes == 0) return invalid("max_append_bytes must be > 0");
  return {};
}

}  // namespace raftor::raft
