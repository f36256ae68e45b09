// Leader election (Raft §5.2, §5.4.1) with pre-vote (thesis §9.6): role transitions,
// RequestVote and its answers.
#include <algorithm>

#include "raftor/actors/raft/core/raft_core_impl.hpp"

namespace raftor::raft {

void RaftCore::Impl::become_follower(std::uint64_t new_term, NodeId new_leader) {
  bool was_leader = role == Role::leader;
  if (new_term != term) {
    // §5.1: a new term starts with no vote cast in it.
    term = new_term;
    voted_for = 0;
    persist_hard_state();
  }
  role = self_voter ? Role::follower : Role::learner;
  leader = new_leader;
  votes.clear();
  reset_election_timer();
  if (was_leader) {
    transfer_target = 0;  // thesis §3.10: the transfer ends with our leadership
    fail_reads();  // thesis §6.4: a deposed leader cannot confirm any pending read
    peers.clear();
    snapshots_to_send.clear();
    term_committed = false;
    lease_start = 0;
  }
}

void RaftCore::Impl::campaign() {
  if (!self_voter || role == Role::leader) return;  // learners never campaign
  if (cfg.pre_vote) become_pre_candidate(); else become_candidate();
}

RaftCore::Impl::Tally RaftCore::Impl::record_vote(NodeId from, bool granted) {
  if (!voter(from)) return Tally::pending;
  auto known = std::find_if(votes.begin(), votes.end(),
                            [&](const auto& v) { return v.first == from; });
  if (known == votes.end()) votes.emplace_back(from, granted);  // first answer counts
  std::size_t yes = 0;
  std::size_t no = 0;
  for (const auto& [node, g] : votes) (g ? yes : no) += 1;
  if (yes >= quorum()) return Tally::won;
  if (no >= quorum()) return Tally::lost;
  return Tally::pending;
}

void RaftCore::Impl::become_pre_candidate() {
  // Thesis §9.6: ask whether we *could* win at term + 1 before disturbing anyone: no term
  // change, no vote recorded, so a partitioned server rejoining does not depose a leader.
  role = Role::pre_candidate;
  leader = 0;
  votes.clear();
  reset_election_timer();
  if (record_vote(cfg.id, true) == Tally::won) {
    become_candidate();  // a single voter needs nobody's agreement
    return;
  }
  VoteRequest req{log.last_log_id(), true, false};
  for (NodeId v : voters) {
    if (v != cfg.id) send_after_sync(v, term + 1, req);
  }
}

void RaftCore::Impl::become_candidate(bool leadership_transfer) {
  // §5.2: increment currentTerm, vote for self, reset the election timer, request votes.
  // The term and vote are persisted before any request leaves (send_after_sync).
  role = Role::candidate;
  term += 1;
  voted_for = cfg.id;
  persist_hard_state();
  leader = 0;
  votes.clear();
  reset_election_timer();
  if (record_vote(cfg.id, true) == Tally::won) {
    become_leader();
    return;
  }
  VoteRequest req{log.last_log_id(), false, leadership_transfer};
  for (NodeId v : voters) {
    if (v != cfg.id) send_after_sync(v, term, req);
  }
}

void RaftCore::Impl::handle_vote_request(const Message& m, const VoteRequest& req) {
  // Thesis §4.1: "servers process incoming RPC requests without consulting their current
  // configurations": a learner or removed server answers too. Only a candidate whose
  // configuration lists it as a voter asks, and only then does the vote count (a
  // promotion it has not received yet; refusing could leave a live majority leaderless).
  bool can_vote = // §5.2: at most one vote per term, first come first served (a repeated
                  // request from the candidate we voted for gets the same answer).
                  (voted_for == m.from || (voted_for == 0 && leader == 0) ||
                   // §9.6: a pre-vote for a later term promises nothing.
                   (req.pre_vote && m.term > term));
  // §5.4.1: only for a candidate whose log is at least as up to date as ours: the later
  // last term wins, then the longer log (LogId orders by term, then index).
  bool up_to_date = req.last_log >= log.last_log_id();
  if (can_vote && up_to_date) {
    if (req.pre_vote) {
      // Granted pre-votes carry the campaign term so the pre-candidate can count them.
      send_after_sync(m.from, m.term, VoteResponse{true, true});
      return;
    }
    if (voted_for != m.from) {
      voted_for = m.from;
      persist_hard_state();  // figure 2: votedFor durable before the answer leaves
    }
    election_elapsed = 0;  // §5.2: granting a vote resets the election timer
    send_after_sync(m.from, term, VoteResponse{true, false});
    return;
  }
  send_after_sync(m.from, term, VoteResponse{false, req.pre_vote});
}

void RaftCore::Impl::handle_vote_response(const Message& m, const VoteResponse& resp) {
  if (role == Role::pre_candidate && resp.pre_vote) {
    // Grants name the campaign term (term + 1); rejections our term (a higher one was
    // adopted in step()). Anything else belongs to an older round.
    if (m.term != (resp.granted ? term + 1 : term)) return;
    switch (record_vote(m.from, resp.granted)) {
      case Tally::won: become_candidate(); break;  // §9.6: now a real election
      case Tally::lost: become_follower(term, 0); break;
      case Tally::pending: break;
    }
  } else if (role == Role::candidate && !resp.pre_vote && m.term == term) {
    switch (record_vote(m.from, resp.granted)) {
      case Tally::won: become_leader(); break;  // §5.2: votes from a majority
      case Tally::lost: become_follower(term, 0); break;
      case Tally::pending: break;
    }
  }
}

void RaftCore::Impl::become_leader() {
  role = Role::leader;
  leader = cfg.id;
  votes.clear();
  reset_election_timer();
  // Figure 2 "volatile state on leaders", reinitialized after election: nextIndex is the
  // leader's last index + 1, matchIndex 0. Everyone starts in probe.
  std::uint64_t last = log.last_index();
  peers.clear();
  for (NodeId v : voters) {
    if (v != cfg.id) peers.emplace_back(v, true, cfg.max_inflight_appends);
  }
  for (NodeId l : learners) {
    if (l != cfg.id) peers.emplace_back(l, false, cfg.max_inflight_appends);
  }
  for (Progress& pr : peers) pr.reset(last + 1);
  reads.reset();
  lease_start = 0;
  transfer_target = 0;
  timeout_now_tick = UINT64_MAX;
  lease_revoked = false;
  term_committed = false;
  // §8 / §5.4.2: a leader commits entries of earlier terms only by committing one of its
  // own, so it appends a no-op at once (also what ReadIndex waits for, thesis §6.4).
  Entry noop{last + 1, term, EntryType::noop, {}};
  if (log.append({&noop, 1}).ok()) dirty = true;
}

}  // namespace raftor::raft
