// Leadership transfer (thesis §3.10): the leader stops taking proposals, brings the target
// up to date, then tells it to campaign at once (TimeoutNow); aborted after an election
// timeout, when proposals resume.
#include <string>

#include "raftor/actors/raft/core/raft_core_impl.hpp"

namespace raftor::raft {

Progress* RaftCore::Impl::most_up_to_date_voter() {
  Progress* best = nullptr;
  for (Progress& pr : peers) {
    if (pr.voter && (best == nullptr || pr.match > best->match)) best = &pr;
  }
  return best;
}

Status RaftCore::Impl::transfer_leadership(NodeId target) {
  if (role != Role::leader) return not_leader_error();
  auto invalid = [](std::string why) {
    return make_error(ErrorCode::invalid_argument, "leadership transfer: " + std::move(why));
  };
  if (target == 0) {
    Progress* best = most_up_to_date_voter();
    if (best == nullptr) return invalid("there is no other voter to hand leadership to");
    target = best->id;
  }
  if (target == cfg.id) return invalid("node " + std::to_string(target) + " already leads");
  if (learner(target)) {
    return invalid("node " + std::to_string(target) +
                   " is a learner: only a voter can lead (promote it first)");
  }
  if (!voter(target)) return invalid("node " + std::to_string(target) + " is not a member");
  if (transfer_target == target) return {};
  if (transfer_target != 0) {
    return make_error(ErrorCode::busy, "leadership transfer to node " +
                                           std::to_string(transfer_target) + " under way");
  }
  transfer_target = target;
  transfer_elapsed = 0;
  timeout_now_tick = UINT64_MAX;
  // Caught up already: TimeoutNow at once. Otherwise replication continues (proposals are
  // paused, so the target's match reaches our last index) and an acknowledgement sends it.
  if (Progress* pr = progress_of(target)) maybe_send_timeout_now(*pr);
  return {};
}

void RaftCore::Impl::maybe_send_timeout_now(Progress& pr) {
  if (pr.id != transfer_target || pr.match != log.last_index() || timeout_now_tick == now) {
    return;
  }
  // Sent again on later acknowledgements (at most once a tick) in case it was lost; a copy
  // arriving after the target's campaign began carries an older term and is ignored.
  timeout_now_tick = now;
  lease_revoked = true;
  send_now(pr.id, term, TimeoutNow{});
}

void RaftCore::Impl::tick_transfer() {
  if (transfer_target == 0) return;
  // §3.10: the target did not take over within an election timeout: resume proposals.
  if (++transfer_elapsed >= cfg.election_ticks) transfer_target = 0;
}

void RaftCore::Impl::handle_timeout_now(const Message& m) {
  // step() made the terms equal, and m.from leads this term. Thesis §3.10: campaign now,
  // without pre-vote (the leader agreed), and flag the requests so voters that still hear
  // from the leader grant them anyway (§4.2.3 exception).
  if (!self_voter || role == Role::leader) return;
  become_candidate(/*leadership_transfer=*/true);
}

}  // namespace raftor::raft
