// AppendEntries on the receiving side (Raft §5.3, figure 2 "AppendEntries RPC, receiver
// implementation"). Answers go in send_after_sync: an acknowledgement promises the entries
// are durable.
#include <algorithm>
#include <span>

#include "raftor/actors/raft/core/raft_core_impl.hpp"

namespace raftor::raft {

void RaftCore::Impl::handle_append_request(const Message& m, const AppendRequest& req) {
  // step() made the terms equal. Two leaders in one term is impossible (§5.2): ignore.
  if (role == Role::leader) return;
  // §5.2: a candidate that hears from the leader of its term returns to follower.
  if (role == Role::pre_candidate || role == Role::candidate) become_follower(term, m.from);
  leader = m.from;
  election_elapsed = 0;  // §5.2: the leader is alive; thesis §4.2.3: lease starts now

  AppendResponse resp;
  resp.read_context = req.read_context;
  const LogId purged = log.last_purged();
  const std::uint64_t last = log.last_index();

  // §5.3 consistency check: reply false if the log has no entry at prev.index whose term
  // is prev.term. Entries up to the last purged one are committed and therefore match
  // every current leader's log (§5.4 Leader Completeness): no check needed there.
  bool matches = req.prev.index <= purged.index ||
                 (req.prev.index <= last && term_or_zero(req.prev.index) == req.prev.term);
  if (!matches) {
    // §5.3 end, optimized as etcd does: report the last entry that may still match —
    // the largest index <= prev.index whose term is <= prev.term — so the leader skips
    // a whole conflicting term (or our missing tail) in one round trip.
    std::uint64_t hint = find_conflict_by_term(std::min(req.prev.index, last), req.prev.term);
    resp.conflict_index = hint;
    resp.conflict_term = term_or_zero(hint);
    send_after_sync(m.from, term, resp);
    return;
  }

  // Figure 2 rules 3-4: skip entries we already hold with the same term (a duplicate or
  // reordered old AppendEntries must not truncate anything), truncate at the first
  // conflicting one, append the rest.
  std::span<const Entry> entries(req.entries);
  std::size_t fresh = 0;
  for (; fresh < entries.size(); ++fresh) {
    const Entry& e = entries[fresh];
    if (e.index <= purged.index) continue;  // committed, already applied or snapshotted
    if (e.index > last) break;
    if (term_or_zero(e.index) == e.term) continue;
    if (e.index <= commit) return;  // would remove a committed entry: impossible (§5.4)
    if (!log.truncate_suffix(e.index).ok()) return;  // no answer: nothing was promised
    synced = std::min(synced, e.index - 1);
    dirty = true;
    note_log_truncated(e.index);  // thesis §4.1: a removed configuration entry is undone
    break;
  }
  if (fresh < entries.size()) {
    if (!log.append(entries.subspan(fresh)).ok()) return;
    dirty = true;
    note_config_entries(entries.subspan(fresh));  // thesis §4.1: in force once in the log
  }

  // Figure 2 rule 5: commitIndex = min(leaderCommit, index of last new entry). The last
  // new entry is the end of this message: our log may be longer with entries the
  // leader has not confirmed yet.
  std::uint64_t last_new = req.prev.index + req.entries.size();
  commit = std::max(commit, std::min(req.commit, last_new));
  resp.success = true;
  resp.match_index = last_new;
  send_after_sync(m.from, term, resp);
}

}  // namespace raftor::raft
