// Linearizable reads without writing to the log: ReadIndex and the leader lease
// (thesis §6.4, §6.4.1).
#include <string>

#include "raftor/actors/raft/core/raft_core_impl.hpp"

namespace raftor::raft {

Status RaftCore::Impl::read_index(std::uint64_t request_id) {
  if (role != Role::leader) return not_leader_error();
  // Thesis §6.4 step 1: until an entry of its term is committed, a new leader does not
  // know the commit index of its predecessor: the read waits for the no-op.
  if (!term_committed) {
    reads.wait_for_commit(request_id);
    return {};
  }
  // Step 2: readIndex = commitIndex. A single voter is the whole quorum.
  if (voters.size() == 1 && self_voter) {
    ready_reads.push_back({request_id, commit});
    return {};
  }
  // Step 3: confirm leadership with a heartbeat round (sent at take_ready(), so reads
  // arriving together share one round).
  reads.add(request_id, commit);
  return {};
}

void RaftCore::Impl::on_leader_commit_advanced() {
  if (term_committed || term_or_zero(commit) != term) return;
  term_committed = true;
  for (std::uint64_t id : reads.take_waiting()) (void)read_index(id);
}

void RaftCore::Impl::flush_reads() {
  if (reads.round_wanted()) broadcast_heartbeat();
}

void RaftCore::Impl::on_read_ack(Progress& pr, std::uint64_t context) {
  if (!pr.voter || context <= pr.acked_context) return;
  pr.acked_context = context;
  if (cfg.lease_ticks > 0) {
    if (auto sent = reads.round_tick(context); sent && *sent + 1 > pr.acked_tick) {
      pr.acked_tick = *sent + 1;
      // Thesis §6.4.1: the lease runs from when the message a quorum acknowledged was
      // *sent* (the follower promised not to vote for election_ticks after receiving it).
      scratch_values.clear();
      if (self_voter) scratch_values.push_back(UINT64_MAX);
      for (const Progress& p : peers) {
        if (p.voter) scratch_values.push_back(p.acked_tick);
      }
      lease_start = quorum_value(scratch_values, quorum());
    }
  }
  if (!reads.has_pending()) return;
  // Step 3 complete once a majority of voters, ourselves included, acknowledged a
  // context at least as new as the read's.
  scratch_values.clear();
  if (self_voter) scratch_values.push_back(UINT64_MAX);
  for (const Progress& p : peers) {
    if (p.voter) scratch_values.push_back(p.acked_context);
  }
  reads.release(quorum_value(scratch_values, quorum()), ready_reads);
}

bool RaftCore::Impl::lease_valid() const {
  if (role != Role::leader || cfg.lease_ticks == 0 || !term_committed) return false;
  // Thesis §3.10 + §6.4.1: voters elect a transfer target despite their lease promise.
  if (lease_revoked) return false;
  if (voters.size() == 1 && self_voter) return true;  // nobody else can be elected
  // lease_start is the send tick + 1 of what a quorum acknowledged (0 = none yet).
  if (lease_start == 0 || lease_start == UINT64_MAX) return lease_start == UINT64_MAX;
  return now - (lease_start - 1) < cfg.lease_ticks;
}

void RaftCore::Impl::fail_reads() { reads.fail_all(failed_reads); }

}  // namespace raftor::raft
